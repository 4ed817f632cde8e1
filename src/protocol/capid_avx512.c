/* AVX-512 accept path for capability ids (F+BW+VL and BMI2; called only after dispatch chose
 * the avx512 path; x86-64 only, see CMakeLists.txt). Masked 32-byte loads classify a whole
 * path of up to CNV__PATH_SHORT_MAX bytes (no byte outside path[0..len) is read: masked-off
 * lanes do not fault). Its result is defined by the scalar twin cnv__path_valid_short
 * (path.c); anything it does not accept goes to the exact checker, which names the error.
 * An id is bound by the integer units (the hash needs them; measured: four more integer
 * instructions cost a quarter cycle each, four more vector ones nothing), so the whole check
 * runs in vector and mask registers and ends in one branch. */
#include <stdint.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cnv/protocol.h>

#include "path.h"

/* Nibble tables (both 128-bit lanes alike): a byte is a path byte ([a-z0-9_.-]) when
 * lo[low nibble] & hi[high nibble] != 0. One bit per high nibble that holds path bytes:
 * 0x2_ bit 0 ('-' '.'), 0x3_ bit 1 ('0'-'9'), 0x5_ bit 2 ('_'), 0x6_ bit 3 ('a'-'o'),
 * 0x7_ bit 4 ('p'-'z'). vpshufb gives 0 for bytes >= 0x80, so they match nothing. */
#define LO_ROW \
  0x12, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a, 0x18, 0x08, 0x08, 0x09, 0x09, 0x0c
#define HI_ROW 0, 0, 0x01, 0x02, 0, 0x04, 0x08, 0x10, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char lo_nibble[32] __attribute__((aligned(32))) = {LO_ROW, LO_ROW};
static const unsigned char hi_nibble[32] __attribute__((aligned(32))) = {HI_ROW, HI_ROW};
#undef LO_ROW
#undef HI_ROW
static const uint32_t low4 = 0x0f0f0f0f;

/* Lanes whose byte has none of the bits 0xd1: among path bytes only '.', plus zero bytes
 * (and some non-path bytes, which fail the class check anyway). */
static const unsigned char not_dot_bits[32] __attribute__((aligned(32))) = {
    0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1,
    0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1, 0xd1};

/* What "the byte before lane i" reads as where the path has none: a dot before lane 0 (so a
 * leading dot is a doubled one), a plain segment byte past the end. */
#define A8 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'
static const char before_fill[32] __attribute__((aligned(32))) = {
    '.', 'a', 'a', 'a', 'a', 'a', 'a', 'a', A8, A8, A8};
#undef A8

static const uint32_t all_ones = UINT32_MAX;

/* Classifies path[0..len) (len <= 31) with two masked loads: the path in lanes 0..len-1 (zero
 * after), and the path shifted up one lane, so that lane i sees byte i-1. True when something
 * is wrong: a non-path byte, or a dot (lane len counts as one, a sentinel) right after a dot
 * or at the start. *dots gets the dot-or-zero lanes of the first load: their count is
 * (dots in the path) + 32 - len. Neither load touches a byte outside path[0..len): masked-off
 * lanes do not fault. */
static inline bool wrong(const char *path, size_t len, uint32_t *dots) {
  bool bad;
  uint64_t m;
  /* Assembly, so that the whole check stays in vector and mask registers (the integer units
   * are what the hash needs) and only ymm16-31/zmm16-31 are used (nothing to clear with
   * vzeroupper on return). */
  __asm__("bzhil %k[len], %[ones], %k[m]\n\t"          /* lanes 0..len-1 */
          "kmovd %k[m], %%k1\n\t"
          "kshiftld $1, %%k1, %%k2\n\t"                  /* lanes 1..len */
          "vmovdqu8 (%[p]), %%ymm16%{%%k1%}%{z%}\n\t"
          "vmovdqa64 %[fill], %%ymm18\n\t"
          "vmovdqu8 -1(%[p]), %%ymm18%{%%k2%}\n\t"      /* lane i: byte i-1 */
          "vpsrlw $4, %%ymm16, %%ymm17\n\t"
          "vpandd %[low4]%{1to8%}, %%ymm17, %%ymm17\n\t"  /* high nibbles */
          "vmovdqa64 %[hi], %%ymm19\n\t"
          "vpshufb %%ymm17, %%ymm19, %%ymm17\n\t"
          "vmovdqa64 %[lo], %%ymm19\n\t"
          "vpshufb %%ymm16, %%ymm19, %%ymm19\n\t"
          "vptestnmb %%ymm17, %%ymm19, %%k2%{%%k1%}\n\t"   /* non-path bytes */
          "vptestnmb %[nd], %%ymm16, %%k3\n\t"          /* dots and the zero lanes */
          "vptestnmb %[nd], %%ymm18, %%k4%{%%k3%}\n\t"  /* ... right after a dot */
          "kord %%k4, %%k2, %%k2\n\t"
          "kmovd %%k3, %[dots]\n\t"
          "kortestd %%k2, %%k2"
          : [m] "=&r"(m), [dots] "=r"(*dots), "=@ccnz"(bad)
          : [p] "r"(path), [len] "r"(len), [lo] "m"(lo_nibble), [hi] "m"(hi_nibble),
            [low4] "m"(low4), [nd] "m"(not_dot_bits), [fill] "m"(before_fill),
            [ones] "m"(all_ones),
            /* Tells the compiler the asm reads the path (it reads only path[0..len), by
             * masked loads); no read is generated from this operand. GCC may warn
             * (-Warray-bounds) if this is ever inlined with a shorter known object. */
            "m"(*(const char(*)[CNV__PATH_SHORT_MAX])path)
          : "k1", "k2", "k3", "k4", "xmm16", "xmm17", "xmm18", "xmm19");
  return bad;
}

/* At most CNV_PATH_MAX_SEGMENTS - 1 dots: popcount(dots) + len <= 32 + 7. Implied by a
 * passing wrong() when len <= 16 (no two dots adjacent, none first or last). */
#define DOTS_OK(dots, len) ((size_t)__builtin_popcount(dots) + (len) <= 31u + CNV_PATH_MAX_SEGMENTS)

bool cnv__path_valid_avx512(const char *path, size_t len) {
  uint32_t dots;
  return len - 1 < CNV__PATH_SHORT_MAX && !wrong(path, len, &dots) && DOTS_OK(dots, len);
}

/* XXH3-64 (seed 0) of 9..16 and 17..32 bytes: xxhash.h's XXH3_len_9to16_64b and
 * XXH3_len_17to128_64b (+ XXH3_avalanche) for those lengths, written out so that their
 * 64-bit constants are read from memory (one operand of the xor or multiply) instead of
 * being built in a register first: the integer units are what an id is limited by. The
 * table starts with the right values (so a call before the dispatcher's constructor, e.g.
 * from another library's constructor or a thread it started, is still correct) and
 * cnv__capid_avx512_init stores them again from XXH3_kSecret, so that the compiler cannot
 * prove the table constant and fold it back into immediates. Tests compare with libxxhash,
 * with and without the init (CNV_SIMD=avx2 copies of the id tests). */
enum { K_S0, K_S1, K_S2, K_S3, K_FLIP1, K_FLIP2, K_PRIME1, K_AVALANCHE, K_COUNT };
static uint64_t keys[K_COUNT] = {
    [K_S0] = 0xbe4ba423396cfeb8ULL,       [K_S1] = 0x1cad21f72c81017cULL,
    [K_S2] = 0xdb979083e96dd4deULL,       [K_S3] = 0x1f67b3b7a4a44072ULL,
    [K_FLIP1] = 0x6782737bea4239b9ULL,    [K_FLIP2] = 0xaf56bc3b0996523aULL,
    [K_PRIME1] = 0x9E3779B185EBCA87ULL,   [K_AVALANCHE] = 0x165667919E3779F9ULL,
};

void cnv__capid_avx512_init(void) {
  const xxh_u8 *s = XXH3_kSecret;
  for (int i = 0; i < 4; i++) keys[K_S0 + i] = XXH_readLE64(s + 8 * i);
  keys[K_FLIP1] = XXH_readLE64(s + 24) ^ XXH_readLE64(s + 32);
  keys[K_FLIP2] = XXH_readLE64(s + 40) ^ XXH_readLE64(s + 48);
  keys[K_PRIME1] = XXH_PRIME64_1;
  keys[K_AVALANCHE] = 0x165667919E3779F9ULL; /* XXH3_avalanche's multiplier */
}

static inline uint64_t avalanche(uint64_t h) {
  h ^= h >> 37;
  h *= keys[K_AVALANCHE];
  return h ^ (h >> 32);
}

static inline uint64_t xxh3_9to16(const xxh_u8 *p, size_t len) {
  uint64_t lo = XXH_readLE64(p) ^ keys[K_FLIP1];
  uint64_t hi = XXH_readLE64(p + len - 8) ^ keys[K_FLIP2];
  return avalanche(len + XXH_swap64(lo) + hi + XXH3_mul128_fold64(lo, hi));
}

static inline uint64_t xxh3_17to32(const xxh_u8 *p, size_t len) {
  uint64_t acc = len * keys[K_PRIME1];
  acc += XXH3_mul128_fold64(XXH_readLE64(p) ^ keys[K_S0], XXH_readLE64(p + 8) ^ keys[K_S1]);
  acc += XXH3_mul128_fold64(XXH_readLE64(p + len - 16) ^ keys[K_S2],
                            XXH_readLE64(p + len - 8) ^ keys[K_S3]);
  return avalanche(acc);
}

/* Everything the accept path does not take (the portable path also names the errors). */
static inline cnv_status slow(const char *path, size_t len, uint64_t *out) {
  return cnv__capability_id_portable(path, len, out);
}

cnv_status cnv__capability_id_avx512(const char *path, size_t len, uint64_t *out) {
  uint32_t dots;
  if (__builtin_expect(!path, 0)) return slow(path, len, out);
  if (__builtin_expect(!out, 0)) return slow(path, len, out);
  if (__builtin_expect(len > CNV__PATH_SHORT_MAX, 0)) return slow(path, len, out);
  if (wrong(path, len, &dots)) return slow(path, len, out);
  /* Accepted so far means 1..31 bytes (an empty path is wrong). */
  const xxh_u8 *p = (const xxh_u8 *)path;
  uint64_t h;
  if (__builtin_expect(len > 16, 0)) {
    if (!DOTS_OK(dots, len)) return slow(path, len, out);
    h = xxh3_17to32(p, len);
  } else if (__builtin_expect(len > 8, 1)) {
    h = xxh3_9to16(p, len);
  } else {
    h = XXH3_64bits(path, len);
  }
  __asm__("" : "+r"(out)); /* keeps out in a general register across the multiplies */
  *out = h;
  return CNV_OK;
}
