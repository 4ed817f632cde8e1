/* Phase moves of the runtime's swarm and their timeline. Moves are rare (start, breaker
 * ticks, algedonic signals, stop), so one mutex orders them and the timeline together; the
 * hot path only reads the phase (cnv_swarm_phase: one acquire load). */
#include <string.h>

#include "clock.h"
#include "ledger_rec.h"
#include "rt_internal.h"

/* Appends the phase just entered; caller holds phase_lock. */
static void timeline_append(cnv_runtime *rt, int phase, uint64_t at) {
  if (rt->n_timeline == CNV_RT_TIMELINE_MAX) {
    rt->timeline_dropped++;
    return;
  }
  rt->timeline[rt->n_timeline++] = (cnv_phase_span){.phase = phase, .enter_ns = at - 1};
}

cnv_status cnv__rt_move(cnv_runtime *rt, int from, int to) {
  pthread_mutex_lock(&rt->phase_lock);
  uint64_t now = cnv__rt_phase_now(rt);
  cnv_status st = cnv_swarm_transition(&rt->swarm, from, to, now);
  if (st == CNV_OK) {
    timeline_append(rt, to, now);
    if (rt->cfg.ledger) cnv__rt_lrec_phase(rt, from, to, 0u);
  }
  pthread_mutex_unlock(&rt->phase_lock);
  return st;
}

cnv_status cnv__rt_algedonic(cnv_runtime *rt, uint32_t reason) {
  pthread_mutex_lock(&rt->phase_lock);
  uint64_t now = cnv__rt_phase_now(rt);
  /* every move of the swarm is made under phase_lock: the phase cannot change meanwhile */
  cnv_phase from = cnv_swarm_phase(&rt->swarm);
  cnv_status st = cnv_swarm_raise_algedonic(&rt->swarm, reason, now);
  if (st == CNV_OK) {
    timeline_append(rt, CNV_PHASE_EMERGENCY, now);
    if (rt->cfg.ledger) cnv__rt_lrec_phase(rt, (int)from, CNV_PHASE_EMERGENCY, reason);
  }
  pthread_mutex_unlock(&rt->phase_lock);
  return st;
}

cnv_status cnv_runtime_raise_algedonic(cnv_runtime *rt, uint32_t reason) {
  if (!rt) return CNV_EINVAL;
  return cnv__rt_algedonic(rt, reason);
}

cnv_status cnv_runtime_transition(cnv_runtime *rt, int from, int to) {
  if (!rt) return CNV_EINVAL;
  return cnv__rt_move(rt, from, to);
}

cnv_phase cnv_runtime_phase(const cnv_runtime *rt) {
  if (!rt) return CNV_PHASE_SHUTDOWN;
  return cnv_swarm_phase(&rt->swarm);
}

cnv_status cnv_runtime_timeline(const cnv_runtime *rt, cnv_phase_span *out, size_t cap,
                                size_t *n, uint64_t *dropped) {
  if (!rt || !n || (!out && cap)) return CNV_EINVAL;
  cnv_runtime *m = (cnv_runtime *)rt; /* the lock is not part of the observable state */
  pthread_mutex_lock(&m->phase_lock);
  uint64_t now = cnv__rt_phase_now(rt) - 1;
  size_t k = rt->n_timeline < cap ? rt->n_timeline : cap;
  for (size_t i = 0; i < k; i++) {
    out[i] = rt->timeline[i];
    uint64_t end = i + 1 < rt->n_timeline ? rt->timeline[i + 1].enter_ns : now;
    if (rt->timeline[i].phase == CNV_PHASE_SHUTDOWN && i + 1 == rt->n_timeline) end = out[i].enter_ns;
    out[i].duration_ns = end > out[i].enter_ns ? end - out[i].enter_ns : 0;
  }
  if (dropped) *dropped = rt->timeline_dropped;
  pthread_mutex_unlock(&m->phase_lock);
  *n = k;
  return CNV_OK;
}

cnv_status cnv__rt_tick(cnv_runtime *rt) {
  pthread_mutex_lock(&rt->phase_lock);
  uint64_t now = cnv__rt_phase_now(rt);
  int moved = -1;
  cnv_phase from = cnv_swarm_phase(&rt->swarm); /* stable under phase_lock (see above) */
  cnv_status st = cnv_swarm_tick(&rt->swarm, now, &moved);
  if (st == CNV_OK && moved >= 0) {
    timeline_append(rt, moved, now);
    if (rt->cfg.ledger) cnv__rt_lrec_phase(rt, (int)from, moved, CNV_RT_PHASE_BREAKER);
  }
  pthread_mutex_unlock(&rt->phase_lock);
  return st;
}
