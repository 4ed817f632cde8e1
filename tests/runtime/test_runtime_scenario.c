/* The built-in scenario: every denial reason occurs, each one the scenario means to cause,
 * the breaker and the operator drive the phases, the counts are the same for one seed and
 * count, and the JSON report parses; every accepted invocation completes exactly once (the
 * completions by kind add up to accepted, the callbacks heard to the callbacks asked for),
 * ran, expired and cancelled all occur, each answer carries its correlation id, and the
 * metrics have completions by kind and overruns by class; the cancel hook stops setup and
 * run with a partial report and no metrics; setup progress counts up to every agent; the text report's units. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <cnv/runtime.h>

#include "scenario.h"
#include "support/text_sink.h"

/* A strict JSON validator (no escapes are ever written by the report). */
static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\n') p++;
  return p;
}
static const char *value(const char *p);
static const char *string(const char *p) {
  if (*p != '"') return NULL;
  for (p++; *p && *p != '"'; p++) {
    if (*p == '\\' || (unsigned char)*p < 0x20) return NULL;
  }
  return *p == '"' ? p + 1 : NULL;
}
static const char *number(const char *p) {
  char *end;
  strtod(p, &end);
  return end == p ? NULL : end;
}
static const char *seq(const char *p, char close, int keyed) {
  p = ws(p + 1);
  if (*p == close) return p + 1;
  for (;;) {
    if (keyed) {
      if (!(p = string(ws(p)))) return NULL;
      p = ws(p);
      if (*p++ != ':') return NULL;
    }
    if (!(p = value(ws(p)))) return NULL;
    p = ws(p);
    if (*p == close) return p + 1;
    if (*p++ != ',') return NULL;
  }
}
static const char *value(const char *p) {
  if (*p == '{') return seq(p, '}', 1);
  if (*p == '[') return seq(p, ']', 0);
  if (*p == '"') return string(p);
  return number(p);
}

static unsigned long long field(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(json, pat);
  assert_non_null(p);
  return strtoull(p + strlen(pat), NULL, 10);
}

static uint64_t sum(const uint64_t n[CNV_DONE_COUNT]) {
  uint64_t s = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) s += n[k];
  return s;
}

static void run(cnv_scenario_report *r, text_sink *metrics) {
  cnv_scenario_config c;
  cnv_scenario_config_default(&c);
  c.count = 5000;
  c.seed = 42;
  c.metrics = text_sink_put;
  c.metrics_ctx = metrics;
  assert_int_equal(cnv_scenario_run(&c, r), CNV_OK);
}

static void test_scenario(void **state) {
  (void)state;
  static cnv_scenario_report a, b;
  static text_sink m1, m2, js;
  run(&a, &m1);
  run(&b, &m2);
  assert_int_equal(a.submitted - a.full, 5000);
  assert_int_equal(a.invalid, 0);
  assert_int_equal(a.submitted, a.accepted + a.denied_total + a.full + a.invalid);
  assert_int_equal(sum(a.completed), a.accepted);
  assert_int_equal(sum(b.completed), b.accepted);
  assert_int_equal(sum(a.callbacks_heard), a.callbacks);
  assert_true(a.completed[CNV_DONE_RAN] > 0);
  assert_true(a.completed[CNV_DONE_EXPIRED] > 0);
  assert_true(a.completed[CNV_DONE_CANCELLED] > 0);
  assert_int_equal(a.completed[CNV_DONE_NOT_RUN], 0); /* no unregister, no stop timeout */
  assert_true(a.callbacks_heard[CNV_DONE_RAN] > 0 && a.callbacks_heard[CNV_DONE_EXPIRED] > 0);
  assert_true(a.cancels > 0);
  assert_int_equal(a.callbacks_heard[CNV_DONE_CANCELLED], a.cancels);
  assert_int_equal(a.results_mismatched, 0);
  /* net.probe's runs work past fast_path's target, or, on a loaded machine, a probe waits in
   * the queue past the class's 1 ms limit and expires there: counted as the class's deadline
   * overrun (exact counts per class: test_runtime_admission); the late data.query runs past
   * its deadline */
  assert_true(a.over_target[CNV_DURATION_FAST_PATH] + a.over_deadline[CNV_DURATION_FAST_PATH] > 0);
  assert_true(a.over_deadline[CNV_DURATION_INTERACTIVE] > 0);
  assert_int_equal(a.stuck_workers, 0);
  assert_true(a.executed <= a.accepted);
  /* a shed line would otherwise have been accepted: their sum does not depend on timing */
  assert_int_equal(a.accepted + a.denied[CNV_RT_DENY_SHED], b.accepted + b.denied[CNV_RT_DENY_SHED]);
  assert_int_equal(a.failed_expected, b.failed_expected);
  assert_int_equal(a.callbacks, b.callbacks);
  assert_int_equal(a.cancels, b.cancels);
  assert_true(a.failed > 0);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    assert_true(a.denied[i] > 0);
    if (i != CNV_RT_DENY_SHED) assert_int_equal(a.denied[i], b.denied[i]);
  }
  assert_int_equal(a.final_phase, CNV_PHASE_SHUTDOWN);
  assert_int_equal(a.timeline[a.n_timeline - 1].phase, CNV_PHASE_SHUTDOWN);
  int saw_degraded = 0, saw_emergency = 0;
  for (size_t i = 0; i < a.n_timeline; i++) {
    saw_degraded |= a.timeline[i].phase == CNV_PHASE_DEGRADED;
    saw_emergency |= a.timeline[i].phase == CNV_PHASE_EMERGENCY;
  }
  assert_true(saw_degraded && saw_emergency);
  assert_int_equal(a.distinct_capabilities, 21);
  assert_int_equal(a.end, CNV_SCENARIO_COMPLETE);
  assert_int_equal(a.agents_ready, a.agents);
  assert_true(a.failed_late >= 1); /* the late data.query line */
  assert_int_equal(a.failed_expected + a.failed_late, a.failed);
  assert_int_equal(a.failed_unexpected, 0);
  assert_int_equal(a.denied_expected, a.denied_total);
  assert_int_equal(a.denied_unexpected, 0);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) assert_int_equal(a.denied_unexpected_by[i], 0);
  assert_non_null(strstr(m1.text, "cnv_rt_latency_seconds_bucket"));
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    char want[96];
    snprintf(want, sizeof want, "cnv_rt_completions_total{kind=\"%s\"} %llu", cnv_runtime_done_name(k),
             (unsigned long long)a.completed[k]);
    if (!strstr(m1.text, want)) fail_msg("no \"%s\" in the metrics", want);
  }
  for (int c = 0; c < CNV_DURATION_COUNT; c++) {
    char want[96];
    snprintf(want, sizeof want, "cnv_rt_overruns_total{class=\"%s\",bound=\"target\"}",
             cnv_duration_class_name(c));
    if (!strstr(m1.text, want)) fail_msg("no \"%s\" in the metrics", want);
  }
  assert_int_equal(cnv_scenario_report_json(&a, text_sink_put, &js), CNV_OK);
  const char *end = value(ws(js.text));
  assert_non_null(end);
  assert_string_equal(ws(end), "");
  assert_int_equal(field(js.text, "submitted"), a.submitted);
  assert_int_equal(field(js.text, "expired"), a.denied[CNV_RT_DENY_EXPIRED]);
  assert_int_equal(field(js.text, "executed"), a.executed);
  assert_int_equal(field(strstr(js.text, "\"completions\":"), "cancelled"), a.completed[CNV_DONE_CANCELLED]);
  assert_int_equal(field(strstr(js.text, "\"completions\":"), "ran"), a.completed[CNV_DONE_RAN]);
  assert_int_equal(field(strstr(js.text, "\"callbacks\":"), "accepted"), a.callbacks);
  assert_int_equal(field(strstr(js.text, "\"overruns\":"), "deadline"), a.over_deadline[0]);
  assert_int_equal(field(js.text, "stuck_workers"), 0);
  assert_non_null(strstr(js.text, "\"final_phase\":\"shutdown\""));
  assert_non_null(strstr(js.text, "{\"end\":\"complete\","));
  assert_int_equal(field(strstr(js.text, "\"expected\":"), "failed"), a.failed_expected);
  assert_int_equal(field(strstr(js.text, "\"late\":"), "failed"), a.failed_late);
  text_sink tx;
  tx.len = 0;
  assert_int_equal(cnv_scenario_report_text(&a, text_sink_put, &tx), CNV_OK);
  assert_non_null(strstr(tx.text, "degraded"));
}

static void test_bad_config(void **state) {
  (void)state;
  cnv_scenario_config c;
  cnv_scenario_report r;
  cnv_scenario_config_default(&c);
  c.agents = 3;
  assert_int_equal(cnv_scenario_run(&c, &r), CNV_ERT_CONFIG);
  cnv_scenario_config_default(&c);
  c.count = 10;
  assert_int_equal(cnv_scenario_run(&c, &r), CNV_ERT_CONFIG);
  assert_int_equal(cnv_scenario_run(&c, NULL), CNV_EINVAL);
}

/* What the callbacks of the cancel and progress tests see and do. */
typedef struct watch {
  atomic_int cancel;
  int cancel_at_setup;    /* set the cancel at the first setup call */
  int cancel_at_progress; /* set it once the run has submitted something */
  uint32_t setup_calls, first_ready, last_ready, total;
  int setup_backwards;
} watch;

static void on_setup(void *ctx, uint32_t ready, uint32_t total) {
  watch *w = ctx;
  if (w->setup_calls++ == 0)
    w->first_ready = ready;
  else if (ready < w->last_ready)
    w->setup_backwards = 1;
  w->last_ready = ready;
  w->total = total;
  if (w->cancel_at_setup) atomic_store(&w->cancel, 1);
}

static void on_progress(void *ctx, const cnv_scenario_progress *p) {
  watch *w = ctx;
  if (w->cancel_at_progress && p->submitted > 0) atomic_store(&w->cancel, 1);
}

static void watched(watch *w, uint32_t agents, uint32_t duration_ms, cnv_scenario_report *r,
                    text_sink *metrics) {
  cnv_scenario_config c;
  cnv_scenario_config_default(&c);
  c.agents = agents;
  c.duration_ms = duration_ms;
  c.setup = on_setup;
  c.progress = on_progress;
  c.progress_ctx = w;
  c.progress_interval_ms = 1;
  c.cancel = &w->cancel;
  c.metrics = text_sink_put;
  c.metrics_ctx = metrics;
  assert_int_equal(cnv_scenario_run(&c, r), CNV_OK);
}

static void test_setup_progress(void **state) {
  (void)state;
  static watch w;
  static cnv_scenario_report r;
  static text_sink m;
  watched(&w, 100, 1, &r, &m);
  assert_int_equal(r.end, CNV_SCENARIO_COMPLETE);
  assert_true(w.setup_calls >= 2);
  assert_int_equal(w.first_ready, 0);
  assert_int_equal(w.last_ready, 100);
  assert_int_equal(w.total, 100);
  assert_false(w.setup_backwards);
  assert_true(m.len > 0);
}

static void test_cancel_in_setup(void **state) {
  (void)state;
  static watch w = {.cancel_at_setup = 1};
  static cnv_scenario_report r;
  static text_sink m, tx;
  watched(&w, 1000, 60000, &r, &m);
  assert_int_equal(r.end, CNV_SCENARIO_CANCELLED_SETUP);
  assert_int_equal(w.setup_calls, 1);
  assert_int_equal(r.agents_ready, 0);
  assert_int_equal(r.agents, 1000);
  assert_int_equal(r.submitted, 0);
  assert_int_equal(m.len, 0);
  assert_int_equal(cnv_scenario_report_text(&r, text_sink_put, &tx), CNV_OK);
  assert_non_null(strstr(tx.text, "interrupted while setting up: 0 of 1000 agents ready"));
}

static void test_cancel_in_run(void **state) {
  (void)state;
  /* 60 s unless the cancel stops it: a run that ignores the cancel fails on the time limit */
  static watch w = {.cancel_at_progress = 1};
  static cnv_scenario_report r;
  static text_sink m, tx, js;
  watched(&w, 32, 60000, &r, &m);
  assert_int_equal(r.end, CNV_SCENARIO_CANCELLED_RUN);
  assert_int_equal(r.agents_ready, 32);
  assert_true(r.submitted > 0);
  /* the runtime was stopped: every accepted invocation completed, once */
  assert_int_equal(sum(r.completed), r.accepted);
  assert_int_equal(sum(r.callbacks_heard), r.callbacks);
  assert_int_equal(r.final_phase, CNV_PHASE_SHUTDOWN);
  assert_int_equal(m.len, 0);
  assert_int_equal(cnv_scenario_report_text(&r, text_sink_put, &tx), CNV_OK);
  assert_non_null(strstr(tx.text, "(interrupted: partial report)"));
  assert_int_equal(cnv_scenario_report_json(&r, text_sink_put, &js), CNV_OK);
  assert_non_null(strstr(js.text, "{\"end\":\"cancelled_in_run\","));
}

/* Durations are written with three significant digits in the unit that fits each value. */
static void test_text_units(void **state) {
  (void)state;
  static cnv_scenario_report r;
  static text_sink tx;
  r.elapsed_ns = 999600000u; /* rounds up into seconds */
  r.latency_p50_ns = 753;
  r.latency_p99_ns = 41300;
  r.latency_p999_ns = 3366911;
  r.n_timeline = 1;
  r.timeline[0] = (cnv_phase_span){.phase = CNV_PHASE_OPERATIONAL, .enter_ns = 1500, .duration_ns = 120000000000u};
  assert_int_equal(cnv_scenario_report_text(&r, text_sink_put, &tx), CNV_OK);
  assert_non_null(strstr(tx.text, " workers, 1.00 s\n"));
  assert_non_null(strstr(tx.text, "latency: p50 753 ns, p99 41.3 µs, p99.9 3.37 ms\n"));
  assert_non_null(strstr(tx.text, "\n    1.50 µs  operational      120 s\n"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scenario), cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_setup_progress), cmocka_unit_test(test_cancel_in_setup),
      cmocka_unit_test(test_cancel_in_run), cmocka_unit_test(test_text_units)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
