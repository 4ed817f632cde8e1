/* How the runtime idles: how fast a parked worker wakes, and what an idle runtime costs.
 *
 * wake_latency: the time from a submit to the start of its handler on a parked worker. A
 * runtime with 1 worker and the default idle strategy (spin for idle_spin_us, 50 us, then
 * park); each sample takes cnv_runtime_now_ns just before cnv_runtime_submit and again first
 * thing in the handler, then sleeps 2 ms (the worker is parked again long before the next
 * submit) and collects the handler's time. The peer hands the same sample to a thread waiting
 * on a condition variable: now_ns, lock, post, signal, unlock; the waiter takes now_ns as soon
 * as its wait returns with the post. The figure is 1e9 / the median latency in ns, reported
 * as a rate (cnv_bench_set_rate): wake-ups per second of latency, so above 1x in the ratio
 * table means ours wakes faster. The timed loop includes the sleeps, so its time is not the
 * figure; 1e9 / items/s is the median latency in ns.
 *
 * idle_cpu: a runtime with 4 workers and the default idle strategy, started and left idle
 * (the measuring thread sleeps in 10 ms steps): CPU seconds the whole process burns
 * (getrusage RUSAGE_SELF, every thread, the sleeping one included) per wall second of the
 * timed loop, reported as a plain value (cnv_bench_set_value), not a rate. The issue asks for
 * less than 0.01. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "bench_rt.h"

#define GAP_NS 2000000L        /* between samples: the worker parks */
#define IDLE_STEP_NS 10000000L /* idle_cpu's sleep per iteration */
#define SETTLE_NS 20000000L    /* idle_cpu: lets the workers park and the monitor start */
#define MAX_SAMPLES 16384u     /* kept samples (the latest when more are taken) */

static void sleep_ns(long ns) {
  struct timespec ts = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* The latest handler start, published by the thread that took it. */
static _Atomic uint64_t wake_at_ns;
static atomic_ulong wakes;

static void wake_record(uint64_t now) {
  atomic_store_explicit(&wake_at_ns, now, memory_order_relaxed);
  /* release: the reader that sees the new count sees wake_at_ns */
  atomic_fetch_add_explicit(&wakes, 1, memory_order_release);
}

/* Waits (after the sleep, so it does not compete with the wake-up) for wake number `n`;
 * returns its start. */
static uint64_t wake_wait(unsigned long n) {
  while (atomic_load_explicit(&wakes, memory_order_acquire) < n) sched_yield();
  return atomic_load_explicit(&wake_at_ns, memory_order_relaxed);
}

static uint64_t samples[MAX_SAMPLES];

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Reports 1e9 / the median of the n samples taken (the latest MAX_SAMPLES). */
static void report_median(cnv_bench_state *st, uint64_t n) {
  size_t k = n < MAX_SAMPLES ? (size_t)n : MAX_SAMPLES;
  if (k == 0) return;
  qsort(samples, k, sizeof samples[0], cmp_u64);
  uint64_t median = k % 2 ? samples[k / 2] : (samples[k / 2 - 1] + samples[k / 2]) / 2;
  cnv_bench_set_rate(st, 1e9 / (double)(median ? median : 1));
}

/* ---- wake_latency/cnv ----------------------------------------------------------------- */

static cnv_status wake_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  wake_record(cnv_runtime_now_ns());
  (void)ctx;
  (void)c;
  (void)r;
  return CNV_OK;
}

static void wake_cnv(cnv_bench_state *st) {
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 1;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY,
                                   .cls = CNV_DURATION_INTERACTIVE,
                                   .fn = wake_handler};
  uint32_t agent;
  cnv_runtime *rt = bench_rt_make(&cfg, &spec, &agent);
  if (!rt) {
    cnv_bench_skip_with_error(st, "runtime set-up failed");
    return;
  }
  atomic_store(&wakes, 0);
  sleep_ns(GAP_NS);
  uint64_t n = 0;
  while (cnv_bench_keep_running(st)) {
    uint64_t t0 = cnv_runtime_now_ns();
    CNV_BENCH_OK(cnv_runtime_submit(rt, agent, BENCH_RT_LINE, BENCH_RT_LINE_LEN));
    sleep_ns(GAP_NS);
    samples[n % MAX_SAMPLES] = wake_wait(n + 1) - t0;
    n++;
  }
  CNV_BENCH_OK(cnv_runtime_stop(rt, BENCH_RT_STOP_NS));
  cnv_runtime_destroy(rt);
  report_median(st, n);
}
CNV_BENCH(wake_cnv, "wake_latency/cnv", 1, 0)

/* ---- wake_latency/condvar ------------------------------------------------------------- */

typedef struct handoff {
  pthread_mutex_t m;
  pthread_cond_t cv;
  uint64_t posted, taken; /* under m */
  int stop;               /* under m */
} handoff;

static void *condvar_waiter(void *p) {
  handoff *h = p;
  pthread_mutex_lock(&h->m);
  for (;;) {
    while (h->posted == h->taken && !h->stop) pthread_cond_wait(&h->cv, &h->m);
    if (h->posted == h->taken) break; /* stopped */
    wake_record(cnv_runtime_now_ns());
    h->taken = h->posted;
  }
  pthread_mutex_unlock(&h->m);
  return NULL;
}

static void wake_condvar(cnv_bench_state *st) {
  handoff h = {.m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  pthread_t t;
  atomic_store(&wakes, 0);
  if (pthread_create(&t, NULL, condvar_waiter, &h) != 0) {
    cnv_bench_skip_with_error(st, "thread set-up failed");
    return;
  }
  sleep_ns(GAP_NS);
  uint64_t n = 0;
  while (cnv_bench_keep_running(st)) {
    uint64_t t0 = cnv_runtime_now_ns();
    pthread_mutex_lock(&h.m);
    h.posted++;
    pthread_cond_signal(&h.cv);
    pthread_mutex_unlock(&h.m);
    sleep_ns(GAP_NS);
    samples[n % MAX_SAMPLES] = wake_wait(n + 1) - t0;
    n++;
  }
  pthread_mutex_lock(&h.m);
  h.stop = 1;
  pthread_cond_signal(&h.cv);
  pthread_mutex_unlock(&h.m);
  pthread_join(t, NULL);
  report_median(st, n);
}
CNV_BENCH(wake_condvar, "wake_latency/condvar", 1, 0)

/* ---- idle_cpu/cnv --------------------------------------------------------------------- */

static double cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static cnv_status idle_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  return CNV_OK;
}

static void idle_cnv(cnv_bench_state *st) {
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 4;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY,
                                   .cls = CNV_DURATION_INTERACTIVE,
                                   .fn = idle_handler};
  uint32_t agent;
  cnv_runtime *rt = bench_rt_make(&cfg, &spec, &agent);
  if (!rt) {
    cnv_bench_skip_with_error(st, "runtime set-up failed");
    return;
  }
  sleep_ns(SETTLE_NS);
  /* the timer starts at the first keep_running call, a few ns from here */
  double cpu0 = cpu_s();
  uint64_t wall0 = cnv_runtime_now_ns();
  while (cnv_bench_keep_running(st)) sleep_ns(IDLE_STEP_NS);
  double cpu1 = cpu_s();
  uint64_t wall1 = cnv_runtime_now_ns();
  CNV_BENCH_OK(cnv_runtime_stop(rt, BENCH_RT_STOP_NS));
  cnv_runtime_destroy(rt);
  double wall = (double)(wall1 - wall0) / 1e9;
  cnv_bench_set_value(st, wall > 0 ? (cpu1 - cpu0) / wall : 0, "cpu_s/wall_s");
}
CNV_BENCH(idle_cnv, "idle_cpu/cnv", 1, 0)
