/* Metric registration: validation of names, help and labels, families, id assignment.
 * Cold path, one thread, before any shard is attached. */
#include <string.h>

#include "tel_internal.h"

static int cnv__name_ok(const char *s, size_t max, int colon) {
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
  }
  return 1;
}

static int cnv__ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static cnv_status cnv__check_labels(const cnv_tel_label *labels, size_t n) {
  if (n > CNV_TEL_MAX_LABELS || (n && !labels)) return CNV_ETEL_LABEL;
  for (size_t i = 0; i < n; i++) {
    const char *k = labels[i].name, *v = labels[i].value;
    if (!k || !v || !cnv__name_ok(k, CNV_TEL_MAX_LABEL_NAME, 0)) return CNV_ETEL_LABEL;
    if (strncmp(k, "__", 2) == 0 || strcmp(k, "le") == 0) return CNV_ETEL_LABEL;
    if (strnlen(v, CNV_TEL_MAX_LABEL_VALUE + 1) > CNV_TEL_MAX_LABEL_VALUE) return CNV_ETEL_LABEL;
    for (size_t j = 0; j < i; j++)
      if (strcmp(labels[j].name, k) == 0) return CNV_ETEL_LABEL;
  }
  return CNV_OK;
}

static cnv_status cnv__check_meta(uint32_t kind, const char *name, const char *help,
                                  const cnv_tel_label *labels, size_t nlabels) {
  if (!name || !help) return CNV_EINVAL;
  if (!cnv__name_ok(name, CNV_TEL_MAX_NAME, 1)) return CNV_ETEL_NAME;
  size_t hl = strnlen(help, CNV_TEL_MAX_HELP + 1);
  if (hl == 0 || hl > CNV_TEL_MAX_HELP) return CNV_ETEL_HELP;
  int counter = kind == CNV__KIND_COUNTER || kind == CNV__KIND_STRIPED;
  if (counter != cnv__ends_with(name, "_total")) return CNV_ETEL_COUNTER_SUFFIX;
  return cnv__check_labels(labels, nlabels);
}

static int cnv__same_labels(const struct cnv__metric *m, const cnv_tel_label *l, size_t n) {
  if (m->nlabels != n) return 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < n && strcmp(m->lname[j], l[i].name) != 0) j++;
    if (j == n || strcmp(m->lvalue[j], l[i].value) != 0) return 0;
  }
  return 1;
}

struct cnv__metric *cnv__tel_list(const struct cnv_telemetry *t, uint32_t kind, uint32_t *n,
                                  uint32_t *max) {
  switch (kind) {
    case CNV__KIND_COUNTER:
      *n = t->ncounters;
      *max = t->cfg.max_counters;
      return t->counters;
    case CNV__KIND_GAUGE:
      *n = t->ngauges;
      *max = t->cfg.max_gauges;
      return t->gauges;
    case CNV__KIND_STRIPED:
      *n = t->nstriped;
      *max = t->cfg.max_striped;
      return t->striped;
    default:
      *n = t->nhists;
      *max = t->cfg.max_histograms;
      return t->hists;
  }
}

/* CNV_OK when name is new or a compatible family; conflicts and duplicates otherwise. */
static cnv_status cnv__check_family(const struct cnv_telemetry *t, uint32_t kind, const char *name,
                                    const char *help, const cnv_tel_label *l, size_t n) {
  for (uint32_t k = CNV__KIND_COUNTER; k <= CNV__KIND_STRIPED; k++) {
    uint32_t count, max;
    const struct cnv__metric *list = cnv__tel_list(t, k, &count, &max);
    for (uint32_t i = 0; i < count; i++) {
      const struct cnv__metric *m = &list[i];
      if (strcmp(m->name, name) != 0) continue;
      if (m->kind != kind || strcmp(m->help, help) != 0) return CNV_ETEL_TYPE_CONFLICT;
      if (cnv__same_labels(m, l, n)) return CNV_EEXIST;
    }
  }
  return CNV_OK;
}

static cnv_status cnv__register(cnv_telemetry *t, uint32_t kind, const char *name,
                                const char *help, const cnv_tel_label *labels, size_t nlabels,
                                struct cnv__metric **slot, cnv_metric_id *id) {
  if (!t || !id) return CNV_EINVAL;
  /* Acquire: pairs with the first attach's release of `sealed`. */
  if (cnv__load_acquire(&t->sealed)) return CNV_ETEL_SEALED;
  cnv_status st = cnv__check_meta(kind, name, help, labels, nlabels);
  if (st == CNV_OK) st = cnv__check_family(t, kind, name, help, labels, nlabels);
  if (st != CNV_OK) return st;
  uint32_t n, max;
  struct cnv__metric *list = cnv__tel_list(t, kind, &n, &max);
  uint32_t *count = kind == CNV__KIND_COUNTER   ? &t->ncounters
                    : kind == CNV__KIND_GAUGE   ? &t->ngauges
                    : kind == CNV__KIND_STRIPED ? &t->nstriped
                                                : &t->nhists;
  if (n >= max) return CNV_ETEL_TOO_MANY;
  struct cnv__metric *m = &list[n];
  memset(m, 0, sizeof *m);
  m->kind = kind;
  strcpy(m->name, name);
  strcpy(m->help, help);
  m->nlabels = (uint32_t)nlabels;
  for (size_t i = 0; i < nlabels; i++) {
    strcpy(m->lname[i], labels[i].name);
    strcpy(m->lvalue[i], labels[i].value);
  }
  *id = CNV__ID(kind, *count);
  (*count)++;
  *slot = m;
  return CNV_OK;
}

CNV_API cnv_status cnv_tel_register_counter(cnv_telemetry *t, const char *name, const char *help,
                                            const cnv_tel_label *labels, size_t nlabels,
                                            cnv_metric_id *id) {
  struct cnv__metric *m;
  return cnv__register(t, CNV__KIND_COUNTER, name, help, labels, nlabels, &m, id);
}

CNV_API cnv_status cnv_tel_register_striped_counter(cnv_telemetry *t, const char *name,
                                                    const char *help, const cnv_tel_label *labels,
                                                    size_t nlabels, cnv_metric_id *id) {
  struct cnv__metric *m;
  return cnv__register(t, CNV__KIND_STRIPED, name, help, labels, nlabels, &m, id);
}

CNV_API cnv_status cnv_tel_register_gauge(cnv_telemetry *t, const char *name, const char *help,
                                          const cnv_tel_label *labels, size_t nlabels,
                                          cnv_metric_id *id) {
  struct cnv__metric *m;
  return cnv__register(t, CNV__KIND_GAUGE, name, help, labels, nlabels, &m, id);
}

CNV_API cnv_status cnv_tel_register_histogram(cnv_telemetry *t, const char *name,
                                              const char *help, const cnv_tel_label *labels,
                                              size_t nlabels, const cnv_tel_hist_opts *opts,
                                              cnv_metric_id *id) {
  double scale = opts && opts->scale != 0.0 ? opts->scale : 1.0;
  uint32_t every = opts && opts->sample_every ? opts->sample_every : 1;
  if (every > (UINT32_C(1) << 20)) return CNV_ERANGE;
  if (!(scale > 0.0) || scale > 1e300) return CNV_ERANGE;
  struct cnv__metric *m;
  cnv_status st = cnv__register(t, CNV__KIND_HIST, name, help, labels, nlabels, &m, id);
  if (st != CNV_OK) return st;
  m->scale = scale;
  m->sample_every = every;
  m->sample_below = every == 1 ? UINT64_MAX : UINT64_MAX / every;
  return CNV_OK;
}
