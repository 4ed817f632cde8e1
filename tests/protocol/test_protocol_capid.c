/* Capability ids: the published vectors (tests/vectors/capability_ids.txt) hold forever, the
 * word-at-a-time path check agrees with a byte-by-byte reference on random and edge inputs,
 * and versioned ids accept exactly the canonical spelling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/protocol.h>
#include <xxhash.h>

#include "cnv_test_util.h"

static void check_vector_line(const char *kind, const char *text, unsigned long long id64,
                              unsigned long long hi, unsigned long long lo) {
  uint64_t got = 0;
  cnv_id128 got128 = {0, 0};
  size_t len = strlen(text);
  if (strcmp(kind, "path") == 0) {
    assert_int_equal(cnv_capability_id(text, len, &got), CNV_OK);
    assert_int_equal(cnv_capability_id128(text, len, &got128), CNV_OK);
  } else {
    assert_string_equal(kind, "versioned");
    assert_int_equal(cnv_capability_id_versioned(text, len, &got), CNV_OK);
    assert_int_equal(cnv_capability_id128_versioned(text, len, &got128), CNV_OK);
  }
  assert_int_equal(got, id64);
  assert_int_equal(got128.high64, hi);
  assert_int_equal(got128.low64, lo);
}

static void test_published_vectors(void **state) {
  (void)state;
  FILE *f = fopen(CNV_VECTORS_FILE, "r");
  assert_non_null(f);
  char line[512], kind[16], text[300];
  unsigned long long id64, hi, lo;
  int checked = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    assert_int_equal(sscanf(line, "%15s %299s %llx %llx %llx", kind, text, &id64, &hi, &lo), 5);
    check_vector_line(kind, text, id64, hi, lo);
    checked++;
  }
  fclose(f);
  assert_true(checked >= 20);
}

/* Byte-by-byte reference for the path rule of docs/grammar.md. */
static cnv_status reference_check(const char *p, size_t len) {
  if (len == 0) return CNV_EPARSE_EMPTY_PATH;
  size_t seg = 0;
  unsigned segs = 1;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (i == 255) return CNV_EPARSE_PATH_LONG;
    if (c == '.') {
      if (seg == 0) return CNV_EPARSE_PATH_SEGMENT;
      if (++segs > 8) return CNV_EPARSE_PATH_DEPTH;
      seg = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      seg++;
    } else {
      return CNV_EPARSE_PATH_CHAR;
    }
  }
  return seg ? CNV_OK : CNV_EPARSE_PATH_SEGMENT;
}

static void test_path_check_matches_reference(void **state) {
  (void)state;
  static const char alphabet[] = "abyz09_-..\x80\xff/:`{@AZ \x01";
  uint64_t rng = 42;
  char p[300];
  uint64_t iters = cnv_test_iters(200000);
  for (uint64_t it = 0; it < iters; it++) {
    size_t len = cnv_test_rand(&rng) % (it % 16 == 0 ? 290 : 40);
    bool mostly_valid = cnv_test_rand(&rng) % 2;
    for (size_t i = 0; i < len; i++) {
      uint64_t r = cnv_test_rand(&rng);
      p[i] = mostly_valid && r % 50 ? "abz09_-"[r % 7] : alphabet[r % (sizeof alphabet - 1)];
      if (mostly_valid && r % 7 == 0) p[i] = '.';
    }
    uint64_t id;
    cnv_id128 id128;
    assert_int_equal(cnv_capability_path_check(p, len, NULL), reference_check(p, len));
    assert_int_equal(cnv_capability_id(p, len, &id), reference_check(p, len));
    /* the 128-bit id always takes the portable check, whatever path dispatch chose */
    assert_int_equal(cnv_capability_id128(p, len, &id128), reference_check(p, len));
  }
}

/* Ids equal libxxhash's XXH3_64bits bit for bit at every length (the accept paths hash
 * short paths with their own copy of XXH3's short-input formulas). */
static void test_ids_match_xxh3(void **state) {
  (void)state;
  static const char seg[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
  uint64_t rng = 7;
  char p[CNV_PATH_MAX_LEN];
  for (size_t len = 1; len <= CNV_PATH_MAX_LEN; len++) {
    for (int rep = 0; rep < 64; rep++) {
      for (size_t i = 0; i < len; i++) p[i] = seg[cnv_test_rand(&rng) % (sizeof seg - 1)];
      /* odd reps: dots at a random start, then every 2 + len / 8 bytes */
      for (size_t i = 2 + cnv_test_rand(&rng) % 8; rep % 2 && i + 1 < len; i += 2 + len / 8)
        p[i] = '.';
      if (reference_check(p, len) != CNV_OK) continue;
      uint64_t id = 0;
      assert_int_equal(cnv_capability_id(p, len, &id), CNV_OK);
      assert_int_equal(id, XXH3_64bits(p, len));
    }
  }
}

static void test_path_edges(void **state) {
  (void)state;
  size_t off = 99;
  assert_int_equal(cnv_capability_path_check("a.b.c.d.e.f.g.h", 15, &off), CNV_OK);
  assert_int_equal(cnv_capability_path_check("a.b.c.d.e.f.g.h.i", 17, &off), CNV_EPARSE_PATH_DEPTH);
  assert_int_equal(off, 15);
  assert_int_equal(cnv_capability_path_check("abcdefg.", 8, &off), CNV_EPARSE_PATH_SEGMENT);
  assert_int_equal(off, 7);
  assert_int_equal(cnv_capability_path_check("abcdefg..x", 10, &off), CNV_EPARSE_PATH_SEGMENT);
  assert_int_equal(off, 8);
  assert_int_equal(cnv_capability_path_check("abcdefghi\0", 10, &off), CNV_EPARSE_PATH_CHAR);
  assert_int_equal(off, 9);
  assert_int_equal(cnv_capability_path_check(NULL, 0, &off), CNV_EPARSE_EMPTY_PATH);
  assert_int_equal(cnv_capability_path_check(NULL, 1, &off), CNV_EINVAL);
  uint64_t id;
  assert_int_equal(cnv_capability_id("a", 1, NULL), CNV_EINVAL);
  assert_int_equal(cnv_capability_id("User", 4, &id), CNV_EPARSE_PATH_CHAR);
}

static void test_versioned(void **state) {
  (void)state;
  static const struct {
    const char *text;
    cnv_status st;
  } cases[] = {
      {"user.create@1.2.3", CNV_OK},
      {"user.create@0.0.0", CNV_OK},
      {"a@65535.65535.65535", CNV_OK},
      {"user.create", CNV_EPARSE_VERSION},
      {"user.create@", CNV_EPARSE_VERSION},
      {"user.create@1.2", CNV_EPARSE_VERSION},
      {"user.create@1.2.3.4", CNV_EPARSE_VERSION},
      {"user.create@01.2.3", CNV_EPARSE_VERSION},
      {"user.create@1.2.65536", CNV_EPARSE_VERSION},
      {"user.create@1.2.x", CNV_EPARSE_VERSION},
      {"user.create@1..3", CNV_EPARSE_VERSION},
      {"user.create@+1.2.3", CNV_EPARSE_VERSION},
      {"User.create@1.2.3", CNV_EPARSE_PATH_CHAR},
      {"@1.2.3", CNV_EPARSE_EMPTY_PATH},
      {"user.@1.2.3", CNV_EPARSE_PATH_SEGMENT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint64_t id = 0;
    cnv_id128 id128;
    size_t len = strlen(cases[i].text);
    assert_int_equal(cnv_capability_id_versioned(cases[i].text, len, &id), cases[i].st);
    assert_int_equal(cnv_capability_id128_versioned(cases[i].text, len, &id128), cases[i].st);
  }
  uint64_t plain, v1, v2;
  assert_int_equal(cnv_capability_id("user.create", 11, &plain), CNV_OK);
  assert_int_equal(cnv_capability_id_versioned("user.create@1.0.0", 17, &v1), CNV_OK);
  assert_int_equal(cnv_capability_id_versioned("user.create@1.0.1", 17, &v2), CNV_OK);
  assert_true(plain != v1 && v1 != v2);
}

static void test_invocation_id_matches(void **state) {
  (void)state;
  static const char line[] = "fleet.node.drain --force n-7";
  cnv_arg args[4];
  cnv_invocation inv;
  uint64_t a = 0, b = 1;
  assert_int_equal(cnv_invocation_init(&inv, args, 4), CNV_OK);
  assert_int_equal(cnv_invocation_id(&inv, &a), CNV_EINVAL);
  assert_int_equal(cnv_parse_invocation(line, sizeof line - 1, NULL, NULL, &inv), CNV_OK);
  assert_int_equal(cnv_invocation_id(&inv, &a), CNV_OK);
  assert_int_equal(cnv_capability_id("fleet.node.drain", 16, &b), CNV_OK);
  assert_int_equal(a, b);
  assert_int_equal(cnv_invocation_id(NULL, &a), CNV_EINVAL);
  assert_int_equal(cnv_parse_invocation("user.create a -xy", 17, NULL, NULL, &inv),
                   CNV_EPARSE_SHORT_FLAG);
  assert_int_equal(cnv_invocation_id(&inv, &a), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_published_vectors),
      cmocka_unit_test(test_path_check_matches_reference),
      cmocka_unit_test(test_ids_match_xxh3),
      cmocka_unit_test(test_path_edges),
      cmocka_unit_test(test_versioned),
      cmocka_unit_test(test_invocation_id_matches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
