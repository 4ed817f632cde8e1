/* Internals of the runtime module: the runtime object's layout and the helpers its files
 * share. Never installed. */
#ifndef CNV__RT_INTERNAL_H
#define CNV__RT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cnv/hotpath.h>
#include <cnv/runtime.h>
#include <cnv/telemetry.h>
#include <cnv/variety.h>
#include "core/ignore.h"

/* The runtime's counters (telemetry striped counters, ids in cnv_runtime.m_count). Every
 * submit past its argument checks adds 1 to SUBMITTED on entry and 1 to exactly one outcome
 * (ACCEPTED, FULL, REFUSED or a denial) on exit; stop relies on that (cnv_runtime_stop). */
enum {
  CNV__RT_C_SUBMITTED = 0,
  CNV__RT_C_ACCEPTED,
  CNV__RT_C_FULL,
  CNV__RT_C_REFUSED,
  CNV__RT_C_EXECUTED,
  CNV__RT_C_FAILED,
  CNV__RT_C_DENIED0, /* CNV_RT_DENY_COUNT slots from here */
  CNV__RT_C_COUNT = CNV__RT_C_DENIED0 + CNV_RT_DENY_COUNT
};

/* Distinct capability ids the variety tally holds exactly. */
#define CNV__RT_VARIETY_CAPACITY 4096u
#define CNV__RT_MAX_WORKERS 256u
#define CNV__RT_MAX_LINE 4000u
/* Bytes of a record before the copied line. */
#define CNV__RT_RECORD_HEADER 32u

/* Header of one queue record; the copied line follows it (record_size - header bytes of
 * room). Records are built and read with memcpy, so the slot bytes need no alignment. */
typedef struct cnv__rt_rec_head {
  uint64_t seq;
  uint64_t accept_ns; /* monotonic time of acceptance */
  uint32_t handler;   /* index into handlers */
  uint32_t agent;
  uint16_t line_len;
  uint16_t path_off;
  uint16_t path_len;
  uint16_t reserved;
} cnv__rt_rec_head;

/* Room for the largest record. */
typedef struct cnv__rt_rec_buf {
  uint64_t words[(CNV__RT_RECORD_HEADER + CNV__RT_MAX_LINE) / 8 + 1];
} cnv__rt_rec_buf;

typedef struct cnv__rt_handler {
  uint64_t id;
  cnv_deleg_cap cap;
  cnv_runtime_handler_fn fn;
  void *ctx;
  cnv_effects effects;
} cnv__rt_handler;

typedef struct cnv__rt_agent {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  uint8_t *token;
  size_t token_len;
  _Atomic uint32_t ready; /* 1 once pk and token are written (release by agent_add) */
} cnv__rt_agent;

enum { CNV__RT_CREATED = 0,
       CNV__RT_RUNNING = 1,
       CNV__RT_STOPPING = 2,
       CNV__RT_STOPPED = 3 };

typedef struct cnv__rt_worker {
  struct cnv_runtime *rt;
  pthread_t thread;
  uint32_t index;
  int started;
} cnv__rt_worker;

struct cnv_runtime {
  cnv_runtime_config cfg;
  uint32_t record_size;
  uint64_t t0_ns; /* monotonic time at create; phase times are relative to it (+1) */
  _Atomic int state;
  _Atomic int drain; /* set by stop after submits are gone: workers exit once empty */
  _Atomic uint64_t seq;
  cnv_queue *queue;
  cnv_deleg_verifier *verifier;
  cnv_swarm swarm;
  cnv_telemetry *tel;
  /* handlers: array plus open-addressed index by id (0 = empty, else index + 1) */
  cnv__rt_handler *handlers;
  uint32_t n_handlers;
  uint32_t *handler_index;
  uint32_t handler_mask;
  cnv__rt_agent *agents;
  _Atomic uint32_t n_agents;       /* reserved slots */
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

/* Transition under the timeline lock, appending to the timeline on success. */
CNV_NODISCARD cnv_status cnv__rt_move(cnv_runtime *rt, int from, int to);
/* Raise the algedonic signal under the timeline lock. */
CNV_NODISCARD cnv_status cnv__rt_algedonic(cnv_runtime *rt, uint32_t reason);
/* One breaker tick under the timeline lock (monitor thread). */
CNV_NODISCARD cnv_status cnv__rt_tick(cnv_runtime *rt);
/* Starts the worker and monitor threads; joins them (stop). */
CNV_NODISCARD cnv_status cnv__rt_threads_start(cnv_runtime *rt);
void cnv__rt_threads_join(cnv_runtime *rt);
/* Registers every telemetry metric (create). */
CNV_NODISCARD cnv_status cnv__rt_metrics_register(cnv_runtime *rt);
/* Refreshes the gauges (phase, queue depth, variety) from the current state. */
void cnv__rt_gauges_refresh(cnv_runtime *rt);

#endif
