/* NEON (AdvSIMD) kernels for aarch64. NEON has no 64x64 multiply, so the hash builds it from
 * 32x32->64 multiplies; the HLL update hashes in vectors and updates registers in scalar code
 * (no gather). Zeroing stays memset (glibc's aarch64 memset uses DC ZVA). */
#include <arm_neon.h>

#include "simd_internal.h"

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

/* Primitives of the shared drivers (generic/drivers.h). */
#define CNV__G_PATH neon
#define CNV__G_HASH
typedef uint64x2_t cnv__g_v64;
typedef uint16x8_t cnv__g_v16;
#define CNV__G_L64 2
#define CNV__G_L16 8
#define CNV__G_SUBSET_STEP 8
static inline uint64x2_t g_load64(const uint64_t *p) { return vld1q_u64(p); }
static inline uint16x8_t g_load16(const cnv_effects *p) { return vld1q_u16(p); }
static inline void g_store64(uint64_t *p, uint64x2_t v) { vst1q_u64(p, v); }
static inline uint64x2_t g_zero64(void) { return vdupq_n_u64(0); }
static inline uint16x8_t g_zero16(void) { return vdupq_n_u16(0); }
static inline uint64x2_t g_or64(uint64x2_t a, uint64x2_t b) { return vorrq_u64(a, b); }
static inline uint16x8_t g_or16(uint16x8_t a, uint16x8_t b) { return vorrq_u16(a, b); }
static inline uint64x2_t g_splat64(uint64_t x) { return vdupq_n_u64(x); }
static inline uint64x2_t g_eq64(uint64x2_t a, uint64x2_t b) { return vceqq_u64(a, b); }
static inline uint64_t g_bits64(uint64x2_t m) {
  return (vgetq_lane_u64(m, 0) & 1u) | (vgetq_lane_u64(m, 1) & 2u);
}
static inline uint64_t g_fold16(uint16x8_t v) {
  uint64x2_t a = vreinterpretq_u64_u16(v);
  return vgetq_lane_u64(a, 0) | vgetq_lane_u64(a, 1);
}
static inline uint16x8_t g_splat16(cnv_effects x) { return vdupq_n_u16(x); }
static inline uint64x2_t g_hash(uint64x2_t v, uint64x2_t seed) { return hash2(v, seed); }

/* Subset bits of 8 effect sets: 1 where (e & notc) == 0. */
static inline uint64_t g_subset(const cnv_effects *e, uint16x8_t notc) {
  static const uint16_t weights[8] = {1, 2, 4, 8, 16, 32, 64, 128};
  uint16x8_t ok = vceqq_u16(vandq_u16(vld1q_u16(e), notc), vdupq_n_u16(0));
  return vaddvq_u16(vandq_u16(ok, vld1q_u16(weights)));
}

#include "generic/drivers.h"

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

/* Row union, two vectors per step; the scalar loop finishes the last 0..3 words. */
bool cnv_simd_bits_or_neon(uint64_t *dst, const uint64_t *src, size_t words) {
  uint64x2_t fresh = vdupq_n_u64(0);
  size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    uint64x2_t d0 = vld1q_u64(dst + i), s0 = vld1q_u64(src + i);
    uint64x2_t d1 = vld1q_u64(dst + i + 2), s1 = vld1q_u64(src + i + 2);
    fresh = vorrq_u64(fresh, vorrq_u64(vbicq_u64(s0, d0), vbicq_u64(s1, d1)));
    vst1q_u64(dst + i, vorrq_u64(d0, s0));
    vst1q_u64(dst + i + 2, vorrq_u64(d1, s1));
  }
  bool tail = i < words && cnv_simd_bits_or_scalar(dst + i, src + i, words - i);
  return vmaxvq_u32(vreinterpretq_u32_u64(fresh)) != 0 || tail;
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
    cnv_simd_bits_or_neon,
};
