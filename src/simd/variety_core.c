/* The exact variety count shared by every path: an open-addressing table in caller scratch.
 * Paths differ in the batch hash they plug in; the result is integers, so every path
 * returns the same bits. */
#include <math.h>
#include <string.h>

#include "simd_internal.h"

uint64_t cnv__simd_clogc[CNV_SIMD_VARIETY_MAX + 1];

void cnv__simd_clogc_fill(void) {
  cnv__simd_clogc[0] = 0;
  for (unsigned c = 1; c <= CNV_SIMD_VARIETY_MAX; c++) {
    double v = (double)c * log2((double)c) * (double)(1ull << CNV_SIMD_CLOGC_SHIFT);
    cnv__simd_clogc[c] = (uint64_t)llround(v);
  }
}

/* Hashes are computed in chunks of this many ids on the stack. */
#define CNV__SIMD_VARIETY_CHUNK 64u

struct cnv__variety_table {
  uint64_t *keys;
  uint16_t *counts; /* <= CNV_SIMD_VARIETY_MAX fits */
  uint16_t *firsts; /* slot of each distinct id, in first-seen order */
  uint32_t mask;
  uint32_t distinct;
};

/* Branch-free apart from the probe loop, which almost never iterates at load <= 1/2: whether
 * the id is new is data, not a branch (a 50/50 branch here would cost more than the rest). */
static void variety_insert(struct cnv__variety_table *t, uint64_t id, uint64_t h) {
  uint32_t slot = (uint32_t)(h >> 32) & t->mask;
  /* One branch: "occupied by another id" as a mask product, which compilers keep branch-free. */
  while ((-(uint64_t)(t->keys[slot] != id) & t->counts[slot]) != 0) slot = (slot + 1) & t->mask;
  uint32_t fresh = t->counts[slot] == 0;
  t->keys[slot] = id;
  t->firsts[t->distinct] = (uint16_t)slot; /* kept only when fresh; in bounds: distinct < n */
  t->distinct += fresh;
  t->counts[slot] = (uint16_t)(t->counts[slot] + 1);
}

void cnv__simd_variety_core(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                            uint64_t *clogc, cnv__simd_hash_fn hash) {
  uint32_t slots = CNV_SIMD_VARIETY_SLOTS(n);
  struct cnv__variety_table t;
  uint64_t h[CNV__SIMD_VARIETY_CHUNK];
  t.keys = scratch;
  t.counts = (uint16_t *)(t.keys + slots);
  t.firsts = (uint16_t *)(t.counts + slots);
  t.mask = slots - 1;
  t.distinct = 0;
  memset(t.counts, 0, slots * sizeof *t.counts);
  for (size_t base = 0; base < n; base += CNV__SIMD_VARIETY_CHUNK) {
    size_t len = n - base < CNV__SIMD_VARIETY_CHUNK ? n - base : CNV__SIMD_VARIETY_CHUNK;
    hash(ids + base, len, CNV__SIMD_VARIETY_SEED, h);
    for (size_t i = 0; i < len; i++) variety_insert(&t, ids[base + i], h[i]);
  }
  uint64_t sum = 0;
  for (uint32_t i = 0; i < t.distinct; i++) sum += cnv__simd_clogc[t.counts[t.firsts[i]]];
  *distinct = t.distinct;
  *clogc = sum;
}
