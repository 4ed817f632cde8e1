/* Telemetry registry: registration rules, counters, gauges, sampled histograms scaled back
 * up, and the exact Prometheus / JSON text, buffer sizing and write errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cnv/telemetry.h>

static void test_registration_rules(void **state) {
  (void)state;
  cnv_telemetry *t;
  cnv_tel_config cfg = {.max_counters = 3};
  assert_int_equal(cnv_tel_create(&cfg, &t), CNV_OK);
  cnv_metric_id id, id2;
  cnv_tel_label l1[] = {{"swarm", "a"}};
  cnv_tel_label l2[] = {{"swarm", "b"}};
  assert_int_equal(cnv_tel_register_counter(t, "req_total", "Requests.", l1, 1, &id), CNV_OK);
  assert_int_equal(cnv_tel_register_counter(t, "req_total", "Requests.", l2, 1, &id2), CNV_OK);
  assert_int_equal(cnv_tel_register_counter(t, "req_total", "Requests.", l2, 1, &id2), CNV_EEXIST);
  assert_int_equal(cnv_tel_register_counter(t, "req_total", "Other help.", NULL, 0, &id2), CNV_ETEL_TYPE_CONFLICT);
  assert_int_equal(cnv_tel_register_counter(t, "requests", "R.", NULL, 0, &id2), CNV_ETEL_COUNTER_SUFFIX);
  assert_int_equal(cnv_tel_register_gauge(t, "depth_total", "D.", NULL, 0, &id2), CNV_ETEL_COUNTER_SUFFIX);
  assert_int_equal(cnv_tel_register_gauge(t, "9depth", "D.", NULL, 0, &id2), CNV_ETEL_NAME);
  assert_int_equal(cnv_tel_register_gauge(t, "de-pth", "D.", NULL, 0, &id2), CNV_ETEL_NAME);
  assert_int_equal(cnv_tel_register_gauge(t, "depth", "", NULL, 0, &id2), CNV_ETEL_HELP);
  cnv_tel_label bad[][2] = {{{"le", "1"}, {"a", "b"}}, {{"__x", "1"}, {"a", "b"}}, {{"a", "1"}, {"a", "2"}}, {{"1a", "1"}, {"b", "2"}}};
  for (int i = 0; i < 4; i++)
    assert_int_equal(cnv_tel_register_gauge(t, "depth", "D.", bad[i], 2, &id2), CNV_ETEL_LABEL);
  assert_int_equal(cnv_tel_register_gauge(t, "req_total", "Requests.", NULL, 0, &id2), CNV_ETEL_COUNTER_SUFFIX);
  assert_int_equal(cnv_tel_register_histogram(t, "lat", "L.", NULL, 0,
                                              &(cnv_tel_hist_opts){.sample_every = (1u << 20) + 1}, &id2),
                   CNV_ERANGE);
  assert_int_equal(cnv_tel_register_histogram(t, "lat", "L.", NULL, 0, &(cnv_tel_hist_opts){.scale = -1.0}, &id2),
                   CNV_ERANGE);
  assert_int_equal(cnv_tel_register_counter(t, "c_total", "C.", NULL, 0, &id2), CNV_OK);
  assert_int_equal(cnv_tel_register_counter(t, "d_total", "D.", NULL, 0, &id2), CNV_ETEL_TOO_MANY);
  cnv_tel_shard *s;
  assert_int_equal(cnv_tel_attach(t, &s), CNV_OK);
  assert_int_equal(cnv_tel_register_gauge(t, "late", "L.", NULL, 0, &id2), CNV_ETEL_SEALED);
  cnv_tel_detach(s);
  cnv_tel_destroy(t);
}

static void test_values_and_sampling(void **state) {
  (void)state;
  cnv_telemetry *t;
  assert_int_equal(cnv_tel_create(NULL, &t), CNV_OK);
  cnv_metric_id c, g, h, hs;
  assert_int_equal(cnv_tel_register_counter(t, "ops_total", "Ops.", NULL, 0, &c), CNV_OK);
  assert_int_equal(cnv_tel_register_gauge(t, "agents", "Agents.", NULL, 0, &g), CNV_OK);
  assert_int_equal(cnv_tel_register_histogram(t, "lat_seconds", "Latency.", NULL, 0,
                                              &(cnv_tel_hist_opts){.scale = 1e-9}, &h),
                   CNV_OK);
  assert_int_equal(cnv_tel_register_histogram(t, "lat_sampled_seconds", "Sampled latency.", NULL, 0,
                                              &(cnv_tel_hist_opts){.scale = 1e-9, .sample_every = 16}, &hs),
                   CNV_OK);
  cnv_tel_shard *s;
  assert_int_equal(cnv_tel_attach(t, &s), CNV_OK);
  for (int i = 0; i < 1000; i++) assert_int_equal(cnv_tel_counter_add(s, c, 2), CNV_OK);
  assert_int_equal(cnv_tel_counter_add(s, g, 1), CNV_ETEL_BAD_ID);
  assert_int_equal(cnv_tel_counter_add(NULL, c, 1), CNV_EINVAL);
  assert_int_equal(cnv_tel_hist_record(NULL, h, 1), CNV_EINVAL);
  assert_int_equal(cnv_tel_hist_record(s, c, 1), CNV_ETEL_BAD_ID);
  uint64_t v;
  assert_int_equal(cnv_tel_counter_value(t, c, &v), CNV_OK);
  assert_int_equal(v, 2000);
  assert_int_equal(cnv_tel_gauge_set(t, g, 10), CNV_OK);
  assert_int_equal(cnv_tel_gauge_add(t, g, -3), CNV_OK);
  int64_t gv;
  assert_int_equal(cnv_tel_gauge_value(t, g, &gv), CNV_OK);
  assert_int_equal(gv, 7);
  assert_int_equal(cnv_tel_gauge_set(t, c, 1), CNV_ETEL_BAD_ID);
  enum { N = 200000 };
  for (uint64_t i = 0; i < N; i++) {
    uint64_t ns = 1000 + (i % 1000) * 1000; /* uniform 1 us .. 1 ms */
    assert_int_equal(cnv_tel_hist_record(s, h, ns), CNV_OK);
    assert_int_equal(cnv_tel_hist_record(s, hs, ns), CNV_OK);
  }
  cnv_tel_hist_summary full, samp;
  assert_int_equal(cnv_tel_hist_summary_get(t, h, &full), CNV_OK);
  assert_int_equal(cnv_tel_hist_summary_get(t, hs, &samp), CNV_OK);
  assert_int_equal(full.count, N);
  assert_true(samp.count % 16 == 0);
  assert_true(samp.count > N * 0.97 && samp.count < N * 1.03); /* scaled back up */
  assert_true(samp.sum > full.sum * 0.95 && samp.sum < full.sum * 1.05);
  assert_true(full.p50 > 0.000499 && full.p50 < 0.000503);
  assert_true(samp.p99 > full.p99 * 0.97 && samp.p99 < full.p99 * 1.03);
  cnv_tel_detach(s);
  cnv_tel_destroy(t);
}

static cnv_telemetry *small_registry(void) {
  cnv_telemetry *t;
  assert_int_equal(cnv_tel_create(NULL, &t), CNV_OK);
  cnv_metric_id c1, c2, g, h;
  cnv_tel_label la[] = {{"swarm", "a"}, {"op", "x\"y\\z\n"}};
  cnv_tel_label lb[] = {{"swarm", "b"}};
  assert_int_equal(cnv_tel_register_counter(t, "cnv_req_total", "Requests\\handled.\nSecond line.", la, 2, &c1), CNV_OK);
  assert_int_equal(cnv_tel_register_gauge(t, "cnv_agents", "Active agents.", NULL, 0, &g), CNV_OK);
  assert_int_equal(cnv_tel_register_counter(t, "cnv_req_total", "Requests\\handled.\nSecond line.", lb, 1, &c2), CNV_OK);
  assert_int_equal(cnv_tel_register_histogram(t, "cnv_size_bytes", "Sizes.", lb, 1, NULL, &h), CNV_OK);
  cnv_tel_shard *s;
  assert_int_equal(cnv_tel_attach(t, &s), CNV_OK);
  assert_int_equal(cnv_tel_counter_add(s, c1, 5), CNV_OK);
  assert_int_equal(cnv_tel_counter_add(s, c2, 7), CNV_OK);
  assert_int_equal(cnv_tel_gauge_set(t, g, -4), CNV_OK);
  const uint64_t vals[] = {0, 1, 2, 3, 5, 100};
  for (int i = 0; i < 6; i++) assert_int_equal(cnv_tel_hist_record(s, h, vals[i]), CNV_OK);
  cnv_tel_detach(s);
  return t;
}

static void test_prometheus_text(void **state) {
  (void)state;
  cnv_telemetry *t = small_registry();
  static char buf[16384];
  size_t len;
  assert_int_equal(cnv_tel_export_prometheus_buf(t, buf, sizeof buf, &len), CNV_OK);
  assert_int_equal(strlen(buf), len);
  const char *head =
      "# HELP cnv_req_total Requests\\\\handled.\\nSecond line.\n"
      "# TYPE cnv_req_total counter\n"
      "cnv_req_total{swarm=\"a\",op=\"x\\\"y\\\\z\\n\"} 5\n"
      "cnv_req_total{swarm=\"b\"} 7\n"
      "# HELP cnv_agents Active agents.\n"
      "# TYPE cnv_agents gauge\n"
      "cnv_agents -4\n"
      "# HELP cnv_size_bytes Sizes.\n"
      "# TYPE cnv_size_bytes histogram\n"
      "cnv_size_bytes_bucket{swarm=\"b\",le=\"0\"} 1\n"
      "cnv_size_bytes_bucket{swarm=\"b\",le=\"3\"} 4\n"
      "cnv_size_bytes_bucket{swarm=\"b\",le=\"15\"} 5\n"
      "cnv_size_bytes_bucket{swarm=\"b\",le=\"63\"} 5\n"
      "cnv_size_bytes_bucket{swarm=\"b\",le=\"255\"} 6\n";
  assert_memory_equal(buf, head, strlen(head));
  const char *tail =
      "cnv_size_bytes_bucket{swarm=\"b\",le=\"+Inf\"} 6\n"
      "cnv_size_bytes_sum{swarm=\"b\"} 111\n"
      "cnv_size_bytes_count{swarm=\"b\"} 6\n";
  assert_string_equal(buf + len - strlen(tail), tail);
  size_t need;
  assert_int_equal(cnv_tel_export_prometheus_buf(t, buf, 100, &need), CNV_ERANGE);
  assert_int_equal(need, len);
  cnv_tel_destroy(t);
}

static void test_json_text(void **state) {
  (void)state;
  cnv_telemetry *t = small_registry();
  static char buf[16384];
  size_t len;
  assert_int_equal(cnv_tel_export_json_buf(t, buf, sizeof buf, &len), CNV_OK);
  const char *want =
      "{\"counters\":[{\"name\":\"cnv_req_total\",\"help\":\"Requests\\\\handled.\\u000aSecond line.\","
      "\"labels\":{\"swarm\":\"a\",\"op\":\"x\\\"y\\\\z\\u000a\"},\"value\":5},"
      "{\"name\":\"cnv_req_total\",\"help\":\"Requests\\\\handled.\\u000aSecond line.\","
      "\"labels\":{\"swarm\":\"b\"},\"value\":7}],"
      "\"gauges\":[{\"name\":\"cnv_agents\",\"help\":\"Active agents.\",\"labels\":{},\"value\":-4}],"
      "\"histograms\":[{\"name\":\"cnv_size_bytes\",\"help\":\"Sizes.\",\"labels\":{\"swarm\":\"b\"},"
      "\"count\":6,\"sum\":111,\"p50\":2,\"p95\":100,\"p99\":100,\"p999\":100}]}\n";
  assert_string_equal(buf, want);
  cnv_tel_destroy(t);
}

static int failing_sink(void *ctx, const char *data, size_t len) {
  (void)data;
  size_t *budget = ctx;
  if (len > *budget) return -1;
  *budget -= len;
  return 0;
}

static void test_write_errors(void **state) {
  (void)state;
  cnv_telemetry *t = small_registry();
  size_t budget = 50;
  assert_int_equal(cnv_tel_export_prometheus(t, failing_sink, &budget), CNV_ETEL_WRITE);
  budget = 50;
  assert_int_equal(cnv_tel_export_json(t, failing_sink, &budget), CNV_ETEL_WRITE);
  assert_int_equal(cnv_tel_export_json(t, NULL, &budget), CNV_EINVAL);
  size_t len;
  assert_int_equal(cnv_tel_export_json_buf(t, NULL, 0, &len), CNV_ERANGE);
  assert_true(len > 100);
  cnv_tel_destroy(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registration_rules),
      cmocka_unit_test(test_values_and_sampling),
      cmocka_unit_test(test_prometheus_text),
      cmocka_unit_test(test_json_text),
      cmocka_unit_test(test_write_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
