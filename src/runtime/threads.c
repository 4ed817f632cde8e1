/* Worker and monitor threads; start and stop (drain). */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "rt_internal.h"

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
  nanosleep(&ts, NULL);
}

/* Spin briefly, then yield, then sleep: an idle worker leaves the cores to submitters. */
static void backoff(unsigned *idle) {
  unsigned n = (*idle)++;
  if (n < 64) {
    cnv__cpu_relax();
  } else if (n < 128) {
    sched_yield();
  } else {
    sleep_ns(20000);
  }
}

static void run_one(cnv_runtime *rt, const cnv__rt_worker *w, cnv_tel_shard *shard,
                    const cnv__rt_rec_buf *buf) {
  cnv__rt_rec_head head;
  memcpy(&head, buf->words, sizeof head);
  const cnv__rt_handler *h = &rt->handlers[head.handler];
  const char *line = (const char *)buf->words + CNV__RT_RECORD_HEADER;
  cnv_runtime_call call = {.line = line, .line_len = head.line_len, .path = line + head.path_off, .path_len = head.path_len, .capability = h->id, .agent = head.agent, .worker = w->index, .seq = head.seq, .effects = h->effects};
  int rc = h->fn(h->ctx, &call);
  uint64_t done = cnv__rt_now_ns();
  uint64_t latency = done > head.accept_ns ? done - head.accept_ns : 0;
  /* a worker without a shard (attach failed) records no latency: nothing else to do */
  cnv__ignore_status(cnv_tel_hist_record(shard, rt->m_latency, latency));
  cnv__ignore_status(cnv_swarm_record_invocation(&rt->swarm, rc == 0)); /* fails on NULL only */
  /* stop joins the workers before its final read, so these relaxed adds are all seen */
  if (rc != 0) cnv__rt_count(rt, CNV__RT_C_FAILED, 1u);
  cnv__rt_count(rt, CNV__RT_C_EXECUTED, 1u);
}

static void *worker_main(void *arg) {
  cnv__rt_worker *w = arg;
  cnv_runtime *rt = w->rt;
  cnv_tel_shard *shard = NULL;
  /* on failure shard stays NULL: the worker runs on, its latencies go unrecorded */
  cnv__ignore_status(cnv_tel_attach(rt->tel, &shard));
  cnv__rt_rec_buf buf;
  unsigned idle = 0;
  for (;;) {
    if (cnv_queue_try_pop_mpmc(rt->queue, buf.words) == CNV_OK) {
      run_one(rt, w, shard, &buf);
      idle = 0;
      continue;
    }
    /* acquire: pairs with stop's release store, made after every submit left; so every
     * push is visible and an empty queue now stays empty */
    if (cnv__load_acquire(&rt->drain)) {
      if (cnv_queue_try_pop_mpmc(rt->queue, buf.words) != CNV_OK) break;
      run_one(rt, w, shard, &buf);
      continue;
    }
    backoff(&idle);
  }
  cnv_tel_detach(shard);
  return NULL;
}

/* Variety check: raises the algedonic signal while the deficit exceeds the threshold. */
static void variety_check(cnv_runtime *rt) {
  if (!(rt->cfg.variety_threshold_bits > 0)) return;
  cnv_runtime_variety v;
  if (cnv_runtime_variety_get(rt, &v) != CNV_OK || !v.exceeded) return;
  if (cnv_swarm_phase(&rt->swarm) == CNV_PHASE_EMERGENCY) return;
  /* a swarm already in Emergency or shut down refuses the signal: nothing more to do */
  cnv__ignore_status(cnv__rt_algedonic(rt, CNV_ALGEDONIC_VARIETY_DEFICIT));
}

static void *monitor_main(void *arg) {
  cnv_runtime *rt = arg;
  uint64_t last_exec = 0, last_fail = 0;
  /* acquire: pairs with stop's release; nothing is published through it but the request */
  while (!cnv__load_acquire(&rt->monitor_stop)) {
    sleep_ns((uint64_t)rt->cfg.tick_interval_ms * 1000000u);
    /* a busy breaker (another evaluation in flight) is re-evaluated at the next tick */
    cnv__ignore_status(cnv__rt_tick(rt));
    uint64_t exec = cnv__rt_counter(rt, CNV__RT_C_EXECUTED);
    uint64_t fail = cnv__rt_counter(rt, CNV__RT_C_FAILED);
    double ratio = exec > last_exec ? (double)(fail - last_fail) / (double)(exec - last_exec) : 0;
    uint64_t bits;
    memcpy(&bits, &ratio, sizeof bits);
    cnv__store_relaxed(&rt->breaker_ratio_bits, bits); /* relaxed: a display value */
    last_exec = exec;
    last_fail = fail;
    variety_check(rt);
  }
  return NULL;
}

cnv_status cnv__rt_threads_start(cnv_runtime *rt) {
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    rt->workers[i] = (cnv__rt_worker){.rt = rt, .index = i};
    if (pthread_create(&rt->workers[i].thread, NULL, worker_main, &rt->workers[i]) != 0) {
      return CNV_ERT_THREAD;
    }
    rt->workers[i].started = 1;
  }
  if (pthread_create(&rt->monitor, NULL, monitor_main, rt) != 0) return CNV_ERT_THREAD;
  rt->monitor_started = 1;
  return CNV_OK;
}

void cnv__rt_threads_join(cnv_runtime *rt) {
  /* release: every push is done (stop waited for in-flight submits) before workers see it */
  cnv__store_release(&rt->drain, 1);
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    if (rt->workers[i].started) pthread_join(rt->workers[i].thread, NULL);
    rt->workers[i].started = 0;
  }
  cnv__store_release(&rt->monitor_stop, 1); /* release: see monitor_main */
  if (rt->monitor_started) pthread_join(rt->monitor, NULL);
  rt->monitor_started = 0;
}

static cnv_status bootstrap(cnv_runtime *rt) {
  static const int path[] = {CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION,
                             CNV_PHASE_OPERATIONAL};
  for (size_t i = 0; i + 1 < sizeof path / sizeof path[0]; i++) {
    cnv_status st = cnv__rt_move(rt, path[i], path[i + 1]);
    if (st != CNV_OK) return st;
  }
  return CNV_OK;
}

cnv_status cnv_runtime_start(cnv_runtime *rt) {
  if (!rt) return CNV_EINVAL;
  /* relaxed: start, stop and destroy run on one thread (header contract) */
  if (cnv__load_relaxed(&rt->state) != CNV__RT_CREATED) return CNV_ESTATE;
  cnv_status st = bootstrap(rt);
  if (st == CNV_OK) st = cnv__rt_threads_start(rt);
  if (st != CNV_OK) {
    cnv__rt_threads_join(rt);
    cnv__store_release(&rt->state, CNV__RT_STOPPED); /* release: see below */
    return st;
  }
  /* seq_cst: pairs with submit's seq_cst load; the handler table and threads are ready */
  atomic_store_explicit(&rt->state, CNV__RT_RUNNING, memory_order_seq_cst);
  return CNV_OK;
}

/* Submits that have ended: the sum of the outcome counters (relaxed reads). */
static uint64_t submits_ended(const cnv_runtime *rt) {
  uint64_t n = cnv__rt_counter(rt, CNV__RT_C_ACCEPTED) + cnv__rt_counter(rt, CNV__RT_C_FULL) +
               cnv__rt_counter(rt, CNV__RT_C_REFUSED);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) n += cnv__rt_counter(rt, CNV__RT_C_DENIED0 + i);
  return n;
}

/* Waits until every submit that saw RUNNING has ended. Called after STOPPING is stored
 * (seq_cst). Each submit adds to SUBMITTED on entry and to one outcome on exit
 * (cnv_runtime_submit); the adds are seq_cst RMWs and the reads seq_cst loads
 * (cnv_tel_striped_add), so:
 * - a submit whose state load did not see STOPPING precedes the STOPPING store in the single
 *   total order, and so does its entry: `entered` counts it;
 * - every submit counted in `ended` (read first) released its push and its entry through the
 *   outcome add that the read acquired: `entered` counts it too, and its push is visible.
 * So ended == entered means every submit counted in `entered`, among them every one that saw
 * RUNNING, has pushed and left. */
static void wait_submits(cnv_runtime *rt) {
  for (;;) {
    uint64_t ended = submits_ended(rt);
    uint64_t entered = cnv__rt_counter(rt, CNV__RT_C_SUBMITTED);
    if (ended == entered) return;
    sched_yield();
  }
}

static void enter_shutdown(cnv_runtime *rt) {
  for (;;) {
    cnv_phase p = cnv_swarm_phase(&rt->swarm);
    if (p == CNV_PHASE_SHUTDOWN) return;
    cnv_status st = cnv__rt_move(rt, p, CNV_PHASE_SHUTDOWN);
    if (st != CNV_EPHASE_STALE) return;
  }
}

cnv_status cnv_runtime_stop(cnv_runtime *rt) {
  if (!rt) return CNV_EINVAL;
  /* acquire: a failed start's release of STOPPED (threads joined) is seen before returning */
  int s = cnv__load_acquire(&rt->state);
  if (s == CNV__RT_CREATED) return CNV_ESTATE;
  if (s != CNV__RT_RUNNING) return CNV_OK;
  /* seq_cst: see cnv_runtime_submit */
  atomic_store_explicit(&rt->state, CNV__RT_STOPPING, memory_order_seq_cst);
  enter_shutdown(rt);
  wait_submits(rt);
  cnv__rt_threads_join(rt);
  cnv__rt_gauges_refresh(rt);
  cnv__store_release(&rt->state, CNV__RT_STOPPED); /* release: final counters visible */
  return CNV_OK;
}
