/* Tool names: paths map to names clients accept and back; no two paths share a name (an
 * exhaustive check over a small alphabet); the reverse refuses every name it does not write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/mcp.h>

static void name_of(const char *path, const char *want) {
  char out[CNV_MCP_TOOL_NAME_MAX + 1];
  size_t len = 0;
  assert_int_equal(cnv_mcp_tool_name(path, strlen(path), out, sizeof out, &len), CNV_OK);
  assert_string_equal(out, want);
  assert_int_equal(len, strlen(want));
  char back[256];
  size_t back_len = 0;
  assert_int_equal(cnv_mcp_tool_path(out, len, back, sizeof back, &back_len), CNV_OK);
  assert_string_equal(back, path);
  assert_int_equal(back_len, strlen(path));
}

static void test_examples(void **state) {
  (void)state;
  name_of("echo", "echo");
  name_of("t.echo", "t_echo");
  name_of("fs.read_file", "fs_read_Ufile");
  name_of("a._b", "a__Ub");
  name_of("a-b.c-d", "a-b_c-d");
  name_of("x.y.z.w", "x_y_z_w");
  name_of("_", "_U");
  name_of("a_.b", "a_U_b");
  /* every name matches ^[a-zA-Z0-9_-]{1,64}$ */
  char out[CNV_MCP_TOOL_NAME_MAX + 1];
  assert_int_equal(cnv_mcp_tool_name("a.b", 3, out, sizeof out, NULL), CNV_OK);
  assert_string_equal(out, "a_b");
}

static void test_errors(void **state) {
  (void)state;
  char out[CNV_MCP_TOOL_NAME_MAX + 1];
  size_t len = 0;
  assert_int_equal(cnv_mcp_tool_name(NULL, 0, out, sizeof out, &len), CNV_EINVAL);
  assert_int_equal(cnv_mcp_tool_name("a", 1, NULL, 0, &len), CNV_EINVAL);
  assert_int_equal(cnv_mcp_tool_name("", 0, out, sizeof out, &len), CNV_EPARSE_EMPTY_PATH);
  assert_int_equal(cnv_mcp_tool_name("a..b", 4, out, sizeof out, &len), CNV_EPARSE_PATH_SEGMENT);
  assert_int_equal(cnv_mcp_tool_name("A", 1, out, sizeof out, &len), CNV_EPARSE_PATH_CHAR);
  /* 64 bytes fit, 65 do not; each '_' counts twice */
  char p[80];
  memset(p, 'a', sizeof p);
  assert_int_equal(cnv_mcp_tool_name(p, 64, out, sizeof out, &len), CNV_OK);
  assert_int_equal(len, 64);
  assert_int_equal(cnv_mcp_tool_name(p, 65, out, sizeof out, &len), CNV_ERANGE);
  p[0] = '_';
  assert_int_equal(cnv_mcp_tool_name(p, 64, out, sizeof out, &len), CNV_ERANGE);
  assert_int_equal(cnv_mcp_tool_name(p, 63, out, sizeof out, &len), CNV_OK);
  assert_int_equal(len, 64);
  /* too small an output: nothing written */
  char small[4] = "zzz";
  assert_int_equal(cnv_mcp_tool_name("abcd", 4, small, sizeof small, &len), CNV_EFULL);
  assert_string_equal(small, "zzz");
  assert_int_equal(cnv_mcp_tool_path("abcd", 4, small, sizeof small, &len), CNV_EFULL);

  /* the reverse refuses what the forward never writes */
  static const char *const bad[] = {"", "_a", "a_", "a__b", "A", "aU", "a_Ux_U_", "a b",
                                    "a.b", "_", "__U", "Ua", "a_UU", "é", "a\x01", "_U_",
                                    "a_V", "a__", "-_", "a\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = strlen(bad[i]);
    char path[256];
    cnv_status st = cnv_mcp_tool_path(bad[i], n, path, sizeof path, &len);
    if (st == CNV_OK) fail_msg("name '%s' (#%zu) was accepted as '%s'", bad[i], i, path);
    assert_int_equal(st, CNV_ENOTFOUND);
  }
  char path[256];
  assert_int_equal(cnv_mcp_tool_path("a\0b", 3, path, sizeof path, &len), CNV_ENOTFOUND); /* the NUL counts */
  assert_int_equal(cnv_mcp_tool_path(NULL, 1, path, sizeof path, &len), CNV_EINVAL);
  memset(p, 'a', sizeof p);
  assert_int_equal(cnv_mcp_tool_path(p, 65, path, sizeof path, &len), CNV_ENOTFOUND);
}

/* The bytes all_strings writes for alphabet and max_len (every string and its NUL). */
static size_t all_strings_size(const char *alphabet, size_t max_len) {
  size_t cap = 0, k = strlen(alphabet), total = 1;
  for (size_t len = 1; len <= max_len; len++) {
    total *= k;
    cap += total * (len + 1);
  }
  return cap;
}

/* Every string over alphabet up to max_len, one after another in buf (NUL-separated). */
static size_t all_strings(const char *alphabet, size_t max_len, char *buf, size_t *count) {
  size_t k = strlen(alphabet);
  size_t used = 0;
  *count = 0;
  for (size_t len = 1; len <= max_len; len++) {
    size_t total = 1;
    for (size_t i = 0; i < len; i++) total *= k;
    for (size_t code = 0; code < total; code++) {
      size_t c = code;
      for (size_t i = 0; i < len; i++) {
        buf[used + i] = alphabet[c % k];
        c /= k;
      }
      buf[used + len] = '\0';
      used += len + 1;
      (*count)++;
    }
  }
  return used;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every valid path over "a0_.-" up to 5 bytes: a name that round-trips, and no two paths
 * with one name. */
static void test_exhaustive_paths_distinct(void **state) {
  (void)state;
  const char *alphabet = "a0_.-";
  size_t cap = all_strings_size(alphabet, 5);
  char *buf = malloc(cap);
  char *names = malloc(cap * 2 + 1);
  char **sorted = malloc(sizeof(char *) * cap);
  assert_non_null(buf);
  assert_non_null(names);
  assert_non_null(sorted);
  size_t count = 0;
  size_t used = all_strings(alphabet, 5, buf, &count);
  size_t n_valid = 0, names_used = 0;
  for (size_t off = 0; off < used;) {
    const char *path = buf + off;
    size_t len = strlen(path);
    off += len + 1;
    if (cnv_capability_path_check(path, len, NULL) != CNV_OK) continue;
    char *name = names + names_used;
    size_t name_len = 0;
    assert_int_equal(cnv_mcp_tool_name(path, len, name, CNV_MCP_TOOL_NAME_MAX + 1, &name_len), CNV_OK);
    for (size_t i = 0; i < name_len; i++) {
      char c = name[i];
      assert_true((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-');
    }
    char back[16];
    size_t back_len = 0;
    assert_int_equal(cnv_mcp_tool_path(name, name_len, back, sizeof back, &back_len), CNV_OK);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, path, len);
    sorted[n_valid++] = name;
    names_used += name_len + 1;
  }
  assert_true(n_valid > 1000);
  qsort(sorted, n_valid, sizeof sorted[0], cmp_str);
  for (size_t i = 1; i < n_valid; i++) {
    if (strcmp(sorted[i - 1], sorted[i]) == 0) fail_msg("two paths share the name '%s'", sorted[i]);
  }
  free(sorted);
  free(names);
  free(buf);
}

/* Every string over "aU_-A." up to 5 bytes taken as a name: either refused, or its path
 * gives back exactly that name (the reverse accepts only canonical names). */
static void test_exhaustive_names_canonical(void **state) {
  (void)state;
  const char *alphabet = "aU_-A.";
  size_t cap = all_strings_size(alphabet, 5);
  char *buf = malloc(cap);
  assert_non_null(buf);
  size_t count = 0;
  size_t used = all_strings(alphabet, 5, buf, &count);
  size_t accepted = 0;
  for (size_t off = 0; off < used;) {
    const char *name = buf + off;
    size_t len = strlen(name);
    off += len + 1;
    char path[16];
    size_t path_len = 0;
    cnv_status st = cnv_mcp_tool_path(name, len, path, sizeof path, &path_len);
    if (st != CNV_OK) {
      assert_int_equal(st, CNV_ENOTFOUND);
      continue;
    }
    accepted++;
    char again[CNV_MCP_TOOL_NAME_MAX + 1];
    size_t again_len = 0;
    assert_int_equal(cnv_mcp_tool_name(path, path_len, again, sizeof again, &again_len), CNV_OK);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, name, len);
  }
  assert_true(accepted > 100);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_examples),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_exhaustive_paths_distinct),
      cmocka_unit_test(test_exhaustive_names_canonical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
