/* A raw blocking HTTP/1.1 client for the mcp_http tests: one request per connection
 * (Connection: close), the answer read to the server's close and de-chunked. Every receive
 * has a 20 s limit (SO_RCVTIMEO), so a missing answer fails the test instead of hanging it.
 * Include after <cmocka.h>. */
#ifndef CNV_TEST_MCP_HTTP_CLIENT_H
#define CNV_TEST_MCP_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static inline int dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct timeval tv = {.tv_sec = 20};
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

static inline void send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    assert_true(w > 0);
    p += w;
    n -= (size_t)w;
  }
}

/* Sends a request; extra is more header lines ("Name: value\r\n" each), body may be NULL. */
static inline void send_req(int fd, const char *method, const char *path, const char *extra, const char *body) {
  char head[2048];
  size_t blen = body ? strlen(body) : 0;
  int n = snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
                   "Content-Length: %zu\r\n\r\n",
                   method, path, body ? "Content-Type: application/json\r\n" : "", extra ? extra : "", blen);
  assert_true(n > 0 && (size_t)n < sizeof head);
  send_all(fd, head, (size_t)n);
  if (blen) send_all(fd, body, blen);
}

typedef struct resp {
  int status;
  char head[4096];
  char *body; /* de-chunked, NUL-terminated */
  size_t len;
} resp;

/* Reads everything up to the server's close (requests say Connection: close). */
static inline char *read_all(int fd, size_t *len) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  assert_non_null(b);
  for (;;) {
    if (n + 1024 > cap) {
      cap *= 2;
      b = realloc(b, cap);
      assert_non_null(b);
    }
    ssize_t r = recv(fd, b + n, cap - n - 1, 0);
    assert_true(r >= 0); /* a timeout (-1) is a missing answer */
    if (r == 0) break;
    n += (size_t)r;
  }
  b[n] = '\0';
  *len = n;
  return b;
}

static inline void parse(const char *raw, size_t n, resp *out) {
  memset(out, 0, sizeof *out);
  const char *end = strstr(raw, "\r\n\r\n");
  assert_non_null(end);
  size_t hl = (size_t)(end - raw);
  assert_true(hl < sizeof out->head);
  memcpy(out->head, raw, hl);
  assert_int_equal(sscanf(raw, "HTTP/1.1 %d", &out->status), 1);
  const char *p = end + 4;
  size_t rest = n - (size_t)(p - raw);
  out->body = malloc(rest + 1);
  assert_non_null(out->body);
  if (strcasestr(out->head, "Transfer-Encoding: chunked")) {
    while (p < raw + n) {
      unsigned long sz = strtoul(p, NULL, 16);
      p = strstr(p, "\r\n");
      assert_non_null(p);
      p += 2;
      if (sz == 0) break;
      memcpy(out->body + out->len, p, sz);
      out->len += sz;
      p += sz + 2;
    }
  } else {
    memcpy(out->body, p, rest);
    out->len = rest;
  }
  out->body[out->len] = '\0';
}

static inline void call(uint16_t port, const char *method, const char *path, const char *extra, const char *body,
                        resp *out) {
  int fd = dial(port);
  send_req(fd, method, path, extra, body);
  size_t n;
  char *raw = read_all(fd, &n);
  close(fd);
  parse(raw, n, out);
  free(raw);
}

static inline void resp_free(resp *r) { free(r->body); }

/* The value of a header in r (copied into out), or false. */
static inline bool header(const resp *r, const char *name, char *out, size_t cap) {
  char key[64];
  snprintf(key, sizeof key, "\r\n%s:", name);
  const char *p = strcasestr(r->head, key);
  if (!p) return false;
  p += strlen(key);
  while (*p == ' ') p++;
  size_t n = strcspn(p, "\r\n");
  if (n >= cap) return false;
  memcpy(out, p, n);
  out[n] = '\0';
  return true;
}

#endif
