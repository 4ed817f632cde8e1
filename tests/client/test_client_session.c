/* The client against a scripted server-role session (fake_server.h) on a real unix socket:
 * calls, pipelining up to the credit, out-of-order answers, cancel, timeouts, and every way a
 * connection ends (each unanswered call completed once with CNV_ECLIENT_DISCONNECTED). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cnv/client.h>
#include <cnv/runtime.h>
#include <sodium.h>
#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_server.h"
#include "support/fd_count.h"

static const uint8_t token[] = "not checked by the fake server";
static uint8_t agent_pk[CNV_SESSION_KEY_BYTES], agent_sk[CNV_SESSION_SECRET_BYTES];

typedef struct fixture {
  fake_server f;
  cnv_client *c;
  int fds_before;
} fixture;

static void cfg_for(cnv_client_config *cfg, const fake_server *f) {
  cnv_client_config_default(cfg);
  cfg->address = f->address;
  cfg->secret_key = agent_sk;
  cfg->server_pk = f->pk;
  cfg->token = token;
  cfg->token_len = sizeof token;
  cfg->connect_timeout_ms = 5000;
}

/* Starts a fake server (credit, auth_fail as given) and connects to it. */
static void up(fixture *x, uint32_t credit) {
  memset(x, 0, sizeof *x);
  x->fds_before = tfd_count();
  x->f.credit = credit;
  assert_true(fake_start(&x->f));
  cnv_client_config cfg;
  cfg_for(&cfg, &x->f);
  assert_int_equal(cnv_client_connect(&cfg, &x->c), CNV_OK);
}

/* Closes the client, stops the server, and checks no descriptor is left behind. */
static void down(fixture *x) {
  cnv_client_close(x->c);
  x->c = NULL;
  fake_stop(&x->f);
  assert_int_equal(tfd_count(), x->fds_before);
}

typedef struct seen {
  int n;
  uint64_t ids[128];
  cnv_status status[128];
  int32_t done[128];
  void *ctx[128];
} seen;

typedef struct tagged {
  seen *s;
  int tag;
} tagged;

static void on_done(void *ctx, const cnv_client_result *r) {
  tagged *t = ctx;
  seen *s = t->s;
  assert_true(s->n < 128);
  s->ids[s->n] = r->id;
  s->status[s->n] = r->status;
  s->done[s->n] = r->done;
  s->ctx[s->n] = t;
  s->n++;
}

/* Polls until `want` callbacks have run in all (or the connection ended). Returns the last
 * poll status. */
static cnv_status poll_until(cnv_client *c, const seen *s, int want) {
  cnv_status st = CNV_OK;
  for (int i = 0; i < 1000 && s->n < want; i++) {
    st = cnv_client_poll(c, 1000, NULL);
    if (st != CNV_OK) break;
  }
  return st;
}

static void test_call_echo(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  cnv_negotiated neg;
  assert_int_equal(cnv_client_negotiated(x.c, &neg), CNV_OK);
  assert_int_equal(neg.max_concurrent_calls, 8);
  assert_int_equal(cnv_client_credit(x.c), 8);
  assert_true(cnv_client_fd(x.c) >= 0);
  char buf[64];
  cnv_client_result r;
  static const char line[] = "demo.echo --text hi";
  assert_int_equal(cnv_client_call(x.c, line, sizeof line - 1, 0, 5000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(r.done, CNV_DONE_RAN);
  assert_int_equal(r.result_len, 2);
  assert_memory_equal(r.result, "hi", 2);
  assert_ptr_equal(r.result, buf);
  /* A failure and a denial are answers: CNV_OK from call, the outcome in r. */
  assert_int_equal(cnv_client_call(x.c, "fail", 4, 0, 5000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ENOTSUP);
  assert_int_equal(r.done, CNV_DONE_RAN);
  assert_int_equal(cnv_client_call(x.c, "nope.nope", 9, 0, 5000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  assert_int_equal(r.done, CNV_CLIENT_DONE_NONE);
  /* Busy (refused, never ran: safe to retry) and a handler that ran and returned CNV_EFULL
   * have the same status; done tells them apart. */
  assert_int_equal(cnv_client_call(x.c, "busy", 4, 0, 5000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_EFULL);
  assert_int_equal(r.done, CNV_CLIENT_DONE_NONE);
  assert_int_equal(cnv_client_call(x.c, "handler-full", 12, 0, 5000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_EFULL);
  assert_int_equal(r.done, CNV_DONE_RAN);
  /* A result larger than the buffer: CNV_ERANGE with its size, nothing copied. */
  assert_int_equal(cnv_client_call(x.c, "big 100", 7, 0, 5000, &r, buf, sizeof buf), CNV_ERANGE);
  assert_int_equal(r.result_len, 100);
  assert_int_equal(cnv_client_in_flight(x.c), 0);
  down(&x);
  assert_int_equal(x.f.invocations, 6);
}

static void test_pipelined_out_of_order(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[9];
  uint64_t ids[9];
  for (int i = 0; i < 7; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[i], &ids[i]), CNV_OK);
  }
  t[7] = (tagged){&s, 7};
  assert_int_equal(cnv_client_submit(x.c, "release", 7, 0, on_done, &t[7], &ids[7]), CNV_OK);
  assert_int_equal(cnv_client_credit(x.c), 0);
  assert_int_equal(cnv_client_in_flight(x.c), 8);
  /* No credit left: refused without sending anything. */
  t[8] = (tagged){&s, 8};
  assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[8], &ids[8]), CNV_EFULL);
  assert_int_equal(poll_until(x.c, &s, 8), CNV_OK);
  assert_int_equal(s.n, 8);
  /* Newest held first, then the release itself: each callback got its own context and id. */
  for (int i = 0; i < 7; i++) {
    assert_ptr_equal(s.ctx[i], &t[6 - i]);
    assert_int_equal(s.ids[i], ids[6 - i]);
    assert_int_equal(s.status[i], CNV_OK);
  }
  assert_ptr_equal(s.ctx[7], &t[7]);
  assert_int_equal(cnv_client_credit(x.c), 8);
  /* Ids are not reused. */
  for (int i = 0; i < 8; i++) {
    for (int j = i + 1; j < 8; j++) assert_true(ids[i] != ids[j]);
  }
  down(&x);
}

/* Driven by an outside event loop: wait on the descriptor, then poll without waiting. */
static void test_event_loop(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[4];
  for (int i = 0; i < 4; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, "demo.echo --text e", 18, 0, on_done, &t[i], NULL), CNV_OK);
  }
  for (int i = 0; i < 1000 && s.n < 4; i++) {
    struct pollfd p = {.fd = cnv_client_fd(x.c),
                       .events = (short)(POLLIN | (cnv_client_wants_write(x.c) ? POLLOUT : 0))};
    assert_true(poll(&p, 1, 1000) >= 0);
    unsigned n = 0;
    assert_int_equal(cnv_client_poll(x.c, 0, &n), CNV_OK);
  }
  assert_int_equal(s.n, 4);
  for (int i = 0; i < 4; i++) assert_int_equal(s.status[i], CNV_OK);
  assert_false(cnv_client_wants_write(x.c));
  down(&x);
}

/* Submit only queues; cnv_client_flush sends the batch without reading, and the answers are
 * then announced by the descriptor alone (the event-loop pattern: flush, wait, poll). */
static void test_flush_then_wait(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[3];
  for (int i = 0; i < 3; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, "demo.echo --text f", 18, 0, on_done, &t[i], NULL), CNV_OK);
  }
  assert_true(cnv_client_wants_write(x.c)); /* queued, not sent */
  assert_int_equal(cnv_client_flush(x.c), CNV_OK);
  assert_false(cnv_client_wants_write(x.c)); /* three small frames: the socket took them */
  assert_int_equal(s.n, 0);                  /* flush runs no callback */
  for (int i = 0; i < 1000 && s.n < 3; i++) {
    struct pollfd p = {.fd = cnv_client_fd(x.c), .events = POLLIN};
    assert_true(poll(&p, 1, 1000) >= 0);
    assert_int_equal(cnv_client_poll(x.c, 0, NULL), CNV_OK);
  }
  assert_int_equal(s.n, 3);
  for (int i = 0; i < 3; i++) assert_int_equal(s.status[i], CNV_OK);
  assert_int_equal(cnv_client_flush(x.c), CNV_OK); /* nothing queued: nothing to do */
  down(&x);
}

static void test_cancel(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t = {&s, 0};
  uint64_t id = 0;
  assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t, &id), CNV_OK);
  assert_int_equal(cnv_client_cancel(x.c, id), CNV_OK);
  assert_int_equal(poll_until(x.c, &s, 1), CNV_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.status[0], CNV_ERT_CANCELLED);
  assert_int_equal(s.done[0], CNV_DONE_CANCELLED);
  /* Answered already, never submitted, or forged: not found. */
  assert_int_equal(cnv_client_cancel(x.c, id), CNV_ENOTFOUND);
  assert_int_equal(cnv_client_cancel(x.c, 12345), CNV_ENOTFOUND);
  assert_int_equal(cnv_client_cancel(x.c, id ^ (UINT64_C(1) << 20)), CNV_ENOTFOUND);
  down(&x);
  assert_int_equal(x.f.cancels, 1);
}

static void test_call_timeout_then_usable(void **state) {
  (void)state;
  fixture x;
  up(&x, 2);
  char buf[16];
  cnv_client_result r;
  assert_int_equal(cnv_client_call(x.c, "slow", 4, 0, 20, &r, buf, sizeof buf), CNV_ECLIENT_TIMEOUT);
  /* The call was cancelled on the server; its late answer is dropped and its credit comes back. */
  seen s = {0};
  tagged t = {&s, 0};
  assert_int_equal(cnv_client_submit(x.c, "demo.echo --text ok", 19, 0, on_done, &t, NULL), CNV_OK);
  assert_int_equal(poll_until(x.c, &s, 1), CNV_OK);
  assert_int_equal(s.n, 1);
  for (int i = 0; i < 100 && cnv_client_in_flight(x.c) > 0; i++) {
    assert_int_equal(cnv_client_poll(x.c, 100, NULL), CNV_OK);
  }
  assert_int_equal(cnv_client_in_flight(x.c), 0);
  assert_int_equal(s.n, 1); /* the dropped answer ran no callback */
  down(&x);
}

static void test_server_drops_connection(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[4];
  for (int i = 0; i < 4; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, i < 3 ? "hold" : "drop", 4, 0, on_done, &t[i], NULL), CNV_OK);
  }
  cnv_status st = poll_until(x.c, &s, 5);
  assert_int_equal(st, CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(s.n, 4);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(s.status[i], CNV_ECLIENT_DISCONNECTED);
    assert_int_equal(s.done[i], CNV_CLIENT_DONE_NONE);
  }
  assert_int_equal(cnv_client_error(x.c), CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[0], NULL), CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(cnv_client_poll(x.c, 0, NULL), CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(cnv_client_credit(x.c), 0);
  assert_int_equal(s.n, 4);
  down(&x);
}

/* The server answered and closed; the client, not having read yet, sends another call (the
 * send fails): the answers already received are still delivered, then the new call completes
 * DISCONNECTED. */
static void test_answers_survive_a_failed_send(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[4];
  for (int i = 0; i < 3; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, i < 2 ? "hold" : "answer-close", i < 2 ? 4 : 12, 0, on_done, &t[i], NULL),
                     CNV_OK);
  }
  /* Submit only queues: this sends the three (the answers may or may not be read yet). */
  assert_int_equal(cnv_client_poll(x.c, 0, NULL), CNV_OK);
  fake_stop(&x.f); /* the server thread has answered and closed when this returns */
  t[3] = (tagged){&s, 3};
  assert_int_equal(cnv_client_submit(x.c, "demo.echo --text late", 21, 0, on_done, &t[3], NULL), CNV_OK);
  assert_int_equal(poll_until(x.c, &s, 5), CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(s.n, 4);
  for (int i = 0; i < 3; i++) assert_int_equal(s.status[i], CNV_OK);
  assert_ptr_equal(s.ctx[3], &t[3]);
  assert_int_equal(s.status[3], CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(cnv_client_flush(x.c), CNV_ECLIENT_DISCONNECTED); /* sticky */
  down(&x);
}

static void test_going_away_answers_then_ends(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[3];
  for (int i = 0; i < 3; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, i < 2 ? "hold" : "shutdown", i < 2 ? 4 : 8, 0, on_done, &t[i], NULL),
                     CNV_OK);
  }
  cnv_status st = CNV_OK;
  for (int i = 0; i < 100 && st == CNV_OK; i++) st = cnv_client_poll(x.c, 1000, NULL);
  assert_int_equal(st, CNV_ESESSION_GOING_AWAY);
  /* Every call was answered before the server closed. */
  assert_int_equal(s.n, 3);
  for (int i = 0; i < 3; i++) assert_int_equal(s.status[i], CNV_OK);
  assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[0], NULL), CNV_ESESSION_GOING_AWAY);
  down(&x);
}

static void test_server_error_frame(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[2] = {{&s, 0}, {&s, 1}};
  assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[0], NULL), CNV_OK);
  assert_int_equal(cnv_client_submit(x.c, "error", 5, 0, on_done, &t[1], NULL), CNV_OK);
  assert_int_equal(poll_until(x.c, &s, 3), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_client_peer_status(x.c), CNV_ERT_DENY_REVOKED);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.status[0], CNV_ECLIENT_DISCONNECTED);
  assert_int_equal(s.status[1], CNV_ECLIENT_DISCONNECTED);
  down(&x);
}

/* A hostile server: an answer to a call never made, then bytes that are no frame. Each ends the
 * connection with its code; the calls in flight complete once, DISCONNECTED. */
static void test_hostile_server(void **state) {
  (void)state;
  static const char *const lines[] = {"forge-id", "garbage"};
  static const cnv_status want[] = {CNV_ESESSION_MALFORMED, CNV_EFRAME_MAGIC};
  for (int k = 0; k < 2; k++) {
    fixture x;
    up(&x, 8);
    seen s = {0};
    tagged t[2] = {{&s, 0}, {&s, 1}};
    assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[0], NULL), CNV_OK);
    assert_int_equal(cnv_client_submit(x.c, lines[k], strlen(lines[k]), 0, on_done, &t[1], NULL), CNV_OK);
    assert_int_equal(poll_until(x.c, &s, 3), want[k]);
    assert_int_equal(cnv_client_error(x.c), want[k]);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.status[0], CNV_ECLIENT_DISCONNECTED);
    assert_int_equal(s.status[1], CNV_ECLIENT_DISCONNECTED);
    assert_int_equal(cnv_client_in_flight(x.c), 0);
    down(&x);
  }
}

static void test_close_completes_pending(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  seen s = {0};
  tagged t[3];
  for (int i = 0; i < 3; i++) {
    t[i] = (tagged){&s, i};
    assert_int_equal(cnv_client_submit(x.c, "hold", 4, 0, on_done, &t[i], NULL), CNV_OK);
  }
  cnv_client_close(x.c);
  x.c = NULL;
  assert_int_equal(s.n, 3);
  for (int i = 0; i < 3; i++) assert_int_equal(s.status[i], CNV_ECLIENT_DISCONNECTED);
  down(&x);
}

static cnv_client *reentry_client;
static cnv_status reentry_status;
static void reentering(void *ctx, const cnv_client_result *r) {
  (void)ctx;
  (void)r;
  reentry_status = cnv_client_poll(reentry_client, 0, NULL);
}

static void test_callback_may_not_poll(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  reentry_client = x.c;
  reentry_status = CNV_OK;
  assert_int_equal(cnv_client_submit(x.c, "demo.echo --text a", 18, 0, reentering, NULL, NULL), CNV_OK);
  unsigned n = 0;
  for (int i = 0; i < 100 && n == 0; i++) assert_int_equal(cnv_client_poll(x.c, 1000, &n), CNV_OK);
  assert_int_equal(n, 1);
  assert_int_equal(reentry_status, CNV_ESTATE);
  down(&x);
}

static void test_auth_refused(void **state) {
  (void)state;
  fake_server f;
  memset(&f, 0, sizeof f);
  int fds = tfd_count();
  f.auth_fail = CNV_ERT_DENY_UNTRUSTED;
  assert_true(fake_start(&f));
  cnv_client_config cfg;
  cfg_for(&cfg, &f);
  cnv_client *c = (cnv_client *)&f; /* must be reset to NULL */
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ERT_DENY_UNTRUSTED);
  assert_null(c);
  fake_stop(&f);
  assert_int_equal(tfd_count(), fds);
}

static void test_wrong_server_key(void **state) {
  (void)state;
  fake_server f;
  memset(&f, 0, sizeof f);
  int fds = tfd_count();
  assert_true(fake_start(&f));
  uint8_t other_pk[CNV_SESSION_KEY_BYTES], other_sk[CNV_SESSION_SECRET_BYTES];
  crypto_sign_keypair(other_pk, other_sk);
  cnv_client_config cfg;
  cfg_for(&cfg, &f);
  cfg.server_pk = other_pk;
  cnv_client *c = NULL;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ESESSION_SERVER_KEY);
  assert_null(c);
  fake_stop(&f);
  assert_int_equal(f.invocations, 0);
  assert_int_equal(tfd_count(), fds);
}

static void test_handshake_timeout(void **state) {
  (void)state;
  fake_server f;
  memset(&f, 0, sizeof f);
  int fds = tfd_count();
  f.never_answer = true;
  assert_true(fake_start(&f));
  cnv_client_config cfg;
  cfg_for(&cfg, &f);
  cfg.connect_timeout_ms = 50;
  cnv_client *c = NULL;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ECLIENT_TIMEOUT);
  assert_null(c);
  fake_stop(&f);
  assert_int_equal(tfd_count(), fds);
}

static void test_addresses(void **state) {
  (void)state;
  int fds = tfd_count();
  uint8_t pk[CNV_SESSION_KEY_BYTES] = {1};
  cnv_client_config cfg;
  cnv_client_config_default(&cfg);
  cfg.secret_key = agent_sk;
  cfg.server_pk = pk;
  cfg.token = token;
  cfg.token_len = sizeof token;
  cfg.connect_timeout_ms = 2000;
  static const char *const bad[] = {"", "tcp", "tcp:", "tcp:host",
                                    "tcp::80", "tcp:h:", "tcp:h:0", "tcp:h:65536",
                                    "tcp:h:8x", "tcp:h:-1", "tcp:[::1:80", "unix:",
                                    "udp:h:1", "tcp:h:123456"};
  cnv_client *c = NULL;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cfg.address = bad[i];
    if (cnv_client_connect(&cfg, &c) != CNV_ECLIENT_ADDRESS) fail_msg("address %s", bad[i]);
    if (cnv_client_address_check(bad[i]) != CNV_ECLIENT_ADDRESS) fail_msg("check %s", bad[i]);
  }
  static const char *const good[] = {"tcp:127.0.0.1:1", "tcp:[::1]:65535", "tcp:::1:80", "tcp:example.org:443",
                                     "unix:/tmp/x.sock", "unix:rel"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    if (cnv_client_address_check(good[i]) != CNV_OK) fail_msg("check %s", good[i]);
  }
  assert_int_equal(cnv_client_address_check(NULL), CNV_EINVAL);
  char longpath[300];
  memset(longpath, 'a', sizeof longpath);
  memcpy(longpath, "unix:/", 6);
  longpath[sizeof longpath - 1] = '\0';
  cfg.address = longpath;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ECLIENT_ADDRESS);
  /* Well-formed but nobody there. */
  cfg.address = "unix:/nonexistent/cnv-client-test.sock";
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ECLIENT_CONNECT);
  /* A closed TCP port on loopback: bind one, learn its number, close it. */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
  close(s);
  char addr[64];
  snprintf(addr, sizeof addr, "tcp:127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
  cfg.address = addr;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ECLIENT_CONNECT);
  snprintf(addr, sizeof addr, "tcp:[::1]:%u", (unsigned)ntohs(sa.sin_port));
  cnv_status st = cnv_client_connect(&cfg, &c);
  assert_true(st == CNV_ECLIENT_CONNECT); /* refused, or no IPv6 loopback: both CONNECT */
  assert_null(c);
  assert_int_equal(tfd_count(), fds);
}

static void test_arguments(void **state) {
  (void)state;
  cnv_client *c = NULL;
  cnv_client_config cfg;
  cnv_client_config_default(&cfg);
  assert_int_equal(cnv_client_connect(NULL, &c), CNV_EINVAL);
  assert_int_equal(cnv_client_connect(&cfg, NULL), CNV_EINVAL);
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_EINVAL);
  uint8_t pk[CNV_SESSION_KEY_BYTES] = {1};
  cfg.address = "unix:/nonexistent";
  cfg.secret_key = agent_sk;
  cfg.server_pk = pk;
  cfg.token = token;
  cfg.token_len = 0;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ERANGE);
  cfg.token_len = CNV_SESSION_MAX_TOKEN + 1u;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ERANGE);
  cfg.token_len = 1;
  cfg.max_in_flight = 65537;
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ERANGE);
  cfg.max_in_flight = 0;
  cfg.send_buffer = 100; /* below one sealed message */
  assert_int_equal(cnv_client_connect(&cfg, &c), CNV_ERANGE);
  assert_null(c);
  assert_int_equal(cnv_client_poll(NULL, 0, NULL), CNV_EINVAL);
  assert_int_equal(cnv_client_submit(NULL, "a", 1, 0, on_done, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_client_cancel(NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_client_flush(NULL), CNV_EINVAL);
  assert_int_equal(cnv_client_fd(NULL), -1);
  assert_int_equal(cnv_client_credit(NULL), 0);
  cnv_client_close(NULL);
}

static void test_bad_call_arguments(void **state) {
  (void)state;
  fixture x;
  up(&x, 8);
  cnv_client_result r;
  char buf[8];
  assert_int_equal(cnv_client_submit(x.c, NULL, 0, 0, on_done, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_client_submit(x.c, "a", 1, 0, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_client_call(x.c, "a", 1, 0, 0, NULL, buf, sizeof buf), CNV_EINVAL);
  assert_int_equal(cnv_client_poll(x.c, -2, NULL), CNV_ERANGE);
  /* A line longer than a message may be: refused, the connection still usable. */
  static char line[70000];
  memset(line, 'a', sizeof line);
  assert_int_equal(cnv_client_submit(x.c, line, sizeof line, 0, on_done, NULL, NULL), CNV_ERANGE);
  assert_int_equal(cnv_client_call(x.c, "demo.echo --text y", 18, 0, 5000, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  assert_int_equal(cnv_client_error(x.c), CNV_OK);
  down(&x);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  crypto_sign_keypair(agent_pk, agent_sk);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_call_echo),
      cmocka_unit_test(test_pipelined_out_of_order),
      cmocka_unit_test(test_event_loop),
      cmocka_unit_test(test_flush_then_wait),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_call_timeout_then_usable),
      cmocka_unit_test(test_server_drops_connection),
      cmocka_unit_test(test_answers_survive_a_failed_send),
      cmocka_unit_test(test_going_away_answers_then_ends),
      cmocka_unit_test(test_server_error_frame),
      cmocka_unit_test(test_hostile_server),
      cmocka_unit_test(test_close_completes_pending),
      cmocka_unit_test(test_callback_may_not_poll),
      cmocka_unit_test(test_auth_refused),
      cmocka_unit_test(test_wrong_server_key),
      cmocka_unit_test(test_handshake_timeout),
      cmocka_unit_test(test_addresses),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_bad_call_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
