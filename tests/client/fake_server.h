/* A scripted server for the client's tests: a server-role cnv_session on one accepted
 * connection of a temporary unix socket, in its own thread. It answers by the invocation line:
 *   demo.echo --text S   status CNV_OK, ran, result S
 *   big N                CNV_OK, ran, N bytes of 'x'
 *   fail                 CNV_ENOTSUP, ran, result "failed"
 *   hold                 no answer until "release" (answered then, newest first) or a CANCEL
 *                        (answered cancelled)
 *   release              answers every held call, newest first, then itself (CNV_OK, ran)
 *   slow                 no answer until a CANCEL (answered cancelled)
 *   shutdown             sends SHUTDOWN, answers every held call, then itself, then closes
 *   error                ends the session with cnv_session_fail(CNV_ERT_DENY_REVOKED)
 *   drop                 closes the socket at once (held calls stay unanswered)
 *   answer-close         answers every held call and itself, then closes
 *   forge-id             answers an id the client never used
 *   garbage              writes bytes that are not a frame, then closes
 * AUTH is accepted unless auth_fail is set (the session then ends with that code). */
#ifndef CNV_TESTS_CLIENT_FAKE_SERVER_H
#define CNV_TESTS_CLIENT_FAKE_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cnv/session.h>

#define FAKE_MAX_HELD 64

typedef struct fake_server {
  char dir[64];
  char path[128];
  char address[160]; /* "unix:" path */
  int lfd;
  pthread_t thread;
  bool started;
  uint8_t pk[CNV_SESSION_KEY_BYTES];
  uint8_t sk[CNV_SESSION_SECRET_BYTES];
  uint32_t credit;      /* max_concurrent_calls offered; 0: 8 */
  cnv_status auth_fail; /* 0: accept */
  bool never_answer;    /* accept the connection and read, never answer (handshake timeout) */
  /* Results, read after fake_stop. */
  cnv_status end_status; /* the server session's error when it ended (CNV_OK: peer closed) */
  uint32_t invocations;  /* INVOCATION messages opened */
  uint32_t cancels;      /* CANCEL messages opened */
} fake_server;

/* Makes the socket and starts the thread (one connection). False on failure. */
bool fake_start(fake_server *f);
/* Waits for the thread (it ends when the connection does), removes the socket. */
void fake_stop(fake_server *f);

#endif
