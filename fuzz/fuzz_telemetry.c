/* Fuzz metric registration and export: fuzzer-chosen names, help, labels and values. A
 * registration either fails with a telemetry code or the metric exports so that every line
 * of the Prometheus text is a comment or a sample of that metric, and the label value reads
 * back (unescaped) as registered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/telemetry.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits the input at NUL bytes into up to n strings (copied, NUL-terminated). */
static size_t split(const uint8_t *data, size_t size, char fields[][300], size_t n) {
  size_t k = 0, len = 0;
  for (size_t i = 0; i < size && k < n; i++) {
    if (data[i] == 0 || len == 299) {
      fields[k++][len] = '\0';
      len = 0;
      continue;
    }
    fields[k][len++] = (char)data[i];
  }
  if (k < n) fields[k++][len] = '\0';
  return k;
}

/* Unescapes a Prometheus label value starting after the opening quote. */
static size_t unescape(const char *s, char *out) {
  size_t n = 0;
  for (; *s && *s != '"'; s++) {
    if (*s == '\\') {
      s++;
      out[n++] = *s == 'n' ? '\n' : *s;
    } else {
      out[n++] = *s;
    }
  }
  out[n] = '\0';
  return n;
}

static void check_lines(const char *text, const char *name) {
  size_t nl = strlen(name);
  for (const char *line = text; *line;) {
    if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0 &&
        strncmp(line, name, nl) != 0)
      abort();
    const char *end = strchr(line, '\n');
    if (!end) abort();
    line = end + 1;
  }
}

static void check_export(cnv_telemetry *t, const char *name, const char *lname, const char *lvalue) {
  static char buf[1 << 16], got[400];
  size_t len;
  if (cnv_tel_export_prometheus_buf(t, buf, sizeof buf, &len) != CNV_OK || strlen(buf) != len) abort();
  check_lines(buf, name);
  /* The first sample line (not "# HELP"/"# TYPE", whose text may hold anything) is
   * name[_suffix]{lname="escaped value"...}: a metric name cannot contain '{', so its first
   * '{' opens the label set and the one label comes first. */
  const char *line = buf;
  while (line[0] == '#') line = strchr(line, '\n') + 1;
  const char *open = strchr(line, '{');
  size_t kl = strlen(lname);
  if (!open || strncmp(open + 1, lname, kl) != 0 || strncmp(open + 1 + kl, "=\"", 2) != 0) abort();
  unescape(open + kl + 3, got);
  if (strcmp(got, lvalue) != 0) abort();
  if (cnv_tel_export_json_buf(t, buf, sizeof buf, &len) != CNV_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char f[4][300];
  if (size < 1) return 0;
  memset(f, 0, sizeof f);
  split(data + 1, size - 1, f, 4);
  cnv_telemetry *t;
  if (cnv_tel_create(NULL, &t) != CNV_OK) abort();
  cnv_tel_label l = {f[2], f[3]};
  cnv_metric_id id;
  int kind = data[0] % 3;
  cnv_status st = kind == 0   ? cnv_tel_register_counter(t, f[0], f[1], &l, 1, &id)
                  : kind == 1 ? cnv_tel_register_gauge(t, f[0], f[1], &l, 1, &id)
                              : cnv_tel_register_histogram(t, f[0], f[1], &l, 1, NULL, &id);
  if (st == CNV_OK) {
    cnv_tel_shard *s;
    if (cnv_tel_attach(t, &s) != CNV_OK) abort();
    uint64_t v = data[0] * UINT64_C(0x9E3779B97F4A7C15);
    if (kind == 0 && cnv_tel_counter_add(s, id, v) != CNV_OK) abort();
    if (kind == 1 && cnv_tel_gauge_set(t, id, (int64_t)v) != CNV_OK) abort();
    if (kind == 2 && cnv_tel_hist_record(s, id, v) != CNV_OK) abort();
    check_export(t, f[0], f[2], f[3]);
    cnv_tel_detach(s);
  } else if (st > -400 || st < -499) {
    abort(); /* only telemetry codes explain a refused registration */
  }
  cnv_tel_destroy(t);
  return 0;
}
