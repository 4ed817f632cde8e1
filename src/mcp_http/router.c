/* The Streamable HTTP routing state machine (router.h; docs/mcp-http.md). */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <jansson.h>

#include "core/ignore.h"

struct mh_session {
  bool used;
  char id[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  char peer[64];
  cnv_mcp_session *mcp;
  mh_exchange *stream; /* its GET stream (the session's own messages), or NULL */
  uint64_t last_ms;    /* the last request, or the last time a call was running */
  uint64_t last_use;   /* r->uses when last_ms was last set: orders sessions exactly (LRU) */
  mh_router *r;
};

struct mh_router {
  mh_config cfg;
  mh_session *sessions; /* cfg.max_sessions slots */
  uint32_t open;
  uint64_t uses; /* counts session touches (last_use) */
  uint64_t next_origin;
  mh_exchange *head; /* every exchange handed out and not released */
  mh_exchange *changed_head, *changed_tail;
};

/* ---- exchanges ---- */

static void ex_mark(mh_router *r, mh_exchange *ex) {
  if (ex->changed) return;
  ex->changed = true;
  ex->next_changed = NULL;
  if (r->changed_tail) {
    r->changed_tail->next_changed = ex;
  } else {
    r->changed_head = ex;
  }
  r->changed_tail = ex;
}

static void ex_unmark(mh_router *r, mh_exchange *ex) {
  if (!ex->changed) return;
  mh_exchange *prev = NULL;
  for (mh_exchange *e = r->changed_head; e; prev = e, e = e->next_changed) {
    if (e != ex) continue;
    if (prev) {
      prev->next_changed = e->next_changed;
    } else {
      r->changed_head = e->next_changed;
    }
    if (r->changed_tail == e) r->changed_tail = prev;
    break;
  }
  ex->changed = false;
}

/* Appends n bytes; false when out of memory (the exchange then ends its stream). */
static bool ex_append(mh_exchange *ex, const char *p, size_t n) {
  if (ex->off > 0 && ex->off == ex->len) ex->off = ex->len = 0; /* all taken: start over */
  if (ex->len + n > ex->cap) {
    size_t cap = ex->cap ? ex->cap : 256;
    while (cap < ex->len + n) cap *= 2;
    char *b = realloc(ex->buf, cap);
    if (!b) return false;
    ex->buf = b;
    ex->cap = cap;
  }
  memcpy(ex->buf + ex->len, p, n);
  ex->len += n;
  return true;
}

/* An SSE event carrying one JSON message (a line break in it continues the data field). */
static bool ex_append_event(mh_exchange *ex, const char *json, size_t len) {
  if (!ex_append(ex, "event: message\ndata: ", 21)) return false;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (json[i] != '\n') continue;
    if (!ex_append(ex, json + start, i - start) || !ex_append(ex, "\ndata: ", 7)) return false;
    start = i + 1;
  }
  return ex_append(ex, json + start, len - start) && ex_append(ex, "\n\n", 2);
}

static void ex_done(mh_exchange *ex, unsigned status, const char *ctype, const char *body, size_t len) {
  ex->state = MH_DONE;
  ex->status = status;
  ex->content_type = ctype;
  ex->len = ex->off = 0;
  if (len > 0 && !ex_append(ex, body, len)) {
    ex->status = 500;
    ex->content_type = NULL;
  }
}

/* A refusal with a JSON-RPC error body (id null), as the SDKs' servers send. */
static void ex_refuse(mh_exchange *ex, unsigned status, int code, const char *message) {
  json_t *m = json_pack("{s:s,s:{s:i,s:s},s:n}", "jsonrpc", "2.0", "error", "code", code, "message", message, "id");
  char *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
  if (text) {
    ex_done(ex, status, "application/json", text, strlen(text));
  } else {
    ex_done(ex, status, NULL, NULL, 0);
  }
  free(text);
  json_decref(m);
}

static mh_exchange *ex_new(mh_router *r) {
  mh_exchange *ex = calloc(1, sizeof *ex);
  if (!ex) return NULL;
  ex->origin = ++r->next_origin;
  ex->next = r->head;
  if (r->head) r->head->prev = ex;
  r->head = ex;
  return ex;
}

static void ex_free(mh_router *r, mh_exchange *ex) {
  ex_unmark(r, ex);
  if (ex->prev) {
    ex->prev->next = ex->next;
  } else {
    r->head = ex->next;
  }
  if (ex->next) ex->next->prev = ex->prev;
  json_decref((json_t *)ex->id);
  free(ex->buf);
  free(ex);
}

/* ---- sessions ---- */

static void session_emit(void *ctx, uint64_t origin, const char *json, size_t len);

static bool session_id_eq(const char *a, const char *b) {
  /* Constant time over the id's length: a guess learns nothing from the timing. */
  if (strlen(b) != CNV_MCP_HTTP_SESSION_ID_LEN) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < CNV_MCP_HTTP_SESSION_ID_LEN; i++) d |= (unsigned char)(a[i] ^ b[i]);
  return d == 0;
}

static mh_session *session_find(mh_router *r, const char *id) {
  for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
    mh_session *s = &r->sessions[i];
    if (s->used && session_id_eq(s->id, id)) return s;
  }
  return NULL;
}

static bool session_busy(const mh_router *r, const mh_session *s) {
  if (cnv_mcp_session_in_flight(s->mcp) > 0) return true;
  for (const mh_exchange *e = r->head; e; e = e->next) {
    if (e->session == s) return true;
  }
  return false;
}

/* Ends a session: its waiting exchanges are answered 404 (the session is gone), its streams
 * end; then it is destroyed (its calls cancelled and waited for). */
static void session_end(mh_router *r, mh_session *s) {
  for (mh_exchange *e = r->head; e; e = e->next) {
    if (e->session != s) continue;
    e->session = NULL;
    if (e->state == MH_WAIT) {
      ex_refuse(e, 404, -32001, "Session ended");
      ex_mark(r, e);
    } else if (e->state == MH_STREAM && !e->finished) {
      e->finished = true;
      ex_mark(r, e);
    }
  }
  s->stream = NULL;
  if (r->cfg.watch) r->cfg.watch(r->cfg.watch_ctx, cnv_mcp_session_fd(s->mcp), s, false);
  cnv_mcp_session_destroy(s->mcp);
  memset(s->id, 0, sizeof s->id);
  s->mcp = NULL;
  s->used = false;
  r->open--;
}

/* Marks s as used now: for the idle timeout and for the per-peer eviction's LRU order. */
static void session_touch(mh_router *r, mh_session *s, uint64_t now_ms) {
  s->last_ms = now_ms;
  s->last_use = ++r->uses;
}

static void session_expire(mh_router *r, uint64_t now_ms) {
  for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
    mh_session *s = &r->sessions[i];
    if (!s->used) continue;
    if (session_busy(r, s)) {
      session_touch(r, s, now_ms);
    } else if (now_ms - s->last_ms >= r->cfg.session_idle_ms) {
      session_end(r, s);
    }
  }
}

/* Opens a session for peer; NULL with *status set on failure. Idle sessions past the idle
 * timeout end first. A peer at its own cap loses its least recently used idle session (no
 * call running, no open request or stream): a client that left without DELETE must not lock
 * its address out; only a peer whose every session is busy gets 503. The overall cap evicts
 * nothing (that would let one address end another's sessions): 503 when full. */
static mh_session *session_open(mh_router *r, const char *peer, uint64_t now_ms, unsigned *status) {
  session_expire(r, now_ms);
  const char *p = peer ? peer : "";
  uint32_t mine = 0;
  mh_session *free_slot = NULL, *lru = NULL;
  for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
    mh_session *s = &r->sessions[i];
    if (!s->used) {
      if (!free_slot) free_slot = s;
    } else if (strcmp(s->peer, p) == 0) {
      mine++;
      if ((!lru || s->last_use < lru->last_use) && !session_busy(r, s)) lru = s;
    }
  }
  if (mine >= r->cfg.max_sessions_per_peer) {
    if (!lru) {
      *status = 503;
      return NULL;
    }
    session_end(r, lru);
    if (!free_slot) free_slot = lru;
  }
  if (!free_slot) {
    *status = 503;
    return NULL;
  }
  mh_session *s = free_slot;
  uint8_t raw[CNV_MCP_HTTP_SESSION_ID_LEN / 2];
  if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
    *status = 500;
    return NULL;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof raw; i++) {
    s->id[2 * i] = hex[raw[i] >> 4];
    s->id[2 * i + 1] = hex[raw[i] & 15];
  }
  s->id[CNV_MCP_HTTP_SESSION_ID_LEN] = '\0';
  cnv_mcp_config mc = r->cfg.mcp;
  mc.emit = session_emit;
  mc.emit_ctx = s;
  if (cnv_mcp_session_create(&mc, &s->mcp) != CNV_OK) {
    memset(s->id, 0, sizeof s->id);
    *status = 500;
    return NULL;
  }
  snprintf(s->peer, sizeof s->peer, "%s", p);
  s->used = true;
  session_touch(r, s, now_ms);
  s->r = r;
  r->open++;
  if (r->cfg.watch) r->cfg.watch(r->cfg.watch_ctx, cnv_mcp_session_fd(s->mcp), s, true);
  return s;
}

/* A message from the session for the exchange with this origin: the response ends it; a
 * notification before the response turns it into an SSE stream when the client takes one
 * (else it is dropped: JSON can carry only the response). Messages of the session's own
 * (origin 0: list_changed) go to its GET stream, or nowhere when it has none open. */
static void session_emit(void *ctx, uint64_t origin, const char *json, size_t len) {
  mh_session *s = ctx;
  mh_router *r = s->r;
  if (origin == 0) {
    mh_exchange *g = s->stream;
    if (g && !g->finished) {
      if (!ex_append_event(g, json, len)) {
        g->len = g->off;
        g->finished = true;
      }
      ex_mark(r, g);
    }
    return;
  }
  mh_exchange *ex = r->head;
  while (ex && ex->origin != origin) ex = ex->next;
  if (!ex || ex->aborted || ex->session != s) return;
  if (ex->state == MH_DONE || (ex->state == MH_STREAM && ex->finished)) return;
  /* JSON_ALLOW_NUL as the session parses: a "\u0000" in a string is data, not a parse error. */
  json_t *m = json_loadb(json, len, JSON_ALLOW_NUL, NULL);
  bool response = m && json_is_object(m) && !json_object_get(m, "method");
  json_decref(m);
  if (response) {
    if (ex->state == MH_STREAM) {
      if (!ex_append_event(ex, json, len)) ex->len = ex->off; /* out of memory: end it */
      ex->finished = true;
    } else {
      ex_done(ex, 200, "application/json", json, len);
    }
    ex_mark(r, ex);
  } else if (ex->sse_ok) {
    if (ex->state == MH_WAIT) {
      ex->state = MH_STREAM;
      ex->status = 200;
      ex->content_type = "text/event-stream";
      ex->len = ex->off = 0;
    }
    if (!ex_append_event(ex, json, len)) {
      ex->len = ex->off;
      ex->finished = true;
    }
    ex_mark(r, ex);
  }
}

/* ---- requests ---- */

static bool header_has(const char *value, const char *token) {
  return value && strcasestr(value, token) != NULL;
}

/* http(s)://localhost|127.0.0.1|[::1] with an optional :port, nothing after. */
static bool origin_loopback(const char *o) {
  const char *p;
  if (strncasecmp(o, "http://", 7) == 0) {
    p = o + 7;
  } else if (strncasecmp(o, "https://", 8) == 0) {
    p = o + 8;
  } else {
    return false;
  }
  static const char *const hosts[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
    size_t n = strlen(hosts[i]);
    if (strncasecmp(p, hosts[i], n) != 0) continue;
    const char *q = p + n;
    if (*q == '\0') return true;
    if (*q != ':' || q[1] == '\0') return false;
    for (q++; *q; q++) {
      if (*q < '0' || *q > '9') return false;
    }
    return true;
  }
  return false;
}

static bool origin_allowed(const mh_router *r, const char *o) {
  if (!o) return true;
  if (!r->cfg.allowed_origins) return origin_loopback(o);
  for (const char *const *a = r->cfg.allowed_origins; *a; a++) {
    if (strcmp(*a, o) == 0) return true;
  }
  return false;
}

static bool version_known(const char *v) {
  const char *list = CNV_MCP_PROTOCOL_VERSIONS;
  size_t n = strlen(v);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t m = e ? (size_t)(e - p) : strlen(p);
    if (m == n && memcmp(p, v, n) == 0) return true;
    if (!e) break;
    p = e + 1;
  }
  return false;
}

/* The session a request names in Mcp-Session-Id, or NULL after refusing the exchange: 400
 * when the header is missing, 404 when no live session has that id. */
static mh_session *session_of(mh_router *r, const mh_request *q, mh_exchange *ex) {
  if (!q->session_id) {
    ex_refuse(ex, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    return NULL;
  }
  mh_session *s = session_find(r, q->session_id);
  if (!s) ex_refuse(ex, 404, -32001, "Session not found");
  return s;
}

static void route_post(mh_router *r, const mh_request *q, uint64_t now_ms, mh_exchange *ex) {
  if (q->too_large || q->body_len > r->cfg.max_body) {
    ex_refuse(ex, 413, -32600, "Request body too large");
    return;
  }
  if (!header_has(q->content_type, "application/json")) {
    ex_refuse(ex, 415, -32000, "Content-Type must be application/json");
    return;
  }
  bool json_ok = !q->accept || header_has(q->accept, "application/json") || header_has(q->accept, "*/*") ||
                 header_has(q->accept, "application/*");
  ex->sse_ok = header_has(q->accept, "text/event-stream");
  if (!json_ok && !ex->sse_ok) {
    ex_refuse(ex, 406, -32000, "Accept must list application/json or text/event-stream");
    return;
  }
  /* Only classified here (the session parses it again, and answers anything malformed); with
   * JSON_ALLOW_NUL as the session parses, so a "\u0000" in a string is no parse error here. */
  json_t *m = json_loadb(q->body ? q->body : "", q->body_len, JSON_ALLOW_NUL, NULL);
  json_t *method = json_is_object(m) ? json_object_get(m, "method") : NULL;
  json_t *id = json_is_object(m) ? json_object_get(m, "id") : NULL;
  bool request = json_is_string(method) && id != NULL;
  bool init = request && strcmp(json_string_value(method), "initialize") == 0;
  mh_session *s;
  if (!q->session_id) {
    if (!init) {
      json_decref(m);
      ex_refuse(ex, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
      return;
    }
    unsigned status = 0;
    s = session_open(r, q->peer, now_ms, &status);
    if (!s) {
      json_decref(m);
      ex_refuse(ex, status, -32000, status == 503 ? "Too many sessions" : "Internal error");
      return;
    }
    memcpy(ex->session_id, s->id, sizeof ex->session_id);
  } else if (!(s = session_of(r, q, ex))) {
    json_decref(m);
    return;
  }
  session_touch(r, s, now_ms);
  ex->session = s;
  if (request) ex->id = json_incref(id);
  json_decref(m);
  uint32_t before = cnv_mcp_session_in_flight(s->mcp);
  cnv_status st = cnv_mcp_session_receive(s->mcp, q->body ? q->body : "", q->body_len, ex->origin);
  if (st != CNV_OK) {
    ex_refuse(ex, 404, -32001, "Session ended");
    ex->session = NULL;
    return;
  }
  if (ex->state != MH_WAIT) {
    /* Answered at once; a parse error or a bad request is the client's fault. */
    if (ex->state == MH_DONE && !request) ex->status = 400;
    return;
  }
  if (request && cnv_mcp_session_in_flight(s->mcp) > before) return; /* a call runs: wait */
  /* A notification or a response (or a request the session did not answer): accepted. */
  ex_done(ex, 202, NULL, NULL, 0);
  ex->session = NULL;
}

/* The session's own stream: one per session (a second one is 409, as the specification says
 * a message goes on one stream only); it opens with an SSE comment, so its headers go out at
 * once, and lives until the client leaves or the session ends. */
static void route_get(mh_router *r, const mh_request *q, mh_exchange *ex) {
  if (!header_has(q->accept, "text/event-stream")) {
    ex_refuse(ex, 406, -32000, "Accept must list text/event-stream");
    return;
  }
  mh_session *s = session_of(r, q, ex);
  if (!s) return;
  if (s->stream) {
    ex_refuse(ex, 409, -32000, "Conflict: the session's stream is already open");
    return;
  }
  ex->state = MH_STREAM;
  ex->status = 200;
  ex->content_type = "text/event-stream";
  ex->sse_ok = true;
  ex->session = s;
  s->stream = ex;
  if (!ex_append(ex, ": stream\n\n", 10)) ex->finished = true;
}

static void route_delete(mh_router *r, const mh_request *q, mh_exchange *ex) {
  mh_session *s = session_of(r, q, ex);
  if (!s) return;
  session_end(r, s);
  ex_done(ex, 200, NULL, NULL, 0);
}

cnv_status mh_router_handle(mh_router *r, const mh_request *q, uint64_t now_ms, mh_exchange **out) {
  if (!r || !q || !q->method || !q->path || !out) return CNV_EINVAL;
  mh_exchange *ex = ex_new(r);
  if (!ex) return CNV_ENOMEM;
  *out = ex;
  if (strcmp(q->path, r->cfg.path) != 0) {
    ex_refuse(ex, 404, -32000, "Not found");
  } else if (!origin_allowed(r, q->origin)) {
    ex_refuse(ex, 403, -32000, "Forbidden: Origin not allowed");
  } else if (strcmp(q->method, "POST") != 0 && strcmp(q->method, "DELETE") != 0 &&
             strcmp(q->method, "GET") != 0) {
    ex_refuse(ex, 405, -32000, "Method not allowed");
    ex->allow = "GET, POST, DELETE";
  } else if (q->protocol_version && !version_known(q->protocol_version)) {
    ex_refuse(ex, 400, -32000, "Bad Request: Unsupported MCP-Protocol-Version");
  } else if (strcmp(q->method, "DELETE") == 0) {
    route_delete(r, q, ex);
  } else if (strcmp(q->method, "GET") == 0) {
    route_get(r, q, ex);
  } else {
    route_post(r, q, now_ms, ex);
  }
  return CNV_OK;
}

/* ---- the rest ---- */

cnv_status mh_router_create(const mh_config *cfg, mh_router **out) {
  if (!cfg || !out || !cfg->path || !cfg->mcp.rt || cfg->max_sessions == 0) return CNV_EINVAL;
  mh_router *r = calloc(1, sizeof *r);
  if (!r) return CNV_ENOMEM;
  r->cfg = *cfg;
  r->sessions = calloc(cfg->max_sessions, sizeof *r->sessions);
  if (!r->sessions) {
    free(r);
    return CNV_ENOMEM;
  }
  *out = r;
  return CNV_OK;
}

void mh_router_destroy(mh_router *r) {
  if (!r) return;
  for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
    if (r->sessions[i].used) session_end(r, &r->sessions[i]);
  }
  while (r->head) ex_free(r, r->head);
  free(r->sessions);
  free(r);
}

void mh_router_poll_session(mh_router *r, mh_session *s) {
  if (!r || !s || !s->used) return;
  /* Its only error is CNV_EINVAL, which a live session cannot get. */
  cnv__ignore_status(cnv_mcp_session_poll(s->mcp, NULL));
}

void mh_router_tick(mh_router *r, uint64_t now_ms) {
  if (!r) return;
  for (uint32_t i = 0; i < r->cfg.max_sessions; i++) {
    if (r->sessions[i].used) mh_router_poll_session(r, &r->sessions[i]);
  }
  session_expire(r, now_ms);
}

void mh_router_abort(mh_router *r, mh_exchange *ex) {
  if (!r || !ex || ex->aborted) return;
  ex->aborted = true;
  bool unfinished = ex->state == MH_WAIT || (ex->state == MH_STREAM && !ex->finished);
  mh_session *s = ex->session;
  ex->session = NULL;
  if (s && s->stream == ex) s->stream = NULL; /* its GET stream: a later GET may open another */
  if (!unfinished || !s || !ex->id) return;
  json_t *n = json_pack("{s:s,s:s,s:{s:O,s:s}}", "jsonrpc", "2.0", "method", "notifications/cancelled", "params",
                        "requestId", (json_t *)ex->id, "reason", "client disconnected");
  char *text = n ? json_dumps(n, JSON_COMPACT) : NULL;
  if (text) {
    /* Origin 0: nothing answers a notification; a closed session has no call to cancel. */
    cnv__ignore_status(cnv_mcp_session_receive(s->mcp, text, strlen(text), 0));
  }
  free(text);
  json_decref(n);
}

void mh_router_release(mh_router *r, mh_exchange *ex) {
  if (!r || !ex) return;
  mh_router_abort(r, ex);
  ex_free(r, ex);
}

mh_exchange *mh_router_next_changed(mh_router *r) {
  mh_exchange *ex = r ? r->changed_head : NULL;
  if (!ex) return NULL;
  r->changed_head = ex->next_changed;
  if (!r->changed_head) r->changed_tail = NULL;
  ex->changed = false;
  ex->next_changed = NULL;
  return ex;
}

uint32_t mh_router_sessions(const mh_router *r) { return r ? r->open : 0; }
