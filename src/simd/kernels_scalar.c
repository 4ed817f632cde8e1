/* Scalar twins: the definitions every vector path must match bit for bit. */
#include <string.h>

#include "simd_internal.h"

void cnv_simd_hash64_scalar(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  for (size_t i = 0; i < n; i++) out[i] = cnv__simd_hash(ids[i], seed);
}

void cnv_simd_capcheck_scalar(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                              const cnv_simd_idset *deny, uint64_t *mask) {
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    uint64_t word = 0;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64;
    for (size_t j = 0; j < end; j++) word |= cnv__simd_cap_bit(allow, deny, ids[64 * w + j]) << j;
    mask[w] = word;
  }
}

cnv_effects cnv_simd_effects_join_scalar(const cnv_effects *e, size_t n) {
  cnv_effects acc = 0;
  for (size_t i = 0; i < n; i++) acc = (cnv_effects)(acc | e[i]);
  return acc;
}

void cnv_simd_effects_subset_scalar(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask) {
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    uint64_t word = 0;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64;
    for (size_t j = 0; j < end; j++)
      word |= (uint64_t)((e[64 * w + j] & (cnv_effects)~ceiling) == 0) << j;
    mask[w] = word;
  }
}

/* The scalar definition of the row union: changed = some src bit not yet in dst. */
bool cnv_simd_bits_or_scalar(uint64_t *dst, const uint64_t *src, size_t words) {
  uint64_t fresh = 0;
  for (size_t i = 0; i < words; i++) {
    const uint64_t d = dst[i], s = src[i];
    fresh |= s & ~d;
    dst[i] = d | s;
  }
  return fresh != 0;
}

/* The C library's memset is the scalar definition of zeroing. */
void cnv_simd_zero_scalar(void *p, size_t n) {
  if (n) memset(p, 0, n);
}

void cnv_simd_variety_count_scalar(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                                   uint64_t *clogc) {
  cnv__simd_variety_core(ids, n, scratch, distinct, clogc, cnv_simd_hash64_scalar);
}

void cnv_simd_hll_update_scalar(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                                uint64_t seed) {
  for (size_t i = 0; i < n; i++) cnv__simd_hll_apply(regs, p, cnv__simd_hash(ids[i], seed));
}

void cnv_simd_hll_sums_scalar(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out) {
  unsigned q = 64u - p;
  cnv_simd_hll_sums s = {0, 0, 0, 0};
  for (size_t i = 0; i < ((size_t)1 << p); i++) {
    unsigned r = regs[i];
    s.zeros += r == 0;
    s.saturated += r == q + 1;
    if (r >= 1 && r <= 32) s.frac_hi += 1ull << (32 - r);
    if (r >= 33 && r <= q) s.frac_lo += 1ull << (q - r);
  }
  *out = s;
}

/* 1: segment byte [a-z0-9_-], 2: '.', 0: anything else. */
static const unsigned char path_class[256] = {
    ['a'] = 1,
    ['b'] = 1,
    ['c'] = 1,
    ['d'] = 1,
    ['e'] = 1,
    ['f'] = 1,
    ['g'] = 1,
    ['h'] = 1,
    ['i'] = 1,
    ['j'] = 1,
    ['k'] = 1,
    ['l'] = 1,
    ['m'] = 1,
    ['n'] = 1,
    ['o'] = 1,
    ['p'] = 1,
    ['q'] = 1,
    ['r'] = 1,
    ['s'] = 1,
    ['t'] = 1,
    ['u'] = 1,
    ['v'] = 1,
    ['w'] = 1,
    ['x'] = 1,
    ['y'] = 1,
    ['z'] = 1,
    ['0'] = 1,
    ['1'] = 1,
    ['2'] = 1,
    ['3'] = 1,
    ['4'] = 1,
    ['5'] = 1,
    ['6'] = 1,
    ['7'] = 1,
    ['8'] = 1,
    ['9'] = 1,
    ['_'] = 1,
    ['-'] = 1,
    ['.'] = 2,
};

/* One table lookup per byte; paths are short, and a byte loop with predicted branches beat
 * an eight-bytes-per-step SWAR scan on them (docs/protocol.md). */
bool cnv_simd_path_accept_scalar(const char *path, size_t len) {
  const unsigned char *p = (const unsigned char *)path;
  size_t seg = 0; /* bytes in the current segment */
  unsigned dots = 0;
  if (len - 1 >= CNV_SIMD_PATH_MAX_LEN) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned c = path_class[p[i]];
    if (c == 1) {
      seg++;
    } else if (c == 0 || seg == 0 || ++dots == CNV_SIMD_PATH_MAX_SEGMENTS) {
      return false;
    } else {
      seg = 0;
    }
  }
  return seg != 0;
}

const cnv_simd_kernels cnv__simd_table_scalar = {
    CNV_SIMD_SCALAR,
    cnv_simd_hash64_scalar,
    cnv_simd_capcheck_scalar,
    cnv_simd_effects_join_scalar,
    cnv_simd_effects_subset_scalar,
    cnv_simd_zero_scalar,
    cnv_simd_variety_count_scalar,
    cnv_simd_hll_update_scalar,
    cnv_simd_hll_sums_scalar,
    cnv_simd_path_accept_scalar,
    cnv_simd_bits_or_scalar,
};
