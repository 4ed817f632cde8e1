/* variety: exact batches of 100 observations (cnv vs the scalar kernel vs qsort-and-count;
 * items/s here is batches/s) and the HLL register update (cnv vs its scalar twin). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/variety.h>

#include "cnv_bench.h"

#define NBATCH 1024u
#define BATCH 100u
#define STATES 50u
#define HLL_IDS 65536u

static uint64_t batches[NBATCH][BATCH];
static uint64_t stream[HLL_IDS];
static cnv_hll hll;

/* NBATCH batches of 100 observations over 50 random 64-bit states; a 64 K id stream; a sketch
 * already holding 2^20 ids, as in a long-running stream. */
__attribute__((constructor)) static void bench_variety_data(void) {
  uint64_t rng = 7, states[STATES];
  for (unsigned s = 0; s < STATES; s++) states[s] = cnv_bench_rand(&rng);
  for (unsigned b = 0; b < NBATCH; b++)
    for (unsigned i = 0; i < BATCH; i++) batches[b][i] = states[cnv_bench_rand(&rng) % STATES];
  for (unsigned i = 0; i < HLL_IDS; i++) stream[i] = cnv_bench_rand(&rng);
  CNV_BENCH_OK(cnv_hll_init(&hll, 14, 1));
  for (unsigned k = 0; k < 16; k++) {
    for (unsigned i = 0; i < HLL_IDS; i++) stream[i] = cnv_bench_rand(&rng);
    CNV_BENCH_OK(cnv_hll_add(&hll, stream, HLL_IDS));
  }
}

static void batch_cnv(cnv_bench_state *st) {
  cnv_variety v;
  unsigned b = 0;
  while (cnv_bench_keep_running(st)) {
    CNV_BENCH_OK(cnv_variety_exact(batches[b++ % NBATCH], BATCH, NULL, &v));
    cnv_bench_do_not_optimize(&v);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

/* The scalar kernel with the same finishing arithmetic as cnv_variety_exact. */
static void batch_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = NULL;
  static uint64_t scratch[CNV_SIMD_VARIETY_SCRATCH_BYTES(BATCH) / 8];
  unsigned b = 0;
  CNV_BENCH_OK(cnv_simd_kernels_get(CNV_SIMD_SCALAR, &k));
  while (cnv_bench_keep_running(st)) {
    uint32_t d;
    uint64_t c;
    k->variety_count(batches[b++ % NBATCH], BATCH, scratch, &d, &c);
    double h = log2((double)BATCH) - (double)c / ldexp((double)BATCH, CNV_SIMD_CLOGC_SHIFT);
    double bits = cnv_variety_bits((double)d);
    cnv_bench_do_not_optimize(&h);
    cnv_bench_do_not_optimize(&bits);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* The reference: copy, qsort, count runs, entropy from each run's share. */
static void batch_qsort(cnv_bench_state *st) {
  uint64_t s[BATCH];
  unsigned b = 0;
  while (cnv_bench_keep_running(st)) {
    memcpy(s, batches[b++ % NBATCH], sizeof s);
    qsort(s, BATCH, sizeof s[0], cmp_u64);
    double h = 0.0;
    unsigned distinct = 0;
    for (unsigned i = 0; i < BATCH;) {
      unsigned j = i;
      while (j < BATCH && s[j] == s[i]) j++;
      double p = (double)(j - i) / BATCH;
      h -= p * log2(p);
      distinct++;
      i = j;
    }
    double bits = log2((double)distinct);
    cnv_bench_do_not_optimize(&h);
    cnv_bench_do_not_optimize(&bits);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(batch_cnv, "variety_batch100/cnv", 1, 0)
CNV_BENCH(batch_scalar, "variety_batch100/scalar", 1, 0)
CNV_BENCH(batch_qsort, "variety_batch100/qsort", 1, 0)

static void hll_cnv(cnv_bench_state *st) {
  unsigned off = 0;
  while (cnv_bench_keep_running_batch(st, 4096)) {
    CNV_BENCH_OK(cnv_hll_add(&hll, stream + off, 4096));
    off = (off + 4096) % HLL_IDS;
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
static void hll_scalar(cnv_bench_state *st) {
  const cnv_simd_kernels *k = NULL;
  unsigned off = 0;
  CNV_BENCH_OK(cnv_simd_kernels_get(CNV_SIMD_SCALAR, &k));
  while (cnv_bench_keep_running_batch(st, 4096)) {
    k->hll_update(hll.regs, hll.p, stream + off, 4096, hll.seed);
    off = (off + 4096) % HLL_IDS;
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(hll_cnv, "hll_update/cnv", 1, 0)
CNV_BENCH(hll_scalar, "hll_update/scalar", 1, 0)

static void estimate_cnv(cnv_bench_state *st) {
  double e;
  while (cnv_bench_keep_running(st)) {
    CNV_BENCH_OK(cnv_hll_estimate(&hll, &e));
    cnv_bench_do_not_optimize(&e);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(estimate_cnv, "hll_estimate/cnv", 1, 0)
