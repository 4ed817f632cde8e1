/* libcnv mcp_http: MCP's Streamable HTTP transport for cnv_mcp sessions (docs/mcp-http.md).
 *
 * A cnv_mcp_http is an HTTP/1.1 server (libmicrohttpd) on one endpoint path (default /mcp)
 * whose every MCP session is a cnv_mcp_session (include/cnv/mcp.h) acting as the configured
 * runtime agent. The endpoint:
 *   POST    one JSON-RPC message (Content-Type application/json). A request is answered with
 *           its response as application/json, or, when the client's Accept lists
 *           text/event-stream and the call reports progress before it ends, as an SSE stream
 *           (the progress notifications, then the response). A notification or a response is
 *           answered 202 with no body. `initialize` without a session id opens a session:
 *           its response carries the Mcp-Session-Id header (128 random bits, hex), which
 *           every later request must send.
 *   GET     (Accept: text/event-stream, with the session's id) opens the session's own SSE
 *           stream: its notifications/tools/list_changed arrive there. One per session (a
 *           second is 409); it ends with the session.
 *   DELETE  ends the session named by Mcp-Session-Id (its calls are cancelled).
 * Refusals: another path 404; an Origin header not in the allow list 403 (DNS rebinding);
 * an MCP-Protocol-Version header naming a revision not in CNV_MCP_PROTOCOL_VERSIONS 400; no
 * Mcp-Session-Id on a request other than initialize 400; an unknown or ended session 404;
 * a body over max_body 413; a Content-Type other than application/json 415; an Accept that
 * takes neither JSON nor SSE (for GET: no SSE) 406; another method 405; no room for another
 * session 503 (past max_sessions, or past max_sessions_per_peer with all of that address's
 * sessions busy). A client that drops its connection while its call runs cancels the call (the
 * session gets notifications/cancelled for it).
 *
 * Threading: one thread, started by cnv_mcp_http_start, runs libmicrohttpd's event loop
 * (external epoll mode) together with every session's descriptor, so every cnv_mcp_session
 * call (create, receive, poll, destroy) happens on that one thread, as mcp.h requires.
 * The library never prints and never aborts. */
#ifndef CNV_MCP_HTTP_H
#define CNV_MCP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "mcp.h"
#include "runtime.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Length of a session id (hex characters, no NUL). */
#define CNV_MCP_HTTP_SESSION_ID_LEN 32u

typedef struct cnv_mcp_http_config {
  /* What every session is created with (rt, agent, names, page size, in-flight and message
   * bounds); its emit and emit_ctx are ignored (the transport sets them). */
  cnv_mcp_config mcp;
  const char *host; /* numeric IPv4 or IPv6 address to bind; NULL: "127.0.0.1" (loopback) */
  uint16_t port;    /* 0: any free port (cnv_mcp_http_port tells which) */
  const char *path; /* the endpoint path, starting with '/'; NULL: "/mcp" */
  /* Origin header values accepted (exact, e.g. "https://app.example"), NULL-terminated;
   * NULL: loopback origins only (http or https, host localhost, 127.0.0.1 or [::1], any
   * port). A request without an Origin header (not from a browser) is accepted. */
  const char *const *allowed_origins;
  uint32_t max_sessions;             /* sessions open at once; 0: 64; at most 4096 */
  uint32_t max_sessions_per_peer;    /* per client address; 0: 16. Past it, that address's least
                                        recently used idle session (no call running, no open
                                        request or stream) ends (its id then gets 404); 503 only
                                        when all of them are busy */
  uint32_t max_connections;          /* HTTP connections open at once; 0: 512. Each holds a
                                        descriptor: keep it below RLIMIT_NOFILE */
  uint32_t max_connections_per_peer; /* per client address; 0: 256 (an HTTP client pool with
                                        32 calls in flight opens about 60: undici grows its
                                        pool past its concurrency while answers finish) */
  size_t max_body;                   /* longest POST body, bytes; 0: mcp.max_message or 4 MiB */
  uint32_t session_idle_s;           /* a session with no call running and no request for this long
                              ends (its id then gets 404); 0: 600 */
  uint32_t io_timeout_s;             /* a connection that sends nothing this long while a request is
                              read, or idles between requests, is closed; 0: 30. A
                              connection waiting for its call's answer does not time out. */
} cnv_mcp_http_config;

typedef struct cnv_mcp_http cnv_mcp_http;

/* Binds host:port, starts the server's thread and returns. cfg and the strings it points to
 * are copied except mcp.rt, which must outlive the server. Errors: CNV_EINVAL (NULL, no rt, a
 * host that is not a numeric address, a path not starting with '/'), CNV_ERANGE (a bound
 * past its limit), CNV_ENOMEM, CNV_EIO (the address cannot be bound, or no thread). The
 * caller owns *out (cnv_mcp_http_stop). One thread at a time; blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_http_start(const cnv_mcp_http_config *cfg, cnv_mcp_http **out);

/* The port bound (useful with port 0). Any thread; wait-free. */
CNV_API uint16_t cnv_mcp_http_port(const cnv_mcp_http *h);

/* Sessions open now. Any thread; wait-free (one relaxed load: exact, possibly stale). */
CNV_API uint32_t cnv_mcp_http_sessions(const cnv_mcp_http *h);

/* Stops: answers nothing more, ends every session (cancelling its calls and waiting for
 * them, as cnv_mcp_session_destroy does), closes every connection, joins the thread and
 * frees. NULL is ignored. Not from a handler of the runtime; blocking. */
CNV_API void cnv_mcp_http_stop(cnv_mcp_http *h);

#ifdef __cplusplus
}
#endif

#endif
