/* The stream tally: the same figures as cnv_variety_exact on the same ids, id 0 counted,
 * overflow past a tiny table, errors, and exact counts with threads observing at once. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cnv/variety.h>

#include "cnv_test_util.h"

#define THREADS 4

static void test_matches_exact(void **state) {
  (void)state;
  cnv_variety_tally *t;
  assert_int_equal(cnv_variety_tally_create(64, &t), CNV_OK);
  uint64_t ids[200], seed = 7;
  for (size_t i = 0; i < 200; i++) {
    ids[i] = i % 5 == 0 ? 0 : cnv_test_rand(&seed) % 40u * 0x10001u; /* 0 among them */
    assert_int_equal(cnv_variety_tally_observe(t, ids[i]), CNV_OK);
  }
  cnv_variety_tally_stats s;
  cnv_variety want;
  assert_int_equal(cnv_variety_tally_read(t, &s), CNV_OK);
  assert_int_equal(cnv_variety_exact(ids, 200, NULL, &want), CNV_OK);
  assert_int_equal(s.observations, 200);
  assert_int_equal(s.overflow, 0);
  assert_int_equal(s.distinct, want.distinct);
  assert_true(fabs(s.bits - want.bits) < 1e-9);
  assert_true(fabs(s.entropy - want.entropy) < 1e-9);
  cnv_variety_tally_destroy(t);
}

static void test_overflow_and_errors(void **state) {
  (void)state;
  cnv_variety_tally *t;
  assert_int_equal(cnv_variety_tally_create(0, &t), CNV_ERANGE);
  assert_int_equal(cnv_variety_tally_create((1u << 24) + 1, &t), CNV_ERANGE);
  assert_int_equal(cnv_variety_tally_create(4, NULL), CNV_EINVAL);
  assert_int_equal(cnv_variety_tally_observe(NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_variety_tally_create(4, &t), CNV_OK); /* 8 slots */
  for (uint64_t id = 1; id <= 20; id++) assert_int_equal(cnv_variety_tally_observe(t, id), CNV_OK);
  cnv_variety_tally_stats s;
  assert_int_equal(cnv_variety_tally_read(t, &s), CNV_OK);
  assert_int_equal(s.distinct, 8);
  assert_int_equal(s.overflow, 12);
  assert_int_equal(s.observations, 20);
  assert_int_equal(cnv_variety_tally_read(t, NULL), CNV_EINVAL);
  cnv_variety_tally_destroy(t);
  cnv_variety_tally_destroy(NULL);
}

static cnv_variety_tally *shared;

/* Each thread observes ids 1..100, id k (k + 1) times per round. */
static void *observer(void *arg) {
  (void)arg;
  uint64_t rounds = cnv_test_iters(200);
  for (uint64_t r = 0; r < rounds; r++) {
    for (uint64_t k = 1; k <= 100; k++) {
      for (uint64_t n = 0; n <= k; n++) {
        assert_int_equal(cnv_variety_tally_observe(shared, k), CNV_OK);
      }
    }
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  assert_int_equal(cnv_variety_tally_create(256, &shared), CNV_OK);
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    assert_int_equal(pthread_create(&th[i], NULL, observer, NULL), 0);
  }
  cnv_variety_tally_stats s;
  assert_int_equal(cnv_variety_tally_read(shared, &s), CNV_OK); /* concurrent read */
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  assert_int_equal(cnv_variety_tally_read(shared, &s), CNV_OK);
  uint64_t per_round = 0;
  for (uint64_t k = 1; k <= 100; k++) per_round += k + 1;
  assert_int_equal(s.observations, THREADS * cnv_test_iters(200) * per_round);
  assert_int_equal(s.overflow, 0);
  assert_int_equal(s.distinct, 100);
  double h = 0;
  for (uint64_t k = 1; k <= 100; k++) {
    double p = (double)(k + 1) / (double)per_round;
    h -= p * log2(p);
  }
  assert_true(fabs(s.entropy - h) < 1e-9);
  cnv_variety_tally_destroy(shared);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matches_exact),
      cmocka_unit_test(test_overflow_and_errors),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
