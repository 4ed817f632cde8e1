/* One nats-server with JetStream on a free loopback port and a temporary store directory,
 * for a test: started, waited for, killed and cleaned up. */
#ifndef CNV_TEST_NATS_STATE_SERVER_H
#define CNV_TEST_NATS_STATE_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct test_nats_server {
  pid_t pid;
  int port;
  char dir[64]; /* the store directory (removed at stop) */
  char url[64]; /* "nats://127.0.0.1:PORT" */
} test_nats_server;

/* Starts one and waits until it accepts a connection. false (with a message on stderr, naming
 * the Debian package when the program is missing) when it could not. */
bool test_nats_server_start(test_nats_server *s);
/* Stops it (SIGTERM: JetStream's store is flushed) and starts it again on the same port and
 * store. */
bool test_nats_server_restart(test_nats_server *s);
/* Kills it (SIGTERM, then SIGKILL), waits for it, removes its store. */
void test_nats_server_stop(test_nats_server *s);

#endif
