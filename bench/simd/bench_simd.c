/* simd kernels: the active path (`cnv`) against its scalar twin and the named peers.
 *   hash_batch: XXH3_64bits per id.  capcheck_batch: per-id binary search over the sorted
 *   sets.  zero_4k: memset.  Every other case: the scalar twin only. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include <cnv/simd.h>

#include "cnv_bench.h"

#define BATCH 1024u

static uint64_t ids[BATCH], out[BATCH], mask[BATCH / 64];
static uint64_t allow_ids[32], deny_ids[8];
static cnv_effects effects[4096];
static _Alignas(64) unsigned char zero_buf[4096];
static _Alignas(64) uint8_t regs[1u << 14];
static void *(*volatile memset_fn)(void *, int, size_t) = memset;

static const cnv_simd_kernels *scalar(void) {
  const cnv_simd_kernels *k = NULL;
  CNV_BENCH_OK(cnv_simd_kernels_get(CNV_SIMD_SCALAR, &k));
  return k;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* 32 allowed and 8 denied ids (one overlapping); the batch: 40% allowed, 20% denied ids. */
__attribute__((constructor)) static void bench_simd_data(void) {
  uint64_t rng = 42;
  for (unsigned i = 0; i < 32; i++) allow_ids[i] = cnv_bench_rand(&rng);
  for (unsigned i = 0; i < 8; i++) deny_ids[i] = i == 0 ? allow_ids[5] : cnv_bench_rand(&rng);
  qsort(allow_ids, 32, sizeof(uint64_t), cmp_u64);
  qsort(deny_ids, 8, sizeof(uint64_t), cmp_u64);
  for (unsigned i = 0; i < BATCH; i++) {
    uint64_t x = cnv_bench_rand(&rng), pick = x % 10;
    ids[i] = pick < 4 ? allow_ids[(x >> 8) % 32] : pick < 6 ? deny_ids[(x >> 8) % 8]
                                                            : x;
  }
  for (unsigned i = 0; i < 4096; i++)
    effects[i] = (cnv_effects)(cnv_bench_rand(&rng) & cnv_bench_rand(&rng) & 0x3FFF);
  for (unsigned i = 0; i < (1u << 14); i++) regs[i] = (uint8_t)(cnv_bench_rand(&rng) % 20);
}

static void hash_cnv(cnv_bench_state *st) {
  while (cnv_bench_keep_running_batch(st, BATCH)) {
    CNV_BENCH_OK(cnv_simd_hash64(ids, BATCH, 7, out));
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void hash_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = scalar();
  while (cnv_bench_keep_running_batch(st, BATCH)) {
    k->hash64(ids, BATCH, 7, out);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void hash_xxh3(cnv_bench_state *st) {
  while (cnv_bench_keep_running_batch(st, BATCH)) {
    for (unsigned i = 0; i < BATCH; i++) out[i] = XXH3_64bits(&ids[i], sizeof ids[i]);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(hash_cnv, "hash_batch/cnv", 1, 0)
CNV_BENCH(hash_scalar, "hash_batch/scalar", 1, 0)
CNV_BENCH(hash_xxh3, "hash_batch/xxh3", 1, 0)

static void capcheck_cnv(cnv_bench_state *st) {
  cnv_simd_idset allow, deny;
  CNV_BENCH_OK(cnv_simd_idset_init(&allow, allow_ids, 32));
  CNV_BENCH_OK(cnv_simd_idset_init(&deny, deny_ids, 8));
  while (cnv_bench_keep_running_batch(st, BATCH)) {
    CNV_BENCH_OK(cnv_simd_capcheck(ids, BATCH, &allow, &deny, mask, BATCH / 64));
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void capcheck_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = scalar();
  cnv_simd_idset allow = {allow_ids, 32}, deny = {deny_ids, 8};
  while (cnv_bench_keep_running_batch(st, BATCH)) {
    k->capcheck(ids, BATCH, &allow, &deny, mask);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static int bsearch_has(const uint64_t *a, size_t n, uint64_t x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < x)
      lo = mid + 1;
    else if (a[mid] > x)
      hi = mid;
    else
      return 1;
  }
  return 0;
}
static void capcheck_bsearch(cnv_bench_state *st) {
  while (cnv_bench_keep_running_batch(st, BATCH)) {
    memset(mask, 0, sizeof mask);
    for (unsigned i = 0; i < BATCH; i++)
      if (bsearch_has(allow_ids, 32, ids[i]) && !bsearch_has(deny_ids, 8, ids[i]))
        mask[i / 64] |= 1ull << (i % 64);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(capcheck_cnv, "capcheck_batch/cnv", 1, 0)
CNV_BENCH(capcheck_scalar, "capcheck_batch/scalar", 1, 0)
CNV_BENCH(capcheck_bsearch, "capcheck_batch/bsearch", 1, 0)

static void join_cnv(cnv_bench_state *st) {
  cnv_effects j = 0;
  while (cnv_bench_keep_running_batch(st, 4096)) {
    CNV_BENCH_OK(cnv_simd_effects_join(effects, 4096, &j));
    cnv_bench_do_not_optimize(&j);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void join_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = scalar();
  while (cnv_bench_keep_running_batch(st, 4096)) {
    cnv_effects j = k->effects_join(effects, 4096);
    cnv_bench_do_not_optimize(&j);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void subset_cnv(cnv_bench_state *st) {
  static uint64_t m[64];
  while (cnv_bench_keep_running_batch(st, 4096)) {
    CNV_BENCH_OK(cnv_simd_effects_subset(effects, 4096, 0x0FFF, m, 64));
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void subset_scalar(cnv_bench_state *st) {
  static uint64_t m[64];
  const cnv_simd_kernels *k = scalar();
  while (cnv_bench_keep_running_batch(st, 4096)) {
    k->effects_subset(effects, 4096, 0x0FFF, m);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(join_cnv, "effects_join_batch/cnv", 1, 0)
CNV_BENCH(join_scalar, "effects_join_batch/scalar", 1, 0)
CNV_BENCH(subset_cnv, "effects_subset_batch/cnv", 1, 0)
CNV_BENCH(subset_scalar, "effects_subset_batch/scalar", 1, 0)

static void zero_cnv(cnv_bench_state *st) {
  while (cnv_bench_keep_running(st)) {
    cnv_simd_zero(zero_buf, sizeof zero_buf);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void zero_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = scalar();
  while (cnv_bench_keep_running(st)) {
    k->zero(zero_buf, sizeof zero_buf);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void zero_memset(cnv_bench_state *st) {
  while (cnv_bench_keep_running(st)) {
    memset_fn(zero_buf, 0, sizeof zero_buf);
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(zero_cnv, "zero_4k/cnv", 1, 0)
CNV_BENCH(zero_scalar, "zero_4k/scalar", 1, 0)
CNV_BENCH(zero_memset, "zero_4k/memset", 1, 0)

static void sums_cnv(cnv_bench_state *st) {
  cnv_simd_hll_sums s;
  while (cnv_bench_keep_running(st)) {
    CNV_BENCH_OK(cnv_simd_hll_sums_get(regs, 14, &s));
    cnv_bench_do_not_optimize(&s);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void sums_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = scalar();
  cnv_simd_hll_sums s;
  while (cnv_bench_keep_running(st)) {
    k->hll_sums(regs, 14, &s);
    cnv_bench_do_not_optimize(&s);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(sums_cnv, "hll_sums/cnv", 1, 0)
CNV_BENCH(sums_scalar, "hll_sums/scalar", 1, 0)
