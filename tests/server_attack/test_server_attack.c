/* Attacks on the server over real sockets (loopback TCP, temporary unix sockets): descriptor
 * exhaustion at accept, a client that never reads, slow and partial frames before and after
 * the handshake, a client that ignores its credit, garbage after a valid handshake, peers that
 * vanish with calls in flight, a stop in the middle of handshakes and calls, per-peer counts
 * under odd close orders, and a connection flood. Each test asserts the secure behaviour;
 * waits have generous upper bounds (AT_EVENTUALLY_NS) for outcomes that must happen at all. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "server/srv_internal.h"
#include "server_attack/attack_fixture.h"
#include "session/session_internal.h"

static rtf_gate gate;

#define BLOB_BYTES 16000u
/* A large result: BLOB_BYTES of 'x' (filled once by setup, before any worker reads it). */
static uint8_t blob[BLOB_BYTES];
static cnv_status h_blob(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  return cnv_runtime_result_write(r, blob, sizeof blob);
}

static const rtf_handler handlers[] = {
    {"t.echo", CNV_DURATION_INTERACTIVE, rtf_echo, NULL},
    {"t.gate", CNV_DURATION_USER_INITIATED, rtf_gate_answer, &gate},
    {"t.blob", CNV_DURATION_INTERACTIVE, h_blob, NULL},
};
#define N_HANDLERS (sizeof handlers / sizeof handlers[0])

static int setup(void **state) {
  (void)state;
  rtf_gate_init(&gate);
  memset(blob, 'x', sizeof blob);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rtf_gate_destroy(&gate);
  return 0;
}

static void gate_reset(void) {
  pthread_mutex_lock(&gate.mu);
  gate.open = 0;
  gate.entered = 0;
  pthread_mutex_unlock(&gate.mu);
}

static void up(sf *t, uint32_t workers, const cnv_server_config *scfg, const char *where) {
  cnv_runtime_config rc = sf_rt_config(workers);
  rc.max_result = 16384; /* t.blob fits */
  sf_up(t, &rc, scfg, handlers, N_HANDLERS, where);
}

static cnv_server_config cfg_default(void) {
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  return cfg;
}

/* ---- descriptor exhaustion at accept ---- */

/* CPU time of loop 0's thread (the one that accepts), in ns. */
static uint64_t loop0_cpu_ns(sf *t) {
  clockid_t cid;
  assert_int_equal(pthread_getcpuclockid(t->srv->loops[0].thread, &cid), 0);
  struct timespec ts;
  assert_int_equal(clock_gettime(cid, &ts), 0);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* accept(2) failing with EMFILE while a connection waits in the backlog must not make the
 * accepting loop spin (a level-triggered readable listener retried at once, forever): over
 * half a second of wall time the loop may use at most a fifth of it. The waiting connection
 * is either refused (closed) or served; once descriptors are free again a new one is served,
 * and nothing is left open. lose_spare: the server's spare descriptor is gone first (as when
 * another thread takes the number it freed, or none was free at start). */
static void emfile_case(bool lose_spare) {
  int fds_before = at_fd_baseline();
  sf t;
  up(&t, 1, NULL, "tcp");
  if (lose_spare && t.srv->spare_fd >= 0) {
    /* loop 0 reads it only when accept fails, and nothing is pending yet */
    close(t.srv->spare_fd);
    t.srv->spare_fd = -1;
  }
  int cl = at_tcp_socket(0);
  /* lower the soft limit to just above the highest descriptor, then use up what is left */
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  int maxfd = 0;
  for (int fd = 0; fd < 4096; fd++) {
    if (fcntl(fd, F_GETFD) != -1) maxfd = fd;
  }
  struct rlimit low = old;
  low.rlim_cur = (rlim_t)maxfd + 8;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  static int fill[4096];
  int nfill = 0;
  for (;;) {
    int fd = dup(cl);
    if (fd < 0) break;
    assert_true(nfill < 4096);
    fill[nfill++] = fd;
  }
  assert_int_equal(errno, EMFILE);
  assert_int_equal(at_tcp_connect(cl, t.addr), 0); /* the kernel completes it; accept fails */
  at_sleep_ms(50);
  uint64_t c0 = loop0_cpu_ns(&t), w0 = cnv_runtime_now_ns();
  at_sleep_ms(500);
  uint64_t c1 = loop0_cpu_ns(&t), w1 = cnv_runtime_now_ns();
  for (int i = 0; i < nfill; i++) close(fill[i]);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  uint64_t cpu = c1 - c0, wall = w1 - w0;
  print_message("loop 0 used %llu ms of CPU in %llu ms while accept failed with EMFILE (spare %s)\n",
                (unsigned long long)(cpu / AT_MS), (unsigned long long)(wall / AT_MS), lose_spare ? "lost" : "kept");
  /* the recovery and the teardown first, so nothing is left behind if the spin is found */
  sc_client c;
  at_open_fd(&t, &c, cl, 1, "t.*");
  cnv_status waiting = sc_handshake(&c); /* CNV_OK (served) or CNV_EIO (refused) */
  sc_close(&c);
  assert_true(at_eventually(&t, at_none_open));
  at_serves(&t, 2, 1, "t.echo after");
  sf_down(&t);
  at_expect_fds(fds_before);
  assert_true(waiting == CNV_OK || waiting == CNV_EIO);
  assert_true(cpu < wall / 5);
}

static void test_emfile_accept_no_spin(void **state) {
  (void)state;
  emfile_case(false);
}

/* The spare descriptor is a single chance: once it could not be reopened, EMFILE must still
 * not spin (back off: stop polling the listener for a while, or keep retrying the spare). */
static void test_emfile_without_spare_no_spin(void **state) {
  (void)state;
  emfile_case(true);
}

/* ---- unix socket paths ---- */

/* A second server asked to listen on the path of a live one must fail (CNV_ESERVER_LISTEN),
 * not unlink the live socket and take its clients; and its destroy must not remove the first
 * server's socket file. */
static void test_unix_path_of_live_server(void **state) {
  (void)state;
  sf t;
  up(&t, 1, NULL, "unix");
  cnv_server_config cfg = cfg_default();
  cfg.secret_key = t.server.sk;
  cnv_server *second = NULL;
  assert_int_equal(cnv_server_create(&cfg, t.f.rt, &second), CNV_OK);
  cnv_status st = cnv_server_listen(second, t.addr);
  cnv_server_destroy(second);
  /* whatever happened, the first server must still be reachable at its address */
  int fd = sc_dial(t.addr);
  bool reached = fd >= 0;
  if (reached) close(fd);
  sf_down(&t);
  assert_int_equal(st, CNV_ESERVER_LISTEN);
  assert_true(reached);
}

/* ---- a client that never reads ---- */

/* A client fills its credit with calls whose results are large (64 x 16 KB, several times
 * what a unix socket buffers) and never reads a byte. The server's memory for it stays bounded
 * (two output buffers, the session's call records), but the session must not be held forever:
 * with its output stuck and nothing arriving, a timeout (idle, or one on write progress) has
 * to close it, or a few such clients per peer hold max_sessions and the runtime's agents. */
static void test_never_reading_client_is_closed(void **state) {
  (void)state;
  cnv_server_config cfg = cfg_default();
  cfg.idle_timeout_ms = 200;
  sf t;
  up(&t, 2, &cfg, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  for (uint64_t id = 0; id < 64; id++) sc_invoke(&c, id, "t.blob", 0);
  bool closed = at_eventually(&t, at_none_open);
  cnv_server_stats st = sf_stats(&t);
  print_message("never-reading client: closed=%d sessions_open=%llu responses=%llu bytes_out=%llu idle_closed=%llu\n",
                closed, (unsigned long long)st.sessions_open, (unsigned long long)st.responses,
                (unsigned long long)st.bytes_out, (unsigned long long)st.idle_closed);
  sc_close(&c);
  assert_true(at_eventually(&t, at_none_open));
  sf_down(&t);
  assert_true(closed);
}

/* ---- slow and partial frames ---- */

/* The client's HELLO, whole, as its session pulls it. */
static size_t hello_bytes(sf *t, uint8_t *out, size_t cap) {
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  sf_token(t, 9, "t.*", &agent, tok, &len);
  cnv_session_config cfg = tsc_client_config(agent.sk, t->server.pk, tok, len);
  size_t w = tsc_hello(&cfg, cnv_runtime_now_ns(), out, cap);
  assert_true(w > CNV_FRAME_HEADER_SIZE + 1);
  return w;
}

static bool hs_timeouts_2(const cnv_server_stats *s) {
  return s->handshake_failed[CNV_SERVER_HS_TIMEOUT] >= 2 && s->sessions_open == 0;
}

/* Before READY: a HELLO header declaring its length with none of the payload behind it, and
 * a HELLO sent one byte every 50 ms, are both closed at handshake_timeout. */
static void test_handshake_slowloris(void **state) {
  (void)state;
  cnv_server_config cfg = cfg_default();
  cfg.handshake_timeout_ms = 200;
  sf t;
  up(&t, 1, &cfg, "tcp");
  uint8_t hello[1024];
  size_t n = hello_bytes(&t, hello, sizeof hello);
  /* the header and one byte, then nothing */
  int a = sc_dial(t.addr);
  assert_true(a >= 0);
  assert_int_equal(send(a, hello, CNV_FRAME_HEADER_SIZE + 1, MSG_NOSIGNAL), CNV_FRAME_HEADER_SIZE + 1);
  assert_true(at_closed_within(a, (unsigned)(AT_EVENTUALLY_NS / AT_MS)));
  close(a);
  /* one byte at a time: the connection must close before the HELLO is complete (n bytes at 50
   * ms each take far longer than the timeout) */
  int b = sc_dial(t.addr);
  assert_true(b >= 0);
  assert_true(n * 50 > 4 * cfg.handshake_timeout_ms);
  bool closed = false;
  for (size_t i = 0; i < n - 1 && !closed; i++) {
    if (send(b, hello + i, 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    closed = at_closed_within(b, 50);
  }
  close(b);
  assert_true(closed);
  assert_true(at_eventually(&t, hs_timeouts_2));
  sf_down(&t);
}

/* Sends the first `n` bytes of a sealed INVOCATION (an incomplete frame). */
static void send_partial_invocation(sc_client *c, size_t line_len, size_t n) {
  char line[4000];
  assert_true(line_len < sizeof line);
  memset(line, 'a', line_len);
  memcpy(line, "t.echo ", 7);
  line[line_len] = '\0';
  uint8_t payload[4096];
  size_t plen = 0;
  cnv_session_invoke inv = {.line = line, .line_len = line_len};
  assert_int_equal(cnv_session_invoke_encode(&inv, payload, sizeof payload, &plen), CNV_OK);
  static uint8_t out[CNV_SESSION_SEAL_BOUND(4096)];
  size_t w = 0;
  assert_int_equal(
      cnv_session_seal(c->s, CNV_MSG_INVOCATION, 1, payload, plen, cnv_runtime_now_ns(), out, sizeof out, &w),
      CNV_OK);
  assert_true(n < w);
  sc_send_all(c, out, n);
}

static bool idle_closed_1(const cnv_server_stats *s) { return s->idle_closed >= 1 && s->sessions_open == 0; }

/* After READY: a frame header declaring a length with no bytes behind it does not keep the
 * session alive past idle_timeout (ERROR CNV_ESERVER_TIMEOUT, then the close). */
static void test_ready_declared_length_no_bytes(void **state) {
  (void)state;
  cnv_server_config cfg = cfg_default();
  cfg.idle_timeout_ms = 150;
  sf t;
  up(&t, 1, &cfg, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  send_partial_invocation(&c, 3000, CNV_FRAME_HEADER_SIZE + 2);
  sc_msg m = {0};
  assert_int_equal(sc_next(&c, &m), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ESERVER_TIMEOUT);
  sc_close(&c);
  assert_true(at_eventually(&t, idle_closed_1));
  sf_down(&t);
}

/* After READY: a 3 KB frame sent one byte every 40 ms (each byte well inside idle_timeout)
 * must not hold the session open indefinitely: a frame that does not complete within a
 * bounded time is a slowloris. The test gives it ten idle timeouts. */
static void test_ready_frame_drip(void **state) {
  (void)state;
  cnv_server_config cfg = cfg_default();
  cfg.idle_timeout_ms = 150;
  sf t;
  up(&t, 1, &cfg, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  char line[3000];
  memset(line, 'a', sizeof line);
  memcpy(line, "t.echo ", 7);
  uint8_t payload[3100];
  size_t plen = 0;
  cnv_session_invoke inv = {.line = line, .line_len = sizeof line};
  assert_int_equal(cnv_session_invoke_encode(&inv, payload, sizeof payload, &plen), CNV_OK);
  static uint8_t out[CNV_SESSION_SEAL_BOUND(3100)];
  size_t w = 0;
  assert_int_equal(
      cnv_session_seal(c.s, CNV_MSG_INVOCATION, 1, payload, plen, cnv_runtime_now_ns(), out, sizeof out, &w),
      CNV_OK);
  uint64_t end = cnv_runtime_now_ns() + 10ull * cfg.idle_timeout_ms * AT_MS;
  bool closed = false;
  for (size_t i = 0; i < w - 1 && !closed && cnv_runtime_now_ns() < end; i++) {
    if (send(c.fd, out + i, 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    closed = at_closed_within(c.fd, 40);
  }
  cnv_server_stats st = sf_stats(&t);
  print_message("frame drip: closed=%d sessions_open=%llu\n", closed, (unsigned long long)st.sessions_open);
  sc_close(&c);
  assert_true(at_eventually(&t, at_none_open));
  sf_down(&t);
  assert_true(closed);
}

/* ---- credit ---- */

static bool credit_error(const cnv_server_stats *s) { return s->protocol_errors == 1; }

/* A client that ignores its credit (its session's count reset behind its back) and sends
 * max_inflight + 1 calls while none is answered (they wait at the gate): the server ends the
 * session with CNV_ESESSION_CREDIT and never submits the extra call (the four it accepted are
 * cancelled with the session, whether or not they reached a handler). */
static void test_credit_overrun(void **state) {
  (void)state;
  gate_reset();
  cnv_server_config cfg = cfg_default();
  cfg.max_inflight = 4;
  sf t;
  up(&t, 4, &cfg, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  for (uint64_t id = 0; id < 5; id++) {
    c.s->in_flight = 0; /* the lie: the client believes it has credit */
    sc_invoke(&c, id, "t.gate", 0);
  }
  sc_msg m = {0};
  assert_int_equal(sc_next(&c, &m), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ESESSION_CREDIT);
  assert_true(at_eventually(&t, credit_error));
  cnv_server_stats st = sf_stats(&t);
  assert_int_equal(st.accepted_calls, 4); /* the fifth never reached the runtime */
  rtf_gate_open(&gate);
  sc_close(&c);
  assert_true(at_eventually(&t, at_none_open));
  sf_down(&t);
}

/* ---- garbage after a valid handshake ---- */

static bool protocol_errors_2(const cnv_server_stats *s) { return s->protocol_errors == 2 && s->sessions_open == 0; }

/* Random bytes, and a plain (unsealed) frame, after READY: each session ends with a coded
 * ERROR and closes; the server keeps serving. */
static void test_garbage_after_handshake(void **state) {
  (void)state;
  sf t;
  up(&t, 2, NULL, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  uint8_t junk[64];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 37u + 11u);
  sc_send_all(&c, junk, sizeof junk);
  sc_msg m = {0};
  assert_int_equal(sc_next(&c, &m), CNV_ESESSION_PEER_ERROR);
  assert_true(cnv_session_peer_status(c.s) < 0);
  assert_int_equal(sc_next(&c, &m), CNV_EIO); /* then the close */
  sc_close(&c);
  /* a well-formed plain HEARTBEAT frame where a sealed one is due */
  sf_client(&t, &c, 2, "t.*");
  cnv_frame_config fc = {.max_payload = 64};
  uint8_t frame[64];
  size_t fl = 0;
  assert_int_equal(cnv_frame_encode(&fc, CNV_MSG_HEARTBEAT, 0, "hb", 2, frame, sizeof frame, &fl), CNV_OK);
  sc_send_all(&c, frame, fl);
  assert_int_equal(sc_next(&c, &m), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ESESSION_OPEN);
  sc_close(&c);
  assert_true(at_eventually(&t, protocol_errors_2));
  at_serves(&t, 3, 7, "t.echo still");
  sf_down(&t);
}

/* ---- peers that vanish with calls in flight ---- */

/* Clients reset their connections while their calls wait in handlers; the handlers complete
 * afterwards (a worker hands back a completion for a session whose peer is gone). No crash
 * (ASan: no use after free), every session closes, every runtime agent is given back, no
 * descriptor is left. */
static void test_vanish_with_calls_in_flight(void **state) {
  (void)state;
  gate_reset();
  int fds_before = at_fd_baseline();
  sf t;
  up(&t, 4, NULL, "tcp");
  sc_client c[3];
  for (int i = 0; i < 3; i++) {
    sf_client(&t, &c[i], (uint8_t)(i + 1), "t.*");
    for (uint64_t id = 0; id < 4; id++) sc_invoke(&c[i], id, "t.gate", 0);
  }
  rtf_gate_wait_entered(&gate, 4);
  at_reset(&c[0]);
  c[1].fd = (shutdown(c[1].fd, SHUT_RDWR), c[1].fd); /* half-open, then closed */
  sc_close(&c[1]);
  sc_close(&c[2]);
  at_sleep_ms(20); /* let the loop see the resets before the completions (either order is legal) */
  rtf_gate_open(&gate);
  assert_true(at_eventually(&t, at_none_open));
  cnv_runtime_stats rs;
  assert_int_equal(cnv_runtime_stats_get(t.f.rt, &rs), CNV_OK);
  assert_int_equal(rs.agents, 0);
  /* and the server still serves */
  at_serves(&t, 9, 1, "t.echo alive");
  sf_down(&t);
  at_expect_fds(fds_before);
}

/* ---- stop in the middle of handshakes and calls ---- */

static void *stop_thread(void *arg) {
  sf *t = arg;
  return (void *)(intptr_t)cnv_server_stop(t->srv);
}

/* A stop while some connections are mid-handshake (silent, half a HELLO, a whole HELLO and no
 * AUTH) and ready ones have calls in flight: the handshakes are closed, every accepted call
 * is answered, stop returns CNV_OK, and no descriptor is left. */
static void test_stop_mid_handshakes_and_calls(void **state) {
  (void)state;
  gate_reset();
  int fds_before = at_fd_baseline();
  cnv_server_config cfg = cfg_default();
  cfg.io_threads = 2;
  cfg.stop_timeout_ns = RTF_STOP_NS;
  sf t;
  up(&t, 4, &cfg, "tcp");
  uint8_t hello[1024];
  size_t n = hello_bytes(&t, hello, sizeof hello);
  int hs[3];
  for (int i = 0; i < 3; i++) {
    hs[i] = sc_dial(t.addr);
    assert_true(hs[i] >= 0);
  }
  assert_int_equal(send(hs[1], hello, n / 2, MSG_NOSIGNAL), (ssize_t)(n / 2));
  assert_int_equal(send(hs[2], hello, n, MSG_NOSIGNAL), (ssize_t)n);
  sc_client c[2];
  for (int i = 0; i < 2; i++) {
    sf_client(&t, &c[i], (uint8_t)(i + 1), "t.*");
    for (uint64_t id = 0; id < 3; id++) sc_invoke(&c[i], id, "t.gate", 0);
  }
  rtf_gate_wait_entered(&gate, 4);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, stop_thread, &t), 0);
  for (int i = 0; i < 3; i++) {
    assert_true(at_closed_within(hs[i], (unsigned)(AT_EVENTUALLY_NS / AT_MS)));
    close(hs[i]);
  }
  rtf_gate_open(&gate);
  for (int i = 0; i < 2; i++) {
    unsigned answered = 0;
    int shutdown_seen = 0;
    while (answered < 3 || !shutdown_seen) {
      sc_msg m = {0};
      assert_int_equal(sc_next(&c[i], &m), CNV_OK);
      if (m.type == CNV_MSG_SHUTDOWN) {
        shutdown_seen = 1;
      } else {
        assert_int_equal(m.type, CNV_MSG_RESPONSE);
        assert_int_equal(m.status, CNV_OK);
        answered++;
      }
    }
    sc_shutdown(&c[i]);
    sc_msg m = {0};
    assert_int_equal(sc_next(&c[i], &m), CNV_EIO);
    sc_close(&c[i]);
  }
  void *ret = NULL;
  assert_int_equal(pthread_join(th, &ret), 0);
  assert_int_equal((cnv_status)(intptr_t)ret, CNV_OK);
  sf_down(&t);
  at_expect_fds(fds_before);
}

/* ---- per-peer accounting ---- */

/* Sessions of one peer close in every order and every state (ready, mid-handshake, silent and
 * timed out by the server, refused at the limit, reset): after each round the peer's count is
 * back to zero (no underflow, no leak) and the peer gets its full share again. */
static void test_peer_accounting_odd_orders(void **state) {
  (void)state;
  cnv_server_config cfg = cfg_default();
  cfg.max_sessions_per_peer = 3;
  cfg.handshake_timeout_ms = 500; /* times the silent ones out; a loaded box's real handshakes fit */
  cfg.io_threads = 2;
  sf t;
  up(&t, 2, &cfg, "tcp");
  uint8_t hello[1024];
  size_t n = hello_bytes(&t, hello, sizeof hello);
  for (int round = 0; round < 4; round++) {
    sc_client ready;
    sf_client(&t, &ready, (uint8_t)(round + 1), "t.*");
    int mid = sc_dial(t.addr);
    assert_true(mid >= 0);
    assert_int_equal(send(mid, hello, n, MSG_NOSIGNAL), (ssize_t)n);
    int silent = sc_dial(t.addr);
    assert_true(silent >= 0);
    int over = sc_dial(t.addr); /* the fourth: refused */
    assert_true(over >= 0);
    assert_true(at_closed_within(over, (unsigned)(AT_EVENTUALLY_NS / AT_MS)));
    close(over);
    switch (round) {
      case 0: /* ready first, then the others; the silent one is timed out by the server */
        sc_close(&ready);
        close(mid);
        assert_true(at_closed_within(silent, (unsigned)(AT_EVENTUALLY_NS / AT_MS)));
        close(silent);
        break;
      case 1: /* reset in reverse order */
        close(silent);
        close(mid);
        at_reset(&ready);
        break;
      case 2: /* the server times both handshakes out while the ready one stays */
        assert_true(at_closed_within(mid, (unsigned)(AT_EVENTUALLY_NS / AT_MS)));
        assert_true(at_closed_within(silent, (unsigned)(AT_EVENTUALLY_NS / AT_MS)));
        close(mid);
        close(silent);
        sc_close(&ready);
        break;
      default: /* all at once */
        close(mid);
        close(silent);
        sc_close(&ready);
        break;
    }
    assert_true(at_eventually(&t, at_none_open));
    pthread_mutex_lock(&t.srv->peer_lock);
    for (uint32_t i = 0; i <= t.srv->peer_mask; i++) assert_int_equal(t.srv->peers[i].count, 0);
    pthread_mutex_unlock(&t.srv->peer_lock);
  }
  sc_client full[3];
  for (int i = 0; i < 3; i++) sf_client(&t, &full[i], (uint8_t)(20 + i), "t.*");
  for (int i = 0; i < 3; i++) sc_close(&full[i]);
  cnv_server_stats st = sf_stats(&t);
  assert_int_equal(st.refused_per_peer, 4);
  assert_true(at_eventually(&t, at_none_open));
  sf_down(&t);
}

/* ---- a connection flood ---- */

static bool flood_settled(const cnv_server_stats *s) { return s->sessions_open == 0 && s->accepted >= 301; }
/* Every flood connection was taken from the backlog (refused or served) and none is open: a
 * connection still in the backlog would otherwise race the real client for a session. */
static bool flood_drained(const cnv_server_stats *s) { return s->sessions_open == 0 && s->accepted >= 300; }

/* 300 connections opened and abandoned at once against max_sessions 16: the excess is refused
 * at accept, the rest end (closed by the peer or timed out), a real client is served
 * afterwards, and nothing is left open. */
static void test_connection_flood(void **state) {
  (void)state;
  int fds_before = at_fd_baseline();
  cnv_server_config cfg = cfg_default();
  cfg.max_sessions = 16;
  cfg.max_sessions_per_peer = 16;
  cfg.handshake_timeout_ms = 100;
  sf t;
  up(&t, 1, &cfg, "tcp");
  int fl[300];
  for (int i = 0; i < 300; i++) {
    fl[i] = sc_dial(t.addr);
    assert_true(fl[i] >= 0); /* the backlog takes them; the server refuses or times out */
  }
  for (int i = 0; i < 300; i++) close(fl[i]);
  assert_true(at_eventually(&t, flood_drained));
  at_serves(&t, 1, 1, "t.echo after the flood");
  assert_true(at_eventually(&t, flood_settled));
  sf_down(&t);
  at_expect_fds(fds_before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_emfile_accept_no_spin),
      cmocka_unit_test(test_emfile_without_spare_no_spin),
      cmocka_unit_test(test_unix_path_of_live_server),
      cmocka_unit_test(test_never_reading_client_is_closed),
      cmocka_unit_test(test_handshake_slowloris),
      cmocka_unit_test(test_ready_declared_length_no_bytes),
      cmocka_unit_test(test_ready_frame_drip),
      cmocka_unit_test(test_credit_overrun),
      cmocka_unit_test(test_garbage_after_handshake),
      cmocka_unit_test(test_vanish_with_calls_in_flight),
      cmocka_unit_test(test_stop_mid_handshakes_and_calls),
      cmocka_unit_test(test_peer_accounting_odd_orders),
      cmocka_unit_test(test_connection_flood),
  };
  /* CNV_TEST_FILTER: run only the tests matching this cmocka pattern */
  const char *filter = getenv("CNV_TEST_FILTER");
  if (filter) cmocka_set_test_filter(filter);
  return cmocka_run_group_tests(tests, setup, teardown);
}
