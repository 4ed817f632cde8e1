/* HyperLogLog with Ertl's improved raw estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017): no bias tables, near-uniform error from 0 to 2^64. Register
 * update and the register sums run in the simd kernels. */
#include <math.h>
#include <string.h>

#include <cnv/variety.h>

cnv_status cnv_hll_init(cnv_hll *h, unsigned p, uint64_t seed) {
  if (h == NULL) return CNV_EINVAL;
  if (p < CNV_HLL_P_MIN || p > CNV_HLL_P_MAX) return CNV_ERANGE;
  h->p = p;
  h->reserved = 0;
  h->seed = seed;
  cnv_simd_zero(h->regs, sizeof h->regs);
  return CNV_OK;
}

cnv_status cnv_hll_reset(cnv_hll *h) {
  if (h == NULL) return CNV_EINVAL;
  cnv_simd_zero(h->regs, sizeof h->regs);
  return CNV_OK;
}

cnv_status cnv_hll_add(cnv_hll *h, const uint64_t *ids, size_t n) {
  if (h == NULL || (n > 0 && ids == NULL)) return CNV_EINVAL;
  /* The kernel's errors (a precision out of range) pass up unchanged. */
  return cnv_simd_hll_update(h->regs, h->p, ids, n, h->seed);
}

cnv_status cnv_hll_merge(cnv_hll *dst, const cnv_hll *src) {
  if (dst == NULL || src == NULL) return CNV_EINVAL;
  if (dst->p != src->p || dst->seed != src->seed) return CNV_EVARIETY_HLL_MISMATCH;
  size_t m = (size_t)1 << dst->p;
  for (size_t i = 0; i < m; i++)
    dst->regs[i] = src->regs[i] > dst->regs[i] ? src->regs[i] : dst->regs[i];
  return CNV_OK;
}

/* Ertl's sigma: x + sum_k x^(2^k) 2^(k-1); infinite at x == 1 (all registers empty). */
static double ertl_sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0, z = x, prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (z != prev);
  return z;
}

/* Ertl's tau: (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3. */
static double ertl_tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, prev;
  do {
    x = sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != prev);
  return z / 3.0;
}

cnv_status cnv_hll_estimate(const cnv_hll *h, double *out) {
  if (h == NULL || out == NULL) return CNV_EINVAL;
  cnv_simd_hll_sums s;
  cnv_status st = cnv_simd_hll_sums_get(h->regs, h->p, &s);
  if (st != CNV_OK) return st;
  int q = 64 - (int)h->p;
  double m = ldexp(1.0, (int)h->p);
  if (s.zeros == (uint64_t)m) {
    *out = 0.0;
    return CNV_OK;
  }
  double z = m * ertl_tau(1.0 - (double)s.saturated / m);
  z = ldexp(z, -q) + ldexp((double)s.frac_hi, -32) + ldexp((double)s.frac_lo, -q);
  z += m * ertl_sigma((double)s.zeros / m);
  *out = m * m / (2.0 * log(2.0) * z);
  return CNV_OK;
}
