/* Exact variety of a batch: the simd kernel counts (integers, identical on every path), this
 * file turns the counts into bits and entropy. */
#include <math.h>

#include <cnv/variety.h>

double cnv_variety_bits(double distinct) { return distinct > 1.0 ? log2(distinct) : 0.0; }

/* H = log2(n) - (1/n) * sum c*log2(c), from the kernel's fixed-point sum. */
static double entropy_bits(uint32_t n, uint32_t distinct, uint64_t clogc, double bits) {
  if (distinct <= 1) return 0.0;
  double h = log2((double)n) - (double)clogc / ldexp((double)n, CNV_SIMD_CLOGC_SHIFT);
  if (h < 0.0) return 0.0;
  return h > bits ? bits : h;
}

cnv_status cnv_variety_exact(const uint64_t *ids, size_t n, cnv_variety_scratch *scratch,
                             cnv_variety *out) {
  uint64_t stack[CNV_SIMD_VARIETY_SCRATCH_BYTES(CNV_VARIETY_STACK_MAX) / 8];
  if (out == NULL || (n > 0 && ids == NULL)) return CNV_EINVAL;
  if (n > CNV_VARIETY_BATCH_MAX) return CNV_ERANGE;
  if (scratch == NULL && n > CNV_VARIETY_STACK_MAX) return CNV_EVARIETY_NEED_SCRATCH;
  void *work = scratch ? (void *)scratch->words : (void *)stack;
  size_t bytes = scratch ? sizeof scratch->words : sizeof stack;
  uint32_t distinct = 0;
  uint64_t clogc = 0;
  cnv_status s = cnv_simd_variety_count(ids, n, work, bytes, &distinct, &clogc);
  if (s != CNV_OK) return s;
  out->observations = (uint32_t)n;
  out->distinct = distinct;
  out->bits = cnv_variety_bits((double)distinct);
  out->entropy = entropy_bits((uint32_t)n, distinct, clogc, out->bits);
  return CNV_OK;
}
