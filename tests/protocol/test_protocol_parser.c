/* Invocation parser: known lines render to known argument lists, every malformed line gets
 * its own code and byte offset, bounds are errors, and every slice of random valid lines lies
 * inside the input and reproduces the tokens the generator wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/protocol.h>

#include "cnv_test_util.h"

#define CAP 32

/* Renders a parse as "path|K:name=value|..." (K: P positional, L long value, B boolean,
 * S short; q marks a quoted value; "--" marks where the terminator stood). */
static void render(const cnv_invocation *inv, char *out, size_t cap) {
  int n = snprintf(out, cap, "%.*s", (int)inv->path.len, inv->path.ptr);
  for (uint32_t i = 0; i <= inv->count; i++) {
    if (inv->has_terminator && inv->terminator_index == i)
      n += snprintf(out + n, cap - (size_t)n, "|--");
    if (i == inv->count) break;
    const cnv_arg *a = &inv->args[i];
    static const char kinds[] = "PLBS";
    n += snprintf(out + n, cap - (size_t)n, "|%c%s:%.*s=%.*s", kinds[a->kind], a->quoted ? "q" : "",
                  (int)a->name.len, a->name.ptr, (int)a->value.len, a->value.ptr);
  }
}

static cnv_status parse(const char *line, const cnv_parse_schema *schema, cnv_invocation *inv,
                        cnv_arg *args) {
  assert_int_equal(cnv_invocation_init(inv, args, CAP), CNV_OK);
  return cnv_parse_invocation(line, strlen(line), NULL, schema, inv);
}

static const struct {
  const char *line, *want;
} good[] = {
    {"user.create", "user.create"},
    {"  user.create  \r\n", "user.create"},
    {"user.create\n", "user.create"},
    {"a.b.c.d.e.f.g.h x", "a.b.c.d.e.f.g.h|P:=x"},
    {"user.create alice", "user.create|P:=alice"},
    {"user.create --name=alice", "user.create|L:name=alice"},
    {"user.create --name alice", "user.create|L:name=alice"},
    {"user.create --name= x", "user.create|L:name=|P:=x"},
    {"user.create --force", "user.create|B:force="},
    {"user.create --force --name=x", "user.create|B:force=|L:name=x"},
    {"user.create --force -v", "user.create|L:force=-v"},
    {"user.create -v -q", "user.create|S:v=|S:q="},
    {"user.create -5 -.5", "user.create|P:=-5|P:=-.5"},
    {"user.create 'hello world' \"a 'b'\"", "user.create|Pq:=hello world|Pq:=a 'b'"},
    {"user.create ''", "user.create|Pq:="},
    {"user.create --msg 'hi there'", "user.create|Lq:msg=hi there"},
    {"user.create --msg=\"x y\"", "user.create|Lq:msg=x y"},
    {"user.create --a-b_c=1", "user.create|L:a-b_c=1"},
    {"user.create -- --x -y", "user.create|--|P:=--x|P:=-y"},
    {"user.create --x -- y", "user.create|B:x=|--|P:=y"},
    {"user.create a -- -- b", "user.create|P:=a|--|P:=--|P:=b"},
    {"user.create --", "user.create|--"},
    {"user.create\tx\t\ty", "user.create|P:=x|P:=y"},
    {"user.create caf\xc3\xa9", "user.create|P:=caf\xc3\xa9"},
    {"user.create a=b", "user.create|P:=a=b"},
};

static void test_valid_lines(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  char got[512];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal(parse(good[i].line, NULL, &inv, args), CNV_OK);
    render(&inv, got, sizeof got);
    assert_string_equal(got, good[i].want);
  }
}

static void test_schema_boolean(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  char got[256];
  const cnv_slice flags[] = {{"force", 5}, {"v", 1}};
  const cnv_parse_schema schema = {flags, 2, NULL, 0, 0};
  assert_int_equal(parse("node.drain --force node-7 --reason x", &schema, &inv, args), CNV_OK);
  render(&inv, got, sizeof got);
  assert_string_equal(got, "node.drain|B:force=|P:=node-7|L:reason=x");
  assert_int_equal(parse("node.drain --forced node-7", &schema, &inv, args), CNV_OK);
  render(&inv, got, sizeof got);
  assert_string_equal(got, "node.drain|L:forced=node-7");
}

static const struct {
  const char *line;
  cnv_status st;
  size_t offset;
} bad[] = {
    {"", CNV_EPARSE_EMPTY_PATH, 0},
    {"   ", CNV_EPARSE_EMPTY_PATH, 3},
    {"\n", CNV_EPARSE_EMPTY_PATH, 0},
    {".user", CNV_EPARSE_PATH_SEGMENT, 0},
    {"user..create", CNV_EPARSE_PATH_SEGMENT, 5},
    {"  user. x", CNV_EPARSE_PATH_SEGMENT, 6},
    {"User.create", CNV_EPARSE_PATH_CHAR, 0},
    {"user.cr@ate", CNV_EPARSE_PATH_CHAR, 7},
    {"user\"x\"", CNV_EPARSE_PATH_CHAR, 4},
    {"-X", CNV_EPARSE_PATH_CHAR, 1},
    {"a.b.c.d.e.f.g.h.i", CNV_EPARSE_PATH_DEPTH, 15},
    {"u 'abc", CNV_EPARSE_UNTERMINATED_QUOTE, 2},
    {"u --m=\"abc", CNV_EPARSE_UNTERMINATED_QUOTE, 6},
    {"u x -", CNV_EPARSE_FLAG_NO_NAME, 4},
    {"u --=v", CNV_EPARSE_FLAG_NO_NAME, 2},
    {"u --n@me", CNV_EPARSE_FLAG_NAME_CHAR, 5},
    {"u ---x", CNV_EPARSE_FLAG_NAME_CHAR, 4},
    {"u -'", CNV_EPARSE_FLAG_NAME_CHAR, 3},
    {"u -xy", CNV_EPARSE_SHORT_FLAG, 4},
    {"u a\x01", CNV_EPARSE_BAD_BYTE, 3},
    {"u a\nb", CNV_EPARSE_BAD_BYTE, 3},
    {"u 'a\x7f'", CNV_EPARSE_BAD_BYTE, 4},
    /* precedence: a quote that never closes wins over a control byte inside it */
    {"u 'a\x01b", CNV_EPARSE_UNTERMINATED_QUOTE, 2},
    {"u --m=\"a\tb\x7f", CNV_EPARSE_UNTERMINATED_QUOTE, 6},
    {"u \"a\x01b' x", CNV_EPARSE_UNTERMINATED_QUOTE, 2},
    {"u ab'c'", CNV_EPARSE_QUOTE_IN_WORD, 4},
    {"u --m=a\"b", CNV_EPARSE_QUOTE_IN_WORD, 7},
    {"u 'a'b", CNV_EPARSE_AFTER_QUOTE, 5},
    {"u x\r", CNV_EPARSE_BAD_BYTE, 3},
};

static void test_errors_have_codes_and_offsets(void **state) {
  (void)state;
  cnv_arg args[CAP];
  cnv_invocation inv;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cnv_status st = parse(bad[i].line, NULL, &inv, args);
    if (st != bad[i].st || inv.error_offset != bad[i].offset)
      fail_msg("line %zu \"%s\": got %s at %zu, want %s at %zu", i, bad[i].line,
               cnv_status_name(st), inv.error_offset, cnv_status_name(bad[i].st), bad[i].offset);
  }
}

static void test_path_too_long(void **state) {
  (void)state;
  char line[300];
  memset(line, 'a', sizeof line);
  line[sizeof line - 1] = '\0';
  cnv_arg args[CAP];
  cnv_invocation inv;
  assert_int_equal(parse(line, NULL, &inv, args), CNV_EPARSE_PATH_LONG);
  assert_int_equal(inv.error_offset, 255);
  line[255] = '\0';
  assert_int_equal(parse(line, NULL, &inv, args), CNV_OK);
  assert_int_equal(inv.path.len, 255);
}

static void test_bounds(void **state) {
  (void)state;
  cnv_arg args[4];
  cnv_invocation inv;
  const char *line = "u a b c d";
  assert_int_equal(cnv_invocation_init(&inv, args, 4), CNV_OK);
  assert_int_equal(cnv_parse_invocation(line, strlen(line), NULL, NULL, &inv), CNV_OK);
  assert_int_equal(inv.count, 4);
  cnv_parse_limits lim = {0, 3};
  assert_int_equal(cnv_parse_invocation(line, strlen(line), &lim, NULL, &inv),
                   CNV_EPARSE_TOO_MANY_ARGS);
  assert_int_equal(inv.error_offset, 8);
  const char *five = "u a b --c=1 -d e";
  assert_int_equal(cnv_parse_invocation(five, strlen(five), NULL, NULL, &inv),
                   CNV_EPARSE_TOO_MANY_ARGS);
  assert_int_equal(inv.error_offset, 15);
  /* precedence: the count is checked when a token starts, so a token beyond the limit is
   * TOO_MANY_ARGS at its first byte whatever errors it holds further on */
  static const char *const over[] = {"u a b c --n@me", "u a b c -xy", "u a b c -",
                                     "u a b c 'open\x01", "u a b c x\x01", "u a b c --=v"};
  for (size_t k = 0; k < sizeof over / sizeof over[0]; k++) {
    assert_int_equal(cnv_parse_invocation(over[k], strlen(over[k]), &lim, NULL, &inv),
                     CNV_EPARSE_TOO_MANY_ARGS);
    assert_int_equal(inv.error_offset, 8);
    assert_int_equal(inv.count, 3);
  }
  /* the terminator takes no slot: it is accepted at the limit */
  const char *term = "u a b c --";
  assert_int_equal(cnv_parse_invocation(term, strlen(term), &lim, NULL, &inv), CNV_OK);
  assert_int_equal(inv.has_terminator, 1);
  lim.max_args = 0;
  lim.max_input = 8;
  assert_int_equal(cnv_parse_invocation(line, strlen(line), &lim, NULL, &inv),
                   CNV_EPARSE_INPUT_LONG);
  assert_int_equal(inv.error_offset, 8);
  lim.max_input = 9;
  assert_int_equal(cnv_parse_invocation(line, strlen(line), &lim, NULL, &inv), CNV_OK);
}

static void test_invalid_arguments(void **state) {
  (void)state;
  cnv_arg args[2];
  cnv_invocation inv;
  assert_int_equal(cnv_invocation_init(NULL, args, 2), CNV_EINVAL);
  assert_int_equal(cnv_invocation_init(&inv, NULL, 2), CNV_EINVAL);
  assert_int_equal(cnv_invocation_init(&inv, args, 2), CNV_OK);
  assert_int_equal(cnv_parse_invocation(NULL, 3, NULL, NULL, &inv), CNV_EINVAL);
  assert_int_equal(cnv_parse_invocation("u", 1, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_parse_invocation(NULL, 0, NULL, NULL, &inv), CNV_EPARSE_EMPTY_PATH);
}

/* ---- property: random valid lines ---- */

typedef struct expect {
  char kind, quoted;
  size_t name_off, name_len, value_off, value_len;
} expect;

static void put(char *line, size_t *n, const char *s, size_t len) {
  memcpy(line + *n, s, len);
  *n += len;
}

static size_t rand_word(uint64_t *rng, char *out, const char *alphabet) {
  size_t len = 1 + cnv_test_rand(rng) % 8, n = strlen(alphabet);
  for (size_t i = 0; i < len; i++) out[i] = alphabet[cnv_test_rand(rng) % n];
  return len;
}

static const char word_chars[] = "abcXYZ019=+./:@-_\xc3\xa9";
static const char name_chars[] = "abcdefghXYZ0129";

/* Appends one argument; records where its name and value must land. */
static void gen_arg(uint64_t *rng, char *line, size_t *n, expect *e) {
  char w[16];
  size_t wl;
  memset(e, 0, sizeof *e);
  switch (cnv_test_rand(rng) % 4) {
    case 0: /* positional, bare; a word never starts with '-' */
      wl = rand_word(rng, w, name_chars);
      e->kind = CNV_ARG_POSITIONAL;
      e->value_off = *n, e->value_len = wl;
      put(line, n, w, wl);
      break;
    case 1: /* quoted positional */
      wl = rand_word(rng, w, word_chars);
      e->kind = CNV_ARG_POSITIONAL, e->quoted = 1;
      put(line, n, "'", 1);
      e->value_off = *n, e->value_len = wl;
      put(line, n, w, wl);
      put(line, n, "'", 1);
      break;
    case 2: /* --name=value */
      put(line, n, "--", 2);
      wl = rand_word(rng, w, name_chars);
      e->kind = CNV_ARG_LONG_VALUE, e->name_off = *n, e->name_len = wl;
      put(line, n, w, wl);
      put(line, n, "=", 1);
      wl = rand_word(rng, w, word_chars);
      e->value_off = *n, e->value_len = wl;
      put(line, n, w, wl);
      break;
    default: /* -x */
      put(line, n, "-", 1);
      e->kind = CNV_ARG_SHORT, e->name_off = *n, e->name_len = 1;
      line[(*n)++] = (char)('a' + cnv_test_rand(rng) % 26);
      break;
  }
}

static void check_random_line(uint64_t *rng) {
  char line[1024];
  expect want[CAP];
  size_t n = 0, nargs = cnv_test_rand(rng) % CAP;
  char seg[16];
  unsigned segs = 1 + cnv_test_rand(rng) % 8;
  for (unsigned s = 0; s < segs; s++) {
    if (s) put(line, &n, ".", 1);
    put(line, &n, seg, rand_word(rng, seg, "abz09_-"));
  }
  size_t path_len = n;
  for (size_t i = 0; i < nargs; i++) {
    line[n++] = cnv_test_rand(rng) % 2 ? ' ' : '\t';
    gen_arg(rng, line, &n, &want[i]);
  }
  cnv_arg args[CAP];
  cnv_invocation inv;
  assert_int_equal(cnv_invocation_init(&inv, args, CAP), CNV_OK);
  assert_int_equal(cnv_parse_invocation(line, n, NULL, NULL, &inv), CNV_OK);
  assert_ptr_equal(inv.path.ptr, line);
  assert_int_equal(inv.path.len, path_len);
  assert_int_equal(inv.count, nargs);
  for (size_t i = 0; i < nargs; i++) {
    const cnv_arg *a = &args[i];
    assert_true(a->name.ptr >= line && a->name.ptr + a->name.len <= line + n);
    assert_true(a->value.ptr >= line && a->value.ptr + a->value.len <= line + n);
    assert_int_equal(a->kind, want[i].kind);
    assert_int_equal(a->quoted, want[i].quoted);
    assert_int_equal(a->name.len, want[i].name_len);
    assert_int_equal(a->value.len, want[i].value_len);
    if (want[i].name_len) assert_ptr_equal(a->name.ptr, line + want[i].name_off);
    if (want[i].value_len) assert_ptr_equal(a->value.ptr, line + want[i].value_off);
  }
}

static void test_random_valid_lines(void **state) {
  (void)state;
  uint64_t rng = 0x5eedULL;
  uint64_t iters = cnv_test_iters(20000);
  for (uint64_t i = 0; i < iters; i++) check_random_line(&rng);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_lines),
      cmocka_unit_test(test_schema_boolean),
      cmocka_unit_test(test_errors_have_codes_and_offsets),
      cmocka_unit_test(test_path_too_long),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_invalid_arguments),
      cmocka_unit_test(test_random_valid_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
