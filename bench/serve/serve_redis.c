/* The peers of the serve cases: Debian's redis-server 7 driven by its redis-benchmark.
 *
 * Each case starts its own redis-server (serve_redis_start: loopback TCP on a free port,
 * `--save "" --appendonly no`, a temporary directory) before its loop and stops and reaps it
 * after; a case whose redis-server or redis-benchmark is missing or fails is skipped with the
 * reason, leaving nothing running. One benchmark iteration is one run of
 *   redis-benchmark -h 127.0.0.1 -p PORT -c 4 -P {16|1} -n REQUESTS -t ping_inline --csv --precision 3
 * (4 = SERVE_CONNS, the connection count of the cnv cases too).
 *
 * serve_echo_p16/redis: 16 PING_INLINE requests in flight per connection. Reported as a rate:
 * the requests of every run over the time redis-benchmark measured for them (each run's
 * requests / its rps, summed), so the start of the processes is not counted.
 *
 * serve_echo_p1/redis: one request in flight per connection. Each run gives redis-benchmark's
 * p50 and p99 (--precision 3: microseconds); the case reports the medians over its runs
 * (serve_report_latency: 1e9 / p99 ns as the rate, p50_us and p99_us as counters). */
#include <stdio.h>
#include <string.h>

#include "../harness/cnv_bench.h"
#include "serve_peer.h"

#define P16_REQUESTS 200000L /* about 0.2 s per run at 1 M requests/s */
#define P1_REQUESTS 40000L   /* about 0.3 s per run at 140 k requests/s */

static void redis_case(cnv_bench_state *st, int pipeline, long requests) {
  static serve_tally tally;
  char err[256];
  serve_redis r;
  if (serve_redis_start(&r, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  memset(&tally, 0, sizeof tally);
  int failed = 0;
  while (cnv_bench_keep_running(st)) {
    serve_redis_result res;
    if (failed || serve_redis_bench(&r, pipeline, requests, &res, err, sizeof err) != 0) {
      failed = 1; /* the loop must end through keep_running; the error is reported after */
      continue;
    }
    serve_tally_add(&tally, (double)requests / res.rps, (double)requests, (uint64_t)(res.p50_ms * 1e6),
                    (uint64_t)(res.p99_ms * 1e6));
  }
  serve_redis_stop(&r);
  if (failed) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  serve_tally_report(st, &tally, pipeline);
}

static void serve_echo_p16_redis(cnv_bench_state *st) { redis_case(st, SERVE_PIPELINE, P16_REQUESTS); }
CNV_BENCH(serve_echo_p16_redis, "serve_echo_p16/redis", 1, 0)

static void serve_echo_p1_redis(cnv_bench_state *st) { redis_case(st, 1, P1_REQUESTS); }
CNV_BENCH(serve_echo_p1_redis, "serve_echo_p1/redis", 1, 0)
