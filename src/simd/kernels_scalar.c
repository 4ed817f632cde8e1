/* Scalar twins: the definitions every vector path must match bit for bit. */
#include <string.h>

#include "simd_internal.h"

void cnv_simd_hash64_scalar(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  for (size_t i = 0; i < n; i++) out[i] = cnv__simd_hash(ids[i], seed);
}

void cnv_simd_capcheck_scalar(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                              const cnv_simd_idset *deny, uint64_t *mask) {
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    uint64_t word = 0;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64;
    for (size_t j = 0; j < end; j++) word |= cnv__simd_cap_bit(allow, deny, ids[64 * w + j]) << j;
    mask[w] = word;
  }
}

uint16_t cnv_simd_effects_join_scalar(const uint16_t *e, size_t n) {
  uint16_t acc = 0;
  for (size_t i = 0; i < n; i++) acc = (uint16_t)(acc | e[i]);
  return acc;
}

void cnv_simd_effects_subset_scalar(const uint16_t *e, size_t n, uint16_t ceiling, uint64_t *mask) {
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    uint64_t word = 0;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64;
    for (size_t j = 0; j < end; j++)
      word |= (uint64_t)((e[64 * w + j] & (uint16_t)~ceiling) == 0) << j;
    mask[w] = word;
  }
}

/* The C library's memset is the scalar definition of zeroing. */
void cnv_simd_zero_scalar(void *p, size_t n) {
  if (n) memset(p, 0, n);
}

void cnv_simd_variety_count_scalar(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                                   uint64_t *clogc) {
  cnv__simd_variety_core(ids, n, scratch, distinct, clogc, cnv_simd_hash64_scalar);
}

void cnv_simd_hll_update_scalar(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                                uint64_t seed) {
  for (size_t i = 0; i < n; i++) cnv__simd_hll_apply(regs, p, cnv__simd_hash(ids[i], seed));
}

void cnv_simd_hll_sums_scalar(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out) {
  unsigned q = 64u - p;
  cnv_simd_hll_sums s = {0, 0, 0, 0};
  for (size_t i = 0; i < ((size_t)1 << p); i++) {
    unsigned r = regs[i];
    s.zeros += r == 0;
    s.saturated += r == q + 1;
    if (r >= 1 && r <= 32) s.frac_hi += 1ull << (32 - r);
    if (r >= 33 && r <= q) s.frac_lo += 1ull << (q - r);
  }
  *out = s;
}

const cnv_simd_kernels cnv__simd_table_scalar = {
    CNV_SIMD_SCALAR,
    cnv_simd_hash64_scalar,
    cnv_simd_capcheck_scalar,
    cnv_simd_effects_join_scalar,
    cnv_simd_effects_subset_scalar,
    cnv_simd_zero_scalar,
    cnv_simd_variety_count_scalar,
    cnv_simd_hll_update_scalar,
    cnv_simd_hll_sums_scalar,
};
