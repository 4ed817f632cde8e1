/* Export plumbing shared by the Prometheus and JSON writers: a sink that remembers
 * failure, number formatting, escaping, the buffer adapter, and histogram summaries. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tel_internal.h"

void cnv__out_mem(struct cnv__out *o, const char *s, size_t n) {
  if (o->failed || n == 0) return;
  if (o->fn(o->ctx, s, n) != 0) o->failed = 1;
}

void cnv__out_str(struct cnv__out *o, const char *s) { cnv__out_mem(o, s, strlen(s)); }

void cnv__out_u64(struct cnv__out *o, uint64_t v) {
  char b[24];
  int n = snprintf(b, sizeof b, "%" PRIu64, v);
  cnv__out_mem(o, b, (size_t)n);
}

void cnv__out_i64(struct cnv__out *o, int64_t v) {
  char b[24];
  int n = snprintf(b, sizeof b, "%" PRId64, v);
  cnv__out_mem(o, b, (size_t)n);
}

void cnv__out_dbl(struct cnv__out *o, double v) {
  char b[40];
  int n = snprintf(b, sizeof b, "%.17g", v);
  cnv__out_mem(o, b, (size_t)n);
}

void cnv__out_dbl_short(struct cnv__out *o, double v) {
  char b[40];
  int n = snprintf(b, sizeof b, "%.15g", v);
  cnv__out_mem(o, b, (size_t)n);
}

void cnv__out_prom_escaped(struct cnv__out *o, const char *s, int quote) {
  size_t run = 0;
  for (const char *p = s;; p++) {
    const char *esc = *p == '\\' ? "\\\\" : *p == '\n'         ? "\\n"
                                        : (quote && *p == '"') ? "\\\""
                                                               : NULL;
    if (!esc && *p) {
      run++;
      continue;
    }
    cnv__out_mem(o, p - run, run);
    run = 0;
    if (!*p) return;
    cnv__out_str(o, esc);
  }
}

void cnv__out_json_string(struct cnv__out *o, const char *s) {
  cnv__out_mem(o, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char b[8];
    if (*p == '"' || *p == '\\') {
      b[0] = '\\';
      b[1] = (char)*p;
      cnv__out_mem(o, b, 2);
    } else if (*p < 0x20) {
      int n = snprintf(b, sizeof b, "\\u%04x", *p);
      cnv__out_mem(o, b, (size_t)n);
    } else {
      cnv__out_mem(o, (const char *)p, 1);
    }
  }
  cnv__out_mem(o, "\"", 1);
}

struct cnv__bufsink {
  char *buf;
  size_t cap, used;
};

static int cnv__buf_write(void *ctx, const char *data, size_t len) {
  struct cnv__bufsink *b = ctx;
  if (b->used + len < b->cap) memcpy(b->buf + b->used, data, len);
  b->used += len; /* keep counting past the end: the caller learns the size needed */
  return 0;
}

cnv_status cnv__export_to_buf(cnv_status (*exporter)(const cnv_telemetry *, cnv_tel_write_fn, void *),
                              const cnv_telemetry *t, char *buf, size_t cap, size_t *len) {
  if (!t || !len || (!buf && cap)) return CNV_EINVAL;
  struct cnv__bufsink b = {buf, cap, 0};
  cnv_status st = exporter(t, cnv__buf_write, &b);
  *len = b.used;
  if (st != CNV_OK) return st;
  if (b.used >= cap) return CNV_ERANGE;
  buf[b.used] = '\0';
  return CNV_OK;
}

uint64_t cnv__tel_bucket(const void *src, uint32_t i) {
  const struct cnv__tel_hsrc *h = src;
  uint64_t sum = 0;
  for (uint32_t k = 0; k < h->t->cfg.max_threads; k++) {
    /* Acquire: a published shard is initialized; cells are read relaxed (whole values). */
    const struct cnv_tel_shard *s = cnv__load_acquire(&h->t->shards[k]);
    if (s) sum += cnv__load_relaxed(&s->hists[h->h].buckets[i]);
  }
  return sum;
}

void cnv__tel_hist_summarize(const cnv_telemetry *t, uint32_t h, cnv_tel_hist_summary *out) {
  static const double qs[4] = {0.5, 0.95, 0.99, 0.999};
  struct cnv__tel_hsrc src = {t, h};
  uint64_t total = 0, sum = 0, q[4] = {0, 0, 0, 0};
  for (uint32_t i = 0; i < CNV_HIST_BUCKETS; i++) total += cnv__tel_bucket(&src, i);
  for (uint32_t k = 0; k < t->cfg.max_threads; k++) {
    /* Acquire/relaxed: as in cnv__tel_bucket. */
    const struct cnv_tel_shard *s = cnv__load_acquire(&t->shards[k]);
    if (s) sum += cnv__load_relaxed(&s->hists[h].sum);
  }
  if (total) cnv__hist_quantiles(cnv__tel_bucket, &src, total, qs, 4, q);
  double scale = t->hists[h].scale;
  out->count = total;
  out->sum = (double)sum * scale;
  out->p50 = (double)q[0] * scale;
  out->p95 = (double)q[1] * scale;
  out->p99 = (double)q[2] * scale;
  out->p999 = (double)q[3] * scale;
}

CNV_API cnv_status cnv_tel_hist_summary_get(const cnv_telemetry *t, cnv_metric_id id,
                                            cnv_tel_hist_summary *out) {
  if (!t || !out) return CNV_EINVAL;
  if (!cnv__tel_meta(t, id, CNV__KIND_HIST)) return CNV_ETEL_BAD_ID;
  cnv__tel_hist_summarize(t, id - CNV__ID(CNV__KIND_HIST, 0), out);
  return CNV_OK;
}
