/* Fuzz the invocation parser, the typed schema check and the path check. Properties checked
 * (abort on violation): every slice lies inside the input; the path passes
 * cnv_capability_path_check; printing the parse back as a canonical line (literals as
 * literals) and parsing that gives the same arguments (round trip); cnv_schema_check against
 * a fixed typed schema returns a documented code and index, and when it accepts, every typed
 * argument reads back with its type's reader; the path check agrees with a byte-by-byte
 * reference. */
#include <stdio.h>
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

/* A literal as written: `--name:LEN=BYTES`. */
static void put_literal(char *out, size_t *n, const cnv_arg *a) {
  char len[16];
  int k = snprintf(len, sizeof len, ":%zu=", a->value.len);
  put(out, n, "--", 2);
  put(out, n, a->name.ptr, a->name.len);
  put(out, n, len, (size_t)k);
  put(out, n, a->value.ptr, a->value.len);
}

static size_t print_line(const cnv_invocation *inv, char *out) {
  size_t n = 0;
  put(out, &n, inv->path.ptr, inv->path.len);
  for (uint32_t i = 0; i < inv->count; i++) {
    const cnv_arg *a = &inv->args[i];
    if (inv->has_terminator && inv->terminator_index == i) put(out, &n, " --", 3);
    put(out, &n, " ", 1);
    if (a->quoted == CNV_QUOTE_LITERAL) {
      put_literal(out, &n, a);
      continue;
    }
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

static const char *const modes[] = {"fast", "safe"};
static const cnv_arg_spec typed_args[] = {
    {"name", NULL, CNV_ARGT_STRING, CNV_ARGF_MIN | CNV_ARGF_MAX, 0, NULL, 1, 16},
    {"n", NULL, CNV_ARGT_INTEGER, CNV_ARGF_MIN | CNV_ARGF_MAX | CNV_ARGF_REPEATED, 0, NULL, -100,
     100},
    {"x", NULL, CNV_ARGT_NUMBER, 0, 0, NULL, 0, 0},
    {"force", NULL, CNV_ARGT_BOOLEAN, 0, 0, NULL, 0, 0},
    {"mode", NULL, CNV_ARGT_ENUM, CNV_ARGF_REQUIRED, 2, modes, 0, 0},
};

/* The check's answer is a documented code at a sound index; an accepted invocation reads
 * back with each typed argument's reader. */
static void check_typed(const cnv_parse_schema *typed, const cnv_invocation *inv) {
  size_t bad = SIZE_MAX;
  cnv_status st = cnv_schema_check(typed, inv, &bad);
  switch (st) {
    case CNV_OK:
      break;
    case CNV_EARG_MISSING:
      if (bad != inv->count) abort();
      return;
    case CNV_EARG_UNKNOWN:
    case CNV_EARG_POSITIONAL:
    case CNV_EARG_REPEATED:
    case CNV_EARG_TYPE:
    case CNV_EARG_ENUM:
    case CNV_ERANGE:
      if (bad >= inv->count) abort();
      return;
    default:
      abort();
  }
  for (uint32_t i = 0; i < inv->count; i++) {
    const cnv_arg *a = &inv->args[i];
    int64_t v;
    double d;
    bool b;
    if (a->name.len == 1 && a->name.ptr[0] == 'n' && a->kind == CNV_ARG_LONG_VALUE &&
        (cnv_arg_int(a, &v) != CNV_OK || v < -100 || v > 100))
      abort();
    if (a->name.len == 1 && a->name.ptr[0] == 'x' && a->kind == CNV_ARG_LONG_VALUE &&
        cnv_arg_number(a, &d) != CNV_OK)
      abort();
    if (a->name.len == 5 && memcmp(a->name.ptr, "force", 5) == 0 && cnv_arg_bool(a, &b) != CNV_OK)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *line = (const char *)data;
  const cnv_slice bools[] = {{"force", 5}, {"v", 1}, {"dry-run", 7}};
  const cnv_parse_schema schema = {bools, 3, NULL, 0, 0};
  const cnv_parse_schema typed = {NULL, 0, typed_args, sizeof typed_args / sizeof typed_args[0],
                                  size && (data[0] & 4) ? CNV_SCHEMA_CLOSED : 0};
  if (cnv_schema_validate(&typed, NULL) != CNV_OK) abort();
  unsigned pick = size ? data[0] & 3 : 0;
  const cnv_parse_schema *use = pick == 1 ? &schema : pick >= 2 ? &typed
                                                                : NULL;
  cnv_arg args[CAP];
  cnv_invocation inv;
  if (cnv_invocation_init(&inv, args, CAP) != CNV_OK) abort(); /* CAP > 0: cannot fail */
  cnv_status st = cnv_parse_invocation(line, size, NULL, use, &inv);
  if (st == CNV_OK) {
    check_ok(line, size, use, &inv);
    if (use == &typed) check_typed(&typed, &inv);
  } else if (st >= 0 || (inv.error_offset > size && st != CNV_EPARSE_INPUT_LONG)) {
    abort();
  }
  if (cnv_capability_path_check(line, size, NULL) != reference_path(line, size)) abort();
  return 0;
}
