/* Log-linear histogram: exact buckets below 128, then 128 equal buckets per power of two.
 * Recording is a bucket index (one clz) and three owner-only relaxed load/store pairs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tel_internal.h"

CNV_API uint32_t cnv_histogram_bucket_of(uint64_t value) { return cnv__hist_index(value); }

CNV_API void cnv_histogram_bucket_range(uint32_t bucket, uint64_t *lo, uint64_t *hi) {
  if (bucket >= CNV_HIST_BUCKETS) bucket = CNV_HIST_BUCKETS - 1;
  if (bucket < (1u << CNV_HIST_SUB_BITS)) {
    *lo = *hi = bucket;
    return;
  }
  uint32_t e = (bucket >> CNV_HIST_SUB_BITS) + CNV_HIST_SUB_BITS - 1u;
  uint32_t sub = bucket & ((1u << CNV_HIST_SUB_BITS) - 1u);
  uint32_t shift = e - CNV_HIST_SUB_BITS;
  *lo = ((UINT64_C(1) << CNV_HIST_SUB_BITS) + sub) << shift;
  *hi = *lo + ((UINT64_C(1) << shift) - 1u);
}

uint64_t cnv__hist_midpoint(uint32_t bucket) {
  uint64_t lo, hi;
  cnv_histogram_bucket_range(bucket, &lo, &hi);
  return lo + (hi - lo) / 2u;
}

static uint64_t cnv__rank(double q, uint64_t total) {
  double r = ceil(q * (double)total);
  if (r < 1.0) return 1;
  if (r >= (double)total) return total;
  return (uint64_t)r;
}

void cnv__hist_quantiles(cnv__bucket_fn bucket, const void *src, uint64_t total, const double *qs,
                         size_t nq, uint64_t *out) {
  size_t j = 0;
  uint64_t cum = 0;
  /* Cells only grow, so a walk reading them after `total` was summed reaches every rank. */
  memset(out, 0, nq * sizeof *out);
  for (uint32_t i = 0; i < CNV_HIST_BUCKETS && j < nq; i++) {
    uint64_t c = bucket(src, i);
    if (!c) continue;
    cum += c;
    while (j < nq && cum >= cnv__rank(qs[j], total)) out[j++] = cnv__hist_midpoint(i);
  }
}

CNV_API cnv_status cnv_histogram_create(cnv_histogram **out) {
  if (!out) return CNV_EINVAL;
  size_t bytes = (sizeof **out + CNV_CACHELINE - 1) / CNV_CACHELINE * CNV_CACHELINE;
  *out = aligned_alloc(CNV_CACHELINE, bytes);
  if (!*out) return CNV_ENOMEM;
  memset(*out, 0, bytes);
  return CNV_OK;
}

CNV_API void cnv_histogram_destroy(cnv_histogram *h) { free(h); }

CNV_API cnv_status cnv_histogram_record_n(cnv_histogram *h, uint64_t value, uint64_t n) {
  if (!h) return CNV_EINVAL;
  cnv__hist_add(&h->d, value, n);
  return CNV_OK;
}

CNV_API cnv_status cnv_histogram_merge(cnv_histogram *dst, const cnv_histogram *src) {
  if (!dst || !src || dst == src) return CNV_EINVAL;
  for (uint32_t i = 0; i < CNV_HIST_BUCKETS; i++) {
    /* Relaxed: src's owner may be recording; each cell is read whole. */
    uint64_t c = cnv__load_relaxed(&src->d.buckets[i]);
    if (c) cnv__cell_add(&dst->d.buckets[i], c);
  }
  cnv__cell_add(&dst->d.count, cnv__load_relaxed(&src->d.count));
  cnv__cell_add(&dst->d.sum, cnv__load_relaxed(&src->d.sum));
  return CNV_OK;
}

CNV_API uint64_t cnv_histogram_count(const cnv_histogram *h) {
  /* Relaxed: a statistic. */
  return h ? cnv__load_relaxed(&h->d.count) : 0;
}

static uint64_t cnv__one_bucket(const void *src, uint32_t i) {
  /* Relaxed: a cell snapshot. */
  return cnv__load_relaxed(&((const struct cnv__hist_data *)src)->buckets[i]);
}

CNV_API cnv_status cnv_histogram_quantile(const cnv_histogram *h, double q, uint64_t *out) {
  if (!h || !out) return CNV_EINVAL;
  if (!(q >= 0.0 && q <= 1.0)) return CNV_ERANGE;
  uint64_t total = 0;
  for (uint32_t i = 0; i < CNV_HIST_BUCKETS; i++) total += cnv__one_bucket(&h->d, i);
  if (!total) return CNV_EEMPTY;
  cnv__hist_quantiles(cnv__one_bucket, &h->d, total, &q, 1, out);
  return CNV_OK;
}
