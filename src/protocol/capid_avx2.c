/* AVX2 accept path for capability ids (AVX2, BMI2, POPCNT; called only when the simd
 * module's dispatch chose the avx2 path, so CNV_SIMD pins it too; x86-64 only, see
 * CMakeLists.txt). AVX2 has no masked loads, so a path of 8..31 bytes is read as two
 * overlapping windows that lie inside path[0..len): 8 + 8 bytes for up to 16, 16 + 16 above.
 * Both are classified in one register (pshufb nibble tables), and the lane masks are shifted
 * back to byte positions. Its result is defined by the scalar twin cnv__path_valid_short
 * (path.c); anything it does not accept goes to the exact checker, which names the error. */
#include <immintrin.h>
#include <stdint.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cnv/protocol.h>

#include "path.h"

/* Nibble tables: a byte is a path byte ([a-z0-9_.-]) when lo[low nibble] & hi[high nibble]
 * != 0 (one bit per high nibble that holds path bytes: 0x2_ '-' '.', 0x3_ digits, 0x5_ '_',
 * 0x6_ 'a'-'o', 0x7_ 'p'-'z'). pshufb gives 0 for bytes >= 0x80, so they match nothing. */
#define LO_ROW \
  0x12, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x18, 0x08, 0x08, 0x09, 0x09, 0x0c
#define HI_ROW 0, 0, 0x01, 0x02, 0, 0x04, 0x08, 0x10, 0, 0, 0, 0, 0, 0, 0, 0

/* Lane masks of a 32-byte register: bytes that are not path bytes, and dots. */
static inline void classify32(__m256i v, uint32_t *bad, uint32_t *dot) {
  const __m256i lo_t = _mm256_setr_epi8(LO_ROW, LO_ROW);
  const __m256i hi_t = _mm256_setr_epi8(HI_ROW, HI_ROW);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
  __m256i cls = _mm256_and_si256(_mm256_shuffle_epi8(lo_t, v), _mm256_shuffle_epi8(hi_t, hi));
  *bad = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls, _mm256_setzero_si256()));
  *dot = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('.')));
}

/* Byte-position masks of path[0..len), 8 <= len <= 31: lanes 0..w-1 hold bytes 0..w-1 and
 * lanes w..2w-1 hold bytes len-w..len-1 (w = 8 or 16). */
static inline void classify(const char *path, size_t len, uint32_t *bad, uint32_t *dot) {
  unsigned w = len <= 16 ? 8 : 16;
  __m128i a, b;
  if (w == 8) {
    a = _mm_loadl_epi64((const void *)path);
    b = _mm_loadl_epi64((const void *)(path + len - 8));
    a = _mm_unpacklo_epi64(a, b);
    b = _mm_setzero_si128();
  } else {
    a = _mm_loadu_si128((const void *)path);
    b = _mm_loadu_si128((const void *)(path + len - 16));
  }
  uint32_t m_bad, m_dot, low = (1u << w) - 1;
  classify32(_mm256_set_m128i(b, a), &m_bad, &m_dot);
  unsigned up = (unsigned)len - w; /* where the second window starts */
  *bad = (m_bad & low) | (((m_bad >> w) & low) << up);
  *dot = (m_dot & low) | (((m_dot >> w) & low) << up);
}

bool cnv__path_valid_avx2(const char *path, size_t len) {
  if (len < 8 || len > CNV__PATH_SHORT_MAX) return false;
  uint32_t bad, dot;
  classify(path, len, &bad, &dot);
  /* A dot first, last or right after another dot; at most 7 dots (8 segments). */
  uint32_t bad_dot = dot & ((dot >> 1) | 1u | (1u << (len - 1)));
  return (bad | bad_dot) == 0 && (unsigned)__builtin_popcount(dot) < CNV_PATH_MAX_SEGMENTS;
}

/* Everything the accept path does not take (the portable path also names the errors). */
static inline cnv_status slow(const char *path, size_t len, uint64_t *out) {
  return cnv__capability_id_portable(path, len, out);
}

cnv_status cnv__capability_id_avx2(const char *path, size_t len, uint64_t *out) {
  if (!path || !out || !cnv__path_valid_avx2(path, len)) return slow(path, len, out);
  /* Accepted means 8..31 bytes: lets the compiler drop XXH3's long paths. */
  if (len > CNV__PATH_SHORT_MAX) __builtin_unreachable();
  uint64_t h = XXH3_64bits(path, len);
  __asm__("" : "+r"(out)); /* keeps out in a general register across XXH3's mulx */
  *out = h;
  return CNV_OK;
}
