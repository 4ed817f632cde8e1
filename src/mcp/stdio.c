/* The stdio transport: newline-delimited JSON-RPC over two descriptors (mcp.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/ignore.h"
#include "mcp_internal.h"

/* How often the loop polls the session when nothing happens (list_changed is noticed by
 * polling the registry generation). */
#define STDIO_TICK_MS 200

typedef struct stdio_out {
  int fd;
  bool failed;
} stdio_out;

/* Writes every byte of iov[0..n) (EINTR retried, partial writes continued, a non-blocking
 * descriptor waited for). False on any other failure. */
static bool write_all(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return false;
        continue;
      }
      return false;
    }
    size_t left = (size_t)w;
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

static void emit_stdio(void *ctx, uint64_t origin, const char *json, size_t len) {
  (void)origin;
  stdio_out *o = ctx;
  if (o->failed) return;
  struct iovec iov[2] = {{.iov_base = (void *)json, .iov_len = len}, {.iov_base = "\n", .iov_len = 1}};
  if (!write_all(o->fd, iov, 2)) o->failed = true;
}

static void handle_line(cnv_mcp_session *s, const char *line, size_t len) {
  if (len > 0 && line[len - 1] == '\r') len--;
  size_t i = 0;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
  if (i == len) return; /* a blank line is no message */
  /* CNV_ESTATE cannot happen: the session is closed only after the loop */
  cnv__ignore_status(cnv_mcp_session_receive(s, line, len, 0));
}

static cnv_status serve(cnv_mcp_session *s, const cnv_mcp_stdio_config *io, size_t max_message, stdio_out *out) {
  size_t cap = max_message + 1; /* a line with its newline; cap bytes without one: too long */
  char *buf = malloc(cap);
  if (!buf) return CNV_ENOMEM;
  size_t fill = 0;
  bool skipping = false; /* inside a line that was too long: drop up to its newline */
  cnv_status st = CNV_OK;
  uint64_t last_poll = cnv_runtime_now_ns();
  for (;;) {
    if (out->failed) {
      st = CNV_EMCP_TRANSPORT;
      break;
    }
    struct pollfd fds[3] = {{.fd = io->in_fd, .events = POLLIN},
                            {.fd = cnv_mcp_session_fd(s), .events = POLLIN},
                            {.fd = io->stop_fd, .events = POLLIN}};
    int r = poll(fds, io->stop_fd >= 0 ? 3 : 2, STDIO_TICK_MS);
    if (r < 0) {
      if (errno == EINTR) continue;
      st = CNV_EMCP_TRANSPORT;
      break;
    }
    if (io->stop_fd >= 0 && fds[2].revents) break;
    /* completions ready, or a tick gone by (so list_changed is noticed even while input
     * keeps arriving) */
    uint64_t now = cnv_runtime_now_ns();
    if (r == 0 || fds[1].revents || now - last_poll >= (uint64_t)STDIO_TICK_MS * 1000000ull) {
      cnv__ignore_status(cnv_mcp_session_poll(s, NULL)); /* only EINVAL */
      last_poll = now;
    }
    if (!fds[0].revents) continue;
    ssize_t n = read(io->in_fd, buf + fill, cap - fill);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      st = CNV_EMCP_TRANSPORT;
      break;
    }
    if (n == 0) {
      if (fill > 0 && !skipping) handle_line(s, buf, fill); /* a last line without "\n" */
      break;
    }
    size_t end = fill + (size_t)n;
    size_t start = 0;
    for (size_t i = fill; i < end; i++) {
      if (buf[i] != '\n') continue;
      if (skipping) {
        skipping = false;
      } else {
        handle_line(s, buf + start, i - start);
      }
      start = i + 1;
    }
    if (skipping) {
      fill = 0; /* still inside the long line */
    } else {
      memmove(buf, buf + start, end - start);
      fill = end - start;
      if (fill == cap) {
        mcp_reply_error(s, 0, NULL, MCP_INVALID_REQUEST, "Invalid Request: message too large");
        fill = 0;
        skipping = true;
      }
    }
  }
  free(buf);
  return st;
}

cnv_status cnv_mcp_serve_stdio(const cnv_mcp_config *cfg, const cnv_mcp_stdio_config *io) {
  if (!cfg || !io || io->in_fd < 0 || io->out_fd < 0) return CNV_EINVAL;
  stdio_out out = {.fd = io->out_fd, .failed = false};
  cnv_mcp_config c = *cfg;
  c.emit = emit_stdio;
  c.emit_ctx = &out;
  cnv_mcp_session *s = NULL;
  cnv_status st = cnv_mcp_session_create(&c, &s);
  if (st != CNV_OK) return st;
  /* A write to a closed pipe must fail with EPIPE, not kill the process: SIGPIPE is blocked
   * on this thread while it serves, and one it raised is taken back before the mask is. */
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  bool masked = pthread_sigmask(SIG_BLOCK, &pipe_set, &old) == 0;
  st = serve(s, io, s->max_message, &out);
  cnv__ignore_status(cnv_mcp_session_close(s, 10000)); /* destroy waits for the rest */
  cnv_mcp_session_destroy(s);
  if (masked) {
    if (!was_pending && sigemptyset(&pending) == 0 && sigpending(&pending) == 0 &&
        sigismember(&pending, SIGPIPE) == 1) {
      struct timespec zero = {0, 0};
      (void)sigtimedwait(&pipe_set, NULL, &zero);
    }
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  return st;
}
