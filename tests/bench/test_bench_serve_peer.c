/* The serve benchmarks' plumbing (bench/serve/serve_peer.c): children always reaped, a free
 * port, redis-benchmark's CSV read, percentiles, and redis-server started and stopped with
 * nothing left behind (skipped where redis-server is not on PATH). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bench/serve/serve_peer.h"

/* 1 when this process has no child left to reap (every one was waited for). */
static int no_children(void) { return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_which(void **state) {
  (void)state;
  char path[512];
  assert_int_equal(serve_which("sh", path, sizeof path), 0);
  assert_int_equal(access(path, X_OK), 0);
  assert_int_equal(serve_which("no-such-program-cnv-bench", path, sizeof path), -1);
}

static void test_free_port(void **state) {
  (void)state;
  uint16_t a = serve_free_port();
  assert_true(a != 0);
}

static void test_capture_output_and_exit(void **state) {
  (void)state;
  char sh[512], buf[64];
  assert_int_equal(serve_which("sh", sh, sizeof sh), 0);
  char *echo[] = {"sh", "-c", "printf 'a,b\\n'; exit 3", NULL};
  assert_int_equal(serve_run_capture(sh, echo, buf, sizeof buf, 10000), 3);
  assert_string_equal(buf, "a,b\n");
  /* More output than the buffer: cut, NUL-terminated, the rest read and dropped. */
  char *long_out[] = {"sh", "-c", "i=0; while [ $i -lt 2000 ]; do printf 0123456789; i=$((i+1)); done", NULL};
  assert_int_equal(serve_run_capture(sh, long_out, buf, sizeof buf, 10000), 0);
  assert_int_equal(strlen(buf), sizeof buf - 1);
  assert_true(no_children());
}

static void test_capture_timeout_kills(void **state) {
  (void)state;
  char sh[512], buf[16];
  assert_int_equal(serve_which("sh", sh, sizeof sh), 0);
  char *forever[] = {"sh", "-c", "exec sleep 30", NULL};
  double t0 = now_s();
  assert_int_equal(serve_run_capture(sh, forever, buf, sizeof buf, 200), -1);
  assert_true(now_s() - t0 < 10);
  assert_true(no_children());
}

static void test_stop_escalates_to_kill(void **state) {
  (void)state;
  char sh[512];
  assert_int_equal(serve_which("sh", sh, sizeof sh), 0);
  /* Ignores SIGTERM (and spawns nothing that could outlive it); says so once it does. */
  char *stubborn[] = {"sh", "-c", "trap '' TERM; echo r; while :; do :; done", NULL};
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = serve_child_start(sh, stubborn, p[1], -1);
  close(p[1]);
  assert_true(pid > 0);
  char ready;
  assert_int_equal(read(p[0], &ready, 1), 1);
  close(p[0]);
  int status = serve_child_stop(pid, 100);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
  assert_true(no_children());
  /* A child that obeys SIGTERM ends by it. */
  char *obedient[] = {"sh", "-c", "exec sleep 30", NULL};
  pid = serve_child_start(sh, obedient, -1, -1);
  assert_true(pid > 0);
  status = serve_child_stop(pid, 5000);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGTERM);
  assert_true(no_children());
}

static void test_start_missing_program(void **state) {
  (void)state;
  char *argv[] = {"missing", NULL}, buf[16];
  /* The fork succeeds; execv fails in the child, which exits 127. */
  assert_int_equal(serve_run_capture("/nonexistent/cnv-bench-missing", argv, buf, sizeof buf, 10000), 127);
  assert_string_equal(buf, "");
  assert_true(no_children());
}

static void test_parse_csv(void **state) {
  (void)state;
  serve_redis_result r;
  /* redis-benchmark 7.0's output, as it prints it. */
  const char *real =
      "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\","
      "\"p99_latency_ms\",\"max_latency_ms\"\n"
      "\"PING_INLINE\",\"141643.06\",\"0.018\",\"0.000\",\"0.023\",\"0.031\",\"0.039\",\"0.287\"\n";
  assert_int_equal(serve_redis_parse_csv(real, &r), 0);
  assert_true(r.rps > 141643.05 && r.rps < 141643.07);
  assert_true(r.p50_ms > 0.0229 && r.p50_ms < 0.0231);
  assert_true(r.p99_ms > 0.0389 && r.p99_ms < 0.0391);
  /* Columns found by name, CRLF line ends, other tests' rows ignored. */
  const char *moved =
      "\"test\",\"p99_latency_ms\",\"rps\",\"p50_latency_ms\"\r\n"
      "\"PING_BULK\",\"9\",\"9\",\"9\"\r\n"
      "\"PING_INLINE\",\"0.5\",\"1000\",\"0.25\"\r\n";
  assert_int_equal(serve_redis_parse_csv(moved, &r), 0);
  assert_true(r.rps == 1000 && r.p99_ms == 0.5 && r.p50_ms == 0.25);
  /* No header, no row, a figure that is not a number, a missing column: refused. */
  assert_int_equal(serve_redis_parse_csv("\"PING_INLINE\",\"1\",\"1\",\"1\"\n", &r), -1);
  assert_int_equal(serve_redis_parse_csv("\"test\",\"rps\",\"p50_latency_ms\",\"p99_latency_ms\"\n", &r), -1);
  assert_int_equal(serve_redis_parse_csv("\"test\",\"rps\",\"p50_latency_ms\",\"p99_latency_ms\"\n"
                                         "\"PING_INLINE\",\"fast\",\"1\",\"1\"\n",
                                         &r),
                   -1);
  assert_int_equal(serve_redis_parse_csv("\"test\",\"rps\",\"p50_latency_ms\"\n"
                                         "\"PING_INLINE\",\"1\",\"1\"\n",
                                         &r),
                   -1);
  assert_int_equal(serve_redis_parse_csv("\"test\",\"rps\",\"p50_latency_ms\",\"p99_latency_ms\"\n"
                                         "\"PING_INLINE\",\"1\",\"1\"\n",
                                         &r),
                   -1);
  assert_int_equal(serve_redis_parse_csv("", &r), -1);
}

static void test_percentile(void **state) {
  (void)state;
  uint64_t v[100];
  for (unsigned i = 0; i < 100; i++) v[i] = 100 - i; /* 100..1 */
  serve_sort_u64(v, 100);
  assert_int_equal(v[0], 1);
  assert_int_equal(v[99], 100);
  assert_int_equal(serve_percentile(v, 100, 50), 50);
  assert_int_equal(serve_percentile(v, 100, 99), 99);
  assert_int_equal(serve_percentile(v, 100, 100), 100);
  assert_int_equal(serve_percentile(v, 100, 0), 1);
  uint64_t three[] = {10, 20, 30};
  assert_int_equal(serve_percentile(three, 3, 50), 20);
  assert_int_equal(serve_percentile(three, 3, 99), 30);
  assert_int_equal(serve_percentile(three, 0, 50), 0);
}

static void test_redis_start_stop(void **state) {
  (void)state;
  char path[512], err[256];
  if (serve_which("redis-server", path, sizeof path) != 0) {
    print_message("skipped: redis-server is not on PATH (scripts/deps --test links it)\n");
    skip();
  }
  serve_redis r;
  assert_int_equal(serve_redis_start(&r, err, sizeof err), 0);
  assert_true(r.pid > 0);
  assert_true(r.port != 0);
  char dir[sizeof r.dir];
  memcpy(dir, r.dir, sizeof dir);
  struct stat sb;
  assert_int_equal(stat(dir, &sb), 0);
  /* A file Redis might have written there goes with the directory. */
  char extra[sizeof dir + 16];
  snprintf(extra, sizeof extra, "%s/dump.rdb", dir);
  FILE *f = fopen(extra, "w");
  assert_non_null(f);
  fclose(f);
  if (serve_which("redis-benchmark", path, sizeof path) == 0) {
    serve_redis_result res;
    assert_int_equal(serve_redis_bench(&r, 4, 2000, &res, err, sizeof err), 0);
    assert_true(res.rps > 0);
    assert_true(res.p99_ms >= res.p50_ms);
  }
  serve_redis_stop(&r);
  assert_true(no_children());
  assert_int_equal(stat(dir, &sb), -1); /* its directory is gone */
  assert_true(r.pid < 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_which),
      cmocka_unit_test(test_free_port),
      cmocka_unit_test(test_capture_output_and_exit),
      cmocka_unit_test(test_capture_timeout_kills),
      cmocka_unit_test(test_stop_escalates_to_kill),
      cmocka_unit_test(test_start_missing_program),
      cmocka_unit_test(test_parse_csv),
      cmocka_unit_test(test_percentile),
      cmocka_unit_test(test_redis_start_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
