/* Reservoir (Algorithm L): uniform inclusion by a chi-square test with a fixed seed, the
 * sample is made of stream items without repeats, and short streams are kept whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cnv/telemetry.h>

#define STREAM 10000
#define K 50
#define TRIALS 2000
#define BINS 20
/* Chi-square critical value, 19 degrees of freedom, p = 0.001. */
#define CHI2_CRIT 43.82

static void test_uniform_inclusion(void **state) {
  (void)state;
  static uint32_t hits[BINS];
  static uint8_t seen[STREAM];
  memset(hits, 0, sizeof hits);
  for (int t = 0; t < TRIALS; t++) {
    cnv_reservoir *r;
    assert_int_equal(cnv_reservoir_create(K, 0xC0FFEEu + (uint64_t)t * 7919u, &r), CNV_OK);
    for (uint64_t i = 0; i < STREAM; i++) assert_int_equal(cnv_reservoir_offer(r, i), CNV_OK);
    size_t n;
    uint64_t total;
    const uint64_t *items = cnv_reservoir_items(r, &n, &total);
    assert_int_equal(n, K);
    assert_int_equal(total, STREAM);
    memset(seen, 0, sizeof seen);
    for (size_t j = 0; j < n; j++) {
      assert_true(items[j] < STREAM);
      assert_int_equal(seen[items[j]], 0); /* no item twice */
      seen[items[j]] = 1;
      hits[items[j] / (STREAM / BINS)]++;
    }
    cnv_reservoir_destroy(r);
  }
  double expected = (double)TRIALS * K / BINS, chi2 = 0;
  for (int b = 0; b < BINS; b++) chi2 += ((double)hits[b] - expected) * ((double)hits[b] - expected) / expected;
  if (chi2 >= CHI2_CRIT) fail_msg("chi-square %f >= %f", chi2, CHI2_CRIT);
}

static void test_short_stream_and_errors(void **state) {
  (void)state;
  cnv_reservoir *r;
  assert_int_equal(cnv_reservoir_create(0, 1, &r), CNV_ERANGE);
  assert_int_equal(cnv_reservoir_create(8, 1, &r), CNV_OK);
  for (uint64_t i = 0; i < 5; i++) assert_int_equal(cnv_reservoir_offer(r, i * 10), CNV_OK);
  size_t n;
  const uint64_t *items = cnv_reservoir_items(r, &n, NULL);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < 5; i++) assert_int_equal(items[i], i * 10);
  cnv_reservoir_destroy(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uniform_inclusion),
      cmocka_unit_test(test_short_stream_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
