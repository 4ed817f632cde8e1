/* Prometheus text exposition (format 0.0.4), lint-clean for `promtool check metrics`. */
#include <string.h>

#include "tel_internal.h"
#include "core/ignore.h"

/* Histogram bucket bounds: le = 4^k - 1 recorded units, k = 0 .. 31, then +Inf. Each bound
 * sits just below a bucket edge (4^k starts a bucket), so cumulative counts are exact. */
#define CNV__PROM_LE_COUNT 32

static void cnv__prom_labels(struct cnv__out *o, const struct cnv__metric *m, const double *le) {
  if (!m->nlabels && !le) return;
  cnv__out_mem(o, "{", 1);
  for (uint32_t i = 0; i < m->nlabels; i++) {
    if (i) cnv__out_mem(o, ",", 1);
    cnv__out_str(o, m->lname[i]);
    cnv__out_mem(o, "=\"", 2);
    cnv__out_prom_escaped(o, m->lvalue[i], 1);
    cnv__out_mem(o, "\"", 1);
  }
  if (le) {
    cnv__out_str(o, m->nlabels ? ",le=\"" : "le=\"");
    if (*le < 0)
      cnv__out_str(o, "+Inf");
    else
      cnv__out_dbl_short(o, *le);
    cnv__out_mem(o, "\"", 1);
  }
  cnv__out_mem(o, "}", 1);
}

static void cnv__prom_header(struct cnv__out *o, const struct cnv__metric *m, const char *type) {
  cnv__out_str(o, "# HELP ");
  cnv__out_str(o, m->name);
  cnv__out_mem(o, " ", 1);
  cnv__out_prom_escaped(o, m->help, 0);
  cnv__out_str(o, "\n# TYPE ");
  cnv__out_str(o, m->name);
  cnv__out_mem(o, " ", 1);
  cnv__out_str(o, type);
  cnv__out_mem(o, "\n", 1);
}

static void cnv__prom_line(struct cnv__out *o, const struct cnv__metric *m, const char *suffix,
                           const double *le) {
  cnv__out_str(o, m->name);
  cnv__out_str(o, suffix);
  cnv__prom_labels(o, m, le);
  cnv__out_mem(o, " ", 1);
}

static void cnv__prom_hist(struct cnv__out *o, const cnv_telemetry *t, uint32_t h) {
  const struct cnv__metric *m = &t->hists[h];
  struct cnv__tel_hsrc src = {t, h};
  uint64_t cum = 0, sum = 0;
  uint32_t b = 0;
  for (uint32_t k = 0; k < CNV__PROM_LE_COUNT; k++) {
    uint64_t edge = UINT64_C(1) << (2 * k);
    for (uint32_t limit = cnv_histogram_bucket_of(edge); b < limit; b++) cum += cnv__tel_bucket(&src, b);
    double le = (double)(edge - 1) * m->scale;
    cnv__prom_line(o, m, "_bucket", &le);
    cnv__out_u64(o, cum);
    cnv__out_mem(o, "\n", 1);
  }
  for (; b < CNV_HIST_BUCKETS; b++) cum += cnv__tel_bucket(&src, b);
  double inf = -1.0;
  cnv__prom_line(o, m, "_bucket", &inf);
  cnv__out_u64(o, cum);
  for (uint32_t k = 0; k < t->cfg.max_threads; k++) {
    /* Acquire: a published shard is initialized; the cell is read relaxed. */
    const struct cnv_tel_shard *s = cnv__load_acquire(&t->shards[k]);
    if (s) sum += cnv__load_relaxed(&s->hists[h].sum);
  }
  cnv__out_mem(o, "\n", 1);
  cnv__prom_line(o, m, "_sum", NULL);
  cnv__out_dbl(o, (double)sum * m->scale);
  cnv__out_mem(o, "\n", 1);
  cnv__prom_line(o, m, "_count", NULL);
  cnv__out_u64(o, cum);
  cnv__out_mem(o, "\n", 1);
}

static void cnv__prom_series(struct cnv__out *o, const cnv_telemetry *t, uint32_t kind, uint32_t i) {
  if (kind == CNV__KIND_HIST) {
    cnv__prom_hist(o, t, i);
    return;
  }
  uint32_t n, max;
  const struct cnv__metric *m = &cnv__tel_list(t, kind, &n, &max)[i];
  cnv__prom_line(o, m, "", NULL);
  if (kind == CNV__KIND_COUNTER || kind == CNV__KIND_STRIPED) {
    uint64_t v = 0;
    /* i < n of this kind: the id is valid, so the read cannot fail */
    cnv__ignore_status(cnv_tel_counter_value(t, CNV__ID(kind, i), &v));
    cnv__out_u64(o, v);
  } else {
    int64_t v = 0;
    cnv__ignore_status(cnv_tel_gauge_value(t, CNV__ID(kind, i), &v)); /* valid id, as above */
    cnv__out_i64(o, v);
  }
  cnv__out_mem(o, "\n", 1);
}

/* Every family of one kind: header once at its first series, then all its series. */
static void cnv__prom_kind(struct cnv__out *o, const cnv_telemetry *t, uint32_t kind) {
  static const char *const types[] = {"", "counter", "gauge", "histogram", "counter"};
  uint32_t n, max;
  const struct cnv__metric *list = cnv__tel_list(t, kind, &n, &max);
  for (uint32_t i = 0; i < n; i++) {
    int seen = 0;
    for (uint32_t j = 0; j < i && !seen; j++) seen = strcmp(list[j].name, list[i].name) == 0;
    if (seen) continue;
    cnv__prom_header(o, &list[i], types[kind]);
    for (uint32_t j = i; j < n; j++)
      if (strcmp(list[j].name, list[i].name) == 0) cnv__prom_series(o, t, kind, j);
  }
}

CNV_API cnv_status cnv_tel_export_prometheus(const cnv_telemetry *t, cnv_tel_write_fn fn, void *ctx) {
  if (!t || !fn) return CNV_EINVAL;
  struct cnv__out o = {fn, ctx, 0};
  cnv__prom_kind(&o, t, CNV__KIND_COUNTER);
  cnv__prom_kind(&o, t, CNV__KIND_STRIPED);
  cnv__prom_kind(&o, t, CNV__KIND_GAUGE);
  cnv__prom_kind(&o, t, CNV__KIND_HIST);
  return o.failed ? CNV_ETEL_WRITE : CNV_OK;
}

CNV_API cnv_status cnv_tel_export_prometheus_buf(const cnv_telemetry *t, char *buf, size_t cap,
                                                 size_t *len) {
  return cnv__export_to_buf(cnv_tel_export_prometheus, t, buf, cap, len);
}
