/* Execution contracts: the duration classes, completion kinds' names, and the W3C
 * traceparent that travels with an invocation. */
#include <string.h>

#include "rt_internal.h"

#define MS 1000000ull
#define S (1000 * MS)

static const struct {
  const char *name;
  uint64_t target_ns, limit_ns;
} classes[CNV_DURATION_COUNT] = {
    {"fast_path", 100000ull, 1 * MS},
    {"interactive", 100 * MS, 500 * MS},
    {"user_initiated", 5 * S, 30 * S},
    {"batch", 300 * S, 1800 * S},
    {"long_running", 3600 * S, 86400 * S}};

const char *cnv_duration_class_name(int cls) {
  if (cls < 0 || cls >= CNV_DURATION_COUNT) return "unknown";
  return classes[cls].name;
}

cnv_status cnv_duration_class_limits(int cls, uint64_t *target_ns, uint64_t *limit_ns) {
  if (cls < 0 || cls >= CNV_DURATION_COUNT) return CNV_ERANGE;
  if (target_ns) *target_ns = classes[cls].target_ns;
  if (limit_ns) *limit_ns = classes[cls].limit_ns;
  return CNV_OK;
}

const char *cnv_runtime_done_name(int kind) {
  static const char *const names[CNV_DONE_COUNT] = {"ran", "expired", "cancelled", "not_run"};
  if (kind < 0 || kind >= CNV_DONE_COUNT) return "unknown";
  return names[kind];
}

/* Lowercase hex digit value, or -1. */
static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes 2 * n hex digits; 0 on a bad digit. */
static int hex_decode(const char *text, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return 0;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 1;
}

static int all_zero(const uint8_t *b, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) acc |= b[i];
  return acc == 0;
}

cnv_status cnv_trace_parse(const char *text, size_t len, cnv_trace *out) {
  if (!out) return CNV_EINVAL;
  memset(out, 0, sizeof *out);
  if (!text || len != CNV_TRACEPARENT_LEN || text[2] != '-' || text[35] != '-' ||
      text[52] != '-') {
    return CNV_EINVAL;
  }
  cnv_trace t = {.present = 1};
  if (!hex_decode(text, &t.version, 1) || !hex_decode(text + 3, t.trace_id, 16) ||
      !hex_decode(text + 36, t.parent_id, 8) || !hex_decode(text + 53, &t.flags, 1) ||
      t.version == 0xff || all_zero(t.trace_id, 16) || all_zero(t.parent_id, 8)) {
    return CNV_EINVAL;
  }
  *out = t;
  return CNV_OK;
}

static void hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
}

cnv_status cnv_trace_format(const cnv_trace *t, char out[CNV_TRACEPARENT_LEN + 1]) {
  if (!t || !out || !t->present) return CNV_EINVAL;
  hex_encode(&t->version, 1, out);
  out[2] = '-';
  hex_encode(t->trace_id, 16, out + 3);
  out[35] = '-';
  hex_encode(t->parent_id, 8, out + 36);
  out[52] = '-';
  hex_encode(&t->flags, 1, out + 53);
  out[CNV_TRACEPARENT_LEN] = '\0';
  return CNV_OK;
}
