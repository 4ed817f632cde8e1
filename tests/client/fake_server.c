/* The scripted server of fake_server.h. */
#include "fake_server.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cnv/runtime.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct conn {
  fake_server *f;
  int fd;
  cnv_session *s;
  uint8_t out[1u << 20];
  size_t out_len;
  uint64_t held[FAKE_MAX_HELD];
  int n_held;
  uint64_t slow[FAKE_MAX_HELD];
  int n_slow;
  bool closing;
} conn;

static bool send_all(conn *c) {
  size_t off = 0;
  while (off < c->out_len) {
    ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += (size_t)n;
  }
  c->out_len = 0;
  return true;
}

static bool pull(conn *c) {
  for (;;) {
    size_t w = 0;
    if (cnv_session_pull(c->s, c->out + c->out_len, sizeof c->out - c->out_len, &w) != CNV_OK) return false;
    if (w == 0) return true;
    c->out_len += w;
  }
}

static bool seal(conn *c, uint8_t type, uint64_t id, const void *p, size_t n) {
  size_t w = 0;
  if (cnv_session_seal(c->s, type, id, p, n, now_ns(), c->out + c->out_len, sizeof c->out - c->out_len, &w) !=
      CNV_OK)
    return false;
  c->out_len += w;
  return true;
}

static bool respond(conn *c, uint64_t id, cnv_status st, int kind, const void *res, size_t n) {
  static uint8_t buf[1u << 17];
  cnv_session_response r = {.status = st,
                            .done = kind < 0 ? CNV_SESSION_DONE_REFUSED : (uint8_t)kind,
                            .result_type = 0,
                            .result = res,
                            .result_len = n};
  size_t w = 0;
  if (cnv_session_response_encode(&r, buf, sizeof buf, &w) != CNV_OK) return false;
  return seal(c, CNV_MSG_RESPONSE, id, buf, w);
}

static bool release_held(conn *c) {
  while (c->n_held > 0) {
    if (!respond(c, c->held[--c->n_held], CNV_OK, CNV_DONE_RAN, "held", 4)) return false;
  }
  return true;
}

static bool take(uint64_t *list, int *n, uint64_t id) {
  for (int i = 0; i < *n; i++) {
    if (list[i] == id) {
      list[i] = list[--*n];
      return true;
    }
  }
  return false;
}

static bool on_invoke(conn *c, const cnv_session_event *ev) {
  cnv_session_invoke inv;
  if (cnv_session_invoke_decode(ev->data, ev->len, &inv) != CNV_OK) return false;
  c->f->invocations++;
  const char *l = inv.line;
  size_t n = inv.line_len;
#define IS(w) (n == sizeof(w) - 1 && memcmp(l, w, n) == 0)
  static const char echo[] = "demo.echo --text ";
  if (n >= sizeof echo - 1 && memcmp(l, echo, sizeof echo - 1) == 0) {
    return respond(c, ev->id, CNV_OK, CNV_DONE_RAN, l + sizeof echo - 1, n - (sizeof echo - 1));
  }
  if (n > 4 && memcmp(l, "big ", 4) == 0) {
    static uint8_t big[1u << 16];
    size_t k = 0; /* the line is not NUL-terminated: read its digits only */
    for (size_t i = 4; i < n && l[i] >= '0' && l[i] <= '9'; i++) k = k * 10u + (size_t)(l[i] - '0');
    if (k > sizeof big) k = sizeof big;
    memset(big, 'x', k);
    return respond(c, ev->id, CNV_OK, CNV_DONE_RAN, big, k);
  }
  if (IS("fail")) return respond(c, ev->id, CNV_ENOTSUP, CNV_DONE_RAN, "failed", 6);
  if (IS("handler-full")) return respond(c, ev->id, CNV_EFULL, CNV_DONE_RAN, NULL, 0); /* ran */
  if (IS("busy")) return respond(c, ev->id, CNV_EFULL, -1, NULL, 0);                   /* refused: never ran */
  if (IS("hold")) {
    if (c->n_held == FAKE_MAX_HELD) return false;
    c->held[c->n_held++] = ev->id;
    return true;
  }
  if (IS("slow")) {
    if (c->n_slow == FAKE_MAX_HELD) return false;
    c->slow[c->n_slow++] = ev->id;
    return true;
  }
  if (IS("release")) return release_held(c) && respond(c, ev->id, CNV_OK, CNV_DONE_RAN, NULL, 0);
  if (IS("shutdown")) {
    c->closing = true;
    return seal(c, CNV_MSG_SHUTDOWN, 0, NULL, 0) && send_all(c) && release_held(c) &&
           respond(c, ev->id, CNV_OK, CNV_DONE_RAN, NULL, 0);
  }
  if (IS("error")) {
    c->closing = true;
    return cnv_session_fail(c->s, CNV_ERT_DENY_REVOKED) == CNV_OK;
  }
  if (IS("answer-close")) {
    c->closing = true;
    return release_held(c) && respond(c, ev->id, CNV_OK, CNV_DONE_RAN, NULL, 0);
  }
  if (IS("forge-id")) return respond(c, ev->id ^ (UINT64_C(1) << 40), CNV_OK, CNV_DONE_RAN, NULL, 0);
  if (IS("garbage")) {
    c->closing = true;
    static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    memcpy(c->out + c->out_len, junk, sizeof junk - 1);
    c->out_len += sizeof junk - 1;
    return true;
  }
  if (IS("drop")) {
    c->closing = true;
    return true;
  }
#undef IS
  return respond(c, ev->id, CNV_ERT_DENY_UNKNOWN_CAPABILITY, -1, NULL, 0);
}

static bool on_event(conn *c, const cnv_session_event *ev) {
  if (ev->kind == CNV_SESSION_EV_AUTH) {
    if (c->f->auth_fail != CNV_OK) {
      c->closing = true;
      return cnv_session_fail(c->s, c->f->auth_fail) == CNV_OK;
    }
    return cnv_session_accept(c->s) == CNV_OK;
  }
  if (ev->kind != CNV_SESSION_EV_MESSAGE) return false;
  if (ev->type == CNV_MSG_INVOCATION) return on_invoke(c, ev);
  if (ev->type == CNV_MSG_CANCEL) {
    c->f->cancels++;
    if (take(c->held, &c->n_held, ev->id) || take(c->slow, &c->n_slow, ev->id)) {
      return respond(c, ev->id, CNV_ERT_CANCELLED, CNV_DONE_CANCELLED, NULL, 0);
    }
    return true;
  }
  return false;
}

static void serve(conn *c) {
  static uint8_t in[1u << 16];
  for (;;) {
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int k = poll(&p, 1, 10000);
    if (k <= 0) return; /* a stuck test ends here rather than hanging */
    ssize_t n = recv(c->fd, in, sizeof in, 0);
    if (n <= 0) return;
    if (c->f->never_answer) continue;
    size_t off = 0;
    while (off < (size_t)n) {
      size_t used = 0;
      cnv_session_event ev;
      cnv_status st = cnv_session_feed(c->s, in + off, (size_t)n - off, now_ns(), &used, &ev);
      off += used;
      if (st == CNV_EAGAIN) break;
      if (st != CNV_OK || !on_event(c, &ev)) {
        c->f->end_status = cnv_session_error(c->s);
        if (pull(c)) (void)send_all(c);
        return;
      }
      if (c->closing) break;
    }
    if (!pull(c) || !send_all(c)) return;
    if (c->closing) return;
  }
}

static void *fake_main(void *arg) {
  fake_server *f = arg;
  int fd = accept(f->lfd, NULL, NULL);
  if (fd < 0) return NULL;
  static conn c; /* one connection at a time per process: the tests run one fake at a time */
  memset(&c, 0, sizeof c);
  c.f = f;
  c.fd = fd;
  cnv_session_config cfg;
  cnv_session_config_default(&cfg, CNV_SESSION_SERVER);
  cfg.secret_key = f->sk;
  cfg.caps.max_concurrent_calls = f->credit ? f->credit : 8;
  if (cnv_session_create(&cfg, now_ns(), &c.s) == CNV_OK) {
    serve(&c);
    cnv_session_destroy(c.s);
  }
  close(fd);
  return NULL;
}

bool fake_start(fake_server *f) {
  if (sodium_init() < 0) return false;
  crypto_sign_keypair(f->pk, f->sk);
  snprintf(f->dir, sizeof f->dir, "/tmp/cnv-client-XXXXXX");
  if (!mkdtemp(f->dir)) return false;
  snprintf(f->path, sizeof f->path, "%s/s", f->dir);
  snprintf(f->address, sizeof f->address, "unix:%s", f->path);
  f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
  if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(f->lfd, 8) != 0) return false;
  f->started = pthread_create(&f->thread, NULL, fake_main, f) == 0;
  return f->started;
}

void fake_stop(fake_server *f) {
  if (f->lfd >= 0) shutdown(f->lfd, SHUT_RDWR); /* wakes an accept that never got a client */
  if (f->started) pthread_join(f->thread, NULL);
  f->started = false;
  if (f->lfd >= 0) close(f->lfd);
  f->lfd = -1;
  unlink(f->path);
  rmdir(f->dir);
}
