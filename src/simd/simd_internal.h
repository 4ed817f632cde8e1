/* simd internals: the scalar definitions every path must match, per-path kernel
 * declarations and the kernel tables. Never installed. */
#ifndef CNV__SIMD_INTERNAL_H
#define CNV__SIMD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/simd.h>

/* rrmxmx (Pelle Evensen, 2018) multiplier. */
#define CNV__SIMD_RRMXMX_MUL 0x9FB21C651E98DF25ull
/* Allow sets of at most this many ids are scanned (allow minus deny, broadcast compares);
 * larger ones use a branchless binary search per id. */
#define CNV__SIMD_SCAN_MAX 32u
/* Seed of the variety hash table (any constant; it only spreads keys over slots). */
#define CNV__SIMD_VARIETY_SEED 0x243F6A8885A308D3ull

static inline uint64_t cnv__simd_rotr64(uint64_t v, unsigned r) {
  return (v >> r) | (v << (64u - r));
}

/* Folded into the seed so that id 0 (a common id) does not hash to 0 under seed 0. */
#define CNV__SIMD_HASH_KEY 0x9E3779B97F4A7C15ull

/* The library's id hash: rrmxmx(id ^ seed ^ KEY). Bijective in id for a fixed seed. */
static inline uint64_t cnv__simd_hash(uint64_t id, uint64_t seed) {
  uint64_t v = id ^ seed ^ CNV__SIMD_HASH_KEY;
  v ^= cnv__simd_rotr64(v, 49) ^ cnv__simd_rotr64(v, 24);
  v *= CNV__SIMD_RRMXMX_MUL;
  v ^= v >> 28;
  v *= CNV__SIMD_RRMXMX_MUL;
  return v ^ (v >> 28);
}

/* 1 when x is in the set (branchless lower-bound search). */
static inline unsigned cnv__simd_idset_has(const cnv_simd_idset *s, uint64_t x) {
  const uint64_t *base = s->ids;
  size_t len = s->count;
  if (len == 0) return 0;
  while (len > 1) {
    size_t half = len / 2;
    base = (base[half] <= x) ? base + half : base;
    len -= half;
  }
  return *base == x;
}

/* Scalar capability bit for one id: allowed and not denied. */
static inline uint64_t cnv__simd_cap_bit(const cnv_simd_idset *allow, const cnv_simd_idset *deny,
                                         uint64_t id) {
  return (uint64_t)(cnv__simd_idset_has(allow, id) & (cnv__simd_idset_has(deny, id) ^ 1u));
}

/* Scalar capability bits of ids[0..count) (count <= 64). */
static inline uint64_t cnv__simd_cap_bits(const cnv_simd_idset *allow, const cnv_simd_idset *deny,
                                          const uint64_t *ids, size_t count) {
  uint64_t bits = 0;
  for (size_t j = 0; j < count; j++) bits |= cnv__simd_cap_bit(allow, deny, ids[j]) << j;
  return bits;
}

/* allow minus deny into out (room for allow->count ids): one set to scan instead of two,
 * since deny only matters for allowed ids. Returns the count. */
static inline size_t cnv__simd_allowed_only(const cnv_simd_idset *allow, const cnv_simd_idset *deny,
                                            uint64_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < allow->count; i++)
    if (!cnv__simd_idset_has(deny, allow->ids[i])) out[n++] = allow->ids[i];
  return n;
}

/* HLL rank of a hash for precision p: clz((h << p) | 2^(p-1)) + 1, in 1 .. 65-p. */
static inline uint8_t cnv__simd_hll_rank(uint64_t h, unsigned p) {
  uint64_t w = (h << p) | (1ull << (p - 1));
  return (uint8_t)(__builtin_clzll(w) + 1);
}

/* One id into the registers (scalar definition of the update). */
static inline void cnv__simd_hll_apply(uint8_t *regs, unsigned p, uint64_t h) {
  size_t idx = (size_t)(h >> (64u - p));
  uint8_t r = cnv__simd_hll_rank(h, p);
  regs[idx] = r > regs[idx] ? r : regs[idx];
}

/* Number of mask words for n elements. */
static inline size_t cnv__simd_mask_words(size_t n) { return (n + 63u) / 64u; }

/* Fixed-point c*log2(c) for c in 0..CNV_SIMD_VARIETY_MAX; filled once by the dispatcher
 * before any kernel table is handed out. */
extern uint64_t cnv__simd_clogc[CNV_SIMD_VARIETY_MAX + 1];
void cnv__simd_clogc_fill(void);

typedef void (*cnv__simd_hash_fn)(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out);
/* The variety count shared by every path; `hash` is the path's batch hash kernel. */
void cnv__simd_variety_core(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                            uint64_t *clogc, cnv__simd_hash_fn hash);

/* Chooses the path: `env` is CNV_SIMD's value (NULL when unset), `runnable` the runnable
 * mask. Returns the path to use; *why gets CNV_OK or the reason the request was refused. */
cnv_simd_path cnv__simd_choose(const char *env, unsigned runnable, cnv_status *why);
/* The active path's table (selects it on first use). */
const cnv_simd_kernels *cnv__simd_active(void);

/* Kernel declarations: a path defines only the kernels where it beats the scalar code;
 * its table points at the scalar (or a lower path's) kernel for the rest. */
#define CNV__SIMD_DECL_HASH(path) \
  void cnv_simd_hash64_##path(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out);
#define CNV__SIMD_DECL_CAP(path)                                                            \
  void cnv_simd_capcheck_##path(const uint64_t *ids, size_t n, const cnv_simd_idset *allow, \
                                const cnv_simd_idset *deny, uint64_t *mask);
#define CNV__SIMD_DECL_EFFECTS(path)                                                       \
  cnv_effects cnv_simd_effects_join_##path(const cnv_effects *e, size_t n);                \
  void cnv_simd_effects_subset_##path(const cnv_effects *e, size_t n, cnv_effects ceiling, \
                                      uint64_t *mask);
#define CNV__SIMD_DECL_ZERO(path) void cnv_simd_zero_##path(void *p, size_t n);
#define CNV__SIMD_DECL_VARIETY(path)                                               \
  void cnv_simd_variety_count_##path(const uint64_t *ids, size_t n, void *scratch, \
                                     uint32_t *distinct, uint64_t *clogc);
#define CNV__SIMD_DECL_HLL_UPDATE(path)                                                     \
  void cnv_simd_hll_update_##path(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n, \
                                  uint64_t seed);
#define CNV__SIMD_DECL_HLL_SUMS(path) \
  void cnv_simd_hll_sums_##path(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out);
#define CNV__SIMD_DECL_PATH(path) bool cnv_simd_path_accept_##path(const char *p, size_t len);
#define CNV__SIMD_DECL_BITS_OR(path) \
  bool cnv_simd_bits_or_##path(uint64_t *dst, const uint64_t *src, size_t words);

CNV__SIMD_DECL_HASH(scalar)
CNV__SIMD_DECL_CAP(scalar)
CNV__SIMD_DECL_EFFECTS(scalar)
CNV__SIMD_DECL_ZERO(scalar)
CNV__SIMD_DECL_VARIETY(scalar)
CNV__SIMD_DECL_HLL_UPDATE(scalar)
CNV__SIMD_DECL_HLL_SUMS(scalar)
CNV__SIMD_DECL_PATH(scalar)
CNV__SIMD_DECL_BITS_OR(scalar)
extern const cnv_simd_kernels cnv__simd_table_scalar;
#if defined(__x86_64__)
CNV__SIMD_DECL_CAP(sse42)
CNV__SIMD_DECL_EFFECTS(sse42)
CNV__SIMD_DECL_BITS_OR(sse42)
extern const cnv_simd_kernels cnv__simd_table_sse42;
CNV__SIMD_DECL_HASH(avx2)
CNV__SIMD_DECL_CAP(avx2)
CNV__SIMD_DECL_EFFECTS(avx2)
CNV__SIMD_DECL_ZERO(avx2)
CNV__SIMD_DECL_VARIETY(avx2)
CNV__SIMD_DECL_HLL_UPDATE(avx2)
CNV__SIMD_DECL_HLL_SUMS(avx2)
CNV__SIMD_DECL_BITS_OR(avx2)
extern const cnv_simd_kernels cnv__simd_table_avx2;
CNV__SIMD_DECL_HASH(avx512)
CNV__SIMD_DECL_CAP(avx512)
CNV__SIMD_DECL_EFFECTS(avx512)
CNV__SIMD_DECL_VARIETY(avx512)
CNV__SIMD_DECL_HLL_UPDATE(avx512)
CNV__SIMD_DECL_PATH(avx512)
CNV__SIMD_DECL_BITS_OR(avx512)
extern const cnv_simd_kernels cnv__simd_table_avx512;
#endif
#if defined(__aarch64__)
CNV__SIMD_DECL_HASH(neon)
CNV__SIMD_DECL_CAP(neon)
CNV__SIMD_DECL_EFFECTS(neon)
CNV__SIMD_DECL_VARIETY(neon)
CNV__SIMD_DECL_HLL_UPDATE(neon)
CNV__SIMD_DECL_HLL_SUMS(neon)
CNV__SIMD_DECL_BITS_OR(neon)
extern const cnv_simd_kernels cnv__simd_table_neon;
#endif

#endif
