/* cnv tool, hardening: keygen --force is all-or-nothing; written files never replace a
 * non-regular file or the secret key the command read; closed standard streams; temporary
 * files removed on SIGINT/SIGTERM and a broken pipe is exit 1; exit status 2 decided before
 * any file is opened; revoke never joins two hashes; strict --min-time; large benchmark
 * JSON; empty and folder-like path values; FIFOs as inputs; flags given twice; empty effects. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})
#define EXPECT(code, text) CLI_EXPECT(&r, code, text)

static void slurp(const char *path, char *buf, size_t cap) { assert_true(cli_slurp(path, buf, cap)); }

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

enum out_mode { OUT_FILE,
                OUT_CLOSED,
                OUT_BROKEN_PIPE };

/* Starts cnv with stdout to .out, closed, or a pipe nobody reads; stderr to .err. An alarm
 * (kept across exec) ends a child that hangs, so a hang fails the check instead of the run. */
static pid_t start(enum out_mode mode, const char *const *args) {
  const char *argv[64] = {CNV_CLI_PATH};
  size_t n = 1;
  for (; args[n - 1] && n < 63; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  int p[2] = {-1, -1};
  if (mode == OUT_BROKEN_PIPE) {
    assert_int_equal(pipe(p), 0);
    close(p[0]);
  }
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int e = open(".err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int o = mode == OUT_FILE ? open(".out", O_WRONLY | O_CREAT | O_TRUNC, 0644) : p[1];
    if (e < 0 || dup2(e, 2) < 0) _exit(126);
    if (mode == OUT_CLOSED)
      close(1);
    else if (o < 0 || dup2(o, 1) < 0)
      _exit(126);
    alarm(20);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (p[1] >= 0) close(p[1]);
  return pid;
}

static void finish(pid_t pid) {
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  FILE *f = fopen(".err", "rb");
  size_t n = f ? fread(r.err, 1, sizeof r.err - 1, f) : 0;
  r.err[n] = '\0';
  if (f) fclose(f);
}

#define RUN_MODE(mode, ...) finish(start(mode, (const char *const[]){__VA_ARGS__, NULL}))

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static int unfreeze(void **state) {
  (void)state;
  if (system("chattr -i f.key f.pub 2>/dev/null") != 0) return 0;
  return 0;
}

/* Defect: keygen --force renamed the secret key first, so a .pub that could not be replaced
 * left a new secret beside the old public key (the old secret lost). An immutable file
 * (chattr +i, root only) makes one rename fail without test code in the tool. */
static void keygen_force_all_or_nothing(void **state) {
  (void)state;
  char key0[256], pub0[256], key1[256], pub1[256];
  RUN("token", "keygen", "--out", "f");
  assert_int_equal(r.status, 0);
  slurp("f.key", key0, sizeof key0);
  slurp("f.pub", pub0, sizeof pub0);
  if (geteuid() != 0 || system("chattr +i f.pub 2>/dev/null") != 0) skip();
  RUN("token", "keygen", "--out", "f", "--force");
  assert_int_equal(system("chattr -i f.pub"), 0);
  assert_int_equal(r.status, 1);
  slurp("f.key", key1, sizeof key1);
  slurp("f.pub", pub1, sizeof pub1);
  assert_string_equal(key0, key1);
  assert_string_equal(pub0, pub1);
  /* The secret key cannot be replaced: the new public key already placed is rolled back. */
  assert_int_equal(system("chattr +i f.key"), 0);
  RUN("token", "keygen", "--out", "f", "--force");
  assert_int_equal(system("chattr -i f.key"), 0);
  assert_int_equal(r.status, 1);
  slurp("f.key", key1, sizeof key1);
  slurp("f.pub", pub1, sizeof pub1);
  assert_string_equal(key0, key1);
  assert_string_equal(pub0, pub1);
  CLI_NO_TEMPORARIES();
  /* A successful --force replaces both, and they match (the secret key ends with the public). */
  RUN("token", "keygen", "--out", "f", "--force");
  assert_int_equal(r.status, 0);
  slurp("f.key", key1, sizeof key1);
  slurp("f.pub", pub1, sizeof pub1);
  assert_string_not_equal(key0, key1);
  assert_int_equal(strlen(key1), 129);
  assert_memory_equal(key1 + 64, pub1, 64);
  CLI_NO_TEMPORARIES();
}

/* Defect: the atomic write renamed over anything, the signing key included. */
static void write_refuses_key_and_special_files(void **state) {
  (void)state;
  char key0[256], key1[256];
  RUN("token", "keygen", "--out", "v");
  slurp("v.key", key0, sizeof key0);
  RUN("token", "mint", "--key", "v.key", "--audience", "v.pub", "--out", "v.key");
  EXPECT(1, "v.key: holds the secret key read as --key");
  slurp("v.key", key1, sizeof key1);
  assert_string_equal(key0, key1);
  assert_int_equal(link("v.key", "hard.key"), 0);
  RUN("token", "mint", "--key", "v.key", "--audience", "v.pub", "--out", "hard.key");
  EXPECT(1, "hard.key: holds the secret key read as --key");
  slurp("v.key", key1, sizeof key1);
  assert_string_equal(key0, key1);
  assert_int_equal(symlink("elsewhere", "sym.tok"), 0);
  RUN("token", "mint", "--key", "v.key", "--audience", "v.pub", "--out", "sym.tok");
  EXPECT(1, "sym.tok: exists and is not a regular file");
  struct stat st;
  assert_int_equal(lstat("sym.tok", &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(mkfifo("fifo.tok", 0644), 0);
  RUN("token", "mint", "--key", "v.key", "--audience", "v.pub", "--out", "fifo.tok");
  EXPECT(1, "fifo.tok: exists and is not a regular file");
  assert_int_equal(lstat("fifo.tok", &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  /* A regular token is still replaced. */
  RUN("token", "mint", "--key", "v.key", "--audience", "v.pub", "--out", "v.tok");
  assert_int_equal(r.status, 0);
  RUN("token", "mint", "--key", "v.key", "--audience", "v.pub", "--out", "v.tok", "--uses", "3");
  assert_int_equal(r.status, 0);
  /* An input that is a FIFO is refused instead of blocking on it. */
  RUN_MODE(OUT_FILE, "token", "inspect", "--token", "fifo.tok");
  EXPECT(1, "fifo.tok: not a regular file");
  CLI_NO_TEMPORARIES();
}

/* Defect: with fd 1 closed, the first file opened became standard output. */
static void closed_stdout(void **state) {
  (void)state;
  RUN_MODE(OUT_CLOSED, "token", "keygen", "--out", "c");
  EXPECT(1, "standard output is closed");
  assert_false(cli_exists("c.key"));
  assert_false(cli_exists("c.pub"));
  CLI_NO_TEMPORARIES();
}

/* Defect: SIGPIPE killed the tool; it is now a write error with the reason. */
static void broken_pipe(void **state) {
  (void)state;
  RUN("token", "keygen", "--out", "p");
  RUN("token", "mint", "--key", "p.key", "--audience", "p.pub", "--out", "p.tok");
  RUN_MODE(OUT_BROKEN_PIPE, "token", "inspect", "--token", "p.tok");
  EXPECT(1, "Broken pipe");
}

/* A fake cnv_bench: records its arguments, then either waits or copies big.json to the JSON
 * output file. */
static void fake_bench(const char *then) {
  char text[512];
  snprintf(text, sizeof text,
           "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --benchmark_out=*) out=\"${a#*=}\";; esac; done\n"
           "echo \"$out\" > args.tmp && mv args.tmp args.txt\n%s\n",
           then);
  put("fake.sh", text);
  assert_int_equal(chmod("fake.sh", 0755), 0);
  unlink("args.txt");
}

/* Defect: SIGINT/SIGTERM left cnv bench's /tmp/cnv-bench-* file. */
static void bench_signal_removes_temporary(void **state) {
  (void)state;
  const int sigs[] = {SIGINT, SIGTERM};
  for (size_t i = 0; i < 2; i++) {
    fake_bench("exec sleep 15");
    pid_t pid = start(OUT_FILE, (const char *const[]){"bench", "--bench-binary", "./fake.sh", NULL});
    for (int t = 0; t < 200 && !cli_exists("args.txt"); t++) sleep_ms(50);
    char out[512];
    slurp("args.txt", out, sizeof out);
    out[strcspn(out, "\n")] = '\0';
    assert_non_null(strstr(out, "/tmp/cnv-bench-"));
    assert_true(cli_exists(out));
    assert_int_equal(kill(pid, sigs[i]), 0);
    finish(pid);
    assert_int_equal(r.status, -sigs[i]);
    assert_false(cli_exists(out));
  }
}

#ifdef CNV_CLI_TEST_SWARM
/* Defect: SIGTERM mid-run left the metrics file's temporary name. */
static void swarm_sigterm_removes_temporary(void **state) {
  (void)state;
  pid_t pid = start(OUT_FILE, (const char *const[]){"swarm", "run", "--duration", "60", "--agents", "16",
                                                    "--metrics", "m.prom", NULL});
  sleep_ms(1500);
  assert_int_equal(kill(pid, SIGTERM), 0);
  finish(pid);
  assert_int_equal(r.status, -SIGTERM);
  assert_false(cli_exists("m.prom"));
  CLI_NO_TEMPORARIES();
}
#endif

/* Defect: exit status 2 must be decided before any file is opened. */
static void usage_before_files(void **state) {
  (void)state;
  RUN("token", "attenuate", "--token", "missing.tok", "--key", "k.key", "--audience", "a.pub", "--out",
      "o.tok", "--uses", "abc");
  EXPECT(2, "--uses: not a whole number");
  RUN("token", "attenuate", "--token", "missing.tok", "--key", "k.key", "--audience", "a.pub", "--out",
      "o.tok", "--bogus", "1");
  EXPECT(2, "unknown option: --bogus");
  /* A --link beyond the token's links is the file's content: 1. */
  RUN("token", "keygen", "--out", "l");
  RUN("token", "mint", "--key", "l.key", "--audience", "l.pub", "--out", "l.tok");
  RUN("token", "revoke", "--token", "l.tok", "--revoked", "lr.txt", "--link", "3");
  EXPECT(1, "--link 3: the token has 1 links");
  assert_false(cli_exists("lr.txt"));
}

/* Defect: revoke appended to a last line without a newline, joining two hashes. */
static void revoke_adds_missing_newline(void **state) {
  (void)state;
  char text[512], expect[512];
  const char *first = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  RUN("token", "keygen", "--out", "n");
  RUN("token", "mint", "--key", "n.key", "--audience", "n.pub", "--out", "n.tok");
  put("nr.txt", first);
  RUN("token", "revoke", "--token", "n.tok", "--revoked", "nr.txt");
  assert_int_equal(r.status, 0);
  const char *hash = strstr(r.out, ": ");
  assert_non_null(hash);
  snprintf(expect, sizeof expect, "%s\n%.64s\n", first, hash + 2);
  slurp("nr.txt", text, sizeof text);
  assert_string_equal(text, expect);
  RUN("token", "verify", "--token", "n.tok", "--trust", "n.pub", "--holder", "n.pub", "--revoked", "nr.txt");
  EXPECT(1, "CNV_EDELEG_REVOKED");
}

/* Defect: "s", "5." and "." were accepted as --min-time. */
static void bench_min_time_strict(void **state) {
  (void)state;
  const char *bad[] = {"s", "5.", ".", ".5", "5.s", "5ss", "1e3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    RUN("bench", "--min-time", bad[i], "--bench-binary", "/nonexistent");
    EXPECT(2, "--min-time: not a number of seconds");
  }
  const char *good[] = {"5", "0.5", "0.5s", "12s"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    RUN("bench", "--min-time", good[i], "--bench-binary", "/nonexistent");
    EXPECT(1, "/nonexistent");
  }
  /* "needs a value" once, not once per lookup. */
  RUN("bench", "--repetitions");
  assert_int_equal(r.status, 2);
  const char *first = strstr(r.err, "needs a value");
  assert_non_null(first);
  assert_null(strstr(first + 1, "needs a value"));
}

/* Defect: benchmark JSON above 1 MiB (many repetitions) was refused as too large. */
static void bench_large_json(void **state) {
  (void)state;
  FILE *f = fopen("big.json", "wb");
  assert_non_null(f);
  fputs("{\"context\": {}, \"benchmarks\": [\n", f);
  for (int i = 0; i < 20000; i++)
    fprintf(f, "{\"name\": \"big/%s\", \"run_type\": \"iteration\", \"items_per_second\": %d},\n",
            i % 2 ? "peer" : "cnv", i % 2 ? 100 : 200);
  fputs("{\"name\": \"big/cnv\", \"run_type\": \"iteration\", \"items_per_second\": 200}]}\n", f);
  assert_true(ftell(f) > (1L << 20));
  assert_int_equal(fclose(f), 0);
  fake_bench("cp big.json \"$out\"");
  RUN("bench", "--bench-binary", "./fake.sh");
  EXPECT(0, "");
  assert_non_null(strstr(r.out, "big"));
  assert_non_null(strstr(r.out, "2.00x"));
}

/* Defect: empty values and names ending in '/' for path flags ran the command. */
static void empty_and_folder_paths(void **state) {
  (void)state;
  assert_int_equal(mkdir("d", 0755), 0);
  RUN("token", "keygen", "--out", "");
  EXPECT(2, "--out: empty value");
  RUN("token", "keygen", "--out=");
  EXPECT(2, "--out: empty value");
  RUN("token", "keygen", "--out", "d/");
  EXPECT(2, "--out: not a file name");
  assert_false(cli_exists("d/.key"));
  assert_false(cli_exists(".key"));
  RUN("token", "inspect", "--token", "");
  EXPECT(2, "--token: empty value");
  RUN("token", "verify", "--token", "t", "--holder", "h", "--trust", "");
  EXPECT(2, "--trust: empty value");
#ifdef CNV_CLI_TEST_SWARM
  RUN("swarm", "run", "--metrics=", "--count", "1000", "--agents", "10");
  EXPECT(2, "--metrics: empty value");
  RUN("swarm", "run", "--metrics", "d/", "--count", "1000", "--agents", "10");
  EXPECT(2, "--metrics: not a file name");
#endif
}

/* Defect: a flag given twice was silently the last; empty or dangling effect lists passed. */
static void repeated_flags_and_effects(void **state) {
  (void)state;
  RUN("token", "keygen", "--out", "a", "--out", "b");
  EXPECT(2, "--out given more than once");
  assert_false(cli_exists("a.key"));
  assert_false(cli_exists("b.key"));
  RUN("token", "keygen", "--out", "e");
  RUN("token", "mint", "--key", "e.key", "--audience", "e.pub", "--out", "e.tok", "--effects", "");
  EXPECT(2, "--effects: empty value");
  RUN("token", "mint", "--key", "e.key", "--audience", "e.pub", "--out", "e.tok", "--effects", "read_only|");
  EXPECT(2, "unknown effect");
  RUN("token", "mint", "--key", "e.key", "--audience", "e.pub", "--out", "e.tok", "--effects", "|read_only");
  EXPECT(2, "unknown effect");
  assert_false(cli_exists("e.tok"));
  RUN("token", "mint", "--key", "e.key", "--audience", "e.pub", "--out", "e.tok", "--allow", "fs.read",
      "--allow", "fs.write");
  assert_int_equal(r.status, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(keygen_force_all_or_nothing, unfreeze),
      cmocka_unit_test(write_refuses_key_and_special_files),
      cmocka_unit_test(closed_stdout),
      cmocka_unit_test(broken_pipe),
      cmocka_unit_test(bench_signal_removes_temporary),
#ifdef CNV_CLI_TEST_SWARM
      cmocka_unit_test(swarm_sigterm_removes_temporary),
#endif
      cmocka_unit_test(usage_before_files),
      cmocka_unit_test(revoke_adds_missing_newline),
      cmocka_unit_test(bench_min_time_strict),
      cmocka_unit_test(bench_large_json),
      cmocka_unit_test(empty_and_folder_paths),
      cmocka_unit_test(repeated_flags_and_effects),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
