/* SSE4.2 kernels (compiled with -msse4.2 -mpopcnt) where two-lane vectors beat scalar code:
 * the capability scan and the 16-bit effect kernels. Hashing, HLL and variety stay scalar on
 * this path: two 64-bit lanes with emulated multiplies lose to the scalar imul. */
#include <immintrin.h>

#include "simd_internal.h"

/* Primitives of the shared drivers (generic/drivers.h). */
#define CNV__G_PATH sse42
typedef __m128i cnv__g_v64;
typedef __m128i cnv__g_v16;
#define CNV__G_L64 2
#define CNV__G_L16 8
#define CNV__G_SUBSET_STEP 16
static inline __m128i g_load64(const uint64_t *p) { return _mm_loadu_si128((const void *)p); }
static inline __m128i g_load16(const cnv_effects *p) { return _mm_loadu_si128((const void *)p); }
static inline __m128i g_zero64(void) { return _mm_setzero_si128(); }
static inline __m128i g_zero16(void) { return _mm_setzero_si128(); }
static inline __m128i g_or64(__m128i a, __m128i b) { return _mm_or_si128(a, b); }
static inline __m128i g_or16(__m128i a, __m128i b) { return _mm_or_si128(a, b); }
static inline __m128i g_splat64(uint64_t x) { return _mm_set1_epi64x((long long)x); }
static inline __m128i g_eq64(__m128i a, __m128i b) { return _mm_cmpeq_epi64(a, b); }
static inline uint64_t g_bits64(__m128i m) {
  return (unsigned)_mm_movemask_pd(_mm_castsi128_pd(m));
}
static inline uint64_t g_fold16(__m128i a) {
  return (uint64_t)_mm_cvtsi128_si64(a) | (uint64_t)_mm_extract_epi64(a, 1);
}
static inline __m128i g_splat16(cnv_effects x) { return _mm_set1_epi16((short)x); }

/* Subset bits of 16 effect sets: 1 where (e & notc) == 0. */
static inline uint64_t g_subset(const cnv_effects *e, __m128i notc) {
  const __m128i z = _mm_setzero_si128();
  __m128i c0 = _mm_cmpeq_epi16(_mm_and_si128(g_load16(e), notc), z);
  __m128i c1 = _mm_cmpeq_epi16(_mm_and_si128(g_load16(e + 8), notc), z);
  return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(c0, c1));
}

#include "generic/drivers.h"

/* Row union, two vectors per step; the scalar loop finishes the odd word. */
bool cnv_simd_bits_or_sse42(uint64_t *dst, const uint64_t *src, size_t words) {
  __m128i fresh = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    __m128i d0 = _mm_loadu_si128((const void *)(dst + i)), s0 = _mm_loadu_si128((const void *)(src + i));
    __m128i d1 = _mm_loadu_si128((const void *)(dst + i + 2));
    __m128i s1 = _mm_loadu_si128((const void *)(src + i + 2));
    fresh = _mm_or_si128(fresh, _mm_or_si128(_mm_andnot_si128(d0, s0), _mm_andnot_si128(d1, s1)));
    _mm_storeu_si128((void *)(dst + i), _mm_or_si128(d0, s0));
    _mm_storeu_si128((void *)(dst + i + 2), _mm_or_si128(d1, s1));
  }
  bool tail = i < words && cnv_simd_bits_or_scalar(dst + i, src + i, words - i);
  return !_mm_testz_si128(fresh, fresh) || tail;
}

const cnv_simd_kernels cnv__simd_table_sse42 = {
    CNV_SIMD_SSE42,
    cnv_simd_hash64_scalar,
    cnv_simd_capcheck_sse42,
    cnv_simd_effects_join_sse42,
    cnv_simd_effects_subset_sse42,
    cnv_simd_zero_scalar,
    cnv_simd_variety_count_scalar,
    cnv_simd_hll_update_scalar,
    cnv_simd_hll_sums_scalar,
    cnv_simd_path_accept_scalar,
    cnv_simd_bits_or_sse42,
};
