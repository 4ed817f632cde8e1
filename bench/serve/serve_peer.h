/* Plumbing shared by the serve cases (bench/serve): child processes that are always reaped,
 * a free loopback port, redis-server started and stopped for one case, redis-benchmark run
 * and its CSV read, and the figures the p1 cases report.
 *
 * Every child is started with fork + execv (the path resolved before the fork), its
 * descriptors above stderr closed, and PR_SET_PDEATHSIG SIGKILL, so a bench killed mid-case
 * takes its children with it; serve_child_stop sends SIGTERM, waits a grace period, then
 * SIGKILL, and always reaps. */
#ifndef CNV_BENCH_SERVE_PEER_H
#define CNV_BENCH_SERVE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../harness/cnv_bench.h"

/* Connections both impls of a serve case use: on a 2-core machine, 4 keeps both cores busy
 * (redis-benchmark is one thread with 4 sockets; our clients are 4 threads) without the
 * client side crowding out the server. */
#define SERVE_CONNS 4
/* Invocations in flight per connection in serve_echo_p16. */
#define SERVE_PIPELINE 16
/* How long a started server has to answer before the case fails. */
#define SERVE_START_TIMEOUT_MS 5000
/* A run of redis-benchmark longer than this is killed and fails the case. */
#define SERVE_RUN_TIMEOUT_MS 60000

/* Looks `name` up in PATH; 0 with the executable's path in out, -1 when there is none. */
int serve_which(const char *name, char *out, size_t cap);

/* A free TCP port on 127.0.0.1 (bound to port 0, read, closed), or 0 on failure. Another
 * process may take it before it is used: callers retry a failed start on a fresh one. */
uint16_t serve_free_port(void);

/* Starts path with argv (argv[0] included, NULL-terminated): stdin from /dev/null, stdout to
 * out_fd, stderr to err_fd (-1: /dev/null). Returns the pid, or -1 (errno set). */
pid_t serve_child_start(const char *path, char *const argv[], int out_fd, int err_fd);

/* Stops a child: SIGTERM, up to grace_ms for it to exit, then SIGKILL; reaps it. Returns its
 * wait status (-1 when waitpid failed). */
int serve_child_stop(pid_t pid, int grace_ms);

/* Runs a child to completion with its stdout read into buf (cap bytes, NUL-terminated; more
 * is read and dropped), stderr to /dev/null. Killed and reaped past timeout_ms. Returns its
 * exit code, or -1 (could not start, killed by a signal or the timeout). */
int serve_run_capture(const char *path, char *const argv[], char *buf, size_t cap, int timeout_ms);

/* One redis-server for one case: loopback TCP on a free port, no persistence, its working
 * directory and log in a fresh temporary directory removed at stop. */
typedef struct serve_redis {
  pid_t pid;
  uint16_t port;
  char dir[64];
} serve_redis;

/* Starts redis-server (found on PATH) and waits until it answers PING. 0 on success; -1 with
 * a message in err (the reason, and the first line of its log where it wrote one); nothing is
 * left running or on disk then. */
int serve_redis_start(serve_redis *r, char *err, size_t err_cap);
/* Stops it (SHUTDOWN by SIGTERM, SIGKILL after a grace period), reaps it, removes its
 * directory. */
void serve_redis_stop(serve_redis *r);

/* The figures of one PING_INLINE test from `redis-benchmark --csv` output. */
typedef struct serve_redis_result {
  double rps;            /* requests per second */
  double p50_ms, p99_ms; /* latency percentiles, ms */
} serve_redis_result;

/* Reads the header (columns found by name: rps, p50_latency_ms, p99_latency_ms) and the
 * "PING_INLINE" row. 0 on success, -1 when either is missing or a figure does not parse. */
int serve_redis_parse_csv(const char *csv, serve_redis_result *out);

/* Runs redis-benchmark against r: SERVE_CONNS connections, `pipeline` requests in flight on
 * each, `requests` in all, PING_INLINE, --csv --precision 3. 0 with *out filled, -1 with a
 * message in err. */
int serve_redis_bench(const serve_redis *r, int pipeline, long requests, serve_redis_result *out, char *err,
                      size_t err_cap);

/* The percentile p (0..100) of n sorted values: the value at rank ceil(p/100 * n). */
uint64_t serve_percentile(const uint64_t *sorted, size_t n, double p);
/* Sorts n values in place (ascending). */
void serve_sort_u64(uint64_t *v, size_t n);

/* The p1 cases' report: each run (a benchmark iteration) gives a p50 and a p99 in ns; the
 * case reports the medians over its runs (the upper one of an even count): 1e9 / p99 as the
 * rate (the figure the ratio table compares: above 1x, our p99 is shorter), and both
 * percentiles as counters p50_us and p99_us. Sorts both arrays. */
static inline void serve_report_latency(cnv_bench_state *st, uint64_t *p50_ns, uint64_t *p99_ns, size_t runs) {
  if (runs == 0) return;
  serve_sort_u64(p50_ns, runs);
  serve_sort_u64(p99_ns, runs);
  uint64_t p50 = p50_ns[runs / 2], p99 = p99_ns[runs / 2];
  cnv_bench_set_rate(st, 1e9 / (double)(p99 ? p99 : 1));
  cnv_bench_set_counter(st, "p50_us", (double)p50 / 1e3);
  cnv_bench_set_counter(st, "p99_us", (double)p99 / 1e3);
}

/* Runs a serve case keeps the p50 and p99 of (the latest when there are more). */
#define SERVE_MAX_RUNS 1024u

/* What a serve case gathers over its runs (one benchmark iteration each): the calls (or
 * requests) made and the seconds they took, and each run's p50 and p99 in ns. Large: keep it
 * static, and zero it before the first run. */
typedef struct serve_tally {
  double seconds, total;
  size_t runs;
  uint64_t p50[SERVE_MAX_RUNS], p99[SERVE_MAX_RUNS];
} serve_tally;

/* Adds one run: `calls` made in `seconds`, with those percentiles (any value where the case
 * reports a rate). */
static inline void serve_tally_add(serve_tally *t, double seconds, double calls, uint64_t p50_ns, uint64_t p99_ns) {
  t->seconds += seconds;
  t->total += calls;
  t->p50[t->runs % SERVE_MAX_RUNS] = p50_ns;
  t->p99[t->runs % SERVE_MAX_RUNS] = p99_ns;
  t->runs++;
}

/* The case's figures once its runs are done: with calls pipelined (pipeline > 1) the rate, all
 * calls over all their seconds; with one in flight serve_report_latency over the runs kept. */
static inline void serve_tally_report(cnv_bench_state *st, serve_tally *t, int pipeline) {
  if (pipeline > 1)
    cnv_bench_set_rate(st, t->seconds > 0 ? t->total / t->seconds : 0);
  else
    serve_report_latency(st, t->p50, t->p99, t->runs < SERVE_MAX_RUNS ? t->runs : SERVE_MAX_RUNS);
}

#endif
