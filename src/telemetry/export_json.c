/* JSON export: {"counters":[...],"gauges":[...],"histograms":[...]}. */
#include "tel_internal.h"
#include "core/ignore.h"

static void cnv__json_meta(struct cnv__out *o, const struct cnv__metric *m) {
  cnv__out_str(o, "{\"name\":");
  cnv__out_json_string(o, m->name);
  cnv__out_str(o, ",\"help\":");
  cnv__out_json_string(o, m->help);
  cnv__out_str(o, ",\"labels\":{");
  for (uint32_t i = 0; i < m->nlabels; i++) {
    if (i) cnv__out_mem(o, ",", 1);
    cnv__out_json_string(o, m->lname[i]);
    cnv__out_mem(o, ":", 1);
    cnv__out_json_string(o, m->lvalue[i]);
  }
  cnv__out_mem(o, "}", 1);
}

static void cnv__json_field(struct cnv__out *o, const char *key, double v) {
  cnv__out_str(o, key);
  cnv__out_dbl(o, v);
}

static void cnv__json_hist(struct cnv__out *o, const cnv_telemetry *t, uint32_t h) {
  cnv_tel_hist_summary s;
  cnv__tel_hist_summarize(t, h, &s);
  cnv__out_str(o, ",\"count\":");
  cnv__out_u64(o, s.count);
  cnv__json_field(o, ",\"sum\":", s.sum);
  cnv__json_field(o, ",\"p50\":", s.p50);
  cnv__json_field(o, ",\"p95\":", s.p95);
  cnv__json_field(o, ",\"p99\":", s.p99);
  cnv__json_field(o, ",\"p999\":", s.p999);
}

/* Every metric of one kind, each preceded by a comma unless it is the array's first (*first
 * says so, and is cleared once something is written). */
static void cnv__json_kind(struct cnv__out *o, const cnv_telemetry *t, uint32_t kind, int *first) {
  uint32_t n, max;
  const struct cnv__metric *list = cnv__tel_list(t, kind, &n, &max);
  for (uint32_t i = 0; i < n; i++) {
    if (!*first) cnv__out_mem(o, ",", 1);
    *first = 0;
    cnv__json_meta(o, &list[i]);
    if (kind == CNV__KIND_COUNTER || kind == CNV__KIND_STRIPED) {
      uint64_t v = 0;
      /* i < n of this kind: the id is valid, so the read cannot fail */
      cnv__ignore_status(cnv_tel_counter_value(t, CNV__ID(kind, i), &v));
      cnv__out_str(o, ",\"value\":");
      cnv__out_u64(o, v);
    } else if (kind == CNV__KIND_GAUGE) {
      int64_t v = 0;
      cnv__ignore_status(cnv_tel_gauge_value(t, CNV__ID(kind, i), &v)); /* valid id, as above */
      cnv__out_str(o, ",\"value\":");
      cnv__out_i64(o, v);
    } else {
      cnv__json_hist(o, t, i);
    }
    cnv__out_mem(o, "}", 1);
  }
}

CNV_API cnv_status cnv_tel_export_json(const cnv_telemetry *t, cnv_tel_write_fn fn, void *ctx) {
  if (!t || !fn) return CNV_EINVAL;
  struct cnv__out o = {fn, ctx, 0};
  int first = 1;
  cnv__out_str(&o, "{\"counters\":[");
  cnv__json_kind(&o, t, CNV__KIND_COUNTER, &first);
  cnv__json_kind(&o, t, CNV__KIND_STRIPED, &first);
  cnv__out_str(&o, "],\"gauges\":[");
  first = 1;
  cnv__json_kind(&o, t, CNV__KIND_GAUGE, &first);
  cnv__out_str(&o, "],\"histograms\":[");
  first = 1;
  cnv__json_kind(&o, t, CNV__KIND_HIST, &first);
  cnv__out_str(&o, "]}\n");
  return o.failed ? CNV_ETEL_WRITE : CNV_OK;
}

CNV_API cnv_status cnv_tel_export_json_buf(const cnv_telemetry *t, char *buf, size_t cap,
                                           size_t *len) {
  return cnv__export_to_buf(cnv_tel_export_json, t, buf, cap, len);
}
