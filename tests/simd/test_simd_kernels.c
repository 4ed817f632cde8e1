/* Every kernel on every path this machine can run, bit for bit against its scalar twin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "simd_compare.h"

typedef void (*cmp_fn)(const cnv_simd_kernels *, const cnv_simd_kernels *, simd_cmp_report *);

/* Runs one comparison for every runnable path; fails naming the path and the check. */
static void each_path(cmp_fn fn) {
  const cnv_simd_kernels *ref = NULL;
  assert_int_equal(cnv_simd_kernels_get(CNV_SIMD_SCALAR, &ref), CNV_OK);
  unsigned runnable = cnv_simd_runnable();
  for (unsigned p = 0; p < CNV_SIMD_PATH_COUNT; p++) {
    const cnv_simd_kernels *k = NULL;
    if (!(runnable & (1u << p))) {
      assert_int_equal(cnv_simd_kernels_get((cnv_simd_path)p, &k), CNV_ENOTSUP);
      continue;
    }
    assert_int_equal(cnv_simd_kernels_get((cnv_simd_path)p, &k), CNV_OK);
    assert_int_equal(k->path, p);
    simd_cmp_report r = {0, 0, NULL};
    fn(ref, k, &r);
    if (r.failed)
      fail_msg("path %s: %u checks failed, first: %s", cnv_simd_path_name(k->path), r.failed,
               r.first_failure);
    assert_true(r.passed > 0);
  }
}

static void known_answers(const cnv_simd_kernels *ref, const cnv_simd_kernels *k,
                          simd_cmp_report *r) {
  (void)ref;
  simd_cmp_known_answers(k, r);
}

static void test_hash(void **state) {
  (void)state;
  each_path(simd_cmp_hash);
}
static void test_capcheck(void **state) {
  (void)state;
  each_path(simd_cmp_capcheck);
}
static void test_effects(void **state) {
  (void)state;
  each_path(simd_cmp_effects);
}
static void test_zero(void **state) {
  (void)state;
  each_path(simd_cmp_zero);
}
static void test_variety(void **state) {
  (void)state;
  each_path(simd_cmp_variety);
}
static void test_hll(void **state) {
  (void)state;
  each_path(simd_cmp_hll);
}
static void test_path(void **state) {
  (void)state;
  each_path(simd_cmp_path);
}
static void test_bits_or(void **state) {
  (void)state;
  each_path(simd_cmp_bits_or);
}
static void test_known_answers(void **state) {
  (void)state;
  each_path(known_answers);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash),
      cmocka_unit_test(test_capcheck),
      cmocka_unit_test(test_effects),
      cmocka_unit_test(test_zero),
      cmocka_unit_test(test_variety),
      cmocka_unit_test(test_hll),
      cmocka_unit_test(test_path),
      cmocka_unit_test(test_bits_or),
      cmocka_unit_test(test_known_answers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
