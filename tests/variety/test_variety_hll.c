/* HyperLogLog: relative error measured over many seeds at 10^3 .. 10^7 distinct ids (10^8
 * with CNV_HLL_CARD_MAX=100000000, by hand), merge == union, duplicates, errors. */
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

static cnv_hll sketch, other, both;

/* Adds ids base .. base+count-1 (distinct) in chunks. */
static void add_range(cnv_hll *h, uint64_t base, uint64_t count) {
  uint64_t ids[4096];
  for (uint64_t done = 0; done < count;) {
    size_t len = count - done < 4096 ? (size_t)(count - done) : 4096;
    for (size_t i = 0; i < len; i++) ids[i] = base + done + i;
    assert_int_equal(cnv_hll_add(h, ids, len), CNV_OK);
    done += len;
  }
}

/* Relative error of one trial: `card` consecutive ids from a random base, random seed. */
static double trial_error(unsigned p, uint64_t card, uint64_t *rng) {
  double est;
  assert_int_equal(cnv_hll_init(&sketch, p, cnv_test_rand(rng)), CNV_OK);
  add_range(&sketch, cnv_test_rand(rng), card);
  assert_int_equal(cnv_hll_estimate(&sketch, &est), CNV_OK);
  return est / (double)card - 1.0;
}

/* chi-square 99.9% quantile / dof, square-rooted, for the trial counts used below: the RMS of
 * T trials stays under sigma * this factor unless the estimator's error exceeds sigma. */
static double rms_slack(unsigned trials) {
  return trials >= 200   ? 1.16
         : trials >= 100 ? 1.22
         : trials >= 50  ? 1.32
         : trials >= 12  ? 1.66
                         : 2.15;
}

static void measure(unsigned p, uint64_t card, unsigned trials) {
  double sigma = 1.04 / sqrt(ldexp(1.0, (int)p)), sum = 0, sq = 0;
  uint64_t rng = card * 31 + p;
  for (unsigned t = 0; t < trials; t++) {
    double e = trial_error(p, card, &rng);
    sum += e;
    sq += e * e;
  }
  double rms = sqrt(sq / trials), bias = sum / trials;
  print_message("hll p=%u n=%-10llu trials=%-4u rms=%.5f bias=%+.5f bound=%.5f (%.2f of bound)\n",
                p, (unsigned long long)card, trials, rms, bias, sigma, rms / sigma);
  assert_true(rms <= sigma * rms_slack(trials));
  assert_true(fabs(bias) <= 3.3 * sigma / sqrt(trials) + 0.002);
}

static unsigned scaled(unsigned trials) { return (unsigned)cnv_test_iters(trials * 10) / 10 + 1; }

static void test_error_p14(void **state) {
  (void)state;
  const char *max_env = getenv("CNV_HLL_CARD_MAX");
  uint64_t max = max_env ? strtoull(max_env, NULL, 10) : 10000000u;
  static const unsigned trials[] = {200, 100, 100, 50, 12, 12};
  unsigned k = 0;
  for (uint64_t card = 1000; card <= max && k < 6; card *= 10, k++)
    measure(14, card, scaled(trials[k]));
}

static void test_error_p12(void **state) {
  (void)state;
  measure(12, 1000, scaled(200));
  measure(12, 5000, scaled(200)); /* around the small-range transition */
  measure(12, 100000, scaled(50));
}

static void test_small_and_empty(void **state) {
  (void)state;
  double est;
  assert_int_equal(cnv_hll_init(&sketch, 14, 1), CNV_OK);
  assert_int_equal(cnv_hll_estimate(&sketch, &est), CNV_OK);
  assert_true(est == 0.0);
  for (uint64_t n = 1; n <= 100; n++) {
    add_range(&sketch, n - 1, 1);
    assert_int_equal(cnv_hll_estimate(&sketch, &est), CNV_OK);
    assert_true(fabs(est - (double)n) <= 0.5 + 0.02 * (double)n);
  }
  assert_int_equal(cnv_hll_reset(&sketch), CNV_OK);
  assert_int_equal(cnv_hll_estimate(&sketch, &est), CNV_OK);
  assert_true(est == 0.0);
}

static void test_merge_is_union(void **state) {
  (void)state;
  assert_int_equal(cnv_hll_init(&sketch, 13, 99), CNV_OK);
  assert_int_equal(cnv_hll_init(&other, 13, 99), CNV_OK);
  assert_int_equal(cnv_hll_init(&both, 13, 99), CNV_OK);
  add_range(&sketch, 0, 200000);
  add_range(&other, 100000, 200000);
  add_range(&both, 0, 300000);
  assert_int_equal(cnv_hll_merge(&sketch, &other), CNV_OK);
  assert_memory_equal(sketch.regs, both.regs, sizeof both.regs);
  assert_int_equal(cnv_hll_merge(&both, &both), CNV_OK);
  assert_memory_equal(sketch.regs, both.regs, sizeof both.regs);
  add_range(&both, 0, 300000); /* duplicates change nothing */
  assert_memory_equal(sketch.regs, both.regs, sizeof both.regs);
}

static void test_errors(void **state) {
  (void)state;
  uint64_t id = 1;
  double est;
  assert_int_equal(cnv_hll_init(&sketch, 11, 0), CNV_ERANGE);
  assert_int_equal(cnv_hll_init(&sketch, 15, 0), CNV_ERANGE);
  assert_int_equal(cnv_hll_init(NULL, 14, 0), CNV_EINVAL);
  assert_int_equal(cnv_hll_init(&sketch, 12, 5), CNV_OK);
  assert_int_equal(cnv_hll_init(&other, 14, 5), CNV_OK);
  assert_int_equal(cnv_hll_merge(&sketch, &other), CNV_EVARIETY_HLL_MISMATCH);
  assert_int_equal(cnv_hll_init(&other, 12, 6), CNV_OK);
  assert_int_equal(cnv_hll_merge(&sketch, &other), CNV_EVARIETY_HLL_MISMATCH);
  assert_int_equal(cnv_hll_merge(NULL, &other), CNV_EINVAL);
  assert_int_equal(cnv_hll_add(&sketch, NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_hll_add(&sketch, &id, 1), CNV_OK);
  assert_int_equal(cnv_hll_estimate(&sketch, NULL), CNV_EINVAL);
  assert_int_equal(cnv_hll_estimate(NULL, &est), CNV_EINVAL);
  assert_int_equal(cnv_hll_reset(NULL), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_small_and_empty),
      cmocka_unit_test(test_merge_is_union),
      cmocka_unit_test(test_error_p12),
      cmocka_unit_test(test_error_p14),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
