/* The built-in scenario: every denial reason occurs, the breaker and the operator drive the
 * phases, the counts are the same for one seed and count, and the JSON report parses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <cnv/runtime.h>

typedef struct buf {
  char text[16384];
  size_t len;
} buf;

static int collect(void *ctx, const char *data, size_t len) {
  buf *b = ctx;
  if (b->len + len >= sizeof b->text) return 1;
  memcpy(b->text + b->len, data, len);
  b->len += len;
  b->text[b->len] = 0;
  return 0;
}

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

static void run(cnv_scenario_report *r, buf *metrics) {
  cnv_scenario_config c;
  cnv_scenario_config_default(&c);
  c.count = 5000;
  c.seed = 42;
  c.metrics = collect;
  c.metrics_ctx = metrics;
  assert_int_equal(cnv_scenario_run(&c, r), CNV_OK);
}

static void test_scenario(void **state) {
  (void)state;
  static cnv_scenario_report a, b;
  static buf m1, m2, js;
  run(&a, &m1);
  run(&b, &m2);
  assert_int_equal(a.submitted - a.full, 5000);
  assert_int_equal(a.submitted, a.accepted + a.denied_total + a.full);
  assert_int_equal(a.accepted, a.executed);
  assert_int_equal(a.accepted, b.accepted);
  assert_int_equal(a.failed, b.failed);
  assert_true(a.failed > 0);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    assert_true(a.denied[i] > 0);
    assert_int_equal(a.denied[i], b.denied[i]);
  }
  assert_int_equal(a.final_phase, CNV_PHASE_SHUTDOWN);
  assert_int_equal(a.timeline[a.n_timeline - 1].phase, CNV_PHASE_SHUTDOWN);
  int saw_degraded = 0, saw_emergency = 0;
  for (size_t i = 0; i < a.n_timeline; i++) {
    saw_degraded |= a.timeline[i].phase == CNV_PHASE_DEGRADED;
    saw_emergency |= a.timeline[i].phase == CNV_PHASE_EMERGENCY;
  }
  assert_true(saw_degraded && saw_emergency);
  assert_int_equal(a.distinct_capabilities, 20);
  assert_non_null(strstr(m1.text, "cnv_rt_latency_seconds_bucket"));
  assert_int_equal(cnv_scenario_report_json(&a, collect, &js), CNV_OK);
  const char *end = value(ws(js.text));
  assert_non_null(end);
  assert_string_equal(ws(end), "");
  assert_int_equal(field(js.text, "submitted"), a.submitted);
  assert_int_equal(field(js.text, "expired"), a.denied[CNV_RT_DENY_EXPIRED]);
  assert_int_equal(field(js.text, "executed"), a.executed);
  assert_non_null(strstr(js.text, "\"final_phase\":\"shutdown\""));
  buf tx;
  tx.len = 0;
  assert_int_equal(cnv_scenario_report_text(&a, collect, &tx), CNV_OK);
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

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_scenario), cmocka_unit_test(test_bad_config)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
