/* Fuzz the invocation parser and the path check. Properties checked (abort on violation):
 * every slice lies inside the input; the path passes cnv_capability_path_check; printing the
 * parse back as a canonical line and parsing that gives the same arguments (round trip);
 * the path check agrees with a byte-by-byte reference. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

#define CAP 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(cnv_slice s, const char *base, size_t len) {
  return s.ptr >= base && s.len <= len && s.ptr + s.len <= base + len;
}

static cnv_status reference_path(const char *p, size_t len) {
  size_t seg = 0;
  unsigned segs = 1;
  if (len == 0) return CNV_EPARSE_EMPTY_PATH;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (i == CNV_PATH_MAX_LEN) return CNV_EPARSE_PATH_LONG;
    if (c == '.') {
      if (seg == 0) return CNV_EPARSE_PATH_SEGMENT;
      if (++segs > CNV_PATH_MAX_SEGMENTS) return CNV_EPARSE_PATH_DEPTH;
      seg = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      seg++;
    } else {
      return CNV_EPARSE_PATH_CHAR;
    }
  }
  return seg ? CNV_OK : CNV_EPARSE_PATH_SEGMENT;
}

static void put(char *out, size_t *n, const char *s, size_t len) {
  memcpy(out + *n, s, len);
  *n += len;
}

/* Value as written: quoted values get back the quote character they came with. */
static void put_value(char *out, size_t *n, const cnv_arg *a) {
  if (a->quoted) put(out, n, a->value.ptr - 1, 1);
  put(out, n, a->value.ptr, a->value.len);
  if (a->quoted) put(out, n, a->value.ptr - 1, 1);
}

static size_t print_line(const cnv_invocation *inv, char *out) {
  size_t n = 0;
  put(out, &n, inv->path.ptr, inv->path.len);
  for (uint32_t i = 0; i < inv->count; i++) {
    const cnv_arg *a = &inv->args[i];
    if (inv->has_terminator && inv->terminator_index == i) put(out, &n, " --", 3);
    put(out, &n, " ", 1);
    if (a->kind == CNV_ARG_SHORT) put(out, &n, "-", 1);
    if (a->kind == CNV_ARG_LONG_VALUE || a->kind == CNV_ARG_LONG_BOOL) put(out, &n, "--", 2);
    put(out, &n, a->name.ptr, a->name.len);
    if (a->kind == CNV_ARG_LONG_VALUE) put(out, &n, "=", 1);
    if (a->kind == CNV_ARG_LONG_VALUE || a->kind == CNV_ARG_POSITIONAL) put_value(out, &n, a);
  }
  if (inv->has_terminator && inv->terminator_index == inv->count) put(out, &n, " --", 3);
  return n;
}

static bool same_slice(cnv_slice a, cnv_slice b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_same(const cnv_invocation *x, const cnv_invocation *y) {
  if (!same_slice(x->path, y->path) || x->count != y->count ||
      x->has_terminator != y->has_terminator || x->terminator_index != y->terminator_index)
    abort();
  for (uint32_t i = 0; i < x->count; i++) {
    const cnv_arg *a = &x->args[i], *b = &y->args[i];
    if (a->kind != b->kind || a->quoted != b->quoted || !same_slice(a->name, b->name) ||
        !same_slice(a->value, b->value))
      abort();
  }
}

static void check_ok(const char *line, size_t size, const cnv_parse_schema *schema,
                     const cnv_invocation *inv) {
  if (!inside(inv->path, line, size) ||
      cnv_capability_path_check(inv->path.ptr, inv->path.len, NULL) != CNV_OK)
    abort();
  for (uint32_t i = 0; i < inv->count; i++)
    if (!inside(inv->args[i].name, line, size) || !inside(inv->args[i].value, line, size)) abort();
  char *again = malloc(3 * size + 8);
  if (!again) return;
  size_t n = print_line(inv, again);
  cnv_arg args2[CAP];
  cnv_invocation inv2;
  if (cnv_invocation_init(&inv2, args2, CAP) != CNV_OK) abort(); /* CAP > 0: cannot fail */
  cnv_parse_limits lim = {3 * size + 8, 0};
  if (cnv_parse_invocation(again, n, &lim, schema, &inv2) != CNV_OK) abort();
  check_same(inv, &inv2);
  free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *line = (const char *)data;
  const cnv_slice bools[] = {{"force", 5}, {"v", 1}, {"dry-run", 7}};
  const cnv_parse_schema schema = {bools, 3, NULL, 0, 0};
  const cnv_parse_schema *use = size && (data[0] & 1) ? &schema : NULL;
  cnv_arg args[CAP];
  cnv_invocation inv;
  if (cnv_invocation_init(&inv, args, CAP) != CNV_OK) abort(); /* CAP > 0: cannot fail */
  cnv_status st = cnv_parse_invocation(line, size, NULL, use, &inv);
  if (st == CNV_OK) {
    check_ok(line, size, use, &inv);
  } else if (st >= 0 || (inv.error_offset > size && st != CNV_EPARSE_INPUT_LONG)) {
    abort();
  }
  if (cnv_capability_path_check(line, size, NULL) != reference_path(line, size)) abort();
  return 0;
}
