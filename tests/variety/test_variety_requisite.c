/* Requisite variety: deficit arithmetic, the threshold crossing, and rejected inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include <cnv/variety.h>

static void test_deficit(void **state) {
  (void)state;
  cnv_requisite r;
  assert_int_equal(cnv_variety_requisite(3.0, 5.5, 2.0, &r), CNV_OK);
  assert_true(r.deficit_bits == 2.5 && r.exceeded);
  assert_true(r.regulator_bits == 3.0 && r.disturbance_bits == 5.5);
  assert_int_equal(cnv_variety_requisite(3.0, 5.0, 2.0, &r), CNV_OK);
  assert_true(r.deficit_bits == 2.0 && !r.exceeded); /* crossing means strictly above */
  assert_int_equal(cnv_variety_requisite(8.0, 5.0, 0.0, &r), CNV_OK);
  assert_true(r.deficit_bits == 0.0 && !r.exceeded); /* surplus regulator variety */
  assert_int_equal(cnv_variety_requisite(0.0, 0.5, 0.0, &r), CNV_OK);
  assert_true(r.exceeded);
}

/* From observations: a regulator with 4 responses facing 64 disturbance states. */
static void test_from_batches(void **state) {
  (void)state;
  uint64_t reg[64], dist[64];
  cnv_variety vr, vd;
  cnv_requisite r;
  for (int i = 0; i < 64; i++) reg[i] = (uint64_t)i % 4, dist[i] = (uint64_t)i;
  assert_int_equal(cnv_variety_exact(reg, 64, NULL, &vr), CNV_OK);
  assert_int_equal(cnv_variety_exact(dist, 64, NULL, &vd), CNV_OK);
  assert_int_equal(cnv_variety_requisite(vr.bits, vd.bits, 3.0, &r), CNV_OK);
  assert_true(r.deficit_bits == 4.0 && r.exceeded);
}

static void test_bad_values(void **state) {
  (void)state;
  cnv_requisite r;
  assert_int_equal(cnv_variety_requisite(1.0, 2.0, 0.0, NULL), CNV_EINVAL);
  assert_int_equal(cnv_variety_requisite(-1.0, 2.0, 0.0, &r), CNV_ERANGE);
  assert_int_equal(cnv_variety_requisite(1.0, NAN, 0.0, &r), CNV_ERANGE);
  assert_int_equal(cnv_variety_requisite(1.0, 2.0, INFINITY, &r), CNV_ERANGE);
  assert_int_equal(cnv_variety_requisite(1.0, 2.0, -0.5, &r), CNV_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deficit),
      cmocka_unit_test(test_from_batches),
      cmocka_unit_test(test_bad_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
