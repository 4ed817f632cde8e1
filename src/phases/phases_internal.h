/* Private layouts of the phases module: swarm, breaker and observer. Never installed. */
#ifndef CNV__PHASES_INTERNAL_H
#define CNV__PHASES_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <cnv/phases.h>

#include "core/atomic.h"

/* Packed swarm state: bits 0..2 the phase, bits 3..63 the time the phase was entered.
 * One word so the CAS that moves the phase also tells the winner how long it lasted. */
#define CNV__PHASE_BITS 3u
#define CNV__PHASE_MASK UINT64_C(7)
#define CNV__TIME_LIMIT (UINT64_C(1) << 61)

static inline uint64_t cnv__phase_pack(int phase, uint64_t now_ns) {
  return (now_ns << CNV__PHASE_BITS) | (uint64_t)phase;
}
static inline int cnv__phase_of(uint64_t word) { return (int)(word & CNV__PHASE_MASK); }
static inline uint64_t cnv__entered_of(uint64_t word) { return word >> CNV__PHASE_BITS; }

struct cnv__breaker_snap {
  uint64_t t_ns, total, fails;
};

struct cnv__breaker {
  /* Written by every recorder: its own line. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t total;
  _Atomic uint64_t fails;
  /* Evaluation state: only the thread holding `busy` touches the rest. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t busy;
  uint32_t head, count, calm, wrapped;
  uint64_t calm_since;
  cnv_breaker_config cfg;
  uint64_t bucket_ns;
  struct cnv__breaker_snap ring[CNV_BREAKER_MAX_BUCKETS + 1];
};

struct cnv__swarm {
  /* The phase word, read by everyone, moved by CAS. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t state;
  uint64_t id;
  cnv_observer *observer;
  _Atomic uint32_t last_reason;
  /* Event counters, each a relaxed add. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t transitions;
  _Atomic uint64_t rejected;
  _Atomic uint64_t algedonic;
  _Atomic int64_t agents;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t time_ns[CNV_PHASE_COUNT];
  _Atomic uint64_t errors[CNV_PHASE_COUNT];
  struct cnv__breaker breaker;
};

_Static_assert(sizeof(struct cnv__breaker) <= sizeof(cnv_breaker), "cnv_breaker storage too small");
_Static_assert(sizeof(struct cnv__swarm) <= sizeof(cnv_swarm), "cnv_swarm storage too small");

/* Legal-move table lookup without range checks (callers checked). */
int cnv__phase_move_legal(int from, int to);

#endif
