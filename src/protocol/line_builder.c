/* Line builder: writes invocation lines that parse back to exactly their parts. String
 * values always go in the literal form, so no byte of theirs is ever read as syntax. Each
 * call measures what it appends first and writes only when all of it fits. */
#include <cnv/protocol.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "path.h"
#include "typed.h"

cnv_status cnv_line_init(cnv_line_builder *b, char *buf, size_t cap, const char *path,
                         size_t path_len) {
  if (!b || (!buf && cap) || !path) return CNV_EINVAL;
  b->buf = NULL;
  b->cap = 0;
  b->len = 0;
  cnv_status st = cnv__path_check(path, path_len, NULL);
  if (st != CNV_OK) return st;
  if (path_len > cap) return CNV_EFULL;
  memcpy(buf, path, path_len);
  b->buf = buf;
  b->cap = cap;
  b->len = path_len;
  return CNV_OK;
}

/* Appends " --NAME" + sep + value (sep is "=" or ":LEN="), or nothing when it does not fit. */
static cnv_status append(cnv_line_builder *b, const char *name, size_t name_len, const char *sep,
                         size_t sep_len, const char *value, size_t len) {
  if (!b || !name) return CNV_EINVAL;
  cnv_status st = cnv__flag_name_check(name, name_len);
  if (st != CNV_OK) return st;
  size_t room = b->cap - b->len, need = 3 + name_len;
  if (need > room || sep_len > room - need || len > room - need - sep_len) return CNV_EFULL;
  char *w = b->buf + b->len;
  memcpy(w, " --", 3);
  memcpy(w + 3, name, name_len);
  memcpy(w + need, sep, sep_len);
  if (len) memcpy(w + need + sep_len, value, len);
  b->len += need + sep_len + len;
  return CNV_OK;
}

cnv_status cnv_line_add_string(cnv_line_builder *b, const char *name, size_t name_len,
                               const char *value, size_t len) {
  if (!value && len) return CNV_EINVAL;
  char sep[24]; /* ":" + at most 20 digits + "=" + NUL */
  int n = snprintf(sep, sizeof sep, ":%zu=", len);
  return append(b, name, name_len, sep, (size_t)n, value, len);
}

cnv_status cnv_line_add_int(cnv_line_builder *b, const char *name, size_t name_len,
                            int64_t value) {
  char text[24]; /* "-9223372036854775808" + NUL */
  int n = snprintf(text, sizeof text, "%" PRId64, value);
  return append(b, name, name_len, "=", 1, text, (size_t)n);
}

cnv_status cnv_line_add_number(cnv_line_builder *b, const char *name, size_t name_len,
                               double value) {
  if (!b || !name) return CNV_EINVAL;
  char text[CNV__NUMBER_TEXT_CAP];
  size_t n = 0;
  cnv_status st = cnv__format_number(value, text, &n);
  if (st != CNV_OK) return st;
  return append(b, name, name_len, "=", 1, text, n);
}

cnv_status cnv_line_add_bool(cnv_line_builder *b, const char *name, size_t name_len, bool value) {
  return append(b, name, name_len, "=", 1, value ? "true" : "false", value ? 4 : 5);
}
