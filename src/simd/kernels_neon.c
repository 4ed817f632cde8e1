/* NEON (AdvSIMD) kernels for aarch64. NEON has no 64x64 multiply, so the hash builds it from
 * 32x32->64 multiplies; the HLL update hashes in vectors and updates registers in scalar code
 * (no gather). Zeroing stays memset (glibc's aarch64 memset uses DC ZVA). */
#include <arm_neon.h>

#include "simd/simd_internal.h"

static inline uint64x2_t mul_rrmxmx(uint64x2_t x) {
  const uint32x2_t cl = vdup_n_u32((uint32_t)CNV__SIMD_RRMXMX_MUL);
  const uint32x2_t ch = vdup_n_u32((uint32_t)(CNV__SIMD_RRMXMX_MUL >> 32));
  uint32x2_t xl = vmovn_u64(x), xh = vshrn_n_u64(x, 32);
  uint64x2_t cross = vmlal_u32(vmull_u32(xh, cl), xl, ch);
  return vaddq_u64(vmull_u32(xl, cl), vshlq_n_u64(cross, 32));
}

static inline uint64x2_t hash2(uint64x2_t v, uint64x2_t seed) {
  v = veorq_u64(v, seed);
  uint64x2_t r49 = vorrq_u64(vshrq_n_u64(v, 49), vshlq_n_u64(v, 15));
  uint64x2_t r24 = vorrq_u64(vshrq_n_u64(v, 24), vshlq_n_u64(v, 40));
  v = veorq_u64(v, veorq_u64(r49, r24));
  v = mul_rrmxmx(v);
  v = veorq_u64(v, vshrq_n_u64(v, 28));
  v = mul_rrmxmx(v);
  return veorq_u64(v, vshrq_n_u64(v, 28));
}

void cnv_simd_hash64_neon(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  const uint64x2_t sd = vdupq_n_u64(seed ^ CNV__SIMD_HASH_KEY);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint64x2_t a = hash2(vld1q_u64(ids + i), sd);
    uint64x2_t b = hash2(vld1q_u64(ids + i + 2), sd);
    vst1q_u64(out + i, a);
    vst1q_u64(out + i + 2, b);
  }
  for (; i < n; i++) out[i] = cnv__simd_hash(ids[i], seed);
}

static inline uint64_t bits2(uint64x2_t m) {
  return (vgetq_lane_u64(m, 0) & 1u) | (vgetq_lane_u64(m, 1) & 2u);
}

/* Membership bits of ids[0..8) in s (at most CNV__SIMD_SCAN_MAX ids): broadcast compares. */
static uint64_t member8(const uint64_t *ids, const cnv_simd_idset *s) {
  uint64x2_t x0 = vld1q_u64(ids), x1 = vld1q_u64(ids + 2), x2 = vld1q_u64(ids + 4),
             x3 = vld1q_u64(ids + 6);
  uint64x2_t a0 = vdupq_n_u64(0), a1 = a0, a2 = a0, a3 = a0;
  for (size_t k = 0; k < s->count; k++) {
    uint64x2_t b = vdupq_n_u64(s->ids[k]);
    a0 = vorrq_u64(a0, vceqq_u64(x0, b));
    a1 = vorrq_u64(a1, vceqq_u64(x1, b));
    a2 = vorrq_u64(a2, vceqq_u64(x2, b));
    a3 = vorrq_u64(a3, vceqq_u64(x3, b));
  }
  return bits2(a0) | bits2(a1) << 2 | bits2(a2) << 4 | bits2(a3) << 6;
}

void cnv_simd_capcheck_neon(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                            const cnv_simd_idset *deny, uint64_t *mask) {
  uint64_t only[CNV__SIMD_SCAN_MAX];
  cnv_simd_idset eff = {only, 0};
  int scan = allow->count <= CNV__SIMD_SCAN_MAX;
  if (scan) eff.count = cnv__simd_allowed_only(allow, deny, only);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const uint64_t *x = ids + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + 8 <= end; j += 8)
      word |= (scan ? member8(x + j, &eff) : cnv__simd_cap_bits(allow, deny, x + j, 8)) << j;
    if (j < end) word |= cnv__simd_cap_bits(allow, deny, x + j, end - j) << j;
    mask[w] = word;
  }
}

cnv_effects cnv_simd_effects_join_neon(const cnv_effects *e, size_t n) {
  uint16x8_t a0 = vdupq_n_u16(0), a1 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = vorrq_u16(a0, vld1q_u16(e + i));
    a1 = vorrq_u16(a1, vld1q_u16(e + i + 8));
  }
  uint64x2_t a = vreinterpretq_u64_u16(vorrq_u16(a0, a1));
  uint64_t x = vgetq_lane_u64(a, 0) | vgetq_lane_u64(a, 1);
  x |= x >> 32;
  x |= x >> 16;
  cnv_effects acc = (cnv_effects)x;
  for (; i < n; i++) acc = (cnv_effects)(acc | e[i]);
  return acc;
}

/* Subset bits of 8 effect sets: 1 where (e & notc) == 0. */
static inline uint64_t subset8(const cnv_effects *e, uint16x8_t notc) {
  static const uint16_t weights[8] = {1, 2, 4, 8, 16, 32, 64, 128};
  uint16x8_t ok = vceqq_u16(vandq_u16(vld1q_u16(e), notc), vdupq_n_u16(0));
  return vaddvq_u16(vandq_u16(ok, vld1q_u16(weights)));
}

void cnv_simd_effects_subset_neon(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask) {
  const uint16x8_t notc = vdupq_n_u16((cnv_effects)~ceiling);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const cnv_effects *x = e + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + 8 <= end; j += 8) word |= subset8(x + j, notc) << j;
    for (; j < end; j++) word |= (uint64_t)((x[j] & (cnv_effects)~ceiling) == 0) << j;
    mask[w] = word;
  }
}

void cnv_simd_variety_count_neon(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                                 uint64_t *clogc) {
  cnv__simd_variety_core(ids, n, scratch, distinct, clogc, cnv_simd_hash64_neon);
}

void cnv_simd_hll_update_neon(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                              uint64_t seed) {
  uint64_t hs[16];
  for (size_t base = 0; base < n; base += 16) {
    size_t len = n - base < 16 ? n - base : 16;
    cnv_simd_hash64_neon(ids + base, len, seed, hs);
    for (size_t i = 0; i < len; i++) cnv__simd_hll_apply(regs, p, hs[i]);
  }
}

/* Adds 2^32 >> r to hi (r == 0 adds 2^32, removed later via the zero count) and, for r > 32,
 * 2^q >> r to lo, for the two registers in r. */
static inline void hll_terms2(uint64x2_t r, uint64x2_t twoq, uint64x2_t *hi, uint64x2_t *lo) {
  int64x2_t neg = vnegq_s64(vreinterpretq_s64_u64(r));
  *hi = vaddq_u64(*hi, vshlq_u64(vdupq_n_u64(1ull << 32), neg));
  uint64x2_t big = vcgtq_u64(r, vdupq_n_u64(32));
  *lo = vaddq_u64(*lo, vandq_u64(vshlq_u64(twoq, neg), big));
}

static inline void hll_terms16(uint8x16_t b, uint64x2_t twoq, uint64x2_t *hi, uint64x2_t *lo) {
  uint16x8_t h16[2] = {vmovl_u8(vget_low_u8(b)), vmovl_u8(vget_high_u8(b))};
  for (int k = 0; k < 2; k++) {
    uint32x4_t h32[2] = {vmovl_u16(vget_low_u16(h16[k])), vmovl_u16(vget_high_u16(h16[k]))};
    for (int j = 0; j < 2; j++) {
      hll_terms2(vmovl_u32(vget_low_u32(h32[j])), twoq, hi, lo);
      hll_terms2(vmovl_u32(vget_high_u32(h32[j])), twoq, hi, lo);
    }
  }
}

void cnv_simd_hll_sums_neon(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out) {
  unsigned q = 64u - p;
  const uint64x2_t twoq = vdupq_n_u64(1ull << q);
  const uint8x16_t one = vdupq_n_u8(1), sat = vdupq_n_u8((uint8_t)(q + 1));
  uint64x2_t hi = vdupq_n_u64(0), lo = hi;
  uint64_t zeros = 0, saturated = 0;
  for (size_t i = 0; i < ((size_t)1 << p); i += 16) {
    uint8x16_t b = vld1q_u8(regs + i);
    zeros += vaddvq_u8(vandq_u8(vceqq_u8(b, vdupq_n_u8(0)), one));
    saturated += vaddvq_u8(vandq_u8(vceqq_u8(b, sat), one));
    hll_terms16(b, twoq, &hi, &lo);
  }
  out->zeros = zeros;
  out->saturated = saturated;
  out->frac_hi = vaddvq_u64(hi) - (zeros << 32);
  out->frac_lo = vaddvq_u64(lo);
}

const cnv_simd_kernels cnv__simd_table_neon = {
    CNV_SIMD_NEON,
    cnv_simd_hash64_neon,
    cnv_simd_capcheck_neon,
    cnv_simd_effects_join_neon,
    cnv_simd_effects_subset_neon,
    cnv_simd_zero_scalar,
    cnv_simd_variety_count_neon,
    cnv_simd_hll_update_neon,
    cnv_simd_hll_sums_neon,
    cnv_simd_path_accept_scalar,
};
