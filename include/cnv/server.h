/* libcnv server: the swarm as a network service (docs/server.md).
 *
 * A cnv_server puts an embedder's cnv_runtime (created, handlers registered, trust roots
 * added, started) behind TCP and Unix-domain listeners. Each connection is one cnv_session
 * (server role): the client proves its agent key and presents its token (checked against the
 * runtime's trust roots and revocations, then added as a runtime agent for the session's
 * life), then sends INVOCATIONs; each is submitted to the runtime (cnv_runtime_submit_ex with
 * the session's agent, deadline, correlation id and trace context) and answered by one
 * RESPONSE when it completes, out of order. A full runtime answers RESPONSE with CNV_EFULL
 * (busy: the client may retry); a denial answers with its CNV_ERT_DENY_* code; nothing is
 * dropped. A CANCEL cancels one request (cnv_runtime_cancel). A revocation
 * (cnv_runtime_revoke) applies to live sessions: their next invocation is denied.
 *
 * Threading: io_threads event loops (libuv), each serving its share of the connections; the
 * runtime's workers run the handlers and hand each completion back to its connection's loop
 * (docs/server.md: the hand-off and its memory orders).
 *
 * Life cycle: create -> listen (one or more addresses) -> start -> ... -> stop -> destroy.
 * Synchronization:
 *   cnv_server_create, cnv_server_listen, cnv_server_start, cnv_server_stop,
 *   cnv_server_destroy     one thread (the embedder's), never from a handler or completion
 *                          callback; blocking.
 *   cnv_server_address, cnv_server_stats_get
 *                          any threads after listen / create; wait-free (relaxed counter
 *                          loads: each figure exact, the set not one instant).
 * The library never prints and never aborts. */
#ifndef CNV_SERVER_H
#define CNV_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"
#include "session.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest address text cnv_server_address writes, NUL included ("unix:" + a sun_path, or
 * "tcp:[v6]:port"). */
#define CNV_SERVER_ADDRESS_MAX 120u
/* Listen addresses a server takes. */
#define CNV_SERVER_MAX_LISTENERS 16u

typedef struct cnv_server_config {
  /* The server's Ed25519 identity key (CNV_SESSION_SECRET_BYTES, as `cnv token keygen`
   * writes it; copied, wiped at destroy). Required. */
  const uint8_t *secret_key;
  uint32_t io_threads;            /* event loops; 0: 1; at most 64 */
  uint32_t max_sessions;          /* connections open at once (any state); 0: 1024. Each holds
                                     a descriptor: keep it below RLIMIT_NOFILE (out of
                                     descriptors, accepting refuses or pauses: docs/server.md) */
  uint32_t max_sessions_per_peer; /* per peer address (every unix peer is one address); 0: 64 */
  uint32_t handshake_timeout_ms;  /* accept -> READY; 0: 5000 */
  uint32_t idle_timeout_ms;       /* a ready session with nothing in flight that received no
                                     whole frame for this long is closed (ERROR
                                     CNV_ESERVER_TIMEOUT); 0: 300000 */
  uint32_t max_frame;             /* largest message plaintext either way (negotiated
                                     max_message_size); 0: 65536; at most CNV_FRAME_MAX_PAYLOAD */
  uint32_t max_inflight;          /* invocations in flight per session (negotiated
                                     max_concurrent_calls); 0: 64; at most 4096 */
  uint32_t write_bound;           /* bytes waiting to be written above which the session's
                                     socket is not read; 0: 65536 */
  uint64_t rekey_frames;          /* session key rotation; 0: the session default (2^20) */
  uint64_t rekey_ns;              /* 0: the session default (600 s) */
  uint64_t stop_timeout_ns;       /* how long cnv_server_stop lets in-flight work finish;
                                     0: 5 s */
  uint32_t backlog;               /* listen(2) backlog; 0: 511 */
  uint32_t write_timeout_ms;      /* a ready session whose output has not moved for this long
                                     (a write in flight, not one byte of it taken by the peer)
                                     is closed, whatever it has in flight: a client that never
                                     reads holds nothing for longer; 0: idle_timeout_ms */
} cnv_server_config;

/* Fills cfg with the defaults documented field by field above (an all-zero config means the
 * same, except that secret_key must be set). */
CNV_API void cnv_server_config_default(cnv_server_config *cfg);

typedef struct cnv_server cnv_server;

/* Creates a server in front of rt (not owned: the embedder stops and destroys it after
 * cnv_server_destroy; it must outlive the server). Each session that passes AUTH takes one of
 * rt's agents (cnv_runtime_agent_add_verified) and gives it back when it ends
 * (cnv_runtime_agent_remove), so rt's max_agents bounds the ready sessions too.
 * Errors: CNV_EINVAL (NULL, no secret_key), CNV_ERANGE (a limit out of range), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_server_create(const cnv_server_config *cfg, cnv_runtime *rt,
                                                   cnv_server **out);

/* Binds and listens on one address, before start: "tcp:HOST:PORT" (HOST a numeric IPv4
 * address, an IPv6 one in brackets, or "localhost"; PORT 0 picks a free port, read back with
 * cnv_server_address) or "unix:PATH" (a stale socket file at PATH, one whose connect is
 * refused, is replaced; a live socket or a file that is not a socket is left alone and listen
 * fails; destroy removes the file if it is still the one bound). Errors: CNV_EINVAL (NULL),
 * CNV_ESTATE (started), CNV_ESERVER_ADDRESS (malformed), CNV_ESERVER_LISTEN (socket, bind or
 * listen failed, or PATH is taken by a live socket or another file), CNV_EFULL (more than
 * CNV_SERVER_MAX_LISTENERS). */
CNV_API CNV_NODISCARD cnv_status cnv_server_listen(cnv_server *s, const char *address);

/* Listeners so far (the order of cnv_server_listen). NULL: 0. */
CNV_API size_t cnv_server_listener_count(const cnv_server *s);

/* Writes listener `index`'s bound address in the form listen takes, with the real port
 * ("tcp:127.0.0.1:40213", "tcp:[::1]:40213", "unix:/tmp/x.sock") and a NUL into out (cap
 * bytes; CNV_SERVER_ADDRESS_MAX always suffices). Errors: CNV_EINVAL, CNV_ERANGE (no such
 * index, or cap too small). */
CNV_API CNV_NODISCARD cnv_status cnv_server_address(const cnv_server *s, size_t index, char *out, size_t cap);

/* Starts the event loops; connections are accepted once it returns. The runtime must be
 * started. Errors: CNV_EINVAL, CNV_ESTATE (started before, or no listener), CNV_ENOMEM,
 * CNV_ERT_THREAD (a thread could not start; nothing left running). */
CNV_API CNV_NODISCARD cnv_status cnv_server_start(cnv_server *s);

/* Graceful stop: stops accepting (the listeners close), closes the sessions still in their
 * handshake, and sends SHUTDOWN (going away) on every ready one. A ready session is then
 * drained: invocations that arrive after the SHUTDOWN are answered CNV_ESTATE, those in flight
 * complete and are answered, and the session closes once its client has said it sends nothing
 * more (its own SHUTDOWN, or the end of its stream) and every call it sent is answered. At
 * stop_timeout_ns every connection still open is closed and the calls it has in flight are
 * cancelled (cnv_runtime_cancel). Returns CNV_OK once every connection is closed and the loops
 * have ended, or CNV_ESERVER_TIMEOUT when, a second after the timeout, some invocations were
 * still inside the runtime (a handler that ignores its cancel flag): their sockets are closed
 * and the server's memory for them is freed when the runtime completes them (stop the runtime,
 * then destroy the server: destroy waits for that). Idempotent. Errors: CNV_EINVAL, CNV_ESTATE
 * (never started). Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_server_stop(cnv_server *s);

/* Stops the server if it runs (cnv_server_stop), waits until the runtime has completed every
 * invocation the server submitted, closes the listeners (removing the unix socket files it
 * bound, if they are still there) and
 * frees everything. NULL is a no-op. */
CNV_API void cnv_server_destroy(cnv_server *s);

/* Handshake failures by cause (index of cnv_server_stats.handshake_failed). */
typedef enum cnv_server_hs_cause {
  CNV_SERVER_HS_PROTOCOL = 0, /* a session error during the handshake (garbage, bad proof), or
                                 no memory to take the session */
  CNV_SERVER_HS_TOKEN = 1,    /* the token was refused (its denial code went to the client) */
  CNV_SERVER_HS_TIMEOUT = 2,  /* handshake_timeout passed */
  CNV_SERVER_HS_CLOSED = 3,   /* the peer closed the connection before READY */
  CNV_SERVER_HS_AGENTS = 4    /* the runtime had no agent handle left (CNV_ERT_AGENTS_FULL) */
} cnv_server_hs_cause;
#define CNV_SERVER_HS_COUNT 5

typedef struct cnv_server_stats {
  uint64_t sessions_open;    /* connections open now (any state) */
  uint64_t sessions_ready;   /* of which past READY */
  uint64_t accepted;         /* connections accepted */
  uint64_t refused_max;      /* closed at accept: max_sessions reached, or no descriptor left */
  uint64_t refused_per_peer; /* closed at accept: max_sessions_per_peer reached */
  uint64_t handshakes;       /* sessions that reached READY */
  uint64_t handshake_failed[CNV_SERVER_HS_COUNT];
  uint64_t idle_closed;     /* ready sessions closed by idle_timeout or write_timeout */
  uint64_t invocations;     /* INVOCATIONs received */
  uint64_t accepted_calls;  /* of which the runtime accepted */
  uint64_t busy;            /* answered CNV_EFULL (runtime full) */
  uint64_t denied;          /* answered with a denial or another refusal */
  uint64_t responses;       /* RESPONSEs sent */
  uint64_t cancels;         /* CANCELs received */
  uint64_t protocol_errors; /* ready sessions ended by a session error */
  uint64_t bytes_in, bytes_out;
} cnv_server_stats;

/* Fills *out. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_server_stats_get(const cnv_server *s, cnv_server_stats *out);

/* ---- Plugins (`cnv serve --plugin LIB.so`) ------------------------------------------------ */

/* The symbol `cnv serve --plugin` looks up in a shared library it loads (dlopen), and its
 * type: it registers the plugin's capabilities on rt (cnv_runtime_register) before the runtime
 * starts, and returns CNV_OK or an error that stops `cnv serve` (exit 1). Handlers' contexts
 * must stay valid until the process ends (the library is never unloaded). */
#define CNV_PLUGIN_ENTRY "cnv_plugin_register"
typedef cnv_status (*cnv_plugin_register_fn)(cnv_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif
