/* cnv tool: --help exits 0 at every level; unknown commands and bad flags exit 2 with a
 * message on stderr; the command line goes through the library's own parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

static void help_everywhere(void **state) {
  (void)state;
  static const char *const levels[][4] = {
      {"--help", NULL, NULL},          {"token", "--help", NULL},
      {"token", "keygen", "--help"},   {"token", "mint", "--help"},
      {"token", "attenuate", "--help"}, {"token", "inspect", "--help"},
      {"token", "verify", "--help"},   {"token", "revoke", "--help"},
      {"bench", "--help", NULL},       {"bench", "run", "--help"},
#ifdef CNV_CLI_TEST_SWARM
      {"swarm", "--help", NULL},       {"swarm", "run", "--help"},
#endif
  };
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
    cli_run(&r, levels[i]);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: cnv"));
    assert_string_equal(r.err, "");
  }
  RUN("token", "mint", "--help");
  assert_non_null(strstr(r.out, "--audience"));
}

static void unknown_commands(void **state) {
  (void)state;
  RUN("frobnicate");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unknown command: frobnicate"));
  RUN("token", "forge");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unknown command: token forge"));
  RUN("token", "keygen", "--out", "k", "--colour", "red");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unknown option: --colour"));
  RUN("token", "keygen", "--out", "k", "stray");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unexpected argument: stray"));
  RUN("token", "keygen");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--out is required"));
}

static void no_arguments_is_usage(void **state) {
  (void)state;
  const char *const none[] = {NULL};
  cli_run(&r, none);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "usage: cnv"));
  RUN("token");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "keygen"));
}

static void parser_errors(void **state) {
  (void)state;
  RUN("token", "mint", "--out", "it's \"quoted\"");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "both quote kinds"));
  RUN("token", "inspect", "--token=");
  assert_int_equal(r.status, 1);
  RUN("token", "revoke", "--token", "t", "--revoked", "r", "--link", "x9");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--link"));
  RUN("token", "verify", "--token", "t", "--trust", "r", "--holder", "h", "--cap", "Bad.Path");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "bad capability path"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(help_everywhere),
      cmocka_unit_test(unknown_commands),
      cmocka_unit_test(no_arguments_is_usage),
      cmocka_unit_test(parser_errors),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
