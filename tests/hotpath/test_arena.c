/* Bump arena and shared arena, single thread: alignment for every power of two up to 4096,
 * distinct errors, exhaustion leaves the arena untouched, reset zeroes and bumps the
 * generation, and under ASan the bytes not handed out are poisoned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"

#if CNV_ARENA_POISONING
#include <sanitizer/asan_interface.h>
#endif

enum { MEM = 1 << 16 };
static unsigned char *mem_;

static int setup(void **state) {
  (void)state;
  mem_ = aligned_alloc(4096, MEM);
  return mem_ ? 0 : -1;
}
/* Each test starts from zeroed memory. */
static int zero_mem(void **state) {
  (void)state;
  memset(mem_, 0, MEM);
  return 0;
}
static int teardown(void **state) {
  (void)state;
  free(mem_);
  return 0;
}

static void test_arena_init_rejects_null(void **state) {
  (void)state;
  cnv_arena a;
  assert_int_equal(cnv_arena_init(NULL, mem_, MEM), CNV_EINVAL);
  assert_int_equal(cnv_arena_init(&a, NULL, MEM), CNV_EINVAL);
  cnv_shared_arena s;
  assert_int_equal(cnv_shared_arena_init(NULL, mem_, MEM), CNV_EINVAL);
  assert_int_equal(cnv_shared_arena_init(&s, NULL, MEM), CNV_EINVAL);
}

/* Every power of two up to 4096, from an odd starting offset so each needs padding. */
/* A NULL arena or output is CNV_EINVAL from the inline fast path too (release builds take
 * it; ASan builds the out-of-line one), never a crash. */
static void test_arena_alloc_rejects_null(void **state) {
  (void)state;
  cnv_arena a;
  void *p = mem_;
  assert_int_equal(cnv_arena_init(&a, mem_, MEM), CNV_OK);
  assert_int_equal(cnv_arena_alloc(NULL, 8, 8, &p), CNV_EINVAL);
  assert_null(p);
  assert_int_equal(cnv_arena_alloc(&a, 8, 8, NULL), CNV_EINVAL);
  assert_int_equal(cnv_arena_alloc(&a, 8, 3, NULL), CNV_EINVAL);
  assert_int_equal(a.used, 0);
  assert_int_equal(cnv_arena_alloc_slow(NULL, 8, 8, &p), CNV_EINVAL);
  assert_int_equal(cnv_arena_alloc_slow(&a, 8, 8, NULL), CNV_EINVAL);
  assert_int_equal(cnv_arena_alloc(&a, 8, 8, &p), CNV_OK);
  assert_ptr_equal(p, a.base);
  cnv_arena_fini(&a);
}

static void test_arena_alignment(void **state) {
  (void)state;
  cnv_arena a;
  assert_int_equal(cnv_arena_init(&a, mem_ + 1, MEM - 1), CNV_OK);
  for (size_t align = 1; align <= 4096; align <<= 1) {
    void *p;
    assert_int_equal(cnv_arena_alloc(&a, 3, 1, &p), CNV_OK); /* misalign the cursor */
    assert_int_equal(cnv_arena_alloc(&a, 24, align, &p), CNV_OK);
    assert_int_equal((uintptr_t)p % align, 0);
    assert_true((unsigned char *)p + 24 <= a.base + a.used);
    memset(p, 0x5A, 24);
  }
  cnv_arena_fini(&a);
}

static void test_arena_bad_alignment(void **state) {
  (void)state;
  cnv_arena a;
  assert_int_equal(cnv_arena_init(&a, mem_, MEM), CNV_OK);
  const size_t bad[] = {0, 3, 6, 12, 4097, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    void *p = &p;
    assert_int_equal(cnv_arena_alloc(&a, 8, bad[i], &p), CNV_EALIGN);
    assert_null(p);
    assert_int_equal(a.used, 0);
  }
  cnv_arena_fini(&a);
}

static void test_arena_exhaustion(void **state) {
  (void)state;
  cnv_arena a;
  assert_int_equal(cnv_arena_init(&a, mem_, 256), CNV_OK);
  void *p;
  assert_int_equal(cnv_arena_alloc(&a, 200, 8, &p), CNV_OK);
  const struct {
    size_t size, align;
  } too_big[] = {{57, 8}, {56, 64}, {SIZE_MAX, 1}, {SIZE_MAX - 190, 64}, {1, (size_t)1 << 63}};
  for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
    void *q = &q;
    assert_int_equal(cnv_arena_alloc(&a, too_big[i].size, too_big[i].align, &q),
                     CNV_EARENA_EXHAUSTED);
    assert_null(q);
    assert_int_equal(a.used, 200); /* nothing used by a failed call */
  }
  assert_int_equal(cnv_arena_alloc(&a, 56, 8, &p), CNV_OK); /* exactly fills it */
  assert_int_equal(a.used, 256);
  assert_int_equal(cnv_arena_alloc(&a, 1, 1, &p), CNV_EARENA_EXHAUSTED);
  assert_int_equal(cnv_arena_alloc(&a, 0, 1, &p), CNV_OK);
  cnv_arena_fini(&a);
}

static void test_arena_reset_zeroes_and_bumps_generation(void **state) {
  (void)state;
  cnv_arena a;
  assert_int_equal(cnv_arena_init(&a, mem_, 1024), CNV_OK);
  for (uint64_t expect = 0; expect < 6; expect += 2) {
    assert_int_equal(a.generation, expect);
    for (int i = 0; i < 10; i++) {
      void *p;
      assert_int_equal(cnv_arena_alloc(&a, 40, 16, &p), CNV_OK);
      for (int b = 0; b < 40; b++) assert_int_equal(((unsigned char *)p)[b], 0);
      memset(p, 0xFF, 40);
    }
    cnv_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.generation, expect + 1);
    void *again;
    assert_int_equal(cnv_arena_alloc(&a, 1, 1, &again), CNV_OK);
    assert_ptr_equal(again, mem_); /* rewound to the start */
    cnv_arena_reset(&a);
  }
  cnv_arena_fini(&a);
  /* Every byte that was handed out is zero again. */
  for (int i = 0; i < 1024; i++) assert_int_equal(mem_[i], 0);
}

#if CNV_ARENA_POISONING
/* ASan builds: fresh memory poisoned, handed-out bytes open, reset poisons stale pointers,
 * fini unpoisons (registered only where the arena poisons). */
static void test_arena_poisoning(void **state) {
  (void)state;
  cnv_arena a;
  assert_int_equal(cnv_arena_init(&a, mem_, 4096), CNV_OK);
  assert_true(__asan_address_is_poisoned(mem_));
  void *p;
  assert_int_equal(cnv_arena_alloc(&a, 64, 64, &p), CNV_OK);
  assert_int_equal(__asan_region_is_poisoned(p, 64), 0);
  assert_true(__asan_address_is_poisoned((unsigned char *)p + 64));
  cnv_arena_reset(&a);
  assert_true(__asan_address_is_poisoned(p)); /* stale pointer: poisoned */
  cnv_arena_fini(&a);
  assert_int_equal(__asan_region_is_poisoned(mem_, 4096), 0);
}
#endif

static void test_shared_arena_single_thread(void **state) {
  (void)state;
  cnv_shared_arena s;
  assert_int_equal(cnv_shared_arena_init(&s, mem_ + 1, 4096), CNV_OK);
  assert_int_equal(cnv_shared_arena_generation(&s), 0);
  unsigned char *prev_end = mem_ + 1;
  for (size_t align = 1; align <= 1024; align <<= 1) {
    void *p;
    assert_int_equal(cnv_shared_arena_alloc(&s, 10, align, &p), CNV_OK);
    assert_int_equal((uintptr_t)p % align, 0);
    assert_true((unsigned char *)p >= prev_end);
    prev_end = (unsigned char *)p + 10;
    memset(p, 0x77, 10);
  }
  assert_true(cnv_shared_arena_used(&s) <= 4096);
  void *q = &q;
  assert_int_equal(cnv_shared_arena_alloc(&s, 8, 0, &q), CNV_EALIGN);
  assert_null(q);
  assert_int_equal(cnv_shared_arena_alloc(&s, 8, 48, &q), CNV_EALIGN);
  assert_int_equal(cnv_shared_arena_alloc(NULL, 8, 8, &q), CNV_EINVAL);
  assert_int_equal(cnv_shared_arena_alloc(&s, 8, 8, NULL), CNV_EINVAL);
  cnv_shared_arena_reset(&s);
  assert_int_equal(cnv_shared_arena_generation(&s), 1);
  assert_int_equal(cnv_shared_arena_used(&s), 0);
  for (int i = 1; i <= 4096; i++) assert_int_equal(mem_[i], 0);
}

static void test_shared_arena_exhaustion(void **state) {
  (void)state;
  cnv_shared_arena s;
  assert_int_equal(cnv_shared_arena_init(&s, mem_, 100), CNV_OK);
  void *p = &p;
  assert_int_equal(cnv_shared_arena_alloc(&s, 101, 1, &p), CNV_EARENA_EXHAUSTED);
  assert_null(p);
  assert_int_equal(cnv_shared_arena_alloc(&s, SIZE_MAX, 1, &p), CNV_EARENA_EXHAUSTED);
  assert_int_equal(cnv_shared_arena_alloc(&s, 1, (size_t)1 << 62, &p), CNV_EARENA_EXHAUSTED);
  assert_int_equal(cnv_shared_arena_used(&s), 0);
  assert_int_equal(cnv_shared_arena_alloc(&s, 60, 1, &p), CNV_OK);
  assert_int_equal(cnv_shared_arena_alloc(&s, 41, 1, &p), CNV_EARENA_EXHAUSTED);
  assert_int_equal(cnv_shared_arena_used(&s), 60); /* the failed reservation was undone */
  assert_int_equal(cnv_shared_arena_alloc(&s, 40, 1, &p), CNV_OK);
  assert_int_equal(cnv_shared_arena_alloc(&s, 1, 1, &p), CNV_EARENA_EXHAUSTED);
  cnv_shared_arena_reset(&s);
  assert_int_equal(cnv_shared_arena_alloc(&s, 100, 1, &p), CNV_OK);
  assert_ptr_equal(p, mem_);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_arena_init_rejects_null, zero_mem),
    cmocka_unit_test_setup(test_arena_alloc_rejects_null, zero_mem),
    cmocka_unit_test_setup(test_arena_alignment, zero_mem),
    cmocka_unit_test_setup(test_arena_bad_alignment, zero_mem),
    cmocka_unit_test_setup(test_arena_exhaustion, zero_mem),
    cmocka_unit_test_setup(test_arena_reset_zeroes_and_bumps_generation, zero_mem),
#if CNV_ARENA_POISONING
    cmocka_unit_test_setup(test_arena_poisoning, zero_mem),
#endif
    cmocka_unit_test_setup(test_shared_arena_single_thread, zero_mem),
    cmocka_unit_test_setup(test_shared_arena_exhaustion, zero_mem),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
