/* The Streamable HTTP server: libmicrohttpd in external epoll mode, run by one thread of
 * ours together with every session's descriptor (docs/mcp-http.md: threading). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/atomic.h"
#include "core/ignore.h"
#include "router.h"

/* What an epoll event is about. */
enum { W_STOP,
       W_MHD,
       W_SESSION,
       W_CONN };

typedef struct watch {
  int kind;
  void *ptr; /* W_SESSION: the mh_session; W_CONN: the conn; NULL: a free session slot */
} watch;

/* One HTTP request on a connection (MHD's per-request pointer). */
typedef struct cnv_mcp_http cnv_mcp_http;

typedef struct conn {
  cnv_mcp_http *h;
  watch w; /* W_CONN: the socket, watched for hang-up while the request is parked */
  struct MHD_Connection *mc;
  int fd;
  char *body;
  size_t len, cap;
  bool too_large;
  bool suspended; /* parked by MHD_suspend_connection */
  bool watched;   /* its socket is in our epoll set */
  mh_exchange *ex;
  struct conn *prev, *next; /* every live request */
} conn;

struct cnv_mcp_http {
  struct MHD_Daemon *d;
  mh_router *router;
  int ep;
  int stop_fd;
  watch w_stop, w_mhd;
  watch *swatch; /* one per session slot */
  uint32_t nswatch;
  conn *conns;
  pthread_t thread;
  uint16_t port;
  size_t max_body;
  char *path;
  char **origins;            /* NULL-terminated copy, or NULL */
  _Atomic uint32_t sessions; /* the router's count, for other threads (relaxed: a figure, no data) */
};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_watch(void *ctx, int fd, mh_session *tag, bool add) {
  cnv_mcp_http *h = ctx;
  for (uint32_t i = 0; i < h->nswatch; i++) {
    watch *w = &h->swatch[i];
    if (add && w->ptr == NULL) {
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
      /* A failed add (no kernel memory) leaves the session to the loop's tick, which polls
       * every session each second: slower, nothing lost. */
      if (epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) == 0) {
        w->kind = W_SESSION;
        w->ptr = tag;
      }
      return;
    }
    if (!add && w->ptr == tag) {
      struct epoll_event ev = {0};
      /* The descriptor is still open (the session is destroyed after this): DEL succeeds;
       * had the add failed, there is nothing to remove. */
      epoll_ctl(h->ep, EPOLL_CTL_DEL, fd, &ev);
      w->ptr = NULL;
      return;
    }
  }
}

/* Parks a request (its call runs, or its stream waits for more): MHD stops serving it until
 * it is resumed, and we watch its socket for hang-up, which MHD does not do meanwhile. */
static void park(cnv_mcp_http *h, conn *c) {
  MHD_suspend_connection(c->mc);
  c->suspended = true;
  if (c->fd >= 0 && !c->watched) {
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLHUP | EPOLLERR, .data.ptr = &c->w};
    c->watched = epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) == 0;
  }
}

static void unpark(cnv_mcp_http *h, conn *c) {
  if (c->watched) {
    struct epoll_event ev = {0};
    /* The socket is open (MHD closes it only after the resume): DEL cannot fail. */
    epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, &ev);
    c->watched = false;
  }
  if (c->suspended) {
    c->suspended = false;
    MHD_resume_connection(c->mc);
  }
}

/* ---- responses ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  conn *c = cls;
  mh_exchange *ex = c->ex;
  if (ex->aborted) return MHD_CONTENT_READER_END_WITH_ERROR;
  if (ex->off < ex->len) {
    size_t n = ex->len - ex->off;
    if (n > max) n = max;
    memcpy(buf, ex->buf + ex->off, n);
    ex->off += n;
    return (ssize_t)n;
  }
  if (ex->finished) return MHD_CONTENT_READER_END_OF_STREAM;
  /* Nothing yet: park until the session emits more (returning 0 unparked would spin). */
  park(c->h, c);
  return 0;
}

static enum MHD_Result queue(conn *c, mh_exchange *ex) {
  struct MHD_Response *resp;
  if (ex->state == MH_STREAM) {
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, c, NULL);
  } else {
    resp = MHD_create_response_from_buffer(ex->len - ex->off, ex->buf + ex->off, MHD_RESPMEM_MUST_COPY);
  }
  if (!resp) return MHD_NO;
  enum MHD_Result ok = MHD_YES;
  if (ex->content_type) ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ex->content_type);
  if (ex->state == MH_STREAM) ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  if (ex->session_id[0]) ok &= MHD_add_response_header(resp, "Mcp-Session-Id", ex->session_id);
  if (ex->allow) ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ex->allow);
  enum MHD_Result r = ok == MHD_YES ? MHD_queue_response(c->mc, ex->status, resp) : MHD_NO;
  MHD_destroy_response(resp);
  return r;
}

/* ---- MHD's callbacks (all on our thread: MHD_run runs them) ---- */

static const char *hdr(struct MHD_Connection *mc, const char *name) {
  return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

static void peer_text(struct MHD_Connection *mc, char *out, size_t cap) {
  out[0] = '\0';
  const union MHD_ConnectionInfo *ai = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ai || !ai->client_addr) return;
  const struct sockaddr *sa = ai->client_addr;
  const void *a = NULL;
  if (sa->sa_family == AF_INET) {
    a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
  } else if (sa->sa_family == AF_INET6) {
    a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
  }
  if (a && !inet_ntop(sa->sa_family, a, out, (socklen_t)cap)) out[0] = '\0';
}

static conn *conn_new(cnv_mcp_http *h, struct MHD_Connection *mc) {
  conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->h = h;
  c->w.kind = W_CONN;
  c->w.ptr = c;
  c->mc = mc;
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
  c->fd = ci ? ci->connect_fd : -1;
  const char *cl = hdr(mc, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoull(cl, NULL, 10) > h->max_body) c->too_large = true;
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  return c;
}

static bool body_take(cnv_mcp_http *h, conn *c, const char *data, size_t n) {
  if (c->too_large || n > h->max_body - c->len) {
    c->too_large = true; /* the rest is read and dropped; then 413 */
    free(c->body);
    c->body = NULL;
    c->len = c->cap = 0;
    return true;
  }
  if (c->len + n > c->cap) {
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < c->len + n) cap *= 2;
    char *b = realloc(c->body, cap);
    if (!b) return false;
    c->body = b;
    c->cap = cap;
  }
  memcpy(c->body + c->len, data, n);
  c->len += n;
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req_cls) {
  (void)version;
  cnv_mcp_http *h = cls;
  conn *c = *req_cls;
  if (!c) {
    *req_cls = c = conn_new(h, mc);
    return c ? MHD_YES : MHD_NO;
  }
  if (*upload_size > 0) {
    bool ok = body_take(h, c, upload, *upload_size);
    *upload_size = 0;
    return ok ? MHD_YES : MHD_NO;
  }
  if (!c->ex) {
    char peer[64];
    peer_text(mc, peer, sizeof peer);
    mh_request q = {
        .method = method,
        .path = url,
        .session_id = hdr(mc, "Mcp-Session-Id"),
        .protocol_version = hdr(mc, "MCP-Protocol-Version"),
        .origin = hdr(mc, "Origin"),
        .accept = hdr(mc, MHD_HTTP_HEADER_ACCEPT),
        .content_type = hdr(mc, MHD_HTTP_HEADER_CONTENT_TYPE),
        .peer = peer,
        .body = c->body,
        .body_len = c->len,
        .too_large = c->too_large,
    };
    if (mh_router_handle(h->router, &q, now_ms(), &c->ex) != CNV_OK) return MHD_NO;
    c->ex->user = c;
    free(c->body);
    c->body = NULL;
    c->len = c->cap = 0;
  }
  mh_exchange *ex = c->ex;
  if (ex->aborted) return MHD_NO;
  if (ex->state == MH_WAIT) {
    park(h, c);
    return MHD_YES;
  }
  return queue(c, ex);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls, enum MHD_RequestTerminationCode toe) {
  (void)mc;
  (void)toe;
  cnv_mcp_http *h = cls;
  conn *c = *req_cls;
  if (!c) return;
  if (c->watched) {
    struct epoll_event ev = {0};
    epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, &ev);
  }
  /* An unfinished exchange (the client left mid-stream) is aborted: its call is cancelled. */
  if (c->ex) mh_router_release(h->router, c->ex);
  if (c->prev) {
    c->prev->next = c->next;
  } else {
    h->conns = c->next;
  }
  if (c->next) c->next->prev = c->prev;
  free(c->body);
  free(c);
  *req_cls = NULL;
}

/* ---- the loop ---- */

/* Wakes every parked request whose exchange changed (an answer, more of a stream, an end). */
static void wake_changed(cnv_mcp_http *h) {
  for (mh_exchange *ex; (ex = mh_router_next_changed(h->router)) != NULL;) {
    conn *c = ex->user;
    if (c) unpark(h, c);
  }
}

static void *loop(void *arg) {
  cnv_mcp_http *h = arg;
  uint64_t next_tick = now_ms() + 1000;
  struct epoll_event evs[64];
  bool stop = false;
  while (!stop) {
    MHD_UNSIGNED_LONG_LONG to = 1000;
    int timeout = 1000;
    if (MHD_get_timeout(h->d, &to) == MHD_YES && to < 1000) timeout = (int)to;
    int n = epoll_wait(h->ep, evs, 64, timeout);
    for (int i = 0; i < n; i++) {
      watch *w = evs[i].data.ptr;
      if (w->kind == W_STOP) {
        stop = true;
      } else if (w->kind == W_SESSION && w->ptr) {
        mh_router_poll_session(h->router, w->ptr);
      } else if (w->kind == W_CONN) {
        /* A parked request's client hung up: cancel its call; resumed, MHD then finds the
         * closed socket (or our refusal to go on) and ends the request. */
        conn *c = w->ptr;
        mh_router_abort(h->router, c->ex);
        unpark(h, c);
      }
    }
    uint64_t now = now_ms();
    if (now >= next_tick) {
      mh_router_tick(h->router, now);
      next_tick = now + 1000;
    }
    wake_changed(h);
    /* Its only failure is a daemon in the wrong mode, which start rules out. */
    if (MHD_run(h->d) != MHD_YES) stop = stop || false;
    wake_changed(h);
    cnv__store_relaxed(&h->sessions, mh_router_sessions(h->router));
  }
  /* Stop: every parked request is resumed (MHD must not stop with one suspended), its call
   * cancelled; MHD closes every connection (their exchanges are released), then the router
   * ends the sessions, all on this thread. */
  for (conn *c = h->conns; c; c = c->next) {
    if (c->ex) mh_router_abort(h->router, c->ex);
    unpark(h, c);
  }
  MHD_stop_daemon(h->d);
  h->d = NULL;
  mh_router_destroy(h->router);
  h->router = NULL;
  cnv__store_relaxed(&h->sessions, 0u);
  return NULL;
}

/* ---- start and stop ---- */

static void free_all(cnv_mcp_http *h) {
  if (h->d) MHD_stop_daemon(h->d);
  mh_router_destroy(h->router);
  if (h->ep >= 0) close(h->ep);
  if (h->stop_fd >= 0) close(h->stop_fd);
  if (h->origins) {
    for (char **o = h->origins; *o; o++) free(*o);
  }
  free(h->origins);
  free(h->path);
  free(h->swatch);
  free(h);
}

static cnv_status copy_origins(cnv_mcp_http *h, const char *const *list) {
  if (!list) return CNV_OK;
  size_t n = 0;
  while (list[n]) n++;
  h->origins = calloc(n + 1, sizeof *h->origins);
  if (!h->origins) return CNV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    h->origins[i] = strdup(list[i]);
    if (!h->origins[i]) return CNV_ENOMEM;
  }
  return CNV_OK;
}

cnv_status cnv_mcp_http_start(const cnv_mcp_http_config *cfg, cnv_mcp_http **out) {
  if (!cfg || !out || !cfg->mcp.rt) return CNV_EINVAL;
  const char *path = cfg->path ? cfg->path : "/mcp";
  if (path[0] != '/') return CNV_EINVAL;
  if (cfg->max_sessions > 4096) return CNV_ERANGE;
  union {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } addr;
  memset(&addr, 0, sizeof addr);
  const char *host = cfg->host ? cfg->host : "127.0.0.1";
  unsigned family_flag = 0;
  if (inet_pton(AF_INET, host, &addr.v4.sin_addr) == 1) {
    addr.v4.sin_family = AF_INET;
    addr.v4.sin_port = htons(cfg->port);
  } else if (inet_pton(AF_INET6, host, &addr.v6.sin6_addr) == 1) {
    addr.v6.sin6_family = AF_INET6;
    addr.v6.sin6_port = htons(cfg->port);
    family_flag = MHD_USE_IPv6;
  } else {
    return CNV_EINVAL;
  }
  cnv_mcp_http *h = calloc(1, sizeof *h);
  if (!h) return CNV_ENOMEM;
  h->ep = h->stop_fd = -1;
  mh_config rc = {
      .mcp = cfg->mcp,
      .max_sessions = cfg->max_sessions ? cfg->max_sessions : 64,
      .max_sessions_per_peer = cfg->max_sessions_per_peer ? cfg->max_sessions_per_peer : 16,
      .max_body = cfg->max_body ? cfg->max_body : (cfg->mcp.max_message ? cfg->mcp.max_message : 4u << 20),
      .session_idle_ms = (uint64_t)(cfg->session_idle_s ? cfg->session_idle_s : 600) * 1000u,
      .watch = on_watch,
      .watch_ctx = h,
  };
  h->max_body = rc.max_body;
  h->nswatch = rc.max_sessions;
  h->path = strdup(path);
  h->swatch = calloc(rc.max_sessions, sizeof *h->swatch);
  cnv_status st = h->path && h->swatch ? copy_origins(h, cfg->allowed_origins) : CNV_ENOMEM;
  rc.path = h->path;
  rc.allowed_origins = (const char *const *)h->origins;
  if (st == CNV_OK) st = mh_router_create(&rc, &h->router);
  if (st != CNV_OK) {
    free_all(h);
    return st;
  }
  h->ep = epoll_create1(EPOLL_CLOEXEC);
  h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  unsigned timeout_s = cfg->io_timeout_s ? cfg->io_timeout_s : 30;
  unsigned conns = cfg->max_connections ? cfg->max_connections : 512;
  unsigned per_ip = cfg->max_connections_per_peer ? cfg->max_connections_per_peer : 256;
  if (h->ep >= 0 && h->stop_fd >= 0) {
    h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | family_flag, 0, NULL, NULL, on_request, h,
                            MHD_OPTION_SOCK_ADDR, &addr.sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT, conns,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_END);
  }
  const union MHD_DaemonInfo *ei = h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
  const union MHD_DaemonInfo *pi = h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  bool ok = ei && pi;
  if (ok) {
    h->port = pi->port;
    h->w_stop.kind = W_STOP;
    h->w_mhd.kind = W_MHD;
    struct epoll_event e1 = {.events = EPOLLIN, .data.ptr = &h->w_stop};
    struct epoll_event e2 = {.events = EPOLLIN, .data.ptr = &h->w_mhd};
    ok = epoll_ctl(h->ep, EPOLL_CTL_ADD, h->stop_fd, &e1) == 0 && epoll_ctl(h->ep, EPOLL_CTL_ADD, ei->epoll_fd, &e2) == 0;
  }
  if (!ok || pthread_create(&h->thread, NULL, loop, h) != 0) {
    free_all(h);
    return CNV_EIO;
  }
  *out = h;
  return CNV_OK;
}

uint16_t cnv_mcp_http_port(const cnv_mcp_http *h) { return h ? h->port : 0; }

uint32_t cnv_mcp_http_sessions(const cnv_mcp_http *h) {
  return h ? cnv__load_relaxed(&h->sessions) : 0;
}

void cnv_mcp_http_stop(cnv_mcp_http *h) {
  if (!h) return;
  uint64_t one = 1;
  /* An eventfd write fails only when the counter would overflow: it is then readable. */
  if (write(h->stop_fd, &one, sizeof one) < 0) one = 0;
  pthread_join(h->thread, NULL);
  free_all(h);
}
