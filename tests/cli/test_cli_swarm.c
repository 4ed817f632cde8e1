/* cnv swarm run: --json report parsed (counts consistent: accepted = executed, denials add
 * up, every failure and denial one the scenario causes on purpose), --metrics passes
 * `promtool check metrics` (lint included), the text report's readable units and labels, no
 * progress line when stdout is not a terminal, bad options exit 2. (SIGINT: test_cli_exit.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
  assert_true(r.out == strstr(r.out, "{\"end\":\"complete\","));
  /* the scenario causes every failure and denial on purpose: none is unexpected */
  const char *expected = strstr(r.out, "\"expected\":{");
  const char *unexpected = strstr(r.out, "\"unexpected\":{");
  assert_non_null(expected);
  assert_non_null(unexpected);
  uint64_t failed = json_u64(counts, "failed");
  assert_true(failed > 0);
  assert_int_equal(json_u64(expected, "failed"), failed);
  assert_int_equal(json_u64(expected, "denied"), denied);
  assert_int_equal(json_u64(unexpected, "failed"), 0);
  assert_int_equal(json_u64(unexpected, "denied"), 0);
  assert_non_null(strstr(r.out, "\"latency_ns\":{\"p50\":"));
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

/* The text after `key` on the line that holds it, up to the line's end (into buf). */
static const char *line_after(const char *key, char *buf, size_t cap) {
  const char *p = strstr(r.out, key);
  if (!p) fail_msg("no \"%s\" in: %s", key, r.out);
  p += strlen(key);
  size_t n = strcspn(p, "\n");
  assert_true(n < cap);
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

/* A duration as the text report writes it: 1 to 3 significant digits and a unit. */
static void assert_duration(const char *text) {
  char unit[8];
  double v = 0;
  if (sscanf(text, "%lf %7[^, ]", &v, unit) != 2) fail_msg("not a duration: %s", text);
  bool known = !strcmp(unit, "ns") || !strcmp(unit, "µs") || !strcmp(unit, "ms") ||
               !strcmp(unit, "s");
  if (!known || v < 0 || v >= 1000) fail_msg("not a readable duration: %s", text);
}

static void text_report(void **state) {
  (void)state;
  char buf[256];
  RUN("swarm", "run", "--count", "5000", "--seed", "1");
  assert_int_equal(r.status, 0);
  assert_null(strchr(r.out, '\r'));
  assert_null(strstr(r.out, "interrupted"));
  assert_duration(line_after("latency: p50 ", buf, sizeof buf));
  assert_duration(line_after(", p99 ", buf, sizeof buf));
  assert_duration(line_after(", p99.9 ", buf, sizeof buf));
  assert_duration(line_after(" workers, ", buf, sizeof buf));
  /* failures and denials say that the scenario causes them, and that none is unexpected */
  assert_non_null(strstr(line_after("\nfailed ", buf, sizeof buf),
                         ": expected (scenario: the injected failure burst) "));
  assert_non_null(strstr(buf, ", unexpected 0"));
  assert_non_null(strstr(line_after("\ndenied ", buf, sizeof buf), ": expected (scenario: "));
  assert_non_null(strstr(buf, ", unexpected 0"));
  assert_non_null(strstr(line_after("\n  expired ", buf, sizeof buf),
                         " 0  agents given expired tokens"));
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
