/* AVX-512 accept path for capability ids: one masked 32-byte load (AVX-512BW+VL on ymm, so no
 * 512-bit frequency penalty) classifies a whole path of up to 32 bytes (no byte outside path[0..len) is read: masked-off lanes do not fault). Its
 * result is defined by the scalar twin cnv__path_valid_short (path.c); anything it does not
 * accept goes to the exact checker, which names the error. Compiled with AVX-512 flags and
 * called only when dispatch chose the avx512 path; built on x86-64 only (CMakeLists.txt). */
#include <immintrin.h>
#include <stdint.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cnv/protocol.h>

#include "path.h"

/* Nibble tables (both 128-bit lanes alike): a byte is a path byte ([a-z0-9_.-]) when
 * lo[low nibble] & hi[high nibble] != 0. One bit per high nibble that holds path bytes:
 * 0x2_ bit 0 ('-' '.'), 0x3_ bit 1 ('0'-'9'), 0x5_ bit 2 ('_'), 0x6_ bit 3 ('a'-'o'),
 * 0x7_ bit 4 ('p'-'z'). Bytes >= 0x80 and the zeroed lanes past the end match nothing. */
#define LO_ROW 0x12, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x18, 0x08, 0x08, 0x09, 0x09, 0x0c
#define HI_ROW 0, 0, 0x01, 0x02, 0, 0x04, 0x08, 0x10, 0, 0, 0, 0, 0, 0, 0, 0

bool cnv__path_valid_avx512(const char *path, size_t len) {
  if (len - 1 >= CNV__PATH_SHORT_MAX) return false;
  const __m256i lo_tbl = _mm256_setr_epi8(LO_ROW, LO_ROW);
  const __m256i hi_tbl = _mm256_setr_epi8(HI_ROW, HI_ROW);
  uint32_t m = _bzhi_u32(~0u, (unsigned)len);
  __m256i v = _mm256_maskz_loadu_epi8(m, path);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
  uint32_t not_ok = _mm256_mask_testn_epi8_mask(m, _mm256_shuffle_epi8(lo_tbl, v),
                                                 _mm256_shuffle_epi8(hi_tbl, hi));
  uint32_t dot = _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8('.'));
  /* A dot first, last or right after another dot. */
  uint32_t bad_dot = dot & ((dot >> 1) | 1u | (1u << (len - 1)));
  return (not_ok | bad_dot) == 0 && (unsigned)__builtin_popcount(dot) < CNV_PATH_MAX_SEGMENTS;
}

/* Anything the one-step check did not accept: the exact checker decides (and names the
 * error). Out of line so that the accept path below needs no stack frame. */
__attribute__((noinline, cold)) static cnv_status capid_exact(const char *path, size_t len,
                                                              uint64_t *out) {
  cnv_status st = cnv__path_check(path, len, NULL);
  if (st != CNV_OK) return st;
  *out = XXH3_64bits(path, len);
  return CNV_OK;
}

cnv_status cnv__capability_id_avx512(const char *path, size_t len, uint64_t *out) {
  if (!cnv__path_valid_avx512(path, len)) return capid_exact(path, len, out);
  /* Accepted means 1..CNV__PATH_SHORT_MAX bytes: lets the compiler drop XXH3's long paths. */
  if (len > CNV__PATH_SHORT_MAX) __builtin_unreachable();
  *out = XXH3_64bits(path, len);
  return CNV_OK;
}
