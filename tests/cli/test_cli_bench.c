/* cnv bench: runs cnv_bench on a short filter with JSON output and prints ours vs the peer
 * with the ratio; a missing binary and a filter that matches nothing fail with exit 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

#ifdef CNV_BENCH_PATH
static void short_filter(void **state) {
  (void)state;
  RUN("bench", "--bench-binary", CNV_BENCH_PATH, "--filter", "^pool_acquire_release/", "--min-time",
      "0.01");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "ratio"));
  assert_non_null(strstr(r.out, "pool_acquire_release"));
  assert_non_null(strstr(r.out, "malloc"));
  assert_non_null(strstr(r.out, "x\n"));
}
#endif

static void failures(void **state) {
  (void)state;
  RUN("bench", "--bench-binary", "/nonexistent/cnv_bench");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "/nonexistent/cnv_bench"));
#ifdef CNV_BENCH_PATH
  RUN("bench", "run", "--bench-binary", CNV_BENCH_PATH, "--filter", "^no_such_case$");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "no benchmark matched"));
#endif
}

/* A fake cnv_bench: a shell script that writes `json` to its --benchmark_out file and, as
 * Debian's libbenchmark does, warns on stderr that the library was built as DEBUG. */
static void fake_bench(const char *json) {
  FILE *f = fopen("fake_bench", "w");
  assert_non_null(f);
  fprintf(f,
          "#!/bin/sh\necho '***WARNING*** Library was built as DEBUG. Timings may be affected.' >&2\n"
          "echo 'other harness message' >&2\n"
          "for a; do case $a in --benchmark_out=*) printf '%%s' '%s' > \"${a#*=}\";; "
          "esac; done\n",
          json);
  fclose(f);
  assert_int_equal(chmod("fake_bench", 0755), 0);
}

static void json_reader(void **state) {
  (void)state;
  fake_bench(
      "{\"context\":{\"x\":[1,2,{\"y\":null}]},\"benchmarks\":["
      "{\"name\":\"q/cnv/real_time\",\"run_type\":\"iteration\",\"items_per_second\":3e6},"
      "{\"name\":\"q/cnv/real_time_median\",\"run_name\":\"q/cnv/real_time\","
      "\"run_type\":\"aggregate\",\"aggregate_name\":\"median\",\"items_per_second\":4e6},"
      "{\"name\":\"q/peer/real_time\",\"run_type\":\"iteration\",\"items_per_second\":2e6}]}");
  RUN("bench", "--bench-binary", "./fake_bench");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "4e+06 peer"));
  assert_non_null(strstr(r.out, "2.00x"));
  assert_null(strstr(r.err, "built as DEBUG"));
  assert_non_null(strstr(r.err, "other harness message"));
  setenv("CNV_BENCH", "./fake_bench", 1);
  RUN("bench");
  unsetenv("CNV_BENCH");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "2.00x"));
  static const char *const bad[] = {
      "{\"benchmarks\":[{\"name\":\"q/cnv\",\"items_per_second\":1}",
      "{\"benchmarks\":[{\"name\":\"q/cnv\" \"items_per_second\":1}]}",
      "{\"benchmarks\":[]} trailing",
      "{\"benchmarks\":[{\"name\":\"q/cnv\",\"items_per_second\":tru}]}",
      "{\"benchmarks\":[{\"name\":\"q/cnv\",\"items_per_second\":012}]}",
      "{\"benchmarks\":[{\"name\":\"q/cnv\",\"items_per_second\":1.}]}",
      "{\"benchmarks\":[{\"name\":\"q\\u12\"}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fake_bench(bad[i]);
    RUN("bench", "--bench-binary", "./fake_bench");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not valid JSON"));
  }
}

/* `<case>/<impl>/<size>`: impls are compared at the same size, the size shown with the case. */
static void sized_cases(void **state) {
  (void)state;
  fake_bench(
      "{\"benchmarks\":["
      "{\"name\":\"g/cnv/1000/real_time\",\"run_type\":\"iteration\",\"items_per_second\":9e6},"
      "{\"name\":\"g/peer/1000/real_time\",\"run_type\":\"iteration\",\"items_per_second\":3e6},"
      "{\"name\":\"g/cnv/100000/real_time\",\"run_type\":\"iteration\",\"items_per_second\":5e6},"
      "{\"name\":\"g/peer/100000/real_time\",\"run_type\":\"iteration\",\"items_per_second\":1e6}]}");
  RUN("bench", "--bench-binary", "./fake_bench");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "g/1000 "));
  assert_non_null(strstr(r.out, "g/100000 "));
  assert_non_null(strstr(r.out, "3.00x"));
  assert_non_null(strstr(r.out, "5.00x"));
  /* No pairing across sizes (9e6 / 1e6, 5e6 / 3e6). */
  assert_null(strstr(r.out, "9.00x"));
  assert_null(strstr(r.out, "1.67x"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#ifdef CNV_BENCH_PATH
      cmocka_unit_test(short_filter),
#endif
      cmocka_unit_test(failures),
      cmocka_unit_test(json_reader),
      cmocka_unit_test(sized_cases),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
