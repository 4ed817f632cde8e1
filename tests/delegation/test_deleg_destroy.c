/* Destroying a verifier whose tables grew large: liburcu's lazy resize worker may still walk
 * the nodes destroy unlinks, so they must outlive a grace period (ASan/TSan catch an early
 * free). Labelled stress: the resize worker is a thread. */
#include "cnv_test_util.h"
#include "deleg_fixture.h"

static void test_destroy_after_growth(void **state) {
  (void)state;
  uint64_t rounds = cnv_test_iters(4) < 2 ? 2 : cnv_test_iters(4);
  uint64_t seed = 42;
  for (uint64_t round = 0; round < rounds; round++) {
    cnv_deleg_verifier *v;
    assert_int_equal(cnv_deleg_verifier_create(NULL, &v), CNV_OK);
    uint64_t n = cnv_test_iters(100000);
    for (uint64_t i = 0; i < n; i++) {
      uint8_t h[CNV_DELEG_HASH_BYTES];
      for (int k = 0; k < 4; k++) {
        uint64_t r = cnv_test_rand(&seed);
        memcpy(h + 8 * k, &r, 8);
      }
      assert_int_equal(cnv_deleg_revoke(v, h), CNV_OK);
    }
    cnv_deleg_verifier_destroy(v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_destroy_after_growth)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
