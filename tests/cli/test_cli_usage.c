/* cnv tool: --help exits 0 at every level; unknown commands and bad flags exit 2 with a
 * message on stderr; argv is read as argv (blanks, quotes, newlines and '=' inside one
 * argument reach the command unchanged; --name value and --name=value are the same). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

static void help_everywhere(void **state) {
  (void)state;
  static const char *const levels[][4] = {
      {"--help", NULL, NULL},
      {"token", "--help", NULL},
      {"token", "keygen", "--help"},
      {"token", "mint", "--help"},
      {"token", "attenuate", "--help"},
      {"token", "inspect", "--help"},
      {"token", "verify", "--help"},
      {"token", "revoke", "--help"},
      {"bench", "--help", NULL},
      {"bench", "run", "--help"},
#ifdef CNV_CLI_TEST_SWARM
      {"swarm", "--help", NULL},
      {"swarm", "run", "--help"},
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

static void exists(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) fail_msg("missing: %s", path);
}

/* Each argv element is one argument, whatever it holds. */
static void argv_is_argv(void **state) {
  (void)state;
  static const char *const names[] = {"my key", "it's \"quoted\"", "line\nbreak", "a=b", "tab\there"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char eq[64], pub[64];
    RUN("token", "keygen", "--out", names[i]);
    assert_int_equal(r.status, 0);
    snprintf(pub, sizeof pub, "%s.pub", names[i]);
    exists(pub);
    snprintf(eq, sizeof eq, "--out=%s 2", names[i]);
    RUN("token", "keygen", eq);
    assert_int_equal(r.status, 0);
    snprintf(pub, sizeof pub, "%s 2.key", names[i]);
    exists(pub);
  }
  RUN("token", "mint", "--key=my key.key", "--audience", "a=b.pub", "--allow=fs.*", "--out",
      "it's \"quoted\".tok");
  assert_int_equal(r.status, 0);
  RUN("token", "inspect", "--token=it's \"quoted\".tok");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "1 link(s)"));
  RUN("token", "keygen", "--out", "-dash");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--out needs a value"));
  RUN("token", "keygen", "--out=-dash");
  assert_int_equal(r.status, 0);
  exists("-dash.pub");
  RUN("token", "keygen", "--out", "k", "-o");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unknown option: -o"));
  RUN("token", "keygen", "--out", "x", "--", "--out");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unexpected argument: --out"));
  RUN("token", "keygen", "--=x");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "bad option: --=x"));
}

static void parser_errors(void **state) {
  (void)state;
  RUN("token", "inspect", "--token=");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--token: empty value"));
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
      cmocka_unit_test(argv_is_argv),
      cmocka_unit_test(parser_errors),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
