/* A real server for the client's and `cnv call`'s tests: a runtime with demo capabilities, a
 * trusted root, an agent holding a token for demo.*, and a cnv_server on loopback TCP (or a
 * unix socket) with short timeouts. Plus raw-socket helpers that speak the session protocol
 * by hand (a client-role cnv_session over a plain socket) to craft hostile traffic.
 *
 * Capabilities: demo.echo --text S (result S), demo.sleep --ms N (sleeps up to N ms, sooner
 * when cancelled), demo.fail (CNV_ENOTSUP, result "failed"). */
#ifndef CNV_TESTS_CLIENT_SRV_FIXTURE_H
#define CNV_TESTS_CLIENT_SRV_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/client.h>
#include <cnv/server.h>

#include "support/forge.h"

typedef struct srv_fx {
  cnv_runtime *rt;
  cnv_server *srv;
  tkey root, server_key, agent;
  uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t token_len;
  char address[CNV_SERVER_ADDRESS_MAX];
  char dir[64]; /* temporary folder of a unix socket ("" for TCP) */
} srv_fx;

/* Starts everything. cfg: the server's limits (NULL: the fixture's short test timeouts:
 * handshake 400 ms, idle 600 ms); its secret_key is set here. unix_socket: listen on a unix
 * socket in a temporary folder instead of tcp:127.0.0.1:0. max_agents: the runtime's (0: 64).
 * False on any failure. */
bool srvfx_start(srv_fx *x, const cnv_server_config *cfg, bool unix_socket, uint32_t max_agents);
/* Stops and destroys the server and the runtime; false when the runtime's books do not
 * balance (an accepted invocation that never completed). */
bool srvfx_stop(srv_fx *x);
/* The fixture's limits (short timeouts). */
void srvfx_config(cnv_server_config *cfg);
/* A client config for the fixture's agent. */
void srvfx_client_cfg(const srv_fx *x, cnv_client_config *cfg);
/* Waits (up to 10 s) until the server has no session open; false if it still has one. */
bool srvfx_wait_closed(const srv_fx *x);
/* Waits (up to 10 s) until pred(stats) holds. */
bool srvfx_wait(const srv_fx *x, bool (*pred)(const cnv_server_stats *s, const void *arg), const void *arg);
cnv_server_stats srvfx_stats(const srv_fx *x);
/* A normal client connects, calls demo.echo and gets its text back. */
bool srvfx_echo_works(const srv_fx *x);

/* ---- raw sockets --------------------------------------------------------------------- */

/* A blocking socket connected to the fixture's address; -1 on failure. */
int raw_connect(const srv_fx *x);
/* Writes all of n bytes (false when the peer is gone). */
bool raw_send(int fd, const void *p, size_t n);
/* Reads until the peer closes (or 10 s pass): true when it closed; *got (may be NULL) gets
 * the bytes read into buf (cap), the rest dropped. */
bool raw_wait_close(int fd, uint8_t *buf, size_t cap, size_t *got);

/* A hand-driven client session on a raw socket. */
typedef struct raw_sess {
  int fd;
  cnv_session *s;
} raw_sess;
/* Connects and runs the handshake to READY with the fixture's agent (or, sk/token non-NULL,
 * with those). Returns CNV_OK, or the first error (the session's, or the server's ERROR code). */
cnv_status raw_sess_open(raw_sess *r, const srv_fx *x, const uint8_t *sk, const uint8_t *token, size_t token_len);
/* Seals an INVOCATION of line with id into out (cap bytes); *n its size. */
bool raw_seal_invoke(raw_sess *r, uint64_t id, const char *line, uint8_t *out, size_t cap, size_t *n);
/* Reads and opens what the server sends until it closes: CNV_ESESSION_PEER_ERROR with
 * *peer_code the server's ERROR code, or the session's error, or CNV_ECLIENT_DISCONNECTED when
 * the server closed without one. *responses (may be NULL) counts RESPONSEs opened. */
cnv_status raw_sess_drain(raw_sess *r, cnv_status *peer_code, unsigned *responses);
void raw_sess_close(raw_sess *r);

#endif
