/* libcnv variety: Ashby's variety of observed states, exact and streaming, and the requisite
 * variety check of the Viable System Model.
 *
 * - Exact: a batch of 1 .. CNV_VARIETY_BATCH_MAX 64-bit state ids -> distinct count, variety
 *   in bits (log2 distinct) and Shannon entropy in bits. No allocation: batches up to
 *   CNV_VARIETY_STACK_MAX use a fixed stack table, larger ones a caller-owned scratch.
 * - Streaming: a HyperLogLog sketch with fixed memory (2^p registers, p = 12..14, inside the
 *   struct), mergeable, estimated with Ertl's improved raw estimator (standard error
 *   1.04/sqrt(2^p) over the whole range; see docs/variety.md for measured errors).
 * - Tally: a concurrent count of each id of an unbounded stream in fixed memory (any number
 *   of threads observe at once, wait-free), read into exact variety and entropy.
 * - Requisite variety: regulator vs disturbance variety -> deficit in bits, and whether it
 *   crosses a threshold (the runtime raises the algedonic signal from that).
 *
 * Synchronization: every function is reentrant. A cnv_variety_tally takes observes and reads
 * from any threads at once, both wait-free. A cnv_hll is not internally synchronized:
 * concurrent add/merge/reset on the same sketch need the caller's exclusion; concurrent
 * estimates (reads) are fine, and so is merging one src into several dsts.
 * Memory never grows with the number of observations. */
#ifndef CNV_VARIETY_H
#define CNV_VARIETY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "simd.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest exact batch. */
#define CNV_VARIETY_BATCH_MAX CNV_SIMD_VARIETY_MAX
/* Largest exact batch that needs no scratch (uses about 5.5 KB of stack). */
#define CNV_VARIETY_STACK_MAX 256u

/* Caller-owned working memory for exact batches up to CNV_VARIETY_BATCH_MAX (88 KB). Its
 * contents do not matter between calls; one scratch per thread at a time. */
typedef struct cnv_variety_scratch {
  uint64_t words[CNV_SIMD_VARIETY_SCRATCH_MAX / 8];
} cnv_variety_scratch;

/* Exact variety of one batch. */
typedef struct cnv_variety {
  uint32_t observations; /* n */
  uint32_t distinct;     /* number of distinct ids */
  double bits;           /* log2(distinct); 0 for an empty batch */
  double entropy;        /* Shannon entropy of the id distribution, bits, 0 .. bits */
} cnv_variety;

/* Computes the exact variety of ids[0..n). n == 0 gives all zeros. scratch may be NULL when
 * n <= CNV_VARIETY_STACK_MAX. Deterministic: the same ids give the same bits on every SIMD
 * path. Errors: CNV_EINVAL (out, or ids with n > 0), CNV_ERANGE,
 * CNV_EVARIETY_NEED_SCRATCH. Thread-safe with distinct scratches. */
CNV_API CNV_NODISCARD cnv_status cnv_variety_exact(const uint64_t *ids, size_t n, cnv_variety_scratch *scratch,
                                                   cnv_variety *out);

/* log2(distinct) in bits; 0 for distinct <= 1. Pure. */
CNV_API double cnv_variety_bits(double distinct);

/* ---- HyperLogLog ----------------------------------------------------------------------- */

#define CNV_HLL_P_MIN 12u
#define CNV_HLL_P_MAX 14u
#define CNV_HLL_P_DEFAULT 14u

/* Fixed-size sketch (16 KB of registers whatever p is). Caller-allocated; init before use;
 * no fini needed. Fields are read-only for callers. */
typedef struct cnv_hll {
  uint32_t p;        /* precision: 2^p registers in use */
  uint32_t reserved; /* 0 */
  uint64_t seed;     /* hash seed; sketches merge only with equal p and seed */
  CNV_ALIGNED(64)
  uint8_t regs[1u << CNV_HLL_P_MAX];
} cnv_hll;

/* Empties the sketch with precision p (CNV_HLL_P_MIN..CNV_HLL_P_MAX) and hash seed.
 * Errors: CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_hll_init(cnv_hll *h, unsigned p, uint64_t seed);
/* Adds n ids (duplicates count once). Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_hll_add(cnv_hll *h, const uint64_t *ids, size_t n);
/* dst := dst union src. Errors: CNV_EINVAL, CNV_EVARIETY_HLL_MISMATCH (p or seed
 * differ; dst unchanged). dst == src is allowed (no change). */
CNV_API CNV_NODISCARD cnv_status cnv_hll_merge(cnv_hll *dst, const cnv_hll *src);
/* Estimated number of distinct ids added. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_hll_estimate(const cnv_hll *h, double *out);
/* Empties the sketch, keeping p and seed. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_hll_reset(cnv_hll *h);

/* ---- Tally of a stream ---------------------------------------------------------------- */

/* A fixed table of (id, count) that any number of threads fill at once. Opaque. */
typedef struct cnv_variety_tally cnv_variety_tally;

typedef struct cnv_variety_tally_stats {
  uint64_t observations; /* every observe so far (overflow included) */
  uint64_t overflow;     /* observes of ids that found no slot (left out of the figures below) */
  uint32_t distinct;     /* distinct ids held: exact while overflow is 0, else a lower bound */
  double bits;           /* log2(distinct); 0 for distinct <= 1 */
  double entropy;        /* Shannon entropy of the held ids' counts, bits, 0 .. bits */
} cnv_variety_tally_stats;

/* Allocates an empty tally for up to `capacity` distinct ids (1 .. 2^24): 2 * capacity
 * slots rounded up to a power of two, 16 bytes each, so the table is at most half full while
 * the stream has no more than `capacity` distinct ids. The caller owns *out; free it with
 * cnv_variety_tally_destroy. Errors: CNV_EINVAL (NULL out), CNV_ERANGE (capacity),
 * CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_variety_tally_create(uint32_t capacity, cnv_variety_tally **out);
/* Frees a tally; NULL is ignored. No other call on it may be in flight. */
CNV_API void cnv_variety_tally_destroy(cnv_variety_tally *t);
/* Counts one observation of id (any value, 0 included). Any threads at once. Wait-free:
 * at most 64 slots probed (a load and at most one CAS each), then one relaxed fetch-add; no
 * allocation, no lock. An id whose 64 probed slots all hold other ids is counted in
 * overflow. Errors: CNV_EINVAL (NULL t). */
CNV_API CNV_NODISCARD cnv_status cnv_variety_tally_observe(cnv_variety_tally *t, uint64_t id);
/* Reads the figures: distinct, bits and entropy of the counts held. Any threads, concurrent
 * with observes (a relaxed snapshot: each count exact, the whole not one instant; exact once
 * observes stop). Wait-free: one pass over the slots. Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_variety_tally_read(const cnv_variety_tally *t,
                                                        cnv_variety_tally_stats *out);

/* ---- Requisite variety ------------------------------------------------------------------ */

/* Ashby's law in bits: the outcome variety is at least disturbance - regulator, so a
 * regulator short of the disturbance's variety cannot hold outcomes in its goal set. */
typedef struct cnv_requisite {
  double regulator_bits;
  double disturbance_bits;
  double deficit_bits; /* max(0, disturbance - regulator) */
  bool exceeded;       /* deficit_bits > threshold_bits: raise the algedonic signal */
} cnv_requisite;

/* Compares regulator and disturbance variety (bits, e.g. from cnv_variety.bits or
 * cnv_variety_bits(estimate)) against a deficit threshold (bits). Errors: CNV_EINVAL,
 * CNV_ERANGE (any input negative, NaN or infinite). Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_variety_requisite(double regulator_bits, double disturbance_bits,
                                                       double threshold_bits, cnv_requisite *out);

#ifdef __cplusplus
}
#endif

#endif
