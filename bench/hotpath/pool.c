/* Context pool, arenas and effect flags against glibc malloc/free.
 *   pool_acquire_release/{cnv,malloc}: one acquire + owner's release pair through a per-thread
 *     cache (cnv_pool_release_owned) vs one malloc+free of the same size; items = pairs.
 *   pool_acquire_release/cnv_arbitrated: the same pair with cnv_pool_release, which pays one
 *     atomic read-modify-write so that racing releases of one handle are arbitrated.
 *   pool_acquire_get_release/{cnv,malloc}: acquire + cnv_pool_get + owner's release, so ours
 *     also ends with a usable pointer as malloc does; the malloc side is the same pair.
 *   arena_alloc64/{cnv,shared,malloc}: ARENA_N allocations of 64 bytes then one reset (or
 *     ARENA_N frees); items = allocations, reset/free cost included.
 *   effects_join/cnv: joins of effect sets; items = joins. */
#include <stdlib.h>

#include <cnv/effects.h>
#include <cnv/hotpath.h>

#include "cnv_bench.h"

#define CTX_SIZE 256u
#define ARENA_N 4096u
#define BLOCK 64u

enum pair_kind { OWNED,
                 ARBITRATED,
                 OWNED_WITH_GET };

/* `kind` picks the calls. */
/* Always inlined so that each case is compiled for its constant kind. */
static inline __attribute__((always_inline)) void pool_pairs(cnv_bench_state *st,
                                                             enum pair_kind kind) {
  cnv_pool *p;
  if (cnv_pool_create(1024, CTX_SIZE, &p) != CNV_OK) {
    cnv_bench_skip_with_error(st, "cnv_pool_create failed");
    return;
  }
  cnv_pool_cache cache;
  cnv_pool_cache_init(&cache);
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < 256; i++) {
      cnv_handle h;
      if (cnv_pool_acquire(p, &cache, &h) != CNV_OK) abort();
      cnv_bench_do_not_optimize(&h);
      if (kind == OWNED_WITH_GET) {
        void *ctx;
        if (cnv_pool_get(p, h, &ctx) != CNV_OK) abort();
        cnv_bench_do_not_optimize(ctx);
      }
      cnv_status rs = kind == ARBITRATED ? cnv_pool_release(p, &cache, h)
                                         : cnv_pool_release_owned(p, &cache, h);
      if (rs != CNV_OK) abort();
    }
  }
  cnv_pool_cache_flush(p, &cache);
  cnv_pool_destroy(p);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void pool_cnv(cnv_bench_state *st) { pool_pairs(st, OWNED); }
CNV_BENCH(pool_cnv, "pool_acquire_release/cnv", 1, 0)

static void pool_arbitrated(cnv_bench_state *st) { pool_pairs(st, ARBITRATED); }
CNV_BENCH(pool_arbitrated, "pool_acquire_release/cnv_arbitrated", 1, 0)

static void pool_with_get(cnv_bench_state *st) { pool_pairs(st, OWNED_WITH_GET); }
CNV_BENCH(pool_with_get, "pool_acquire_get_release/cnv", 1, 0)

static void pool_malloc(cnv_bench_state *st) {
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < 256; i++) {
      void *m = malloc(CTX_SIZE);
      cnv_bench_do_not_optimize(m);
      free(m);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(pool_malloc, "pool_acquire_release/malloc", 1, 0)
CNV_BENCH(pool_malloc, "pool_acquire_get_release/malloc", 1, 0)

static void arena_cnv(cnv_bench_state *st) {
  void *mem = aligned_alloc(CNV_CACHELINE, (size_t)ARENA_N * BLOCK);
  cnv_arena a;
  if (!mem || cnv_arena_init(&a, mem, (size_t)ARENA_N * BLOCK) != CNV_OK) {
    free(mem);
    cnv_bench_skip_with_error(st, "arena set-up failed");
    return;
  }
  while (cnv_bench_keep_running_batch(st, ARENA_N)) {
    for (unsigned i = 0; i < ARENA_N; i++) {
      void *m;
      if (cnv_arena_alloc(&a, BLOCK, 8, &m) != CNV_OK) abort();
      cnv_bench_do_not_optimize(m);
    }
    cnv_arena_reset(&a);
  }
  cnv_arena_fini(&a);
  free(mem);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(arena_cnv, "arena_alloc64/cnv", 1, 0)

static void arena_shared(cnv_bench_state *st) {
  void *mem = aligned_alloc(CNV_CACHELINE, (size_t)ARENA_N * BLOCK);
  cnv_shared_arena a;
  if (!mem || cnv_shared_arena_init(&a, mem, (size_t)ARENA_N * BLOCK) != CNV_OK) {
    free(mem);
    cnv_bench_skip_with_error(st, "shared arena set-up failed");
    return;
  }
  while (cnv_bench_keep_running_batch(st, ARENA_N)) {
    for (unsigned i = 0; i < ARENA_N; i++) {
      void *m;
      if (cnv_shared_arena_alloc(&a, BLOCK, 1, &m) != CNV_OK) abort();
      cnv_bench_do_not_optimize(m);
    }
    cnv_shared_arena_reset(&a);
  }
  free(mem);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(arena_shared, "arena_alloc64/shared", 1, 0)

static void arena_malloc(cnv_bench_state *st) {
  static void *ptrs[ARENA_N];
  while (cnv_bench_keep_running_batch(st, ARENA_N)) {
    for (unsigned i = 0; i < ARENA_N; i++) {
      ptrs[i] = malloc(BLOCK);
      cnv_bench_do_not_optimize(ptrs[i]);
    }
    for (unsigned i = 0; i < ARENA_N; i++) free(ptrs[i]);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(arena_malloc, "arena_alloc64/malloc", 1, 0)

static void effects_join(cnv_bench_state *st) {
  cnv_effects set[256];
  for (unsigned i = 0; i < 256; i++) set[i] = (cnv_effects)(i * 0x9E37u);
  cnv_effects acc = 0;
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (unsigned i = 0; i < 256; i++) acc = cnv_effects_join((cnv_effects)(acc << 1), set[i]);
    cnv_bench_do_not_optimize(&acc);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(effects_join, "effects_join/cnv", 1, 0)
