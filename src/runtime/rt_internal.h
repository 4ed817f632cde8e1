/* Internals of the runtime module: the runtime object's layout and the helpers its files
 * share. Never installed. */
#ifndef CNV__RT_INTERNAL_H
#define CNV__RT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cnv/hotpath.h>
#include <cnv/ledger.h>
#include <cnv/runtime.h>
#include <cnv/telemetry.h>
#include <cnv/variety.h>
#include "core/atomic.h"
#include "core/ignore.h"
#include "core/tsan.h"

/* The runtime's counters (telemetry striped counters, ids in cnv_runtime.m_count). Every
 * submit past its argument checks adds 1 to SUBMITTED on entry and 1 to exactly one outcome
 * (ACCEPTED, FULL, REFUSED, INVALID or a denial) on exit; stop relies on that
 * (cnv__rt_wait_submits). Every accepted invocation adds 1 to exactly one DONE counter when
 * its completion has been delivered. */
enum {
  CNV__RT_C_SUBMITTED = 0,
  CNV__RT_C_ACCEPTED,
  CNV__RT_C_FULL,
  CNV__RT_C_REFUSED,
  CNV__RT_C_INVALID,
  CNV__RT_C_EXECUTED,
  CNV__RT_C_FAILED,
  CNV__RT_C_OUTCOMES,                                           /* the outcome counters above are named by outcome_names */
  CNV__RT_C_DONE0 = CNV__RT_C_OUTCOMES,                         /* CNV_DONE_COUNT slots */
  CNV__RT_C_TARGET0 = CNV__RT_C_DONE0 + CNV_DONE_COUNT,         /* CNV_DURATION_COUNT slots */
  CNV__RT_C_DEADLINE0 = CNV__RT_C_TARGET0 + CNV_DURATION_COUNT, /* CNV_DURATION_COUNT */
  CNV__RT_C_DENIED0 = CNV__RT_C_DEADLINE0 + CNV_DURATION_COUNT, /* CNV_RT_DENY_COUNT */
  CNV__RT_C_COUNT = CNV__RT_C_DENIED0 + CNV_RT_DENY_COUNT
};

/* Distinct capability ids the variety tally holds exactly. */
#define CNV__RT_VARIETY_CAPACITY 4096u
#define CNV__RT_MAX_WORKERS 256u
#define CNV__RT_MAX_LINE 4000u
#define CNV__RT_MAX_RESULT (16u << 20)
/* Bytes of a record before the copied line. */
#define CNV__RT_RECORD_HEADER 8u

/* Header of one queue record; the copied line follows it. Everything else about the
 * invocation is in its slot. Records are built and read with memcpy. */
typedef struct cnv__rt_rec_head {
  uint32_t slot;
  uint16_t line_len;
  uint16_t path_off;
} cnv__rt_rec_head;

/* Room for the largest record. */
typedef struct cnv__rt_rec_buf {
  uint64_t words[(CNV__RT_RECORD_HEADER + CNV__RT_MAX_LINE) / 8 + 1];
} cnv__rt_rec_buf;

/* Slot states: generation << 8 | flags. The generation changes each time the slot is freed,
 * so a ticket (generation << 32 | index) names one invocation only. */
#define CNV__RT_S_PHASE 3u
#define CNV__RT_S_FREE 0u
#define CNV__RT_S_QUEUED 1u
#define CNV__RT_S_RUNNING 2u
#define CNV__RT_S_DONE 3u
#define CNV__RT_S_CANCEL 4u
#define CNV__RT_S_GEN(s) ((uint32_t)((s) >> 8))

/* One accepted invocation, from acceptance to completion. The submitter writes every field
 * before the record's push (the queue's release), so whoever pops the record reads them. */
typedef struct cnv__rt_slot {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t state;
  int32_t worker; /* the worker that ran it (written before RUNNING is published) */
  uint64_t ticket;
  uint64_t correlation;
  uint64_t capability;
  uint64_t seq;
  uint64_t accept_ns;
  uint64_t deadline_ns;
  uint64_t start_ns; /* written before RUNNING is published */
  uint32_t agent;
  int32_t cls;
  cnv_runtime_done_fn on_done;
  void *done_ctx;
  struct cnv_runtime_cq *cq;
  cnv_trace trace;
  cnv_runtime_progress_fn on_progress; /* the run copies both (cnv__rt_run) */
  void *progress_ctx;
  /* With a ledger only (written at acceptance, read by its COMPLETE record): the policy
   * epoch and wall clock (ms) of the admission, and copies of the agent's key and token
   * chain hash (the agent may be removed before its work completes). */
  uint64_t epoch;
  uint64_t start_ms;
  uint8_t key[CNV_LEDGER_KEY_BYTES];
  uint8_t chain[CNV_LEDGER_HASH_BYTES];
} cnv__rt_slot;

/* One run of a handler, on its worker's stack: what cnv_runtime_call.internal points at.
 * Only the handler's thread touches it, so the progress checks need no atomics, and a slot
 * that stop gives back (and a new submit fills) while an abandoned handler still runs is
 * never written through it. */
typedef struct cnv__rt_run {
  cnv__rt_slot *slot;
  cnv_runtime_progress_fn on_progress;
  void *progress_ctx;
  double progress_last; /* the last report's progress; -1 before the first */
} cnv__rt_run;

/* A registered capability: immutable once published, except its counters. */
typedef struct cnv__rt_handler {
  uint64_t id;
  cnv_deleg_cap cap;
  cnv_runtime_handler_fn fn;
  void *ctx;
  cnv_effects effects;
  int32_t cls;
  const cnv_parse_schema *schema; /* as registered (the caller's; NULL: none) */
  /* the schema when submit must check lines against it (typed arguments or CLOSED), else
   * NULL: a capability without one costs submit a single pointer test */
  const cnv_parse_schema *check;
  const char *title, *description;                     /* the caller's; may be NULL */
  _Atomic uint64_t failed, over_target, over_deadline; /* relaxed adds: figures only */
  size_t path_len;
  char path[256];
} cnv__rt_handler;

/* The handler index: open addressing over handler pointers (NULL = empty). Immutable once
 * published through cnv_runtime.table (RCU); a change publishes a new table. */
typedef struct cnv__rt_table {
  uint32_t mask;
  uint32_t count;
  cnv__rt_handler *slot[];
} cnv__rt_table;

/* An agent's token as added, with its holder key: what cnv_runtime_agent_check verifies
 * (cnv_deleg_verify charges nothing, where the prepared token's authorize takes uses). */
typedef struct cnv__rt_token {
  uint8_t holder[CNV_DELEG_KEY_BYTES];
  uint8_t chain[CNV_LEDGER_HASH_BYTES]; /* cnv_ledger_token_hash of bytes (computed at add) */
  size_t len;
  uint8_t bytes[];
} cnv__rt_token;

typedef struct cnv__rt_agent {
  /* the agent's token bound to its key and the swarm: verified once, re-checked only when
   * the verifier's policy epoch moves (cnv_deleg_prepared_authorize) */
  CNV_ALIGNED(CNV_CACHELINE)
  cnv_deleg_prepared *prepared;
  cnv__rt_token *token;   /* set with prepared, published by `ready` as it is */
  _Atomic uint32_t ready; /* CNV__RT_AGENT_*: READY once prepared is set (release by agent_add) */
  _Atomic uint64_t rate;  /* rate_per_s << 32 | burst; 0: unlimited */
  _Atomic uint64_t tat;   /* rate limit: the bucket's theoretical arrival time (ns) */
} cnv__rt_agent;

/* An agent slot's state: FREE (never used, or removed), READY (usable by submits), BUSY (an
 * add or a remove owns it). Add claims a FREE slot FREE -> BUSY, remove a READY one READY ->
 * BUSY; each hands it on with a release store. */
enum { CNV__RT_AGENT_FREE = 0,
       CNV__RT_AGENT_READY = 1,
       CNV__RT_AGENT_BUSY = 2 };

enum { CNV__RT_CREATED = 0,
       CNV__RT_RUNNING = 1,
       CNV__RT_STOPPING = 2,
       CNV__RT_STOPPED = 3 };

/* What a handler writes through (cnv_runtime_result). */
struct cnv_runtime_result {
  uint8_t *buf;
  uint32_t cap;
  uint32_t len;
  int type;
  int refused; /* a write would have passed cap */
};

typedef struct cnv__rt_worker {
  CNV_ALIGNED(CNV_CACHELINE)
  struct cnv_runtime *rt;
  pthread_t thread;
  uint32_t index;
  int started;
  int stuck;
  /* what stop abandoned on this worker (reported only if the worker is still inside at the
   * timeout); stop's thread only */
  int abandoned;
  cnv_runtime_stuck_worker gave_up;
  _Atomic int exited;
  /* 1 while it runs a popped record (the handler, the completion callback): stop reports a
   * worker stuck only while it is busy, and waits for an idle one to exit */
  _Atomic int busy;
  /* The handler this worker is about to run or runs (unregister waits for it to change). */
  _Atomic(cnv__rt_handler *) current;
  struct cnv_runtime_result result;
  cnv_tel_shard *shard;
} cnv__rt_worker;

struct cnv_runtime {
  cnv_runtime_config cfg;
  uint32_t record_size;
  uint64_t t0_ns; /* monotonic time at create; phase times are relative to it (+1) */
  _Atomic int state;
  _Atomic int drain;  /* set by stop after submits are gone: workers exit once empty */
  _Atomic int abort;  /* set by stop at its timeout: nothing more starts */
  cnv_queue *lane[2]; /* 0: high priority, 1: low */
  cnv_deleg_verifier *verifier;
  cnv_swarm swarm;
  cnv_telemetry *tel;
  /* in-flight slots: a ring taken in submission order (slots.c) */
  cnv__rt_slot *slots;
  uint32_t n_slots;
  /* submission numbers: written by every submit, on a line of its own */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t seq;
  /* parking: the eventcount idle workers wait on; spinners: idle workers still looking */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t park_epoch;
  /* the newest epoch a parking worker has read (park.c): below park_epoch while a wake-up is
   * on its way to a worker that has not yet looked at the queues */
  _Atomic uint32_t park_seen;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t parked; /* changes only when a worker parks: read by every submit */
  /* changes whenever a worker runs out of work: on a line of its own, read only while some
   * worker is parked */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t spinners;
  /* handlers: RCU-published index, changed under registry_lock */
  CNV_ALIGNED(CNV_CACHELINE)
  cnv__rt_table *table;
  pthread_mutex_t registry_lock;
  _Atomic uint32_t n_handlers;
  _Atomic uint64_t registry_gen; /* cnv_runtime_registry_generation; written under the lock */
  cnv__rt_agent *agents;
  _Atomic uint32_t n_agents;       /* agents added and not removed (a count for the figures) */
  cnv_variety_tally *capabilities; /* every parsed capability id (the stream's variety) */
  /* phase timeline, guarded by phase_lock (transitions are rare; never on the hot path) */
  pthread_mutex_t phase_lock;
  cnv_phase_span timeline[CNV_RT_TIMELINE_MAX];
  size_t n_timeline;
  uint64_t timeline_dropped;
  /* threads */
  cnv__rt_worker *workers;
  pthread_t monitor;
  int monitor_started;
  _Atomic int monitor_stop;
  _Atomic uint64_t breaker_ratio_bits; /* double bits of the last tick's ratio */
  cnv_runtime_stuck_worker *stuck;     /* filled by stop (workers entries) */
  _Atomic size_t n_stuck;              /* entries written (release by stop) */
  /* ledger (ledger_rec.c): the policy epoch, read (acquire) by every submit when a ledger is
   * configured and written only by policy records, on a line of its own; the records the
   * ledger refused; the mutex that keeps policy records in epoch order in the log */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t epoch;
  _Atomic uint64_t ledger_failed;
  pthread_mutex_t ledger_lock;
  uint8_t empty_result[CNV_LEDGER_HASH_BYTES]; /* the result hash of no bytes (init) */
  /* telemetry ids */
  cnv_metric_id m_count[CNV__RT_C_COUNT]; /* striped counters, by CNV__RT_C_* */
  cnv_metric_id m_latency, m_phase, m_queue, m_variety_bits, m_deficit, m_entropy, m_agents;
};

/* Adds n to counter `which` (CNV__RT_C_*). Wait-free; a seq_cst RMW (cnv_tel_striped_add). */
static inline void cnv__rt_count(cnv_runtime *rt, int which, uint64_t n) {
  /* The id was registered at create, so the add cannot fail: nothing to report. */
  cnv__ignore_status(cnv_tel_striped_add(rt->tel, rt->m_count[which], n));
}

/* Total of counter `which` (seq_cst loads of the stripes, summed). */
static inline uint64_t cnv__rt_counter(const cnv_runtime *rt, int which) {
  uint64_t v = 0;
  /* The id was registered at create, so the read cannot fail: v is the total. */
  cnv__ignore_status(cnv_tel_counter_value(rt->tel, rt->m_count[which], &v));
  return v;
}

/* The agent, if added (acquire: pairs with agent_add's release, so its prepared token and
 * its token copy are set); NULL otherwise. */
static inline cnv__rt_agent *cnv__rt_agent_get(cnv_runtime *rt, uint32_t agent) {
  if (agent >= rt->cfg.max_agents) return NULL;
  cnv__rt_agent *a = &rt->agents[agent];
  return cnv__load_acquire(&a->ready) == CNV__RT_AGENT_READY ? a : NULL;
}

/* Transition under the timeline lock, appending to the timeline on success. */
CNV_NODISCARD cnv_status cnv__rt_move(cnv_runtime *rt, int from, int to);
/* Raise the algedonic signal under the timeline lock. */
CNV_NODISCARD cnv_status cnv__rt_algedonic(cnv_runtime *rt, uint32_t reason);
/* One breaker tick under the timeline lock (monitor thread). */
CNV_NODISCARD cnv_status cnv__rt_tick(cnv_runtime *rt);
/* Starts the worker and monitor threads (start). */
CNV_NODISCARD cnv_status cnv__rt_threads_start(cnv_runtime *rt);
/* Drains and joins the threads (stop): waits up to timeout_ns for every accepted invocation
 * to complete, then aborts what is left; returns how many workers stay inside a handler. */
size_t cnv__rt_threads_stop(cnv_runtime *rt, uint64_t timeout_ns);
/* Ends the monitor thread at once (wakes it from its tick's sleep) and joins it (stop). */
void cnv__rt_monitor_end(cnv_runtime *rt);
/* Sleeps ns nanoseconds. */
void cnv__rt_sleep_ns(uint64_t ns);
/* Joins the workers stop left inside a handler (destroy; blocks until their handlers
 * return). */
void cnv__rt_threads_join_stuck(cnv_runtime *rt);
/* The timeout of the stop destroy makes. */
#define CNV__RT_DESTROY_STOP_NS 10000000000ull
/* Registers every telemetry metric (create). */
CNV_NODISCARD cnv_status cnv__rt_metrics_register(cnv_runtime *rt);
/* Refreshes the gauges (phase, queue depth, variety) from the current state. */
void cnv__rt_gauges_refresh(cnv_runtime *rt);

/* Handler registry (registry.c). */
CNV_NODISCARD cnv_status cnv__rt_registry_create(cnv_runtime *rt);
void cnv__rt_registry_destroy(cnv_runtime *rt);
/* The handler of capability `id` in `t`, or NULL. Inside an RCU read-side section. */
cnv__rt_handler *cnv__rt_table_find(const cnv__rt_table *t, uint64_t id);
/* Writes cnv_rt_capability_overruns_total for every registered capability. */
CNV_NODISCARD cnv_status cnv__rt_registry_export(cnv_runtime *rt, cnv_tel_write_fn fn, void *ctx);

/* In-flight slots (slots.c). */
CNV_NODISCARD cnv_status cnv__rt_slots_create(cnv_runtime *rt);
/* Takes a free slot (state QUEUED; its seq and ticket set) or returns NULL (all in flight).
 * Lock-free. */
cnv__rt_slot *cnv__rt_slot_take(cnv_runtime *rt);
/* Frees a completed slot under a new generation. Wait-free. */
void cnv__rt_slot_give(cnv__rt_slot *s);

/* Rate limit check of one agent at monotonic time now; 1: allowed. Lock-free. */
int cnv__rt_rate_allow(cnv__rt_agent *a, uint64_t now);

/* Parking (park.c): a worker waits for work; after its push a submit wakes one parked
 * worker unless another worker still spins for work (that one takes the record). */
void cnv__rt_park_wake_one(cnv_runtime *rt);
/* Wakes one parked worker even while others spin (a spinner that took a record). */
void cnv__rt_park_wake_any(cnv_runtime *rt);
void cnv__rt_park_wake_all(cnv_runtime *rt);
/* Parks the calling worker unless a record is found (returns 1, the record in buf) or a push
 * is in flight (returns 0 at once); 0 after a wake-up. */
int cnv__rt_park(cnv_runtime *rt, void *buf);

/* Completion delivery (complete.c): hands c to the slot's callback or queue, counts it by
 * kind, frees the slot. c->ticket etc. are filled from the slot. */
void cnv__rt_complete(cnv_runtime *rt, cnv__rt_slot *s, cnv_runtime_completion *c);
/* A completion of the slot's invocation with no run (kind, status), worker -1. */
void cnv__rt_complete_unrun(cnv_runtime *rt, cnv__rt_slot *s, int kind, cnv_status status);

/* Completion queue internals (cq.c). */
/* Reserves room for one completion; CNV_EFULL when every entry is reserved. */
CNV_NODISCARD cnv_status cnv__rt_cq_reserve(struct cnv_runtime_cq *cq);
void cnv__rt_cq_unreserve(struct cnv_runtime_cq *cq);
/* Stores a completion into reserved room. */
void cnv__rt_cq_push(struct cnv_runtime_cq *cq, const cnv_runtime_completion *c);
/* The runtime a queue belongs to. */
const cnv_runtime *cnv__rt_cq_owner(const struct cnv_runtime_cq *cq);

/* Runs one popped record (worker.c); worker NULL: stop's own drain (never runs it). */
void cnv__rt_run_record(cnv_runtime *rt, cnv__rt_worker *w, const void *buf);
/* Pops one record from the high lane, else the low one: GOT (in buf), EMPTY, or AGAIN (a
 * push is writing the oldest record of a lane: look again soon, do not park). */
enum { CNV__RT_POP_EMPTY = 0,
       CNV__RT_POP_GOT = 1,
       CNV__RT_POP_AGAIN = 2 };
int cnv__rt_pop(cnv_runtime *rt, void *buf);

/* The current handler index, inside an RCU read-side section (with its TSan edge). */
cnv__rt_table *cnv__rt_table_get(cnv_runtime *rt);
#endif
