/* Private layouts of the telemetry module. Never installed. */
#ifndef CNV__TEL_INTERNAL_H
#define CNV__TEL_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/telemetry.h>

#include "core/atomic.h"

/* One histogram's cells. Single writer (its owner thread): updates are a relaxed load and
 * a relaxed store, so readers on other threads see whole values without a data race. */
struct cnv__hist_data {
  _Atomic uint64_t count;
  _Atomic uint64_t sum;
  _Atomic uint64_t buckets[CNV_HIST_BUCKETS];
};

struct cnv_histogram {
  struct cnv__hist_data d;
};

static inline uint32_t cnv__hist_index(uint64_t v) {
  if (v < (UINT64_C(1) << CNV_HIST_SUB_BITS)) return (uint32_t)v;
  uint32_t e = 63u - (uint32_t)__builtin_clzll(v);
  uint32_t sub = (uint32_t)(v >> (e - CNV_HIST_SUB_BITS)) - (1u << CNV_HIST_SUB_BITS);
  return ((e - CNV_HIST_SUB_BITS + 1u) << CNV_HIST_SUB_BITS) + sub;
}

/* Owner-thread add: no RMW needed, nobody else writes these cells. */
static inline void cnv__cell_add(_Atomic uint64_t *c, uint64_t n) {
  /* Relaxed: single writer; readers want a whole value, not an order. */
  cnv__store_relaxed(c, cnv__load_relaxed(c) + n);
}

static inline void cnv__hist_add(struct cnv__hist_data *d, uint64_t v, uint64_t n) {
  cnv__cell_add(&d->buckets[cnv__hist_index(v)], n);
  cnv__cell_add(&d->count, n);
  cnv__cell_add(&d->sum, v * n);
}

/* Summed bucket i of a set of histograms (a registry's shards, or one histogram). */
typedef uint64_t (*cnv__bucket_fn)(const void *src, uint32_t i);

/* Fills out[j] with the bucket midpoints of ranks ceil(qs[j] * total) (qs ascending) by
 * one walk over the buckets. total must be the sum of all buckets. */
void cnv__hist_quantiles(cnv__bucket_fn bucket, const void *src, uint64_t total, const double *qs,
                         size_t nq, uint64_t *out);
uint64_t cnv__hist_midpoint(uint32_t bucket);

/* Metric kinds live in the id's top byte. A striped counter is exported as a counter. */
enum { CNV__KIND_COUNTER = 1,
       CNV__KIND_GAUGE = 2,
       CNV__KIND_HIST = 3,
       CNV__KIND_STRIPED = 4 };

/* Stripes of the striped counters: a thread adds to stripe (its index % CNV__TEL_STRIPES). */
#define CNV__TEL_STRIPES 32u
#define CNV__ID(kind, idx) ((cnv_metric_id)(((uint32_t)(kind) << 24) | (uint32_t)(idx)))

struct cnv__metric {
  char name[CNV_TEL_MAX_NAME + 1];
  char help[CNV_TEL_MAX_HELP + 1];
  char lname[CNV_TEL_MAX_LABELS][CNV_TEL_MAX_LABEL_NAME + 1];
  char lvalue[CNV_TEL_MAX_LABELS][CNV_TEL_MAX_LABEL_VALUE + 1];
  uint32_t nlabels;
  uint32_t kind;
  double scale;          /* histograms */
  uint64_t sample_every; /* histograms */
  uint64_t sample_below; /* histograms: record when rng < this */
};

struct cnv__gauge {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic int64_t v;
};

struct cnv_tel_shard {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t *counters;
  struct cnv__hist_data *hists;
  const struct cnv__metric *hist_meta;
  uint32_t ncounters, nhists;
  uint64_t rng;
  struct cnv_telemetry *owner;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t in_use;
};

struct cnv_telemetry {
  cnv_tel_config cfg;
  struct cnv__metric *counters, *gauges, *hists, *striped;
  uint32_t ncounters, ngauges, nhists, nstriped;
  struct cnv__gauge *gauge_cells;
  /* Striped counter cells: CNV__TEL_STRIPES stripes of stripe_words cells each (a whole
   * number of cache lines), cell j of stripe k at stripe_cells[k * stripe_words + j]. */
  _Atomic uint64_t *stripe_cells;
  uint32_t stripe_words;
  _Atomic uint32_t sealed;
  _Atomic(struct cnv_tel_shard *) *shards; /* cfg.max_threads slots, published once each */
};

/* The metric record of an id of `kind`, or NULL. */
const struct cnv__metric *cnv__tel_meta(const struct cnv_telemetry *t, cnv_metric_id id,
                                        uint32_t kind);
/* The metric list of a kind, its length and its limit. */
struct cnv__metric *cnv__tel_list(const struct cnv_telemetry *t, uint32_t kind, uint32_t *n,
                                  uint32_t *max);
/* Sum of striped counter j over its stripes (seq_cst loads, pairing with the adds' seq_cst
 * RMWs; see striped.c). */
uint64_t cnv__tel_striped_sum(const struct cnv_telemetry *t, uint32_t j);

/* Bucket source over every shard of histogram index h (for cnv__hist_quantiles). */
struct cnv__tel_hsrc {
  const struct cnv_telemetry *t;
  uint32_t h;
};
uint64_t cnv__tel_bucket(const void *src, uint32_t i);

/* ---- export plumbing ---- */
struct cnv__out {
  cnv_tel_write_fn fn;
  void *ctx;
  int failed;
};
void cnv__out_str(struct cnv__out *o, const char *s);
void cnv__out_mem(struct cnv__out *o, const char *s, size_t n);
void cnv__out_u64(struct cnv__out *o, uint64_t v);
void cnv__out_i64(struct cnv__out *o, int64_t v);
void cnv__out_dbl(struct cnv__out *o, double v);
/* 15 significant digits: bucket bounds read as written (1.5e-08, not 1.5000000000000002e-08). */
void cnv__out_dbl_short(struct cnv__out *o, double v);
/* Escapes for Prometheus label values ('\\', '"', '\n') or HELP ('\\', '\n'). */
void cnv__out_prom_escaped(struct cnv__out *o, const char *s, int quote);
void cnv__out_json_string(struct cnv__out *o, const char *s);
/* Runs an exporter into a caller buffer (see cnv_tel_export_*_buf). */
CNV_NODISCARD cnv_status cnv__export_to_buf(cnv_status (*exporter)(const cnv_telemetry *, cnv_tel_write_fn, void *),
                                            const cnv_telemetry *t, char *buf, size_t cap, size_t *len);
/* Summary of histogram index h over every shard. */
void cnv__tel_hist_summarize(const cnv_telemetry *t, uint32_t h, cnv_tel_hist_summary *out);

#endif
