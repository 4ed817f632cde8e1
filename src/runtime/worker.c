/* Running one popped record: cancel and deadline checks, the handler lookup, the run, the
 * overrun counters and the completion. */
#include <string.h>
#include <urcu/urcu-bp.h>

#include "clock.h"
#include "core/atomic.h"
#include "rt_internal.h"

int cnv__rt_pop(cnv_runtime *rt, void *buf) {
  cnv_status hi = cnv_queue_try_pop_mpmc(rt->lane[0], buf);
  if (hi == CNV_OK) return CNV__RT_POP_GOT;
  cnv_status lo = cnv_queue_try_pop_mpmc(rt->lane[1], buf);
  if (lo == CNV_OK) return CNV__RT_POP_GOT;
  /* CNV_EAGAIN: a push claimed the oldest slot and is writing it */
  return hi == CNV_EAGAIN || lo == CNV_EAGAIN ? CNV__RT_POP_AGAIN : CNV__RT_POP_EMPTY;
}

/* Looks the handler up and announces it in w->current before leaving the read-side section,
 * so unregister (grace period, then a look at every worker's current) waits for the run. */
static cnv__rt_handler *handler_enter(cnv_runtime *rt, cnv__rt_worker *w, uint64_t id) {
  urcu_bp_read_lock();
  cnv__rt_handler *h = cnv__rt_table_find(cnv__rt_table_get(rt), id);
  /* seq_cst: ordered before the read-side unlock, which the grace period waits for */
  if (h) atomic_store_explicit(&w->current, h, memory_order_seq_cst);
  CNV__HB_RELEASE(&rt->table);
  urcu_bp_read_unlock();
  return h;
}

/* QUEUED -> RUNNING unless cancelled first; 0 when the cancel flag is set. */
static int mark_running(cnv__rt_slot *s) {
  /* relaxed: the popper owns the slot; only the cancel flag can change under it */
  uint64_t st = cnv__load_relaxed(&s->state);
  for (;;) {
    if (st & CNV__RT_S_CANCEL) return 0;
    uint64_t running = (st & ~(uint64_t)CNV__RT_S_PHASE) | CNV__RT_S_RUNNING;
    /* release: worker and start_ns, written before, are read by stop after its CAS */
    if (cnv__cas_weak(&s->state, &st, running, memory_order_release, memory_order_relaxed)) {
      return 1;
    }
  }
}

/* RUNNING -> DONE; 0 when stop abandoned the run first (it completed it). *cancelled gets
 * whether the cancel flag was set. */
static int mark_done(cnv__rt_slot *s, int *cancelled) {
  /* acquire: pairs with stop's abandon (whose completion then owns the slot) */
  uint64_t st = cnv__load_acquire(&s->state);
  for (;;) {
    if ((st & CNV__RT_S_PHASE) != CNV__RT_S_RUNNING) return 0;
    *cancelled = (st & CNV__RT_S_CANCEL) != 0;
    uint64_t done = (st & ~(uint64_t)CNV__RT_S_PHASE) | CNV__RT_S_DONE;
    if (cnv__cas_weak(&s->state, &st, done, memory_order_acq_rel, memory_order_acquire)) {
      return 1;
    }
  }
}

static void count_overruns(cnv_runtime *rt, cnv__rt_handler *h, cnv__rt_slot *s, uint64_t run_ns,
                           uint64_t end, int *late) {
  uint64_t target;
  /* the class was checked at register: the lookup cannot fail */
  cnv__ignore_status(cnv_duration_class_limits(s->cls, &target, NULL));
  if (run_ns > target) {
    cnv__rt_count(rt, CNV__RT_C_TARGET0 + s->cls, 1u);
    cnv__fetch_add_relaxed(&h->over_target, 1u); /* relaxed: a figure */
  }
  *late = end > s->deadline_ns;
  if (*late) {
    cnv__rt_count(rt, CNV__RT_C_DEADLINE0 + s->cls, 1u);
    cnv__fetch_add_relaxed(&h->over_deadline, 1u); /* relaxed: a figure */
  }
}

/* An invocation whose deadline passed in the queue is a deadline overrun too: counted for its
 * class and capability, and a failure for the breaker (a queue that outlives deadlines is a
 * swarm that does not keep up). */
static void expired_in_queue(cnv_runtime *rt, const cnv__rt_slot *s) {
  cnv__rt_count(rt, CNV__RT_C_DEADLINE0 + s->cls, 1u);
  urcu_bp_read_lock();
  cnv__rt_handler *h = cnv__rt_table_find(cnv__rt_table_get(rt), s->capability);
  if (h) cnv__fetch_add_relaxed(&h->over_deadline, 1u); /* relaxed: a figure */
  CNV__HB_RELEASE(&rt->table);
  urcu_bp_read_unlock();
  cnv__ignore_status(cnv_swarm_record_invocation(&rt->swarm, 0)); /* fails on NULL only */
}

static void run_handler(cnv_runtime *rt, cnv__rt_worker *w, cnv__rt_handler *h, cnv__rt_slot *s,
                        const cnv__rt_rec_head *head, const char *line) {
  w->result.len = 0;
  w->result.type = CNV_CONTENT_TEXT;
  w->result.refused = 0;
  cnv__rt_run run = {.slot = s, .on_progress = s->on_progress, .progress_ctx = s->progress_ctx, .progress_last = -1.0};
  cnv_runtime_call call = {.line = line, .line_len = head->line_len, .path = line + head->path_off, .path_len = h->path_len, .capability = h->id, .agent = s->agent, .worker = w->index, .seq = s->seq, .ticket = s->ticket, .effects = h->effects, .cls = s->cls, .deadline_ns = s->deadline_ns, .correlation = s->correlation, .trace = s->trace, .internal = &run, .schema = h->schema};
  cnv_status rc = h->fn(h->ctx, &call, &w->result);
  uint64_t end = cnv__rt_now_ns();
  uint64_t run_ns = end - s->start_ns;
  int late;
  count_overruns(rt, h, s, run_ns, end, &late);
  if (rc != CNV_OK || late) {
    cnv__rt_count(rt, CNV__RT_C_FAILED, 1u);
    cnv__fetch_add_relaxed(&h->failed, 1u); /* relaxed: a figure */
  }
  cnv__rt_count(rt, CNV__RT_C_EXECUTED, 1u);
  /* a worker without a shard (attach failed) records no latency: nothing else to do */
  cnv__ignore_status(cnv_tel_hist_record(w->shard, rt->m_latency, end - s->accept_ns));
  /* fails on NULL only */
  cnv__ignore_status(cnv_swarm_record_invocation(&rt->swarm, rc == CNV_OK && !late));
  /* release: unregister may free h once it sees this */
  cnv__store_release(&w->current, NULL);
  int cancelled = 0;
  if (!mark_done(s, &cancelled)) return; /* stop completed it as abandoned */
  cnv_runtime_completion c = {.kind = CNV_DONE_RAN, .status = rc, .worker = (int32_t)w->index, .content_type = (uint32_t)w->result.type, .queued_ns = s->start_ns - s->accept_ns, .run_ns = run_ns};
  if (w->result.refused) {
    c.status = CNV_ERT_RESULT_TOO_LARGE;
  } else if (w->result.len) {
    c.result = w->result.buf;
    c.result_len = w->result.len;
  }
  if (late) {
    c.kind = CNV_DONE_EXPIRED;
    c.status = CNV_ERT_EXPIRED;
  } else if (cancelled) {
    c.kind = CNV_DONE_CANCELLED;
  }
  cnv__rt_complete(rt, s, &c);
}

static void run_record(cnv_runtime *rt, cnv__rt_worker *w, const void *buf) {
  cnv__rt_rec_head head;
  memcpy(&head, buf, sizeof head);
  cnv__rt_slot *s = &rt->slots[head.slot];
  /* acquire: pairs with stop's release of abort */
  if (!w || cnv__load_acquire(&rt->abort)) {
    cnv__rt_complete_unrun(rt, s, CNV_DONE_NOT_RUN, CNV_ERT_STOPPED);
    return;
  }
  /* acquire: pairs with cancel's release (only the flag is published) */
  if (cnv__load_acquire(&s->state) & CNV__RT_S_CANCEL) {
    cnv__rt_complete_unrun(rt, s, CNV_DONE_CANCELLED, CNV_ERT_CANCELLED);
    return;
  }
  uint64_t now = cnv__rt_now_ns();
  if (now > s->deadline_ns) {
    expired_in_queue(rt, s);
    cnv__rt_complete_unrun(rt, s, CNV_DONE_EXPIRED, CNV_ERT_EXPIRED);
    return;
  }
  cnv__rt_handler *h = handler_enter(rt, w, s->capability);
  if (!h) {
    cnv__rt_complete_unrun(rt, s, CNV_DONE_NOT_RUN, CNV_ERT_DENY_UNKNOWN_CAPABILITY);
    return;
  }
  s->worker = (int32_t)w->index;
  s->start_ns = now;
  if (!mark_running(s)) {
    cnv__store_release(&w->current, NULL); /* release: see run_handler */
    cnv__rt_complete_unrun(rt, s, CNV_DONE_CANCELLED, CNV_ERT_CANCELLED);
    return;
  }
  run_handler(rt, w, h, s, &head, (const char *)buf + CNV__RT_RECORD_HEADER);
}

void cnv__rt_run_record(cnv_runtime *rt, cnv__rt_worker *w, const void *buf) {
  /* relaxed: a flag stop polls, publishing nothing; it sees each change eventually */
  if (w) cnv__store_relaxed(&w->busy, 1);
  run_record(rt, w, buf);
  if (w) cnv__store_relaxed(&w->busy, 0);
}

bool cnv_runtime_call_cancelled(const cnv_runtime_call *call) {
  if (!call || !call->internal) return false;
  const cnv__rt_run *run = call->internal;
  /* acquire: pairs with cancel's (and stop's) release of the flag */
  uint64_t st = cnv__load_acquire(&run->slot->state);
  /* stop abandoned the run: it completed the slot and gave it back (a new generation) */
  if (CNV__RT_S_GEN(st) != (uint32_t)(call->ticket >> 32)) return true;
  return (st & CNV__RT_S_CANCEL) != 0;
}
