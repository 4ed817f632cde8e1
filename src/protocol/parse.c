/* Invocation parser: one line -> path + arguments, zero-copy and allocation-free.
 * Follows the ABNF in docs/grammar.md rule by rule; every rejection names its byte. */
#include <cnv/protocol.h>
#include <string.h>

#include "path.h"

/* Byte classes (bit sets). Generated from the grammar's character rules: SP/HTAB blank,
 * '"' and '\'' quote, %x00-08 %x0A-1F %x7F control, [A-Za-z0-9] alnum, '-' '_' name-rest,
 * '=' equals; every other byte (the rest of ASCII, %x80-FF) is a plain word byte (0). */
enum { C_SPACE = 1, C_QUOTE = 2, C_CTRL = 4, C_ALNUM = 8, C_NAME_REST = 16, C_EQ = 32 };

/* clang-format off */
static const unsigned char byte_class[256] = {
     4,  4,  4,  4,  4,  4,  4,  4,  4,  1,  4,  4,  4,  4,  4,  4,
     4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,
     1,  0,  2,  0,  0,  0,  0,  2,  0,  0,  0,  0,  0, 16,  0,  0,
     8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  0,  0,  0, 32,  0,  0,
     0,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
     8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  0,  0,  0,  0, 16,
     0,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
     8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  0,  0,  0,  0,  4,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};
/* clang-format on */

typedef struct parser {
  const char *s;
  size_t end;
  size_t max_args;
  const cnv_parse_schema *schema;
  cnv_invocation *inv;
} parser;

static inline unsigned cls(const parser *p, size_t i) { return byte_class[(unsigned char)p->s[i]]; }

static size_t skip_space(const parser *p, size_t i) {
  while (i < p->end && cls(p, i) == C_SPACE) i++;
  return i;
}

static cnv_status fail(const parser *p, cnv_status st, size_t offset) {
  p->inv->error_offset = offset;
  return st;
}

/* bare-word from i: sets *stop to the first byte after it. */
static cnv_status scan_bare(const parser *p, size_t i, size_t *stop) {
  while (i < p->end && !(cls(p, i) & (C_SPACE | C_QUOTE | C_CTRL))) i++;
  *stop = i;
  if (i == p->end || cls(p, i) == C_SPACE) return CNV_OK;
  return fail(p, cls(p, i) == C_QUOTE ? CNV_EPARSE_QUOTE_IN_WORD : CNV_EPARSE_BAD_BYTE, i);
}

/* quoted from i (p->s[i] is the quote): value excludes the quotes. */
static cnv_status scan_quoted(const parser *p, size_t i, cnv_slice *value, size_t *stop) {
  char q = p->s[i];
  size_t j = i + 1;
  while (j < p->end && p->s[j] != q) {
    if (cls(p, j) == C_CTRL) return fail(p, CNV_EPARSE_BAD_BYTE, j);
    j++;
  }
  if (j == p->end) return fail(p, CNV_EPARSE_UNTERMINATED_QUOTE, i);
  if (j + 1 < p->end && cls(p, j + 1) != C_SPACE) return fail(p, CNV_EPARSE_AFTER_QUOTE, j + 1);
  value->ptr = p->s + i + 1;
  value->len = j - i - 1;
  *stop = j + 1;
  return CNV_OK;
}

/* value (bare-word or quoted) from i; an empty bare value is allowed after '='. */
static cnv_status scan_value(const parser *p, size_t i, cnv_arg *a, size_t *stop) {
  if (i < p->end && cls(p, i) == C_QUOTE) {
    a->quoted = 1;
    return scan_quoted(p, i, &a->value, stop);
  }
  cnv_status st = scan_bare(p, i, stop);
  a->value.ptr = p->s + i;
  a->value.len = *stop - i;
  return st;
}

static cnv_arg *new_arg(const parser *p, size_t offset, cnv_arg_kind kind) {
  cnv_invocation *inv = p->inv;
  if (inv->count >= p->max_args) return NULL;
  cnv_arg *a = &inv->args[inv->count++];
  a->name.ptr = p->s + offset;
  a->name.len = 0;
  a->value.ptr = p->s + offset;
  a->value.len = 0;
  a->offset = (uint32_t)offset;
  a->kind = (uint8_t)kind;
  a->quoted = 0;
  a->reserved = 0;
  return a;
}

static bool schema_says_bool(const cnv_parse_schema *schema, const char *name, size_t len) {
  if (!schema) return false;
  for (size_t k = 0; k < schema->n_bool_flags; k++) {
    const cnv_slice *f = &schema->bool_flags[k];
    if (f->len == len && memcmp(f->ptr, name, len) == 0) return true;
  }
  return false;
}

/* flag-name from i; *stop at the first byte after it ('=', blank or end). */
static cnv_status scan_flag_name(const parser *p, size_t i, size_t *stop) {
  size_t j = i;
  while (j < p->end && (cls(p, j) & (C_ALNUM | C_NAME_REST))) j++;
  *stop = j;
  if (j > i && !(cls(p, i) & C_ALNUM)) return fail(p, CNV_EPARSE_FLAG_NAME_CHAR, i);
  if (j == p->end || (cls(p, j) & (C_SPACE | C_EQ))) return CNV_OK;
  return fail(p, cls(p, j) == C_CTRL ? CNV_EPARSE_BAD_BYTE : CNV_EPARSE_FLAG_NAME_CHAR, j);
}

/* After `--name` with no '=': boolean unless a value token follows (SPEC §0). */
static cnv_status long_flag_tail(const parser *p, cnv_arg *a, size_t after, size_t *stop) {
  size_t k = skip_space(p, after);
  bool next_is_flag = k + 1 < p->end && p->s[k] == '-' && p->s[k + 1] == '-';
  if (k == p->end || next_is_flag || schema_says_bool(p->schema, a->name.ptr, a->name.len)) {
    a->kind = CNV_ARG_LONG_BOOL;
    *stop = after;
    return CNV_OK;
  }
  return scan_value(p, k, a, stop);
}

/* long-flag or the terminator, from i (p->s[i..i+2) == "--"). */
static cnv_status parse_long(parser *p, size_t i, size_t *stop) {
  size_t name_end;
  if (i + 2 == p->end || cls(p, i + 2) == C_SPACE) {
    p->inv->has_terminator = 1;
    p->inv->terminator_index = p->inv->count;
    *stop = i + 2;
    return CNV_OK;
  }
  cnv_status st = scan_flag_name(p, i + 2, &name_end);
  if (st != CNV_OK) return st;
  if (name_end == i + 2) return fail(p, CNV_EPARSE_FLAG_NO_NAME, i);
  cnv_arg *a = new_arg(p, i, CNV_ARG_LONG_VALUE);
  if (!a) return fail(p, CNV_EPARSE_TOO_MANY_ARGS, i);
  a->name.ptr = p->s + i + 2;
  a->name.len = name_end - i - 2;
  if (name_end < p->end && p->s[name_end] == '=') return scan_value(p, name_end + 1, a, stop);
  return long_flag_tail(p, a, name_end, stop);
}

static bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

static bool ends_token(const parser *p, size_t i) { return i == p->end || cls(p, i) == C_SPACE; }

/* short-flag (`-x`) or a positional that starts with '-' followed by a digit or '.'. */
static cnv_status parse_dash(parser *p, size_t i, size_t *stop) {
  if (ends_token(p, i + 1)) return fail(p, CNV_EPARSE_FLAG_NO_NAME, i);
  unsigned char c = (unsigned char)p->s[i + 1];
  if ((c >= '0' && c <= '9') || c == '.') {
    cnv_arg *a = new_arg(p, i, CNV_ARG_POSITIONAL);
    if (!a) return fail(p, CNV_EPARSE_TOO_MANY_ARGS, i);
    return scan_value(p, i, a, stop);
  }
  if (!is_alpha(c)) {
    return fail(p, byte_class[c] == C_CTRL ? CNV_EPARSE_BAD_BYTE : CNV_EPARSE_FLAG_NAME_CHAR,
                i + 1);
  }
  if (!ends_token(p, i + 2)) return fail(p, CNV_EPARSE_SHORT_FLAG, i + 2);
  cnv_arg *a = new_arg(p, i, CNV_ARG_SHORT);
  if (!a) return fail(p, CNV_EPARSE_TOO_MANY_ARGS, i);
  a->name.ptr = p->s + i + 1;
  a->name.len = 1;
  *stop = i + 2;
  return CNV_OK;
}

static cnv_status parse_arg(parser *p, size_t i, size_t *stop) {
  if (!p->inv->has_terminator && p->s[i] == '-') {
    if (i + 1 < p->end && p->s[i + 1] == '-') return parse_long(p, i, stop);
    return parse_dash(p, i, stop);
  }
  cnv_arg *a = new_arg(p, i, CNV_ARG_POSITIONAL);
  if (!a) return fail(p, CNV_EPARSE_TOO_MANY_ARGS, i);
  return scan_value(p, i, a, stop);
}

/* path from i; only a bad path is re-scanned (as the whole token) by the exact check, to
 * name its first offending byte. */
static cnv_status parse_path(parser *p, size_t i, size_t *stop) {
  bool valid = false;
  size_t avail = p->end - i, off = 0;
  size_t j = i + cnv__path_span(p->s + i, avail > 256 ? 256 : avail, &valid);
  if (valid && (j == p->end || cls(p, j) == C_SPACE)) {
    p->inv->path.ptr = p->s + i;
    p->inv->path.len = j - i;
    *stop = j;
    return CNV_OK;
  }
  while (j < p->end && cls(p, j) != C_SPACE) j++;
  cnv_status st = cnv__path_check(p->s + i, j - i, &off);
  return fail(p, st == CNV_OK ? CNV_EPARSE_PATH_CHAR : st, i + off);
}

static size_t strip_newline(const char *s, size_t len) {
  if (len && s[len - 1] == '\n') {
    len--;
    if (len && s[len - 1] == '\r') len--;
  }
  return len;
}

static cnv_status parse_line(parser *p) {
  size_t i = skip_space(p, 0), stop = 0;
  if (i == p->end) return fail(p, CNV_EPARSE_EMPTY_PATH, i);
  cnv_status st = parse_path(p, i, &stop);
  while (st == CNV_OK) {
    i = skip_space(p, stop);
    if (i == p->end) break;
    st = parse_arg(p, i, &stop);
  }
  return st;
}

cnv_status cnv_invocation_init(cnv_invocation *inv, cnv_arg *args, uint32_t capacity) {
  if (!inv || (!args && capacity)) return CNV_EINVAL;
  memset(inv, 0, sizeof *inv);
  inv->args = args;
  inv->capacity = capacity;
  return CNV_OK;
}

cnv_status cnv_parse_invocation(const char *line, size_t len, const cnv_parse_limits *limits,
                                const cnv_parse_schema *schema, cnv_invocation *inv) {
  if (!inv || (!line && len) || (!inv->args && inv->capacity)) return CNV_EINVAL;
  size_t max_input = limits && limits->max_input ? limits->max_input : CNV_PARSE_DEFAULT_MAX_INPUT;
  uint32_t max_args = limits && limits->max_args ? limits->max_args : inv->capacity;
  if (max_input > CNV_PARSE_MAX_INPUT) max_input = CNV_PARSE_MAX_INPUT;
  inv->path.ptr = line;
  inv->path.len = 0;
  inv->count = 0;
  inv->has_terminator = 0;
  inv->error_offset = 0;
  if (len > max_input) {
    inv->error_offset = max_input;
    return CNV_EPARSE_INPUT_LONG;
  }
  parser p = {line, strip_newline(line, len), max_args < inv->capacity ? max_args : inv->capacity,
              schema, inv};
  cnv_status st = parse_line(&p);
  if (!inv->has_terminator) inv->terminator_index = inv->count;
  if (st != CNV_OK) inv->path.len = 0;
  return st;
}
