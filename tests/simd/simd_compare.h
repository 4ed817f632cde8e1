/* Differential checks of one path's kernels against the scalar twins, in plain C so the same
 * code runs under cmocka (x86 paths) and in the standalone aarch64 program (NEON under qemu). */
#ifndef CNV_TEST_SIMD_COMPARE_H
#define CNV_TEST_SIMD_COMPARE_H

#include <cnv/simd.h>

typedef struct simd_cmp_report {
  unsigned passed;
  unsigned failed;
  const char *first_failure; /* name of the first failed check, NULL if none */
} simd_cmp_report;

/* Each compares kernel k with the scalar table ref on random and edge inputs. */
void simd_cmp_hash(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
void simd_cmp_capcheck(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
void simd_cmp_effects(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
void simd_cmp_zero(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
void simd_cmp_variety(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
void simd_cmp_hll(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
/* path_accept: also reads nothing past the end of the path (inputs end at a PROT_NONE page). */
void simd_cmp_path(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
/* bits_or: dst contents and the changed flag for random sizes 0..300 words at word offsets
 * 0..7 (unaligned for every vector width), sparse and dense bits, src already in dst, dst ==
 * src; no word past the end written. */
void simd_cmp_bits_or(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);
/* Known-answer vectors of the hash (fixed forever) and of the scalar variety count against a
 * sort-and-count reference; `k` is checked, whatever its path. */
void simd_cmp_known_answers(const cnv_simd_kernels *k, simd_cmp_report *r);
/* All of the above. */
void simd_cmp_all(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, simd_cmp_report *r);

#endif
