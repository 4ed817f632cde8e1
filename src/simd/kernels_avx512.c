/* AVX-512 kernels (F+BW+DQ+VL; compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl
 * -mavx2 -mbmi2 -mpopcnt; run only when the CPU has all of them). Zeroing and the HLL
 * sums reuse the AVX2 kernels, which measured as fast or faster here. */
#include <immintrin.h>

#include "simd_internal.h"

static inline __m512i hash8(__m512i v, __m512i seed) {
  const __m512i c = _mm512_set1_epi64((long long)CNV__SIMD_RRMXMX_MUL);
  v = _mm512_xor_si512(v, seed);
  v = _mm512_ternarylogic_epi64(v, _mm512_ror_epi64(v, 49), _mm512_ror_epi64(v, 24), 0x96);
  v = _mm512_mullo_epi64(v, c);
  v = _mm512_xor_si512(v, _mm512_srli_epi64(v, 28));
  v = _mm512_mullo_epi64(v, c);
  return _mm512_xor_si512(v, _mm512_srli_epi64(v, 28));
}

static inline __m512i load8(const uint64_t *p) { return _mm512_loadu_si512((const void *)p); }

void cnv_simd_hash64_avx512(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  const __m512i sd = _mm512_set1_epi64((long long)(seed ^ CNV__SIMD_HASH_KEY));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i a = hash8(load8(ids + i), sd);
    __m512i b = hash8(load8(ids + i + 8), sd);
    _mm512_storeu_si512((void *)(out + i), a);
    _mm512_storeu_si512((void *)(out + i + 8), b);
  }
  if (i < n) {
    __mmask8 k = (__mmask8)((1u << (n - i > 8 ? 8 : n - i)) - 1);
    _mm512_mask_storeu_epi64(out + i, k, hash8(_mm512_maskz_loadu_epi64(k, ids + i), sd));
    i += 8;
  }
  for (; i < n; i++) out[i] = cnv__simd_hash(ids[i], seed);
}

/* Membership bits of ids[0..32) in s (at most CNV__SIMD_SCAN_MAX ids): broadcast compares. */
static uint64_t member32(const uint64_t *ids, const cnv_simd_idset *s) {
  __m512i x0 = load8(ids), x1 = load8(ids + 8), x2 = load8(ids + 16), x3 = load8(ids + 24);
  __mmask8 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t k = 0; k < s->count; k++) {
    __m512i b = _mm512_set1_epi64((long long)s->ids[k]);
    a0 |= _mm512_cmpeq_epi64_mask(x0, b);
    a1 |= _mm512_cmpeq_epi64_mask(x1, b);
    a2 |= _mm512_cmpeq_epi64_mask(x2, b);
    a3 |= _mm512_cmpeq_epi64_mask(x3, b);
  }
  return (uint64_t)a0 | (uint64_t)a1 << 8 | (uint64_t)a2 << 16 | (uint64_t)a3 << 24;
}

/* A scan set of 1..32 ids whose low 16 bits are all distinct, for the fingerprint scan. */
typedef struct fp_set {
  __m512i ids[4]; /* the ids, zero-padded to 32 */
  uint16_t fp[CNV__SIMD_SCAN_MAX];
  size_t count;
} fp_set;

/* 0 when s is empty or two of its ids share their low 16 bits (use member32 then). */
static int fp_prepare(fp_set *f, const cnv_simd_idset *s) {
  uint64_t padded[CNV__SIMD_SCAN_MAX] = {0};
  if (s->count == 0) return 0;
  for (size_t i = 0; i < s->count; i++) padded[i] = s->ids[i], f->fp[i] = (uint16_t)s->ids[i];
  __mmask32 valid = (__mmask32)(s->count == 32 ? 0xFFFFFFFFu : (1u << s->count) - 1);
  __m512i all = _mm512_maskz_loadu_epi16(valid, f->fp);
  for (size_t i = 0; i < s->count; i++) {
    uint32_t same = _mm512_mask_cmpeq_epi16_mask(valid, all, _mm512_set1_epi16((short)f->fp[i]));
    if (same & (same - 1)) return 0;
  }
  for (unsigned k = 0; k < 4; k++) f->ids[k] = load8(padded + 8 * k);
  f->count = s->count;
  return 1;
}

/* Exact check of 8 ids against the set entries their lanes point at (16-bit indexes). */
static inline uint64_t fp_verify8(const fp_set *f, __m128i idx16, __m512i x) {
  __m512i idx = _mm512_cvtepu16_epi64(idx16);
  __m512i c = _mm512_permutex2var_epi64(f->ids[0], idx, f->ids[1]);
  if (f->count > 16) {
    __m512i hi = _mm512_permutex2var_epi64(f->ids[2], idx, f->ids[3]);
    c = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(idx, _mm512_set1_epi64(16)), c, hi);
  }
  return _mm512_cmpeq_epi64_mask(c, x);
}

/* Lanes of z equal to fingerprint fp take entry index k. */
static inline __m512i fp_step(__m512i acc, __m512i z, uint16_t fp, size_t k) {
  __mmask32 m = _mm512_cmpeq_epi16_mask(z, _mm512_set1_epi16((short)fp));
  return _mm512_mask_mov_epi16(acc, m, _mm512_set1_epi16((short)k));
}

/* Membership bits of ids[0..32): compare 32 low-16-bit fingerprints per instruction, record
 * which set entry each lane matched (entry 0 when none), then compare the full ids with that
 * entry. Distinct set fingerprints make the recorded entry the only possible match. */
static uint64_t fp_member32(const uint64_t *ids, const fp_set *f) {
  __m512i x0 = load8(ids), x1 = load8(ids + 8), x2 = load8(ids + 16), x3 = load8(ids + 24);
  __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtepi64_epi16(x0)),
                                       _mm512_cvtepi64_epi16(x1), 1);
  __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtepi64_epi16(x2)),
                                       _mm512_cvtepi64_epi16(x3), 1);
  __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  /* Four accumulators break the dependency chain; a lane matches at most one entry, so OR
   * merges them. */
  __m512i i0 = _mm512_setzero_si512(), i1 = i0, i2 = i0, i3 = i0;
  size_t k = 1;
  for (; k + 4 <= f->count; k += 4) {
    i0 = fp_step(i0, z, f->fp[k], k);
    i1 = fp_step(i1, z, f->fp[k + 1], k + 1);
    i2 = fp_step(i2, z, f->fp[k + 2], k + 2);
    i3 = fp_step(i3, z, f->fp[k + 3], k + 3);
  }
  for (; k < f->count; k++) i0 = fp_step(i0, z, f->fp[k], k);
  __m512i idx = _mm512_or_si512(_mm512_or_si512(i0, i1), _mm512_or_si512(i2, i3));
  return fp_verify8(f, _mm512_extracti32x4_epi32(idx, 0), x0) |
         fp_verify8(f, _mm512_extracti32x4_epi32(idx, 1), x1) << 8 |
         fp_verify8(f, _mm512_extracti32x4_epi32(idx, 2), x2) << 16 |
         fp_verify8(f, _mm512_extracti32x4_epi32(idx, 3), x3) << 24;
}

/* Bits of ids[0..32): fingerprint scan, plain scan, or binary search, as prepared. */
static inline uint64_t cap32(const uint64_t *x, const cnv_simd_idset *allow,
                             const cnv_simd_idset *deny, const cnv_simd_idset *eff,
                             const fp_set *f) {
  if (f) return fp_member32(x, f);
  if (eff) return member32(x, eff);
  return cnv__simd_cap_bits(allow, deny, x, 32);
}

void cnv_simd_capcheck_avx512(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                              const cnv_simd_idset *deny, uint64_t *mask) {
  uint64_t only[CNV__SIMD_SCAN_MAX];
  cnv_simd_idset eff = {only, 0};
  fp_set fps;
  const cnv_simd_idset *pe = NULL;
  const fp_set *pf = NULL;
  if (allow->count <= CNV__SIMD_SCAN_MAX) {
    eff.count = cnv__simd_allowed_only(allow, deny, only);
    pe = &eff;
    if (n >= 32 && fp_prepare(&fps, &eff)) pf = &fps;
  }
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const uint64_t *x = ids + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + 32 <= end; j += 32) word |= cap32(x + j, allow, deny, pe, pf) << j;
    if (j < end) word |= cnv__simd_cap_bits(allow, deny, x + j, end - j) << j;
    mask[w] = word;
  }
}

cnv_effects cnv_simd_effects_join_avx512(const cnv_effects *e, size_t n) {
  __m512i a = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) a = _mm512_or_si512(a, _mm512_loadu_si512((const void *)(e + i)));
  if (i < n)
    a = _mm512_or_si512(a, _mm512_maskz_loadu_epi16((__mmask32)((1ull << (n - i)) - 1), e + i));
  __m256i h = _mm256_or_si256(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
  __m128i q = _mm_or_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  uint64_t x = (uint64_t)_mm_cvtsi128_si64(q) | (uint64_t)_mm_extract_epi64(q, 1);
  x |= x >> 32;
  x |= x >> 16;
  return (cnv_effects)x;
}

void cnv_simd_effects_subset_avx512(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask) {
  const __m512i notc = _mm512_set1_epi16((short)(cnv_effects)~ceiling);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const cnv_effects *x = e + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64;
    __mmask32 k0 = (__mmask32)(end >= 32 ? 0xFFFFFFFFu : (1u << end) - 1);
    __mmask32 k1 = (__mmask32)(end <= 32 ? 0u : end == 64 ? 0xFFFFFFFFu
                                                          : (1u << (end - 32)) - 1);
    uint64_t lo = _mm512_mask_testn_epi16_mask(k0, _mm512_maskz_loadu_epi16(k0, x), notc);
    uint64_t hi = _mm512_mask_testn_epi16_mask(k1, _mm512_maskz_loadu_epi16(k1, x + 32), notc);
    mask[w] = lo | hi << 32;
  }
}

void cnv_simd_variety_count_avx512(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                                   uint64_t *clogc) {
  cnv__simd_variety_core(ids, n, scratch, distinct, clogc, cnv_simd_hash64_avx512);
}

/* Lanes whose rank beats their register: rank > reg <=> clz(w) >= reg <=> w >> (64-reg) == 0.
 * Registers are read with a 32-bit gather at idx & ~3 (in bounds: m is a multiple of 4). */
static inline __mmask8 hll_need8(const uint8_t *regs, __m512i h, unsigned p) {
  const __m512i three = _mm512_set1_epi64(3);
  __m512i idx = _mm512_srl_epi64(h, _mm_cvtsi32_si128((int)(64 - p)));
  __m512i w = _mm512_or_si512(_mm512_sll_epi64(h, _mm_cvtsi32_si128((int)p)),
                              _mm512_set1_epi64((long long)(1ull << (p - 1))));
  __m256i g = _mm512_i64gather_epi32(_mm512_andnot_si512(three, idx), (const void *)regs, 1);
  __m512i byte_sh = _mm512_slli_epi64(_mm512_and_si512(idx, three), 3);
  __m512i reg = _mm512_and_si512(_mm512_srlv_epi64(_mm512_cvtepu32_epi64(g), byte_sh),
                                 _mm512_set1_epi64(0xFF));
  __m512i shifted = _mm512_srlv_epi64(w, _mm512_sub_epi64(_mm512_set1_epi64(64), reg));
  return _mm512_testn_epi64_mask(shifted, shifted);
}

void cnv_simd_hll_update_avx512(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                                uint64_t seed) {
  const __m512i sd = _mm512_set1_epi64((long long)(seed ^ CNV__SIMD_HASH_KEY));
  uint64_t hs[8];
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i h = hash8(load8(ids + i), sd);
    unsigned need = hll_need8(regs, h, p);
    if (need == 0) continue;
    _mm512_storeu_si512((void *)hs, h);
    for (; need; need &= need - 1) cnv__simd_hll_apply(regs, p, hs[__builtin_ctz(need)]);
  }
  for (; i < n; i++) cnv__simd_hll_apply(regs, p, cnv__simd_hash(ids[i], seed));
}

/* Nibble tables (both 128-bit lanes alike): a byte is a path byte ([a-z0-9_.-]) when
 * lo[low nibble] & hi[high nibble] != 0. One bit per high nibble that holds path bytes:
 * 0x2_ bit 0 ('-' '.'), 0x3_ bit 1 ('0'-'9'), 0x5_ bit 2 ('_'), 0x6_ bit 3 ('a'-'o'),
 * 0x7_ bit 4 ('p'-'z'). vpshufb gives 0 for bytes >= 0x80, so they match nothing. */
#define LO_ROW \
  0x12, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x18, 0x08, 0x08, 0x09, 0x09, 0x0c
#define HI_ROW 0, 0, 0x01, 0x02, 0, 0x04, 0x08, 0x10, 0, 0, 0, 0, 0, 0, 0, 0

/* A path of up to 32 bytes in one masked load (masked-off lanes neither fault nor read);
 * longer ones take the scalar loop. Byte classes come from the nibble tables, dots from one
 * compare; the dot rules are then a few mask operations. */
bool cnv_simd_path_accept_avx512(const char *path, size_t len) {
  if (len - 1 >= 32) return cnv_simd_path_accept_scalar(path, len);
  const __m256i lo_t = _mm256_setr_epi8(LO_ROW, LO_ROW);
  const __m256i hi_t = _mm256_setr_epi8(HI_ROW, HI_ROW);
  __mmask32 in = (__mmask32)_bzhi_u32(UINT32_MAX, (unsigned)len);
  __m256i v = _mm256_maskz_loadu_epi8(in, path);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
  __m256i cls_lo = _mm256_shuffle_epi8(lo_t, v), cls_hi = _mm256_shuffle_epi8(hi_t, hi);
  uint32_t bad = _mm256_mask_testn_epi8_mask(in, cls_lo, cls_hi);
  uint32_t dots = _mm256_mask_cmpeq_epi8_mask(in, v, _mm256_set1_epi8('.'));
  /* A dot first, last or right after another dot; at most 7 dots (8 segments), which only a
   * path of 16 bytes or more can exceed once no two dots touch. */
  uint32_t bad_dot = dots & ((dots >> 1) | 1u | (1u << (len - 1)));
  if ((bad | bad_dot) != 0) return false;
  return len < 16 || (unsigned)_mm_popcnt_u32(dots) < CNV_SIMD_PATH_MAX_SEGMENTS;
}
#undef LO_ROW
#undef HI_ROW

/* Row union, one vector per step and a masked tail (no scalar loop). */
bool cnv_simd_bits_or_avx512(uint64_t *dst, const uint64_t *src, size_t words) {
  __m512i fresh = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 8 <= words; i += 8) {
    __m512i d = load8(dst + i), s = load8(src + i);
    fresh = _mm512_ternarylogic_epi64(fresh, d, s, 0xF2); /* fresh | (s & ~d) */
    _mm512_storeu_si512((void *)(dst + i), _mm512_or_si512(d, s));
  }
  if (i < words) {
    __mmask8 k = (__mmask8)((1u << (words - i)) - 1);
    __m512i d = _mm512_maskz_loadu_epi64(k, dst + i), s = _mm512_maskz_loadu_epi64(k, src + i);
    fresh = _mm512_ternarylogic_epi64(fresh, d, s, 0xF2);
    _mm512_mask_storeu_epi64(dst + i, k, _mm512_or_si512(d, s));
  }
  return _mm512_test_epi64_mask(fresh, fresh) != 0;
}

const cnv_simd_kernels cnv__simd_table_avx512 = {
    CNV_SIMD_AVX512,
    cnv_simd_hash64_avx512,
    cnv_simd_capcheck_avx512,
    cnv_simd_effects_join_avx512,
    cnv_simd_effects_subset_avx512,
    cnv_simd_zero_avx2,
    cnv_simd_variety_count_avx512,
    cnv_simd_hll_update_avx512,
    cnv_simd_hll_sums_avx2,
    cnv_simd_path_accept_avx512,
    cnv_simd_bits_or_avx512,
};
