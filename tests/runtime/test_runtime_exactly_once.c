/* Exactly once under load: 4 submitters and 3 workers, random deadlines (many pass while
 * queued or running), random cancels (of the new ticket or of an earlier one, queued or
 * running), both lanes, and a stop in the middle while submitters still submit. Every
 * accepted ticket completes exactly once (counted per correlation id in the callback), a
 * denied or refused one never; the figures match a tally kept by the submitters. A second
 * test registers and unregisters a capability over and over under the same kind of load:
 * each of its invocations is denied, or completes once (ran, or not run once unregistered),
 * and no handler runs with a context whose unregister already returned. Runs under TSan
 * (label stress); loops shrink under sanitizers (cnv_test_iters). */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cnv_test_util.h"
#include "runtime/rt_fixture.h"

#define SUBMITTERS 4
#define WORKERS 3
#define US 1000ull

/* One slot per correlation id: what the callback saw. */
typedef struct slot {
  atomic_uint done;
  atomic_int kind;
  atomic_int status;
  _Atomic uint64_t ticket;
} slot;

typedef struct table {
  slot *s;
  uint64_t n;
  atomic_ulong bad; /* completions that broke a rule (no cmocka on worker threads) */
  atomic_ulong completions;
  atomic_ulong kinds[CNV_DONE_COUNT];
} table;

static table T;
static uint64_t echo_cap;        /* capability id of t.echo, set before start */
static atomic_int subs_finished; /* submitters that left their loop */

static void table_init(uint64_t n) {
  T.s = calloc(n, sizeof *T.s);
  assert_non_null(T.s);
  T.n = n;
  atomic_store(&T.bad, 0);
  atomic_store(&T.completions, 0);
  for (int k = 0; k < CNV_DONE_COUNT; k++) atomic_store(&T.kinds[k], 0);
}

static void table_free(void) {
  free(T.s);
  T.s = NULL;
}

/* The result t.echo writes: its correlation id in decimal. */
static size_t corr_text(uint64_t corr, char *out, size_t cap) {
  int n = snprintf(out, cap, "%" PRIu64, corr);
  return n > 0 ? (size_t)n : 0;
}

static void on_done(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  if (c->correlation >= T.n || c->kind < 0 || c->kind >= CNV_DONE_COUNT) {
    atomic_fetch_add(&T.bad, 1);
    return;
  }
  slot *s = &T.s[c->correlation];
  atomic_store(&s->kind, c->kind);
  atomic_store(&s->status, c->status);
  atomic_store(&s->ticket, c->ticket);
  atomic_fetch_add(&s->done, 1);
  atomic_fetch_add(&T.kinds[c->kind], 1);
  atomic_fetch_add(&T.completions, 1);
  /* a ran echo carries its own result, never another invocation's */
  if (c->kind == CNV_DONE_RAN && c->status == CNV_OK && c->capability == echo_cap) {
    char want[32];
    size_t n = corr_text(c->correlation, want, sizeof want);
    if (c->result_len != n || memcmp(c->result, want, n) != 0) atomic_fetch_add(&T.bad, 1);
  }
  /* not run and never started: no worker */
  if ((c->kind == CNV_DONE_NOT_RUN) && c->worker != -1) atomic_fetch_add(&T.bad, 1);
}

static cnv_status h_echo(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  char text[32];
  size_t n = corr_text(c->correlation, text, sizeof text);
  return cnv_runtime_result_write(r, text, n);
}

/* Spins a little, or until cancelled. */
static cnv_status h_spin(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  uint64_t until = cnv_runtime_now_ns() + 20 * US;
  while (cnv_runtime_now_ns() < until) {
    if (cnv_runtime_call_cancelled(c)) return CNV_EAGAIN;
    sched_yield();
  }
  return CNV_OK;
}

static cnv_status h_fail(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  return CNV_EIO;
}

/* What one submitter did. */
typedef struct sub {
  rtf *f;
  uint32_t agent;
  uint64_t first, count; /* its correlation ids (at most count submits) */
  int until_refused;     /* leave the loop once stop refuses a submit */
  uint64_t seed;
  atomic_int *go, *stop_now;
  const char *const *lines;
  size_t n_lines;
  uint8_t *accepted;  /* by correlation id */
  uint64_t *tickets;  /* by correlation id */
  uint64_t submitted; /* how many it submitted (count, or fewer when told to stop) */
  uint64_t ok, full, refused, denied[CNV_RT_DENY_COUNT];
  uint64_t unexpected, cancel_ok, cancel_unexpected;
} sub;

static void *submitter(void *p) {
  sub *a = p;
  while (!atomic_load(a->go)) sched_yield();
  uint64_t ring[16] = {0};
  unsigned have = 0;
  for (uint64_t i = 0; i < a->count && !atomic_load(a->stop_now); i++) {
    uint64_t corr = a->first + i, r = cnv_test_rand(&a->seed);
    const char *line = a->lines[r % a->n_lines];
    cnv_runtime_submit_opts o;
    memset(&o, 0, sizeof o);
    o.correlation = corr;
    o.on_done = on_done;
    o.done_ctx = &T;
    o.low_priority = (r >> 8) & 1;
    o.timeout_ns = ((r >> 9) & 3) == 0 ? 0 : 1 + (r >> 16) % (400 * US);
    uint64_t ticket = 0;
    cnv_status st = cnv_runtime_submit_ex(a->f->rt, a->agent, line, strlen(line), &o, &ticket);
    a->submitted++;
    int reason = cnv_runtime_denial_of(st);
    if (st == CNV_OK) {
      a->ok++;
      a->accepted[corr] = 1;
      a->tickets[corr] = ticket;
      ring[have++ % 16] = ticket;
      uint64_t pick = (r >> 40) & 7;
      uint64_t victim = pick == 0 ? ticket : pick == 1 ? ring[(r >> 44) % (have < 16 ? have : 16)]
                                                       : 0;
      if (victim) {
        cnv_status cs = cnv_runtime_cancel(a->f->rt, victim);
        if (cs == CNV_OK)
          a->cancel_ok++;
        else if (cs != CNV_ENOTFOUND && cs != CNV_ESTATE)
          a->cancel_unexpected++;
      }
    } else if (st == CNV_EFULL) {
      a->full++;
      sched_yield(); /* back off: on a small machine the workers need the core */
    } else if (st == CNV_ESTATE) {
      a->refused++;
      if (a->until_refused) break;
    } else if (reason >= 0) {
      a->denied[reason]++;
    } else {
      a->unexpected++;
    }
  }
  atomic_fetch_add(&subs_finished, 1);
  return NULL;
}

/* Submitters on one runtime, with the flags and the by-correlation tables they share. */
typedef struct crowd {
  int n;
  atomic_int go, stop_now;
  uint8_t *accepted;
  uint64_t *tickets;
  sub s[SUBMITTERS];
  pthread_t th[SUBMITTERS];
} crowd;

/* n (at most SUBMITTERS) submitters like proto (f, count, seed, lines, until_refused):
 * submitter i with its own agent (key byte key_base + i), correlation ids from
 * i * proto->count and seed proto->seed + i. Sets up the tables (table_init), starts the
 * runtime and the threads, then lets them go. */
static void crowd_start(crowd *c, const sub *proto, int n, uint8_t key_base) {
  assert_true(n <= SUBMITTERS);
  uint64_t total = (uint64_t)n * proto->count;
  c->n = n;
  atomic_store(&c->go, 0);
  atomic_store(&c->stop_now, 0);
  atomic_store(&subs_finished, 0);
  table_init(total);
  c->accepted = calloc(total, 1);
  c->tickets = calloc(total, sizeof *c->tickets);
  assert_non_null(c->accepted);
  assert_non_null(c->tickets);
  for (int i = 0; i < n; i++) {
    c->s[i] = *proto;
    c->s[i].agent = rtf_agent(proto->f, (uint8_t)(key_base + i));
    c->s[i].first = (uint64_t)i * proto->count;
    c->s[i].seed = proto->seed + (uint64_t)i;
    c->s[i].go = &c->go;
    c->s[i].stop_now = &c->stop_now;
    c->s[i].accepted = c->accepted;
    c->s[i].tickets = c->tickets;
  }
  assert_int_equal(cnv_runtime_start(proto->f->rt), CNV_OK);
  for (int i = 0; i < n; i++) assert_int_equal(pthread_create(&c->th[i], NULL, submitter, &c->s[i]), 0);
  atomic_store(&c->go, 1);
}

static void crowd_join(crowd *c) {
  for (int i = 0; i < c->n; i++) pthread_join(c->th[i], NULL);
}

static void crowd_free(crowd *c) {
  free(c->accepted);
  free(c->tickets);
  table_free();
}

typedef struct totals {
  uint64_t submitted, ok, full, refused, denied[CNV_RT_DENY_COUNT], denied_total;
} totals;

/* After stop and the joins: every accepted ticket completed exactly once, with its ticket;
 * nothing else completed; the runtime's figures are the tally's. */
static totals check_exactly_once(rtf *f, sub *s, int n_subs, uint8_t *accepted, uint64_t *tickets) {
  totals t;
  memset(&t, 0, sizeof t);
  for (int i = 0; i < n_subs; i++) {
    assert_int_equal(s[i].unexpected, 0);
    assert_int_equal(s[i].cancel_unexpected, 0);
    t.submitted += s[i].submitted;
    t.ok += s[i].ok;
    t.full += s[i].full;
    t.refused += s[i].refused;
    for (int r = 0; r < CNV_RT_DENY_COUNT; r++) {
      t.denied[r] += s[i].denied[r];
      t.denied_total += s[i].denied[r];
    }
  }
  assert_int_equal(atomic_load(&T.bad), 0);
  uint64_t once = 0;
  for (uint64_t c = 0; c < T.n; c++) {
    unsigned d = atomic_load(&T.s[c].done);
    if (accepted[c]) {
      if (d != 1) fail_msg("accepted correlation %" PRIu64 " completed %u times", c, d);
      assert_int_equal(atomic_load(&T.s[c].ticket), tickets[c]);
      once++;
    } else if (d != 0) {
      fail_msg("correlation %" PRIu64 " was not accepted but completed %u times", c, d);
    }
  }
  assert_int_equal(once, t.ok);
  assert_int_equal(atomic_load(&T.completions), t.ok);
  cnv_runtime_stats st;
  assert_int_equal(cnv_runtime_stats_get(f->rt, &st), CNV_OK);
  assert_int_equal(st.accepted, t.ok);
  uint64_t completed = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    assert_int_equal(st.completed[k], atomic_load(&T.kinds[k]));
    completed += st.completed[k];
  }
  assert_int_equal(completed, t.ok);
  for (int r = 0; r < CNV_RT_DENY_COUNT; r++) assert_int_equal(st.denied[r], t.denied[r]);
  assert_int_equal(st.denied_total, t.denied_total);
  assert_int_equal(st.full, t.full);
  assert_int_equal(st.refused, t.refused);
  assert_int_equal(st.submitted, t.submitted);
  assert_int_equal(st.in_queue, 0);
  assert_int_equal(st.stuck_workers, 0);
  return t;
}

static void run_chaos(int stop_in_middle) {
  static const char *const lines[] = {"t.echo", "t.echo --a 1", "t.spin", "t.spin --b", "t.fail",
                                      "t..bad", "t.ghost", "u.nope"};
  rtf f;
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.workers = WORKERS;
  cfg.queue_capacity = 64;
  cfg.breaker = cnv_breaker_config_default(); /* failures and expiries may move the phase */
  rtf_create(&f, &cfg);
  rtf_register(&f, "t.echo", CNV_DURATION_INTERACTIVE, h_echo, NULL);
  rtf_register(&f, "t.spin", CNV_DURATION_INTERACTIVE, h_spin, NULL);
  rtf_register(&f, "t.fail", CNV_DURATION_INTERACTIVE, h_fail, NULL);
  rtf_register(&f, "u.nope", CNV_DURATION_INTERACTIVE, h_fail, NULL);
  echo_cap = rtf_cap("t.echo");
  /* drained: 20000 submits each; stop in the middle: submit until stop refuses (at most
   * ten times as many), stop once a quarter of the drained run's submits completed */
  uint64_t per = cnv_test_iters(20000) * (stop_in_middle ? 10 : 1);
  crowd cr;
  const sub proto = {.f = &f, .count = per, .until_refused = stop_in_middle, .seed = 0xC0FFEEull, .lines = lines, .n_lines = sizeof lines / sizeof lines[0]};
  crowd_start(&cr, &proto, SUBMITTERS, 0x60);
  if (stop_in_middle) {
    /* stop while the submitters are still at it */
    uint64_t some = SUBMITTERS * cnv_test_iters(20000) / 4;
    while (atomic_load(&T.completions) < some && atomic_load(&subs_finished) < SUBMITTERS) sched_yield();
    assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
    /* every accepted one has completed by now: nothing is accepted after stop */
    uint64_t at_stop = atomic_load(&T.completions);
    crowd_join(&cr);
    assert_int_equal(atomic_load(&T.completions), at_stop);
  } else {
    crowd_join(&cr);
    assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  }
  totals t = check_exactly_once(&f, cr.s, cr.n, cr.accepted, cr.tickets);
  assert_true(t.ok > 0);
  if (stop_in_middle) {
    assert_true(t.refused > 0 && t.refused <= SUBMITTERS); /* each left at its first refusal */
  } else {
    assert_int_equal(t.submitted, SUBMITTERS * per);
    assert_int_equal(t.refused, 0);
  }
  /* the lines' own denials are there, each by its reason */
  assert_true(t.denied[CNV_RT_DENY_MALFORMED] > 0);
  assert_true(t.denied[CNV_RT_DENY_UNKNOWN_CAPABILITY] > 0);
  assert_true(t.denied[CNV_RT_DENY_NOT_ALLOWED] + t.denied[CNV_RT_DENY_PHASE] + t.denied[CNV_RT_DENY_SHED] > 0);
  print_message("chaos(stop_in_middle=%d): %" PRIu64
                " accepted: ran %lu, expired %lu, cancelled %lu, not run %lu; "
                "full %" PRIu64 ", refused %" PRIu64 "\n",
                stop_in_middle, t.ok, atomic_load(&T.kinds[CNV_DONE_RAN]), atomic_load(&T.kinds[CNV_DONE_EXPIRED]),
                atomic_load(&T.kinds[CNV_DONE_CANCELLED]), atomic_load(&T.kinds[CNV_DONE_NOT_RUN]), t.full,
                t.refused);
  cnv_runtime_destroy(f.rt);
  crowd_free(&cr);
}

static void test_exactly_once_stop_in_middle(void **state) {
  (void)state;
  run_chaos(1);
}

static void test_exactly_once_drained(void **state) {
  (void)state;
  run_chaos(0);
}

/* ---- register and unregister while running ---- */

typedef struct gen {
  atomic_int gone; /* set once its unregister returned */
  atomic_uint runs;
} gen;

static atomic_ulong ctx_after_unregister;

static cnv_status h_dyn(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  gen *g = ctx;
  if (atomic_load(&g->gone)) atomic_fetch_add(&ctx_after_unregister, 1);
  atomic_fetch_add(&g->runs, 1);
  cnv_status st = h_echo(NULL, c, r);
  if (atomic_load(&g->gone)) atomic_fetch_add(&ctx_after_unregister, 1);
  return st;
}

static void test_register_unregister_under_load(void **state) {
  (void)state;
  static const char *const lines[] = {"t.dyn", "t.dyn --x", "t.echo"};
  rtf f;
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.workers = WORKERS;
  cfg.queue_capacity = 64;
  rtf_create(&f, &cfg);
  rtf_register(&f, "t.echo", CNV_DURATION_INTERACTIVE, h_echo, NULL);
  echo_cap = rtf_cap("t.echo");
  uint64_t per = cnv_test_iters(200000); /* an upper bound: submitters stop when the cycles end */
  unsigned cycles = (unsigned)cnv_test_iters(300);
  gen *gens = calloc(cycles, sizeof *gens);
  assert_non_null(gens);
  atomic_store(&ctx_after_unregister, 0);
  crowd cr;
  const sub proto = {.f = &f, .count = per, .seed = 0xD15EA5Eull, .lines = lines, .n_lines = sizeof lines / sizeof lines[0]};
  crowd_start(&cr, &proto, 3, 0x70);
  unsigned ran_gens = 0;
  for (unsigned g = 0; g < cycles; g++) {
    rtf_register(&f, "t.dyn", g % 2 ? CNV_DURATION_INTERACTIVE : CNV_DURATION_BATCH, h_dyn, &gens[g]);
    for (int y = 0; y < 50; y++) sched_yield();
    assert_int_equal(cnv_runtime_unregister(f.rt, "t.dyn", 5), CNV_OK);
    atomic_store(&gens[g].gone, 1);
    ran_gens += atomic_load(&gens[g].runs) > 0;
  }
  atomic_store(&cr.stop_now, 1);
  crowd_join(&cr);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  totals t = check_exactly_once(&f, cr.s, cr.n, cr.accepted, cr.tickets);
  assert_int_equal(atomic_load(&ctx_after_unregister), 0);
  assert_int_equal(t.refused, 0);
  /* the only denial possible here: t.dyn while unregistered */
  assert_int_equal(t.denied_total, t.denied[CNV_RT_DENY_UNKNOWN_CAPABILITY]);
  /* an accepted invocation that found its capability unregistered says so */
  for (uint64_t c = 0; c < T.n; c++) {
    if (!cr.accepted[c]) continue;
    int k = atomic_load(&T.s[c].kind);
    if (k == CNV_DONE_NOT_RUN) assert_int_equal(atomic_load(&T.s[c].status), CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  }
  print_message("register/unregister: %u cycles, %u generations ran; %" PRIu64
                " accepted: ran %lu, not run %lu, "
                "expired %lu; %" PRIu64 " denied\n",
                cycles, ran_gens, t.ok, atomic_load(&T.kinds[CNV_DONE_RAN]), atomic_load(&T.kinds[CNV_DONE_NOT_RUN]),
                atomic_load(&T.kinds[CNV_DONE_EXPIRED]), t.denied_total);
  cnv_runtime_destroy(f.rt);
  crowd_free(&cr);
  free(gens);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_exactly_once_stop_in_middle),
                                     cmocka_unit_test(test_exactly_once_drained),
                                     cmocka_unit_test(test_register_unregister_under_load)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
