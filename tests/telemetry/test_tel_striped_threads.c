/* Striped counters under contention: more threads than stripes (so stripes are shared), none
 * attached, adding while another thread reads and exports; the final sum is exact and reads
 * never go backwards. */
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

#define THREADS 40 /* more than the 32 stripes */

static cnv_telemetry *tel;
static cnv_metric_id ctr[2];
static _Atomic int running;

/* Thread k adds k % 3 + 1 to counter 0 and 1 to counter 1, iters times. */
static void *adder(void *arg) {
  uint64_t k = (uint64_t)(uintptr_t)arg;
  uint64_t iters = cnv_test_iters(50000);
  for (uint64_t i = 0; i < iters; i++) {
    assert_int_equal(cnv_tel_striped_add(tel, ctr[0], k % 3 + 1), CNV_OK);
    assert_int_equal(cnv_tel_striped_add(tel, ctr[1], 1), CNV_OK);
  }
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  size_t cap = 1 << 12, len;
  char *buf = malloc(cap);
  assert_non_null(buf);
  uint64_t last = 0;
  while (atomic_load(&running)) {
    assert_int_equal(cnv_tel_export_prometheus_buf(tel, buf, cap, &len), CNV_OK);
    uint64_t v;
    assert_int_equal(cnv_tel_counter_value(tel, ctr[0], &v), CNV_OK);
    assert_true(v >= last);
    last = v;
  }
  free(buf);
  return NULL;
}

static void test_exact_sum(void **state) {
  (void)state;
  assert_int_equal(cnv_tel_create(NULL, &tel), CNV_OK);
  cnv_tel_label la = {"kind", "weighted"}, lb = {"kind", "ones"};
  assert_int_equal(cnv_tel_register_striped_counter(tel, "ops_total", "Ops.", &la, 1, &ctr[0]),
                   CNV_OK);
  assert_int_equal(cnv_tel_register_striped_counter(tel, "ops_total", "Ops.", &lb, 1, &ctr[1]),
                   CNV_OK);
  atomic_store(&running, 1);
  pthread_t r, th[THREADS];
  assert_int_equal(pthread_create(&r, NULL, reader, NULL), 0);
  for (uintptr_t k = 0; k < THREADS; k++) {
    assert_int_equal(pthread_create(&th[k], NULL, adder, (void *)k), 0);
  }
  for (int k = 0; k < THREADS; k++) pthread_join(th[k], NULL);
  atomic_store(&running, 0);
  pthread_join(r, NULL);
  uint64_t iters = cnv_test_iters(50000), want0 = 0, v;
  for (uint64_t k = 0; k < THREADS; k++) want0 += (k % 3 + 1) * iters;
  assert_int_equal(cnv_tel_counter_value(tel, ctr[0], &v), CNV_OK);
  assert_int_equal(v, want0);
  assert_int_equal(cnv_tel_counter_value(tel, ctr[1], &v), CNV_OK);
  assert_int_equal(v, THREADS * iters);
  cnv_tel_destroy(tel);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_exact_sum)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
