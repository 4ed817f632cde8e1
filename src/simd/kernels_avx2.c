/* AVX2 kernels (compiled with -mavx2 -mbmi2 -mpopcnt; run only when the CPU has AVX2). */
#include <immintrin.h>
#include <string.h>

#include "simd/simd_internal.h"

/* 64-bit low multiply by the rrmxmx constant from three 32x32->64 multiplies. */
static inline __m256i mul_rrmxmx(__m256i x) {
  const __m256i c = _mm256_set1_epi64x((long long)CNV__SIMD_RRMXMX_MUL);
  const __m256i ch = _mm256_set1_epi64x((long long)(CNV__SIMD_RRMXMX_MUL >> 32));
  __m256i lo = _mm256_mul_epu32(x, c);
  __m256i t1 = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), c);
  __m256i t2 = _mm256_mul_epu32(x, ch);
  return _mm256_add_epi64(lo, _mm256_slli_epi64(_mm256_add_epi64(t1, t2), 32));
}

static inline __m256i hash4(__m256i v, __m256i seed) {
  v = _mm256_xor_si256(v, seed);
  __m256i r49 = _mm256_or_si256(_mm256_srli_epi64(v, 49), _mm256_slli_epi64(v, 15));
  __m256i r24 = _mm256_or_si256(_mm256_srli_epi64(v, 24), _mm256_slli_epi64(v, 40));
  v = _mm256_xor_si256(v, _mm256_xor_si256(r49, r24));
  v = mul_rrmxmx(v);
  v = _mm256_xor_si256(v, _mm256_srli_epi64(v, 28));
  v = mul_rrmxmx(v);
  return _mm256_xor_si256(v, _mm256_srli_epi64(v, 28));
}

static inline __m256i load4(const uint64_t *p) { return _mm256_loadu_si256((const void *)p); }
static inline unsigned bits4(__m256i m) {
  return (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(m));
}

void cnv_simd_hash64_avx2(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  const __m256i sd = _mm256_set1_epi64x((long long)(seed ^ CNV__SIMD_HASH_KEY));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i a = hash4(load4(ids + i), sd);
    __m256i b = hash4(load4(ids + i + 4), sd);
    _mm256_storeu_si256((void *)(out + i), a);
    _mm256_storeu_si256((void *)(out + i + 4), b);
  }
  for (; i < n; i++) out[i] = cnv__simd_hash(ids[i], seed);
}

/* Membership bits of ids[0..16) in s (at most CNV__SIMD_SCAN_MAX ids): broadcast compares. */
static uint64_t member16(const uint64_t *ids, const cnv_simd_idset *s) {
  __m256i x0 = load4(ids), x1 = load4(ids + 4), x2 = load4(ids + 8), x3 = load4(ids + 12);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t k = 0; k < s->count; k++) {
    __m256i b = _mm256_set1_epi64x((long long)s->ids[k]);
    a0 = _mm256_or_si256(a0, _mm256_cmpeq_epi64(x0, b));
    a1 = _mm256_or_si256(a1, _mm256_cmpeq_epi64(x1, b));
    a2 = _mm256_or_si256(a2, _mm256_cmpeq_epi64(x2, b));
    a3 = _mm256_or_si256(a3, _mm256_cmpeq_epi64(x3, b));
  }
  return bits4(a0) | bits4(a1) << 4 | bits4(a2) << 8 | (uint64_t)bits4(a3) << 12;
}

void cnv_simd_capcheck_avx2(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                            const cnv_simd_idset *deny, uint64_t *mask) {
  uint64_t only[CNV__SIMD_SCAN_MAX];
  cnv_simd_idset eff = {only, 0};
  int scan = allow->count <= CNV__SIMD_SCAN_MAX;
  if (scan) eff.count = cnv__simd_allowed_only(allow, deny, only);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const uint64_t *x = ids + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + 16 <= end; j += 16)
      word |= (scan ? member16(x + j, &eff) : cnv__simd_cap_bits(allow, deny, x + j, 16)) << j;
    if (j < end) word |= cnv__simd_cap_bits(allow, deny, x + j, end - j) << j;
    mask[w] = word;
  }
}

cnv_effects cnv_simd_effects_join_avx2(const cnv_effects *e, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_or_si256(a0, _mm256_loadu_si256((const void *)(e + i)));
    a1 = _mm256_or_si256(a1, _mm256_loadu_si256((const void *)(e + i + 16)));
  }
  __m256i a = _mm256_or_si256(a0, a1);
  __m128i h = _mm_or_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  uint64_t x = (uint64_t)_mm_cvtsi128_si64(h) | (uint64_t)_mm_extract_epi64(h, 1);
  x |= x >> 32;
  x |= x >> 16;
  cnv_effects acc = (cnv_effects)x;
  for (; i < n; i++) acc = (cnv_effects)(acc | e[i]);
  return acc;
}

/* Subset bits of 32 effect sets: 1 where (e & notc) == 0. */
static inline uint64_t subset32(const cnv_effects *e, __m256i notc) {
  const __m256i z = _mm256_setzero_si256();
  __m256i c0 = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_loadu_si256((const void *)e), notc), z);
  __m256i c1 =
      _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_loadu_si256((const void *)(e + 16)), notc), z);
  __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi16(c0, c1), 0xD8);
  return (uint32_t)_mm256_movemask_epi8(packed);
}

void cnv_simd_effects_subset_avx2(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask) {
  const __m256i notc = _mm256_set1_epi16((short)(cnv_effects)~ceiling);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const cnv_effects *x = e + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + 32 <= end; j += 32) word |= subset32(x + j, notc) << j;
    for (; j < end; j++) word |= (uint64_t)((x[j] & (cnv_effects)~ceiling) == 0) << j;
    mask[w] = word;
  }
}

/* From this size on glibc's memset (non-temporal stores) wins; measured, docs/simd.md. */
#define ZERO_MEMSET_MIN ((size_t)16 << 20)

/* Aligned 32-byte stores between two unaligned edge stores. Measured faster than glibc's
 * memset from 32 bytes to 12 MiB on this machine (docs/simd.md); memset outside that. */
void cnv_simd_zero_avx2(void *p, size_t n) {
  if (n < 32 || n >= ZERO_MEMSET_MIN) {
    if (n) memset(p, 0, n);
    return;
  }
  unsigned char *c = p, *end = c + n - 32;
  const __m256i z = _mm256_setzero_si256();
  _mm256_storeu_si256((void *)c, z);
  _mm256_storeu_si256((void *)end, z);
  unsigned char *a = c + (32 - ((uintptr_t)c & 31));
  for (; a + 32 <= end; a += 64) {
    _mm256_store_si256((void *)a, z);
    _mm256_store_si256((void *)(a + 32), z);
  }
  if (a < end) _mm256_store_si256((void *)a, z);
}

void cnv_simd_variety_count_avx2(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                                 uint64_t *clogc) {
  cnv__simd_variety_core(ids, n, scratch, distinct, clogc, cnv_simd_hash64_avx2);
}

/* Hashes 64 ids at a time in vectors, then updates registers in scalar code with a branch
 * that a long stream almost never takes. A gather-based "rank beats register" test in 4
 * lanes (as in the AVX-512 kernel) measured slower here: 1.33x vs 1.5x scalar. */
void cnv_simd_hll_update_avx2(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                              uint64_t seed) {
  uint64_t hs[64];
  for (size_t base = 0; base < n; base += 64) {
    size_t len = n - base < 64 ? n - base : 64;
    cnv_simd_hash64_avx2(ids + base, len, seed, hs);
    for (size_t i = 0; i < len; i++) {
      size_t idx = (size_t)(hs[i] >> (64u - p));
      uint8_t r = cnv__simd_hll_rank(hs[i], p);
      if (r > regs[idx]) regs[idx] = r;
    }
  }
}

/* Adds 2^32 >> r to hi (r == 0 adds 2^32, removed later via the zero count) and, for r > 32,
 * 2^q >> r to lo (r == q+1 adds 0). */
static inline void hll_terms4(__m256i r, __m256i two32, __m256i twoq, __m256i *hi, __m256i *lo) {
  *hi = _mm256_add_epi64(*hi, _mm256_srlv_epi64(two32, r));
  __m256i big = _mm256_cmpgt_epi64(r, _mm256_set1_epi64x(32));
  *lo = _mm256_add_epi64(*lo, _mm256_and_si256(_mm256_srlv_epi64(twoq, r), big));
}

static inline uint64_t hsum4(__m256i v) {
  __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

void cnv_simd_hll_sums_avx2(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out) {
  unsigned q = 64u - p;
  const __m256i two32 = _mm256_set1_epi64x(1ll << 32),
                twoq = _mm256_set1_epi64x((long long)(1ull << q));
  const __m128i z = _mm_setzero_si128(), sat = _mm_set1_epi8((char)(q + 1));
  __m256i hi = _mm256_setzero_si256(), lo = hi;
  uint64_t zeros = 0, saturated = 0;
  for (size_t i = 0; i < ((size_t)1 << p); i += 16) {
    __m128i b = _mm_loadu_si128((const void *)(regs + i));
    zeros += (uint64_t)__builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, z)));
    saturated += (uint64_t)__builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, sat)));
    hll_terms4(_mm256_cvtepu8_epi64(b), two32, twoq, &hi, &lo);
    hll_terms4(_mm256_cvtepu8_epi64(_mm_srli_si128(b, 4)), two32, twoq, &hi, &lo);
    hll_terms4(_mm256_cvtepu8_epi64(_mm_srli_si128(b, 8)), two32, twoq, &hi, &lo);
    hll_terms4(_mm256_cvtepu8_epi64(_mm_srli_si128(b, 12)), two32, twoq, &hi, &lo);
  }
  out->zeros = zeros;
  out->saturated = saturated;
  out->frac_hi = hsum4(hi) - (zeros << 32);
  out->frac_lo = hsum4(lo);
}

const cnv_simd_kernels cnv__simd_table_avx2 = {
    CNV_SIMD_AVX2,
    cnv_simd_hash64_avx2,
    cnv_simd_capcheck_avx2,
    cnv_simd_effects_join_avx2,
    cnv_simd_effects_subset_avx2,
    cnv_simd_zero_avx2,
    cnv_simd_variety_count_avx2,
    cnv_simd_hll_update_avx2,
    cnv_simd_hll_sums_avx2,
    cnv_simd_path_accept_scalar,
};
