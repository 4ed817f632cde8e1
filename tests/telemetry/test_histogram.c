/* Log-linear histogram: bucket geometry, quantiles within 1% of the exact sorted quantiles
 * on 10^6 samples of several distributions, and merging. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <cnv/telemetry.h>

#include "cnv_test_util.h"

#define SAMPLES 1000000

static double unit(uint64_t *s) { return ((double)(cnv_test_rand(s) >> 11) + 0.5) / 9007199254740992.0; }

static uint64_t draw(int dist, uint64_t *s) {
  switch (dist) {
    case 0:
      return cnv_test_rand(s) % 1000000u; /* uniform */
    case 1:
      return (uint64_t)(-log(unit(s)) * 1e5); /* exponential */
    case 2: {                                 /* log-normal */
      double z = sqrt(-2.0 * log(unit(s))) * cos(6.283185307179586 * unit(s));
      return (uint64_t)exp(10.0 + 2.0 * z);
    }
    default:
      return (uint64_t)(1000.0 / pow(unit(s), 1.0 / 1.5)); /* Pareto */
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_bucket_geometry(void **state) {
  (void)state;
  uint64_t prev_hi = 0;
  for (uint32_t b = 0; b < CNV_HIST_BUCKETS; b++) {
    uint64_t lo, hi;
    cnv_histogram_bucket_range(b, &lo, &hi);
    if (b) assert_int_equal(lo, prev_hi + 1); /* contiguous, no gaps or overlaps */
    assert_int_equal(cnv_histogram_bucket_of(lo), b);
    assert_int_equal(cnv_histogram_bucket_of(hi), b);
    assert_true((double)(hi - lo) / 2.0 <= (double)lo / 256.0 + 0.5); /* midpoint within 0.4% */
    prev_hi = hi;
  }
  assert_true(prev_hi == UINT64_MAX);
}

static void test_quantile_accuracy(void **state) {
  (void)state;
  uint64_t *x = malloc(SAMPLES * sizeof *x);
  assert_non_null(x);
  static const double qs[] = {0.5, 0.95, 0.99, 0.999};
  for (int dist = 0; dist < 4; dist++) {
    cnv_histogram *h;
    assert_int_equal(cnv_histogram_create(&h), CNV_OK);
    uint64_t seed = 42u + (uint64_t)dist;
    for (int i = 0; i < SAMPLES; i++) {
      x[i] = draw(dist, &seed);
      assert_int_equal(cnv_histogram_record_n(h, x[i], 1), CNV_OK);
    }
    qsort(x, SAMPLES, sizeof *x, cmp_u64);
    assert_int_equal(cnv_histogram_count(h), SAMPLES);
    for (int j = 0; j < 4; j++) {
      uint64_t exact = x[(size_t)ceil(qs[j] * SAMPLES) - 1], est;
      assert_int_equal(cnv_histogram_quantile(h, qs[j], &est), CNV_OK);
      double rel = exact ? fabs((double)est - (double)exact) / (double)exact : (double)est;
      if (rel > 0.01) fail_msg("dist %d q %g exact %llu est %llu", dist, qs[j],
                               (unsigned long long)exact, (unsigned long long)est);
    }
    cnv_histogram_destroy(h);
  }
  free(x);
}

static void test_merge_and_errors(void **state) {
  (void)state;
  cnv_histogram *a, *b, *all;
  assert_int_equal(cnv_histogram_create(&a), CNV_OK);
  assert_int_equal(cnv_histogram_create(&b), CNV_OK);
  assert_int_equal(cnv_histogram_create(&all), CNV_OK);
  uint64_t v;
  assert_int_equal(cnv_histogram_quantile(a, 0.5, &v), CNV_EEMPTY);
  assert_int_equal(cnv_histogram_quantile(a, 1.5, &v), CNV_ERANGE);
  uint64_t seed = 7;
  for (int i = 0; i < 100000; i++) {
    uint64_t x = draw(2, &seed);
    assert_int_equal(cnv_histogram_record_n(i % 3 ? a : b, x, 1), CNV_OK);
    assert_int_equal(cnv_histogram_record_n(all, x, 1), CNV_OK);
  }
  assert_int_equal(cnv_histogram_merge(a, b), CNV_OK);
  assert_int_equal(cnv_histogram_merge(a, a), CNV_EINVAL);
  assert_int_equal(cnv_histogram_count(a), cnv_histogram_count(all));
  for (double q = 0.0; q <= 1.0; q += 0.01) {
    uint64_t x, y;
    assert_int_equal(cnv_histogram_quantile(a, q, &x), CNV_OK);
    assert_int_equal(cnv_histogram_quantile(all, q, &y), CNV_OK);
    assert_int_equal(x, y);
  }
  assert_int_equal(cnv_histogram_record_n(b, 5, 10), CNV_OK);
  cnv_histogram_destroy(a);
  cnv_histogram_destroy(b);
  cnv_histogram_destroy(all);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bucket_geometry),
      cmocka_unit_test(test_quantile_accuracy),
      cmocka_unit_test(test_merge_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
