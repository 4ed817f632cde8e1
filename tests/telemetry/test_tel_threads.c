/* Threads record through their own shards while another thread exports: totals are exact,
 * reads never go backwards, detached shards keep their counts and are reused. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <cnv/telemetry.h>

#include "cnv_test_util.h"

#define THREADS 4

static cnv_telemetry *tel;
static cnv_metric_id ctr, gauge, hist;
static _Atomic int running;

static void *recorder(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  cnv_tel_shard *s;
  assert_int_equal(cnv_tel_attach(tel, &s), CNV_OK);
  uint64_t iters = cnv_test_iters(200000);
  for (uint64_t i = 0; i < iters; i++) {
    assert_int_equal(cnv_tel_counter_add(s, ctr, 1), CNV_OK);
    assert_int_equal(cnv_tel_hist_record(s, hist, cnv_test_rand(&seed) % 100000u), CNV_OK);
    if (i % 64 == 0) {
      assert_int_equal(cnv_tel_gauge_add(tel, gauge, 1), CNV_OK);
      assert_int_equal(cnv_tel_gauge_add(tel, gauge, -1), CNV_OK);
    }
  }
  cnv_tel_detach(s);
  return NULL;
}

static void *exporter(void *arg) {
  (void)arg;
  size_t cap = 1 << 16, len;
  char *buf = malloc(cap);
  assert_non_null(buf);
  uint64_t last = 0;
  while (atomic_load(&running)) {
    assert_int_equal(cnv_tel_export_prometheus_buf(tel, buf, cap, &len), CNV_OK);
    uint64_t v;
    assert_int_equal(cnv_tel_counter_value(tel, ctr, &v), CNV_OK);
    assert_true(v >= last);
    last = v;
  }
  free(buf);
  return NULL;
}

static void test_concurrent_recording(void **state) {
  (void)state;
  cnv_tel_config cfg = {.max_threads = THREADS + 1};
  assert_int_equal(cnv_tel_create(&cfg, &tel), CNV_OK);
  assert_int_equal(cnv_tel_register_counter(tel, "ops_total", "Ops.", NULL, 0, &ctr), CNV_OK);
  assert_int_equal(cnv_tel_register_gauge(tel, "inflight", "In flight.", NULL, 0, &gauge), CNV_OK);
  assert_int_equal(cnv_tel_register_histogram(tel, "lat_seconds", "Latency.", NULL, 0,
                                              &(cnv_tel_hist_opts){.scale = 1e-9}, &hist),
                   CNV_OK);
  atomic_store(&running, 1);
  pthread_t ex, th[THREADS];
  assert_int_equal(pthread_create(&ex, NULL, exporter, NULL), 0);
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, recorder, (void *)(uintptr_t)(i + 1)), 0);
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  atomic_store(&running, 0);
  pthread_join(ex, NULL);
  uint64_t iters = cnv_test_iters(200000), v;
  assert_int_equal(cnv_tel_counter_value(tel, ctr, &v), CNV_OK);
  assert_int_equal(v, THREADS * iters);
  int64_t g;
  assert_int_equal(cnv_tel_gauge_value(tel, gauge, &g), CNV_OK);
  assert_int_equal(g, 0);
  cnv_tel_hist_summary hs;
  assert_int_equal(cnv_tel_hist_summary_get(tel, hist, &hs), CNV_OK);
  assert_int_equal(hs.count, THREADS * iters);
  /* Reattaching reuses a detached shard and keeps its counts. */
  cnv_tel_shard *s[THREADS + 2];
  for (int i = 0; i < THREADS + 1; i++) assert_int_equal(cnv_tel_attach(tel, &s[i]), CNV_OK);
  assert_int_equal(cnv_tel_attach(tel, &s[THREADS + 1]), CNV_ETEL_NO_SHARD);
  assert_int_equal(cnv_tel_counter_add(s[0], ctr, 5), CNV_OK);
  assert_int_equal(cnv_tel_counter_value(tel, ctr, &v), CNV_OK);
  assert_int_equal(v, THREADS * iters + 5);
  for (int i = 0; i < THREADS + 1; i++) cnv_tel_detach(s[i]);
  cnv_tel_destroy(tel);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_concurrent_recording)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
