/* cnv swarm run: --json report parsed (counts consistent: denials add up, every failure and
 * denial one the scenario causes on purpose; every completion kind and duration class has its
 * key, the completions by kind add up to accepted, the callbacks heard to the callbacks asked
 * for), --metrics passes `promtool check metrics` (lint included) and has completions by kind
 * and overruns by class, the text report's readable units and labels and its completion and
 * overrun lines, no progress line when stdout is not a terminal, bad options exit 2.
 * (SIGINT: test_cli_exit.) */
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

static const char *const kinds[] = {"ran", "expired", "cancelled", "not_run"};
static const char *const classes[] = {"fast_path", "interactive", "user_initiated", "batch",
                                      "long_running"};
#define N_KINDS (sizeof kinds / sizeof kinds[0])
#define N_CLASSES (sizeof classes / sizeof classes[0])

/* The JSON object that follows "\"key\":" (from its '{' to the matching '}') into buf. */
static const char *json_object(const char *from, const char *key, char *buf, size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":{", key);
  const char *p = strstr(from, pat);
  if (!p) fail_msg("no %s in: %s", pat, from);
  p += strlen(pat) - 1;
  size_t n = 0;
  for (int depth = 0; n == 0 || depth > 0; n++) {
    assert_true(p[n] != '\0' && n + 1 < cap);
    depth += p[n] == '{' ? 1 : p[n] == '}' ? -1
                                           : 0;
  }
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

/* The sum of the kinds in a {"ran":n,...} object; each kind must be there, and no other key. */
static uint64_t kinds_sum(const char *obj) {
  uint64_t sum = 0;
  for (size_t k = 0; k < N_KINDS; k++) sum += json_u64(obj, kinds[k]);
  size_t keys = 0;
  for (const char *p = obj; (p = strchr(p, ':')) != NULL; p++) keys++;
  assert_int_equal(keys, N_KINDS);
  return sum;
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
  uint64_t denied = json_u64(counts, "denied_total"), invalid = json_u64(counts, "invalid");
  assert_true(executed <= accepted);
  assert_int_equal(invalid, 0);
  assert_int_equal(submitted, accepted + denied + full + invalid);
  /* exactly once: every accepted invocation completed with one kind; every callback asked
   * for was heard; the scenario's lines give ran, expired and cancelled */
  char obj[1024];
  const char *completions = json_object(r.out, "completions", obj, sizeof obj);
  assert_int_equal(kinds_sum(completions), accepted);
  assert_true(json_u64(completions, "ran") > 0);
  assert_true(json_u64(completions, "expired") > 0);
  assert_true(json_u64(completions, "cancelled") > 0);
  const char *callbacks = json_object(r.out, "callbacks", obj, sizeof obj);
  uint64_t asked = json_u64(callbacks, "accepted");
  assert_true(asked > 0);
  assert_int_equal(json_u64(callbacks, "results_mismatched"), 0);
  char heard[256];
  assert_int_equal(kinds_sum(json_object(callbacks, "heard", heard, sizeof heard)), asked);
  const char *overruns = json_object(r.out, "overruns", obj, sizeof obj);
  for (size_t c = 0; c < N_CLASSES; c++) {
    char cls[256];
    json_object(overruns, classes[c], cls, sizeof cls);
    uint64_t target = json_u64(cls, "target"), deadline = json_u64(cls, "deadline");
    /* the scenario's net.probe runs work past fast_path's target (or, on a loaded machine, a
     * probe expires in the queue past the class's 1 ms limit: a deadline overrun); its late
     * data.query runs past its (interactive) deadline */
    if (c == 0) assert_true(target + deadline > 0);
    if (c == 1) assert_true(deadline > 0);
  }
  assert_true(json_u64(r.out, "cancels") > 0);
  assert_int_equal(json_u64(r.out, "stuck_workers"), 0);
  assert_true(denied > 0 && accepted > 0);
  assert_true(r.out == strstr(r.out, "{\"end\":\"complete\","));
  /* the scenario causes every failure and denial on purpose: none is unexpected */
  const char *expected = strstr(r.out, "\"expected\":{");
  const char *unexpected = strstr(r.out, "\"unexpected\":{");
  assert_non_null(expected);
  assert_non_null(unexpected);
  uint64_t failed = json_u64(counts, "failed");
  assert_true(failed > 0);
  const char *late = strstr(r.out, "\"late\":{");
  assert_non_null(late);
  assert_true(json_u64(late, "failed") >= 1); /* the late data.query line */
  assert_int_equal(json_u64(expected, "failed") + json_u64(late, "failed"), failed);
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
  /* the metrics have completions by kind and overruns by class and bound */
  static char text[262144];
  assert_true(cli_slurp("my run.prom", text, sizeof text));
  for (size_t k = 0; k < N_KINDS; k++) {
    char want[96];
    snprintf(want, sizeof want, "\ncnv_rt_completions_total{kind=\"%s\"} ", kinds[k]);
    if (!strstr(text, want)) fail_msg("no %s in the metrics", want);
  }
  for (size_t c = 0; c < N_CLASSES; c++) {
    for (int b = 0; b < 2; b++) {
      char want[128];
      snprintf(want, sizeof want, "\ncnv_rt_overruns_total{class=\"%s\",bound=\"%s\"} ",
               classes[c], b ? "deadline" : "target");
      if (!strstr(text, want)) fail_msg("no %s in the metrics", want);
    }
  }
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
  assert_non_null(strstr(line_after("\n  rate ", buf, sizeof buf), " 0  the rate-limited agent"));
  /* completions: every kind, adding up to accepted */
  unsigned long long sum = 0, accepted = 0, n[N_KINDS];
  line_after("\ncompletions ", buf, sizeof buf);
  if (sscanf(buf, "%llu (accepted %llu): ran %llu, expired %llu, cancelled %llu, not_run %llu", &sum,
             &accepted, &n[0], &n[1], &n[2], &n[3]) != 6)
    fail_msg("completions line: %s", buf);
  assert_int_equal(sum, accepted);
  assert_int_equal(n[0] + n[1] + n[2] + n[3], accepted);
  assert_true(n[0] > 0 && n[1] > 0 && n[2] > 0);
  /* overruns: one row per class, with the class's target and limit */
  assert_non_null(strstr(r.out, "\noverruns by class "));
  for (size_t c = 0; c < N_CLASSES; c++) {
    char key[64];
    snprintf(key, sizeof key, "\n  %s ", classes[c]);
    line_after(key, buf, sizeof buf);
    unsigned long long target = 0, deadline = 0;
    if (sscanf(buf, "%llu %llu", &target, &deadline) != 2) fail_msg("overrun row: %s", buf);
  }
  assert_non_null(strstr(line_after("\n  fast_path ", buf, sizeof buf), "100 µs / 1.00 ms"));
  assert_non_null(strstr(line_after("\n  interactive ", buf, sizeof buf), "100 ms / 500 ms"));
  assert_non_null(strstr(r.out, "\nstop: 0 workers left inside a handler\n"));
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
