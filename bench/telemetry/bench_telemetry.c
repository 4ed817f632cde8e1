/* Telemetry hot path: a sharded counter against one shared atomic (2 threads), and a
 * histogram record against one plain atomic add per record. */
#include <stdatomic.h>

#include <cnv/core.h>
#include <cnv/telemetry.h>

#include "cnv_bench.h"

static cnv_telemetry *tel;
static cnv_tel_shard *shards[2];
static cnv_metric_id ctr_id, hist_id;

/* Thread 0 builds a registry with one counter and one histogram and a shard per thread. */
static int setup(cnv_bench_state *st, int nthreads) {
  if (cnv_bench_thread_index(st) != 0) return 0;
  int bad = cnv_tel_create(NULL, &tel) != CNV_OK;
  bad = bad || cnv_tel_register_counter(tel, "bench_ops_total", "Ops.", NULL, 0, &ctr_id) != CNV_OK;
  bad = bad || cnv_tel_register_histogram(tel, "bench_lat", "Latency.", NULL, 0, NULL, &hist_id) != CNV_OK;
  for (int i = 0; i < nthreads && !bad; i++) bad = cnv_tel_attach(tel, &shards[i]) != CNV_OK;
  return bad;
}

static void teardown(cnv_bench_state *st) {
  if (cnv_bench_thread_index(st) != 0) return;
  cnv_tel_destroy(tel);
  tel = NULL;
}

static void counter_inc_2t_cnv(cnv_bench_state *st) {
  if (setup(st, 2)) {
    cnv_bench_skip_with_error(st, "telemetry setup failed");
    return;
  }
  int bad = 0;
  while (cnv_bench_keep_running_batch(st, 1024)) {
    cnv_tel_shard *s = shards[cnv_bench_thread_index(st)];
    for (int i = 0; i < 1024; i++) bad |= cnv_tel_counter_add(s, ctr_id, 1);
  }
  cnv_bench_do_not_optimize(&bad);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
  teardown(st);
}
CNV_BENCH(counter_inc_2t_cnv, "counter_inc_2t/cnv", 2, 0)

static struct {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t v;
} shared_ctr;

static void counter_inc_2t_atomic(cnv_bench_state *st) {
  while (cnv_bench_keep_running_batch(st, 1024)) {
    for (int i = 0; i < 1024; i++) atomic_fetch_add_explicit(&shared_ctr.v, 1, memory_order_relaxed);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(counter_inc_2t_atomic, "counter_inc_2t/atomic", 2, 0)

/* Values spread over many buckets (1 us .. 1 s in ns), the same for both cases. */
static uint64_t values[1024];

static void fill_values(void) {
  uint64_t x = 88172645463325252u;
  for (int i = 0; i < 1024; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values[i] = 1000u + x % 1000000000u / (1u + (uint64_t)(i % 1000));
  }
}

static void histogram_record_cnv(cnv_bench_state *st) {
  fill_values();
  if (setup(st, 1)) {
    cnv_bench_skip_with_error(st, "telemetry setup failed");
    return;
  }
  int bad = 0;
  while (cnv_bench_keep_running_batch(st, 1024)) {
    for (int i = 0; i < 1024; i++) bad |= cnv_tel_hist_record(shards[0], hist_id, values[i]);
  }
  cnv_bench_do_not_optimize(&bad);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
  teardown(st);
}
CNV_BENCH(histogram_record_cnv, "histogram_record/cnv", 1, 0)

static _Atomic uint64_t plain_sum;

static void histogram_record_atomic(cnv_bench_state *st) {
  fill_values();
  while (cnv_bench_keep_running_batch(st, 1024)) {
    for (int i = 0; i < 1024; i++) atomic_fetch_add_explicit(&plain_sum, values[i], memory_order_relaxed);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(histogram_record_atomic, "histogram_record/atomic", 1, 0)
