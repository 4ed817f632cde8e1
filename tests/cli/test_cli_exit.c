/* cnv tool, issue 12: keygen refuses to overwrite a key pair (unless --force) and never
 * leaves half a pair; output lost on a full disk is exit 1 with the reason; SIGINT stops a
 * swarm run (mid-run, mid-setup, twice) with exit 130, the partial report printed and no file
 * under the requested name; every exit code of
 * docs/cli.md's table, each from the case the table names; errors name the flag and its real
 * limits, and system failures carry the system's reason. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_TO(path, ...) cli_run_to(&r, path, (const char *const[]){__VA_ARGS__, NULL})
#define EXPECT(code, text) CLI_EXPECT(&r, code, text)

static void slurp(const char *path, char *buf, size_t cap) { assert_true(cli_slurp(path, buf, cap)); }

static void keygen_refuses_overwrite(void **state) {
  (void)state;
  char before[256], after[256];
  RUN("token", "keygen", "--out", "root");
  assert_int_equal(r.status, 0);
  slurp("root.key", before, sizeof before);
  RUN("token", "keygen", "--out", "root");
  EXPECT(1, "root.key: exists; refusing to overwrite");
  assert_non_null(strstr(r.err, "--force"));
  slurp("root.key", after, sizeof after);
  assert_string_equal(before, after);
  RUN("token", "keygen", "--out", "root", "--force");
  assert_int_equal(r.status, 0);
  slurp("root.key", after, sizeof after);
  assert_string_not_equal(before, after);
  struct stat st;
  assert_int_equal(stat("root.key", &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* Only the public half exists: refused, and no secret half is written beside it. */
  FILE *f = fopen("half.pub", "w");
  assert_non_null(f);
  fclose(f);
  RUN("token", "keygen", "--out", "half");
  EXPECT(1, "half.pub: exists; refusing");
  assert_false(cli_exists("half.key"));
  /* --force never replaces a folder (its rename would fail after the other half's). */
  assert_int_equal(mkdir("dir.pub", 0755), 0);
  RUN("token", "keygen", "--out", "dir", "--force");
  EXPECT(1, "dir.pub: exists and is not a regular file");
  assert_false(cli_exists("dir.key"));
  /* A folder that cannot be written: nothing at all is left. */
  assert_int_equal(mkdir("ro", 0555), 0);
  if (access("ro", W_OK) != 0) {
    RUN("token", "keygen", "--out", "ro/k");
    EXPECT(1, "Permission denied");
    assert_false(cli_exists("ro/k.key"));
    assert_false(cli_exists("ro/k.pub"));
  }
  RUN("token", "keygen", "--out", "root", "--force=yes");
  EXPECT(2, "--force takes no value");
  CLI_NO_TEMPORARIES();
}

static void full_disk(void **state) {
  (void)state;
  RUN_TO("/dev/full", "--help");
  EXPECT(1, "cannot write to standard output: No space left on device");
  RUN_TO("/dev/full", "token", "mint", "--help");
  EXPECT(1, "No space left on device");
  RUN("token", "keygen", "--out", "full");
  RUN("token", "mint", "--key", "full.key", "--audience", "full.pub", "--out", "full.tok");
  assert_int_equal(r.status, 0);
  RUN_TO("/dev/full", "token", "inspect", "--token", "full.tok");
  EXPECT(1, "No space left on device");
#ifdef CNV_CLI_TEST_SWARM
  RUN_TO("/dev/full", "swarm", "run", "--count", "1000", "--agents", "10");
  EXPECT(1, "No space left on device");
  RUN_TO("/dev/full", "swarm", "run", "--count", "1000", "--agents", "10", "--json");
  EXPECT(1, "No space left on device");
#endif
}

#ifdef CNV_CLI_TEST_SWARM
/* Waits (up to 10 s) until process pid catches SIGINT, so that the signal sent next reaches
 * the tool's handler instead of killing the process before it has installed one. */
static void wait_catching_sigint(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  for (int i = 0; i < 1000; i++) {
    unsigned long long caught = 0;
    char line[256];
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
      if (sscanf(line, "SigCgt: %llx", &caught) == 1) break;
    }
    if (f) fclose(f);
    if (caught & (1ull << (SIGINT - 1))) return;
    struct timespec t = {0, 10 * 1000 * 1000};
    nanosleep(&t, NULL);
  }
  fail_msg("the tool never caught SIGINT");
}

/* Starts `swarm run ARGS --metrics m.prom`, waits until it catches SIGINT and then `ms`
 * more, sends SIGINT `times` times and waits for the exit. */
static void interrupt_run(const char *const *args, long ms, int times) {
  const char *argv[16] = {"swarm", "run"};
  size_t n = 2;
  for (; *args; args++) argv[n++] = *args;
  argv[n++] = "--metrics";
  argv[n++] = "m.prom";
  argv[n] = NULL;
  pid_t pid = cli_start(".out", argv);
  wait_catching_sigint(pid);
  struct timespec t = {ms / 1000, (ms % 1000) * 1000 * 1000};
  nanosleep(&t, NULL);
  for (int i = 0; i < times; i++) assert_int_equal(kill(pid, SIGINT), 0);
  cli_wait(&r, pid, ".out");
}

static void sigint_mid_run(void **state) {
  (void)state;
  /* 16 agents are set up in milliseconds: a second later the run is under way */
  interrupt_run((const char *const[]){"--duration", "60", "--agents", "16", NULL}, 1000, 1);
  EXPECT(130, "interrupted; the report is partial, no metrics file written");
  if (!strstr(r.out, "(interrupted: partial report)")) fail_msg("stdout: %s", r.out);
  assert_non_null(strstr(r.out, "latency: p50 "));
  assert_non_null(strstr(r.out, "phase timeline"));
  assert_false(cli_exists("m.prom"));
  CLI_NO_TEMPORARIES();
}

static void sigint_mid_setup(void **state) {
  (void)state;
  /* 200000 agents take seconds to set up (each gets a signed token) */
  interrupt_run((const char *const[]){"--agents", "200000", "--json", NULL}, 200, 1);
  EXPECT(130, "interrupted; stopped while setting up the agents, no metrics file written");
  if (!strstr(r.out, "{\"end\":\"cancelled_in_setup\",")) fail_msg("stdout: %s", r.out);
  assert_non_null(strstr(r.out, "\"submitted\":0,"));
  assert_false(cli_exists("m.prom"));
  CLI_NO_TEMPORARIES();
}

static void sigint_twice(void **state) {
  (void)state;
  /* the second SIGINT quits at once, or the first has already ended the run: either way */
  interrupt_run((const char *const[]){"--duration", "60", "--agents", "16", NULL}, 500, 2);
  EXPECT(130, "interrupted");
  assert_false(cli_exists("m.prom"));
  CLI_NO_TEMPORARIES();
}
#endif

/* One case per row of the exit-code table in docs/cli.md. */
static void exit_code_table(void **state) {
  (void)state;
  RUN("token", "--help");
  assert_int_equal(r.status, 0);
  /* 1: a file that cannot be read, with the system's reason */
  RUN("token", "inspect", "--token", "missing.tok");
  EXPECT(1, "missing.tok: No such file or directory");
  assert_int_equal(mkdir("adir", 0755), 0);
  RUN("token", "inspect", "--token", "adir");
  EXPECT(1, "adir: Is a directory");
  /* 1: a file's content, whichever flag names it (--holder like --trust) */
  RUN("token", "keygen", "--out", "x");
  RUN("token", "mint", "--key", "x.key", "--audience", "x.pub", "--out", "x.tok");
  RUN("token", "verify", "--token", "x.tok", "--trust", "x.pub", "--holder", "x.key");
  EXPECT(1, "x.key: not a public key file");
  RUN("token", "verify", "--token", "x.tok", "--trust", "x.key", "--holder", "x.pub");
  EXPECT(1, "x.key: not a public key file");
  /* 1: a refused token */
  RUN("token", "verify", "--token", "x.tok", "--trust", "x.pub", "--holder", "x.pub", "--now", "0",
      "--swarm", "3");
  assert_int_equal(r.status, 0);
  RUN("token", "keygen", "--out", "y");
  RUN("token", "verify", "--token", "x.tok", "--trust", "y.pub", "--holder", "x.pub");
  EXPECT(1, "CNV_EDELEG_UNTRUSTED_ROOT");
  /* 1: a failed write or append, with the system's reason */
  RUN("token", "revoke", "--token", "x.tok", "--revoked", "adir");
  EXPECT(1, "adir: cannot append the revocation: Is a directory");
  RUN("token", "mint", "--key", "x.key", "--audience", "x.pub", "--out", "nodir/x.tok");
  EXPECT(1, "No such file or directory");
  /* 2: the command line: required flags, exclusive flags, limits */
  RUN("token", "verify", "--token", "x.tok", "--holder", "x.pub");
  EXPECT(2, "--trust is required");
  RUN("token", "mint", "--key", "x.key", "--audience", "x.pub", "--out", "t", "--expiry", "9",
      "--ttl", "9");
  EXPECT(2, "--expiry and --ttl exclude each other");
  RUN("token", "revoke", "--token", "x.tok", "--revoked", "r.txt", "--link", "99");
  EXPECT(2, "--link: not a whole number in 0..");
  RUN("bench", "--min-time", "abc", "--bench-binary", "/nonexistent");
  EXPECT(2, "--min-time: not a number of seconds");
  RUN("bench", "--repetitions", "0", "--bench-binary", "/nonexistent");
  EXPECT(2, "--repetitions: not a whole number in 1..1000");
#ifdef CNV_CLI_TEST_SWARM
  RUN("swarm", "run", "--agents", "9");
  EXPECT(2, "--agents: not a whole number in 10..1048576: 9");
  RUN("swarm", "run", "--count", "999");
  EXPECT(2, "--count: not a whole number in 1000..");
  RUN("swarm", "run", "--workers", "0");
  EXPECT(2, "--workers: not a whole number in 1..256");
  RUN("swarm", "run", "--duration", "0");
  EXPECT(2, "--duration: not a whole number in 1..86400");
  RUN("swarm", "run", "--duration", "1", "--count", "1000");
  EXPECT(2, "--duration and --count exclude each other");
  RUN("swarm", "run", "--metrics", "nodir/m.prom", "--count", "1000");
  EXPECT(1, "nodir/m.prom: cannot create a temporary file beside it: No such file or directory");
#endif
  CLI_NO_TEMPORARIES();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keygen_refuses_overwrite),
      cmocka_unit_test(full_disk),
#ifdef CNV_CLI_TEST_SWARM
      cmocka_unit_test(sigint_mid_run),
      cmocka_unit_test(sigint_mid_setup),
      cmocka_unit_test(sigint_twice),
#endif
      cmocka_unit_test(exit_code_table),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  if (chmod("ro", 0755) != 0) return 1;
  cli_tmpdir_remove();
  return failed;
}
