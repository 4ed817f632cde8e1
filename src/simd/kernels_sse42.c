/* SSE4.2 kernels (compiled with -msse4.2 -mpopcnt) where two-lane vectors beat scalar code:
 * the capability scan and the 16-bit effect kernels. Hashing, HLL and variety stay scalar on
 * this path: two 64-bit lanes with emulated multiplies lose to the scalar imul. */
#include <immintrin.h>

#include "simd/simd_internal.h"

static inline __m128i load2(const uint64_t *p) { return _mm_loadu_si128((const void *)p); }
static inline unsigned bits2(__m128i m) { return (unsigned)_mm_movemask_pd(_mm_castsi128_pd(m)); }

/* Membership bits of ids[0..8) in s (at most CNV__SIMD_SCAN_MAX ids): broadcast compares. */
static uint64_t member8(const uint64_t *ids, const cnv_simd_idset *s) {
  __m128i x0 = load2(ids), x1 = load2(ids + 2), x2 = load2(ids + 4), x3 = load2(ids + 6);
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t k = 0; k < s->count; k++) {
    __m128i b = _mm_set1_epi64x((long long)s->ids[k]);
    a0 = _mm_or_si128(a0, _mm_cmpeq_epi64(x0, b));
    a1 = _mm_or_si128(a1, _mm_cmpeq_epi64(x1, b));
    a2 = _mm_or_si128(a2, _mm_cmpeq_epi64(x2, b));
    a3 = _mm_or_si128(a3, _mm_cmpeq_epi64(x3, b));
  }
  return bits2(a0) | bits2(a1) << 2 | bits2(a2) << 4 | bits2(a3) << 6;
}

void cnv_simd_capcheck_sse42(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
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

cnv_effects cnv_simd_effects_join_sse42(const cnv_effects *e, size_t n) {
  __m128i a0 = _mm_setzero_si128(), a1 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm_or_si128(a0, _mm_loadu_si128((const void *)(e + i)));
    a1 = _mm_or_si128(a1, _mm_loadu_si128((const void *)(e + i + 8)));
  }
  __m128i a = _mm_or_si128(a0, a1);
  uint64_t x = (uint64_t)_mm_cvtsi128_si64(a) | (uint64_t)_mm_extract_epi64(a, 1);
  x |= x >> 32;
  x |= x >> 16;
  cnv_effects acc = (cnv_effects)x;
  for (; i < n; i++) acc = (cnv_effects)(acc | e[i]);
  return acc;
}

/* Subset bits of 16 effect sets: 1 where (e & notc) == 0. */
static inline uint64_t subset16(const cnv_effects *e, __m128i notc) {
  const __m128i z = _mm_setzero_si128();
  __m128i c0 = _mm_cmpeq_epi16(_mm_and_si128(_mm_loadu_si128((const void *)e), notc), z);
  __m128i c1 = _mm_cmpeq_epi16(_mm_and_si128(_mm_loadu_si128((const void *)(e + 8)), notc), z);
  return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(c0, c1));
}

void cnv_simd_effects_subset_sse42(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask) {
  const __m128i notc = _mm_set1_epi16((short)(cnv_effects)~ceiling);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const cnv_effects *x = e + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + 16 <= end; j += 16) word |= subset16(x + j, notc) << j;
    for (; j < end; j++) word |= (uint64_t)((x[j] & (cnv_effects)~ceiling) == 0) << j;
    mask[w] = word;
  }
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
};
