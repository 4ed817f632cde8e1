/* One swarm's phase machine: every move is one CAS on the packed (phase, entry time) word. */
#include <string.h>

#include "phases_internal.h"
#include "core/ignore.h"

static struct cnv__swarm *cnv__sw(cnv_swarm *sw) { return (struct cnv__swarm *)(void *)sw; }
static const struct cnv__swarm *cnv__csw(const cnv_swarm *sw) {
  return (const struct cnv__swarm *)(const void *)sw;
}

CNV_API cnv_status cnv_swarm_init(cnv_swarm *sw, uint64_t swarm_id, uint64_t now_ns,
                                  const cnv_breaker_config *breaker, cnv_observer *observer) {
  if (!sw) return CNV_EINVAL;
  if (now_ns >= CNV__TIME_LIMIT) return CNV_ERANGE;
  cnv_breaker_config def = cnv_breaker_config_default();
  struct cnv__swarm *s = cnv__sw(sw);
  memset(s, 0, sizeof *s);
  cnv_status st = cnv_breaker_init((cnv_breaker *)(void *)&s->breaker, breaker ? breaker : &def);
  if (st != CNV_OK) return st;
  s->id = swarm_id;
  s->observer = observer;
  /* Relaxed: initialization is published to other threads by whatever hands them `sw`. */
  cnv__store_relaxed(&s->state, cnv__phase_pack(CNV_PHASE_BOOTSTRAP, now_ns));
  return CNV_OK;
}

CNV_API cnv_phase cnv_swarm_phase(const cnv_swarm *sw) {
  /* Acquire pairs with the winner's acq_rel CAS: what it did before the move is visible. */
  return (cnv_phase)cnv__phase_of(cnv__load_acquire(&cnv__csw(sw)->state));
}

static cnv_status cnv__reject(struct cnv__swarm *s, cnv_status why) {
  /* Relaxed: a statistic, ordered with nothing. */
  cnv__fetch_add_relaxed(&s->rejected, 1);
  return why;
}

/* The winner of a move accounts the time spent in `from` and tells the observer. */
static void cnv__after_move(struct cnv__swarm *s, uint64_t old, int to, uint64_t now_ns) {
  uint64_t entered = cnv__entered_of(old);
  uint64_t spent = now_ns > entered ? now_ns - entered : 0;
  int from = cnv__phase_of(old);
  /* Relaxed: counters; readers want each value, not an instant across them. */
  cnv__fetch_add_relaxed(&s->time_ns[from], spent);
  cnv__fetch_add_relaxed(&s->transitions, 1);
  if (s->observer) {
    cnv_phase_event ev = {s->id, now_ns, entered, spent, from, to};
    /* The move stands either way: a full channel refuses the event and counts it dropped. */
    cnv__ignore_status(cnv_observer_publish(s->observer, &ev));
  }
}

/* One CAS from a word in phase `from`; retries only while the swarm is still in `from`
 * (another thread moved it away and back, or nothing but the entry time changed).
 * On failure *seen gets the phase the swarm was found in. */
static int cnv__move(struct cnv__swarm *s, int from, int to, uint64_t now_ns, int *seen) {
  /* Acquire: we compute from the previous winner's word. */
  uint64_t old = cnv__load_acquire(&s->state);
  uint64_t want = cnv__phase_pack(to, now_ns);
  while (cnv__phase_of(old) == from) {
    /* acq_rel: the CAS is the move's linearization point; release hands what this thread
     * wrote before it to readers that acquire the new word, acquire (also on failure)
     * gives us the previous winner's. The accounting after it is relaxed counters. */
    if (cnv__cas_weak(&s->state, &old, want, memory_order_acq_rel, memory_order_acquire)) {
      cnv__after_move(s, old, to, now_ns);
      return 1;
    }
  }
  *seen = cnv__phase_of(old);
  return 0;
}

CNV_API cnv_status cnv_swarm_transition(cnv_swarm *sw, int from, int to, uint64_t now_ns) {
  if (!sw) return CNV_EINVAL;
  struct cnv__swarm *s = cnv__sw(sw);
  if (now_ns >= CNV__TIME_LIMIT) return cnv__reject(s, CNV_ERANGE);
  cnv_status legal = cnv_phase_check_move(from, to);
  if (legal != CNV_OK) return cnv__reject(s, legal);
  int seen;
  if (cnv__move(s, from, to, now_ns, &seen)) return CNV_OK;
  return cnv__reject(s, seen == CNV_PHASE_SHUTDOWN ? CNV_EPHASE_FINAL : CNV_EPHASE_STALE);
}

CNV_API cnv_status cnv_swarm_raise_algedonic(cnv_swarm *sw, uint32_t reason, uint64_t now_ns) {
  if (!sw) return CNV_EINVAL;
  struct cnv__swarm *s = cnv__sw(sw);
  if (now_ns >= CNV__TIME_LIMIT) return CNV_ERANGE;
  /* Relaxed: statistics about the signal, not ordered with the move. */
  cnv__fetch_add_relaxed(&s->algedonic, 1);
  cnv__store_relaxed(&s->last_reason, reason);
  /* Acquire: we judge the phase the last winner wrote. */
  int cur = cnv__phase_of(cnv__load_acquire(&s->state));
  for (;;) {
    if (cur == CNV_PHASE_SHUTDOWN) return CNV_EPHASE_FINAL;
    if (cur == CNV_PHASE_EMERGENCY) return CNV_EPHASE_ALREADY_EMERGENCY;
    if (cnv__move(s, cur, CNV_PHASE_EMERGENCY, now_ns, &cur)) return CNV_OK;
    /* Lost a race: the swarm moved to `cur`; judge that phase. */
  }
}

CNV_API cnv_status cnv_swarm_record_invocation(cnv_swarm *sw, int ok) {
  if (!sw) return CNV_EINVAL;
  struct cnv__swarm *s = cnv__sw(sw);
  if (!ok) {
    /* Relaxed: the phase read only attributes the error; a racing move may attribute it
     * to the phase being left, which is when it happened. */
    int p = cnv__phase_of(cnv__load_relaxed(&s->state));
    cnv__fetch_add_relaxed(&s->errors[p], 1);
  }
  return cnv_breaker_record((cnv_breaker *)(void *)&s->breaker, ok);
}

CNV_API cnv_status cnv_swarm_agent_join(cnv_swarm *sw) {
  if (!sw) return CNV_EINVAL;
  /* Relaxed: a count; no data is published with it. */
  cnv__fetch_add_relaxed(&cnv__sw(sw)->agents, 1);
  return CNV_OK;
}

CNV_API cnv_status cnv_swarm_agent_leave(cnv_swarm *sw) {
  if (!sw) return CNV_EINVAL;
  struct cnv__swarm *s = cnv__sw(sw);
  int64_t cur = cnv__load_relaxed(&s->agents);
  do {
    if (cur <= 0) return CNV_EPHASE_AGENTS_UNDERFLOW;
    /* Relaxed: a count; the CAS keeps it from going below zero. */
  } while (!cnv__cas_weak(&s->agents, &cur, cur - 1, memory_order_relaxed, memory_order_relaxed));
  return CNV_OK;
}

CNV_API cnv_status cnv_swarm_tick(cnv_swarm *sw, uint64_t now_ns, int *moved_to) {
  if (moved_to) *moved_to = -1;
  if (!sw) return CNV_EINVAL;
  struct cnv__swarm *s = cnv__sw(sw);
  int phase = (int)cnv_swarm_phase(sw);
  int target = phase;
  cnv_status st = cnv_breaker_evaluate((cnv_breaker *)(void *)&s->breaker, now_ns, phase, &target, NULL);
  if (st != CNV_OK || target == phase) return st;
  st = cnv_swarm_transition(sw, phase, target, now_ns);
  if (st == CNV_EPHASE_STALE) return CNV_OK;
  if (st == CNV_OK && moved_to) *moved_to = target;
  return st;
}

static void cnv__fill_times(const struct cnv__swarm *s, uint64_t word, uint64_t now_ns,
                            cnv_swarm_report *out) {
  for (int p = 0; p < CNV_PHASE_COUNT; p++) {
    /* Relaxed: counters read one by one (documented: not one instant). */
    out->time_in_phase_ns[p] = cnv__load_relaxed(&s->time_ns[p]);
    out->errors_in_phase[p] = cnv__load_relaxed(&s->errors[p]);
  }
  uint64_t entered = cnv__entered_of(word);
  if (now_ns > entered) out->time_in_phase_ns[cnv__phase_of(word)] += now_ns - entered;
}

static void cnv__fill_report(const struct cnv__swarm *s, uint64_t word, uint64_t now_ns,
                             cnv_swarm_report *out) {
  memset(out, 0, sizeof *out);
  out->swarm_id = s->id;
  out->phase = cnv__phase_of(word);
  out->entered_ns = cnv__entered_of(word);
  cnv__fill_times(s, word, now_ns, out);
  /* Acquire on fails: pairs with cnv_breaker_record's release fail add, so every total add
   * made before a fail add read here is seen by the total load below (which the acquire
   * also keeps after this one): failures <= invocations. */
  out->failures = cnv__load_acquire(&s->breaker.fails);
  /* Acquire on total: not needed for the bound above (the fails acquire gives it); it
   * mirrors the breaker's own reads. The value is a statistic. */
  out->invocations = cnv__load_acquire(&s->breaker.total);
  /* Relaxed: statistics, ordered with nothing (see cnv__fill_times). */
  out->transitions = cnv__load_relaxed(&s->transitions);
  out->rejected_transitions = cnv__load_relaxed(&s->rejected);
  out->algedonic_signals = cnv__load_relaxed(&s->algedonic);
  out->last_algedonic_reason = cnv__load_relaxed(&s->last_reason);
  out->active_agents = cnv__load_relaxed(&s->agents);
  out->health_ratio = out->invocations
                          ? (double)(out->invocations - out->failures) / (double)out->invocations
                          : 1.0;
}

CNV_API cnv_status cnv_swarm_snapshot(const cnv_swarm *sw, uint64_t now_ns, cnv_swarm_report *out) {
  if (!sw || !out) return CNV_EINVAL;
  const struct cnv__swarm *s = cnv__csw(sw);
  /* Acquire: the phase word and what its writer accounted before it. */
  cnv__fill_report(s, cnv__load_acquire(&s->state), now_ns, out);
  return CNV_OK;
}

CNV_API cnv_status cnv_swarm_shutdown(cnv_swarm *sw, int from, uint64_t now_ns,
                                      cnv_swarm_report *out) {
  if (!out) return CNV_EINVAL;
  cnv_status st = cnv_swarm_transition(sw, from, CNV_PHASE_SHUTDOWN, now_ns);
  if (st != CNV_OK) return st;
  return cnv_swarm_snapshot(sw, now_ns, out);
}
