/* Status codes: every code has a distinct name and a message, unknown codes get a generic
 * message, codes are unique and negative except CNV_OK. The version string is the generated
 * header's, as CMake's project() wrote it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/status.h>

static const int all_codes[] = {
#define CNV_T_CODE_(name, value, message) value,
    CNV_STATUS_MAP(CNV_T_CODE_)
#undef CNV_T_CODE_
};
#define N_CODES (sizeof all_codes / sizeof all_codes[0])

static void test_every_code_has_message_and_name(void **state) {
  (void)state;
  const char *generic = cnv_strerror(-99999);
  for (size_t i = 0; i < N_CODES; i++) {
    const char *msg = cnv_strerror(all_codes[i]);
    const char *name = cnv_status_name(all_codes[i]);
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    assert_string_not_equal(msg, generic);
    assert_int_equal(strncmp(name, "CNV_", 4), 0);
    assert_string_not_equal(name, "CNV_UNKNOWN");
  }
}

static void test_codes_unique_and_negative(void **state) {
  (void)state;
  for (size_t i = 0; i < N_CODES; i++) {
    if (all_codes[i] != CNV_OK) assert_true(all_codes[i] < 0);
    for (size_t j = i + 1; j < N_CODES; j++) {
      assert_int_not_equal(all_codes[i], all_codes[j]);
      assert_string_not_equal(cnv_status_name(all_codes[i]), cnv_status_name(all_codes[j]));
    }
  }
}

static void test_unknown_code_is_generic_never_null(void **state) {
  (void)state;
  const int unknown[] = {1, 42, -98, -99999, INT32_MIN, INT32_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_string_equal(cnv_strerror(unknown[i]), "unknown status code");
    assert_string_equal(cnv_status_name(unknown[i]), "CNV_UNKNOWN");
  }
  assert_string_equal(cnv_status_name(CNV_EFULL), "CNV_EFULL");
  assert_int_equal(CNV_OK, 0);
}

static void test_version_matches_generated_header(void **state) {
  (void)state;
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", CNV_VERSION_MAJOR, CNV_VERSION_MINOR, CNV_VERSION_PATCH);
  assert_string_equal(cnv_version(), expect);
  assert_string_equal(CNV_VERSION_STRING, expect);
  assert_string_equal(cnv_version(), CNV_TEST_PROJECT_VERSION);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_code_has_message_and_name),
      cmocka_unit_test(test_codes_unique_and_negative),
      cmocka_unit_test(test_unknown_code_is_generic_never_null),
      cmocka_unit_test(test_version_matches_generated_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
