/* libcnv client: an agent's connection to a `cnv serve` server (docs/session.md has the
 * protocol; this module is its blocking-socket user).
 *
 * A cnv_client is one connection: plain POSIX sockets ("tcp:HOST:PORT" or "unix:PATH"), the
 * session handshake run to its end inside cnv_client_connect (the agent's secret key, its
 * token, the server's pinned public key), then sealed calls. Two ways to call:
 *   - synchronous: cnv_client_call sends one invocation line and waits for its answer, the
 *     result copied into the caller's buffer;
 *   - pipelined: cnv_client_submit queues a call without waiting, up to the negotiated credit
 *     (cnv_client_credit; CNV_EFULL when none is left), and each answer is handed to the call's
 *     own callback, with its context, by cnv_client_poll. cnv_client_cancel asks the server to
 *     cancel one call; cnv_client_fd gives the socket to an event loop.
 *
 * When bytes leave: submit only queues (the calls submitted between two sends go out together,
 * in one send, which is what makes pipelining cheap); the queue is sent by cnv_client_flush,
 * cnv_client_poll (before it reads or waits, and again before it returns, so calls submitted
 * from callbacks go too), cnv_client_call, cnv_client_cancel, and by submit itself when the
 * send buffer (send_buffer) has no room for the next call. A caller that submits and then
 * waits on the socket itself must therefore call cnv_client_flush (or cnv_client_poll) first,
 * and wait for writability too while cnv_client_wants_write says so.
 *
 * Every call submitted completes exactly once through its callback: with the server's answer,
 * or, when the connection ends first (the server went away, sent an ERROR, the socket closed,
 * a frame failed to open, cnv_client_close), with status CNV_ECLIENT_DISCONNECTED and done
 * CNV_CLIENT_DONE_NONE. No call is dropped silently.
 *
 * Thread-safety: a client is used by one thread at a time (every function here, callbacks
 * included, runs on the caller's thread); different clients are independent. Calls block only
 * where their comment says so. Progress: not concurrent (one thread), so no guarantee is named.
 *
 * Allocation: cnv_client_connect allocates everything (the session, one receive buffer of
 * one maximum frame, one send buffer, one slot per unit of credit); submit, call, poll and
 * cancel never allocate. Buffers are bounded by the configured and negotiated limits.
 *
 * Errors that end the connection (sticky: every later call returns the same code):
 *   CNV_ESESSION_GOING_AWAY   the server sent SHUTDOWN (it is stopping)
 *   CNV_ESESSION_PEER_ERROR   the server sent ERROR; its code: cnv_client_peer_status
 *   CNV_ECLIENT_DISCONNECTED  the socket closed or failed
 *   CNV_ESESSION_* / CNV_EFRAME_*  what the session module found wrong in the server's bytes
 */
#ifndef CNV_CLIENT_H
#define CNV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `done` of a call that has no completion kind: refused before it was accepted (the server's
 * answer said so, CNV_SESSION_DONE_REFUSED on the wire: a CNV_ERT_DENY_* denial, CNV_EFULL
 * busy, CNV_ESTATE stopping; it never ran, so a retry cannot repeat it), or never answered
 * (CNV_ECLIENT_DISCONNECTED). A handler that ran and itself returned CNV_EFULL has done 0. */
#define CNV_CLIENT_DONE_NONE (-1)

typedef struct cnv_client_config {
  const char *address;       /* "tcp:HOST:PORT" (HOST: a name or an IPv4/IPv6 literal, IPv6 in
                                brackets or bare) or "unix:PATH"; copied */
  const uint8_t *secret_key; /* the agent's Ed25519 secret key, CNV_SESSION_SECRET_BYTES; copied
                                into the session, wiped at close */
  const uint8_t *server_pk;  /* the server's public key the client pins, CNV_SESSION_KEY_BYTES */
  const uint8_t *token;      /* the agent's token, 1..CNV_SESSION_MAX_TOKEN bytes; copied */
  size_t token_len;
  uint32_t connect_timeout_ms; /* bounds connect + the whole handshake; 0: 10000 */
  uint32_t max_in_flight;      /* credit offered (the server may grant less); 0: 64; at most 65536 */
  uint32_t max_message_size;   /* largest message either way (line or result); 0: 65536 */
  uint32_t send_buffer;        /* bytes of sealed calls queued before submit waits for the
                                  socket; 0: 256 KiB; at least one largest sealed message */
} cnv_client_config;

/* Zeroes cfg (every limit at its default; address, keys and token to be set). NULL ignored. */
CNV_API void cnv_client_config_default(cnv_client_config *cfg);

typedef struct cnv_client cnv_client;

/* Whether address has the form cnv_client_connect takes ("tcp:HOST:PORT" with PORT 1..65535,
 * "unix:PATH" with PATH short enough for a socket address), without resolving or connecting.
 * Returns CNV_OK, CNV_EINVAL (NULL) or CNV_ECLIENT_ADDRESS. Thread-safe; pure. */
CNV_API CNV_NODISCARD cnv_status cnv_client_address_check(const char *address);

/* Connects and runs the handshake, blocking up to connect_timeout_ms in all. On CNV_OK
 * *out is ready for calls; on an error nothing is left open. Errors: CNV_EINVAL (NULL,
 * missing key or token), CNV_ERANGE (a limit out of range), CNV_ECLIENT_ADDRESS,
 * CNV_ECLIENT_CONNECT (refused, unreachable, name not found), CNV_ECLIENT_TIMEOUT,
 * CNV_ECLIENT_DISCONNECTED (the server closed during the handshake), CNV_ESESSION_SERVER_KEY
 * (not the pinned server, or a bad proof), the server's own code when it refused with an
 * ERROR frame (a CNV_ERT_DENY_* denial of the token, CNV_ESESSION_HOLDER_PROOF, a server
 * limit), CNV_ESESSION_GOING_AWAY, the other session and frame errors, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_client_connect(const cnv_client_config *cfg, cnv_client **out);

/* Completes every call still unanswered with CNV_ECLIENT_DISCONNECTED (their callbacks run
 * here), closes the socket, wipes the keys and frees. Sends nothing more to the server. NULL
 * is ignored. Not from a callback. */
CNV_API void cnv_client_close(cnv_client *c);

/* One call's answer. Pointers are valid during the callback only (cnv_client_call copies the
 * result into the caller's buffer instead). */
typedef struct cnv_client_result {
  uint64_t id;         /* as cnv_client_submit gave it */
  cnv_status status;   /* the handler's status (CNV_OK: success), a denial (CNV_ERT_DENY_*),
                        CNV_EFULL (the server was busy: retry), CNV_ERT_EXPIRED, ..., or
                        CNV_ECLIENT_DISCONNECTED (no answer will come) */
  int32_t done;        /* the runtime's completion kind (cnv_runtime_done: 0 ran, 1 expired,
                          2 cancelled, 3 not run) or CNV_CLIENT_DONE_NONE */
  uint8_t result_type; /* the result's cnv_content_type (0 text, 1 JSON, 2 binary) */
  const uint8_t *result;
  size_t result_len;
} cnv_client_result;

/* A completion callback. Runs on the thread in cnv_client_poll, cnv_client_call or
 * cnv_client_close. It may submit and cancel; it must not call cnv_client_poll,
 * cnv_client_call or cnv_client_close. */
typedef void (*cnv_client_done_fn)(void *ctx, const cnv_client_result *r);

/* Seals one invocation line (line_len bytes, at most the negotiated max_message_size less the
 * INVOCATION header) with a server-side deadline (deadline_ms after the server receives it; 0:
 * the capability's own limit) and queues it for sending: it leaves at the next
 * cnv_client_flush, cnv_client_poll, cnv_client_call or cnv_client_cancel (see "When bytes leave" above), or
 * here when the send buffer has no room for it: then submit sends what is queued first,
 * waiting (blocking) until the socket takes enough.
 * done(ctx, ...) runs exactly once later. *id (may be NULL) gets the call's id.
 * Errors: CNV_EINVAL (NULL c, line or done), CNV_ERANGE (line too long), CNV_EFULL (no credit
 * left: every slot holds an unanswered call; poll, then retry), CNV_ESESSION_GOING_AWAY (the
 * server sent SHUTDOWN: calls in flight are still answered, no new one is taken), the
 * connection's sticky error. */
CNV_API CNV_NODISCARD cnv_status cnv_client_submit(cnv_client *c, const char *line, size_t line_len,
                                                   uint32_t deadline_ms, cnv_client_done_fn done, void *ctx,
                                                   uint64_t *id);

/* Sends what is queued (without waiting for the socket) and reads what the server sent,
 * running the callbacks of the calls answered, then sends what they submitted. Waits
 * (blocking) up to timeout_ms for at least one answer when none is ready (0: does not wait;
 * -1: waits without a limit). *completed (may be NULL) gets how many callbacks
 * ran. Returns CNV_OK (also when the time passed with nothing), CNV_EINVAL, CNV_ERANGE
 * (timeout_ms below -1), CNV_ESTATE (from a callback), or the connection's sticky error once it ended (every unanswered call
 * was completed with CNV_ECLIENT_DISCONNECTED first). */
CNV_API CNV_NODISCARD cnv_status cnv_client_poll(cnv_client *c, int timeout_ms, unsigned *completed);

/* Sends what is queued (the calls submitted since the last send), as much as the socket takes
 * now, without reading, waiting or running callbacks: for an event loop that submits, then
 * waits on cnv_client_fd for the answers (writable too while cnv_client_wants_write says bytes
 * are left). May be called from a callback. A send that fails (the server went away) is no
 * error here: the next cnv_client_poll delivers the answers sent before, then reports the end.
 * Errors: CNV_EINVAL (NULL), the connection's sticky error. */
CNV_API CNV_NODISCARD cnv_status cnv_client_flush(cnv_client *c);

/* Asks the server to cancel call `id`: it completes as cancelled if it had not run yet, or
 * with its answer if it had; either way its callback still runs once, from poll. Errors:
 * CNV_EINVAL, CNV_ENOTFOUND (no such call unanswered), the connection's sticky error. */
CNV_API CNV_NODISCARD cnv_status cnv_client_cancel(cnv_client *c, uint64_t id);

/* Synchronous call: submits `line` and polls until its answer, then copies it to *out with its
 * result bytes in result_buf (cap bytes; out->result points there). Other calls answered
 * meanwhile run their callbacks. timeout_ms bounds the wait for the answer (0: no limit; the
 * server's deadline still applies); when it passes the call is cancelled on the server, its
 * late answer dropped, and CNV_ECLIENT_TIMEOUT returned. Blocking.
 * Returns CNV_OK when an answer came (the outcome is in out->status and out->done; that is
 * also when it is a denial or a failure), CNV_ERANGE when the result did not fit cap
 * (out->result_len says its size; nothing copied), CNV_ECLIENT_TIMEOUT, CNV_ESTATE (from a
 * callback), the submit errors
 * (CNV_EFULL: no credit left), or the connection's sticky error (out->status is then
 * CNV_ECLIENT_DISCONNECTED). */
CNV_API CNV_NODISCARD cnv_status cnv_client_call(cnv_client *c, const char *line, size_t line_len, uint32_t deadline_ms,
                                                 uint32_t timeout_ms, cnv_client_result *out, void *result_buf,
                                                 size_t cap);

/* The socket, for an event loop: wait for it to be readable (and writable while
 * cnv_client_wants_write says so), then cnv_client_poll(c, 0, ...). Owned by the client: it
 * stays open (shut down) after the connection ended, until cnv_client_close, so an event loop
 * never sees its number reused behind its back. -1 for NULL. Do not read, write or close it. */
CNV_API int cnv_client_fd(const cnv_client *c);
/* True while sealed bytes wait to be sent: after a submit until the next poll sends them, and
 * while the socket does not take them all. */
CNV_API bool cnv_client_wants_write(const cnv_client *c);

/* Calls that may be submitted now (the negotiated credit less the unanswered calls; 0 once
 * the connection ended or the server is going away). */
CNV_API uint32_t cnv_client_credit(const cnv_client *c);
/* Unanswered calls. */
CNV_API uint32_t cnv_client_in_flight(const cnv_client *c);

/* The connection's sticky error, or CNV_OK while it is usable. */
CNV_API cnv_status cnv_client_error(const cnv_client *c);
/* After CNV_ESESSION_PEER_ERROR: the code the server's ERROR frame carried. */
CNV_API cnv_status cnv_client_peer_status(const cnv_client *c);

/* The negotiated parameters (max_concurrent_calls is the credit). Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_client_negotiated(const cnv_client *c, cnv_negotiated *out);

#ifdef __cplusplus
}
#endif

#endif
