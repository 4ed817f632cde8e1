/* Striped counters: registration rules, adds without a shard, exact reads, Prometheus and JSON
 * export as counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cnv/telemetry.h>

static void test_rules(void **state) {
  (void)state;
  cnv_telemetry *t;
  cnv_tel_config cfg = {.max_striped = 2};
  assert_int_equal(cnv_tel_create(&cfg, &t), CNV_OK);
  cnv_metric_id a, b, c, plain;
  assert_int_equal(cnv_tel_register_striped_counter(t, "hits", "Hits.", NULL, 0, &a),
                   CNV_ETEL_COUNTER_SUFFIX);
  assert_int_equal(cnv_tel_register_counter(t, "plain_total", "Plain.", NULL, 0, &plain), CNV_OK);
  /* a family keeps one kind: a striped series cannot join a sharded counter's family */
  assert_int_equal(cnv_tel_register_striped_counter(t, "plain_total", "Plain.", NULL, 0, &a),
                   CNV_ETEL_TYPE_CONFLICT);
  cnv_tel_label l1 = {"op", "x"}, l2 = {"op", "y"};
  assert_int_equal(cnv_tel_register_striped_counter(t, "hits_total", "Hits.", &l1, 1, &a), CNV_OK);
  assert_int_equal(cnv_tel_register_striped_counter(t, "hits_total", "Hits.", &l1, 1, &c),
                   CNV_EEXIST);
  assert_int_equal(cnv_tel_register_striped_counter(t, "hits_total", "Hits.", &l2, 1, &b), CNV_OK);
  assert_int_equal(cnv_tel_register_striped_counter(t, "more_total", "More.", NULL, 0, &c),
                   CNV_ETEL_TOO_MANY);
  assert_int_equal(cnv_tel_register_counter(t, "hits_total", "Hits.", NULL, 0, &c),
                   CNV_ETEL_TYPE_CONFLICT);
  assert_int_equal(cnv_tel_striped_add(NULL, a, 1), CNV_EINVAL);
  assert_int_equal(cnv_tel_striped_add(t, plain, 1), CNV_ETEL_BAD_ID);
  cnv_tel_shard *s;
  assert_int_equal(cnv_tel_attach(t, &s), CNV_OK);
  assert_int_equal(cnv_tel_counter_add(s, a, 1), CNV_ETEL_BAD_ID);
  cnv_tel_detach(s);
  cnv_tel_destroy(t);
  cnv_tel_config big = {.max_striped = 4097};
  assert_int_equal(cnv_tel_create(&big, &t), CNV_ERANGE);
}

static void test_values_and_export(void **state) {
  (void)state;
  cnv_telemetry *t;
  assert_int_equal(cnv_tel_create(NULL, &t), CNV_OK);
  cnv_metric_id plain, a, b;
  cnv_tel_label l1 = {"op", "x"}, l2 = {"op", "y"};
  assert_int_equal(cnv_tel_register_counter(t, "plain_total", "Plain.", NULL, 0, &plain), CNV_OK);
  assert_int_equal(cnv_tel_register_striped_counter(t, "hits_total", "Hits.", &l1, 1, &a), CNV_OK);
  assert_int_equal(cnv_tel_register_striped_counter(t, "hits_total", "Hits.", &l2, 1, &b), CNV_OK);
  uint64_t v = 99;
  assert_int_equal(cnv_tel_counter_value(t, a, &v), CNV_OK);
  assert_int_equal(v, 0);
  assert_int_equal(cnv_tel_striped_add(t, a, 5), CNV_OK);
  assert_int_equal(cnv_tel_striped_add(t, a, 2), CNV_OK);
  assert_int_equal(cnv_tel_striped_add(t, b, 1u << 20), CNV_OK);
  assert_int_equal(cnv_tel_counter_value(t, a, &v), CNV_OK);
  assert_int_equal(v, 7);
  assert_int_equal(cnv_tel_counter_value(t, b, &v), CNV_OK);
  assert_int_equal(v, 1u << 20);
  static char buf[4096];
  size_t len;
  assert_int_equal(cnv_tel_export_prometheus_buf(t, buf, sizeof buf, &len), CNV_OK);
  const char *prom =
      "# HELP plain_total Plain.\n"
      "# TYPE plain_total counter\n"
      "plain_total 0\n"
      "# HELP hits_total Hits.\n"
      "# TYPE hits_total counter\n"
      "hits_total{op=\"x\"} 7\n"
      "hits_total{op=\"y\"} 1048576\n";
  assert_string_equal(buf, prom);
  assert_int_equal(cnv_tel_export_json_buf(t, buf, sizeof buf, &len), CNV_OK);
  const char *json =
      "{\"counters\":[{\"name\":\"plain_total\",\"help\":\"Plain.\",\"labels\":{},\"value\":0},"
      "{\"name\":\"hits_total\",\"help\":\"Hits.\",\"labels\":{\"op\":\"x\"},\"value\":7},"
      "{\"name\":\"hits_total\",\"help\":\"Hits.\",\"labels\":{\"op\":\"y\"},\"value\":1048576}],"
      "\"gauges\":[],\"histograms\":[]}\n";
  assert_string_equal(buf, json);
  cnv_tel_destroy(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_values_and_export),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
