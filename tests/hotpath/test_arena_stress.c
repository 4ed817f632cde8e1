/* Shared arena under threads: concurrent allocations never overlap and honour alignment.
 * Each thread fills its blocks with its own pattern; after the threads join, every block
 * still holds its pattern and the sorted blocks are disjoint; then reset and go again. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"

enum { THREADS = 4,
       MAX_BLOCKS = 4096,
       ARENA = 1 << 20 };

typedef struct block {
  unsigned char *p;
  size_t size;
  unsigned char pattern;
} block;

typedef struct worker {
  cnv_shared_arena *arena;
  int id;
  uint64_t seed;
  size_t n;
  int bad; /* misaligned or unexpected status */
  block blocks[MAX_BLOCKS];
} worker;

static void *alloc_thread(void *arg) {
  worker *w = arg;
  uint64_t rng = w->seed;
  w->n = 0;
  while (w->n < MAX_BLOCKS) {
    size_t size = 1 + (size_t)(cnv_test_rand(&rng) % 300);
    size_t align = (size_t)1 << (cnv_test_rand(&rng) % 8);
    void *p;
    cnv_status st = cnv_shared_arena_alloc(w->arena, size, align, &p);
    if (st == CNV_EARENA_EXHAUSTED) break;
    if (st != CNV_OK || (uintptr_t)p % align != 0) {
      w->bad++;
      break;
    }
    unsigned char pattern = (unsigned char)(w->id * 64 + (int)(w->n % 64));
    memset(p, pattern, size);
    w->blocks[w->n++] = (block){p, size, pattern};
  }
  return NULL;
}

static int by_address(const void *a, const void *b) {
  const block *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p;
}

static void check_round(worker *w, unsigned char *mem, size_t used) {
  static block all[THREADS * MAX_BLOCKS];
  size_t n = 0, bytes = 0;
  for (int t = 0; t < THREADS; t++) {
    assert_int_equal(w[t].bad, 0);
    for (size_t i = 0; i < w[t].n; i++) {
      const block *b = &w[t].blocks[i];
      for (size_t k = 0; k < b->size; k++) assert_int_equal(b->p[k], b->pattern);
      assert_true(b->p >= mem && b->p + b->size <= mem + ARENA);
      bytes += b->size;
      all[n++] = *b;
    }
  }
  qsort(all, n, sizeof all[0], by_address);
  for (size_t i = 1; i < n; i++) assert_true(all[i - 1].p + all[i - 1].size <= all[i].p);
  assert_true(bytes <= used && used <= ARENA);
}

static void test_concurrent_allocations_never_overlap(void **state) {
  (void)state;
  unsigned char *mem = calloc(1, ARENA);
  worker *w = calloc(THREADS, sizeof *w);
  assert_non_null(mem);
  assert_non_null(w);
  cnv_shared_arena arena;
  assert_int_equal(cnv_shared_arena_init(&arena, mem, ARENA), CNV_OK);
  uint64_t rounds = cnv_test_iters(40);
  for (uint64_t r = 0; r < rounds; r++) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
      w[i].arena = &arena;
      w[i].id = i;
      w[i].seed = r * 100 + (uint64_t)i;
      assert_int_equal(pthread_create(&t[i], NULL, alloc_thread, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    check_round(w, mem, cnv_shared_arena_used(&arena));
    cnv_shared_arena_reset(&arena);
    assert_int_equal(cnv_shared_arena_generation(&arena), r + 1);
    assert_int_equal(cnv_shared_arena_used(&arena), 0);
  }
  for (size_t i = 0; i < ARENA; i++)
    if (mem[i] != 0) fail_msg("byte %zu not zeroed by reset", i);
  free(w);
  free(mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_allocations_never_overlap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
