/* Context pool, single thread: every bad input gets its own error, handles are detected
 * stale/forged, caches return their slots, contexts are zeroed and cache-line aligned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"

static cnv_pool *make(uint32_t cap, uint32_t size) {
  cnv_pool *p = NULL;
  assert_int_equal(cnv_pool_create(cap, size, &p), CNV_OK);
  assert_non_null(p);
  return p;
}

static void test_create_rejects_bad_arguments(void **state) {
  (void)state;
  cnv_pool *p = (cnv_pool *)&p;
  assert_int_equal(cnv_pool_create(0, 64, &p), CNV_ECAPACITY);
  assert_null(p);
  assert_int_equal(cnv_pool_create(3, 64, &p), CNV_ECAPACITY);
  assert_int_equal(cnv_pool_create(1000, 64, &p), CNV_ECAPACITY);
  assert_int_equal(cnv_pool_create(CNV_HOTPATH_MAX_CAPACITY << 1, 64, &p), CNV_ECAPACITY);
  assert_int_equal(cnv_pool_create(8, 0, &p), CNV_ERANGE);
  assert_int_equal(cnv_pool_create(8, (1u << 20) + 1, &p), CNV_ERANGE);
  assert_int_equal(cnv_pool_create(8, 64, NULL), CNV_EINVAL);
  assert_null(p);
  p = make(1, 1u << 20);
  assert_int_equal(cnv_pool_capacity(p), 1);
  cnv_pool_destroy(p);
  cnv_pool_destroy(NULL);
}

static void test_contexts_zeroed_aligned_distinct(void **state) {
  (void)state;
  enum { CAP = 16,
         SIZE = 100 };
  cnv_pool *p = make(CAP, SIZE);
  unsigned char *ptrs[CAP];
  for (int i = 0; i < CAP; i++) {
    cnv_handle h;
    void *v;
    assert_int_equal(cnv_pool_acquire(p, NULL, &h), CNV_OK);
    assert_int_not_equal(h, CNV_HANDLE_INVALID);
    assert_int_equal(cnv_pool_get(p, h, &v), CNV_OK);
    ptrs[i] = v;
    assert_int_equal((uintptr_t)v % CNV_CACHELINE, 0);
    for (int b = 0; b < SIZE; b++) assert_int_equal(ptrs[i][b], 0);
    memset(v, 0xA5, SIZE);
  }
  /* The contexts never overlap: each is at least SIZE bytes from every other. */
  for (int i = 0; i < CAP; i++)
    for (int j = i + 1; j < CAP; j++) {
      uintptr_t a = (uintptr_t)ptrs[i], b = (uintptr_t)ptrs[j];
      assert_true(a + SIZE <= b || b + SIZE <= a);
    }
  assert_int_equal(cnv_pool_in_use(p), CAP);
  cnv_pool_destroy(p);
}

static void test_exhaustion_and_refill(void **state) {
  (void)state;
  cnv_pool *p = make(4, 64);
  cnv_handle h[4], extra = 77;
  for (int i = 0; i < 4; i++) assert_int_equal(cnv_pool_acquire(p, NULL, &h[i]), CNV_OK);
  assert_int_equal(cnv_pool_acquire(p, NULL, &extra), CNV_EPOOL_EXHAUSTED);
  assert_int_equal(extra, CNV_HANDLE_INVALID);
  cnv_pool_cache c;
  cnv_pool_cache_init(&c);
  assert_int_equal(cnv_pool_acquire(p, &c, &extra), CNV_EPOOL_EXHAUSTED);
  assert_int_equal(cnv_pool_release(p, NULL, h[2]), CNV_OK);
  assert_int_equal(cnv_pool_acquire(p, &c, &extra), CNV_OK);
  assert_int_equal((uint32_t)extra, (uint32_t)h[2]); /* same slot, new generation */
  assert_int_not_equal(extra, h[2]);
  assert_int_equal(cnv_pool_in_use(p), 4);
  cnv_pool_destroy(p);
}

static void test_stale_and_double_release(void **state) {
  (void)state;
  cnv_pool *p = make(8, 64);
  cnv_handle h, h2;
  void *v = &v;
  assert_int_equal(cnv_pool_acquire(p, NULL, &h), CNV_OK);
  assert_int_equal(cnv_pool_release(p, NULL, h), CNV_OK);
  assert_int_equal(cnv_pool_release(p, NULL, h), CNV_ESTALE_HANDLE);
  assert_int_equal(cnv_pool_get(p, h, &v), CNV_ESTALE_HANDLE);
  assert_null(v);
  /* The slot comes back under a new generation: the old handle stays stale. */
  for (int i = 0; i < 8; i++) {
    assert_int_equal(cnv_pool_acquire(p, NULL, &h2), CNV_OK);
    if ((uint32_t)h2 == (uint32_t)h) break;
  }
  assert_int_equal((uint32_t)h2, (uint32_t)h);
  assert_int_equal(cnv_pool_get(p, h, &v), CNV_ESTALE_HANDLE);
  assert_int_equal(cnv_pool_release(p, NULL, h), CNV_ESTALE_HANDLE);
  assert_int_equal(cnv_pool_get(p, h2, &v), CNV_OK);
  assert_int_equal(cnv_pool_release(p, NULL, h2), CNV_OK);
  cnv_pool_destroy(p);
}

static void test_forged_handles(void **state) {
  (void)state;
  cnv_pool *p = make(8, 64);
  cnv_handle h;
  void *v = &v;
  assert_int_equal(cnv_pool_acquire(p, NULL, &h), CNV_OK);
  uint64_t gen = h >> 32;
  const cnv_handle bad[] = {
      CNV_HANDLE_INVALID,              /* 0 */
      gen << 32,                       /* index field 0 with a live generation */
      (gen << 32) | 9,                 /* index 8: one past the end */
      (gen << 32) | 0xFFFFFFFFu,       /* largest index */
      ((gen + 1) << 32) | (uint32_t)h, /* even generation: never issued */
      ((gen + 2) << 32) | (uint32_t)h, /* a generation the slot has not reached */
  };
  cnv_pool_cache c;
  cnv_pool_cache_init(&c);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(cnv_pool_release(p, NULL, bad[i]), CNV_EBAD_HANDLE);
    assert_int_equal(cnv_pool_release_owned(p, &c, bad[i]), CNV_EBAD_HANDLE);
    assert_int_equal(c.count, 0);
    assert_int_equal(cnv_pool_get(p, bad[i], &v), CNV_EBAD_HANDLE);
    assert_null(v);
  }
  /* None of that disturbed the live handle. */
  assert_int_equal(cnv_pool_in_use(p), 1);
  assert_int_equal(cnv_pool_get(p, h, &v), CNV_OK);
  assert_int_equal(cnv_pool_release(p, NULL, h), CNV_OK);
  assert_int_equal(cnv_pool_in_use(p), 0);
  cnv_pool_destroy(p);
}

static void test_null_arguments(void **state) {
  (void)state;
  cnv_pool *p = make(8, 64);
  cnv_handle h;
  void *v;
  cnv_pool_cache bad;
  bad.count = CNV_POOL_CACHE_SLOTS + 1;
  assert_int_equal(cnv_pool_acquire(NULL, NULL, &h), CNV_EINVAL);
  assert_int_equal(cnv_pool_acquire(p, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_pool_acquire(p, &bad, &h), CNV_EINVAL);
  assert_int_equal(cnv_pool_release(NULL, NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_pool_release(p, &bad, 1), CNV_EINVAL);
  bad.count = 1;
  bad.slots[0] = 8; /* out of this pool's range */
  assert_int_equal(cnv_pool_acquire(p, &bad, &h), CNV_EINVAL);
  assert_int_equal(bad.count, 1);
  /* Flushing such a cache writes nothing through its entries (ASan would see it) and gives
   * the pool nothing: it still holds exactly its own 8 slots. */
  bad.slots[0] = 0xFFFFFFF0u;
  cnv_pool_cache_flush(p, &bad);
  assert_int_equal(bad.count, 0);
  for (int i = 0; i < 8; i++) assert_int_equal(cnv_pool_acquire(p, NULL, &h), CNV_OK);
  assert_int_equal(cnv_pool_acquire(p, NULL, &h), CNV_EPOOL_EXHAUSTED);
  assert_int_equal(cnv_pool_get(p, 1, NULL), CNV_EINVAL);
  assert_int_equal(cnv_pool_get(NULL, 1, &v), CNV_EINVAL);
  assert_null(v);
  assert_int_equal(cnv_pool_in_use(NULL), 0);
  assert_int_equal(cnv_pool_capacity(NULL), 0);
  cnv_pool_cache_init(NULL);
  cnv_pool_cache_flush(NULL, NULL);
  cnv_pool_destroy(p);
}

/* Acquires through a cache until the pool is dry, releases everything through the cache
 * (overflowing it, so it flushes half several times) and flushes: all slots come back. */
static void test_cache_flush_returns_slots(void **state) {
  (void)state;
  enum { CAP = 128 };
  cnv_pool *p = make(CAP, 64);
  cnv_pool_cache c;
  cnv_pool_cache_init(&c);
  cnv_handle h[CAP];
  for (int i = 0; i < CAP; i++) assert_int_equal(cnv_pool_acquire(p, &c, &h[i]), CNV_OK);
  cnv_handle extra;
  assert_int_equal(cnv_pool_acquire(p, &c, &extra), CNV_EPOOL_EXHAUSTED);
  assert_int_equal(cnv_pool_in_use(p), CAP);
  for (int i = 0; i < CAP; i++) {
    assert_int_equal(cnv_pool_release(p, &c, h[i]), CNV_OK);
    assert_true(c.count <= CNV_POOL_CACHE_SLOTS);
  }
  assert_int_equal(cnv_pool_in_use(p), 0);
  assert_true(c.count > 0);
  cnv_pool_cache_flush(p, &c);
  assert_int_equal(c.count, 0);
  /* Every slot is reachable again from the shared list alone. */
  for (int i = 0; i < CAP; i++) assert_int_equal(cnv_pool_acquire(p, NULL, &h[i]), CNV_OK);
  assert_int_equal(cnv_pool_acquire(p, NULL, &extra), CNV_EPOOL_EXHAUSTED);
  for (int i = 0; i < CAP; i++) assert_int_equal(cnv_pool_release(p, NULL, h[i]), CNV_OK);
  assert_int_equal(cnv_pool_in_use(p), 0);
  cnv_pool_destroy(p);
}

/* Two caches on one pool, released through either call: a slot released into one cache is
 * not handed out by the other until flushed, and live handles are always distinct slots. */
static void test_two_caches_never_share_a_live_slot(void **state) {
  (void)state;
  enum { CAP = 64,
         ROUNDS = 4000 };
  cnv_pool *p = make(CAP, 64);
  cnv_pool_cache c[2];
  cnv_pool_cache_init(&c[0]);
  cnv_pool_cache_init(&c[1]);
  cnv_handle live[CAP];
  int n = 0;
  uint64_t rng = 42;
  for (int r = 0; r < ROUNDS; r++) {
    cnv_pool_cache *cache = &c[cnv_test_rand(&rng) & 1];
    if (n < CAP && (cnv_test_rand(&rng) & 1)) {
      cnv_handle h;
      cnv_status st = cnv_pool_acquire(p, cache, &h);
      if (st == CNV_EPOOL_EXHAUSTED) continue;
      assert_int_equal(st, CNV_OK);
      for (int i = 0; i < n; i++) assert_int_not_equal((uint32_t)live[i], (uint32_t)h);
      live[n++] = h;
    } else if (n > 0) {
      int k = (int)(cnv_test_rand(&rng) % (uint64_t)n);
      if (cnv_test_rand(&rng) & 1)
        assert_int_equal(cnv_pool_release_owned(p, cache, live[k]), CNV_OK);
      else
        assert_int_equal(cnv_pool_release(p, cache, live[k]), CNV_OK);
      live[k] = live[--n];
    }
    assert_int_equal(cnv_pool_in_use(p), (uint32_t)n);
  }
  while (n > 0) assert_int_equal(cnv_pool_release(p, &c[0], live[--n]), CNV_OK);
  cnv_pool_cache_flush(p, &c[0]);
  cnv_pool_cache_flush(p, &c[1]);
  assert_int_equal(cnv_pool_in_use(p), 0);
  cnv_pool_destroy(p);
}

/* The owner's release refuses everything cnv_pool_release refuses, needs a cache, and
 * retires the handle for both calls. */
static void test_release_owned_contract(void **state) {
  (void)state;
  cnv_pool *p = make(8, 64);
  cnv_pool_cache c, bad;
  cnv_pool_cache_init(&c);
  bad.count = CNV_POOL_CACHE_SLOTS + 1;
  cnv_handle h, again;
  void *v = &v;
  assert_int_equal(cnv_pool_acquire(p, &c, &h), CNV_OK);
  assert_int_equal(cnv_pool_release_owned(p, NULL, h), CNV_EINVAL);
  assert_int_equal(cnv_pool_release_owned(NULL, &c, h), CNV_EINVAL);
  assert_int_equal(cnv_pool_release_owned(p, &bad, h), CNV_EINVAL);
  assert_int_equal(cnv_pool_in_use(p), 1); /* refused calls left it live */
  uint32_t before = c.count;
  assert_int_equal(cnv_pool_release_owned(p, &c, h), CNV_OK);
  assert_int_equal(c.count, before + 1);
  assert_int_equal(c.slots[c.count - 1], (uint32_t)h - 1u);
  assert_int_equal(cnv_pool_release_owned(p, &c, h), CNV_ESTALE_HANDLE);
  assert_int_equal(cnv_pool_release(p, &c, h), CNV_ESTALE_HANDLE);
  assert_int_equal(cnv_pool_get(p, h, &v), CNV_ESTALE_HANDLE);
  assert_int_equal(c.count, before + 1);
  /* The cache hands the hot slot straight back under a new generation. */
  assert_int_equal(cnv_pool_acquire(p, &c, &again), CNV_OK);
  assert_int_equal((uint32_t)again, (uint32_t)h);
  assert_int_not_equal(again, h);
  assert_int_equal(cnv_pool_release_owned(p, &c, h), CNV_ESTALE_HANDLE);
  assert_int_equal(cnv_pool_release(p, &c, again), CNV_OK);
  assert_int_equal(cnv_pool_release_owned(p, &c, again), CNV_ESTALE_HANDLE);
  cnv_pool_cache_flush(p, &c);
  assert_int_equal(cnv_pool_in_use(p), 0);
  cnv_pool_destroy(p);
}

/* A cache entry for a slot that is live (what a caller's racing double release, or a
 * scribbled cache, leaves behind) is dropped, never handed out a second time; and a slot
 * pushed twice into the shared list (a cycle) makes acquire report exhaustion, not spin. */
static void test_duplicate_entries_are_dropped(void **state) {
  (void)state;
  cnv_pool *p = make(8, 64);
  cnv_pool_cache c, twin;
  cnv_pool_cache_init(&c);
  cnv_pool_cache_init(&twin);
  cnv_handle h, other;
  assert_int_equal(cnv_pool_acquire(p, &c, &h), CNV_OK);
  c.slots[c.count++] = (uint32_t)h - 1u; /* the live slot, parked a second time */
  assert_int_equal(cnv_pool_acquire(p, &c, &other), CNV_OK);
  assert_int_not_equal((uint32_t)other, (uint32_t)h);
  assert_int_equal(cnv_pool_in_use(p), 2);
  void *v;
  assert_int_equal(cnv_pool_get(p, h, &v), CNV_OK);
  assert_int_equal(cnv_pool_release(p, &c, other), CNV_OK);
  cnv_pool_cache_flush(p, &c);

  /* Free the slot into one cache, copy the entry into a second, flush both. */
  assert_int_equal(cnv_pool_release_owned(p, &c, h), CNV_OK);
  twin.slots[twin.count++] = (uint32_t)h - 1u;
  cnv_pool_cache_flush(p, &c);
  cnv_pool_cache_flush(p, &twin);
  assert_int_equal(cnv_pool_acquire(p, NULL, &h), CNV_OK);
  assert_int_equal(cnv_pool_acquire(p, NULL, &other), CNV_EPOOL_EXHAUSTED);
  assert_int_equal(other, CNV_HANDLE_INVALID);
  assert_int_equal(cnv_pool_acquire(p, &c, &other), CNV_EPOOL_EXHAUSTED);
  assert_int_equal(cnv_pool_in_use(p), 1);
  assert_int_equal(cnv_pool_get(p, h, &v), CNV_OK);
  cnv_pool_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_rejects_bad_arguments),
      cmocka_unit_test(test_contexts_zeroed_aligned_distinct),
      cmocka_unit_test(test_exhaustion_and_refill),
      cmocka_unit_test(test_stale_and_double_release),
      cmocka_unit_test(test_forged_handles),
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_cache_flush_returns_slots),
      cmocka_unit_test(test_two_caches_never_share_a_live_slot),
      cmocka_unit_test(test_release_owned_contract),
      cmocka_unit_test(test_duplicate_entries_are_dropped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
