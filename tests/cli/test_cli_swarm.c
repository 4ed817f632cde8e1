/* cnv swarm run: --json report parsed (counts consistent: accepted = executed, denials add
 * up), --metrics passes `promtool check metrics` (lint included), no progress line
 * when stdout is not a terminal, bad options exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

/* The unsigned number after "\"key\":" at or after `from` in the JSON text. */
static uint64_t json_u64(const char *from, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(from, pat);
  assert_non_null(p);
  p += strlen(pat);
  while (*p == ' ') p++;
  char *end = NULL;
  unsigned long long v = strtoull(p, &end, 10);
  assert_true(end > p);
  return v;
}

static void json_report(void **state) {
  (void)state;
  RUN("swarm", "run", "--count=20000", "--seed", "3", "--agents", "16", "--workers=2",
      "--json", "--metrics=my run.prom");
  assert_int_equal(r.status, 0);
  size_t n = strlen(r.out);
  assert_true(n > 2 && r.out[0] == '{' && r.out[n - 2] == '}' && r.out[n - 1] == '\n');
  assert_null(strchr(r.out, '\r'));
  const char *counts = strstr(r.out, "\"counts\"");
  assert_non_null(counts);
  uint64_t submitted = json_u64(counts, "submitted"), accepted = json_u64(counts, "accepted");
  uint64_t executed = json_u64(counts, "executed"), full = json_u64(counts, "full");
  uint64_t denied = json_u64(counts, "denied_total");
  assert_int_equal(accepted, executed);
  assert_int_equal(submitted, accepted + denied + full);
  assert_true(denied > 0 && accepted > 0);
  assert_non_null(strstr(r.out, "\"timeline\""));
  assert_non_null(strstr(r.out, "\"variety\""));
  assert_non_null(strstr(r.out, "\"expired\""));
  assert_non_null(strstr(r.out, "\"revoked\""));
}

static void metrics_pass_promtool(void **state) {
  (void)state;
  /* promtool (required, installed by scripts/deps) exits 1 on a malformed exposition and 3
   * on lint findings: both fail. */
  int rc = system("promtool check metrics < 'my run.prom' > promtool.log 2>&1");
  assert_true(WIFEXITED(rc));
  assert_int_equal(WEXITSTATUS(rc), 0);
}

static void text_report(void **state) {
  (void)state;
  RUN("swarm", "run", "--count", "5000", "--seed", "1");
  assert_int_equal(r.status, 0);
  assert_null(strchr(r.out, '\r'));
  assert_non_null(strstr(r.out, "p99"));
  RUN("swarm", "run", "--workers", "many");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--workers"));
  RUN("swarm", "run", "--json=yes");
  assert_int_equal(r.status, 2);
  RUN("swarm", "run", "--metrics", "/nonexistent/dir/m.prom", "--count", "1000");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "/nonexistent/dir/m.prom"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_report),
      cmocka_unit_test(metrics_pass_promtool),
      cmocka_unit_test(text_report),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
