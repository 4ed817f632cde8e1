/* libcnv runtime: the embeddable swarm runtime that wires every module into one pipeline.
 * (The built-in scenario behind `cnv swarm run` is not part of the library: src/scenario/.)
 *
 * Pipeline of one invocation (cnv_runtime_submit, on the caller's thread):
 *   line -> zero-copy parse (protocol) -> capability id -> handler lookup -> phase admits work?
 *   (phases) -> token check of the agent (delegation: cached chain, holder = the agent's key,
 *   capability, the handler's declared effects, uses) -> the line is copied into an inline
 *   queue record -> MPMC queue (hotpath) -> a worker thread runs the handler -> latency
 *   histogram and outcome counters (telemetry); the capability stream's variety (variety) is
 *   compared with the regulator's (the registered handlers) and a deficit above the
 *   threshold raises the algedonic signal (phases). Handler failures feed the swarm's circuit
 *   breaker: Operational -> Degraded -> Recovery -> Operational.
 * Phases that admit work: Operational, Degraded, Recovery. Every other phase denies with
 * CNV_ERT_DENY_PHASE. A denied invocation never reaches a handler and is counted by reason.
 *
 * Life cycle: create -> register handlers, trust roots, add agents -> start (Bootstrap ->
 * Negotiation -> Activation -> Operational, workers and monitor started) -> submit from any
 * threads -> stop (moves to Shutdown, refuses new work, drains the queue: every accepted
 * invocation is executed before stop returns) -> stats/export -> destroy.
 *
 * Synchronization table (who may call what at the same time, and each call's progress;
 * the terms are defined in docs/architecture.md):
 *   cnv_runtime_register, cnv_runtime_trust_add       one thread, before start.
 *   cnv_runtime_agent_add, cnv_runtime_revoke         any threads, any time before stop
 *                              (an agent is usable by submits that start after add returns);
 *                              lock-free apart from their allocation.
 *   cnv_runtime_submit        any threads at once, between start and stop (no registration:
 *                              the token check's RCU flavour registers a thread on its first
 *                              call, under liburcu's registry lock, once). Progress: waits for
 *                              a preempted peer (the queue push), otherwise lock-free.
 *   cnv_runtime_phase          any threads, any time after create; wait-free (one acquire
 *                              load).
 *   cnv_runtime_stats_get, cnv_runtime_variety_get, cnv_runtime_metrics_prometheus
 *                              any threads, any time after create (snapshots of seq_cst
 *                              counter loads: each counter exact, the set not one instant;
 *                              exact after stop); wait-free apart from the export's write
 *                              callback.
 *   cnv_runtime_timeline       any threads, any time after create; blocking (takes the
 *                              runtime's phase mutex, held only for the copy).
 *   cnv_runtime_raise_algedonic, cnv_runtime_transition
 *                              any threads after start; blocking (take the phase mutex that
 *                              orders phase moves with their timeline).
 *   start, stop, destroy       one thread, with no submit in flight for stop/destroy.
 * Handlers run on worker threads (outside any read-side section between invocations); a
 * handler may call cnv_runtime_submit but must not call stop/destroy.
 * The library never prints and never aborts. */
#ifndef CNV_RUNTIME_H
#define CNV_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "delegation.h"
#include "effects.h"
#include "phases.h"
#include "status.h"
#include "telemetry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* Denial reasons (index into cnv_runtime_stats.denied).                                 */

/* Each reason has one status code (cnv_runtime_denial_status). Delegation's rule codes map
 * as: EXPIRED, NOT_YET_VALID -> EXPIRED; REVOKED -> REVOKED; WIDENED_*, DROPPED_FORBIDDEN,
 * DEPTH, MISALIGNED, PARENT_HASH -> WIDENED; BAD_SIGNATURE -> FORGED; NOT_ALLOWED, FORBIDDEN
 * -> NOT_ALLOWED; EFFECTS_EXCEEDED -> EFFECTS; USES_EXHAUSTED -> USES; every other token
 * failure (encoding, untrusted root, wrong swarm, wrong holder, counters full) -> UNTRUSTED. */
typedef enum cnv_runtime_denial {
  CNV_RT_DENY_PHASE = 0,
  CNV_RT_DENY_MALFORMED = 1,
  CNV_RT_DENY_UNKNOWN_AGENT = 2,
  CNV_RT_DENY_UNKNOWN_CAPABILITY = 3,
  CNV_RT_DENY_EXPIRED = 4,
  CNV_RT_DENY_REVOKED = 5,
  CNV_RT_DENY_WIDENED = 6,
  CNV_RT_DENY_FORGED = 7,
  CNV_RT_DENY_NOT_ALLOWED = 8,
  CNV_RT_DENY_EFFECTS = 9,
  CNV_RT_DENY_USES = 10,
  CNV_RT_DENY_UNTRUSTED = 11,
  CNV_RT_DENY_TOO_LONG = 12
} cnv_runtime_denial;

#define CNV_RT_DENY_COUNT 13

/* Lowercase snake_case name of a reason ("expired"), also the Prometheus label value and
 * the JSON key; "unknown" out of range. Static string. Thread-safe. */
CNV_API const char *cnv_runtime_denial_name(int reason);
/* The status code cnv_runtime_submit returns for a reason; CNV_EINVAL out of range. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_denial_status(int reason);
/* The reason of a denial status, or -1 when st is not a CNV_ERT_DENY_* code. */
CNV_API int cnv_runtime_denial_of(cnv_status st);
/* The denial status a delegation verify/authorize failure maps to (table above); st must be
 * an error. Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_map_deleg(cnv_status st);

/* ------------------------------------------------------------------------------------ */
/* Configuration and handlers.                                                           */

/* Wall clock for token windows, in seconds; NULL in the config uses CLOCK_REALTIME. */
typedef uint64_t (*cnv_runtime_clock_fn)(void *ctx);

typedef struct cnv_runtime_config {
  uint32_t workers;              /* worker threads; 0: 2; at most 256 */
  uint32_t queue_capacity;       /* queue records, power of two; 0: 4096 */
  uint32_t max_line;             /* longest line copied into a record (bytes); 0: 232; at most 4000.
                               Longer lines are denied with CNV_ERT_DENY_TOO_LONG. */
  uint32_t max_agents;           /* 0: 1024 */
  uint32_t max_handlers;         /* 0: 256 */
  uint64_t swarm_id;             /* the swarm tokens must be valid in; 0: 1 */
  cnv_deleg_config deleg;        /* verifier settings; all zero: cnv_deleg_config_default */
  cnv_breaker_config breaker;    /* all zero: cnv_breaker_config_default */
  uint32_t tick_interval_ms;     /* monitor period: breaker tick, variety check; 0: 10 */
  double variety_threshold_bits; /* deficit above which the algedonic signal is raised;
                                    0 or negative: never raised */
  cnv_runtime_clock_fn clock;    /* token clock (seconds); NULL: CLOCK_REALTIME */
  void *clock_ctx;
} cnv_runtime_config;

/* Defaults as documented field by field above (all-zero config means the same). */
CNV_API void cnv_runtime_config_default(cnv_runtime_config *cfg);

/* What a handler gets. Every pointer is valid only during the call (they point into the
 * queue record the worker popped: a private copy of the submitted line). */
typedef struct cnv_runtime_call {
  const char *line; /* the submitted line (not NUL-terminated) */
  size_t line_len;
  const char *path; /* capability path inside line */
  size_t path_len;
  uint64_t capability; /* capability id (cnv_capability_id of the path) */
  uint32_t agent;      /* agent handle that submitted it */
  uint32_t worker;     /* index of the running worker, 0 .. workers-1 */
  uint64_t seq;        /* submission sequence number (unique per runtime) */
  cnv_effects effects; /* effects the handler declared */
} cnv_runtime_call;

/* A handler: returns 0 on success, non-zero on failure (counted as failed and fed to the
 * breaker). Runs on a worker thread; several workers may run the same handler at once. To
 * read arguments, parse call->line with cnv_parse_invocation. */
typedef int (*cnv_runtime_handler_fn)(void *ctx, const cnv_runtime_call *call);

typedef struct cnv_runtime cnv_runtime;

/* Creates a runtime (allocates everything: queue, verifier, swarm, telemetry registry,
 * tables). cfg may be NULL (defaults). Errors: CNV_EINVAL, CNV_ERT_CONFIG, CNV_ECAPACITY,
 * CNV_ENOMEM, CNV_ENOTSUP (libsodium). The caller owns *out; free with cnv_runtime_destroy. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_create(const cnv_runtime_config *cfg, cnv_runtime **out);

/* Stops the runtime if it is running (as cnv_runtime_stop) and frees it. NULL is ignored.
 * Not from a handler. */
CNV_API void cnv_runtime_destroy(cnv_runtime *rt);

/* Registers the handler of one capability path (copied). `effects` are the effects every
 * invocation of it needs: the agent's token ceiling must cover them. Before start only.
 * Errors: CNV_EINVAL, the path errors of cnv_capability_id, CNV_EEXIST (path registered),
 * CNV_ERT_HANDLERS_FULL, CNV_ESTATE (already started). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_register(cnv_runtime *rt, const char *path, size_t path_len,
                                                      cnv_effects effects, cnv_runtime_handler_fn fn,
                                                      void *ctx);

/* Trusts a root issuer key for agents' tokens (cnv_deleg_trust_add). Errors: CNV_EINVAL,
 * CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_trust_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES]);

/* Revokes a token link by hash (cnv_deleg_revoke): later submits of tokens containing it
 * are denied with CNV_ERT_DENY_REVOKED. Errors: CNV_EINVAL, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_revoke(cnv_runtime *rt, const uint8_t hash[CNV_DELEG_HASH_BYTES]);

/* Adds an agent: its Ed25519 public key (the token's holder) and its token (both copied;
 * the token is not checked here: a bad one denies every submit by reason). *agent gets the
 * handle to pass to submit. Errors: CNV_EINVAL (NULL, len 0 or > CNV_DELEG_MAX_TOKEN_BYTES),
 * CNV_ERT_AGENTS_FULL, CNV_ENOMEM, CNV_ESTATE (stopped). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_agent_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES],
                                                       const uint8_t *token, size_t token_len,
                                                       uint32_t *agent);

/* Moves the swarm Bootstrap -> Negotiation -> Activation -> Operational (the timeline records
 * each), starts the workers and the monitor thread. Errors: CNV_EINVAL,
 * CNV_ESTATE (started before), CNV_ERT_THREAD (nothing left running), the phase errors. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_start(cnv_runtime *rt);

/* Submits one invocation line for `agent` (the runtime copies it: the caller's buffer is
 * free again when this returns). Runs the pipeline's checks on the calling thread.
 * Returns CNV_OK (accepted: a worker will run the handler exactly once), a CNV_ERT_DENY_*
 * code (denied, counted by reason; no handler runs), CNV_EFULL (backpressure: the queue is
 * full; counted; nothing accepted, try again later), CNV_ESTATE (not started, or stopped),
 * CNV_EINVAL (NULL rt, NULL line with len > 0). Progress: waits for a preempted peer (the
 * queue push), otherwise lock-free; no allocation once the token's chain is cached (the
 * first check of a token verifies signatures and caches it). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_submit(cnv_runtime *rt, uint32_t agent, const char *line,
                                                    size_t len);

/* Stops: moves the swarm to Shutdown (from whatever phase allows it; Emergency and the
 * others all may), so later submits get CNV_ESTATE; waits for submits in flight; lets the
 * workers drain the queue (every accepted invocation is executed) and joins every thread.
 * Idempotent. Errors: CNV_EINVAL, CNV_ESTATE (never started). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_stop(cnv_runtime *rt);

/* Raises the algedonic signal (straight to Emergency, which denies work) with a reason
 * (CNV_ALGEDONIC_*) and records the move in the timeline. Any threads after start;
 * blocking (takes the phase mutex). Errors: CNV_EINVAL (NULL rt), those of
 * cnv_swarm_raise_algedonic. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_raise_algedonic(cnv_runtime *rt, uint32_t reason);

/* Moves the swarm from -> to (for operators: e.g. Emergency -> Recovery) and records the
 * move in the timeline. Any threads after start; blocking (takes the phase mutex that
 * orders phase moves with their timeline). Errors: CNV_EINVAL (NULL rt), those of
 * cnv_swarm_transition. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_transition(cnv_runtime *rt, int from, int to);

/* Current phase of the runtime's swarm (cnv_swarm_phase: one acquire load, so what the
 * move into it wrote before is visible). Any threads, any time after create; wait-free.
 * A NULL rt gives CNV_PHASE_SHUTDOWN (a phase that admits no work). */
CNV_API cnv_phase cnv_runtime_phase(const cnv_runtime *rt);

/* ------------------------------------------------------------------------------------ */
/* Figures.                                                                              */

typedef struct cnv_runtime_stats {
  uint64_t submitted; /* submit calls past argument checks, running or not */
  uint64_t accepted;  /* CNV_OK returned */
  uint64_t executed;  /* handlers run (ok + failed) */
  uint64_t failed;    /* handlers that returned non-zero */
  uint64_t full;      /* CNV_EFULL returned */
  uint64_t refused;   /* CNV_ESTATE returned (not running) */
  uint64_t denied_total;
  uint64_t denied[CNV_RT_DENY_COUNT];                       /* by cnv_runtime_denial */
  uint64_t in_queue;                                        /* accepted - executed at the snapshot */
  uint64_t latency_p50_ns, latency_p99_ns, latency_p999_ns; /* accept -> handler done */
  uint64_t latency_count;
  int32_t phase;
  uint32_t agents;
  uint32_t handlers;
  uint32_t workers;
  uint64_t algedonic_signals;
  double breaker_ratio; /* failure ratio at the last monitor tick */
} cnv_runtime_stats;
/* After stop: submitted == accepted + denied_total + full (+ refused only for submits that
 * raced stop), accepted == executed, in_queue == 0. */

/* Fills *out. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_stats_get(const cnv_runtime *rt, cnv_runtime_stats *out);

/* Variety of the capability stream (every line that parsed, denied or not) against the
 * regulator (the registered handlers). */
typedef struct cnv_runtime_variety {
  uint64_t observations;
  uint32_t distinct;     /* distinct capability ids seen (the variety module's tally:
                               exact for 4096 distinct ids, a lower bound beyond) */
  double bits;           /* log2(distinct) */
  double entropy;        /* Shannon entropy of the capability distribution, bits */
  double regulator_bits; /* log2(registered handlers) */
  double deficit_bits;   /* max(0, bits - regulator_bits) */
  int exceeded;          /* deficit above the configured threshold */
} cnv_runtime_variety;

/* Fills *out. Errors: CNV_EINVAL, variety errors. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_variety_get(cnv_runtime *rt, cnv_runtime_variety *out);

/* One phase visited: entered at enter_ns (monotonic, relative to create), stayed
 * duration_ns (up to now for the current phase). */
typedef struct cnv_phase_span {
  int32_t phase;
  uint32_t reserved;
  uint64_t enter_ns;
  uint64_t duration_ns;
} cnv_phase_span;

#define CNV_RT_TIMELINE_MAX 64

/* Copies up to cap spans, oldest first, into out; *n gets how many were written and
 * *dropped (optional) how many later moves did not fit CNV_RT_TIMELINE_MAX.
 * Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_timeline(const cnv_runtime *rt, cnv_phase_span *out, size_t cap,
                                                      size_t *n, uint64_t *dropped);

/* Writes the runtime's metrics as Prometheus text (cnv_tel_export_prometheus of its
 * registry: cnv_rt_invocations_total{outcome=...}, cnv_rt_denied_total{reason=...},
 * cnv_rt_latency_seconds histogram, cnv_rt_phase, cnv_rt_variety_milli, ...) plus gauges
 * refreshed at the call. Errors: CNV_EINVAL, CNV_ETEL_WRITE (fn returned non-zero). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_metrics_prometheus(cnv_runtime *rt, cnv_tel_write_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
