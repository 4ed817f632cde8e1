/* Variety of the capability stream: a lock-free table of (capability id, count), read into
 * exact distinct/bits/entropy, an HLL cross-check and the requisite-variety deficit. */
#include <math.h>
#include <stdlib.h>

#include <cnv/variety.h>

#include "core/atomic.h"
#include "rt_internal.h"

/* Probes before an id counts as overflow (the table is sized for capability sets). */
#define VARIETY_PROBES 64u

void cnv__rt_variety_observe(cnv_runtime *rt, uint64_t id) {
  if (id == 0) id = 1;
  uint32_t mask = CNV__RT_VARIETY_SLOTS - 1;
  uint32_t i = (uint32_t)(id ^ (id >> 32)) & mask;
  for (uint32_t n = 0; n < VARIETY_PROBES; n++, i = (i + 1) & mask) {
    cnv__rt_variety_slot *s = &rt->variety[i];
    /* relaxed: the id is the only datum; counts are plain statistics */
    uint64_t cur = cnv__load_relaxed(&s->id);
    if (cur == 0) {
      uint64_t expect = 0;
      if (cnv__cas_strong(&s->id, &expect, id, memory_order_relaxed, memory_order_relaxed)) {
        cur = id;
      } else {
        cur = expect;
      }
    }
    if (cur == id) {
      cnv__fetch_add_relaxed(&s->count, 1u);
      return;
    }
  }
  cnv__fetch_add_relaxed(&rt->variety_overflow, 1u); /* relaxed: statistic */
}

/* Exact figures from the table; adds every id to h. */
static void table_read(cnv_runtime *rt, cnv_hll *h, cnv_runtime_variety *out) {
  uint64_t total = 0;
  double sum_clogc = 0;
  for (uint32_t i = 0; i < CNV__RT_VARIETY_SLOTS; i++) {
    uint64_t id = cnv__load_relaxed(&rt->variety[i].id); /* relaxed: snapshot */
    uint64_t c = cnv__load_relaxed(&rt->variety[i].count);
    if (id == 0 || c == 0) continue;
    out->distinct++;
    total += c;
    sum_clogc += (double)c * log2((double)c);
    cnv_hll_add(h, &id, 1);
  }
  out->observations = total + cnv__load_relaxed(&rt->variety_overflow);
  out->entropy = total ? log2((double)total) - sum_clogc / (double)total : 0;
  if (out->entropy < 0) out->entropy = 0;
}

cnv_status cnv_runtime_variety_get(cnv_runtime *rt, cnv_runtime_variety *out) {
  if (!rt || !out) return CNV_EINVAL;
  *out = (cnv_runtime_variety){0};
  cnv_hll *h = aligned_alloc(64, sizeof *h);
  if (!h) return CNV_ENOMEM;
  cnv_status st = cnv_hll_init(h, CNV_HLL_P_DEFAULT, 0);
  if (st == CNV_OK) {
    table_read(rt, h, out);
    st = cnv_hll_estimate(h, &out->hll_estimate);
  }
  free(h);
  if (st != CNV_OK) return st;
  out->bits = cnv_variety_bits(out->distinct);
  out->regulator_bits = cnv_variety_bits(rt->n_handlers);
  double threshold = rt->cfg.variety_threshold_bits > 0 ? rt->cfg.variety_threshold_bits : 1e300;
  cnv_requisite req;
  st = cnv_variety_requisite(out->regulator_bits, out->bits, threshold, &req);
  if (st != CNV_OK) return st;
  out->deficit_bits = req.deficit_bits;
  out->exceeded = req.exceeded;
  return CNV_OK;
}
