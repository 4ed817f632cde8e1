/* Literal values (--name:LEN=BYTES), typed schemas (cnv_schema_validate / cnv_schema_check),
 * the typed readers and the line builder: every rule and error, and a seeded round trip of
 * random values through build -> parse -> check -> read. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/protocol.h>

#include "cnv_test_util.h"

#define CAP 32

static cnv_status parse_n(const char *line, size_t len, const cnv_parse_schema *schema,
                          cnv_invocation *inv, cnv_arg *args) {
  assert_int_equal(cnv_invocation_init(inv, args, CAP), CNV_OK);
  return cnv_parse_invocation(line, len, NULL, schema, inv);
}

#define PARSE(lit, schema, inv, args) parse_n(lit, sizeof(lit) - 1, schema, inv, args)

static void assert_bytes(cnv_slice s, const char *want, size_t len) {
  assert_int_equal(s.len, len);
  if (len) assert_memory_equal(s.ptr, want, len);
}

/* ---- literals ---- */

static void test_literal_values(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  static const struct {
    const char *line;
    size_t len;
    const char *value;
    size_t vlen;
  } cases[] = {
#define L(line, value) {line, sizeof(line) - 1, value, sizeof(value) - 1}
      L("u --m:5=a b c", "a b c"),
      L("u --m:0=", ""),
      L("u --m:0= x", ""),
      L("u --m:3=\"'x", "\"'x"),              /* quotes */
      L("u --m:3=a\0b", "a\0b"),              /* NUL */
      L("u --m:3=a\nb", "a\nb"),              /* LF */
      L("u --m:3=a\rb", "a\rb"),              /* CR */
      L("u --m:5=--x y", "--x y"),            /* "--x" and a blank inside */
      L("u --m:5=a -- \t", "a -- "),          /* a terminator inside, then a tab */
      L("u --m:2=a\n", "a\n"),                /* ends in LF, no final newline */
      L("u --m:2=a\n\n", "a\n"),              /* ends in LF, then the final newline */
      L("u --m:2=a\n\r\n", "a\n"),            /* ends in LF, then a final CRLF */
      L("u --m:1=a\n", "a"),                  /* the final newline is not the literal's */
      L("u --m:1=a\r\n", "a"),                /* nor a final CRLF */
      L("u --m:2=a\r\n", "a\r"),              /* the CR is, the LF ends the line */
      L("u --m:3=a\r\n", "a\r\n"),            /* both are the literal's */
      L("u --m:1=\n", "\n"),                  /* one LF, the whole literal */
      L("u --m:10=0123456789", "0123456789"), /* two-digit length */
      L("u --m:1=\xff", "\xff"),
#undef L
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cnv_status st = parse_n(cases[i].line, cases[i].len, NULL, &inv, args);
    if (st != CNV_OK) fail_msg("case %zu: %s at %u", i, cnv_status_name(st), inv.error_offset);
    assert_int_equal(inv.count, i == 2 ? 2 : 1);
    assert_int_equal(args[0].kind, CNV_ARG_LONG_VALUE);
    assert_int_equal(args[0].quoted, CNV_QUOTE_LITERAL);
    assert_int_equal(args[0].offset, 2);
    assert_bytes(args[0].name, "m", 1);
    assert_bytes(args[0].value, cases[i].value, cases[i].vlen);
  }
  /* more arguments after a literal, and the literal among them */
  assert_int_equal(PARSE("u a --m:3=x y --f --n=1 -v", NULL, &inv, args), CNV_OK);
  assert_int_equal(inv.count, 5);
  assert_bytes(args[1].value, "x y", 3);
  assert_int_equal(args[2].kind, CNV_ARG_LONG_BOOL);
  assert_int_equal(args[3].quoted, CNV_QUOTE_NONE);
  /* `--flag` before a literal is boolean: the literal is a flag */
  assert_int_equal(PARSE("u --f --m:1=x", NULL, &inv, args), CNV_OK);
  assert_int_equal(args[0].kind, CNV_ARG_LONG_BOOL);
  assert_int_equal(args[1].quoted, CNV_QUOTE_LITERAL);
  /* quoted strings say so */
  assert_int_equal(PARSE("u 'x' --m=\"y\"", NULL, &inv, args), CNV_OK);
  assert_int_equal(args[0].quoted, CNV_QUOTE_STRING);
  assert_int_equal(args[1].quoted, CNV_QUOTE_STRING);
}

static void test_literal_after_terminator(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  assert_int_equal(PARSE("u -- --m:3=abc", NULL, &inv, args), CNV_OK);
  assert_int_equal(inv.count, 1);
  assert_int_equal(args[0].kind, CNV_ARG_POSITIONAL);
  assert_int_equal(args[0].quoted, CNV_QUOTE_NONE);
  assert_bytes(args[0].value, "--m:3=abc", 9);
  /* its bytes are not taken as one value: the blank splits, a quote is refused */
  assert_int_equal(PARSE("u -- --m:3=a c", NULL, &inv, args), CNV_OK);
  assert_int_equal(inv.count, 2);
  assert_int_equal(PARSE("u -- --m:3=a'c", NULL, &inv, args), CNV_EPARSE_QUOTE_IN_WORD);
}

static void test_literal_errors(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  static const struct {
    const char *line;
    size_t len;
    cnv_status st;
    uint32_t offset;
  } cases[] = {
#define E(line, st, off) {line, sizeof(line) - 1, st, off}
      E("u --m:", CNV_EPARSE_LITERAL_LENGTH, 6),     /* no length */
      E("u --m:=x", CNV_EPARSE_LITERAL_LENGTH, 6),   /* no digit */
      E("u --m:x=y", CNV_EPARSE_LITERAL_LENGTH, 6),  /* not a digit */
      E("u --m:-1=y", CNV_EPARSE_LITERAL_LENGTH, 6), /* no sign */
      E("u --m:+1=y", CNV_EPARSE_LITERAL_LENGTH, 6),
      E("u --m:01=y", CNV_EPARSE_LITERAL_LENGTH, 6), /* leading zero */
      E("u --m:00=", CNV_EPARSE_LITERAL_LENGTH, 6),
      E("u --m:1", CNV_EPARSE_LITERAL_LENGTH, 7), /* no '=' */
      E("u --m:1 x", CNV_EPARSE_LITERAL_LENGTH, 7),
      E("u --m:1x=y", CNV_EPARSE_LITERAL_LENGTH, 7),
      E("u --m:1\n", CNV_EPARSE_LITERAL_LENGTH, 7),
      E("u --m:4=abc", CNV_EPARSE_LITERAL_LENGTH, 6),         /* past the end */
      E("u --m:5=abc\n", CNV_EPARSE_LITERAL_LENGTH, 6),       /* past the end, newline counted */
      E("u --m:4294967296=", CNV_EPARSE_LITERAL_LENGTH, 6),   /* 2^32 */
      E("u --m:12345678901=x", CNV_EPARSE_LITERAL_LENGTH, 6), /* 11 digits */
      E("u --m:99999999999999999999999=x", CNV_EPARSE_LITERAL_LENGTH, 6),
      E("u --m:1=ab", CNV_EPARSE_AFTER_LITERAL, 9), /* not followed by a blank */
      E("u --m:1=a'", CNV_EPARSE_AFTER_LITERAL, 9),
      E("u --m:1=a\r", CNV_EPARSE_AFTER_LITERAL, 9),   /* a CR not before the final LF */
      E("u --m:1=a\n\n", CNV_EPARSE_AFTER_LITERAL, 9), /* LF then more */
      E("u --m:1=a\r\nx", CNV_EPARSE_AFTER_LITERAL, 9),
      E("u --m:0=x", CNV_EPARSE_AFTER_LITERAL, 8),
      E("u --:1=a", CNV_EPARSE_FLAG_NAME_CHAR, 4),          /* a literal needs a name */
      E("u --m:1=a --n:1=", CNV_EPARSE_LITERAL_LENGTH, 14), /* the second one */
      E("u --m::1=a", CNV_EPARSE_LITERAL_LENGTH, 6),
#undef E
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cnv_status st = parse_n(cases[i].line, cases[i].len, NULL, &inv, args);
    if (st != cases[i].st || inv.error_offset != cases[i].offset)
      fail_msg("case %zu: got %s at %u, want %s at %u", i, cnv_status_name(st), inv.error_offset,
               cnv_status_name(cases[i].st), cases[i].offset);
  }
  /* the argument limit counts a literal like any argument */
  cnv_parse_limits lim = {0, 1};
  assert_int_equal(cnv_invocation_init(&inv, args, CAP), CNV_OK);
  const char two[] = "u a --m:1=x";
  assert_int_equal(cnv_parse_invocation(two, sizeof two - 1, &lim, NULL, &inv),
                   CNV_EPARSE_TOO_MANY_ARGS);
  assert_int_equal(inv.error_offset, 4);
}

/* ---- schemas ---- */

static const char *const colors[] = {"red", "green", "blue"};

static const cnv_arg_spec specs[] = {
    {"name", "who", CNV_ARGT_STRING, CNV_ARGF_REQUIRED | CNV_ARGF_MIN | CNV_ARGF_MAX, 0, NULL, 1, 8},
    {"count", NULL, CNV_ARGT_INTEGER, CNV_ARGF_MIN | CNV_ARGF_MAX, 0, NULL, -5, 100},
    {"ratio", NULL, CNV_ARGT_NUMBER, 0, 0, NULL, 0, 0},
    {"force", NULL, CNV_ARGT_BOOLEAN, 0, 0, NULL, 0, 0},
    {"color", NULL, CNV_ARGT_ENUM, CNV_ARGF_REPEATED, 3, colors, 0, 0},
    {"tag", NULL, CNV_ARGT_STRING, CNV_ARGF_REPEATED, 0, NULL, 0, 0},
    {"big", NULL, CNV_ARGT_INTEGER, 0, 0, NULL, 0, 0},
};

static const cnv_parse_schema open_schema = {NULL, 0, specs, sizeof specs / sizeof specs[0], 0};
static const cnv_parse_schema closed_schema = {NULL, 0, specs, sizeof specs / sizeof specs[0],
                                               CNV_SCHEMA_CLOSED};

static void test_schema_validate(void **state) {
  (void)state;
  size_t bad = 99;
  assert_int_equal(cnv_schema_validate(&open_schema, &bad), CNV_OK);
  assert_int_equal(cnv_schema_validate(&closed_schema, NULL), CNV_OK);
  assert_int_equal(bad, 99);
  const cnv_parse_schema empty = {NULL, 0, NULL, 0, 0};
  assert_int_equal(cnv_schema_validate(&empty, &bad), CNV_OK);
  assert_int_equal(cnv_schema_validate(NULL, &bad), CNV_EINVAL);
  const cnv_parse_schema null_args = {NULL, 0, NULL, 1, 0};
  assert_int_equal(cnv_schema_validate(&null_args, &bad), CNV_EINVAL);
  const cnv_parse_schema null_bools = {NULL, 1, NULL, 0, 0};
  assert_int_equal(cnv_schema_validate(&null_bools, &bad), CNV_EINVAL);

  static const char *const dup_enum[] = {"a", "b", "a"};
  static const char *const empty_enum[] = {"a", ""};
  static const char *const null_enum[] = {"a", NULL};
  static const char *const one[] = {"a"};
  static const struct {
    cnv_arg_spec spec;
  } bad_specs[] = {
      {{NULL, NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}},  /* no name */
      {{"", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}},    /* empty name */
      {{"-x", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}},  /* bad first byte */
      {{"a b", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}}, /* bad byte */
      {{"a:b", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}},
      {{"x", NULL, 0, 0, 0, NULL, 0, 0}},                          /* type 0 */
      {{"x", NULL, 6, 0, 0, NULL, 0, 0}},                          /* unknown type */
      {{"x", NULL, CNV_ARGT_STRING, 0x10, 0, NULL, 0, 0}},         /* unknown flag bit */
      {{"x", NULL, CNV_ARGT_NUMBER, CNV_ARGF_MIN, 0, NULL, 0, 0}}, /* bounds on a NUMBER */
      {{"x", NULL, CNV_ARGT_BOOLEAN, CNV_ARGF_MAX, 0, NULL, 0, 0}},
      {{"x", NULL, CNV_ARGT_ENUM, CNV_ARGF_MIN, 1, one, 0, 0}},
      {{"x", NULL, CNV_ARGT_INTEGER, CNV_ARGF_MIN | CNV_ARGF_MAX, 0, NULL, 5, 4}}, /* min > max */
      {{"x", NULL, CNV_ARGT_STRING, CNV_ARGF_MIN, 0, NULL, -1, 0}},                /* negative length */
      {{"x", NULL, CNV_ARGT_STRING, CNV_ARGF_MAX, 0, NULL, 0, -1}},
      {{"x", NULL, CNV_ARGT_ENUM, 0, 0, one, 0, 0}}, /* no values */
      {{"x", NULL, CNV_ARGT_ENUM, 0, 1, NULL, 0, 0}},
      {{"x", NULL, CNV_ARGT_ENUM, 0, CNV_SCHEMA_MAX_ENUM + 1, one, 0, 0}}, /* too many */
      {{"x", NULL, CNV_ARGT_ENUM, 0, 3, dup_enum, 0, 0}},                  /* duplicate value */
      {{"x", NULL, CNV_ARGT_ENUM, 0, 2, empty_enum, 0, 0}},                /* empty value */
      {{"x", NULL, CNV_ARGT_ENUM, 0, 2, null_enum, 0, 0}},                 /* NULL value */
      {{"x", NULL, CNV_ARGT_STRING, 0, 1, one, 0, 0}},                     /* values not on an ENUM */
      {{"x", NULL, CNV_ARGT_STRING, 0, 0, one, 0, 0}},
      {{"ok", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}},   /* duplicate name */
      {{"flag", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0}}, /* a bool_flags name */
  };
  const cnv_slice bools[] = {{"flag", 4}};
  for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
    cnv_arg_spec two[3] = {{"ok", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0},
                           {"fine", NULL, CNV_ARGT_ENUM, 0, 1, one, 0, 0},
                           bad_specs[i].spec};
    const cnv_parse_schema s = {bools, 1, two, 3, 0};
    bad = 99;
    if (cnv_schema_validate(&s, &bad) != CNV_ESCHEMA_INVALID) fail_msg("bad spec %zu accepted", i);
    assert_int_equal(bad, 2);
  }
  /* the good spec alone passes (the rows above fail for their own reason) */
  cnv_arg_spec good_two[2] = {{"ok", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0},
                              {"fine", NULL, CNV_ARGT_ENUM, 0, 1, one, 0, 0}};
  const cnv_parse_schema good = {bools, 1, good_two, 2, 0};
  assert_int_equal(cnv_schema_validate(&good, &bad), CNV_OK);
  /* bounds that are fine: equal min and max, STRING min 0, INTEGER negative */
  cnv_arg_spec edge[2] = {{"i", NULL, CNV_ARGT_INTEGER, CNV_ARGF_MIN | CNV_ARGF_MAX, 0, NULL, -3, -3},
                          {"s", NULL, CNV_ARGT_STRING, CNV_ARGF_MIN, 0, NULL, 0, -7}};
  const cnv_parse_schema edges = {NULL, 0, edge, 2, 0};
  assert_int_equal(cnv_schema_validate(&edges, &bad), CNV_OK);
  /* too many arguments; unknown schema flags */
  static cnv_arg_spec many[CNV_SCHEMA_MAX_ARGS + 1];
  static char names[CNV_SCHEMA_MAX_ARGS + 1][8];
  for (size_t i = 0; i <= CNV_SCHEMA_MAX_ARGS; i++) {
    snprintf(names[i], sizeof names[i], "a%zu", i);
    many[i] = (cnv_arg_spec){names[i], NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0};
  }
  const cnv_parse_schema full = {NULL, 0, many, CNV_SCHEMA_MAX_ARGS, 0};
  assert_int_equal(cnv_schema_validate(&full, &bad), CNV_OK);
  const cnv_parse_schema over = {NULL, 0, many, CNV_SCHEMA_MAX_ARGS + 1, 0};
  assert_int_equal(cnv_schema_validate(&over, &bad), CNV_ESCHEMA_INVALID);
  assert_int_equal(bad, CNV_SCHEMA_MAX_ARGS);
  const cnv_parse_schema flagged = {NULL, 0, many, 2, 0x2};
  assert_int_equal(cnv_schema_validate(&flagged, &bad), CNV_ESCHEMA_INVALID);
  assert_int_equal(bad, 2);
}

/* Parses `line` under `schema` and checks it; *bad gets the offending index. */
static cnv_status check_line(const char *line, const cnv_parse_schema *schema, size_t *bad) {
  cnv_arg args[CAP];
  cnv_invocation inv;
  cnv_status st = parse_n(line, strlen(line), schema, &inv, args);
  if (st != CNV_OK) fail_msg("'%s' does not parse: %s", line, cnv_status_name(st));
  *bad = 99;
  return cnv_schema_check(schema, &inv, bad);
}

static void test_schema_check(void **state) {
  (void)state;
  static const struct {
    const char *line;
    int closed;
    cnv_status st;
    size_t bad;
  } cases[] = {
      {"u --name=al", 1, CNV_OK, 99},
      {"u --name:3=a b --count=-5 --ratio=1.5e-3 --force --color=red --color blue", 1, CNV_OK, 99},
      {"u --name=al --count=100 --ratio=-0 --force=true --tag=a --tag=b", 1, CNV_OK, 99},
      {"u --name=al --force=false --big=-9223372036854775808", 1, CNV_OK, 99},
      {"u --name=al --big=9223372036854775807 --big2=x pos -v", 0, CNV_OK, 99},
      {"u --name=al --count=-0", 1, CNV_OK, 99}, /* -0 is 0 */
      {"u --name=\"12345678\"", 1, CNV_OK, 99},  /* max length */
      /* REQUIRED */
      {"u", 1, CNV_EARG_MISSING, 0},
      {"u --count=1", 1, CNV_EARG_MISSING, 1},
      {"u --force", 0, CNV_EARG_MISSING, 1},
      /* CLOSED */
      {"u --name=al --other=1", 1, CNV_EARG_UNKNOWN, 1},
      {"u --name=al --other", 1, CNV_EARG_UNKNOWN, 1},
      {"u --name=al pos", 1, CNV_EARG_POSITIONAL, 1},
      {"u --name=al -v", 1, CNV_EARG_POSITIONAL, 1},
      {"u --name=al -- --count=1", 1, CNV_EARG_POSITIONAL, 1},
      /* REPEATED */
      {"u --name=al --name=bo", 0, CNV_EARG_REPEATED, 1},
      {"u --name=al --force --force", 0, CNV_EARG_REPEATED, 2},
      /* types */
      {"u --name=al --count=1.0", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count=+1", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count=01", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count=-", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count=", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count=1e2", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count= 5", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --count", 0, CNV_EARG_TYPE, 1}, /* needs a value, given none */
      {"u --name", 0, CNV_EARG_TYPE, 0},
      {"u --name=al --ratio=.5", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=1.", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=01", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=+1", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=1e", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=1e+", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=inf", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=nan", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=0x10", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio=1,5", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --ratio", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --force=yes", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --force=True", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --force=", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --force=1", 0, CNV_EARG_TYPE, 1},
      {"u --name=al --color", 0, CNV_EARG_TYPE, 1},
      /* ENUM */
      {"u --name=al --color=Red", 0, CNV_EARG_ENUM, 1},
      {"u --name=al --color=re", 0, CNV_EARG_ENUM, 1},
      {"u --name=al --color=redd", 0, CNV_EARG_ENUM, 1},
      {"u --name=al --color=", 0, CNV_EARG_ENUM, 1},
      /* ranges */
      {"u --name=al --count=101", 0, CNV_ERANGE, 1},
      {"u --name=al --count=-6", 0, CNV_ERANGE, 1},
      {"u --name=al --big=9223372036854775808", 0, CNV_ERANGE, 1},
      {"u --name=al --big=-9223372036854775809", 0, CNV_ERANGE, 1},
      {"u --name=al --big=99999999999999999999999", 0, CNV_ERANGE, 1},
      {"u --name=al --ratio=1e309", 0, CNV_ERANGE, 1},
      {"u --name=al --ratio=-1e400", 0, CNV_ERANGE, 1},
      {"u --name=", 0, CNV_ERANGE, 0},          /* below min length 1 */
      {"u --name=123456789", 0, CNV_ERANGE, 0}, /* above max length 8 */
      /* the first offence in line order wins */
      {"u --count=x --name=", 0, CNV_EARG_TYPE, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t bad;
    cnv_status st = check_line(cases[i].line, cases[i].closed ? &closed_schema : &open_schema, &bad);
    if (st != cases[i].st || bad != cases[i].bad)
      fail_msg("case %zu '%s': got %s at %zu, want %s at %zu", i, cases[i].line, cnv_status_name(st),
               bad, cnv_status_name(cases[i].st), cases[i].bad);
  }
  /* a literal carries a NUL and a newline into a STRING, never into an ENUM match */
  cnv_arg args[CAP];
  cnv_invocation inv;
  size_t bad = 0;
  assert_int_equal(PARSE("u --name:3=a\0\n --color:4=red\0", &open_schema, &inv, args), CNV_OK);
  assert_int_equal(cnv_schema_check(&open_schema, &inv, &bad), CNV_EARG_ENUM);
  assert_int_equal(bad, 1);
  assert_int_equal(cnv_schema_check(NULL, &inv, &bad), CNV_EINVAL);
  assert_int_equal(cnv_schema_check(&open_schema, NULL, &bad), CNV_EINVAL);
}

static void test_schema_booleans_parse(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  /* a BOOLEAN typed argument is a boolean flag while parsing; others still take a value */
  assert_int_equal(PARSE("u --force word --name al", &open_schema, &inv, args), CNV_OK);
  assert_int_equal(inv.count, 3);
  assert_int_equal(args[0].kind, CNV_ARG_LONG_BOOL);
  assert_int_equal(args[1].kind, CNV_ARG_POSITIONAL);
  assert_int_equal(args[2].kind, CNV_ARG_LONG_VALUE);
  assert_bytes(args[2].value, "al", 2);
  /* a name that only starts like a BOOLEAN one is not one */
  assert_int_equal(PARSE("u --forc word --forcee word", &open_schema, &inv, args), CNV_OK);
  assert_int_equal(inv.count, 2);
  assert_int_equal(args[0].kind, CNV_ARG_LONG_VALUE);
  assert_int_equal(args[1].kind, CNV_ARG_LONG_VALUE);
  /* without the schema `--force word` is a value */
  assert_int_equal(PARSE("u --force word", NULL, &inv, args), CNV_OK);
  assert_int_equal(inv.count, 1);
  assert_int_equal(args[0].kind, CNV_ARG_LONG_VALUE);
}

/* ---- typed readers and find ---- */

static cnv_arg value_arg(const char *v) {
  cnv_arg a;
  memset(&a, 0, sizeof a);
  a.kind = CNV_ARG_LONG_VALUE;
  a.value.ptr = v;
  a.value.len = strlen(v);
  return a;
}

static void test_readers(void **state) {
  (void)state;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  cnv_arg a = value_arg("-42");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_OK);
  assert_int_equal(i, -42);
  a = value_arg("-0");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_OK);
  assert_int_equal(i, 0);
  a = value_arg("9223372036854775807");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_OK);
  assert_true(i == INT64_MAX);
  a = value_arg("-9223372036854775808");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_OK);
  assert_true(i == INT64_MIN);
  a = value_arg("18446744073709551616");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_ERANGE);
  a = value_arg("12a");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_EARG_TYPE);
  a = value_arg("99999999999999999999x");
  assert_int_equal(cnv_arg_int(&a, &i), CNV_EARG_TYPE); /* not a number at all: type first */
  a = value_arg("-0.0");
  assert_int_equal(cnv_arg_number(&a, &d), CNV_OK);
  assert_true(d == 0 && signbit(d));
  a = value_arg("4.9406564584124654e-324");
  assert_int_equal(cnv_arg_number(&a, &d), CNV_OK);
  assert_true(d > 0 && d < 1e-323);
  a = value_arg("1E+2");
  assert_int_equal(cnv_arg_number(&a, &d), CNV_OK);
  assert_true(d == 100.0);
  a = value_arg("1e-400"); /* underflows to zero: finite, read */
  assert_int_equal(cnv_arg_number(&a, &d), CNV_OK);
  assert_true(d == 0);
  char longnum[600];
  memset(longnum, '1', sizeof longnum - 1);
  longnum[sizeof longnum - 1] = '\0';
  a = value_arg(longnum);
  assert_int_equal(cnv_arg_number(&a, &d), CNV_ERANGE); /* longer than the reader takes */
  a = value_arg("true");
  assert_int_equal(cnv_arg_bool(&a, &b), CNV_OK);
  assert_true(b);
  a = value_arg("false");
  assert_int_equal(cnv_arg_bool(&a, &b), CNV_OK);
  assert_false(b);
  a = value_arg("");
  assert_int_equal(cnv_arg_bool(&a, &b), CNV_EARG_TYPE);
  a.kind = CNV_ARG_LONG_BOOL;
  assert_int_equal(cnv_arg_bool(&a, &b), CNV_OK);
  assert_true(b);
  assert_int_equal(cnv_arg_int(&a, &i), CNV_EARG_TYPE);
  assert_int_equal(cnv_arg_number(&a, &d), CNV_EARG_TYPE);
  assert_int_equal(cnv_arg_int(NULL, &i), CNV_EINVAL);
  assert_int_equal(cnv_arg_number(&a, NULL), CNV_EINVAL);
  assert_int_equal(cnv_arg_bool(NULL, &b), CNV_EINVAL);
}

static void test_find(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  assert_int_equal(PARSE("u x --a=1 -a --b --a:1=2 -- --a", NULL, &inv, args), CNV_OK);
  uint32_t at = 0;
  assert_int_equal(cnv_invocation_find(&inv, "a", 1, &at), CNV_OK);
  assert_int_equal(at, 1);
  at++;
  assert_int_equal(cnv_invocation_find(&inv, "a", 1, &at), CNV_OK);
  assert_int_equal(at, 4); /* the short -a is not the long flag */
  at++;
  assert_int_equal(cnv_invocation_find(&inv, "a", 1, &at), CNV_ENOTFOUND); /* after `--` */
  assert_int_equal(at, 5);
  at = 0;
  assert_int_equal(cnv_invocation_find(&inv, "b", 1, &at), CNV_OK);
  assert_int_equal(at, 3);
  at = 0;
  assert_int_equal(cnv_invocation_find(&inv, "ab", 2, &at), CNV_ENOTFOUND);
  at = 100;
  assert_int_equal(cnv_invocation_find(&inv, "a", 1, &at), CNV_ENOTFOUND);
  assert_int_equal(cnv_invocation_find(NULL, "a", 1, &at), CNV_EINVAL);
  assert_int_equal(cnv_invocation_find(&inv, NULL, 1, &at), CNV_EINVAL);
  assert_int_equal(cnv_invocation_find(&inv, "a", 1, NULL), CNV_EINVAL);
}

/* ---- line builder ---- */

static void test_builder_basics(void **state) {
  (void)state;
  char buf[256];
  cnv_line_builder b;
  assert_int_equal(cnv_line_init(&b, buf, sizeof buf, "user.create", 11), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "name", 4, "a 'b'\n", 6), CNV_OK);
  assert_int_equal(cnv_line_add_int(&b, "n", 1, -7), CNV_OK);
  assert_int_equal(cnv_line_add_number(&b, "x", 1, 0.1), CNV_OK);
  assert_int_equal(cnv_line_add_number(&b, "z", 1, -0.0), CNV_OK);
  assert_int_equal(cnv_line_add_number(&b, "e", 1, 1e308), CNV_OK);
  assert_int_equal(cnv_line_add_bool(&b, "f", 1, false), CNV_OK);
  assert_int_equal(cnv_line_add_string(&b, "s", 1, NULL, 0), CNV_OK);
  const char want[] = "user.create --name:6=a 'b'\n --n=-7 --x=0.1 --z=-0 --e=1e+308 --f=false --s:0=";
  assert_int_equal(b.len, sizeof want - 1);
  assert_memory_equal(buf, want, b.len);
  /* errors */
  assert_int_equal(cnv_line_add_string(&b, "", 0, "x", 1), CNV_EPARSE_FLAG_NO_NAME);
  assert_int_equal(cnv_line_add_string(&b, "a=b", 3, "x", 1), CNV_EPARSE_FLAG_NAME_CHAR);
  assert_int_equal(cnv_line_add_string(&b, "-a", 2, "x", 1), CNV_EPARSE_FLAG_NAME_CHAR);
  assert_int_equal(cnv_line_add_int(&b, "a:1", 3, 1), CNV_EPARSE_FLAG_NAME_CHAR);
  assert_int_equal(cnv_line_add_string(&b, NULL, 0, "x", 1), CNV_EINVAL);
  assert_int_equal(cnv_line_add_string(&b, "a", 1, NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_line_add_string(NULL, "a", 1, "x", 1), CNV_EINVAL);
  assert_int_equal(cnv_line_add_number(&b, "a", 1, NAN), CNV_ERANGE);
  assert_int_equal(cnv_line_add_number(&b, "a", 1, INFINITY), CNV_ERANGE);
  assert_int_equal(cnv_line_add_number(&b, "a", 1, -INFINITY), CNV_ERANGE);
  assert_int_equal(b.len, sizeof want - 1); /* errors append nothing */
  assert_int_equal(cnv_line_init(&b, buf, sizeof buf, "User", 4), CNV_EPARSE_PATH_CHAR);
  assert_int_equal(cnv_line_init(&b, buf, sizeof buf, "", 0), CNV_EPARSE_EMPTY_PATH);
  assert_int_equal(cnv_line_init(&b, buf, 3, "abcd", 4), CNV_EFULL);
  assert_int_equal(cnv_line_init(&b, NULL, 3, "abcd", 4), CNV_EINVAL);
  assert_int_equal(cnv_line_init(NULL, buf, 3, "abcd", 4), CNV_EINVAL);
  assert_int_equal(cnv_line_init(&b, buf, 3, NULL, 0), CNV_EINVAL);
}

static void test_builder_full_leaves_line(void **state) {
  (void)state;
  /* every capacity from the path up: each call either appends all of its bytes or returns
   * CNV_EFULL with the line (length and bytes) as it was */
  const char want[] = "a.b --s:3=x y --i=-12 --d=2.5 --b=true";
  for (size_t cap = 3; cap <= sizeof want - 1; cap++) {
    char buf[64];
    memset(buf, '#', sizeof buf);
    cnv_line_builder b;
    assert_int_equal(cnv_line_init(&b, buf, cap, "a.b", 3), CNV_OK);
    /* the calls in order, up to the first that does not fit */
    size_t before = b.len;
    cnv_status st = cnv_line_add_string(&b, "s", 1, "x y", 3);
    if (st == CNV_OK) {
      before = b.len;
      st = cnv_line_add_int(&b, "i", 1, -12);
    }
    if (st == CNV_OK) {
      before = b.len;
      st = cnv_line_add_number(&b, "d", 1, 2.5);
    }
    if (st == CNV_OK) {
      before = b.len;
      st = cnv_line_add_bool(&b, "b", 1, true);
    }
    if (st != CNV_OK) {
      assert_int_equal(st, CNV_EFULL);
      assert_int_equal(b.len, before);
    } else {
      assert_int_equal(cap, sizeof want - 1);
    }
    assert_true(b.len <= cap);
    assert_memory_equal(buf, want, b.len); /* a prefix of whole arguments */
    for (size_t k = b.len; k < sizeof buf; k++) assert_int_equal(buf[k], '#');
    assert_true(b.len == 3 || buf[b.len - 1] != ' ');
  }
}

/* RFC 8259 number grammar (the test's own copy). */
static bool json_number(const char *s, size_t len) {
  size_t i = 0;
  if (i < len && s[i] == '-') i++;
  if (i < len && s[i] == '0') {
    i++;
  } else {
    if (i == len || s[i] < '1' || s[i] > '9') return false;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
  }
  if (i < len && s[i] == '.') {
    if (++i == len || s[i] < '0' || s[i] > '9') return false;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    if (i == len || s[i] < '0' || s[i] > '9') return false;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
  }
  return i == len;
}

/* ---- round trip: random values -> build -> parse -> check -> read ---- */

enum { V_STR,
       V_INT,
       V_NUM,
       V_BOOL };

typedef struct value {
  int kind;
  char str[300];
  size_t len;
  int64_t i;
  double d;
  bool b;
} value;

static const cnv_arg_spec rt_specs[] = {
    {"s0", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0},
    {"s1", NULL, CNV_ARGT_STRING, 0, 0, NULL, 0, 0},
    {"i0", NULL, CNV_ARGT_INTEGER, 0, 0, NULL, 0, 0},
    {"i1", NULL, CNV_ARGT_INTEGER, 0, 0, NULL, 0, 0},
    {"n0", NULL, CNV_ARGT_NUMBER, 0, 0, NULL, 0, 0},
    {"n1", NULL, CNV_ARGT_NUMBER, 0, 0, NULL, 0, 0},
    {"b0", NULL, CNV_ARGT_BOOLEAN, 0, 0, NULL, 0, 0},
    {"b1", NULL, CNV_ARGT_BOOLEAN, 0, 0, NULL, 0, 0},
};
static const cnv_parse_schema rt_schema = {NULL, 0, rt_specs, 8, CNV_SCHEMA_CLOSED};

static double rand_double(uint64_t *rng) {
  static const double special[] = {0.0, -0.0, 1e308, -1e308, 5e-324, -5e-324, 2.2250738585072014e-308,
                                   1.7976931348623157e308, 0.1, 1.0 / 3, 1e21, 1e-7, 123456789012345678.0};
  uint64_t r = cnv_test_rand(rng);
  switch (r % 4) {
    case 0:
      return special[(r >> 8) % (sizeof special / sizeof special[0])];
    case 1: { /* any bit pattern that is finite (subnormals included) */
      double d;
      do {
        uint64_t bits = cnv_test_rand(rng);
        memcpy(&d, &bits, sizeof d);
      } while (!isfinite(d));
      return d;
    }
    case 2: { /* a subnormal */
      uint64_t bits = (cnv_test_rand(rng) & 0x800FFFFFFFFFFFFFull) | 1;
      double d;
      memcpy(&d, &bits, sizeof d);
      return d;
    }
    default:
      return (double)(int64_t)(cnv_test_rand(rng) % 2000001) / 1000.0 - 1000.0;
  }
}

static void rand_value(uint64_t *rng, value *v, size_t k) {
  v->kind = (int)k / 2;
  switch (v->kind) {
    case V_STR: {
      uint64_t r = cnv_test_rand(rng);
      v->len = r % 8 == 0 ? 256 : (size_t)(r >> 8) % 40;
      if (v->len == 256) {
        for (size_t i = 0; i < 256; i++) v->str[i] = (char)(i ^ ((r >> 16) & 0xff)); /* all 256 */
      } else {
        static const char tricky[] = " \t\n\r\0'\"-=:";
        for (size_t i = 0; i < v->len; i++) {
          uint64_t c = cnv_test_rand(rng);
          v->str[i] = c % 3 ? (char)(c >> 8) : tricky[(c >> 8) % (sizeof tricky - 1)];
        }
      }
      break;
    }
    case V_INT: {
      uint64_t r = cnv_test_rand(rng);
      v->i = r % 5 == 0 ? (r % 10 == 0 ? INT64_MIN : INT64_MAX) : (int64_t)cnv_test_rand(rng) >> (r % 64);
      break;
    }
    case V_NUM:
      v->d = rand_double(rng);
      break;
    default:
      v->b = cnv_test_rand(rng) & 1;
      break;
  }
}

static void round_trip_once(uint64_t *rng) {
  static char buf[8192];
  value vals[8];
  size_t order[8], n = 1 + cnv_test_rand(rng) % 8;
  for (size_t k = 0; k < 8; k++) order[k] = k;
  for (size_t k = 7; k > 0; k--) { /* a random subset in a random order */
    size_t j = cnv_test_rand(rng) % (k + 1), t = order[k];
    order[k] = order[j];
    order[j] = t;
  }
  cnv_line_builder b;
  assert_int_equal(cnv_line_init(&b, buf, sizeof buf, "rt.check", 8), CNV_OK);
  for (size_t k = 0; k < n; k++) {
    value *v = &vals[k];
    const char *name = rt_specs[order[k]].name;
    rand_value(rng, v, order[k]);
    cnv_status st = v->kind == V_STR   ? cnv_line_add_string(&b, name, 2, v->str, v->len)
                    : v->kind == V_INT ? cnv_line_add_int(&b, name, 2, v->i)
                    : v->kind == V_NUM ? cnv_line_add_number(&b, name, 2, v->d)
                                       : cnv_line_add_bool(&b, name, 2, v->b);
    assert_int_equal(st, CNV_OK);
  }
  size_t len = b.len;
  if (cnv_test_rand(rng) % 4 == 0) buf[len++] = '\n'; /* a final newline changes nothing */
  cnv_arg args[CAP];
  cnv_invocation inv;
  assert_int_equal(cnv_invocation_init(&inv, args, CAP), CNV_OK);
  cnv_parse_limits lim = {sizeof buf, 0};
  cnv_status st = cnv_parse_invocation(buf, len, &lim, &rt_schema, &inv);
  if (st != CNV_OK) fail_msg("built line does not parse: %s at %u", cnv_status_name(st), inv.error_offset);
  size_t bad = 0;
  st = cnv_schema_check(&rt_schema, &inv, &bad);
  if (st != CNV_OK) fail_msg("built line fails its schema: %s at %zu", cnv_status_name(st), bad);
  assert_int_equal(inv.count, n);
  assert_int_equal(inv.path.len, 8);
  for (size_t k = 0; k < n; k++) {
    const cnv_arg *a = &args[k];
    const value *v = &vals[k];
    assert_int_equal(a->kind, CNV_ARG_LONG_VALUE);
    assert_memory_equal(a->name.ptr, rt_specs[order[k]].name, 2);
    if (v->kind == V_STR) {
      assert_int_equal(a->quoted, CNV_QUOTE_LITERAL);
      assert_bytes(a->value, v->str, v->len);
    } else if (v->kind == V_INT) {
      int64_t i;
      assert_int_equal(cnv_arg_int(a, &i), CNV_OK);
      assert_true(i == v->i);
    } else if (v->kind == V_NUM) {
      double d;
      assert_int_equal(cnv_arg_number(a, &d), CNV_OK);
      assert_memory_equal(&d, &v->d, sizeof d); /* bit for bit: -0.0 stays -0.0 */
      char text[32];                            /* and no longer than %.17g */
      int full = snprintf(text, sizeof text, "%.17g", v->d);
      assert_true(a->value.len <= (size_t)full);
    } else {
      bool x;
      assert_int_equal(cnv_arg_bool(a, &x), CNV_OK);
      assert_int_equal(x, v->b);
    }
  }
}

static void test_round_trip(void **state) {
  (void)state;
  uint64_t rng = 0x16161616;
  uint64_t iters = cnv_test_iters(100000);
  for (uint64_t i = 0; i < iters; i++) round_trip_once(&rng);
}

/* Shortest: no "%.<p>g" spelling (p = 1..17) that reads back is shorter than the builder's
 * (checked on a spread of doubles), and the builder's is a JSON number. */
static void test_number_shortest(void **state) {
  (void)state;
  uint64_t rng = 7;
  char buf[128];
  for (int i = 0; i < 20000; i++) {
    double d = rand_double(&rng);
    cnv_line_builder b;
    assert_int_equal(cnv_line_init(&b, buf, sizeof buf, "a", 1), CNV_OK);
    assert_int_equal(cnv_line_add_number(&b, "x", 1, d), CNV_OK);
    size_t got = b.len - 6; /* after "a --x=" */
    assert_true(json_number(buf + 6, got));
    for (int p = 1; p <= 17; p++) {
      char other[400];
      int n = snprintf(other, sizeof other, "%.*g", p, d);
      double back = strtod(other, NULL);
      if (back == d && signbit(back) == signbit(d)) assert_true(got <= (size_t)n);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_literal_values),
      cmocka_unit_test(test_literal_after_terminator),
      cmocka_unit_test(test_literal_errors),
      cmocka_unit_test(test_schema_validate),
      cmocka_unit_test(test_schema_check),
      cmocka_unit_test(test_schema_booleans_parse),
      cmocka_unit_test(test_readers),
      cmocka_unit_test(test_find),
      cmocka_unit_test(test_builder_basics),
      cmocka_unit_test(test_builder_full_leaves_line),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_number_shortest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
