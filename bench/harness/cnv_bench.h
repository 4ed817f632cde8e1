/* The C benchmark API: benchmarks are written in C against this; gbench_adapter.cc runs
 * them under Google Benchmark. Names follow `<case>/<impl>` so ratios are read from one run.
 *
 *   static void queue_push_pop(cnv_bench_state *st) {
 *     while (cnv_bench_keep_running_batch(st, 1024)) { for (...) work(); }
 *     cnv_bench_set_items_processed(st, cnv_bench_iterations(st));
 *   }
 *   CNV_BENCH(queue_push_pop, "queue_x/cnv", 1, 0)   (no trailing semicolon: -Wpedantic)
 *
 * Multi-threaded cases: every thread runs the function; all threads pass a barrier on their
 * first keep_running call and another when their loop ends, so thread 0 may set up shared
 * state before its first call and tear it down after its loop. */
#ifndef CNV_BENCH_H
#define CNV_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnv_bench_state cnv_bench_state;
typedef void (*cnv_bench_fn)(cnv_bench_state *st);

/* Registers a case; call before main (CNV_BENCH does it from a constructor).
 * threads > 1 runs fn on that many threads at once; arg is read with cnv_bench_arg. */
void cnv_bench_register(const char *name, cnv_bench_fn fn, int threads, int64_t arg);

/* 1 while the timed loop should run one more iteration, 0 when done. */
int cnv_bench_keep_running(cnv_bench_state *st);
/* 1 while the loop should run n more iterations (counted as n), 0 when done. */
int cnv_bench_keep_running_batch(cnv_bench_state *st, uint64_t n);
/* Iterations this thread has run so far in this measurement. */
uint64_t cnv_bench_iterations(const cnv_bench_state *st);
/* Items this thread processed: reported as items/s (summed over threads). */
void cnv_bench_set_items_processed(cnv_bench_state *st, int64_t items);
/* An extra figure shown in its own column (the serve_echo_p1 cases' p50_us, p99_us); with
 * repetitions, the aggregates (median, ...) are computed for it too. Summed over threads. */
void cnv_bench_set_counter(cnv_bench_state *st, const char *name, double value);
/* Figures that are not items counted over the timed loop go in the same items/s column, the
 * one every reader takes (the ratio table printed here, `cnv bench`, scripts/bench-figures),
 * instead of cnv_bench_set_items_processed (call one of the three, once, after the loop):
 * - cnv_bench_set_rate: a rate the case computed itself, reported as it is, not divided by
 *   the loop's time. wake_latency reports 1e9 / its median latency in ns: a higher figure is
 *   a shorter latency, so the ratio reads like every other one (above 1x: ours is faster).
 * - cnv_bench_set_value: a plain value that is not a rate (idle_cpu: CPU seconds per wall
 *   second), shown in the items/s column with `unit` as the case's label in Google
 *   Benchmark's report; such a case has no peer, so the ratio tables print it with no ratio.
 * Summed over threads like items: report it from one thread only. */
void cnv_bench_set_rate(cnv_bench_state *st, double per_second);
void cnv_bench_set_value(cnv_bench_state *st, double value, const char *unit);
int cnv_bench_thread_index(const cnv_bench_state *st);
int cnv_bench_threads(const cnv_bench_state *st);
int64_t cnv_bench_arg(const cnv_bench_state *st);
void cnv_bench_pause_timing(cnv_bench_state *st);
void cnv_bench_resume_timing(cnv_bench_state *st);
/* Marks the case failed with a message; the caller must then return without looping. */
void cnv_bench_skip_with_error(cnv_bench_state *st, const char *message);

/* A library call a case makes (setup or measured) must succeed: a failure would time the
 * error path instead, so it stops the run, naming the call and the status. */
#define CNV_BENCH_OK(call)                                                            \
  do {                                                                                \
    int cnv_bench_st_ = (int)(call);                                                  \
    if (cnv_bench_st_ != 0) {                                                         \
      fprintf(stderr, "cnv_bench: %s failed with status %d\n", #call, cnv_bench_st_); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

/* splitmix64: small, seeded, reproducible bench data (same generator as the tests use). */
static inline uint64_t cnv_bench_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Keeps the compiler from discarding a computed value or the memory behind p. */
static inline void cnv_bench_do_not_optimize(const void *p) { __asm__ __volatile__(""
                                                                                   :
                                                                                   : "g"(p)
                                                                                   : "memory"); }
static inline void cnv_bench_clobber(void) { __asm__ __volatile__(""
                                                                  :
                                                                  :
                                                                  : "memory"); }

#define CNV_BENCH_CAT2_(a, b) a##b
#define CNV_BENCH_CAT_(a, b) CNV_BENCH_CAT2_(a, b)
/* Registers fn under name at load time. */
#define CNV_BENCH(fn, name, threads, arg)                                                   \
  __attribute__((constructor)) static void CNV_BENCH_CAT_(cnv_bench_reg_, __LINE__)(void) { \
    cnv_bench_register((name), (fn), (threads), (arg));                                     \
  }

#ifdef __cplusplus
}
#endif

#endif
