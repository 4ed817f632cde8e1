/* Fuzz the line builder. The input is a program: a capacity, then operations (append a
 * string, an integer, a number or a boolean, each under one of a few names) with their
 * values taken from the input bytes. Properties checked (abort on violation): a call that
 * does not fit returns CNV_EFULL and leaves the line's bytes and length as they were; NaN and
 * infinities are CNV_ERANGE and append nothing; the built line parses, passes
 * cnv_schema_check against the typed schema it was built for, and every argument reads back
 * to exactly the value appended (strings byte for byte, numbers bit for bit). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

#define MAX_OPS 24
#define LINE_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cnv_arg_spec specs[] = {
    {"s", NULL, CNV_ARGT_STRING, CNV_ARGF_REPEATED, 0, NULL, 0, 0},
    {"i", NULL, CNV_ARGT_INTEGER, CNV_ARGF_REPEATED, 0, NULL, 0, 0},
    {"num", NULL, CNV_ARGT_NUMBER, CNV_ARGF_REPEATED, 0, NULL, 0, 0},
    {"b-1", NULL, CNV_ARGT_BOOLEAN, CNV_ARGF_REPEATED, 0, NULL, 0, 0},
};
static const cnv_parse_schema schema = {NULL, 0, specs, 4, CNV_SCHEMA_CLOSED};

typedef struct op {
  unsigned kind; /* index into specs */
  const uint8_t *bytes;
  size_t len;
  int64_t i;
  double d;
  bool b;
} op;

typedef struct reader {
  const uint8_t *p;
  size_t left;
} reader;

static size_t take(reader *r, void *out, size_t n) {
  if (n > r->left) n = r->left;
  memcpy(out, r->p, n);
  r->p += n;
  r->left -= n;
  return n;
}

static cnv_status apply(cnv_line_builder *b, const op *o) {
  const char *name = specs[o->kind].name;
  size_t name_len = strlen(name);
  switch (o->kind) {
    case 0:
      return cnv_line_add_string(b, name, name_len, (const char *)o->bytes, o->len);
    case 1:
      return cnv_line_add_int(b, name, name_len, o->i);
    case 2:
      return cnv_line_add_number(b, name, name_len, o->d);
    default:
      return cnv_line_add_bool(b, name, name_len, o->b);
  }
}

static bool read_back(const cnv_arg *a, const op *o) {
  const char *name = specs[o->kind].name;
  if (a->kind != CNV_ARG_LONG_VALUE || a->name.len != strlen(name) ||
      memcmp(a->name.ptr, name, a->name.len) != 0)
    return false;
  int64_t i;
  double d;
  bool b;
  switch (o->kind) {
    case 0:
      return a->quoted == CNV_QUOTE_LITERAL && a->value.len == o->len &&
             (o->len == 0 || memcmp(a->value.ptr, o->bytes, o->len) == 0);
    case 1:
      return cnv_arg_int(a, &i) == CNV_OK && i == o->i;
    case 2:
      return cnv_arg_number(a, &d) == CNV_OK && memcmp(&d, &o->d, sizeof d) == 0;
    default:
      return cnv_arg_bool(a, &b) == CNV_OK && b == o->b;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char line[LINE_CAP], copy[LINE_CAP];
  reader r = {data, size};
  uint16_t cap16 = 0;
  take(&r, &cap16, sizeof cap16);
  size_t cap = cap16 % LINE_CAP;
  op ops[MAX_OPS];
  size_t n_ops = 0;
  cnv_line_builder b;
  cnv_status st = cnv_line_init(&b, line, cap, "fuzz.build", 10);
  if (st == CNV_EFULL) {
    if (cap >= 10) abort();
    return 0;
  }
  if (st != CNV_OK) abort();
  while (r.left && n_ops < MAX_OPS) {
    uint8_t code = 0;
    take(&r, &code, 1);
    op o = {code % 4u, NULL, 0, 0, 0, false};
    if (o.kind == 0) {
      uint8_t len = 0;
      take(&r, &len, 1);
      o.bytes = r.p; /* the value is the next len input bytes, in place */
      o.len = len < r.left ? len : r.left;
      r.p += o.len;
      r.left -= o.len;
    } else if (o.kind == 1) {
      take(&r, &o.i, sizeof o.i);
    } else if (o.kind == 2) {
      take(&r, &o.d, sizeof o.d);
    } else {
      o.b = code & 0x80;
    }
    size_t before = b.len;
    memcpy(copy, line, before);
    st = apply(&b, &o);
    if (st == CNV_OK) {
      if (o.kind == 2 && !isfinite(o.d)) abort();
      ops[n_ops++] = o;
      continue;
    }
    if (b.len != before || memcmp(copy, line, before) != 0) abort(); /* nothing appended */
    if (o.kind == 2 && !isfinite(o.d)) {
      if (st != CNV_ERANGE) abort();
    } else if (st != CNV_EFULL) {
      abort();
    }
  }
  cnv_arg args[MAX_OPS];
  cnv_invocation inv;
  if (cnv_invocation_init(&inv, args, MAX_OPS) != CNV_OK) abort(); /* MAX_OPS > 0 */
  cnv_parse_limits lim = {LINE_CAP, 0};
  if (cnv_parse_invocation(line, b.len, &lim, &schema, &inv) != CNV_OK) abort();
  if (inv.count != n_ops || inv.has_terminator || inv.path.len != 10) abort();
  if (cnv_schema_check(&schema, &inv, NULL) != CNV_OK) abort();
  for (size_t k = 0; k < n_ops; k++)
    if (!read_back(&args[k], &ops[k])) abort();
  return 0;
}
