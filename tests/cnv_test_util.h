/* Shared helpers for tests: sanitizer-aware scaling of stress iterations and a seeded PRNG. */
#ifndef CNV_TEST_UTIL_H
#define CNV_TEST_UTIL_H

#include <stdint.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CNV_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define CNV_TEST_SANITIZED 1
#endif
#endif

/* Iterations for a stress loop: `full` in plain builds, a tenth (at least 1) under ASan/TSan,
 * which run 5-20x slower, so CI stays within its time budget with the same coverage shape. */
static inline uint64_t cnv_test_iters(uint64_t full) {
#ifdef CNV_TEST_SANITIZED
  return full / 10 ? full / 10 : 1;
#else
  return full;
#endif
}

/* splitmix64: small, seeded, reproducible. */
static inline uint64_t cnv_test_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

#endif
