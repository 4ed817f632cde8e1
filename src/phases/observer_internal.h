/* Private layout of the observer: MPSC channel, matrix, Welford table, rules. */
#ifndef CNV__OBSERVER_INTERNAL_H
#define CNV__OBSERVER_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <cnv/phases.h>

#include "core/atomic.h"

/* One channel slot (Vyukov bounded queue): seq == pos when free for the producer of pos,
 * pos + 1 when it holds that producer's event. */
struct cnv__obs_slot {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t seq;
  cnv_phase_event ev;
};

/* Welford's online mean and variance of one (swarm, phase) duration series. */
struct cnv__welford {
  uint64_t n;
  double mean, m2;
  uint64_t min, max;
};

struct cnv__obs_swarm {
  uint64_t id;
  uint32_t used;
  struct cnv__welford w[CNV_PHASE_COUNT];
};

struct cnv__obs_rule {
  cnv_alert_rule r;
  uint64_t count;     /* matching transitions: since start (THRESHOLD) or this window (RATE) */
  uint64_t win_start; /* RATE: start of the current window */
  uint32_t fired;     /* THRESHOLD: fired once; RATE: fired in this window */
};

struct cnv_observer {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t tail; /* producers claim positions here */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t dropped;
  /* Consumer side. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t busy;
  uint64_t head;
  _Atomic uint64_t drained, untracked, warnings, criticals;
  _Atomic uint64_t matrix[CNV_PHASE_COUNT][CNV_PHASE_COUNT];
  struct cnv__obs_slot *slots;
  uint64_t mask;
  struct cnv__obs_swarm *table;
  uint32_t table_mask, table_used, max_swarms, min_samples;
  cnv_alert_fn on_alert;
  void *alert_ctx;
  uint32_t nrules;
  struct cnv__obs_rule rules[CNV_OBSERVER_MAX_RULES];
};

/* Judges one drained event against the built-in z-score alert and every rule, updating
 * rule state and calling on_alert. `w` is the series before this duration is added
 * (NULL when the swarm is untracked). Consumer thread only. */
void cnv__obs_judge(struct cnv_observer *o, const cnv_phase_event *ev, const struct cnv__welford *w);

#endif
