/* Observer: matrix, Welford against a two-pass reference, z-score alerts, user rules,
 * CSV export, and the channel's full/dropped accounting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cnv/phases.h>

#include "cnv_test_util.h"

#define MAX_ALERTS 64

struct sink {
  int n;
  cnv_alert a[MAX_ALERTS];
};

static void on_alert(void *ctx, const cnv_alert *a) {
  struct sink *s = ctx;
  if (s->n < MAX_ALERTS) s->a[s->n++] = *a;
}

static cnv_observer *make(uint32_t cap, uint32_t max_swarms, struct sink *s) {
  cnv_observer_config c = {.capacity = cap, .max_swarms = max_swarms, .min_samples = 8, .on_alert = s ? on_alert : NULL, .alert_ctx = s};
  cnv_observer *o;
  assert_int_equal(cnv_observer_create(&c, &o), CNV_OK);
  return o;
}

static void publish(cnv_observer *o, uint64_t swarm, int from, int to, uint64_t at, uint64_t dur) {
  cnv_phase_event ev = {swarm, at, at - dur, dur, from, to};
  assert_int_equal(cnv_observer_publish(o, &ev), CNV_OK);
}

static void test_matrix_from_swarm(void **state) {
  (void)state;
  cnv_observer *o = make(64, 16, NULL);
  cnv_swarm sw;
  assert_int_equal(cnv_swarm_init(&sw, 9, 0, NULL, o), CNV_OK);
  const int path[] = {1, 2, 3, 4, 5, 3, 4, 5, 3, 7};
  int cur = 0;
  for (int i = 0; i < 10; i++) {
    assert_int_equal(cnv_swarm_transition(&sw, cur, path[i], (uint64_t)(i + 1) * 100), CNV_OK);
    cur = path[i];
  }
  size_t n;
  assert_int_equal(cnv_observer_drain(o, 0, &n), CNV_OK);
  assert_int_equal(n, 10);
  uint64_t m[CNV_PHASE_COUNT][CNV_PHASE_COUNT];
  assert_int_equal(cnv_observer_matrix(o, m), CNV_OK);
  assert_int_equal(m[3][4], 2);
  assert_int_equal(m[4][5], 2);
  assert_int_equal(m[5][3], 2);
  assert_int_equal(m[3][7], 1);
  assert_int_equal(m[0][1], 1);
  assert_int_equal(m[1][0], 0);
  cnv_duration_stats d;
  assert_int_equal(cnv_observer_duration_stats(o, 9, 3, &d), CNV_OK);
  assert_int_equal(d.count, 3);
  assert_true(d.mean_ns == 100.0);
  assert_int_equal(cnv_observer_duration_stats(o, 10, 3, &d), CNV_ENOTFOUND);
  assert_int_equal(cnv_observer_duration_stats(o, 9, 8, &d), CNV_EPHASE_UNKNOWN);
  cnv_observer_destroy(o);
}

static void test_welford_vs_two_pass(void **state) {
  (void)state;
  enum { N = 4000 };
  static uint64_t x[N];
  cnv_observer *o = make(4096, 4, NULL);
  uint64_t seed = 1234;
  for (int i = 0; i < N; i++) {
    x[i] = 1000000000u + cnv_test_rand(&seed) % 5000000u; /* large offset: catastrophic for naive sums */
    publish(o, 5, 3, 4, (uint64_t)i * 10 + x[i], x[i]);
  }
  assert_int_equal(cnv_observer_drain(o, 0, NULL), CNV_OK);
  double mean = 0, var = 0;
  for (int i = 0; i < N; i++) mean += (double)x[i];
  mean /= N;
  for (int i = 0; i < N; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
  var /= (N - 1);
  cnv_duration_stats d;
  assert_int_equal(cnv_observer_duration_stats(o, 5, 3, &d), CNV_OK);
  assert_int_equal(d.count, N);
  assert_true(fabs(d.mean_ns - mean) / mean < 1e-12);
  assert_true(fabs(d.variance_ns2 - var) / var < 1e-9);
  cnv_observer_destroy(o);
}

static void test_zscore_alerts(void **state) {
  (void)state;
  struct sink s = {0};
  cnv_observer *o = make(256, 4, &s);
  for (int i = 0; i < 100; i++) publish(o, 1, 3, 4, (uint64_t)i * 5000, 1000 + (i % 2 ? 10 : -10));
  assert_int_equal(cnv_observer_drain(o, 0, NULL), CNV_OK);
  assert_int_equal(s.n, 0);
  cnv_duration_stats d;
  assert_int_equal(cnv_observer_duration_stats(o, 1, 3, &d), CNV_OK);
  double sd = sqrt(d.variance_ns2);
  publish(o, 1, 3, 4, 600000, (uint64_t)(d.mean_ns + 4.0 * sd));  /* warning */
  publish(o, 1, 3, 4, 700000, (uint64_t)(d.mean_ns + 40.0 * sd)); /* critical */
  publish(o, 2, 3, 4, 700000, 999999);                            /* another swarm, no history: not judged */
  assert_int_equal(cnv_observer_drain(o, 0, NULL), CNV_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.a[0].kind, CNV_ALERT_ANOMALY);
  assert_int_equal(s.a[0].severity, CNV_ALERT_WARNING);
  assert_true(s.a[0].value > 3.0 && s.a[0].value < 5.0);
  assert_int_equal(s.a[1].severity, CNV_ALERT_CRITICAL);
  assert_true(s.a[1].value > 5.0);
  assert_int_equal(s.a[1].swarm_id, 1);
  cnv_observer_stats st;
  assert_int_equal(cnv_observer_stats_get(o, &st), CNV_OK);
  assert_int_equal(st.warnings, 1);
  assert_int_equal(st.criticals, 1);
  cnv_observer_destroy(o);
}

static void test_rules(void **state) {
  (void)state;
  struct sink s = {0};
  cnv_observer *o = make(256, 8, &s);
  cnv_alert_rule thr = {CNV_ALERT_RULE_THRESHOLD, CNV_ALERT_CRITICAL, 3, 4, 3.0, 0};
  cnv_alert_rule rate = {CNV_ALERT_RULE_RATE, CNV_ALERT_WARNING, CNV_PHASE_ANY, CNV_PHASE_EMERGENCY, 3.0, 1000};
  uint32_t id_thr, id_rate;
  assert_int_equal(cnv_observer_add_rule(o, &thr, &id_thr), CNV_OK);
  assert_int_equal(cnv_observer_add_rule(o, &rate, &id_rate), CNV_OK);
  for (int i = 0; i < 5; i++) publish(o, 1, 3, 4, (uint64_t)i * 10, 5); /* threshold at 3rd only */
  publish(o, 1, 0, 6, 100, 5);
  publish(o, 2, 3, 6, 200, 5);
  publish(o, 3, 4, 6, 300, 5);  /* 3 within [100, 1100): fires */
  publish(o, 4, 4, 6, 400, 5);  /* same window: no second alert */
  publish(o, 5, 4, 6, 2000, 5); /* new window, 1 */
  publish(o, 6, 4, 6, 2100, 5);
  assert_int_equal(cnv_observer_drain(o, 0, NULL), CNV_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.a[0].kind, CNV_ALERT_RULE_THRESHOLD);
  assert_int_equal(s.a[0].rule_id, id_thr);
  assert_int_equal(s.a[0].at_ns, 20);
  assert_int_equal(s.a[1].kind, CNV_ALERT_RULE_RATE);
  assert_int_equal(s.a[1].rule_id, id_rate);
  assert_int_equal(s.a[1].at_ns, 300);
  cnv_alert_rule bad = thr;
  bad.threshold = 0;
  assert_int_equal(cnv_observer_add_rule(o, &bad, NULL), CNV_EOBS_RULE);
  bad = rate;
  bad.window_ns = 0;
  assert_int_equal(cnv_observer_add_rule(o, &bad, NULL), CNV_EOBS_RULE);
  bad = thr;
  bad.from = 11;
  assert_int_equal(cnv_observer_add_rule(o, &bad, NULL), CNV_EOBS_RULE);
  for (int i = 2; i < CNV_OBSERVER_MAX_RULES; i++) assert_int_equal(cnv_observer_add_rule(o, &thr, NULL), CNV_OK);
  assert_int_equal(cnv_observer_add_rule(o, &thr, NULL), CNV_EOBS_RULES_FULL);
  cnv_observer_destroy(o);
}

static void test_anomaly_rule(void **state) {
  (void)state;
  struct sink s = {0};
  cnv_observer *o = make(256, 8, &s);
  cnv_alert_rule an = {CNV_ALERT_RULE_ANOMALY, CNV_ALERT_WARNING, 3, CNV_PHASE_ANY, 2.0, 0};
  assert_int_equal(cnv_observer_add_rule(o, &an, NULL), CNV_OK);
  for (int i = 0; i < 20; i++) publish(o, 1, 3, 4, (uint64_t)i, 100 + (i % 2 ? 1 : -1));
  publish(o, 1, 3, 4, 50, 103); /* z about 2.9: rule only, built-in stays quiet */
  publish(o, 1, 4, 5, 51, 103); /* phase 4 has no history: nothing */
  assert_int_equal(cnv_observer_drain(o, 0, NULL), CNV_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.a[0].kind, CNV_ALERT_RULE_ANOMALY);
  assert_true(s.a[0].value >= 2.0 && s.a[0].value <= 3.0);
  cnv_observer_destroy(o);
}

static void test_csv(void **state) {
  (void)state;
  cnv_observer *o = make(16, 4, NULL);
  publish(o, 1, 0, 1, 10, 10);
  publish(o, 1, 3, 4, 20, 10);
  publish(o, 2, 3, 4, 20, 10);
  assert_int_equal(cnv_observer_drain(o, 0, NULL), CNV_OK);
  char buf[1024];
  size_t len;
  assert_int_equal(cnv_observer_export_csv(o, buf, sizeof buf, &len), CNV_OK);
  const char *want =
      "from,bootstrap,negotiation,activation,operational,degraded,recovery,emergency,shutdown\n"
      "bootstrap,0,1,0,0,0,0,0,0\n"
      "negotiation,0,0,0,0,0,0,0,0\n"
      "activation,0,0,0,0,0,0,0,0\n"
      "operational,0,0,0,0,2,0,0,0\n"
      "degraded,0,0,0,0,0,0,0,0\n"
      "recovery,0,0,0,0,0,0,0,0\n"
      "emergency,0,0,0,0,0,0,0,0\n"
      "shutdown,0,0,0,0,0,0,0,0\n";
  assert_string_equal(buf, want);
  assert_int_equal(len, strlen(want));
  size_t need;
  assert_int_equal(cnv_observer_export_csv(o, buf, 40, &need), CNV_ERANGE);
  assert_int_equal(need, strlen(want));
  assert_int_equal(cnv_observer_export_csv(o, buf, len, &need), CNV_ERANGE); /* no room for NUL */
  assert_int_equal(cnv_observer_export_csv(o, NULL, 0, &need), CNV_ERANGE);
  cnv_observer_destroy(o);
}

static void test_full_channel_and_untracked(void **state) {
  (void)state;
  cnv_observer *o = make(4, 2, NULL);
  for (int i = 0; i < 4; i++) publish(o, (uint64_t)i, 3, 4, 10, 10);
  cnv_phase_event ev = {9, 1, 0, 1, 3, 4};
  assert_int_equal(cnv_observer_publish(o, &ev), CNV_EOBS_FULL);
  cnv_phase_event bad_ev = {9, 1, 0, 1, 3, 8};
  assert_int_equal(cnv_observer_publish(o, &bad_ev), CNV_EPHASE_UNKNOWN);
  bad_ev.to = 4;
  bad_ev.from = -1;
  assert_int_equal(cnv_observer_publish(o, &bad_ev), CNV_EPHASE_UNKNOWN);
  size_t n;
  assert_int_equal(cnv_observer_drain(o, 3, &n), CNV_OK);
  assert_int_equal(n, 3);
  assert_int_equal(cnv_observer_publish(o, &ev), CNV_OK);
  assert_int_equal(cnv_observer_drain(o, 0, &n), CNV_OK);
  assert_int_equal(n, 2);
  cnv_observer_stats st;
  assert_int_equal(cnv_observer_stats_get(o, &st), CNV_OK);
  assert_int_equal(st.published, 5);
  assert_int_equal(st.dropped, 1);
  assert_int_equal(st.drained, 5);
  assert_int_equal(st.untracked, 3); /* swarms 2, 3 and 9 did not fit a table of 2 */
  cnv_observer_config bad = {.capacity = 6};
  cnv_observer *o2;
  assert_int_equal(cnv_observer_create(&bad, &o2), CNV_EOBS_CAPACITY);
  cnv_observer_destroy(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matrix_from_swarm),
      cmocka_unit_test(test_welford_vs_two_pass),
      cmocka_unit_test(test_zscore_alerts),
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_anomaly_rule),
      cmocka_unit_test(test_csv),
      cmocka_unit_test(test_full_channel_and_untracked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
