/* libcnv mcp: a runtime's capabilities as Model Context Protocol tools (docs/mcp.md).
 *
 * A cnv_mcp_session is one MCP client's connection, acting as one runtime agent. It speaks
 * JSON-RPC 2.0 (messages parsed and written with jansson) and does no I/O itself: the
 * transport hands it each message the client sent (cnv_mcp_session_receive) and it hands
 * back each message for the client through the emit callback, so the stdio loop below, an
 * HTTP transport and the fuzz target all run the same code.
 *
 * What it does with each method:
 *   initialize               negotiates the protocol revision (the client's when it is one
 *                            of CNV_MCP_PROTOCOL_VERSIONS, else the newest) and announces the
 *                            tools capability (listChanged). Fields newer than the
 *                            negotiated revision are left out of later answers (tool
 *                            annotations before 2025-03-26; a tool's title and
 *                            structuredContent before 2025-06-18). Before initialize only
 *                            ping and initialize are answered; other requests get -32600.
 *   ping                     an empty result (before initialize too).
 *   tools/list               every registered capability the agent's token allows
 *                            (cnv_runtime_agent_check), in path order, page_size per page,
 *                            an opaque nextCursor between pages; each with its tool name
 *                            (cnv_mcp_tool_name), inputSchema generated from its typed
 *                            arguments, and annotations from its effects.
 *   tools/call               the JSON arguments become an invocation line (cnv_line_*: no
 *                            quoting hazard), checked against the schema, then submitted
 *                            (cnv_runtime_submit_ex); the completion becomes the result:
 *                            content (text, or a JSON result also as structuredContent),
 *                            isError for handler failures, denials (with the reason) and
 *                            argument errors (naming the argument and why). Denials read
 *                            "denied: <cnv_runtime_denial_name>: <cnv_strerror>"; a full
 *                            runtime or max_in_flight calls running: "busy: ...". A BINARY
 *                            result is an embedded resource (base64 blob). A progressToken
 *                            (string or integer) in _meta gets notifications/progress from
 *                            the handler's reports (cnv_runtime_call_progress).
 *   notifications/cancelled  cancels the call in the runtime (cnv_runtime_cancel); no
 *                            response follows for it.
 * When the registry changes (cnv_runtime_registry_generation) after a tools/list,
 * cnv_mcp_session_poll sends notifications/tools/list_changed. Protocol errors are JSON-RPC
 * errors: -32700 parse error (not JSON, invalid UTF-8, a duplicate key, a number past int64
 * or double range, nesting past CNV_MCP_MAX_DEPTH), -32600 invalid request (not an object, a
 * batch, no "jsonrpc":"2.0", a bad id or method, a string id past CNV_MCP_MAX_ID bytes, an
 * id already used by a call in flight (compared by value), a message past max_message, a
 * request before initialize), -32601 unknown method, -32602 invalid params (unknown tool,
 * bad cursor, params not an object, a progressToken past CNV_MCP_MAX_ID), -32603 internal (no
 * memory). Ids (string or number) come back exactly as sent; errors about a message whose
 * id cannot be read carry id null. Notifications are never answered. Every message is
 * bounded: max_message bytes, CNV_MCP_MAX_DEPTH levels, max_in_flight calls (a call past it
 * gets an isError "busy" result, never a queue), page_size tools per page.
 *
 * Synchronization: a session belongs to one thread (the transport's): create, receive, poll,
 * close and destroy on it. The runtime's workers hand completions and progress to it through
 * a lock-free ring and an eventfd (cnv_mcp_session_fd): no lock on that path; progress
 * reports that find the ring full are dropped (advisory), completions never are. The emit
 * callback runs on the session's thread, inside receive or poll. Different sessions are
 * independent (one thread each). The library never prints and never aborts. */
#ifndef CNV_MCP_H
#define CNV_MCP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The revisions spoken, newest first (a comma-separated string): those the official
 * TypeScript SDK's client speaks. initialize answers with the client's requested revision
 * when it is one of these, else with the newest. */
#define CNV_MCP_PROTOCOL_VERSIONS "2025-11-25,2025-06-18,2025-03-26,2024-11-05,2024-10-07"
/* Deepest JSON nesting accepted in one message. */
#define CNV_MCP_MAX_DEPTH 64u
/* Longest string id of a request, and longest string progressToken of a tools/call (bytes):
 * a call in flight keeps both, so they are bounded apart from max_message. */
#define CNV_MCP_MAX_ID 1024u
/* Longest tool name (the character set clients accept: ^[a-zA-Z0-9_-]{1,64}$). */
#define CNV_MCP_TOOL_NAME_MAX 64u

/* ---- Tool names ----
 * A capability path ([a-z0-9_-] segments joined by '.') maps to a tool name by writing each
 * '.' as '_' and each '_' as "_U"; '-', letters and digits stay. Paths have no capitals, so
 * the mapping is one-to-one and reversible: two paths never share a name. A path whose name
 * would pass CNV_MCP_TOOL_NAME_MAX bytes is not offered as a tool. */

/* Writes the tool name of a capability path into out (cap bytes, NUL added); *len (may be
 * NULL) gets its length. Errors: CNV_EINVAL (NULL path or out), the path errors of
 * cnv_capability_path_check, CNV_ERANGE (the name would pass CNV_MCP_TOOL_NAME_MAX bytes),
 * CNV_EFULL (cap too small; nothing written). Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_tool_name(const char *path, size_t path_len, char *out, size_t cap,
                                                   size_t *len);

/* The reverse: the capability path of a tool name, into out (cap bytes, NUL added). Only a
 * name that cnv_mcp_tool_name writes is accepted (decoding then encoding gives it back).
 * Errors: CNV_EINVAL (NULL), CNV_ENOTFOUND (not a name any path maps to), CNV_EFULL. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_tool_path(const char *name, size_t name_len, char *out, size_t cap,
                                                   size_t *len);

/* ---- Sessions ---- */

/* Receives each outgoing message: one JSON object ("jsonrpc":"2.0"), valid UTF-8, no
 * newline, valid during the call only.
 * origin is the value the transport gave cnv_mcp_session_receive with the request the
 * message answers or reports on (a response, a progress notification); 0 for a message of
 * the session's own (notifications/tools/list_changed). */
typedef void (*cnv_mcp_emit_fn)(void *ctx, uint64_t origin, const char *json, size_t len);

/* The strings are copied at create. */
typedef struct cnv_mcp_config {
  cnv_runtime *rt;            /* a started runtime; not owned; must outlive the session */
  uint32_t agent;             /* the runtime agent every call acts as */
  const char *server_name;    /* serverInfo.name; NULL: "libcnv" */
  const char *server_version; /* serverInfo.version; NULL: the library's version */
  const char *instructions;   /* initialize's instructions; NULL: none */
  uint32_t page_size;         /* tools per tools/list page; 0: 100; at most 1000 */
  uint32_t max_in_flight;     /* tools/call running at once; 0: 64; at most 4096 */
  size_t max_message;         /* longest message accepted, bytes; 0: 4 MiB; at most 1 GiB */
  cnv_mcp_emit_fn emit;       /* required */
  void *emit_ctx;
  /* Optional (NULL: none): told once per tools/call the runtime accepted, when it completes
   * (answered, cancelled by the client, or cut short by close), with the tool's name, the
   * completion kind (cnv_runtime_done) and status. For logs and metrics; runs on the
   * session's thread inside poll or close; must not call back into the session. */
  void (*on_call_done)(void *ctx, const char *tool, int kind, cnv_status status);
  void *call_done_ctx;
} cnv_mcp_config;

typedef struct cnv_mcp_session cnv_mcp_session;

/* Creates a session: allocates everything it uses while it runs (its in-flight table with
 * one result buffer of the runtime's max_result per call, the completion and progress
 * rings, the line buffer). Errors: CNV_EINVAL (NULL, no emit, no rt), CNV_ERANGE (a field
 * past its bound), CNV_ENOMEM, CNV_EIO (no eventfd). The caller owns *out
 * (cnv_mcp_session_destroy). Any thread (it becomes the session's). */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_session_create(const cnv_mcp_config *cfg, cnv_mcp_session **out);

/* Handles one message from the client (len bytes, no newline needed; a JSON-RPC batch array
 * is answered with -32600). Anything wrong in it is answered through emit as JSON-RPC
 * requires; the return value is about the call itself. origin tags the replies (see
 * cnv_mcp_emit_fn). Returns CNV_OK, CNV_EINVAL (NULL s, NULL msg with len > 0), CNV_ESTATE
 * (closed). The session's thread. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_session_receive(cnv_mcp_session *s, const char *msg, size_t len,
                                                         uint64_t origin);

/* Emits what the runtime finished since the last poll (responses, progress) and a
 * tools/list_changed when due. *emitted (may be NULL) gets the number of messages sent.
 * Call it when cnv_mcp_session_fd is readable, and now and then (list_changed is noticed by
 * polling the registry generation). Errors: CNV_EINVAL. The session's thread. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_session_poll(cnv_mcp_session *s, size_t *emitted);

/* A descriptor that is readable while poll has runtime work to emit (an eventfd). */
CNV_API int cnv_mcp_session_fd(const cnv_mcp_session *s);

/* Calls in flight now. */
CNV_API uint32_t cnv_mcp_session_in_flight(const cnv_mcp_session *s);

/* The client is gone: cancels every call in flight (cnv_runtime_cancel) and waits up to
 * timeout_ms (UINT32_MAX: no limit) for their completions, emitting nothing more. Later
 * receives get CNV_ESTATE. Returns CNV_OK, CNV_EINVAL (NULL), or CNV_EAGAIN when calls were
 * still running at the timeout (destroy then waits for them). The session's thread;
 * blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_session_close(cnv_mcp_session *s, uint32_t timeout_ms);

/* Closes (if needed, waiting as long as the calls run: a completion must never reach freed
 * memory) and frees. NULL is ignored. The session's thread; blocking. */
CNV_API void cnv_mcp_session_destroy(cnv_mcp_session *s);

/* ---- The stdio transport ----
 * Newline-delimited JSON-RPC on two descriptors (MCP's stdio transport): each line read from
 * in_fd is one message; each emitted message is written to out_fd followed by "\n", and
 * nothing else is ever written there. A line longer than max_message is answered with a
 * -32600 error and skipped up to its newline (memory stays bounded). Returns when in_fd
 * reaches end of file (the client left: the session is closed, its calls cancelled; a last
 * line without "\n" is still handled) or stop_fd becomes readable. Blank lines and a "\r"
 * before the "\n" are accepted. Writes are blocking and whole (EINTR and partial writes
 * retried; a non-blocking out_fd is waited for); SIGPIPE is blocked on the calling thread
 * while it serves, so a closed output is an error, not a signal. */
typedef struct cnv_mcp_stdio_config {
  int in_fd;   /* read side (stdin) */
  int out_fd;  /* write side (stdout) */
  int stop_fd; /* readable: stop (a signal handler writes an eventfd or pipe); -1: none */
} cnv_mcp_stdio_config;

/* Runs one session over stdio until end of input or stop (cfg's emit and emit_ctx are
 * ignored: the transport writes to out_fd). Returns CNV_OK (end of input or stop),
 * CNV_EMCP_TRANSPORT (reading or writing failed: a closed out_fd included), CNV_EINVAL (NULL,
 * a negative in_fd or out_fd), CNV_ENOMEM, the errors of cnv_mcp_session_create. Blocking;
 * the calling thread is the session's. */
CNV_API CNV_NODISCARD cnv_status cnv_mcp_serve_stdio(const cnv_mcp_config *cfg, const cnv_mcp_stdio_config *io);

#ifdef __cplusplus
}
#endif

#endif
