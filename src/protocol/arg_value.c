/* Typed readers of one argument's value and the flag lookup (docs/grammar.md, "Typed
 * arguments"). The value's bytes decide; how they were written (bare, quoted, literal) does
 * not. */
#include <cnv/protocol.h>
#include <string.h>

#include "typed.h"

cnv_status cnv__read_int(const char *s, size_t len, int64_t *out) {
  size_t i = len && s[0] == '-';
  bool neg = i == 1;
  if (i == len || s[i] < '0' || s[i] > '9' || (s[i] == '0' && len - i > 1)) return CNV_EARG_TYPE;
  for (size_t k = i; k < len; k++)
    if (s[k] < '0' || s[k] > '9') return CNV_EARG_TYPE;
  /* Magnitude in uint64, refused once past 2^63 (the most a negative int64 holds). */
  const uint64_t most = (uint64_t)INT64_MAX + 1;
  uint64_t m = 0;
  for (; i < len; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (m > (most - d) / 10) return CNV_ERANGE;
    m = m * 10 + d;
  }
  if (!neg && m == most) return CNV_ERANGE;
  *out = neg ? (m == most ? INT64_MIN : -(int64_t)m) : (int64_t)m;
  return CNV_OK;
}

cnv_status cnv__read_bool(const char *s, size_t len, bool *out) {
  if (len == 4 && memcmp(s, "true", 4) == 0) {
    *out = true;
    return CNV_OK;
  }
  if (len == 5 && memcmp(s, "false", 5) == 0) {
    *out = false;
    return CNV_OK;
  }
  return CNV_EARG_TYPE;
}

cnv_status cnv_arg_int(const cnv_arg *arg, int64_t *out) {
  if (!arg || !out) return CNV_EINVAL;
  return cnv__read_int(arg->value.ptr, arg->value.len, out);
}

cnv_status cnv_arg_number(const cnv_arg *arg, double *out) {
  if (!arg || !out) return CNV_EINVAL;
  return cnv__read_number(arg->value.ptr, arg->value.len, out);
}

cnv_status cnv_arg_bool(const cnv_arg *arg, bool *out) {
  if (!arg || !out) return CNV_EINVAL;
  if (arg->kind == CNV_ARG_LONG_BOOL) {
    *out = true;
    return CNV_OK;
  }
  return cnv__read_bool(arg->value.ptr, arg->value.len, out);
}

cnv_status cnv_invocation_find(const cnv_invocation *inv, const char *name, size_t len,
                               uint32_t *index) {
  if (!inv || !name || !index) return CNV_EINVAL;
  for (uint32_t i = *index; i < inv->count; i++) {
    const cnv_arg *a = &inv->args[i];
    bool long_flag = a->kind == CNV_ARG_LONG_VALUE || a->kind == CNV_ARG_LONG_BOOL;
    if (long_flag && a->name.len == len && memcmp(a->name.ptr, name, len) == 0) {
      *index = i;
      return CNV_OK;
    }
  }
  return CNV_ENOTFOUND;
}
