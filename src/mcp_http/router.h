/* The Streamable HTTP transport's request routing, with no sockets: a request (method, path,
 * the headers that matter, body) goes in; an exchange comes out that holds the answer
 * (status, headers, body) or, for a call still running, gets it later from the session's
 * emit callback (a JSON body, or an SSE stream that grows with progress notifications and
 * ends with the response). The libmicrohttpd glue (server.c) and the fuzz target
 * (fuzz/fuzz_mcp_http.c) both drive it. One thread: every function here, and the sessions'
 * emit callbacks, run on the thread that owns the router. */
#ifndef CNV_MCP_HTTP_ROUTER_H
#define CNV_MCP_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/mcp_http.h>

typedef struct mh_router mh_router;
typedef struct mh_session mh_session;

/* Where an exchange is. */
typedef enum mh_state {
  MH_WAIT = 0,   /* a call runs; nothing to send yet */
  MH_DONE = 1,   /* status, headers and the whole body are ready */
  MH_STREAM = 2, /* a 200 text/event-stream: buf grows; `finished` once the response is in */
} mh_state;

typedef struct mh_exchange {
  mh_state state;
  unsigned status;                                  /* HTTP status (MH_DONE, MH_STREAM) */
  const char *content_type;                         /* NULL: no body */
  const char *allow;                                /* the Allow header of a 405, else NULL */
  char session_id[CNV_MCP_HTTP_SESSION_ID_LEN + 1]; /* Mcp-Session-Id to send ("": none) */
  char *buf;                                        /* body (MH_DONE) or stream bytes not yet taken (MH_STREAM) */
  size_t len, cap, off;                             /* buf[off..len) is still to send */
  bool finished;                                    /* MH_STREAM: nothing more will be appended */
  bool aborted;                                     /* the client left (mh_router_abort) */
  void *user;                                       /* the driver's (server.c: its connection) */
  /* The router's. */
  uint64_t origin;
  bool sse_ok;
  void *id; /* json_t *: the request's id (a call), else NULL */
  mh_session *session;
  struct mh_exchange *prev, *next;
  bool changed;
  struct mh_exchange *next_changed;
} mh_exchange;

/* One request. Header values are NUL-terminated, NULL when absent. */
typedef struct mh_request {
  const char *method;
  const char *path;
  const char *session_id;       /* Mcp-Session-Id */
  const char *protocol_version; /* MCP-Protocol-Version */
  const char *origin;           /* Origin */
  const char *accept;           /* Accept */
  const char *content_type;     /* Content-Type */
  const char *peer;             /* the client's address as text (per-peer bounds) */
  const char *body;
  size_t body_len;
  bool too_large; /* the driver stopped reading past max_body: answer 413 */
} mh_request;

/* Descriptor watch: the driver polls fd (a session's cnv_mcp_session_fd) and calls
 * mh_router_poll_session(tag) when it is readable; add false: stop watching it. */
typedef void (*mh_watch_fn)(void *ctx, int fd, mh_session *tag, bool add);

typedef struct mh_config {
  cnv_mcp_config mcp;                 /* emit ignored */
  const char *path;                   /* not copied */
  const char *const *allowed_origins; /* not copied; NULL: loopback */
  uint32_t max_sessions, max_sessions_per_peer;
  size_t max_body;
  uint64_t session_idle_ms;
  mh_watch_fn watch; /* may be NULL (the fuzz target polls every session) */
  void *watch_ctx;
} mh_config;

/* Creates a router (cfg's bounds already resolved: none 0). Errors: CNV_EINVAL, CNV_ENOMEM. */
cnv_status mh_router_create(const mh_config *cfg, mh_router **out);
/* Ends every session, frees every exchange still held and the router. NULL is ignored. */
void mh_router_destroy(mh_router *r);

/* Routes one request at time now_ms; *out gets its exchange (the caller's until
 * mh_router_release), in any state. Errors: CNV_EINVAL, CNV_ENOMEM (nothing made). */
cnv_status mh_router_handle(mh_router *r, const mh_request *req, uint64_t now_ms, mh_exchange **out);

/* A session's descriptor is readable: emits what its calls finished. */
void mh_router_poll_session(mh_router *r, mh_session *s);
/* Polls every session (list_changed, lost wake-ups) and ends the ones idle past
 * session_idle_ms at now_ms. */
void mh_router_tick(mh_router *r, uint64_t now_ms);

/* The client of a waiting or streaming exchange left: its call is cancelled; it gets no
 * more data. */
void mh_router_abort(mh_router *r, mh_exchange *ex);
/* The driver is done with the exchange (aborting it first if unfinished) and frees it. */
void mh_router_release(mh_router *r, mh_exchange *ex);
/* Pops an exchange whose state or data changed since it was handed out or last popped;
 * NULL when none. */
mh_exchange *mh_router_next_changed(mh_router *r);

/* Sessions open now. */
uint32_t mh_router_sessions(const mh_router *r);

#endif
