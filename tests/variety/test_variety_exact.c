/* Exact variety against a straightforward sort-and-count reference with double entropy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cnv/variety.h>

#include "cnv_test_util.h"

static cnv_variety_scratch scratch;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static void reference(const uint64_t *ids, size_t n, uint32_t *distinct, double *entropy) {
  static uint64_t s[CNV_VARIETY_BATCH_MAX];
  memcpy(s, ids, n * sizeof *s);
  qsort(s, n, sizeof *s, cmp_u64);
  *distinct = 0;
  *entropy = 0.0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && s[j] == s[i]) j++;
    double p = (double)(j - i) / (double)n;
    *entropy -= p * log2(p);
    (*distinct)++;
    i = j;
  }
}

static void check_batch(const uint64_t *ids, size_t n) {
  cnv_variety v;
  uint32_t d;
  double h;
  assert_int_equal(cnv_variety_exact(ids, n, n > CNV_VARIETY_STACK_MAX ? &scratch : NULL, &v),
                   CNV_OK);
  reference(ids, n, &d, &h);
  assert_int_equal(v.observations, n);
  assert_int_equal(v.distinct, d);
  assert_true(v.bits == (d > 1 ? log2((double)d) : 0.0));
  assert_true(fabs(v.entropy - h) < 1e-9);
  assert_true(v.entropy >= 0.0 && v.entropy <= v.bits);
}

static void test_random_batches(void **state) {
  (void)state;
  static uint64_t ids[CNV_VARIETY_BATCH_MAX];
  static const size_t ns[] = {1, 2, 3, 15, 16, 17, 100, 255, 256, 257, 1000, 4096};
  uint64_t rng = 11;
  for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
    for (uint64_t alphabet = 1; alphabet <= 1u << 20; alphabet *= 8) {
      for (size_t i = 0; i < ns[k]; i++) ids[i] = cnv_test_rand(&rng) % alphabet * 0x10001;
      check_batch(ids, ns[k]);
    }
  }
}

static void test_edges(void **state) {
  (void)state;
  static uint64_t ids[CNV_VARIETY_BATCH_MAX];
  cnv_variety v;
  assert_int_equal(cnv_variety_exact(NULL, 0, NULL, &v), CNV_OK);
  assert_int_equal(v.distinct, 0);
  assert_true(v.bits == 0.0 && v.entropy == 0.0);
  for (size_t i = 0; i < 4096; i++) ids[i] = 7;
  assert_int_equal(cnv_variety_exact(ids, 4096, &scratch, &v), CNV_OK);
  assert_int_equal(v.distinct, 1);
  assert_true(v.entropy == 0.0);
  for (size_t i = 0; i < 4096; i++) ids[i] = i * 0x9E3779B97F4A7C15ull;
  assert_int_equal(cnv_variety_exact(ids, 4096, &scratch, &v), CNV_OK);
  assert_int_equal(v.distinct, 4096);
  assert_true(v.bits == 12.0 && v.entropy == 12.0);
  for (size_t i = 0; i < 100; i++) ids[i] = i & 1;
  assert_int_equal(cnv_variety_exact(ids, 100, NULL, &v), CNV_OK);
  assert_true(fabs(v.entropy - 1.0) < 1e-12 && v.bits == 1.0);
}

static void test_errors(void **state) {
  (void)state;
  static uint64_t ids[CNV_VARIETY_BATCH_MAX + 1];
  cnv_variety v;
  assert_int_equal(cnv_variety_exact(ids, 10, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_variety_exact(NULL, 10, NULL, &v), CNV_EINVAL);
  assert_int_equal(cnv_variety_exact(ids, CNV_VARIETY_STACK_MAX + 1, NULL, &v),
                   CNV_EVARIETY_NEED_SCRATCH);
  assert_int_equal(cnv_variety_exact(ids, CNV_VARIETY_BATCH_MAX + 1, &scratch, &v),
                   CNV_ERANGE);
  assert_int_equal(cnv_variety_exact(ids, CNV_VARIETY_STACK_MAX, NULL, &v), CNV_OK);
  assert_int_equal(v.distinct, 1);
  assert_true(cnv_variety_bits(0.0) == 0.0 && cnv_variety_bits(1.0) == 0.0);
  assert_true(cnv_variety_bits(1024.0) == 10.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_batches),
      cmocka_unit_test(test_edges),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
