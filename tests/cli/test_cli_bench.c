/* cnv bench: runs cnv_bench on a short filter with JSON output and prints ours vs the peer
 * with the ratio; a missing binary and a filter that matches nothing fail with exit 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

static void short_filter(void **state) {
  (void)state;
  if (CNV_BENCH_PATH[0] == '\0') skip();
  RUN("bench", "--bench-binary", CNV_BENCH_PATH, "--filter", "^pool_acquire_release/", "--min-time",
      "0.01");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "ratio"));
  assert_non_null(strstr(r.out, "pool_acquire_release"));
  assert_non_null(strstr(r.out, "malloc"));
  assert_non_null(strstr(r.out, "x\n"));
}

static void failures(void **state) {
  (void)state;
  RUN("bench", "--bench-binary", "/nonexistent/cnv_bench");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "/nonexistent/cnv_bench"));
  if (CNV_BENCH_PATH[0] == '\0') return;
  RUN("bench", "run", "--bench-binary", CNV_BENCH_PATH, "--filter", "^no_such_case$");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "no benchmark matched"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(short_filter),
      cmocka_unit_test(failures),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
