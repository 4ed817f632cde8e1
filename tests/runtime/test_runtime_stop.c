/* cnv_runtime_stop with a timeout: a handler stuck forever (it waits on a condition the test
 * signals only after stop returned) does not hold stop past its timeout: stop returns
 * CNV_ERT_STUCK, names the stuck worker and its capability, completes the stuck invocation
 * as cancelled (CNV_ERT_ABANDONED) and the queued ones as not run (CNV_ERT_STOPPED), each
 * exactly once; once the handler is released, destroy joins its worker. Also: stop with
 * nothing stuck lets the accepted work run, and submits after stop are refused. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/rt_fixture.h"

#define MS 1000000ull

static rtf_gate gate;
static atomic_uint stuck_runs, quick_runs;
static atomic_int stuck_saw_cancel;
static _Atomic uint64_t stuck_cap, stuck_seq;
static atomic_int stuck_worker = -1;

/* t.stuck: ignores its cancel flag and waits at the gate; notes what stop must report. */
static cnv_status h_stuck(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  atomic_store(&stuck_cap, c->capability);
  atomic_store(&stuck_seq, c->seq);
  atomic_store(&stuck_worker, (int)c->worker);
  atomic_fetch_add(&stuck_runs, 1);
  rtf_gate_pass(&gate);
  atomic_store(&stuck_saw_cancel, cnv_runtime_call_cancelled(c) ? 1 : 0);
  return CNV_OK;
}

static cnv_status h_quick(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  atomic_fetch_add(&quick_runs, 1);
  return cnv_runtime_result_write(r, "q", 1);
}

static void reset(void) {
  atomic_store(&stuck_runs, 0);
  atomic_store(&quick_runs, 0);
  atomic_store(&stuck_saw_cancel, -1);
  atomic_store(&stuck_worker, -1);
  rtf_gate_init(&gate);
}

static const rtf_handler handlers[] = {{"t.stuck", CNV_DURATION_LONG_RUNNING, h_stuck, NULL},
                                       {"t.quick", CNV_DURATION_LONG_RUNNING, h_quick, NULL}};

/* reset(), the box ready and a runtime of two workers running t.stuck and t.quick; returns
 * its agent (key_byte). */
static uint32_t up(rtf *f, rtf_box *box, uint8_t key_byte) {
  reset();
  rtf_box_init(box);
  cnv_runtime_config cfg = rtf_config_workers(2);
  return rtf_up(f, &cfg, handlers, sizeof handlers / sizeof handlers[0], key_byte);
}

/* After a stop that reported the stuck handler: releases it (it then sees its cancel flag),
 * destroys the runtime (joining its worker) and checks that nothing completed again. */
static void release_and_destroy(rtf *f, rtf_box *box, unsigned delivered) {
  rtf_gate_open(&gate);
  cnv_runtime_destroy(f->rt);
  assert_int_equal(atomic_load(&stuck_saw_cancel), 1);
  assert_int_equal(rtf_box_count(box), delivered);
  rtf_box_destroy(box);
  rtf_gate_destroy(&gate);
}

static void test_stop_stuck_handler(void **state) {
  (void)state;
  rtf_box box;
  rtf f;
  uint32_t agent = up(&f, &box, 0x40);
  /* both workers stuck, three invocations queued behind them */
  uint64_t stuck[2] = {0, 0}, queued[3] = {0, 0, 0};
  for (uint64_t i = 0; i < 2; i++) {
    assert_int_equal(rtf_submit_box(&f, agent, "t.stuck", 0, 1 + i, &box, &stuck[i]), CNV_OK);
  }
  rtf_gate_wait_entered(&gate, 2);
  for (uint64_t i = 0; i < 3; i++) {
    assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 10 + i, &box, &queued[i]), CNV_OK);
  }
  assert_int_equal(cnv_runtime_stop(f.rt, 50 * MS), CNV_ERT_STUCK);
  /* every accepted invocation completed exactly once before stop returned */
  assert_int_equal(rtf_box_count(&box), 5);
  for (int i = 0; i < 2; i++) {
    rtf_done d;
    rtf_box_expect(&box, stuck[i], CNV_DONE_CANCELLED, CNV_ERT_ABANDONED, &d);
    assert_true(d.c.worker == 0 || d.c.worker == 1);
    assert_int_equal(d.c.capability, rtf_cap("t.stuck"));
  }
  for (int i = 0; i < 3; i++) {
    rtf_done d;
    rtf_box_expect(&box, queued[i], CNV_DONE_NOT_RUN, CNV_ERT_STOPPED, &d);
    assert_int_equal(d.c.worker, -1);
    assert_int_equal(d.c.result_len, 0);
  }
  assert_int_equal(atomic_load(&quick_runs), 0);
  /* the stuck workers are named, with their capability and agent */
  cnv_runtime_stuck_worker sw[4];
  size_t n = 0;
  assert_int_equal(cnv_runtime_stuck(f.rt, sw, 4, &n), CNV_OK);
  assert_int_equal(n, 2);
  assert_true(sw[0].worker != sw[1].worker);
  for (size_t i = 0; i < n; i++) {
    assert_true(sw[i].worker < 2);
    assert_int_equal(sw[i].capability, rtf_cap("t.stuck"));
    assert_int_equal(sw[i].agent, agent);
  }
  assert_int_equal(cnv_runtime_stuck(f.rt, sw, 1, &n), CNV_OK); /* cap 1: n says how many */
  assert_int_equal(n, 2);
  assert_int_equal(cnv_runtime_stuck(f.rt, NULL, 0, NULL), CNV_EINVAL);
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &s), CNV_OK);
  assert_int_equal(s.stuck_workers, 2);
  assert_int_equal(s.accepted, 5);
  assert_int_equal(s.completed[CNV_DONE_CANCELLED], 2);
  assert_int_equal(s.completed[CNV_DONE_NOT_RUN], 3);
  assert_int_equal(s.completed[CNV_DONE_RAN] + s.completed[CNV_DONE_EXPIRED], 0);
  assert_int_equal(s.in_queue, 0);
  assert_int_equal(s.phase, CNV_PHASE_SHUTDOWN);
  /* stopped: work is refused */
  uint64_t t = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 20, &box, &t), CNV_ESTATE);
  /* released after stop: the handler saw its cancel flag; its return completes nothing
   * again, and destroy joins the workers */
  release_and_destroy(&f, &box, 5);
  assert_int_equal(atomic_load(&stuck_runs), 2);
}

/* One stuck worker of two: the other one still runs the work queued behind it, and stop
 * reports only the stuck one. */
static void test_stop_one_stuck(void **state) {
  (void)state;
  rtf_box box;
  rtf f;
  uint32_t agent = up(&f, &box, 0x41);
  uint64_t stuck = 0, quick[4];
  assert_int_equal(rtf_submit_box(&f, agent, "t.stuck", 0, 1, &box, &stuck), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  for (uint64_t i = 0; i < 4; i++) {
    assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 10 + i, &box, &quick[i]), CNV_OK);
  }
  rtf_box_wait(&box, 4); /* the free worker ran the quick ones */
  assert_int_equal(cnv_runtime_stop(f.rt, 50 * MS), CNV_ERT_STUCK);
  assert_int_equal(rtf_box_count(&box), 5);
  rtf_done d;
  rtf_box_expect(&box, stuck, CNV_DONE_CANCELLED, CNV_ERT_ABANDONED, &d);
  assert_int_equal(d.c.worker, atomic_load(&stuck_worker));
  for (int i = 0; i < 4; i++) {
    rtf_box_expect(&box, quick[i], CNV_DONE_RAN, CNV_OK, &d);
    assert_int_equal(d.c.worker, 1 - atomic_load(&stuck_worker));
  }
  assert_int_equal(atomic_load(&quick_runs), 4);
  cnv_runtime_stuck_worker sw[2];
  size_t n = 0;
  assert_int_equal(cnv_runtime_stuck(f.rt, sw, 2, &n), CNV_OK);
  assert_int_equal(n, 1);
  assert_int_equal(sw[0].worker, (uint32_t)atomic_load(&stuck_worker));
  assert_int_equal(sw[0].capability, atomic_load(&stuck_cap));
  assert_int_equal(sw[0].capability, rtf_cap("t.stuck"));
  assert_int_equal(sw[0].seq, atomic_load(&stuck_seq));
  assert_int_equal(sw[0].agent, agent);
  rtf_check_stopped_stats(f.rt);
  release_and_destroy(&f, &box, 5);
}

/* Nothing stuck: stop lets queued work run, returns CNV_OK and reports no stuck worker. */
static void test_stop_clean(void **state) {
  (void)state;
  reset();
  rtf_box box;
  rtf_box_init(&box);
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(1);
  rtf_create(&f, &cfg);
  rtf_register(&f, "t.quick", CNV_DURATION_LONG_RUNNING, h_quick, NULL);
  uint32_t agent = rtf_agent(&f, 0x42);
  uint64_t t = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 1, &box, &t), CNV_ESTATE); /* not started */
  assert_int_equal(cnv_runtime_stop(f.rt, MS), CNV_ESTATE);
  assert_int_equal(cnv_runtime_start(f.rt), CNV_OK);
  for (uint64_t i = 0; i < 8; i++) {
    assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 1 + i, &box, &t), CNV_OK);
  }
  assert_int_equal(cnv_runtime_stop(f.rt, 20000 * MS), CNV_OK);
  assert_int_equal(rtf_box_count(&box), 8);
  assert_int_equal(atomic_load(&quick_runs), 8);
  size_t n = 99;
  cnv_runtime_stuck_worker sw[1];
  assert_int_equal(cnv_runtime_stuck(f.rt, sw, 1, &n), CNV_OK);
  assert_int_equal(n, 0);
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &s), CNV_OK);
  assert_int_equal(s.completed[CNV_DONE_RAN], 8);
  assert_int_equal(s.stuck_workers, 0);
  assert_int_equal(s.refused, 1);
  rtf_check_stopped_stats(f.rt);
  assert_int_equal(cnv_runtime_stop(f.rt, MS), CNV_OK); /* once stopped, OK again */
  assert_int_equal(cnv_runtime_stop(NULL, MS), CNV_EINVAL);
  assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 9, &box, &t), CNV_ESTATE);
  cnv_runtime_handler_spec spec = {.cls = CNV_DURATION_FAST_PATH, .fn = h_quick};
  assert_int_equal(cnv_runtime_register(f.rt, "t.late", 6, &spec), CNV_ESTATE);
  assert_int_equal(cnv_runtime_unregister(f.rt, "t.quick", 7), CNV_ESTATE);
  cnv_runtime_destroy(f.rt);
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
}

/* destroy of a running runtime stops it (every accepted one still completes once). */
static void test_destroy_running(void **state) {
  (void)state;
  reset();
  rtf_box box;
  rtf_box_init(&box);
  rtf f;
  uint32_t agent = rtf_up(&f, NULL, &handlers[1], 1, 0x43); /* t.quick */
  uint64_t t = 0;
  for (uint64_t i = 0; i < 16; i++) {
    assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, i, &box, &t), CNV_OK);
  }
  cnv_runtime_destroy(f.rt);
  assert_int_equal(rtf_box_count(&box), 16);
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_stop_stuck_handler), cmocka_unit_test(test_stop_one_stuck),
                                     cmocka_unit_test(test_stop_clean), cmocka_unit_test(test_destroy_running)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
