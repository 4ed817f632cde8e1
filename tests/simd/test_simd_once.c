/* Threads racing on the first kernel call: the once-guarded selection runs once and every
 * thread sees the same path and a working table (TSan checks the publication). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include <cnv/simd.h>

#define THREADS 8

static pthread_barrier_t start;

static void *racer(void *arg) {
  uint64_t ids[64], out[64], want[64];
  for (unsigned i = 0; i < 64; i++) ids[i] = i * 977u + (uintptr_t)arg;
  pthread_barrier_wait(&start);
  cnv_simd_path p = cnv_simd_active_path();
  if (cnv_simd_hash64(ids, 64, 5, out) != CNV_OK) return NULL;
  for (unsigned i = 0; i < 64; i++) want[i] = cnv_simd_hash64_one(ids[i], 5);
  for (unsigned i = 0; i < 64; i++)
    if (want[i] != out[i]) return NULL;
  return (void *)(uintptr_t)(p + 1);
}

static void test_first_call_race(void **state) {
  (void)state;
  pthread_t t[THREADS];
  void *res[THREADS];
  assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
  for (uintptr_t i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, racer, (void *)i), 0);
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(t[i], &res[i]), 0);
  pthread_barrier_destroy(&start);
  for (int i = 0; i < THREADS; i++) {
    assert_non_null(res[i]);
    assert_ptr_equal(res[i], res[0]);
  }
  assert_int_equal((uintptr_t)res[0] - 1, cnv_simd_active_path());
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_first_call_race)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
