/* Churn against the server (stress label: also under TSan): client threads connect, finish or
 * abandon handshakes, send calls and then read them, reset, half-close, send garbage or say
 * SHUTDOWN, while runtime workers complete calls whose sessions may already be gone; then a
 * stop while the last wave is in flight. Afterwards: every session closed, every runtime agent
 * given back, per-peer counts zero, no descriptor left (and under the sanitizers: no race, no
 * use after free, no leak). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/srv_internal.h"
#include "server_attack/attack_fixture.h"

/* A handler that takes a little while (so completions race the clients' closes). */
static cnv_status h_slow(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  rtf_wait_past(cnv_runtime_now_ns() + 200000ull);
  return cnv_runtime_result_write(r, c->line, c->line_len);
}

static const rtf_handler handlers[] = {
    {"t.slow", CNV_DURATION_INTERACTIVE, h_slow, NULL},
};

#define THREADS 6
#define ROUNDS 60
#define CALLS 6

/* The tokens of the threads, made on the main thread (the fixture asserts). */
typedef struct tokens {
  tkey agent[THREADS];
  uint8_t tok[THREADS][CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len[THREADS];
} tokens;
static tokens tk;

typedef struct churn {
  sf *t;
  int index;
  int failures; /* assertions are made by the main thread */
  uint64_t answered;
} churn;

/* Reads until every call is answered; false on anything else. */
static bool read_all(sc_client *c, unsigned calls) {
  unsigned got = 0;
  while (got < calls) {
    sc_msg m = {0};
    if (sc_next(c, &m) != CNV_OK || m.kind != CNV_SESSION_EV_MESSAGE || m.type != CNV_MSG_RESPONSE) return false;
    if (m.status != CNV_OK && m.status != CNV_EFULL) return false;
    got++;
  }
  return true;
}

static void *churn_main(void *arg) {
  churn *ch = arg;
  sf *t = ch->t;
  for (int r = 0; r < ROUNDS; r++) {
    int mode = (ch->index + r) % 6;
    int fd = sc_dial(t->addr);
    if (fd < 0) {
      ch->failures++;
      continue;
    }
    close(fd); /* mode 0: connects and leaves at once */
    if (mode == 0) continue;
    sc_client c;
    if (!sc_open(&c, t->addr, tk.agent[ch->index].sk, t->server.pk, tk.tok[ch->index], tk.len[ch->index])) {
      ch->failures++;
      continue;
    }
    if (sc_handshake(&c) != CNV_OK) {
      ch->failures++;
      sc_close(&c);
      continue;
    }
    for (uint64_t id = 0; id < CALLS; id++) sc_invoke(&c, id, "t.slow x", 0);
    switch (mode) {
      case 1: /* reads everything */
        if (!read_all(&c, CALLS)) ch->failures++;
        ch->answered += CALLS;
        sc_close(&c);
        break;
      case 2: /* resets with calls in flight */
        at_reset(&c);
        break;
      case 3: /* half-closes, then reads what is owed */
        shutdown(c.fd, SHUT_WR);
        if (!read_all(&c, CALLS)) ch->failures++;
        ch->answered += CALLS;
        sc_close(&c);
        break;
      case 4: { /* garbage after the calls */
        uint8_t junk[32];
        memset(junk, 0xA5, sizeof junk);
        sc_send_all(&c, junk, sizeof junk);
        sc_close(&c);
        break;
      }
      default: /* says SHUTDOWN, reads the answers */
        sc_shutdown(&c);
        if (!read_all(&c, CALLS)) ch->failures++;
        ch->answered += CALLS;
        sc_close(&c);
        break;
    }
  }
  return NULL;
}

/* Every round dials once; all but mode 0 then dial again for the session. A connection the
 * client closed at once may be accepted after the others have closed: wait for the count. */
static bool all_accepted_and_closed(const cnv_server_stats *s) {
  return s->accepted == 2 * THREADS * ROUNDS - THREADS * ROUNDS / 6 && s->sessions_open == 0;
}

static void test_churn(void **state) {
  (void)state;
  int fds_before = at_fd_baseline();
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.io_threads = 2;
  cfg.max_inflight = CALLS;
  cfg.stop_timeout_ns = 300 * AT_MS; /* the last wave's clients never say SHUTDOWN */
  cnv_runtime_config rc = sf_rt_config(3);
  sf t;
  sf_up(&t, &rc, &cfg, handlers, 1, "tcp");
  for (int i = 0; i < THREADS; i++) sf_token(&t, (uint8_t)(i + 1), "t.*", &tk.agent[i], tk.tok[i], &tk.len[i]);
  churn ch[THREADS];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    ch[i] = (churn){.t = &t, .index = i};
    assert_int_equal(pthread_create(&th[i], NULL, churn_main, &ch[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  for (int i = 0; i < THREADS; i++) assert_int_equal(ch[i].failures, 0);
  assert_true(at_eventually(&t, all_accepted_and_closed));
  cnv_server_stats ss = sf_stats(&t);
  print_message("churn: %llu accepted, %llu handshakes, %llu calls accepted, %llu responses, %llu protocol errors\n",
                (unsigned long long)ss.accepted, (unsigned long long)ss.handshakes,
                (unsigned long long)ss.accepted_calls, (unsigned long long)ss.responses,
                (unsigned long long)ss.protocol_errors);
  cnv_runtime_stats rs;
  assert_int_equal(cnv_runtime_stats_get(t.f.rt, &rs), CNV_OK);
  assert_int_equal(rs.agents, 0);
  pthread_mutex_lock(&t.srv->peer_lock);
  for (uint32_t i = 0; i <= t.srv->peer_mask; i++) assert_int_equal(t.srv->peers[i].count, 0);
  pthread_mutex_unlock(&t.srv->peer_lock);
  /* a last wave: calls in flight and a reset or two when the stop comes */
  sc_client c[THREADS];
  for (int i = 0; i < THREADS; i++) {
    assert_true(sc_open(&c[i], t.addr, tk.agent[i].sk, t.server.pk, tk.tok[i], tk.len[i]));
    assert_int_equal(sc_handshake(&c[i]), CNV_OK);
    for (uint64_t id = 0; id < CALLS; id++) sc_invoke(&c[i], id, "t.slow y", 0);
  }
  for (int i = 0; i < THREADS; i += 2) at_reset(&c[i]);
  cnv_status st = cnv_server_stop(t.srv);
  assert_true(st == CNV_OK || st == CNV_ESERVER_TIMEOUT);
  for (int i = 1; i < THREADS; i += 2) sc_close(&c[i]);
  assert_int_equal(cnv_runtime_stop(t.f.rt, RTF_STOP_NS), CNV_OK);
  cnv_server_destroy(t.srv);
  cnv_runtime_destroy(t.f.rt);
  at_expect_fds(fds_before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_churn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
