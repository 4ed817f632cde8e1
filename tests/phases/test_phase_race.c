/* Race: threads read the phase and fight over conflicting moves (and raise algedonic
 * signals) on one swarm. Every successful move is an event carrying the entry time of the
 * phase it left; with unique timestamps the events must chain into one legal sequence:
 * no double wins from one phase instance, no illegal step, nothing lost. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <cnv/phases.h>

#include "cnv_test_util.h"
#include "phases/observer_internal.h"

#define THREADS 6

static cnv_swarm sw;
static _Atomic uint64_t clk;

struct tally {
  uint64_t seed, ok, rejected;
};

static void *fighter(void *arg) {
  struct tally *t = arg;
  uint64_t iters = cnv_test_iters(30000);
  for (uint64_t i = 0; i < iters; i++) {
    int p = (int)cnv_swarm_phase(&sw);
    uint64_t r = cnv_test_rand(&t->seed);
    uint64_t now = atomic_fetch_add(&clk, 1) + 1;
    cnv_status st;
    if (r % 16 == 0) {
      st = cnv_swarm_raise_algedonic(&sw, 1, now);
      if (st == CNV_OK) t->ok++;
      assert_true(st == CNV_OK || st == CNV_EPHASE_ALREADY_EMERGENCY);
      continue;
    }
    int to = (int)((r >> 8) % 7); /* never Shutdown during the fight */
    st = cnv_swarm_transition(&sw, p, to, now);
    if (st == CNV_OK)
      t->ok++;
    else
      t->rejected++;
    assert_true(st == CNV_OK || st == CNV_EPHASE_STALE || st == CNV_EPHASE_ILLEGAL);
    assert_true(st != CNV_EPHASE_ILLEGAL || cnv_phase_check_move(p, to) == CNV_EPHASE_ILLEGAL);
    assert_true(st != CNV_OK || cnv_phase_check_move(p, to) == CNV_OK);
  }
  return NULL;
}

static int by_entered(const void *a, const void *b) {
  uint64_t x = ((const cnv_phase_event *)a)->entered_ns, y = ((const cnv_phase_event *)b)->entered_ns;
  return x < y ? -1 : x > y;
}

/* Follows the chain from (Bootstrap, t=0); every event must be used exactly once. */
static int check_chain(cnv_phase_event *ev, size_t n, int final_phase) {
  qsort(ev, n, sizeof *ev, by_entered);
  for (size_t i = 1; i < n; i++)
    if (ev[i].entered_ns == ev[i - 1].entered_ns) return 0; /* two winners from one phase */
  uint64_t t = 0;
  int phase = CNV_PHASE_BOOTSTRAP;
  for (size_t step = 0; step < n; step++) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (ev[mid].entered_ns < t)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == n || ev[lo].entered_ns != t || ev[lo].from != phase) return 0;
    if (cnv_phase_check_move(ev[lo].from, ev[lo].to) != CNV_OK) return 0;
    t = ev[lo].at_ns;
    phase = ev[lo].to;
  }
  return phase == final_phase;
}

static void test_conflicting_moves(void **state) {
  (void)state;
  cnv_observer_config oc = {.capacity = 1u << 18, .max_swarms = 4};
  cnv_observer *o;
  assert_int_equal(cnv_observer_create(&oc, &o), CNV_OK);
  assert_int_equal(cnv_swarm_init(&sw, 77, 0, NULL, o), CNV_OK);
  atomic_store(&clk, 0);
  pthread_t th[THREADS];
  struct tally t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    t[i] = (struct tally){.seed = 1000u + (uint64_t)i};
    assert_int_equal(pthread_create(&th[i], NULL, fighter, &t[i]), 0);
  }
  uint64_t ok = 0, rejected = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    ok += t[i].ok;
    rejected += t[i].rejected;
  }
  cnv_swarm_report r;
  assert_int_equal(cnv_swarm_snapshot(&sw, atomic_load(&clk) + 1, &r), CNV_OK);
  assert_int_equal(r.transitions, ok);
  assert_int_equal(r.rejected_transitions, rejected);
  assert_true(ok > 100);
  cnv_observer_stats st;
  assert_int_equal(cnv_observer_stats_get(o, &st), CNV_OK);
  assert_int_equal(st.published, ok);
  assert_int_equal(st.dropped, 0);
  /* All producers joined: the slots hold every event in claim order. */
  cnv_phase_event *ev = malloc(ok * sizeof *ev);
  assert_non_null(ev);
  for (uint64_t i = 0; i < ok; i++) ev[i] = o->slots[i].ev;
  assert_true(check_chain(ev, ok, r.phase));
  free(ev);
  size_t drained;
  assert_int_equal(cnv_observer_drain(o, 0, &drained), CNV_OK);
  assert_int_equal(drained, ok);
  uint64_t m[CNV_PHASE_COUNT][CNV_PHASE_COUNT], sum = 0;
  assert_int_equal(cnv_observer_matrix(o, m), CNV_OK);
  for (int f = 0; f < CNV_PHASE_COUNT; f++)
    for (int to = 0; to < CNV_PHASE_COUNT; to++) {
      sum += m[f][to];
      if (m[f][to]) assert_int_equal(cnv_phase_check_move(f, to), CNV_OK);
    }
  assert_int_equal(sum, ok);
  cnv_observer_destroy(o);
}

static _Atomic uint64_t trips;

/* Records failures and ticks the breaker; only one thread may evaluate at a time. */
static void *ticker(void *arg) {
  (void)arg;
  for (uint64_t i = 0; i < cnv_test_iters(20000); i++) {
    assert_int_equal(cnv_swarm_record_invocation(&sw, 0), CNV_OK);
    int moved;
    cnv_status st = cnv_swarm_tick(&sw, atomic_fetch_add(&clk, 1) + 1, &moved);
    assert_true(st == CNV_OK || st == CNV_EBREAKER_BUSY);
    if (moved >= 0) {
      assert_int_equal(moved, CNV_PHASE_DEGRADED);
      atomic_fetch_add(&trips, 1);
    }
  }
  return NULL;
}

/* Concurrent ticks under a failure storm trip the breaker exactly once; nothing recovers. */
static void test_concurrent_ticks_trip_once(void **state) {
  (void)state;
  cnv_breaker_config bc = {.upper = 0.5, .lower = 0.1, .window_ns = 1000, .buckets = 10, .min_samples = 5, .cooldown_ns = 100};
  assert_int_equal(cnv_swarm_init(&sw, 78, 0, &bc, NULL), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, 0), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION, 0), CNV_OK);
  assert_int_equal(cnv_swarm_transition(&sw, CNV_PHASE_ACTIVATION, CNV_PHASE_OPERATIONAL, 0), CNV_OK);
  atomic_store(&clk, 0);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, ticker, NULL), 0);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  assert_int_equal(atomic_load(&trips), 1);
  cnv_swarm_report r;
  assert_int_equal(cnv_swarm_snapshot(&sw, atomic_load(&clk) + 1, &r), CNV_OK);
  assert_int_equal(r.phase, CNV_PHASE_DEGRADED);
  assert_int_equal(r.transitions, 4);
  assert_int_equal(r.failures, 4 * cnv_test_iters(20000));
  assert_int_equal(r.failures, r.invocations);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_conflicting_moves),
                                     cmocka_unit_test(test_concurrent_ticks_trip_once)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
