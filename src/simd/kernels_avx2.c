/* AVX2 kernels (compiled with -mavx2 -mbmi2 -mpopcnt; run only when the CPU has AVX2). */
#include <immintrin.h>
#include <string.h>

#include "simd_internal.h"

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

/* Primitives of the shared drivers (generic/drivers.h). */
#define CNV__G_PATH avx2
#define CNV__G_HASH
typedef __m256i cnv__g_v64;
typedef __m256i cnv__g_v16;
#define CNV__G_L64 4
#define CNV__G_L16 16
#define CNV__G_SUBSET_STEP 32
static inline __m256i g_load64(const uint64_t *p) { return _mm256_loadu_si256((const void *)p); }
static inline __m256i g_load16(const cnv_effects *p) {
  return _mm256_loadu_si256((const void *)p);
}
static inline void g_store64(uint64_t *p, __m256i v) { _mm256_storeu_si256((void *)p, v); }
static inline __m256i g_zero64(void) { return _mm256_setzero_si256(); }
static inline __m256i g_zero16(void) { return _mm256_setzero_si256(); }
static inline __m256i g_or64(__m256i a, __m256i b) { return _mm256_or_si256(a, b); }
static inline __m256i g_or16(__m256i a, __m256i b) { return _mm256_or_si256(a, b); }
static inline __m256i g_splat64(uint64_t x) { return _mm256_set1_epi64x((long long)x); }
static inline __m256i g_eq64(__m256i a, __m256i b) { return _mm256_cmpeq_epi64(a, b); }
static inline uint64_t g_bits64(__m256i m) {
  return (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(m));
}
static inline uint64_t g_fold16(__m256i a) {
  __m128i h = _mm_or_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  return (uint64_t)_mm_cvtsi128_si64(h) | (uint64_t)_mm_extract_epi64(h, 1);
}
static inline __m256i g_splat16(cnv_effects x) { return _mm256_set1_epi16((short)x); }
static inline __m256i g_hash(__m256i v, __m256i seed) { return hash4(v, seed); }

/* Subset bits of 32 effect sets: 1 where (e & notc) == 0. */
static inline uint64_t g_subset(const cnv_effects *e, __m256i notc) {
  const __m256i z = _mm256_setzero_si256();
  __m256i c0 = _mm256_cmpeq_epi16(_mm256_and_si256(g_load16(e), notc), z);
  __m256i c1 = _mm256_cmpeq_epi16(_mm256_and_si256(g_load16(e + 16), notc), z);
  __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi16(c0, c1), 0xD8);
  return (uint32_t)_mm256_movemask_epi8(packed);
}

#include "generic/drivers.h"

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

/* Row union, two vectors per step; the scalar loop finishes the last 0..7 words. */
bool cnv_simd_bits_or_avx2(uint64_t *dst, const uint64_t *src, size_t words) {
  __m256i fresh = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= words; i += 8) {
    __m256i d0 = _mm256_loadu_si256((const void *)(dst + i));
    __m256i s0 = _mm256_loadu_si256((const void *)(src + i));
    __m256i d1 = _mm256_loadu_si256((const void *)(dst + i + 4));
    __m256i s1 = _mm256_loadu_si256((const void *)(src + i + 4));
    fresh = _mm256_or_si256(fresh, _mm256_or_si256(_mm256_andnot_si256(d0, s0), _mm256_andnot_si256(d1, s1)));
    _mm256_storeu_si256((void *)(dst + i), _mm256_or_si256(d0, s0));
    _mm256_storeu_si256((void *)(dst + i + 4), _mm256_or_si256(d1, s1));
  }
  bool tail = i < words && cnv_simd_bits_or_scalar(dst + i, src + i, words - i);
  return !_mm256_testz_si256(fresh, fresh) || tail;
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
    cnv_simd_bits_or_avx2,
};
