/* Hostile input against the real server over real sockets (issue 15, "Bad input and
 * faults"): garbage before, during and after the handshake; frames over the limit; a declared
 * length with nothing behind it (slowloris); half-open connections; clients killed mid-frame;
 * 1,000 concurrent sessions; a wrong pinned server key; a stolen token without its key;
 * replayed, reordered, truncated and bit-flipped sealed frames. After every case: the server
 * counted it where it should, closed the connection (no session and no descriptor left), and a
 * normal client still gets its answer; at the end the runtime's books balance (every accepted
 * invocation completed). Timeouts are the fixture's short ones; nothing asserts a duration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "srv_fixture.h"
#include "support/fd_count.h"
#include "support/session_client.h"
#include <cnv/runtime.h>

static srv_fx X;
static int fds0;

static int setup(void **state) {
  (void)state;
  if (!srvfx_start(&X, NULL, false, 0)) return -1;
  /* One session first: what the server opens once, on its first connection, stays open. */
  if (!srvfx_echo_works(&X) || !srvfx_wait_closed(&X)) return -1;
  fds0 = tfd_count();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return srvfx_stop(&X) ? 0 : -1;
}

/* A stats figure at least min. */
typedef struct want {
  size_t off;
  uint64_t min;
} want;
#define FIELD(f) offsetof(cnv_server_stats, f)
#define HS(cause) (offsetof(cnv_server_stats, handshake_failed) + (cause) * sizeof(uint64_t))

static uint64_t stat_at(const cnv_server_stats *s, size_t off) {
  uint64_t v;
  memcpy(&v, (const uint8_t *)s + off, sizeof v);
  return v;
}

static bool reached(const cnv_server_stats *s, const void *arg) {
  const want *w = arg;
  return stat_at(s, w->off) >= w->min;
}

/* Waits until the figure at off grew by n since `before`. */
static void expect_grew(const cnv_server_stats *before, size_t off, uint64_t n) {
  want w = {off, stat_at(before, off) + n};
  if (!srvfx_wait(&X, reached, &w)) {
    cnv_server_stats now = srvfx_stats(&X);
    fail_msg("stat at offset %zu: %llu, wanted at least %llu", off, (unsigned long long)stat_at(&now, off),
             (unsigned long long)w.min);
  }
}

/* After each case: nothing open, no descriptor left, a normal client still served. */
static void server_fine(void) {
  assert_true(srvfx_wait_closed(&X));
  assert_true(srvfx_echo_works(&X));
  assert_true(srvfx_wait_closed(&X));
  assert_int_equal(tfd_count(), fds0);
}

/* The bytes a server sent before closing a connection that failed its handshake: nothing,
 * or one plain ERROR frame carrying a negative code. Returns the code (0 for nothing). */
static int32_t plain_error_code(const uint8_t *b, size_t n) {
  if (n == 0) return 0;
  assert_true(n >= CNV_FRAME_HEADER_SIZE + 4);
  assert_int_equal(b[0], CNV_FRAME_MAGIC);
  assert_int_equal(b[1] & 0x0F, CNV_MSG_ERROR);
  int32_t code = (int32_t)((uint32_t)b[16] | (uint32_t)b[17] << 8 | (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24);
  assert_true(code < 0);
  return code;
}

/* Sends bytes on a fresh connection and waits for the server to close it. */
static void send_and_expect_close(const void *bytes, size_t n, int32_t *code) {
  int fd = raw_connect(&X);
  assert_true(fd >= 0);
  if (n > 0) assert_true(raw_send(fd, bytes, n));
  uint8_t got[256];
  size_t len = 0;
  assert_true(raw_wait_close(fd, got, sizeof got, &len));
  close(fd);
  int32_t c = plain_error_code(got, len);
  if (code) *code = c;
}

static void header(uint8_t h[CNV_FRAME_HEADER_SIZE], unsigned type, unsigned flags, uint32_t len, uint64_t id) {
  h[0] = CNV_FRAME_MAGIC;
  h[1] = (uint8_t)(CNV_FRAME_WIRE_VERSION << 4 | type);
  h[2] = (uint8_t)flags;
  h[3] = (uint8_t)(flags >> 8);
  for (int i = 0; i < 4; i++) h[4 + i] = (uint8_t)(len >> (8 * i));
  for (int i = 0; i < 8; i++) h[8 + i] = (uint8_t)(id >> (8 * i));
}

/* ---- the normal path first: every kind of answer, as the client reads it ----------------- */

typedef struct got {
  int n;
  cnv_status status;
  int32_t done;
} got;

static void got_one(void *ctx, const cnv_client_result *r) {
  got *g = ctx;
  g->n++;
  g->status = r->status;
  g->done = r->done;
}

static void test_answer_kinds(void **state) {
  (void)state;
  cnv_client_config cfg;
  srvfx_client_cfg(&X, &cfg);
  cnv_client *c = NULL;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_OK);
  char buf[64];
  cnv_client_result r;
  assert_int_equal(cnv_client_call(c, "demo.echo --text hi", 19, 0, 10000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.done, CNV_DONE_RAN);
  assert_int_equal(r.result_len, 2);
  assert_int_equal(cnv_client_call(c, "demo.fail", 9, 0, 10000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ENOTSUP);
  assert_int_equal(r.done, CNV_DONE_RAN);
  assert_int_equal(r.result_len, 6);
  /* Refused before acceptance: not in the token, too long a line. */
  assert_int_equal(cnv_client_call(c, "fs.read --path /", 16, 0, 10000, &r, buf, sizeof buf), CNV_OK);
  assert_true(r.status <= CNV_ERT_DENY_PHASE && r.status >= CNV_ERT_DENY_TOO_LONG);
  assert_int_equal(r.done, CNV_CLIENT_DONE_NONE);
  static char longline[1000];
  memcpy(longline, "demo.echo --text ", 17);
  memset(longline + 17, 'l', sizeof longline - 17);
  assert_int_equal(cnv_client_call(c, longline, sizeof longline, 0, 10000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ERT_DENY_TOO_LONG);
  assert_int_equal(r.done, CNV_CLIENT_DONE_NONE);
  /* Expired while running: a 300 ms sleep under a 20 ms deadline. */
  assert_int_equal(cnv_client_call(c, "demo.sleep --ms 300", 19, 20, 10000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ERT_EXPIRED);
  assert_int_equal(r.done, CNV_DONE_EXPIRED);
  /* Cancelled: a long sleep, then its cancel; the answer still comes, once. */
  got g = {0};
  uint64_t id = 0;
  assert_int_equal(cnv_client_submit(c, "demo.sleep --ms 5000", 20, 0, got_one, &g, &id), CNV_OK);
  assert_int_equal(cnv_client_cancel(c, id), CNV_OK);
  for (int i = 0; i < 200 && g.n == 0; i++) assert_int_equal(cnv_client_poll(c, 100, NULL), CNV_OK);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.done, CNV_DONE_CANCELLED);
  cnv_client_close(c);
  server_fine();
}

/* Pipelined calls up to the credit, many times over, with the server rotating its key every
 * few frames: every answer comes, to its own call. */
typedef struct echoed {
  unsigned ok, bad;
  char want[16];
} echoed;

static void check_echo(void *ctx, const cnv_client_result *r) {
  echoed *e = ctx;
  size_t n = strlen(e->want);
  if (r->status == CNV_OK && r->result_len == n && memcmp(r->result, e->want, n) == 0) {
    e->ok++;
  } else {
    e->bad++;
  }
}

static void test_pipelined_with_rekeys(void **state) {
  (void)state;
  srv_fx y;
  cnv_server_config sc;
  srvfx_config(&sc);
  sc.rekey_frames = 3;
  assert_true(srvfx_start(&y, &sc, false, 0));
  cnv_client_config cfg;
  srvfx_client_cfg(&y, &cfg);
  cnv_client *c = NULL;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_OK);
  enum { CALLS = 300 };
  static echoed e[CALLS];
  unsigned sent = 0;
  while (sent < CALLS) {
    char line[64];
    snprintf(e[sent].want, sizeof e[sent].want, "n%u", sent);
    int len = snprintf(line, sizeof line, "demo.echo --text %s", e[sent].want);
    cnv_status st = cnv_client_submit(c, line, (size_t)len, 0, check_echo, &e[sent], NULL);
    if (st == CNV_EFULL) {
      assert_int_equal(cnv_client_poll(c, 1000, NULL), CNV_OK);
      continue;
    }
    assert_int_equal(st, CNV_OK);
    sent++;
  }
  for (int i = 0; i < 1000 && cnv_client_in_flight(c) > 0; i++) assert_int_equal(cnv_client_poll(c, 100, NULL), CNV_OK);
  for (unsigned i = 0; i < CALLS; i++) {
    assert_int_equal(e[i].ok, 1);
    assert_int_equal(e[i].bad, 0);
  }
  cnv_client_close(c);
  assert_true(srvfx_stop(&y));
}

/* A graceful stop with calls in flight: each is answered, then the client reads going away. */
typedef struct stopper {
  srv_fx *x;
  cnv_status st;
} stopper;

static void *stop_server(void *arg) {
  stopper *s = arg;
  s->st = cnv_server_stop(s->x->srv);
  return NULL;
}

static void test_graceful_stop(void **state) {
  (void)state;
  srv_fx y;
  assert_true(srvfx_start(&y, NULL, true, 0));
  cnv_client_config cfg;
  srvfx_client_cfg(&y, &cfg);
  cnv_client *c = NULL;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_OK);
  got g[3] = {{0}, {0}, {0}};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cnv_client_submit(c, "demo.sleep --ms 100", 19, 0, got_one, &g[i], NULL), CNV_OK);
  }
  assert_int_equal(cnv_client_poll(c, 0, NULL), CNV_OK); /* submit only queues: send them */
  /* Each call is in the runtime before the stop begins. */
  want w = {FIELD(accepted_calls), 3};
  assert_true(srvfx_wait(&y, reached, &w));
  stopper s = {&y, CNV_EINVAL};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, stop_server, &s), 0);
  cnv_status st = CNV_OK;
  for (int i = 0; i < 200 && st == CNV_OK; i++) st = cnv_client_poll(c, 100, NULL);
  assert_int_equal(pthread_join(t, NULL), 0);
  cnv_status after = cnv_client_submit(c, "demo.echo --text x", 18, 0, got_one, &g[0], NULL);
  cnv_client_close(c);
  bool books = srvfx_stop(&y); /* before the checks, so a failure leaves nothing behind */
  assert_true(books);
  assert_int_equal(st, CNV_ESESSION_GOING_AWAY);
  assert_int_equal(after, CNV_ESESSION_GOING_AWAY);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(g[i].n, 1);
    assert_int_equal(g[i].status, CNV_OK);
    assert_int_equal(g[i].done, CNV_DONE_RAN);
  }
  /* Everything in flight was answered well before stop_timeout: stop reports success. */
  if (s.st != CNV_OK) fail_msg("cnv_server_stop: %s after every call was answered", cnv_status_name(s.st));
}

/* ---- garbage ------------------------------------------------------------------------- */

static void test_garbage_before_handshake(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  uint8_t zeros[64] = {0};
  uint8_t magic_junk[64];
  memset(magic_junk, 0x5A, sizeof magic_junk);
  magic_junk[0] = CNV_FRAME_MAGIC; /* the right first byte, then a wrong version */
  uint8_t hello_junk[CNV_FRAME_HEADER_SIZE + 3];
  header(hello_junk, CNV_MSG_HELLO, 0, 3, 0); /* a HELLO too short to be one */
  memset(hello_junk + CNV_FRAME_HEADER_SIZE, 0xEE, 3);
  const struct {
    const void *p;
    size_t n;
  } cases[] = {{http, sizeof http - 1}, {zeros, sizeof zeros}, {magic_junk, sizeof magic_junk}, {hello_junk, sizeof hello_junk}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) send_and_expect_close(cases[i].p, cases[i].n, NULL);
  expect_grew(&b, HS(CNV_SERVER_HS_PROTOCOL), 4);
  server_fine();
}

/* The first n bytes of a real HELLO (into out). */
static size_t real_hello(uint8_t *out, size_t cap) {
  cnv_session_config cfg = tsc_client_config(X.agent.sk, X.server_key.pk, X.token, X.token_len);
  size_t n = tsc_hello(&cfg, 1, out, cap);
  assert_true(n > CNV_FRAME_HEADER_SIZE);
  return n;
}

static void test_garbage_during_handshake(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  /* A real HELLO, then junk where AUTH should be. */
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t n = real_hello(hello, sizeof hello);
  for (int variant = 0; variant < 2; variant++) {
    int fd = raw_connect(&X);
    assert_true(fd >= 0);
    /* variant 0: whole HELLO then junk; variant 1: half a HELLO, then junk inside it */
    assert_true(raw_send(fd, hello, variant == 0 ? n : n / 2));
    uint8_t junk[300];
    memset(junk, variant == 0 ? 0xC3 : 0x00, sizeof junk);
    /* The server may close before all of it is taken: a failed send is fine here. */
    (void)raw_send(fd, junk, sizeof junk);
    assert_true(raw_wait_close(fd, NULL, 0, NULL));
    close(fd);
  }
  expect_grew(&b, HS(CNV_SERVER_HS_PROTOCOL), 2);
  server_fine();
}

static void test_garbage_after_handshake(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  raw_sess r;
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  static const char junk[] = "this is not a sealed frame, not even a frame header";
  assert_true(raw_send(r.fd, junk, sizeof junk - 1));
  cnv_status code = 0;
  cnv_status st = raw_sess_drain(&r, &code, NULL);
  raw_sess_close(&r);
  /* The server tells why, sealed, then closes. */
  assert_int_equal(st, CNV_ESESSION_PEER_ERROR);
  assert_int_equal(code, CNV_EFRAME_MAGIC);
  expect_grew(&b, FIELD(protocol_errors), 1);
  server_fine();
}

/* ---- frames over the limit ------------------------------------------------------------ */

static void test_oversized_frames(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  /* Before the handshake: a HELLO declaring 1 GiB. Refused on its header. */
  uint8_t h[CNV_FRAME_HEADER_SIZE + 8];
  header(h, CNV_MSG_HELLO, 0, UINT32_C(1) << 30, 0);
  memset(h + CNV_FRAME_HEADER_SIZE, 0, 8);
  send_and_expect_close(h, sizeof h, NULL);
  expect_grew(&b, HS(CNV_SERVER_HS_PROTOCOL), 1);
  /* After it: a sealed INVOCATION one byte over the negotiated limit plus its tag. */
  raw_sess r;
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  cnv_negotiated neg;
  assert_int_equal(cnv_session_negotiated(r.s, &neg), CNV_OK);
  header(h, CNV_MSG_INVOCATION, CNV_FRAME_FLAG_SEALED, neg.max_message_size + CNV_SESSION_TAG_BYTES + 1u, 1);
  assert_true(raw_send(r.fd, h, sizeof h));
  cnv_status code = 0;
  assert_int_equal(raw_sess_drain(&r, &code, NULL), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(code, CNV_EFRAME_OVERSIZE);
  raw_sess_close(&r);
  expect_grew(&b, FIELD(protocol_errors), 1);
  server_fine();
}

/* ---- slowloris and half-open --------------------------------------------------------- */

static void test_slowloris(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  /* Before the handshake: half of a real HELLO's header, then its whole header (a declared
   * length with no bytes behind it), then nothing at all. The handshake timeout closes each. */
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t n = real_hello(hello, sizeof hello);
  send_and_expect_close(hello, CNV_FRAME_HEADER_SIZE / 2, NULL);
  send_and_expect_close(hello, CNV_FRAME_HEADER_SIZE, NULL);
  send_and_expect_close(hello, n - 1, NULL);
  send_and_expect_close(NULL, 0, NULL);
  expect_grew(&b, HS(CNV_SERVER_HS_TIMEOUT), 4);
  /* After it: a sealed frame's header and a few bytes of it. The idle timeout closes it. */
  uint8_t h[CNV_FRAME_HEADER_SIZE];
  raw_sess r;
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  header(h, CNV_MSG_INVOCATION, CNV_FRAME_FLAG_SEALED, 300, 1);
  assert_true(raw_send(r.fd, h, sizeof h));
  assert_true(raw_send(r.fd, "abcdefgh", 8));
  assert_true(raw_wait_close(r.fd, NULL, 0, NULL));
  raw_sess_close(&r);
  expect_grew(&b, FIELD(idle_closed), 1);
  server_fine();
}

static void test_half_open(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  /* Connected, then our write side shut at once: the server sees the end and closes. */
  int fd = raw_connect(&X);
  assert_true(fd >= 0);
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  assert_true(raw_wait_close(fd, NULL, 0, NULL));
  close(fd);
  expect_grew(&b, HS(CNV_SERVER_HS_CLOSED), 1);
  /* A ready session with a call in flight whose write side shuts: the call is not lost (it
   * completes in the runtime: the books are checked at teardown) and the server closes. */
  raw_sess r;
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  uint8_t f[512];
  size_t n = 0;
  assert_true(raw_seal_invoke(&r, 7, "demo.sleep --ms 30", f, sizeof f, &n));
  assert_true(raw_send(r.fd, f, n));
  assert_int_equal(shutdown(r.fd, SHUT_WR), 0);
  cnv_status code = 0;
  unsigned responses = 0;
  cnv_status st = raw_sess_drain(&r, &code, &responses);
  assert_true(st == CNV_ECLIENT_DISCONNECTED || st == CNV_ESESSION_PEER_ERROR || st == CNV_ESESSION_CLOSED);
  raw_sess_close(&r);
  /* A client that sends calls and never reads their answers, then goes: the server's write
   * bound stops it reading more; nothing grows without bound, and it closes. */
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  static char line[3000];
  memcpy(line, "demo.echo --text ", 17);
  memset(line + 17, 'z', sizeof line - 18);
  static uint8_t big[4096];
  for (uint64_t id = 1; id <= 32; id++) {
    assert_true(raw_seal_invoke(&r, id, line, big, sizeof big, &n));
    assert_true(raw_send(r.fd, big, n));
  }
  raw_sess_close(&r);
  server_fine();
}

/* ---- clients killed mid-frame -------------------------------------------------------- */

/* Forks a child that writes the first `half` bytes of frame on fd and dies. */
static void die_mid_frame(int fd, const uint8_t *frame, size_t half) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    ssize_t k = write(fd, frame, half);
    _exit(k == (ssize_t)half ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_killed_mid_frame(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  /* Mid-HELLO. */
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t n = real_hello(hello, sizeof hello);
  int fd = raw_connect(&X);
  assert_true(fd >= 0);
  die_mid_frame(fd, hello, n / 2);
  close(fd); /* the child's copy died with it; now no one holds the connection */
  expect_grew(&b, HS(CNV_SERVER_HS_CLOSED), 1);
  /* Mid-INVOCATION, in a ready session, with an earlier call in flight. */
  raw_sess r;
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  uint8_t f1[512], f2[512];
  size_t n1 = 0, n2 = 0;
  assert_true(raw_seal_invoke(&r, 1, "demo.sleep --ms 20", f1, sizeof f1, &n1));
  assert_true(raw_seal_invoke(&r, 2, "demo.echo --text cut", f2, sizeof f2, &n2));
  assert_true(raw_send(r.fd, f1, n1));
  die_mid_frame(r.fd, f2, n2 / 2);
  raw_sess_close(&r);
  server_fine();
  cnv_server_stats a = srvfx_stats(&X);
  assert_true(a.invocations >= b.invocations + 1);
}

/* ---- 1,000 concurrent sessions ------------------------------------------------------- */

#define MANY 1000

static void count_done(void *ctx, const cnv_client_result *r) {
  unsigned *n = ctx;
  if (r->status == CNV_OK && r->result_len == 1 && r->result[0] == 'k') (*n)++;
}

static void test_thousand_sessions(void **state) {
  (void)state;
  struct rlimit rl;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
  /* Both ends live in this process: MANY client sockets and MANY accepted ones, plus spare. */
  rlim_t need = 2 * MANY + 256;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
    print_message("skipped: RLIMIT_NOFILE hard limit %llu is below the %llu descriptors 1,000 sessions need\n",
                  (unsigned long long)rl.rlim_max, (unsigned long long)need);
    skip();
  }
  rlim_t old = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
  srv_fx big;
  cnv_server_config sc;
  srvfx_config(&sc);
  sc.max_sessions = MANY + 16;
  sc.max_sessions_per_peer = MANY + 16;
  sc.handshake_timeout_ms = 30000;
  sc.idle_timeout_ms = 60000;
  assert_true(srvfx_start(&big, &sc, false, MANY + 16));
  assert_true(srvfx_echo_works(&big));
  assert_true(srvfx_wait_closed(&big));
  int fds = tfd_count();
  static cnv_client *c[MANY];
  cnv_client_config cfg;
  srvfx_client_cfg(&big, &cfg);
  cfg.max_in_flight = 1;
  cfg.send_buffer = 0;
  for (int i = 0; i < MANY; i++) {
    cnv_status st = cnv_client_connect(&cfg, &c[i]);
    if (st != CNV_OK) fail_msg("session %d: %s", i, cnv_status_name(st));
  }
  cnv_server_stats s = srvfx_stats(&big);
  assert_int_equal(s.sessions_ready, MANY);
  unsigned done = 0;
  for (int i = 0; i < MANY; i++) {
    assert_int_equal(cnv_client_submit(c[i], "demo.echo --text k", 18, 0, count_done, &done, NULL), CNV_OK);
  }
  for (int i = 0; i < MANY; i++) {
    for (int k = 0; k < 1000 && cnv_client_in_flight(c[i]) > 0; k++) {
      assert_int_equal(cnv_client_poll(c[i], 100, NULL), CNV_OK);
    }
  }
  assert_int_equal(done, MANY);
  for (int i = 0; i < MANY; i++) cnv_client_close(c[i]);
  assert_true(srvfx_wait_closed(&big));
  s = srvfx_stats(&big);
  assert_int_equal(s.handshakes, MANY + 1);
  assert_int_equal(s.responses, MANY + 1);
  assert_int_equal(tfd_count(), fds);
  assert_true(srvfx_stop(&big));
  rl.rlim_cur = old;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* ---- keys and tokens ------------------------------------------------------------------ */

static void test_wrong_server_key(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  tkey other;
  tkey_make(&other, 0xB0);
  cnv_client_config cfg;
  srvfx_client_cfg(&X, &cfg);
  cfg.server_pk = other.pk;
  cnv_client *c = NULL;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ESESSION_SERVER_KEY);
  assert_null(c);
  assert_true(srvfx_wait_closed(&X));
  cnv_server_stats a = srvfx_stats(&X);
  assert_int_equal(a.handshakes, b.handshakes);
  server_fine();
}

static void test_stolen_token(void **state) {
  (void)state;
  cnv_server_stats b = srvfx_stats(&X);
  tkey thief;
  tkey_make(&thief, 0xB1);
  cnv_client_config cfg;
  srvfx_client_cfg(&X, &cfg);
  /* The thief proves its own key: the token names another holder. */
  cfg.secret_key = thief.sk;
  cnv_client *c = NULL;
  cnv_status st = cnv_client_connect(&cfg, &c);
  assert_null(c);
  if (st >= 0 || st == CNV_ECLIENT_TIMEOUT || st == CNV_ECLIENT_DISCONNECTED)
    fail_msg("thief with its own key: %s", cnv_status_name(st));
  expect_grew(&b, HS(CNV_SERVER_HS_TOKEN), 1);
  /* The thief claims the holder's public key, signing with its own seed: the proof fails. */
  uint8_t forged_sk[CNV_SESSION_SECRET_BYTES];
  memcpy(forged_sk, thief.sk, 32);
  memcpy(forged_sk + 32, X.agent.pk, 32);
  raw_sess r;
  st = raw_sess_open(&r, &X, forged_sk, NULL, 0);
  raw_sess_close(&r);
  if (st >= 0 || st == CNV_ECLIENT_TIMEOUT) fail_msg("thief claiming the holder's key: %s", cnv_status_name(st));
  cnv_server_stats a = srvfx_stats(&X);
  assert_int_equal(a.handshakes, b.handshakes);
  server_fine();
}

/* ---- tampered sealed frames ----------------------------------------------------------- */

/* Opens a session, sends what `mutate` makes of two sealed calls, expects the server's
 * ERROR(CNV_ESESSION_OPEN) and the close. */
typedef void (*mutator)(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb);

static void tampered(mutator m) {
  cnv_server_stats before = srvfx_stats(&X);
  raw_sess r;
  assert_int_equal(raw_sess_open(&r, &X, NULL, NULL, 0), CNV_OK);
  uint8_t a[512], b[512];
  size_t na = 0, nb = 0;
  assert_true(raw_seal_invoke(&r, 1, "demo.echo --text a", a, sizeof a, &na));
  assert_true(raw_seal_invoke(&r, 2, "demo.echo --text b", b, sizeof b, &nb));
  m(&r, a, na, b, nb);
  cnv_status code = 0;
  cnv_status st = raw_sess_drain(&r, &code, NULL);
  raw_sess_close(&r);
  assert_int_equal(st, CNV_ESESSION_PEER_ERROR);
  assert_int_equal(code, CNV_ESESSION_OPEN);
  expect_grew(&before, FIELD(protocol_errors), 1);
  server_fine();
}

static void m_replay(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb) {
  (void)b, (void)nb;
  assert_true(raw_send(r->fd, a, na));
  assert_true(raw_send(r->fd, a, na));
}
static void m_reorder(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb) {
  assert_true(raw_send(r->fd, b, nb));
  assert_true(raw_send(r->fd, a, na));
}
static void m_truncate(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb) {
  (void)b, (void)nb;
  a[4] = (uint8_t)(a[4] - 1); /* one byte shorter, and so declared */
  assert_true(raw_send(r->fd, a, na - 1));
}
static void m_flip_payload(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb) {
  (void)b, (void)nb;
  a[CNV_FRAME_HEADER_SIZE + 3] ^= 0x01;
  assert_true(raw_send(r->fd, a, na));
}
static void m_flip_tag(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb) {
  (void)b, (void)nb;
  a[na - 1] ^= 0x80;
  assert_true(raw_send(r->fd, a, na));
}
static void m_flip_header(raw_sess *r, uint8_t *a, size_t na, uint8_t *b, size_t nb) {
  (void)b, (void)nb;
  a[8] ^= 0x04; /* the correlation id: authenticated as associated data */
  assert_true(raw_send(r->fd, a, na));
}

static void test_replayed_frame(void **state) {
  (void)state;
  tampered(m_replay);
}
static void test_reordered_frames(void **state) {
  (void)state;
  tampered(m_reorder);
}
static void test_truncated_frame(void **state) {
  (void)state;
  tampered(m_truncate);
}
static void test_bit_flipped_frames(void **state) {
  (void)state;
  tampered(m_flip_payload);
  tampered(m_flip_tag);
  tampered(m_flip_header);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_answer_kinds),
      cmocka_unit_test(test_pipelined_with_rekeys),
      cmocka_unit_test(test_graceful_stop),
      cmocka_unit_test(test_garbage_before_handshake),
      cmocka_unit_test(test_garbage_during_handshake),
      cmocka_unit_test(test_garbage_after_handshake),
      cmocka_unit_test(test_oversized_frames),
      cmocka_unit_test(test_slowloris),
      cmocka_unit_test(test_half_open),
      cmocka_unit_test(test_killed_mid_frame),
      cmocka_unit_test(test_wrong_server_key),
      cmocka_unit_test(test_stolen_token),
      cmocka_unit_test(test_replayed_frame),
      cmocka_unit_test(test_reordered_frames),
      cmocka_unit_test(test_truncated_frame),
      cmocka_unit_test(test_bit_flipped_frames),
      cmocka_unit_test(test_thousand_sessions),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
