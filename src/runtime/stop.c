/* Stop: refuse new work, wait for submits in flight, let the workers finish the accepted
 * work until the timeout, then complete what is left and report the workers that stay
 * inside a handler. */
#include <sched.h>
#include <string.h>

#include "clock.h"
#include "core/atomic.h"
#include "rt_internal.h"

/* How often stop looks again while it waits. */
#define STOP_POLL_NS 200000u
/* The share of the timeout kept for the abort phase: a quarter, at most 100 ms. */
#define STOP_ABORT_MAX_NS 100000000u

/* Submits that have ended: the sum of the outcome counters. */
static uint64_t submits_ended(const cnv_runtime *rt) {
  uint64_t n = cnv__rt_counter(rt, CNV__RT_C_ACCEPTED) + cnv__rt_counter(rt, CNV__RT_C_FULL) +
               cnv__rt_counter(rt, CNV__RT_C_REFUSED) + cnv__rt_counter(rt, CNV__RT_C_INVALID);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) n += cnv__rt_counter(rt, CNV__RT_C_DENIED0 + i);
  return n;
}

/* Waits until every submit that saw RUNNING has ended. Called after STOPPING is stored
 * (seq_cst). Each submit adds to SUBMITTED on entry and to one outcome on exit
 * (cnv_runtime_submit_ex); the adds are seq_cst RMWs and the reads seq_cst loads
 * (cnv_tel_striped_add), so:
 * - a submit whose state load did not see STOPPING precedes the STOPPING store in the single
 *   total order, and so does its entry: `entered` counts it;
 * - every submit counted in `ended` (read first) released its push and its entry through the
 *   outcome add that the read acquired: `entered` counts it too, and its push is visible.
 * So ended == entered means every submit counted in `entered`, among them every one that saw
 * RUNNING, has pushed and left. Submits never block, so this wait is short. */
static void wait_submits(cnv_runtime *rt) {
  for (;;) {
    uint64_t ended = submits_ended(rt);
    uint64_t entered = cnv__rt_counter(rt, CNV__RT_C_SUBMITTED);
    if (ended == entered) return;
    sched_yield();
  }
}

static uint64_t completed(const cnv_runtime *rt) {
  uint64_t n = 0;
  for (int i = 0; i < CNV_DONE_COUNT; i++) n += cnv__rt_counter(rt, CNV__RT_C_DONE0 + i);
  return n;
}

static void enter_shutdown(cnv_runtime *rt) {
  for (;;) {
    cnv_phase p = cnv_swarm_phase(&rt->swarm);
    if (p == CNV_PHASE_SHUTDOWN) return;
    cnv_status st = cnv__rt_move(rt, p, CNV_PHASE_SHUTDOWN);
    if (st != CNV_EPHASE_STALE) return;
  }
}

/* Marks worker i stuck (once), with what stop abandoned on it when it did. */
static void report_stuck(cnv_runtime *rt, uint32_t i) {
  cnv__rt_worker *w = &rt->workers[i];
  if (w->stuck) return;
  w->stuck = 1;
  cnv_runtime_stuck_worker e = w->abandoned ? w->gave_up : (cnv_runtime_stuck_worker){.worker = i};
  size_t n = cnv__load_relaxed(&rt->n_stuck); /* relaxed: stop is the only writer */
  rt->stuck[n] = e;
  cnv__store_release(&rt->n_stuck, n + 1); /* release: the entry to cnv_runtime_stuck */
}

/* Completes every running invocation as abandoned (its cancel flag set): the worker's own
 * end of it then finds the slot taken (mark_done in worker.c). */
static void abandon_running(cnv_runtime *rt) {
  uint64_t now = cnv__rt_now_ns();
  for (uint32_t i = 0; i < rt->n_slots; i++) {
    cnv__rt_slot *s = &rt->slots[i];
    /* acquire: pairs with the worker's RUNNING publication (worker, start_ns) */
    uint64_t st = cnv__load_acquire(&s->state);
    int taken = 0;
    while (!taken && (st & CNV__RT_S_PHASE) == CNV__RT_S_RUNNING) {
      uint64_t done = (st & ~(uint64_t)CNV__RT_S_PHASE) | CNV__RT_S_DONE | CNV__RT_S_CANCEL;
      /* acq_rel: takes the slot from the worker (acquire its fields), and the handler's
       * cancelled check sees the flag. A failure reloads st: a cancel that set its flag
       * leaves it running (try again); its worker's end leaves it to the worker. */
      taken = cnv__cas_strong(&s->state, &st, done, memory_order_acq_rel, memory_order_acquire);
    }
    if (!taken) continue;
    /* reported at the timeout only if the worker is still inside then: a cooperative
     * handler sees its cancel flag and returns within the abort phase */
    cnv__rt_worker *w = &rt->workers[s->worker];
    w->abandoned = 1;
    w->gave_up = (cnv_runtime_stuck_worker){.worker = (uint32_t)s->worker, .agent = s->agent, .capability = s->capability, .seq = s->seq, .running_ns = now > s->start_ns ? now - s->start_ns : 0};
    cnv_runtime_completion c = {.kind = CNV_DONE_CANCELLED, .status = CNV_ERT_ABANDONED, .worker = s->worker, .queued_ns = s->start_ns - s->accept_ns, .run_ns = now - s->start_ns};
    cnv__rt_complete(rt, s, &c);
  }
}

/* Completes the records still queued as not run. Every submit has left (wait_submits), so
 * no push is in flight: the lanes answer GOT or EMPTY. */
static void drain_unrun(cnv_runtime *rt) {
  cnv__rt_rec_buf buf;
  while (cnv__rt_pop(rt, buf.words) == CNV__RT_POP_GOT) cnv__rt_run_record(rt, NULL, buf.words);
}

/* 1 when every started worker has exited (an abandoned handler may still return before
 * the timeout: its worker is not settled until then). */
static int workers_settled(const cnv_runtime *rt) {
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    const cnv__rt_worker *w = &rt->workers[i];
    /* acquire: pairs with the worker's release on exit */
    if (w->started && !cnv__load_acquire(&w->exited)) return 0;
  }
  return 1;
}

/* After the graceful part: nothing more starts; queued work completes as not run, running
 * work as abandoned; workers still busy at `end` (e.g. in a completion callback) are
 * reported stuck too. */
static void abort_rest(cnv_runtime *rt, uint64_t end) {
  cnv__store_release(&rt->abort, 1); /* release: see cnv__rt_run_record */
  cnv__rt_park_wake_all(rt);
  for (;;) {
    drain_unrun(rt);
    abandon_running(rt);
    if (workers_settled(rt)) return;
    uint64_t now = cnv__rt_now_ns();
    if (now >= end) break;
    cnv__rt_sleep_ns(STOP_POLL_NS);
  }
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    const cnv__rt_worker *w = &rt->workers[i];
    if (!w->started) continue;
    /* An idle worker runs only the runtime's own code until it exits or pops a record (then
     * it is busy): wait for one of the two, so an idle worker is never reported stuck.
     * acquire: see workers_settled; relaxed: busy publishes nothing */
    while (!cnv__load_acquire(&w->exited)) {
      if (cnv__load_relaxed(&w->busy)) {
        report_stuck(rt, i);
        break;
      }
      sched_yield();
    }
  }
}

size_t cnv__rt_threads_stop(cnv_runtime *rt, uint64_t timeout_ns) {
  uint64_t start = cnv__rt_now_ns();
  uint64_t abort_ns = timeout_ns / 4 < STOP_ABORT_MAX_NS ? timeout_ns / 4 : STOP_ABORT_MAX_NS;
  /* saturated: a timeout past the clock's range (UINT64_MAX: no limit) must not wrap into
   * an end already passed */
  uint64_t end = timeout_ns > UINT64_MAX - start ? UINT64_MAX : start + timeout_ns;
  uint64_t graceful_end = end - abort_ns;
  /* release: every push is done (stop waited for in-flight submits) before workers see it */
  cnv__store_release(&rt->drain, 1);
  cnv__rt_park_wake_all(rt);
  uint64_t accepted = cnv__rt_counter(rt, CNV__RT_C_ACCEPTED);
  while (completed(rt) < accepted && cnv__rt_now_ns() < graceful_end) {
    cnv__rt_sleep_ns(STOP_POLL_NS);
  }
  if (completed(rt) < accepted) abort_rest(rt, end);
  size_t stuck = 0;
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    cnv__rt_worker *w = &rt->workers[i];
    if (!w->started) continue;
    /* acquire: see workers_settled */
    if (w->stuck && !cnv__load_acquire(&w->exited)) {
      stuck++;
      continue;
    }
    pthread_join(w->thread, NULL);
    w->started = 0;
  }
  cnv__rt_monitor_end(rt);
  return stuck;
}

void cnv__rt_threads_join_stuck(cnv_runtime *rt) {
  if (!rt->workers) return;
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    if (rt->workers[i].started) pthread_join(rt->workers[i].thread, NULL);
    rt->workers[i].started = 0;
  }
}

cnv_status cnv_runtime_stop(cnv_runtime *rt, uint64_t timeout_ns) {
  if (!rt) return CNV_EINVAL;
  /* acquire: a failed start's release of STOPPED (threads joined) is seen before returning */
  int s = cnv__load_acquire(&rt->state);
  if (s == CNV__RT_CREATED) return CNV_ESTATE;
  if (s != CNV__RT_RUNNING) return CNV_OK;
  /* seq_cst: see cnv_runtime_submit_ex */
  atomic_store_explicit(&rt->state, CNV__RT_STOPPING, memory_order_seq_cst);
  enter_shutdown(rt);
  wait_submits(rt);
  size_t stuck = cnv__rt_threads_stop(rt, timeout_ns);
  cnv__rt_gauges_refresh(rt);
  cnv__store_release(&rt->state, CNV__RT_STOPPED); /* release: final counters visible */
  return stuck ? CNV_ERT_STUCK : CNV_OK;
}

cnv_status cnv_runtime_stuck(const cnv_runtime *rt, cnv_runtime_stuck_worker *out, size_t cap,
                             size_t *n) {
  if (!rt || !n || (!out && cap)) return CNV_EINVAL;
  /* acquire: pairs with report_stuck's release; the entries below it are written */
  size_t total = cnv__load_acquire(&((cnv_runtime *)rt)->n_stuck);
  size_t k = total < cap ? total : cap;
  if (k) memcpy(out, rt->stuck, k * sizeof *out);
  *n = total;
  return CNV_OK;
}
