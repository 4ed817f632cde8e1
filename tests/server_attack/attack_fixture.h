/* Shared by the server attack tests (tests/server_attack): descriptor counts, waits with a
 * generous upper bound (an outcome that must happen at all, never a speed), a raw client
 * over a socket the test made itself, and frame headers written by hand. Include after
 * <cmocka.h>; link tests/support/forge.c. */
#ifndef CNV_TEST_ATTACK_FIXTURE_H
#define CNV_TEST_ATTACK_FIXTURE_H

#include <dirent.h>
#include <poll.h>
#include <time.h>

#include "server/srv_fixture.h"
#include "support/fd_count.h"

#define AT_MS 1000000ull
/* How long an outcome that must happen may take before the test calls it missing: far above
 * every timeout the tests configure, so a slow sanitized machine does not fail them. */
#define AT_EVENTUALLY_NS (8000ull * AT_MS)

/* Open descriptors of this process. */
static inline int at_fd_count(void) {
  int n = tfd_count();
  assert_true(n >= 0);
  return n;
}

/* The process's open descriptors once libuv and libsodium have made their process-wide ones
 * (libuv's signal pipe and a /dev/null it keeps, opened by the first loop and never closed):
 * a server and runtime are brought up and down once first. */
static inline int at_fd_baseline(void) {
  static int warmed;
  if (!warmed) {
    cnv_runtime_config rc = sf_rt_config(1);
    sf t;
    sf_up(&t, &rc, NULL, NULL, 0, "tcp");
    sc_client c;
    sf_client(&t, &c, 1, "t.*");
    sc_close(&c);
    sf_down(&t);
    warmed = 1;
  }
  return at_fd_count();
}

/* Prints each open descriptor and what it is (for a count that does not match). */
static inline void at_fd_dump(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[300], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    print_message("fd %s -> %s\n", e->d_name, target);
  }
  closedir(d);
}

/* Asserts that the process has `before` descriptors open, listing them when not. */
static inline void at_expect_fds(int before) {
  int now = at_fd_count();
  if (now != before) at_fd_dump();
  assert_int_equal(now, before);
}

static inline void at_sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Waits until the server's figures satisfy pred, for at most AT_EVENTUALLY_NS; true if they
 * did. */
static inline bool at_eventually(sf *t, bool (*pred)(const cnv_server_stats *)) {
  uint64_t end = cnv_runtime_now_ns() + AT_EVENTUALLY_NS;
  for (;;) {
    cnv_server_stats st = sf_stats(t);
    if (pred(&st)) return true;
    if (cnv_runtime_now_ns() > end) return false;
    at_sleep_ms(2);
  }
}

static inline bool at_none_open(const cnv_server_stats *s) { return s->sessions_open == 0; }

/* True once the server closed fd (end of stream or reset), reading and dropping whatever it
 * sent before; false if it is still open after `ms` milliseconds. */
static inline bool at_closed_within(int fd, unsigned ms) {
  uint64_t end = cnv_runtime_now_ns() + (uint64_t)ms * AT_MS;
  for (;;) {
    uint64_t now = cnv_runtime_now_ns();
    if (now > end) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, (int)((end - now) / AT_MS) + 1);
    if (r <= 0) continue;
    uint8_t b[4096];
    ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return true;
  }
}

/* A client session over a socket the test connected itself (sc_open without the dial). */
static inline void at_open_fd(sf *t, sc_client *c, int fd, uint8_t key_byte, const char *allow) {
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  sf_token(t, key_byte, allow, &agent, tok, &len);
  struct timeval tv = {20, 0};
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  sc_attach(c, fd, agent.sk, t->server.pk, tok, len);
}

/* A TCP socket to the fixture's loopback address, not yet connected, with a small receive
 * buffer (set before connect so the window stays small). */
static inline int at_tcp_socket(int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  if (rcvbuf > 0) assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
  return fd;
}

static inline int at_tcp_connect(int fd, const char *addr) {
  const char *colon = strrchr(addr, ':');
  struct sockaddr_in s4;
  memset(&s4, 0, sizeof s4);
  s4.sin_family = AF_INET;
  s4.sin_port = htons((uint16_t)atoi(colon + 1));
  s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(fd, (struct sockaddr *)&s4, sizeof s4);
}

/* The server still serves: a new client (agent key_byte) gets `line`, call id, answered CNV_OK. */
static inline void at_serves(sf *t, uint8_t key_byte, uint64_t id, const char *line) {
  sc_client c;
  sf_client(t, &c, key_byte, "t.*");
  sc_msg m = {0};
  sc_call(&c, id, line, &m);
  assert_int_equal(m.status, CNV_OK);
  sc_close(&c);
}

/* Closes with a reset (SO_LINGER 0): the peer vanishes mid-conversation. */
static inline void at_reset(sc_client *c) {
  struct linger lg = {1, 0};
  if (c->fd >= 0) assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  sc_close(c);
}

#endif
