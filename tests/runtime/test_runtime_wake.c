/* Parked workers are woken for a burst that arrives while a worker spins, even when the
 * workers that took the first records stay inside long handlers: the calls behind them run on
 * the other workers (work is not left queued while workers sleep). Each round lets every
 * worker park, wakes one with a quick call (it then spins: a long spin is configured so the
 * burst surely finds it spinning, when submits wake nobody), then submits two calls that hold
 * their workers at a gate and a burst of quick calls, and waits for the quick ones with the
 * gate still closed. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cnv_test_util.h"
#include "runtime/rt_fixture.h"

#define BURST 20
#define HANG_NS (10ull * 1000000000ull) /* a liveness bound, not a timing */

static rtf_gate gate;
static atomic_uint quick_done, gate_done;

static cnv_status h_gate(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  rtf_gate_pass(&gate);
  return CNV_OK;
}

static cnv_status h_ok(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  return CNV_OK;
}

static void on_quick(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  if (c->kind == CNV_DONE_RAN) atomic_fetch_add(&quick_done, 1);
}

static void on_gate(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  (void)c;
  atomic_fetch_add(&gate_done, 1);
}

static void wait_count(atomic_uint *n, unsigned want) {
  uint64_t end = cnv_runtime_now_ns() + HANG_NS;
  while (atomic_load(n) < want && cnv_runtime_now_ns() < end) sched_yield();
  assert_int_equal(atomic_load(n), want);
}

/* The capabilities of the burst tests: t.gate holds its worker at the gate, t.ok returns. */
static const rtf_handler burst_handlers[] = {{"t.gate", CNV_DURATION_USER_INITIATED, h_gate, NULL},
                                             {"t.ok", CNV_DURATION_INTERACTIVE, h_ok, NULL}};

/* A round's fresh gate and counts. */
static void round_begin(void) {
  rtf_gate_init(&gate);
  atomic_store(&quick_done, 0);
  atomic_store(&gate_done, 0);
}

/* One round: two calls held at the gate take two workers, then a burst of quick calls must
 * all complete while the gate stays shut (a third worker runs them), then the gate opens. */
static void gate_then_burst(cnv_runtime *rt, uint32_t agent) {
  cnv_runtime_submit_opts og = {.on_done = on_gate}, oq = {.on_done = on_quick};
  assert_int_equal(cnv_runtime_submit_ex(rt, agent, "t.gate", 6, &og, NULL), CNV_OK);
  assert_int_equal(cnv_runtime_submit_ex(rt, agent, "t.gate", 6, &og, NULL), CNV_OK);
  for (int i = 0; i < BURST; i++) assert_int_equal(cnv_runtime_submit_ex(rt, agent, "t.ok", 4, &oq, NULL), CNV_OK);
  wait_count(&quick_done, BURST); /* two workers are held at the gate all along */
  rtf_gate_open(&gate);
  wait_count(&gate_done, 2);
  rtf_gate_destroy(&gate);
}

static void test_burst_behind_long_handlers(void **state) {
  (void)state;
  cnv_runtime_config cfg = rtf_config_workers(4);
  cfg.idle_spin_us = 20000;
  rtf f;
  uint32_t agent = rtf_up(&f, &cfg, burst_handlers, 2, 1);
  uint64_t rounds = cnv_test_iters(30);
  for (uint64_t r = 0; r < rounds; r++) {
    round_begin();
    struct timespec idle = {0, 60000000}; /* past the workers' spin: they park */
    nanosleep(&idle, NULL);
    cnv_runtime_submit_opts oq = {.on_done = on_quick};
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.ok", 4, &oq, NULL), CNV_OK);
    wait_count(&quick_done, 1); /* its worker now spins */
    atomic_store(&quick_done, 0);
    gate_then_burst(f.rt, agent);
  }
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(f.rt);
}

/* Workers that park at once: every submit of the burst meets parked workers, and all but
 * the first find a wake-up already on its way (park.c: park_seen) and wake nobody. The relay
 * must still bring every worker up: two are held at the gate, the quick calls need a third. */
static void test_parked_burst_behind_long_handlers(void **state) {
  (void)state;
  cnv_runtime_config cfg = rtf_config_workers(4);
  cfg.idle = CNV_RT_IDLE_PARK;
  rtf f;
  uint32_t agent = rtf_up(&f, &cfg, burst_handlers, 2, 1);
  uint64_t rounds = cnv_test_iters(200);
  for (uint64_t r = 0; r < rounds; r++) {
    round_begin();
    gate_then_burst(f.rt, agent);
  }
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(f.rt);
}

static atomic_uint early_accept; /* completions queued at least the 1 ms the row's now_ns lies behind */

static void on_row(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  if (c->kind == CNV_DONE_RAN && c->queued_ns >= 1000000u) atomic_fetch_add(&early_accept, 1);
  if (c->kind == CNV_DONE_RAN) atomic_fetch_add(&quick_done, 1);
}

/* A row of submits with defer_wake (as an event loop hands over what one read brought) wakes
 * no parked worker by itself; the one cnv_runtime_wake after the row must bring up as many
 * as the row needs: every call runs. Each row's calls carry an acceptance time (now_ns) 1 ms
 * before the submit, which their completions' queued_ns must include. */
static void test_deferred_row_then_one_wake(void **state) {
  (void)state;
  static const rtf_handler h[] = {{"t.ok", CNV_DURATION_INTERACTIVE, h_ok, NULL}};
  cnv_runtime_config cfg = rtf_config_workers(2);
  cfg.idle = CNV_RT_IDLE_PARK;
  rtf f;
  uint32_t agent = rtf_up(&f, &cfg, h, 1, 1);
  cnv_runtime_wake(NULL); /* nothing */
  uint64_t rounds = cnv_test_iters(200);
  for (uint64_t r = 0; r < rounds; r++) {
    atomic_store(&quick_done, 0);
    atomic_store(&early_accept, 0);
    cnv_runtime_submit_opts o = {.on_done = on_row, .now_ns = cnv_runtime_now_ns() - 1000000u, .defer_wake = 1};
    for (int i = 0; i < BURST; i++) assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.ok", 4, &o, NULL), CNV_OK);
    cnv_runtime_wake(f.rt);
    wait_count(&quick_done, BURST);
    assert_int_equal(atomic_load(&early_accept), BURST);
  }
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(f.rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_burst_behind_long_handlers),
      cmocka_unit_test(test_parked_burst_behind_long_handlers),
      cmocka_unit_test(test_deferred_row_then_one_wake),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
