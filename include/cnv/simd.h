/* libcnv simd: batch kernels with runtime dispatch.
 *
 * Every kernel has a scalar twin that defines its result; the vector paths (SSE4.2, AVX2,
 * AVX-512, NEON) must return bit-identical output. The path is chosen once, on first use,
 * from the CPU's features (cpuid + xgetbv on x86, getauxval on aarch64) and can be pinned
 * with the environment variable CNV_SIMD=scalar|sse42|avx2|avx512|neon. A pinned path the
 * CPU cannot run falls back to the best runnable one; cnv_simd_dispatch_status() says so.
 *
 * Synchronization: every function here is thread-safe and lock-free after the first call
 * (the first call runs the one-time selection under pthread_once). Kernels write only the
 * caller's output buffers; concurrent calls on disjoint outputs are fine.
 * This module is a leaf: it depends on core only (effect sets are core's cnv_effects). */
#ifndef CNV_SIMD_H
#define CNV_SIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "effects.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Instruction-set paths, in priority order within each architecture. */
typedef enum cnv_simd_path {
  CNV_SIMD_SCALAR = 0,
  CNV_SIMD_SSE42 = 1,
  CNV_SIMD_AVX2 = 2,
  CNV_SIMD_AVX512 = 3, /* AVX-512 F+BW+DQ+VL */
  CNV_SIMD_NEON = 4,
  CNV_SIMD_PATH_COUNT = 5
} cnv_simd_path;

/* A capability id set: `count` ids, strictly ascending. The set borrows `ids` (caller owns
 * it and keeps it alive and unchanged while the set is used). Build with cnv_simd_idset_init. */
typedef struct cnv_simd_idset {
  const uint64_t *ids;
  size_t count;
} cnv_simd_idset;

/* Integer sums over HyperLogLog registers r (q = 64 - p, registers hold 0 .. q+1):
 * zeros = #{r == 0}, saturated = #{r == q+1},
 * frac_hi = sum over 1 <= r <= 32 of 2^(32-r), frac_lo = sum over 33 <= r <= q of 2^(q-r).
 * So sum over 1 <= r <= q of 2^-r == frac_hi * 2^-32 + frac_lo * 2^-q, exactly. */
typedef struct cnv_simd_hll_sums {
  uint64_t zeros;
  uint64_t saturated;
  uint64_t frac_hi;
  uint64_t frac_lo;
} cnv_simd_hll_sums;

/* Largest batch cnv_simd_variety_count accepts. */
#define CNV_SIMD_VARIETY_MAX 4096u
/* Scale of the fixed-point sum of c*log2(c) returned by cnv_simd_variety_count. */
#define CNV_SIMD_CLOGC_SHIFT 40
/* Hash-table slots used for a batch of n: the power of two >= 2n, at least 16. */
#define CNV_SIMD_VARIETY_SLOTS(n) ((n) <= 8u ? 16u : (2u << (32 - __builtin_clz((unsigned)(n)-1u))))
/* Scratch bytes cnv_simd_variety_count needs for a batch of n (n <= CNV_SIMD_VARIETY_MAX). */
#define CNV_SIMD_VARIETY_SCRATCH_BYTES(n) \
  (10u * CNV_SIMD_VARIETY_SLOTS(n) + ((2u * (unsigned)(n) + 7u) & ~7u))
/* Scratch bytes enough for any batch up to CNV_SIMD_VARIETY_MAX. */
#define CNV_SIMD_VARIETY_SCRATCH_MAX (10u * 8192u + 2u * 4096u)

/* Capability path limits the path accept kernel checks (the same as protocol's
 * CNV_PATH_MAX_LEN and CNV_PATH_MAX_SEGMENTS, docs/protocol.md). */
#define CNV_SIMD_PATH_MAX_LEN 255u
#define CNV_SIMD_PATH_MAX_SEGMENTS 8u

/* HLL precision range the kernels accept (m = 2^p registers). */
#define CNV_SIMD_HLL_P_MIN 4u
#define CNV_SIMD_HLL_P_MAX 16u

/* One path's raw kernels. Arguments are already validated by the public wrappers below; a
 * table from cnv_simd_kernels_get() may be called directly (tests compare paths with it),
 * with the same preconditions as the wrappers. */
typedef struct cnv_simd_kernels {
  cnv_simd_path path;
  void (*hash64)(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out);
  void (*capcheck)(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                   const cnv_simd_idset *deny, uint64_t *mask);
  cnv_effects (*effects_join)(const cnv_effects *e, size_t n);
  void (*effects_subset)(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask);
  void (*zero)(void *p, size_t n);
  void (*variety_count)(const uint64_t *ids, size_t n, void *scratch, uint32_t *distinct,
                        uint64_t *clogc);
  void (*hll_update)(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n, uint64_t seed);
  void (*hll_sums)(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out);
  bool (*path_accept)(const char *path, size_t len);
  /* dst |= src over words words; returns whether any bit of dst went from 0 to 1 */
  bool (*bits_or)(uint64_t *dst, const uint64_t *src, size_t words);
} cnv_simd_kernels;

/* ---- Dispatch ------------------------------------------------------------------------ */

/* Name of a path ("avx2"); "invalid" for a value out of range. Static string. */
CNV_API const char *cnv_simd_path_name(cnv_simd_path path);
/* Parses a path name (NUL-terminated, exact lowercase). CNV_EINVAL, CNV_ESIMD_UNKNOWN_PATH. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_path_parse(const char *name, cnv_simd_path *out);
/* Bitmask (1u << path) of the paths this CPU and this build can run; scalar always. */
CNV_API unsigned cnv_simd_runnable(void);
/* The path the dispatched kernels use (chosen once). */
CNV_API cnv_simd_path cnv_simd_active_path(void);
/* How the choice went: CNV_OK when CNV_SIMD was unset or honoured, CNV_ESIMD_UNKNOWN_PATH
 * when it named no path, CNV_ENOTSUP when it named a path this CPU cannot run
 * (the best runnable path is active instead in both cases). */
CNV_API CNV_NODISCARD cnv_status cnv_simd_dispatch_status(void);
/* The kernel table of one path. CNV_EINVAL, CNV_ERANGE (out of range),
 * CNV_ENOTSUP (not runnable here: *out is left unchanged). Tables are static. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_kernels_get(cnv_simd_path path, const cnv_simd_kernels **out);

/* ---- Dispatched kernels (the active path) ----------------------------------------------
 * Every pointer may be unaligned. Bitmasks: bit i of word i/64 is element i; bits past n in
 * the last word are written 0; mask_words must be >= (n + 63) / 64. n == 0 is valid (NULL
 * data allowed then) and writes nothing. */

/* The library's 64-bit id hash for one id: rrmxmx(id ^ seed ^ 0x9E3779B97F4A7C15), fixed by
 * known-answer vectors (docs/simd.md). Pure; thread-safe. */
CNV_API uint64_t cnv_simd_hash64_one(uint64_t id, uint64_t seed);
/* out[i] = cnv_simd_hash64_one(ids[i], seed). out may equal ids. CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_hash64(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out);

/* Builds a set over `count` strictly ascending ids (borrowed). CNV_EINVAL,
 * CNV_ESIMD_UNSORTED (not strictly ascending: duplicates included). count 0 = empty set. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_idset_init(cnv_simd_idset *set, const uint64_t *ids, size_t count);
/* Bit i = ids[i] is in allow and not in deny (deny wins). CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_capcheck(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                                                   const cnv_simd_idset *deny, uint64_t *mask, size_t mask_words);

/* *out = OR of e[0..n) (0 for n == 0). CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_effects_join(const cnv_effects *e, size_t n, cnv_effects *out);
/* Bit i = (e[i] & ~ceiling) == 0. CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_effects_subset(const cnv_effects *e, size_t n, cnv_effects ceiling,
                                                         uint64_t *mask, size_t mask_words);

/* Sets n bytes at p to zero (the arena reset kernel). p may be NULL only when n == 0.
 * AVX2/AVX-512 paths use aligned 32-byte stores (measured faster than glibc memset from 32 B
 * to 16 MiB); other sizes and paths call memset, so it never loses to memset. Thread-safe. */
CNV_API void cnv_simd_zero(void *p, size_t n);
/* ORs src into dst, words 64-bit words each (a bitset row union, the graph module's
 * transitive closure); *changed (may be NULL) says whether any bit of dst went from 0 to 1.
 * dst and src may not overlap unless equal. Errors: CNV_EINVAL (NULL dst or src with
 * words > 0). */
CNV_API CNV_NODISCARD cnv_status cnv_simd_bits_or(uint64_t *dst, const uint64_t *src, size_t words, bool *changed);

/* Exact variety of a batch: *distinct = number of distinct ids, *clogc = sum over distinct
 * ids of c*log2(c) (c = its count) in fixed point, scaled by 2^CNV_SIMD_CLOGC_SHIFT and
 * rounded per term. `scratch` (8-byte aligned, >= CNV_SIMD_VARIETY_SCRATCH_BYTES(n) bytes,
 * caller-owned, contents irrelevant) is overwritten. No allocation. Errors: CNV_EINVAL
 * (NULL distinct or clogc, or NULL ids or scratch with n > 0), CNV_ERANGE (n >
 * CNV_SIMD_VARIETY_MAX), CNV_ERANGE (n > 0 and scratch not 8-byte aligned or scratch_bytes
 * < CNV_SIMD_VARIETY_SCRATCH_BYTES(n); a misaligned scratch is CNV_ERANGE, not CNV_EALIGN).
 * n == 0 gives *distinct = 0, *clogc = 0 without touching scratch. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_variety_count(const uint64_t *ids, size_t n, void *scratch,
                                                        size_t scratch_bytes, uint32_t *distinct,
                                                        uint64_t *clogc);

/* HyperLogLog register update: for each id, h = hash64(id, seed), index = top p bits of h,
 * rank = clz((h << p) | 2^(p-1)) + 1; regs[index] = max(regs[index], rank). regs has 2^p
 * bytes. Not thread-safe on the same regs. CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_hll_update(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                                                     uint64_t seed);
/* Integer sums over 2^p registers (see cnv_simd_hll_sums). CNV_EINVAL,
 * CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_simd_hll_sums_get(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out);

/* True when path[0..len) is a capability path: 1..CNV_SIMD_PATH_MAX_SEGMENTS non-empty
 * segments of [a-z0-9_-] joined by single dots, 1..CNV_SIMD_PATH_MAX_LEN bytes in all.
 * False for anything else (NULL path included); it names no error: protocol's exact scan
 * does that (cnv_capability_path_check). Reads only path[0..len) (the AVX-512 path uses
 * masked loads). Pure; thread-safe. */
CNV_API bool cnv_simd_path_accept(const char *path, size_t len);

#ifdef __cplusplus
}
#endif

#endif
