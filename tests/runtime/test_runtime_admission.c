/* Admission and contracts: per-agent rate limits (configured default and per agent) counted
 * exactly in denied[rate]; shedding of the low lane in Degraded (counted), the high lane run
 * first; deadline rules (a timeout beyond the class's limit is refused); overruns counted
 * per class and per capability and exported; a runtime idle for a while still wakes for a
 * submit, for each idle strategy. Rate buckets are sized so no refill can happen within a
 * test's quick loop; nothing here asserts a duration. */
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
#include <time.h>
#include <cmocka.h>

#include "runtime/rt_fixture.h"

#define MS 1000000ull

static atomic_uint runs;

static cnv_status h_ok(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  atomic_fetch_add(&runs, 1);
  return cnv_runtime_result_write(r, c->path, c->path_len);
}

/* Runs just past its class's target. */
static cnv_status h_slow(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  uint64_t target = 0;
  if (cnv_duration_class_limits(c->cls, &target, NULL) != CNV_OK) return CNV_EINVAL;
  rtf_wait_past(cnv_runtime_now_ns() + target + MS);
  atomic_fetch_add(&runs, 1);
  return CNV_OK;
}

/* Runs past its deadline. */
static cnv_status h_late(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  rtf_wait_past(c->deadline_ns);
  atomic_fetch_add(&runs, 1);
  return CNV_OK;
}

static void up(rtf *f, const cnv_runtime_config *cfg) {
  atomic_store(&runs, 0);
  rtf_create(f, cfg);
  rtf_register(f, "t.ok", CNV_DURATION_BATCH, h_ok, NULL);
}

static void down(rtf *f) { rtf_stop_destroy(f); }

static cnv_runtime_stats stats(rtf *f) { return rtf_settled(f->rt); }

/* n quick submits by agent: how many were accepted; every other one must be a rate denial. */
static unsigned burst(rtf *f, uint32_t agent, unsigned n) {
  unsigned ok = 0;
  for (unsigned i = 0; i < n; i++) {
    cnv_status st = cnv_runtime_submit(f->rt, agent, "t.ok", 4);
    if (st == CNV_OK) {
      ok++;
    } else {
      assert_string_equal(cnv_status_name(st), cnv_status_name(CNV_ERT_DENY_RATE));
    }
  }
  return ok;
}

/* ---- rate limits ---- */

static void test_rate_limits(void **state) {
  (void)state;
  rtf f;
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.rate_per_s = 1; /* default for every agent: 1/s, bursts of 5 */
  cfg.rate_burst = 5;
  up(&f, &cfg);
  uint32_t a = rtf_agent(&f, 0x50), b = rtf_agent(&f, 0x51), c = rtf_agent(&f, 0x52), d = rtf_agent(&f, 0x53);
  assert_int_equal(cnv_runtime_agent_rate(f.rt, b, 1, 3), CNV_OK);
  assert_int_equal(cnv_runtime_agent_rate(f.rt, c, 0, 0), CNV_OK); /* unlimited */
  assert_int_equal(cnv_runtime_agent_rate(f.rt, d, 1, 0), CNV_OK); /* burst max(1, 1/10) = 1 */
  assert_int_equal(cnv_runtime_start(f.rt), CNV_OK);
  assert_int_equal(burst(&f, a, 20), 5);
  assert_int_equal(burst(&f, b, 20), 3);
  assert_int_equal(burst(&f, c, 20), 20);
  assert_int_equal(burst(&f, d, 20), 1);
  /* a rate set while running takes effect; a denied submit takes no token */
  assert_int_equal(cnv_runtime_agent_rate(f.rt, c, 1, 2), CNV_OK);
  assert_int_equal(burst(&f, c, 10), 2);
  cnv_runtime_stats s = stats(&f);
  assert_int_equal(s.denied[CNV_RT_DENY_RATE], 15 + 17 + 19 + 8);
  assert_int_equal(s.denied_total, 15 + 17 + 19 + 8);
  assert_int_equal(s.accepted, 5 + 3 + 20 + 1 + 2);
  down(&f);
  assert_int_equal(atomic_load(&runs), 31);
}

/* The rate limit comes before the token check (the pipeline's order): submits the token
 * denies still take their place in the bucket, and those past the bucket are denied by rate
 * without reaching the token. */
static void test_rate_before_token(void **state) {
  (void)state;
  rtf f;
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.rate_per_s = 1;
  cfg.rate_burst = 2;
  up(&f, &cfg);
  uint32_t a = rtf_agent_allowing(&f, 0x54, "u.*"); /* not allowed t.ok */
  assert_int_equal(cnv_runtime_start(f.rt), CNV_OK);
  for (int i = 0; i < 2; i++) assert_int_equal(cnv_runtime_submit(f.rt, a, "t.ok", 4), CNV_ERT_DENY_NOT_ALLOWED);
  for (int i = 0; i < 5; i++) assert_int_equal(cnv_runtime_submit(f.rt, a, "t.ok", 4), CNV_ERT_DENY_RATE);
  cnv_runtime_stats s = stats(&f);
  assert_int_equal(s.denied[CNV_RT_DENY_NOT_ALLOWED], 2);
  assert_int_equal(s.denied[CNV_RT_DENY_RATE], 5);
  down(&f);
}

/* ---- shedding and lanes ---- */

static rtf_gate gate;

static cnv_status h_block(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  rtf_gate_pass(&gate);
  return CNV_OK;
}

static cnv_status submit_lane(rtf *f, uint32_t agent, const char *line, uint32_t low, rtf_box *box,
                              uint64_t corr, uint64_t *ticket) {
  cnv_runtime_submit_opts o = {.low_priority = low, .correlation = corr};
  if (box) {
    o.on_done = rtf_box_done;
    o.done_ctx = box;
  }
  return cnv_runtime_submit_ex(f->rt, agent, line, strlen(line), &o, ticket);
}

static void test_shedding(void **state) {
  (void)state;
  rtf f;
  up(&f, NULL);
  uint32_t a = rtf_agent_start(&f, 0x55);
  assert_int_equal(submit_lane(&f, a, "t.ok", 1, NULL, 0, NULL), CNV_OK); /* Operational: no shedding */
  assert_int_equal(cnv_runtime_transition(f.rt, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED), CNV_OK);
  assert_int_equal(cnv_runtime_phase(f.rt), CNV_PHASE_DEGRADED);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(submit_lane(&f, a, "t.ok", 1, NULL, 0, NULL), CNV_ERT_DENY_SHED);
    assert_int_equal(submit_lane(&f, a, "t.ok", 0, NULL, 0, NULL), CNV_OK);
  }
  /* parsing comes before shedding: a malformed low line is denied as malformed, once */
  assert_int_equal(submit_lane(&f, a, "t..ok", 1, NULL, 0, NULL), CNV_ERT_DENY_MALFORMED);
  assert_int_equal(cnv_runtime_transition(f.rt, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY), CNV_OK);
  assert_int_equal(submit_lane(&f, a, "t.ok", 1, NULL, 0, NULL), CNV_OK);
  cnv_runtime_stats s = stats(&f);
  assert_int_equal(s.denied[CNV_RT_DENY_SHED], 10);
  assert_int_equal(s.denied[CNV_RT_DENY_MALFORMED], 1);
  assert_int_equal(s.denied_total, 11);
  assert_int_equal(s.accepted, 12);
  down(&f);
  assert_int_equal(atomic_load(&runs), 12);
}

/* With the only worker held, a low and then a high invocation queued: the high one runs
 * first. */
static void test_high_lane_first(void **state) {
  (void)state;
  rtf_gate_init(&gate);
  rtf_box box;
  rtf_box_init(&box);
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(1);
  up(&f, &cfg);
  rtf_register(&f, "t.block", CNV_DURATION_LONG_RUNNING, h_block, NULL);
  uint32_t a = rtf_agent_start(&f, 0x56);
  uint64_t tb = 0, tl[3], th[3];
  assert_int_equal(submit_lane(&f, a, "t.block", 0, &box, 0, &tb), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  for (uint64_t i = 0; i < 3; i++) assert_int_equal(submit_lane(&f, a, "t.ok --low", 1, &box, 10 + i, &tl[i]), CNV_OK);
  for (uint64_t i = 0; i < 3; i++) assert_int_equal(submit_lane(&f, a, "t.ok --high", 0, &box, 20 + i, &th[i]), CNV_OK);
  rtf_gate_open(&gate);
  rtf_box_wait(&box, 7);
  pthread_mutex_lock(&box.mu);
  assert_int_equal(box.d[0].c.ticket, tb);
  for (int i = 1; i <= 3; i++) assert_true(box.d[i].c.correlation >= 20); /* high lane */
  for (int i = 4; i <= 6; i++) assert_true(box.d[i].c.correlation >= 10 && box.d[i].c.correlation < 20);
  pthread_mutex_unlock(&box.mu);
  down(&f);
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
}

/* ---- deadline rules ---- */

static void test_deadline_rules(void **state) {
  (void)state;
  rtf f;
  up(&f, NULL);
  rtf_register(&f, "t.fast", CNV_DURATION_FAST_PATH, h_ok, NULL);
  rtf_register(&f, "t.inter", CNV_DURATION_INTERACTIVE, h_ok, NULL);
  uint32_t a = rtf_agent_start(&f, 0x57);
  uint64_t fast_limit = 0, inter_limit = 0, batch_limit = 0;
  assert_int_equal(cnv_duration_class_limits(CNV_DURATION_FAST_PATH, NULL, &fast_limit), CNV_OK);
  assert_int_equal(cnv_duration_class_limits(CNV_DURATION_INTERACTIVE, NULL, &inter_limit), CNV_OK);
  assert_int_equal(cnv_duration_class_limits(CNV_DURATION_BATCH, NULL, &batch_limit), CNV_OK);
  cnv_runtime_submit_opts o = {.timeout_ns = fast_limit + 1};
  assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.fast", 6, &o, NULL), CNV_ERANGE);
  o.timeout_ns = inter_limit;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.fast", 6, &o, NULL), CNV_ERANGE);
  o.timeout_ns = inter_limit + 1;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.inter", 7, &o, NULL), CNV_ERANGE);
  o.timeout_ns = batch_limit + 1;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.ok", 4, &o, NULL), CNV_ERANGE);
  o.timeout_ns = UINT64_MAX;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.ok", 4, &o, NULL), CNV_ERANGE);
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  o.timeout_ns = inter_limit + 1;
  assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.inter", 7, &o, &c, buf, sizeof buf), CNV_ERANGE);
  /* at the limit or shorter: accepted */
  o.timeout_ns = inter_limit;
  assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.inter", 7, &o, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  o.timeout_ns = batch_limit;
  assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.ok", 4, &o, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  o.timeout_ns = fast_limit;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.fast", 6, &o, NULL), CNV_OK);
  cnv_runtime_stats s = stats(&f);
  assert_int_equal(s.accepted, 3);
  assert_int_equal(s.denied_total, 0); /* out of range is an error, not a denial */
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  /* the figures' promise after stop: submitted == accepted + denied_total + full + invalid
   * + refused (an out-of-range timeout is counted in invalid) */
  rtf_check_stopped_stats(f.rt);
  s = stats(&f);
  cnv_runtime_destroy(f.rt); /* first: a failure below leaves nothing behind */
  assert_int_equal(s.submitted, s.accepted + s.denied_total + s.full + s.invalid + s.refused);
  assert_true(s.invalid > 0);
}

/* ---- overruns ---- */

static int collect(void *ctx, const char *data, size_t len) {
  char *buf = ctx;
  size_t have = strlen(buf);
  if (have + len >= 65536) return 1;
  memcpy(buf + have, data, len);
  buf[have + len] = 0;
  return 0;
}

/* The value of the first sample line of `metric` whose labels contain both l1 and l2. */
static long long sample(const char *text, const char *metric, const char *l1, const char *l2) {
  size_t mlen = strlen(metric);
  for (const char *p = text; p && *p;) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char line[512];
    if (len < sizeof line && strncmp(p, metric, mlen) == 0 && p[mlen] == '{') {
      memcpy(line, p, len);
      line[len] = 0;
      char *close = strchr(line, '}');
      if (close) {
        *close = 0;
        if (strstr(line, l1) && strstr(line, l2)) return atoll(close + 1);
      }
    }
    p = end ? end + 1 : NULL;
  }
  return -1;
}

static void test_overruns(void **state) {
  (void)state;
  rtf f;
  up(&f, NULL);
  rtf_register(&f, "t.slow", CNV_DURATION_INTERACTIVE, h_slow, NULL);
  rtf_register(&f, "t.late", CNV_DURATION_USER_INITIATED, h_late, NULL);
  uint32_t a = rtf_agent_start(&f, 0x58);
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.slow", 6, NULL, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.kind, CNV_DONE_RAN);
  }
  /* deadlines the idle workers reach long before they pass (so each run starts), and that
   * the handler then waits out */
  cnv_runtime_submit_opts o = {.timeout_ns = 100 * MS};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.late", 6, &o, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.kind, CNV_DONE_EXPIRED);
    assert_int_equal(c.status, CNV_ERT_EXPIRED);
  }
  for (int i = 0; i < 5; i++) { /* a batch target (5 min) is never passed here */
    assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.ok", 4, NULL, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.kind, CNV_DONE_RAN);
  }
  cnv_runtime_stats s = stats(&f);
  assert_int_equal(s.over_target[CNV_DURATION_INTERACTIVE], 2);
  assert_int_equal(s.over_deadline[CNV_DURATION_INTERACTIVE], 0);
  assert_int_equal(s.over_deadline[CNV_DURATION_USER_INITIATED], 3);
  assert_int_equal(s.over_target[CNV_DURATION_USER_INITIATED], 0);
  assert_int_equal(s.over_target[CNV_DURATION_BATCH], 0);
  assert_int_equal(s.over_deadline[CNV_DURATION_BATCH], 0);
  assert_int_equal(s.over_target[CNV_DURATION_FAST_PATH] + s.over_deadline[CNV_DURATION_FAST_PATH], 0);
  assert_int_equal(s.completed[CNV_DONE_EXPIRED], 3);
  cnv_runtime_capability_stats cs;
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t.slow", 6, &cs), CNV_OK);
  assert_int_equal(cs.over_target, 2);
  assert_int_equal(cs.over_deadline, 0);
  assert_int_equal(cs.failed, 0);
  assert_int_equal(cs.cls, CNV_DURATION_INTERACTIVE);
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t.late", 6, &cs), CNV_OK);
  assert_int_equal(cs.over_deadline, 3);
  assert_int_equal(cs.over_target, 0);
  assert_int_equal(cs.cls, CNV_DURATION_USER_INITIATED);
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t.ok", 4, &cs), CNV_OK);
  assert_int_equal(cs.failed, 0);
  assert_int_equal(cs.over_target + cs.over_deadline, 0);
  assert_int_equal(cs.cls, CNV_DURATION_BATCH);
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t.none", 6, &cs), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t..x", 4, &cs), CNV_EPARSE_PATH_SEGMENT);
  assert_int_equal(cnv_runtime_capability_stats_get(NULL, "t.ok", 4, &cs), CNV_EINVAL);
  assert_int_equal(cnv_runtime_capability_stats_get(f.rt, "t.ok", 4, NULL), CNV_EINVAL);
  static char text[65536];
  text[0] = 0;
  assert_int_equal(cnv_runtime_metrics_prometheus(f.rt, collect, text), CNV_OK);
  assert_int_equal(sample(text, "cnv_rt_overruns_total", "class=\"interactive\"", "bound=\"target\""), 2);
  assert_int_equal(sample(text, "cnv_rt_overruns_total", "class=\"user_initiated\"", "bound=\"deadline\""), 3);
  assert_int_equal(sample(text, "cnv_rt_overruns_total", "class=\"batch\"", "bound=\"target\""), 0);
  assert_int_equal(sample(text, "cnv_rt_capability_overruns_total", "capability=\"t.slow\"", "bound=\"target\""), 2);
  assert_int_equal(sample(text, "cnv_rt_capability_overruns_total", "capability=\"t.late\"", "bound=\"deadline\""),
                   3);
  assert_int_equal(sample(text, "cnv_rt_completions_total", "kind=\"expired\"", "kind="), 3);
  down(&f);
}

/* ---- idle strategies: an idle runtime still wakes ---- */

static void idle_a_while(void) {
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static void run_idle(uint32_t idle) {
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(3);
  cfg.idle = idle;
  cfg.idle_spin_us = 20;
  up(&f, &cfg);
  uint32_t a = rtf_agent_start(&f, 0x59);
  cnv_runtime_cq *cq = NULL;
  assert_int_equal(cnv_runtime_cq_create(f.rt, 16, &cq), CNV_OK);
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  for (int round = 0; round < 4; round++) {
    idle_a_while();
    assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.ok", 4, NULL, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.kind, CNV_DONE_RAN);
    idle_a_while();
    /* a batch after idling: each one completes */
    cnv_runtime_submit_opts o = {.cq = cq};
    for (int i = 0; i < 8; i++) assert_int_equal(cnv_runtime_submit_ex(f.rt, a, "t.ok", 4, &o, NULL), CNV_OK);
    for (int i = 0; i < 8; i++) {
      assert_int_equal(cnv_runtime_cq_wait(cq, -1, &c, buf, sizeof buf), CNV_OK);
      assert_int_equal(c.kind, CNV_DONE_RAN);
    }
  }
  down(&f);
  cnv_runtime_cq_destroy(cq);
  assert_int_equal(atomic_load(&runs), 4 * 9);
}

static void test_idle_spin(void **state) {
  (void)state;
  run_idle(CNV_RT_IDLE_SPIN);
}

static void test_idle_park(void **state) {
  (void)state;
  run_idle(CNV_RT_IDLE_PARK);
}

static void test_idle_spin_then_park(void **state) {
  (void)state;
  run_idle(CNV_RT_IDLE_SPIN_THEN_PARK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate_limits),
      cmocka_unit_test(test_rate_before_token),
      cmocka_unit_test(test_shedding),
      cmocka_unit_test(test_high_lane_first),
      cmocka_unit_test(test_deadline_rules),
      cmocka_unit_test(test_overruns),
      cmocka_unit_test(test_idle_spin),
      cmocka_unit_test(test_idle_park),
      cmocka_unit_test(test_idle_spin_then_park),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
