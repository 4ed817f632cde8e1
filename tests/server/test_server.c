/* The server's functional behaviour with real sockets (loopback TCP and temporary unix
 * sockets) and a raw session client: echo, many calls in flight answered out of order, BUSY
 * from a full runtime, CANCEL, deadlines, denial codes, a refused token, revocation on a live
 * session, the session limits and timeouts, agents given back, graceful stop. Nothing here
 * asserts a duration: handlers that must stay in flight wait at a gate the test opens. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/srv_fixture.h"
#include "server/srv_internal.h"

#define MS_FOR_TEST 1000000ull

static rtf_gate gate;

static cnv_status h_fail(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  return CNV_EIO;
}

/* A result of 1000 bytes: the line, then the line's last byte repeated. */
static cnv_status h_big(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  uint8_t buf[1000];
  memset(buf, c->line[c->line_len - 1], sizeof buf);
  memcpy(buf, c->line, c->line_len);
  return cnv_runtime_result_write(r, buf, sizeof buf);
}

#define BLOB_BYTES 16000u
/* A large result: BLOB_BYTES of 'x' (the runtime's max_result must hold it). */
static cnv_status h_blob(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  uint8_t blob[BLOB_BYTES];
  memset(blob, 'x', sizeof blob);
  return cnv_runtime_result_write(r, blob, sizeof blob);
}

static const rtf_handler handlers[] = {
    {"t.echo", CNV_DURATION_INTERACTIVE, rtf_echo, NULL},
    {"t.gate", CNV_DURATION_USER_INITIATED, rtf_gate_answer, &gate},
    {"t.fail", CNV_DURATION_INTERACTIVE, h_fail, NULL},
    {"u.echo", CNV_DURATION_INTERACTIVE, rtf_echo, NULL},
    {"t.big", CNV_DURATION_INTERACTIVE, h_big, NULL},
    {"t.blob", CNV_DURATION_INTERACTIVE, h_blob, NULL},
};
#define N_HANDLERS (sizeof handlers / sizeof handlers[0])

static int setup(void **state) {
  (void)state;
  rtf_gate_init(&gate);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rtf_gate_destroy(&gate);
  return 0;
}

static void up(sf *t, uint32_t workers, const cnv_server_config *scfg, const char *where) {
  cnv_runtime_config rc = sf_rt_config(workers);
  sf_up(t, &rc, scfg, handlers, N_HANDLERS, where);
}

static void expect_result(const sc_msg *m, const char *text) {
  assert_int_equal(m->status, CNV_OK);
  assert_int_equal(m->done, CNV_DONE_RAN);
  assert_int_equal(m->result_len, strlen(text));
  assert_memory_equal(m->result, text, strlen(text));
}

static void echo_over(const char *where) {
  sf t;
  up(&t, 2, NULL, where);
  assert_memory_equal(t.addr, where, strlen(where));
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_msg m;
  sc_call(&c, 7, "t.echo hi", &m);
  expect_result(&m, "t.echo hi");
  sc_call(&c, 8, "t.fail", &m);
  assert_int_equal(m.status, CNV_EIO);
  assert_int_equal(m.done, CNV_DONE_RAN);
  sc_close(&c);
  cnv_server_stats st = sf_stats(&t);
  assert_int_equal(st.handshakes, 1);
  assert_int_equal(st.invocations, 2);
  assert_int_equal(st.accepted_calls, 2);
  assert_int_equal(st.responses, 2);
  sf_down(&t);
}

static void test_echo_tcp(void **state) {
  (void)state;
  echo_over("tcp");
}

static void test_echo_unix(void **state) {
  (void)state;
  echo_over("unix");
}

/* Calls held at the gate are answered after the ones behind them: out of order. */
static void test_out_of_order(void **state) {
  (void)state;
  gate.open = 0;
  gate.entered = 0;
  sf t;
  up(&t, 4, NULL, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_invoke(&c, 1, "t.gate", 0);
  sc_invoke(&c, 2, "t.gate", 0);
  for (uint64_t id = 10; id < 30; id++) sc_invoke(&c, id, "t.echo x", 0);
  sc_msg m;
  for (uint64_t id = 10; id < 30; id++) {
    sc_response(&c, &m);
    assert_true(m.id >= 10 && m.id < 30);
    expect_result(&m, "t.echo x");
  }
  rtf_gate_wait_entered(&gate, 2);
  rtf_gate_open(&gate);
  int seen = 0;
  for (int i = 0; i < 2; i++) {
    sc_response(&c, &m);
    assert_true(m.id == 1 || m.id == 2);
    seen |= 1 << m.id;
    expect_result(&m, "gate");
  }
  assert_int_equal(seen, 6);
  sc_close(&c);
  sf_down(&t);
}

/* A full runtime answers CNV_EFULL (busy), and the call can be retried once room is back. */
static void test_busy(void **state) {
  (void)state;
  gate.open = 0;
  gate.entered = 0;
  cnv_runtime_config rc = sf_rt_config(1);
  rc.queue_capacity = 4;
  sf t;
  sf_up(&t, &rc, NULL, handlers, N_HANDLERS, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  for (uint64_t id = 1; id <= 4; id++) sc_invoke(&c, id, "t.gate", 0);
  sc_invoke(&c, 5, "t.echo busy", 0);
  sc_msg m;
  sc_response(&c, &m);
  assert_int_equal(m.id, 5);
  assert_int_equal(m.status, CNV_EFULL);
  assert_int_equal(m.done, CNV_SESSION_DONE_REFUSED); /* never ran: safe to retry */
  rtf_gate_open(&gate);
  for (int i = 0; i < 4; i++) {
    sc_response(&c, &m);
    expect_result(&m, "gate");
  }
  sc_call(&c, 5, "t.echo busy", &m);
  expect_result(&m, "t.echo busy");
  assert_int_equal(sf_stats(&t).busy, 1);
  sc_close(&c);
  sf_down(&t);
}

/* CANCEL of a queued call completes it as cancelled; a call whose deadline passes while it
 * waits expires; the running one is unaffected. */
static void test_cancel_and_deadline(void **state) {
  (void)state;
  gate.open = 0;
  gate.entered = 0;
  sf t;
  up(&t, 1, NULL, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_invoke(&c, 1, "t.gate", 0);
  rtf_gate_wait_entered(&gate, 1); /* the only worker is held */
  sc_invoke(&c, 2, "t.echo cancelled", 0);
  sc_invoke(&c, 3, "t.echo late", 1); /* 1 ms deadline, and the worker is held past it */
  sc_cancel(&c, 2);
  sc_cancel(&c, 99); /* no such request: nothing happens */
  /* a denied call is answered at once, after the server has read the CANCELs before it */
  sc_msg m;
  sc_call(&c, 4, "u.echo no", &m);
  assert_int_equal(m.status, CNV_ERT_DENY_NOT_ALLOWED);
  /* the server received call 3 before it answered call 4: its deadline is behind us 2 ms on */
  rtf_wait_past(cnv_runtime_now_ns() + 2 * MS_FOR_TEST);
  rtf_gate_open(&gate);
  int seen = 0;
  for (int i = 0; i < 3; i++) {
    sc_response(&c, &m);
    if (m.id == 1) {
      expect_result(&m, "gate");
    } else if (m.id == 2) {
      assert_int_equal(m.done, CNV_DONE_CANCELLED);
      assert_int_equal(m.status, CNV_ERT_CANCELLED);
    } else {
      assert_int_equal(m.id, 3);
      assert_int_equal(m.done, CNV_DONE_EXPIRED);
      assert_int_equal(m.status, CNV_ERT_EXPIRED);
    }
    seen |= 1 << m.id;
  }
  assert_int_equal(seen, 14);
  assert_int_equal(sf_stats(&t).cancels, 2);
  sc_close(&c);
  sf_down(&t);
}

/* Denials answer with their code; nothing runs. */
static void test_denials(void **state) {
  (void)state;
  sf t;
  up(&t, 1, NULL, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_msg m;
  sc_call(&c, 1, "u.echo no", &m);
  assert_int_equal(m.status, CNV_ERT_DENY_NOT_ALLOWED);
  assert_int_equal(m.done, CNV_SESSION_DONE_REFUSED);
  sc_call(&c, 2, "t.nothing", &m);
  assert_int_equal(m.status, CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  sc_call(&c, 3, "T.BAD", &m);
  assert_int_equal(m.status, CNV_ERT_DENY_MALFORMED);
  sc_invoke(&c, 5, "t.echo slow", 600); /* beyond the interactive class's 500 ms limit */
  sc_response(&c, &m);
  assert_int_equal(m.id, 5);
  assert_int_equal(m.status, CNV_ERANGE);
  sc_call(&c, 4, "t.echo ok", &m);
  expect_result(&m, "t.echo ok");
  assert_int_equal(sf_stats(&t).denied, 4);
  sc_close(&c);
  sf_down(&t);
}

/* A token the runtime's roots do not trust ends the handshake with a sealed ERROR carrying the
 * code; a token presented under another key than its holder's is refused too. */
static void test_refused_tokens(void **state) {
  (void)state;
  sf t;
  up(&t, 1, NULL, "tcp");
  tkey stranger, agent;
  tkey_make(&stranger, 0x71);
  cnv_deleg_caveats cav;
  cav_init(&cav);
  cav.swarm = RTF_SWARM;
  assert_int_equal(cav_allow(&cav, "t.*"), CNV_OK);
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  assert_int_equal(mint_for_agent(stranger.sk, 3, &cav, &agent, tok, &len), CNV_OK);
  sc_client c;
  assert_true(sc_open(&c, t.addr, agent.sk, t.server.pk, tok, len));
  assert_int_equal(sc_handshake(&c), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ERT_DENY_UNTRUSTED);
  sc_close(&c);
  /* a good token, but presented by a key that is not its holder (stolen) */
  sf_token(&t, 4, "t.*", &agent, tok, &len);
  assert_true(sc_open(&c, t.addr, stranger.sk, t.server.pk, tok, len));
  assert_int_equal(sc_handshake(&c), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ERT_DENY_UNTRUSTED);
  sc_close(&c);
  cnv_server_stats st = sf_stats(&t);
  assert_int_equal(st.handshake_failed[CNV_SERVER_HS_TOKEN], 2);
  assert_int_equal(st.handshakes, 0);
  sf_down(&t);
}

/* A revocation applies to a live session: its next invocation is denied. */
static void test_revocation_live(void **state) {
  (void)state;
  sf t;
  up(&t, 1, NULL, "tcp");
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  sf_token(&t, 5, "t.*", &agent, tok, &len);
  sc_client c;
  assert_true(sc_open(&c, t.addr, agent.sk, t.server.pk, tok, len));
  assert_int_equal(sc_handshake(&c), CNV_OK);
  sc_msg m;
  sc_call(&c, 1, "t.echo before", &m);
  expect_result(&m, "t.echo before");
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(tok, len, 0, hash), CNV_OK);
  assert_int_equal(cnv_runtime_revoke(t.f.rt, hash), CNV_OK);
  sc_call(&c, 2, "t.echo after", &m);
  assert_int_equal(m.status, CNV_ERT_DENY_REVOKED);
  sc_close(&c);
  /* and a new session with that token is refused at AUTH */
  assert_true(sc_open(&c, t.addr, agent.sk, t.server.pk, tok, len));
  assert_int_equal(sc_handshake(&c), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ERT_DENY_REVOKED);
  sc_close(&c);
  sf_down(&t);
}

/* Waits until the server's figures satisfy pred (the server closes asynchronously). */
static void wait_stats(sf *t, bool (*pred)(const cnv_server_stats *)) {
  for (;;) {
    cnv_server_stats st = sf_stats(t);
    if (pred(&st)) return;
    sched_yield();
  }
}

static bool none_open(const cnv_server_stats *s) { return s->sessions_open == 0; }

/* The closed end of a refused connection: the first receive sees the end of the stream. */
static void expect_closed(int fd) {
  uint8_t b[64];
  ssize_t n;
  do {
    n = recv(fd, b, sizeof b, 0);
  } while (n > 0);
  assert_true(n == 0 || errno == ECONNRESET);
  close(fd);
}

static void test_max_sessions(void **state) {
  (void)state;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.max_sessions = 2;
  sf t;
  up(&t, 1, &cfg, "unix");
  sc_client a, b;
  sf_client(&t, &a, 1, "t.*");
  sf_client(&t, &b, 2, "t.*");
  int fd = sc_dial(t.addr);
  assert_true(fd >= 0);
  expect_closed(fd);
  assert_int_equal(sf_stats(&t).refused_max, 1);
  sc_close(&a);
  sc_close(&b);
  wait_stats(&t, none_open);
  sc_client c;
  sf_client(&t, &c, 3, "t.*"); /* room again */
  sc_close(&c);
  sf_down(&t);
}

/* Every unix peer is one address, so the per-peer limit holds on unix sockets too. */
static void max_per_peer(const char *where) {
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.max_sessions_per_peer = 1;
  sf t;
  up(&t, 1, &cfg, where);
  sc_client a;
  sf_client(&t, &a, 1, "t.*");
  int fd = sc_dial(t.addr);
  assert_true(fd >= 0);
  expect_closed(fd);
  cnv_server_stats st = sf_stats(&t);
  assert_int_equal(st.refused_per_peer, 1);
  assert_int_equal(st.refused_max, 0);
  sc_close(&a);
  wait_stats(&t, none_open);
  sf_client(&t, &a, 2, "t.*");
  sc_close(&a);
  sf_down(&t);
}

static void test_max_per_peer(void **state) {
  (void)state;
  max_per_peer("tcp");
  max_per_peer("unix");
}

static bool fd_free(int fd) { return fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

/* Out of descriptors: the connection that cannot be accepted is accepted into the spare
 * descriptor and closed (the listener does not spin), and the server goes on serving. Every
 * descriptor number below the lowered limit is taken (the spare's included: white-box), and
 * the client's sockets are made before, so only the server's accept meets the limit. */
static void test_out_of_descriptors(void **state) {
  (void)state;
  sf t;
  up(&t, 1, NULL, "tcp");
  sc_client a;
  sf_client(&t, &a, 1, "t.*");
  int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(b >= 0);
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)atoi(strrchr(t.addr, ':') + 1));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int limit = (t.srv->spare_fd > b ? t.srv->spare_fd : b) + 1;
  int fill[1024], n_fill = 0;
  for (int fd = 0; fd < limit; fd++) {
    if (!fd_free(fd)) continue;
    assert_true(n_fill < 1024);
    fill[n_fill] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fill[n_fill] >= 0 && fill[n_fill] < limit);
    n_fill++;
  }
  struct rlimit old, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = (rlim_t)limit;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  int connected = connect(b, (struct sockaddr *)&to, sizeof to);
  /* the server closes it: the end of the stream (no descriptor needed to see it) */
  uint8_t byte;
  ssize_t got = connected == 0 ? recv(b, &byte, 1, 0) : -1;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  assert_int_equal(connected, 0);
  assert_true(got == 0 || (got < 0 && errno == ECONNRESET));
  close(b);
  for (int i = 0; i < n_fill; i++) close(fill[i]);
  assert_int_equal(sf_stats(&t).refused_max, 1);
  sc_msg m;
  sc_call(&a, 1, "t.echo still", &m);
  expect_result(&m, "t.echo still");
  sc_close(&a);
  sf_down(&t);
}

/* A connection that never finishes its handshake is closed at handshake_timeout. */
static void test_handshake_timeout(void **state) {
  (void)state;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.handshake_timeout_ms = 30;
  sf t;
  up(&t, 1, &cfg, "tcp");
  int fd = sc_dial(t.addr);
  assert_true(fd >= 0);
  expect_closed(fd); /* said nothing at all */
  assert_int_equal(sf_stats(&t).handshake_failed[CNV_SERVER_HS_TIMEOUT], 1);
  sf_down(&t);
}

/* A ready session that stays quiet gets ERROR(CNV_ESERVER_TIMEOUT) at idle_timeout; one with a
 * call in flight does not. */
static void test_idle_timeout(void **state) {
  (void)state;
  gate.open = 0;
  gate.entered = 0;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.idle_timeout_ms = 40;
  sf t;
  up(&t, 1, &cfg, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_invoke(&c, 1, "t.gate", 0);
  rtf_gate_wait_entered(&gate, 1);
  rtf_wait_past(cnv_runtime_now_ns() + 100 * MS_FOR_TEST); /* past the idle timeout, busy */
  rtf_gate_open(&gate);
  sc_msg m;
  sc_response(&c, &m);
  expect_result(&m, "gate");
  assert_int_equal(sc_next(&c, &m), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ESERVER_TIMEOUT);
  sc_close(&c);
  assert_int_equal(sf_stats(&t).idle_closed, 1);
  sf_down(&t);
}

static bool write_closed(const cnv_server_stats *s) { return s->idle_closed == 1 && s->sessions_open == 0; }

/* A ready session whose output has not moved for write_timeout_ms is closed, however long
 * idle_timeout_ms is and whatever it has in flight or waiting: a client sends 64 calls with
 * 16 KB results (far more than the socket and the output buffers hold) and never reads. */
static void test_write_timeout(void **state) {
  (void)state;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.idle_timeout_ms = 600000;
  cfg.write_timeout_ms = 100;
  cnv_runtime_config rc = sf_rt_config(2);
  rc.max_result = 16384;
  sf t;
  sf_up(&t, &rc, &cfg, handlers, N_HANDLERS, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  for (uint64_t id = 0; id < 64; id++) sc_invoke(&c, id, "t.blob", 0);
  wait_stats(&t, write_closed);
  assert_true(sf_stats(&t).responses < 64); /* it was stuck, not done */
  sc_close(&c);
  sf_down(&t);
}

/* Sessions that come and go give their runtime agent back: many more sessions than the
 * runtime has agent handles. */
static void test_agents_given_back(void **state) {
  (void)state;
  cnv_runtime_config rc = sf_rt_config(1);
  rc.max_agents = 2;
  sf t;
  sf_up(&t, &rc, NULL, handlers, N_HANDLERS, "tcp");
  for (uint8_t i = 0; i < 12; i++) {
    sc_client c;
    sf_client(&t, &c, (uint8_t)(i + 1), "t.*");
    sc_msg m;
    sc_call(&c, i, "t.echo again", &m);
    expect_result(&m, "t.echo again");
    sc_close(&c);
    wait_stats(&t, none_open);
  }
  cnv_runtime_stats rs;
  assert_int_equal(cnv_runtime_stats_get(t.f.rt, &rs), CNV_OK);
  assert_int_equal(rs.agents, 0);
  sf_down(&t);
}

static void *stop_thread(void *arg) {
  sf *t = arg;
  return (void *)(intptr_t)cnv_server_stop(t->srv);
}

/* Large results, a full credit of calls, a small write bound: completions wait for room in the
 * output (and reading stops meanwhile) and are all answered, intact, in several rounds. */
static void test_backpressure(void **state) {
  (void)state;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.write_bound = 2048;
  cfg.max_inflight = 64;
  sf t;
  up(&t, 4, &cfg, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  for (int round = 0; round < 3; round++) {
    for (uint64_t id = 0; id < 64; id++) {
      char line[32];
      snprintf(line, sizeof line, "t.big --n=%c", (char)('a' + id % 26));
      sc_invoke(&c, id, line, 0);
    }
    uint64_t seen = 0;
    for (int i = 0; i < 64; i++) {
      sc_msg m;
      sc_response(&c, &m);
      assert_true(m.id < 64);
      assert_int_equal(m.status, CNV_OK);
      assert_int_equal(m.result_len, 1000);
      char line[32];
      snprintf(line, sizeof line, "t.big --n=%c", (char)('a' + m.id % 26));
      assert_memory_equal(m.result, line, strlen(line));
      assert_int_equal(m.result[999], (uint8_t)('a' + m.id % 26));
      seen |= 1ull << m.id;
    }
    assert_int_equal(seen, UINT64_MAX);
  }
  assert_int_equal(sf_stats(&t).responses, 3 * 64);
  sc_close(&c);
  sf_down(&t);
}

/* Graceful stop: SHUTDOWN reaches the ready session (whose client may then send no new call),
 * the call in flight still completes and is answered, the client says SHUTDOWN too, then the
 * connection closes and stop returns CNV_OK. */
static void test_graceful_stop(void **state) {
  (void)state;
  gate.open = 0;
  gate.entered = 0;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.stop_timeout_ns = RTF_STOP_NS;
  sf t;
  up(&t, 2, &cfg, "tcp");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_invoke(&c, 1, "t.gate", 0);
  rtf_gate_wait_entered(&gate, 1);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, stop_thread, &t), 0);
  sc_msg m;
  assert_int_equal(sc_next(&c, &m), CNV_OK);
  assert_int_equal(m.kind, CNV_SESSION_EV_MESSAGE);
  assert_int_equal(m.type, CNV_MSG_SHUTDOWN);
  rtf_gate_open(&gate);
  sc_response(&c, &m);
  assert_int_equal(m.id, 1);
  expect_result(&m, "gate");
  sc_shutdown(&c);                            /* the server waits for it (or its stop timeout) */
  assert_int_equal(sc_next(&c, &m), CNV_EIO); /* closed */
  void *ret = NULL;
  assert_int_equal(pthread_join(th, &ret), 0);
  assert_int_equal((cnv_status)(intptr_t)ret, CNV_OK);
  sc_close(&c);
  /* no new connection is accepted any more */
  assert_int_equal(sc_dial(t.addr), -1);
  sf_down(&t); /* stop again: idempotent */
}

/* A call still running at the stop timeout (its handler ignores the cancel): stop closes the
 * connection and says CNV_ESERVER_TIMEOUT; once the runtime completes the call, destroy frees
 * everything (ASan checks nothing leaks). */
static void test_stop_timeout(void **state) {
  (void)state;
  gate.open = 0;
  gate.entered = 0;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.stop_timeout_ns = 20 * MS_FOR_TEST;
  sf t;
  up(&t, 1, &cfg, "unix");
  sc_client c;
  sf_client(&t, &c, 1, "t.*");
  sc_invoke(&c, 1, "t.gate", 0);
  rtf_gate_wait_entered(&gate, 1);
  assert_int_equal(cnv_server_stop(t.srv), CNV_ESERVER_TIMEOUT);
  sc_msg m;
  memset(&m, 0, sizeof m);
  assert_int_equal(sc_next(&c, &m), CNV_OK);
  assert_int_equal(m.type, CNV_MSG_SHUTDOWN);
  assert_int_equal(sc_next(&c, &m), CNV_EIO); /* cut off: no RESPONSE */
  sc_close(&c);
  rtf_gate_open(&gate);
  assert_int_equal(cnv_runtime_stop(t.f.rt, RTF_STOP_NS), CNV_OK);
  cnv_server_destroy(t.srv);
  cnv_runtime_destroy(t.f.rt);
  assert_int_equal(rmdir(t.dir), 0);
}

/* unix listen paths: a stale socket file (nobody accepts on it) is replaced; destroy removes
 * the file it bound, but not a file that took the path since; a file that is not a socket is
 * never removed (listen fails). */
static void test_unix_stale_and_foreign_paths(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  tkey k;
  tkey_make(&k, 9);
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.secret_key = k.sk;
  char dir[] = "/tmp/cnv-srvpath-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64], addr[80];
  snprintf(path, sizeof path, "%s/s.sock", dir);
  snprintf(addr, sizeof addr, "unix:%s", path);
  struct sockaddr_un su;
  memset(&su, 0, sizeof su);
  su.sun_family = AF_UNIX;
  memcpy(su.sun_path, path, strlen(path) + 1);
  /* a stale socket: bound and listened on, then closed without removing its file */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&su, sizeof su), 0);
  assert_int_equal(listen(fd, 1), 0);
  close(fd);
  struct stat sb;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(connect(fd, (struct sockaddr *)&su, sizeof su), -1); /* stale: refused */
  close(fd);
  cnv_server *s = NULL;
  assert_int_equal(cnv_server_create(&cfg, f.rt, &s), CNV_OK);
  assert_int_equal(cnv_server_listen(s, addr), CNV_OK);
  assert_int_equal(lstat(path, &sb), 0);
  assert_true(S_ISSOCK(sb.st_mode));
  /* a listening socket again: a connection reaches it (the stale one refused it) */
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(connect(fd, (struct sockaddr *)&su, sizeof su), 0);
  close(fd);
  cnv_server_destroy(s);
  assert_int_equal(lstat(path, &sb), -1); /* its own file: removed */
  /* the bound file replaced by another one: destroy leaves that alone */
  assert_int_equal(cnv_server_create(&cfg, f.rt, &s), CNV_OK);
  assert_int_equal(cnv_server_listen(s, addr), CNV_OK);
  assert_int_equal(unlink(path), 0);
  int rf = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  assert_true(rf >= 0);
  close(rf);
  cnv_server_destroy(s);
  assert_int_equal(lstat(path, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  /* a regular file at the path: listen fails, the file stays */
  assert_int_equal(cnv_server_create(&cfg, f.rt, &s), CNV_OK);
  assert_int_equal(cnv_server_listen(s, addr), CNV_ESERVER_LISTEN);
  cnv_server_destroy(s);
  assert_int_equal(lstat(path, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  assert_int_equal(unlink(path), 0);
  assert_int_equal(rmdir(dir), 0);
  cnv_runtime_destroy(f.rt);
}

/* Bad arguments and states. */
static void test_api_errors(void **state) {
  (void)state;
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  assert_int_equal(cfg.max_sessions, 1024);
  assert_int_equal(cfg.io_threads, 1);
  rtf f;
  rtf_create(&f, NULL);
  cnv_server *s = NULL;
  assert_int_equal(cnv_server_create(&cfg, f.rt, &s), CNV_EINVAL); /* no key */
  tkey k;
  tkey_make(&k, 9);
  cfg.secret_key = k.sk;
  cfg.io_threads = 65;
  assert_int_equal(cnv_server_create(&cfg, f.rt, &s), CNV_ERANGE);
  cfg.io_threads = 2;
  assert_int_equal(cnv_server_create(&cfg, NULL, &s), CNV_EINVAL);
  assert_int_equal(cnv_server_create(&cfg, f.rt, &s), CNV_OK);
  assert_int_equal(cnv_server_start(s), CNV_ESTATE); /* no listener */
  assert_int_equal(cnv_server_stop(s), CNV_ESTATE);
  assert_int_equal(cnv_server_listen(s, "tcp:127.0.0.1"), CNV_ESERVER_ADDRESS);
  assert_int_equal(cnv_server_listen(s, "udp:1.2.3.4:5"), CNV_ESERVER_ADDRESS);
  assert_int_equal(cnv_server_listen(s, "tcp:nohost:80"), CNV_ESERVER_ADDRESS);
  assert_int_equal(cnv_server_listen(s, "tcp:127.0.0.1:65536"), CNV_ESERVER_ADDRESS);
  assert_int_equal(cnv_server_listen(s, "unix:"), CNV_ESERVER_ADDRESS);
  assert_int_equal(cnv_server_listen(s, "unix:/nonexistent-dir/x.sock"), CNV_ESERVER_LISTEN);
  assert_int_equal(cnv_server_listen(s, "tcp:[::1]:0"), CNV_OK);
  char a[CNV_SERVER_ADDRESS_MAX];
  assert_int_equal(cnv_server_address(s, 0, a, sizeof a), CNV_OK);
  assert_memory_equal(a, "tcp:[::1]:", 10);
  assert_int_equal(cnv_server_address(s, 1, a, sizeof a), CNV_ERANGE);
  assert_int_equal(cnv_server_address(s, 0, a, 4), CNV_ERANGE);
  assert_int_equal(cnv_server_listener_count(s), 1);
  cnv_server_destroy(s); /* never started */
  cnv_server_destroy(NULL);
  cnv_runtime_destroy(f.rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo_tcp),
      cmocka_unit_test(test_echo_unix),
      cmocka_unit_test(test_out_of_order),
      cmocka_unit_test(test_busy),
      cmocka_unit_test(test_cancel_and_deadline),
      cmocka_unit_test(test_denials),
      cmocka_unit_test(test_refused_tokens),
      cmocka_unit_test(test_revocation_live),
      cmocka_unit_test(test_max_sessions),
      cmocka_unit_test(test_max_per_peer),
      cmocka_unit_test(test_out_of_descriptors),
      cmocka_unit_test(test_handshake_timeout),
      cmocka_unit_test(test_idle_timeout),
      cmocka_unit_test(test_write_timeout),
      cmocka_unit_test(test_agents_given_back),
      cmocka_unit_test(test_backpressure),
      cmocka_unit_test(test_graceful_stop),
      cmocka_unit_test(test_stop_timeout),
      cmocka_unit_test(test_unix_stale_and_foreign_paths),
      cmocka_unit_test(test_api_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
