/* Invocation parser: one line -> path + arguments, zero-copy and allocation-free.
 * Follows the ABNF in docs/grammar.md rule by rule; every rejection names its byte. */
#include <cnv/protocol.h>
#include <string.h>

#include "path.h"

/* Byte classes (bit sets). Generated from the grammar's character rules: SP/HTAB blank,
 * '"' and '\'' quote, %x00-08 %x0A-1F %x7F control, [A-Za-z0-9] alnum, '-' '_' name-rest,
 * '=' equals, [a-z0-9_-] path segment byte; every other byte (the rest of ASCII, %x80-FF) is
 * a plain word byte (0). */
enum {
  C_SPACE = 1,
  C_QUOTE = 2,
  C_CTRL = 4,
  C_ALNUM = 8,
  C_NAME_REST = 16,
  C_EQ = 32,
  C_SEGMENT = 64
};

/* clang-format off */
static const unsigned char byte_class[256] = {
     4,   4,   4,   4,   4,   4,   4,   4,   4,   1,   4,   4,   4,   4,   4,   4,
     4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,
     1,   0,   2,   0,   0,   0,   0,   2,   0,   0,   0,   0,   0,  80,   0,   0,
    72,  72,  72,  72,  72,  72,  72,  72,  72,  72,   0,   0,   0,  32,   0,   0,
     0,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,
     8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   8,   0,   0,   0,   0,  80,
     0,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,
    72,  72,  72,  72,  72,  72,  72,  72,  72,  72,  72,   0,   0,   0,   0,   4,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};
/* clang-format on */

/* One parse. The next argument slot, the terminator and the error offset live here while
 * parsing (written to the cnv_invocation once, at the end), so they stay in registers: the
 * stores into the caller's cnv_arg array cannot alias them. */
typedef struct parser {
  const char *s;
  size_t end;     /* the line without its final "\n" or "\r\n" */
  size_t raw_end; /* the whole line: a literal's bytes may run to here */
  const cnv_parse_schema *schema;
  cnv_arg *next;    /* the next free argument slot */
  cnv_arg *limit;   /* one past the last slot the limits allow */
  cnv_arg *term_at; /* next when the terminator was seen */
  uint8_t term;     /* 1 once the `--` terminator was seen */
  size_t err;       /* error offset */
  cnv_slice path;
} parser;

static inline unsigned cls(const parser *p, size_t i) { return byte_class[(unsigned char)p->s[i]]; }

/* Class test of byte i: its class has a bit of `mask` (want 1) or none (want 0). */
#define HAS(s, i, mask, want) (!!(byte_class[(unsigned char)(s)[i]] & (mask)) == (want))

/* First index in [i, end) whose byte's class has a bit of `mask` (want 1) or has none
 * (want 0); end when there is none. Four bytes per bounds check: tokens are short, and the
 * bounds check is most of the cost of a one-byte-per-step loop. */
static inline size_t find(const char *s, size_t i, size_t end, unsigned mask, int want) {
  for (; i + 4 <= end; i += 4) {
    if (HAS(s, i, mask, want)) return i;
    if (HAS(s, i + 1, mask, want)) return i + 1;
    if (HAS(s, i + 2, mask, want)) return i + 2;
    if (HAS(s, i + 3, mask, want)) return i + 3;
  }
  for (; i < end; i++)
    if (HAS(s, i, mask, want)) return i;
  return end;
}

/* Blanks between tokens: usually one, so a plain loop. */
static inline size_t skip_space(const parser *p, size_t i) {
  while (i < p->end && cls(p, i) == C_SPACE) i++;
  return i;
}

static inline cnv_status fail(parser *p, cnv_status st, size_t offset) {
  p->err = offset;
  return st;
}

/* bare-word from i: sets *stop to the first byte after it. */
static inline cnv_status scan_bare(parser *p, size_t i, size_t *stop) {
  i = find(p->s, i, p->end, C_SPACE | C_QUOTE | C_CTRL, 1);
  *stop = i;
  if (i == p->end || cls(p, i) == C_SPACE) return CNV_OK;
  return fail(p, cls(p, i) == C_QUOTE ? CNV_EPARSE_QUOTE_IN_WORD : CNV_EPARSE_BAD_BYTE, i);
}

/* quoted from i (p->s[i] is the quote): value excludes the quotes. */
static cnv_status scan_quoted(parser *p, size_t i, cnv_slice *value, size_t *stop) {
  char q = p->s[i];
  size_t j = find(p->s, i + 1, p->end, C_QUOTE | C_CTRL, 1);
  while (j < p->end && p->s[j] != q) {
    /* A control byte inside a quote that never closes: the quote's extent is unknown, so the
     * unterminated quote wins (docs/grammar.md, error precedence). */
    if (cls(p, j) == C_CTRL) {
      if (memchr(p->s + j + 1, q, p->end - j - 1) == NULL)
        return fail(p, CNV_EPARSE_UNTERMINATED_QUOTE, i);
      return fail(p, CNV_EPARSE_BAD_BYTE, j);
    }
    j = find(p->s, j + 1, p->end, C_QUOTE | C_CTRL, 1); /* the other quote character */
  }
  if (j == p->end) return fail(p, CNV_EPARSE_UNTERMINATED_QUOTE, i);
  if (j + 1 < p->end && cls(p, j + 1) != C_SPACE) return fail(p, CNV_EPARSE_AFTER_QUOTE, j + 1);
  value->ptr = p->s + i + 1;
  value->len = j - i - 1;
  *stop = j + 1;
  return CNV_OK;
}

/* value (bare-word or quoted) from i; an empty bare value is allowed after '='. */
static inline cnv_status scan_value(parser *p, size_t i, cnv_arg *a, size_t *stop) {
  if (i < p->end && cls(p, i) == C_QUOTE) {
    a->quoted = CNV_QUOTE_STRING;
    return scan_quoted(p, i, &a->value, stop);
  }
  cnv_status st = scan_bare(p, i, stop);
  a->value.ptr = p->s + i;
  a->value.len = *stop - i;
  return st;
}

/* Takes the next argument slot (parse_arg checked that one is left) with offset, kind and
 * flags set. Its name and value are left to the caller, which sets both on success; after an
 * error they may still hold an earlier parse's slices (the header leaves every field
 * unspecified on error, and clearing them here cost measurable time). */
static inline cnv_arg *new_arg(parser *p, size_t offset, cnv_arg_kind kind) {
  cnv_arg *a = p->next++;
  a->offset = (uint32_t)offset;
  a->kind = (uint8_t)kind;
  a->quoted = CNV_QUOTE_NONE;
  a->reserved = 0;
  return a;
}

/* Empty slice at the start of a token (names of positionals, values of booleans). */
static inline cnv_slice at(const parser *p, size_t offset) {
  cnv_slice sl = {p->s + offset, 0};
  return sl;
}

/* Byte compare without a call (names are short), so the caller keeps its registers. */
static inline bool same_bytes(const char *a, const char *b, size_t n) {
  while (n && *a == *b) {
    a++;
    b++;
    n--;
  }
  return n == 0;
}

/* The schema's boolean flags: bool_flags and the BOOLEAN entries of args (spec names are
 * NUL-terminated; a flag name never holds a NUL, so the compare stops inside the spec name). */
static bool schema_says_bool(const cnv_parse_schema *schema, const char *name, size_t len) {
  if (!schema) return false;
  for (size_t k = 0; k < schema->n_bool_flags; k++) {
    const cnv_slice *f = &schema->bool_flags[k];
    if (f->len == len && same_bytes(f->ptr, name, len)) return true;
  }
  for (size_t k = 0; k < schema->n_args; k++) {
    const cnv_arg_spec *a = &schema->args[k];
    if (a->type == CNV_ARGT_BOOLEAN && same_bytes(a->name, name, len) && a->name[len] == '\0')
      return true;
  }
  return false;
}

/* flag-name from i (i < end, not a blank); *stop at the first byte after it ('=', blank or
 * end). The first byte decides most errors before any scan. */
static inline cnv_status scan_flag_name(parser *p, size_t i, size_t *stop) {
  unsigned c = cls(p, i);
  if (!(c & C_ALNUM)) {
    if (c & C_EQ) return fail(p, CNV_EPARSE_FLAG_NO_NAME, i - 2); /* `--=` */
    return fail(p, c == C_CTRL ? CNV_EPARSE_BAD_BYTE : CNV_EPARSE_FLAG_NAME_CHAR, i);
  }
  size_t j = find(p->s, i + 1, p->end, C_ALNUM | C_NAME_REST, 0);
  *stop = j;
  if (j == p->end || (cls(p, j) & (C_SPACE | C_EQ))) return CNV_OK;
  return fail(p, cls(p, j) == C_CTRL ? CNV_EPARSE_BAD_BYTE : CNV_EPARSE_FLAG_NAME_CHAR, j);
}

/* After `--name` (token at i) with no '=': boolean unless a value token follows (docs/grammar.md). */
static inline cnv_status long_flag_tail(parser *p, cnv_arg *a, size_t i, size_t after,
                                        size_t *stop) {
  size_t k = skip_space(p, after);
  bool next_is_flag = k + 1 < p->end && p->s[k] == '-' && p->s[k + 1] == '-';
  if (k == p->end || next_is_flag || schema_says_bool(p->schema, a->name.ptr, a->name.len)) {
    a->kind = CNV_ARG_LONG_BOOL;
    a->value = at(p, i);
    *stop = after;
    return CNV_OK;
  }
  return scan_value(p, k, a, stop);
}

/* Most digits a literal's length can have: it counts bytes of a line of at most
 * CNV_PARSE_MAX_INPUT (UINT32_MAX, ten digits) bytes. */
#define LITERAL_MAX_DIGITS 10

/* literal from `colon` (`--name:LEN=BYTES`, the name at i + 2 .. colon): LEN canonical
 * decimal, at most the bytes left in the whole line (a literal may take the bytes of a
 * final newline), then exactly LEN bytes of any value, then a blank, the end, or a final
 * "\n" / "\r\n" (which then ends the line). Errors: CNV_EPARSE_LITERAL_LENGTH at the length's
 * first byte (no digit, a leading zero, too many digits, past the end) or where the '='
 * should be; CNV_EPARSE_AFTER_LITERAL at the byte after the bytes. */
static cnv_status parse_literal(parser *p, size_t i, size_t colon, size_t *stop) {
  const char *s = p->s;
  size_t d = colon + 1, j = d;
  uint64_t n = 0;
  while (j < p->raw_end && s[j] >= '0' && s[j] <= '9' && j - d < LITERAL_MAX_DIGITS)
    n = n * 10 + (uint64_t)(s[j++] - '0');
  if (j == d || (s[d] == '0' && j - d > 1)) return fail(p, CNV_EPARSE_LITERAL_LENGTH, d);
  if (j == p->raw_end || s[j] != '=') {
    bool more_digits = j < p->raw_end && s[j] >= '0' && s[j] <= '9';
    return fail(p, CNV_EPARSE_LITERAL_LENGTH, more_digits ? d : j);
  }
  size_t v = j + 1;
  if (n > p->raw_end - v) return fail(p, CNV_EPARSE_LITERAL_LENGTH, d);
  size_t k = v + (size_t)n, rest = p->raw_end - k;
  if (rest == 0 || (rest == 1 && s[k] == '\n') || (rest == 2 && s[k] == '\r' && s[k + 1] == '\n'))
    p->end = k; /* the line ends here; the bytes may have run into its final newline */
  else if (cls(p, k) != C_SPACE)
    return fail(p, CNV_EPARSE_AFTER_LITERAL, k);
  cnv_arg *a = new_arg(p, i, CNV_ARG_LONG_VALUE);
  a->quoted = CNV_QUOTE_LITERAL;
  a->name.ptr = s + i + 2;
  a->name.len = colon - i - 2;
  a->value.ptr = s + v;
  a->value.len = (size_t)n;
  *stop = k;
  return CNV_OK;
}

/* long-flag from i (p->s[i..i+2) == "--", not the terminator). A ':' where the name stops
 * (a name byte error before literals existed) starts a literal; the check sits on the error
 * path, so lines without literals pay nothing for it. */
static inline cnv_status parse_long(parser *p, size_t i, size_t *stop) {
  size_t name_end;
  cnv_status st = scan_flag_name(p, i + 2, &name_end);
  if (st != CNV_OK) {
    if (st == CNV_EPARSE_FLAG_NAME_CHAR && p->err > i + 2 && p->s[p->err] == ':')
      return parse_literal(p, i, p->err, stop);
    return st;
  }
  cnv_arg *a = new_arg(p, i, CNV_ARG_LONG_VALUE);
  a->name.ptr = p->s + i + 2;
  a->name.len = name_end - i - 2;
  if (name_end < p->end && p->s[name_end] == '=') return scan_value(p, name_end + 1, a, stop);
  return long_flag_tail(p, a, i, name_end, stop);
}

static inline bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

static inline bool ends_token(const parser *p, size_t i) {
  return i == p->end || cls(p, i) == C_SPACE;
}

/* A positional from i (bare word, quoted string, or a number like -5). */
static inline cnv_status positional(parser *p, size_t i, size_t *stop) {
  cnv_arg *a = new_arg(p, i, CNV_ARG_POSITIONAL);
  a->name = at(p, i);
  return scan_value(p, i, a, stop);
}

/* short-flag (`-x`) or a positional that starts with '-' followed by a digit or '.'. */
static inline cnv_status parse_dash(parser *p, size_t i, size_t *stop) {
  if (ends_token(p, i + 1)) return fail(p, CNV_EPARSE_FLAG_NO_NAME, i);
  unsigned char c = (unsigned char)p->s[i + 1];
  if ((c >= '0' && c <= '9') || c == '.') return positional(p, i, stop);
  if (!is_alpha(c)) {
    return fail(p, byte_class[c] == C_CTRL ? CNV_EPARSE_BAD_BYTE : CNV_EPARSE_FLAG_NAME_CHAR,
                i + 1);
  }
  if (!ends_token(p, i + 2)) return fail(p, CNV_EPARSE_SHORT_FLAG, i + 2);
  cnv_arg *a = new_arg(p, i, CNV_ARG_SHORT);
  a->name.ptr = p->s + i + 1;
  a->name.len = 1;
  a->value = at(p, i);
  *stop = i + 2;
  return CNV_OK;
}

/* One token from i: the terminator or an argument. Every token but the terminator takes an
 * argument slot, and the count is checked when the token starts: a token beyond the limit is
 * CNV_EPARSE_TOO_MANY_ARGS at its first byte whatever it holds (docs/grammar.md, error
 * precedence). */
static inline cnv_status parse_arg(parser *p, size_t i, size_t *stop) {
  bool dash = !p->term && p->s[i] == '-';
  bool two = dash && i + 1 < p->end && p->s[i + 1] == '-';
  if (two && ends_token(p, i + 2)) {
    p->term = 1;
    p->term_at = p->next;
    *stop = i + 2;
    return CNV_OK;
  }
  if (p->next == p->limit) return fail(p, CNV_EPARSE_TOO_MANY_ARGS, i);
  if (two) return parse_long(p, i, stop);
  if (dash) return parse_dash(p, i, stop);
  return positional(p, i, stop);
}

/* path from i: segments of [a-z0-9_-] joined by single dots, one byte class lookup per byte
 * (paths are short). Only a bad path is re-scanned (as the whole token) by the exact check,
 * to name its first offending byte. */
static cnv_status parse_path(parser *p, size_t i, size_t *stop) {
  const char *s = p->s;
  size_t end = p->end, j = i, seg = i, off = 0;
  unsigned dots = 0;
  for (;;) {
    j = find(s, j, end, C_SEGMENT, 0);
    if (j == seg || j == end || s[j] != '.' || ++dots == CNV_PATH_MAX_SEGMENTS) break;
    seg = ++j;
  }
  if (j > seg && j - i <= CNV_PATH_MAX_LEN && (j == end || cls(p, j) == C_SPACE)) {
    p->path.ptr = s + i;
    p->path.len = j - i;
    *stop = j;
    return CNV_OK;
  }
  while (j < end && cls(p, j) != C_SPACE) j++;
  cnv_status st = cnv__path_check(s + i, j - i, &off);
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
  if (len > max_input) {
    inv->path.ptr = line;
    inv->path.len = 0;
    inv->count = 0;
    inv->has_terminator = 0;
    inv->error_offset = max_input;
    return CNV_EPARSE_INPUT_LONG;
  }
  /* args is NULL only with capacity 0: then no slot is ever taken (next == limit), and a
   * stand-in base, never written, keeps the pointer arithmetic defined. */
  static const cnv_arg no_args[1];
  cnv_arg *args = inv->args ? inv->args : (cnv_arg *)(uintptr_t)no_args;
  uint32_t slots = max_args < inv->capacity ? max_args : inv->capacity;
  parser p = {line, strip_newline(line, len), len, schema, args, args + slots, args, 0, 0, {line, 0}};
  cnv_status st = parse_line(&p);
  inv->path.ptr = p.path.ptr;
  inv->path.len = st == CNV_OK ? p.path.len : 0;
  inv->count = (uint32_t)(p.next - args);
  inv->terminator_index = (uint32_t)((p.term ? p.term_at : p.next) - args);
  inv->has_terminator = p.term;
  inv->error_offset = p.err;
  return st;
}
