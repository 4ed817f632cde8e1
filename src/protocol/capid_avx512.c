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

#define CLASS(v, lo, n) \
  _mm256_cmp_epu8_mask(_mm256_sub_epi8((v), _mm256_set1_epi8(lo)), _mm256_set1_epi8(n), _MM_CMPINT_LT)

bool cnv__path_valid_avx512(const char *path, size_t len) {
  if (len - 1 >= CNV__PATH_SHORT_MAX) return false;
  __mmask32 m = _bzhi_u32(~0u, (unsigned)len);
  __m256i v = _mm256_maskz_loadu_epi8(m, path);
  __mmask32 dot = _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8('.'));
  /* '-' and '.' are adjacent (0x2d, 0x2e): one range covers both. */
  __mmask32 ok = CLASS(v, 'a', 26) | CLASS(v, '-', 2) | CLASS(v, '0', 10) |
                 _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8('_'));
  uint32_t edge = 1u | (1u << (len - 1));
  return (ok & m) == m && ((dot & edge) | (dot & (dot >> 1))) == 0 &&
         __builtin_popcount(dot) < CNV_PATH_MAX_SEGMENTS;
}

cnv_status cnv__capability_id_avx512(const char *path, size_t len, uint64_t *out) {
  if (!cnv__path_valid_avx512(path, len)) {
    cnv_status st = cnv__path_check(path, len, NULL);
    if (st != CNV_OK) return st;
  }
  *out = XXH3_64bits(path, len);
  return CNV_OK;
}
