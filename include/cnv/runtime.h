/* libcnv runtime: the embeddable swarm runtime that wires every module into one pipeline.
 * (The built-in scenario behind `cnv swarm run` is not part of the library: src/scenario/.)
 *
 * Pipeline of one invocation (cnv_runtime_submit_ex, on the caller's thread):
 *   line -> zero-copy parse (protocol) -> capability id -> handler lookup -> the line fits the
 *   capability's schema? (only where it declares typed arguments: parsed again with it and
 *   checked, cnv_schema_check) -> phase admits work? (phases) -> lane shedding (Degraded
 *   sheds the low lane) -> the agent's rate limit -> an in-flight slot (the ticket) and room
 *   in the completion queue, taken before the token check so that a full runtime spends none
 *   of a token's uses -> the deadline -> token check of the agent (delegation: its prepared
 *   token, holder = the agent's key, capability, the handler's declared effects, uses) -> the
 *   line is copied into an inline queue record -> the lane's MPMC queue (hotpath) -> a parked
 *   worker is woken -> the worker checks cancel and deadline, runs the handler, which writes its result
 *   -> exactly one completion (ran, expired, cancelled or not run) to the submitter's callback
 *   or completion queue -> latency histogram, outcome and overrun counters (telemetry). The
 *   capability stream's variety (variety) is compared with the regulator's (the registered
 *   handlers) and a deficit above the threshold raises the algedonic signal (phases). Handler
 *   failures and deadline overruns feed the swarm's circuit breaker: Operational -> Degraded ->
 *   Recovery -> Operational.
 * Phases that admit work: Operational, Degraded, Recovery. Every other phase denies with
 * CNV_ERT_DENY_PHASE. A denied invocation never reaches a handler and is counted by reason.
 *
 * Life cycle: create -> register handlers, trust roots, add agents -> start (Bootstrap ->
 * Negotiation -> Activation -> Operational, workers and monitor started) -> submit from any
 * threads (handlers may be registered and unregistered at any time) -> stop (moves to
 * Shutdown, refuses new work, lets accepted work finish or expire until its timeout, then
 * completes whatever is left) -> stats/export -> destroy.
 *
 * Every accepted invocation completes exactly once (cnv_runtime_completion), whatever happens:
 *   CNV_DONE_RAN        the handler ran; status is its status, the result its result;
 *   CNV_DONE_EXPIRED    its deadline passed while it was queued (not run; CNV_ERT_EXPIRED) or
 *                       while it ran (status CNV_ERT_EXPIRED, the handler's result kept);
 *   CNV_DONE_CANCELLED  cnv_runtime_cancel reached it before it ran (CNV_ERT_CANCELLED), or
 *                       while it ran (its handler saw the flag; status: the handler's), or
 *                       stop's timeout found its handler still running (CNV_ERT_ABANDONED);
 *   CNV_DONE_NOT_RUN    it could not run: its handler was unregistered after it was accepted
 *                       (CNV_ERT_DENY_UNKNOWN_CAPABILITY) or stop's timeout came first
 *                       (CNV_ERT_STOPPED).
 *
 * Synchronization table (who may call what at the same time, and each call's progress;
 * the terms are defined in docs/architecture.md):
 *   cnv_runtime_trust_add     one thread, before start.
 *   cnv_runtime_register, cnv_runtime_unregister
 *                              any threads, any time before stop; blocking (a registry
 *                              mutex; unregister also waits for an RCU grace period and for
 *                              the calls of that handler in flight). Not from a handler.
 *   cnv_runtime_agent_add, cnv_runtime_agent_add_verified, cnv_runtime_agent_remove,
 *   cnv_runtime_agent_rate, cnv_runtime_revoke
 *                              any threads, any time before stop (an agent is usable by
 *                              submits that start after add returns; remove only once no
 *                              submit for that agent runs or will run); lock-free apart from
 *                              their allocation (add scans the agent table for a free slot).
 *   cnv_runtime_submit, cnv_runtime_submit_ex, cnv_runtime_cancel
 *                              any threads at once, between start and stop (no registration:
 *                              the RCU flavour registers a thread on its first call, under
 *                              liburcu's registry lock, once). Progress: waits for a
 *                              preempted peer (the queue push), otherwise lock-free; cancel is
 *                              lock-free.
 *   cnv_runtime_invoke         any threads but a worker's (it waits for its own completion);
 *                              blocking.
 *   cnv_runtime_cq_*           see the completion-queue section.
 *   cnv_runtime_phase, cnv_runtime_registry_generation
 *                              any threads, any time after create; wait-free (one acquire
 *                              load).
 *   cnv_runtime_capability_each
 *                              any threads, any time after create; blocking (the registry
 *                              mutex, held during the callbacks).
 *   cnv_runtime_agent_check    any threads, while the agent may be submitted for (as submit);
 *                              lock-free.
 *   cnv_runtime_call_progress  the handler's thread, during the call; wait-free apart from
 *                              the submitter's progress callback.
 *   cnv_runtime_stats_get, cnv_runtime_variety_get, cnv_runtime_capability_stats_get,
 *   cnv_runtime_metrics_prometheus
 *                              any threads, any time after create (snapshots of seq_cst
 *                              counter loads: each counter exact, the set not one instant;
 *                              exact after stop); wait-free apart from the export's write
 *                              callback and the capability table's RCU read section.
 *   cnv_runtime_timeline       any threads, any time after create; blocking (takes the
 *                              runtime's phase mutex, held only for the copy).
 *   cnv_runtime_raise_algedonic, cnv_runtime_transition
 *                              any threads after start; blocking (take the phase mutex that
 *                              orders phase moves with their timeline).
 *   start, stop, destroy       one thread, with no submit in flight for stop/destroy.
 * Handlers and completion callbacks run on worker threads (stop runs the callbacks of the
 * work it completes itself); a handler may call cnv_runtime_submit_ex and cnv_runtime_cancel
 * but must not call invoke, register, unregister, stop or destroy.
 * The library never prints and never aborts. */
#ifndef CNV_RUNTIME_H
#define CNV_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "delegation.h"
#include "effects.h"
#include "ledger.h"
#include "phases.h"
#include "protocol.h"
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
  CNV_RT_DENY_TOO_LONG = 12,
  CNV_RT_DENY_RATE = 13,     /* the agent's rate limit */
  CNV_RT_DENY_SHED = 14,     /* low-priority work shed while the swarm is Degraded */
  CNV_RT_DENY_ARGUMENTS = 15 /* the line does not fit the capability's schema */
} cnv_runtime_denial;

#define CNV_RT_DENY_COUNT 16

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
/* Execution contracts: duration classes.                                               */

/* Every capability is registered with one class. The classes are totally ordered (a later
 * class allows longer work). A submit may ask for a deadline shorter than its class's limit,
 * never a longer one. An invocation that runs longer than its class's target is counted as a
 * target overrun; one that completes after its deadline as a deadline overrun (and as a
 * failure for the breaker). */
typedef enum cnv_duration_class {
  CNV_DURATION_FAST_PATH = 0,      /* target 100 us, limit 1 ms */
  CNV_DURATION_INTERACTIVE = 1,    /* target 100 ms, limit 500 ms */
  CNV_DURATION_USER_INITIATED = 2, /* target 5 s, limit 30 s */
  CNV_DURATION_BATCH = 3,          /* target 5 min, limit 30 min */
  CNV_DURATION_LONG_RUNNING = 4    /* target 1 h, limit 24 h */
} cnv_duration_class;

#define CNV_DURATION_COUNT 5

/* Lowercase snake_case name of a class ("fast_path"; the Prometheus label value); "unknown"
 * out of range. Static string; pure. */
CNV_API const char *cnv_duration_class_name(int cls);
/* The class's target and limit in ns (either pointer may be NULL). Errors: CNV_ERANGE (no such
 * class). Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_duration_class_limits(int cls, uint64_t *target_ns, uint64_t *limit_ns);

/* ------------------------------------------------------------------------------------ */
/* Trace context (W3C Trace Context `traceparent`).                                      */

#define CNV_TRACEPARENT_LEN 55 /* "00-<32 hex>-<16 hex>-<2 hex>" */

typedef struct cnv_trace {
  uint8_t present; /* 0: no trace context travels with the invocation */
  uint8_t version;
  uint8_t flags;
  uint8_t trace_id[16];
  uint8_t parent_id[8];
} cnv_trace;

/* Parses a traceparent header value (exactly CNV_TRACEPARENT_LEN bytes, lowercase hex as the
 * W3C format requires; version ff, an all-zero trace id or parent id are invalid). Pure.
 * Errors: CNV_EINVAL (NULL, or not a valid traceparent; *out is then cleared). */
CNV_API CNV_NODISCARD cnv_status cnv_trace_parse(const char *text, size_t len, cnv_trace *out);
/* Writes t as a traceparent plus a NUL into out[CNV_TRACEPARENT_LEN + 1]. Errors: CNV_EINVAL
 * (NULL, or t not present). Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_trace_format(const cnv_trace *t, char out[CNV_TRACEPARENT_LEN + 1]);

/* ------------------------------------------------------------------------------------ */
/* Configuration.                                                                        */

/* Wall clock for token windows, in seconds; NULL in the config uses CLOCK_REALTIME. */
typedef uint64_t (*cnv_runtime_clock_fn)(void *ctx);

/* What an idle worker does. */
typedef enum cnv_runtime_idle {
  CNV_RT_IDLE_SPIN_THEN_PARK = 0, /* spin and yield for idle_spin_us, then park (default) */
  CNV_RT_IDLE_SPIN = 1,           /* never park: spin and yield (lowest latency, burns cores) */
  CNV_RT_IDLE_PARK = 2            /* park as soon as the queues are empty */
} cnv_runtime_idle;

typedef struct cnv_runtime_config {
  uint32_t workers;              /* worker threads; 0: 2; at most 256 */
  uint32_t queue_capacity;       /* invocations in flight (queued or running), power of two;
                                    0: 4096 */
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
  uint32_t max_result;   /* largest result a handler may write (bytes); 0: 4096; at most
                             16 MiB. Each worker owns one buffer of this size. */
  uint32_t idle;         /* cnv_runtime_idle */
  uint32_t idle_spin_us; /* spin-then-park: how long an idle worker spins and yields before
                             it parks; 0: 50 */
  uint32_t rate_per_s;   /* default per-agent rate limit (invocations per second, token
                             bucket); 0: unlimited */
  uint32_t rate_burst;   /* bucket size; 0: max(1, rate_per_s / 10) */
  /* Optional governance ledger (NULL: none), opened by the caller, not owned: it must stay
   * open until cnv_runtime_destroy returns. See "Ledger" below. */
  cnv_ledger *ledger;
} cnv_runtime_config;

/* Defaults as documented field by field above (all-zero config means the same). */
CNV_API void cnv_runtime_config_default(cnv_runtime_config *cfg);

/* ------------------------------------------------------------------------------------ */
/* Handlers and their results.                                                           */

typedef enum cnv_content_type {
  CNV_CONTENT_TEXT = 0, /* UTF-8 text (the default) */
  CNV_CONTENT_JSON = 1, /* a JSON document */
  CNV_CONTENT_BINARY = 2
} cnv_content_type;

/* The result writer a handler gets: appends into its worker's buffer (max_result bytes),
 * reused from one invocation to the next (no allocation). */
typedef struct cnv_runtime_result cnv_runtime_result;

/* Appends len bytes to the result. A write that would pass max_result writes nothing, returns
 * CNV_ERT_RESULT_TOO_LARGE and marks the result refused: the invocation then completes with
 * that status and no result bytes, whatever the handler returns (never a cut result). The
 * handler's thread only, during the call. Errors: CNV_EINVAL (NULL r, NULL bytes with
 * len > 0), CNV_ERT_RESULT_TOO_LARGE. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_result_write(cnv_runtime_result *r, const void *bytes, size_t len);
/* Sets the content type (cnv_content_type). Errors: CNV_EINVAL (NULL r), CNV_ERANGE (no such
 * type). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_result_set_type(cnv_runtime_result *r, int type);
/* Bytes written so far. */
CNV_API size_t cnv_runtime_result_len(const cnv_runtime_result *r);

/* What a handler gets. Every pointer is valid only during the call (they point into the
 * queue record the worker popped: a private copy of the submitted line). */
typedef struct cnv_runtime_call {
  const char *line; /* the submitted line (not NUL-terminated) */
  size_t line_len;
  const char *path; /* capability path inside line */
  size_t path_len;
  uint64_t capability;  /* capability id (cnv_capability_id of the path) */
  uint32_t agent;       /* agent handle that submitted it */
  uint32_t worker;      /* index of the running worker, 0 .. workers-1 */
  uint64_t seq;         /* submission sequence number (unique per runtime) */
  uint64_t ticket;      /* the ticket submit_ex returned (cnv_runtime_cancel) */
  cnv_effects effects;  /* effects the handler declared */
  int32_t cls;          /* the capability's cnv_duration_class */
  uint64_t deadline_ns; /* monotonic deadline (cnv_runtime_now_ns scale) */
  uint64_t correlation; /* the submitter's correlation id (0 if none) */
  cnv_trace trace;      /* the submitter's trace context */
  const void *internal; /* the runtime's; read through cnv_runtime_call_cancelled and
                           cnv_runtime_call_progress */
  /* the capability's schema as registered (cnv_runtime_handler_spec.schema; NULL: none):
   * parse line with it, so its boolean flags parse as booleans. Submit has already checked
   * the line against its typed arguments (cnv_schema_check), so cnv_parse_invocation with
   * it succeeds and the typed readers (cnv_arg_int, ...) read values of their types. */
  const cnv_parse_schema *schema;
} cnv_runtime_call;

/* Monotonic clock in ns, the scale of deadlines. Any thread; wait-free. */
CNV_API uint64_t cnv_runtime_now_ns(void);
/* True once the call was cancelled (cnv_runtime_cancel, or stop's timeout): a cooperative
 * handler returns soon after. The handler's thread, during the call; wait-free (one acquire
 * load). */
CNV_API bool cnv_runtime_call_cancelled(const cnv_runtime_call *call);

/* A handler: writes its result through `result` (optional) and returns CNV_OK on success or a
 * negative status on failure (counted as failed and fed to the breaker; the status reaches
 * the completion). Runs on a worker thread; several workers may run the same handler at once.
 * To read arguments, parse call->line with cnv_parse_invocation and call->schema. */
typedef cnv_status (*cnv_runtime_handler_fn)(void *ctx, const cnv_runtime_call *call,
                                             cnv_runtime_result *result);

/* What a capability is registered with. */
typedef struct cnv_runtime_handler_spec {
  cnv_effects effects; /* effects every invocation needs: the agent's token ceiling must
                          cover them */
  int32_t cls;         /* cnv_duration_class */
  cnv_runtime_handler_fn fn;
  void *ctx;
  /* Optional (NULL: none). Not copied: each must stay valid until the capability is
   * unregistered or the runtime destroyed. */
  const cnv_parse_schema *schema; /* typed arguments: register checks it (cnv_schema_validate);
                                     submit denies a line that does not fit it
                                     (CNV_ERT_DENY_ARGUMENTS) before anything is queued */
  const char *title;              /* NUL-terminated UTF-8: a short human name */
  const char *description;        /* NUL-terminated UTF-8: what the capability does */
} cnv_runtime_handler_spec;

typedef struct cnv_runtime cnv_runtime;

/* What cnv_runtime_capability_each shows of one registered capability. Pointers are valid
 * during the callback only. */
typedef struct cnv_runtime_capability_info {
  const char *path; /* NUL-terminated */
  size_t path_len;
  uint64_t capability; /* its id */
  cnv_effects effects;
  int32_t cls;
  const cnv_parse_schema *schema; /* as registered; may be NULL */
  const char *title;              /* may be NULL */
  const char *description;        /* may be NULL */
} cnv_runtime_capability_info;

/* Calls fn once per registered capability, in ascending byte order of path, until fn
 * returns false. *generation (may be NULL) gets the registry generation the listing shows.
 * Blocking (registry mutex, held during the callbacks: fn must not register, unregister or
 * list). Errors: CNV_EINVAL (NULL rt or fn), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_capability_each(cnv_runtime *rt,
                                                             bool (*fn)(void *ctx,
                                                                        const cnv_runtime_capability_info *info),
                                                             void *ctx, uint64_t *generation);

/* The registry generation: starts at 1 and grows by one with every successful register and
 * unregister, so a caller that remembers it knows when its listing is stale. Any thread;
 * wait-free (one acquire load). 0 for a NULL rt. */
CNV_API uint64_t cnv_runtime_registry_generation(const cnv_runtime *rt);

/* Would `agent`'s token allow the capability at path (its scope and effects ceiling, expiry
 * and revocation now), as submit would check it? Charges nothing: no use is consumed, no
 * rate token taken, nothing counted. CNV_OK: it would. Errors: CNV_EINVAL (NULL rt or
 * path), the path errors of cnv_capability_id, CNV_ERT_DENY_UNKNOWN_CAPABILITY,
 * CNV_ERT_DENY_UNKNOWN_AGENT, and the token's denial (CNV_ERT_DENY_NOT_ALLOWED,
 * CNV_ERT_DENY_EFFECTS, CNV_ERT_DENY_EXPIRED, ...). The token is verified as submit's
 * authorize verifies it (same verifier, clock, swarm, holder, capability and the handler's
 * declared effects, the same mapping of delegation's codes) without the use count: a token
 * whose uses are spent still passes here (submit then denies CNV_ERT_DENY_USES). The phase,
 * the rate limit and the line's arguments are not looked at. The verifier's own cache and
 * its statistics are used as by any verification. Any thread, while the agent may be
 * submitted for (not racing its cnv_runtime_agent_remove); lock-free. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_agent_check(cnv_runtime *rt, uint32_t agent, const char *path,
                                                         size_t path_len);

/* ---- Progress: a long handler tells its submitter how far it got ----
 * progress grows with each report; total is the expected end, 0 when unknown; message (may
 * be NULL) is UTF-8 text of up to CNV_RT_PROGRESS_MESSAGE_MAX bytes. */
#define CNV_RT_PROGRESS_MESSAGE_MAX 256u

typedef struct cnv_runtime_progress {
  uint64_t ticket;
  uint64_t correlation;
  double progress;
  double total;
  const char *message; /* not NUL-terminated; valid during the callback only */
  size_t message_len;
} cnv_runtime_progress;

/* A progress callback (cnv_runtime_submit_opts.on_progress): runs on the handler's worker
 * thread, inside cnv_runtime_call_progress. Keep it short; never block on the runtime. */
typedef void (*cnv_runtime_progress_fn)(void *ctx, const cnv_runtime_progress *p);

/* Reports progress of the running call to its submitter's on_progress (nothing when the
 * submitter gave none: CNV_OK, so handlers report without asking). Every report is checked,
 * callback or not, and only a report that passes becomes the last one; each report reaches
 * the callback before this returns, so the callback sees them in order. Nothing is
 * delivered once stop has abandoned the call (its completion was already delivered), nor
 * for a call the runtime did not make (internal NULL: checked, then CNV_OK). Errors:
 * CNV_EINVAL (NULL call, NULL message with len > 0, a NaN, infinite or negative progress or
 * total), CNV_ERANGE (progress not above the last report's, or message longer than
 * CNV_RT_PROGRESS_MESSAGE_MAX). The handler's thread, during the call; wait-free apart from
 * the callback. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_call_progress(const cnv_runtime_call *call, double progress,
                                                           double total, const char *message, size_t len);

/* ------------------------------------------------------------------------------------ */
/* Ledger.                                                                               */

/* With cnv_runtime_config.ledger set, the runtime writes the records listed in ledger.h
 * (cnv_ledger_kind): CONFIG at create; TRUST, REVOKE, AGENT (add and remove) and REGISTER
 * (register and unregister) as each call succeeds; PHASE at every phase move (start's, the
 * breaker's, transitions); ADMIT for every submit whose line reaches a decision (accepted,
 * denied with its reason, or refused for room); COMPLETE for every completion, before its
 * callback or completion-queue entry, so the completion carries the record's index. The
 * policy epoch starts at 1 and grows by one at every TRUST, REVOKE, REGISTER and PHASE
 * record; ADMIT and COMPLETE carry the epoch their decision saw. Records go through
 * cnv_ledger_append: submit and the workers never wait on the disk; when the writer falls
 * behind, the ledger's full policy decides (CNV_LEDGER_FULL_BLOCK, the default, makes them
 * wait for room; CNV_LEDGER_FULL_DROP drops the record, counted by the ledger). A record the
 * ledger refuses otherwise (stopped after an I/O error or at max_bytes) is counted in
 * cnv_runtime_stats.ledger_failed and the invocation goes on. */

/* What the runtime puts in the fields ledger.h leaves to it:
 * - PHASE status: 0 for start's and stop's moves and cnv_runtime_transition, the algedonic
 *   reason for a signal (cnv_runtime_raise_algedonic, the variety check), and
 *   CNV_RT_PHASE_BREAKER for the breaker's moves;
 * - AGENT flags: CNV_RT_AGENT_TOKEN_OMITTED when the token is longer than
 *   CNV_LEDGER_MAX_PAYLOAD, so the record carries no payload (its digest still names it);
 * - ADMIT and COMPLETE epoch: the epoch loaded before the decision; the decision saw every
 *   change whose record carries that epoch or an earlier one (a change made while a submit
 *   runs may or may not be seen by it, and its ADMIT may precede the change's record).
 * Times are the coarse wall clock (CLOCK_REALTIME_COARSE: ms, at the kernel tick's
 * resolution). The records' epoch order is the log order (policy records are appended under
 * a mutex); with a ledger, trust_add, revoke, register, unregister and the phase moves take
 * it (blocking), and agent_add allocates a copy of a token over CNV_LEDGER_INLINE_PAYLOAD
 * bytes (cnv_ledger_append). */
#define CNV_RT_PHASE_BREAKER 255u
#define CNV_RT_AGENT_TOKEN_OMITTED 1u

/* The current policy epoch (1 without a ledger). Any thread; wait-free (one acquire load). */
CNV_API uint64_t cnv_runtime_policy_epoch(const cnv_runtime *rt);

/* Creates a runtime (allocates everything: queues, in-flight slots, verifier, swarm,
 * telemetry registry, tables). cfg may be NULL (defaults). Errors: CNV_EINVAL,
 * CNV_ERT_CONFIG, CNV_ECAPACITY, CNV_ENOMEM, CNV_ENOTSUP (libsodium). The caller owns *out;
 * free with cnv_runtime_destroy. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_create(const cnv_runtime_config *cfg, cnv_runtime **out);

/* Stops the runtime if it is running (as cnv_runtime_stop with a 10 s timeout), joins every
 * thread and frees it. A worker that stop reported stuck is joined too: destroy waits for
 * its handler to return. NULL is ignored. Not from a handler. */
CNV_API void cnv_runtime_destroy(cnv_runtime *rt);

/* Registers the handler of one capability path (copied), before or after start: submits that
 * start after it returns find it. The spec's schema, title and description are kept as
 * pointers, not copied (see cnv_runtime_handler_spec); a schema is checked first with
 * cnv_schema_validate. Errors: CNV_EINVAL (NULL), CNV_ERANGE (no such class), the path
 * errors of cnv_capability_id, the errors of cnv_schema_validate (CNV_ESCHEMA_INVALID),
 * CNV_EEXIST (path registered), CNV_ERT_HANDLERS_FULL, CNV_ESTATE (stopping or stopped),
 * CNV_ENOMEM. Blocking (registry mutex). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_register(cnv_runtime *rt, const char *path, size_t path_len,
                                                      const cnv_runtime_handler_spec *spec);

/* Unregisters a capability: submits that start after it returns are denied with
 * CNV_ERT_DENY_UNKNOWN_CAPABILITY; accepted invocations not yet started complete as
 * CNV_DONE_NOT_RUN; calls already running finish first: when it returns, the handler's ctx is
 * no longer used. Blocking (registry mutex, an RCU grace period, the running calls). Not from
 * a handler. Errors: CNV_EINVAL, the path errors, CNV_ENOTFOUND, CNV_ESTATE (stopped). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_unregister(cnv_runtime *rt, const char *path, size_t path_len);

/* Trusts a root issuer key for agents' tokens (cnv_deleg_trust_add). Errors: CNV_EINVAL,
 * CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_trust_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES]);

/* Revokes a token link by hash (cnv_deleg_revoke): later submits of tokens containing it
 * are denied with CNV_ERT_DENY_REVOKED. Errors: CNV_EINVAL, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_revoke(cnv_runtime *rt, const uint8_t hash[CNV_DELEG_HASH_BYTES]);

/* Adds an agent: its Ed25519 public key (the token's holder) and its token (both copied;
 * the token is not checked here: a bad one denies every submit by reason). Its rate limit is
 * the configured default. *agent gets the handle to pass to submit: the lowest free one.
 * Errors: CNV_EINVAL
 * (NULL, len 0 or > CNV_DELEG_MAX_TOKEN_BYTES), CNV_ERT_AGENTS_FULL, CNV_ENOMEM, CNV_ESTATE
 * (stopped). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_agent_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES],
                                                       const uint8_t *token, size_t token_len,
                                                       uint32_t *agent);

/* As cnv_runtime_agent_add, but verifies the token first, for holder pk in the runtime's swarm
 * at the token clock's now, with no capability (cnv_deleg_verify: encoding, trust roots,
 * revocations, time windows, swarm, holder, signatures, attenuation; no use is consumed): a
 * token that fails is not added and its denial code is returned (cnv_runtime_map_deleg, e.g.
 * CNV_ERT_DENY_UNTRUSTED, CNV_ERT_DENY_REVOKED, CNV_ERT_DENY_EXPIRED). What a network session
 * uses: the token is checked once when presented, then per submit as any agent's.
 * Errors: those of cnv_runtime_agent_add, the CNV_ERT_DENY_* codes above. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_agent_add_verified(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES],
                                                                const uint8_t *token, size_t token_len,
                                                                uint32_t *agent);

/* Removes an agent: its handle is free for a later add (which may return the same number),
 * its token copy is freed, later submits with the handle are denied with
 * CNV_ERT_DENY_UNKNOWN_AGENT until it is reused. The caller must make sure that no submit,
 * cancel or rate change for this agent runs concurrently or later (the agent's invocations
 * already accepted are unaffected: they complete as usual and report the old handle). So an
 * embedder whose agents come and go (one per network session) does not exhaust max_agents.
 * Errors: CNV_EINVAL (NULL rt, handle out of range), CNV_ENOTFOUND (not an added agent). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_agent_remove(cnv_runtime *rt, uint32_t agent);

/* Sets one agent's rate limit (token bucket: rate_per_s invocations a second, bursts of up to
 * burst; rate 0: unlimited; burst 0: max(1, rate / 10)). Submits beyond it are denied with
 * CNV_ERT_DENY_RATE. Any thread, any time; wait-free. Errors: CNV_EINVAL (NULL rt, unknown
 * agent). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_agent_rate(cnv_runtime *rt, uint32_t agent, uint32_t rate_per_s,
                                                        uint32_t burst);

/* The largest result a handler may write (the configured max_result, defaults applied): a
 * completion's result_len never exceeds it. 0 for NULL. Any thread; wait-free. */
CNV_API uint32_t cnv_runtime_max_result(const cnv_runtime *rt);
/* The in-flight limit (the configured queue_capacity, defaults applied): at most this many
 * invocations are accepted and not yet completed at once. 0 for NULL. Any thread; wait-free. */
CNV_API uint32_t cnv_runtime_in_flight_limit(const cnv_runtime *rt);
/* The swarm tokens must be valid in (the configured swarm_id, defaults applied). 0 for NULL.
 * Any thread; wait-free. */
CNV_API uint64_t cnv_runtime_swarm_id(const cnv_runtime *rt);
/* Worker threads (the configured workers, defaults applied): a completion's worker is below
 * it. 0 for NULL. Any thread; wait-free. */
CNV_API uint32_t cnv_runtime_workers(const cnv_runtime *rt);

/* Moves the swarm Bootstrap -> Negotiation -> Activation -> Operational (the timeline records
 * each), starts the workers and the monitor thread. Errors: CNV_EINVAL,
 * CNV_ESTATE (started before), CNV_ERT_THREAD (nothing left running), CNV_ENOMEM, the phase
 * errors. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_start(cnv_runtime *rt);

/* ------------------------------------------------------------------------------------ */
/* Submitting and hearing back.                                                          */

/* One invocation's completion. Pointers are valid during the callback only (a completion
 * queue copies the result into the caller's buffer instead). */
typedef struct cnv_runtime_completion {
  uint64_t ticket;      /* as returned by submit_ex */
  uint64_t correlation; /* the submitter's */
  uint64_t capability;
  uint64_t seq;
  int32_t kind;      /* cnv_runtime_done */
  cnv_status status; /* see the kinds at the top of this header */
  uint32_t agent;
  int32_t worker;        /* the worker that ran it; -1 when none did */
  int32_t cls;           /* cnv_duration_class */
  uint32_t content_type; /* cnv_content_type of the result */
  const uint8_t *result; /* result bytes (NULL when result_len is 0) */
  size_t result_len;     /* <= max_result */
  uint64_t queued_ns;    /* acceptance -> start of the run (or -> completion if not run) */
  uint64_t run_ns;       /* the handler's run time (0 if not run) */
  cnv_trace trace;       /* the submitter's trace context */
  uint64_t ledger_index; /* the index of its COMPLETE record in the configured ledger
                            (cnv_ledger_receipt), CNV_LEDGER_NONE without a ledger or when
                            the record was dropped (CNV_LEDGER_FULL_DROP) */
} cnv_runtime_completion;

typedef enum cnv_runtime_done {
  CNV_DONE_RAN = 0,
  CNV_DONE_EXPIRED = 1,
  CNV_DONE_CANCELLED = 2,
  CNV_DONE_NOT_RUN = 3
} cnv_runtime_done;

#define CNV_DONE_COUNT 4

/* Lowercase name of a completion kind ("ran", "expired", "cancelled", "not_run"); "unknown"
 * out of range. Static string. */
CNV_API const char *cnv_runtime_done_name(int kind);

/* A completion callback: runs on the thread that completes the invocation (a worker, or the
 * thread in cnv_runtime_stop). Keep it short; it may submit or cancel, never block on the
 * runtime. */
typedef void (*cnv_runtime_done_fn)(void *ctx, const cnv_runtime_completion *c);

/* A completion queue: completions wait in it until the submitter polls them. Capacity is
 * reserved at submit (a submit to a full queue gets CNV_EFULL and nothing is accepted), so a
 * completion is never dropped. For event loops it has a file descriptor (an eventfd): poll
 * until CNV_EEMPTY, arm it (cnv_runtime_cq_arm), then wait for the descriptor to be readable;
 * the first completion after the arm makes it readable. */
typedef struct cnv_runtime_cq cnv_runtime_cq;

/* How to submit (all zero: defaults). */
typedef struct cnv_runtime_submit_opts {
  uint64_t correlation;        /* any value; travels to the handler and the completion */
  const cnv_trace *trace;      /* NULL: none */
  uint64_t timeout_ns;         /* deadline = acceptance + timeout; 0: the class's limit; more than
                            the limit: CNV_ERANGE */
  uint32_t low_priority;       /* 1: the low lane (shed first in Degraded, run after the high lane) */
  cnv_runtime_done_fn on_done; /* completion callback (at most one of on_done and cq) */
  void *done_ctx;
  cnv_runtime_cq *cq;                  /* completion queue of this runtime */
  cnv_runtime_progress_fn on_progress; /* NULL: the handler's progress reports go nowhere */
  void *progress_ctx;
  /* For a submitter that submits several invocations in a row (an event loop handing over
   * what one read brought): */
  uint64_t now_ns;     /* the acceptance time: a cnv_runtime_now_ns() reading the submitter took
                          at or before this call (one reading for the row, not one per submit);
                          0: the runtime reads the clock */
  uint32_t defer_wake; /* 1: an accepted invocation wakes no parked worker (a spinning one still
                          takes it); the submitter calls cnv_runtime_wake once after the row, or
                          it may wait in the queue until something else wakes a worker */
} cnv_runtime_submit_opts;

/* Submits one invocation line for `agent` (the runtime copies it: the caller's buffer is free
 * again when this returns). Runs the pipeline's checks on the calling thread. opts may be
 * NULL (defaults; the completion is only counted). *ticket (may be NULL) gets the
 * invocation's ticket on acceptance.
 * Returns CNV_OK (accepted: it completes exactly once, through opts' callback or queue),
 * a CNV_ERT_DENY_* code (denied, counted by reason; no handler runs, no completion),
 * CNV_EFULL (backpressure: every in-flight slot, or the completion queue, is taken; counted;
 * nothing accepted, try again later), CNV_ESTATE (not started, or stopped), CNV_ERANGE
 * (timeout beyond the class's limit), CNV_EINVAL (NULL rt, NULL line with len > 0, both
 * on_done and cq, a cq of another runtime). Progress: waits for a preempted peer (the queue
 * push), otherwise lock-free; no allocation once the agent's token is prepared. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_submit_ex(cnv_runtime *rt, uint32_t agent, const char *line, size_t len,
                                                       const cnv_runtime_submit_opts *opts, uint64_t *ticket);

/* Wakes a parked worker for the invocations submitted with opts.defer_wake, as the submit of
 * the last of them would have without it: nobody when a worker spins (it takes the queued
 * records and passes a wake-up on while records remain) or a wake-up is already on its way.
 * One call after a row of deferred submits costs one such check instead of one per submit.
 * Any thread; NULL: nothing. Lock-free; at most one futex wake. */
CNV_API void cnv_runtime_wake(cnv_runtime *rt);

/* cnv_runtime_submit_ex with no options and no ticket. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_submit(cnv_runtime *rt, uint32_t agent, const char *line,
                                                    size_t len);

/* Cancels an accepted invocation: one not yet started completes as CNV_DONE_CANCELLED without
 * running; a running one gets its cancel flag (cnv_runtime_call_cancelled) and completes when
 * its handler returns. Returns CNV_OK (the request took), CNV_ENOTFOUND (no such ticket, or
 * already completed), CNV_EINVAL. Any thread; lock-free. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_cancel(cnv_runtime *rt, uint64_t ticket);

/* Submits and waits for the completion (blocking convenience). *out gets it; its result is
 * copied into result_buf (cap bytes) and out->result points there. Returns the submit's
 * status when not accepted; CNV_ERANGE when the result does not fit cap (out->result_len
 * says how big it was; nothing copied); CNV_OK otherwise (the outcome is in out->kind and
 * out->status). opts' on_done and cq must be unset. Not from a worker (a handler or a
 * callback). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_invoke(cnv_runtime *rt, uint32_t agent, const char *line, size_t len,
                                                    const cnv_runtime_submit_opts *opts,
                                                    cnv_runtime_completion *out, void *result_buf,
                                                    size_t cap);

/* Creates a completion queue of `capacity` entries (a power of two, at least 2) for this
 * runtime; each entry holds a result of up to max_result bytes. Errors: CNV_EINVAL,
 * CNV_ERANGE (capacity), CNV_ENOMEM, CNV_EIO (no eventfd). Destroy it after the runtime is
 * stopped, or once nothing submitted to it is in flight. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_cq_create(cnv_runtime *rt, uint32_t capacity, cnv_runtime_cq **out);
CNV_API void cnv_runtime_cq_destroy(cnv_runtime_cq *cq);
/* The queue's eventfd (non-blocking). Any thread; wait-free. */
CNV_API int cnv_runtime_cq_fd(const cnv_runtime_cq *cq);
/* Arms the queue before a wait on its descriptor: resets the descriptor and asks the next
 * completion to signal it. Returns CNV_OK (armed, nothing to poll: wait), CNV_EAGAIN (a
 * completion is ready: poll instead of waiting), CNV_EINVAL. The polling thread; lock-free. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_cq_arm(cnv_runtime_cq *cq);
/* Takes the oldest completion into *out, its result into result_buf (cap must be at least the
 * runtime's max_result) with out->result pointing there. Returns CNV_OK, CNV_EEMPTY,
 * CNV_EINVAL, CNV_ERANGE (cap too small; nothing taken). One polling thread at a time;
 * lock-free. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_cq_poll(cnv_runtime_cq *cq, cnv_runtime_completion *out, void *result_buf,
                                                     size_t cap);
/* As poll, but waits up to timeout_ms in all (-1: no limit) for a completion. Blocking.
 * Errors: as poll; CNV_EEMPTY when the time ran out. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_cq_wait(cnv_runtime_cq *cq, int timeout_ms, cnv_runtime_completion *out,
                                                     void *result_buf, size_t cap);

/* Stops: moves the swarm to Shutdown (from whatever phase allows it; Emergency and the others
 * all may), so later submits get CNV_ESTATE; waits for submits in flight; lets the workers
 * finish the accepted work (each invocation runs, or expires if its deadline passes first)
 * until timeout_ns has passed; then completes what is left as CNV_DONE_NOT_RUN
 * (CNV_ERT_STOPPED) and a handler still running as CNV_DONE_CANCELLED (CNV_ERT_ABANDONED, its
 * cancel flag set), joins every thread not inside a handler and returns. Returns CNV_OK
 * (every thread joined), CNV_ERT_STUCK (some workers are still inside a handler:
 * cnv_runtime_stuck names them; destroy joins them), CNV_EINVAL, CNV_ESTATE (never started).
 * A handler that honours its cancel flag and returns before the timeout is not reported. The
 * completions stop makes itself run their callbacks on its thread: a callback that blocks
 * delays stop (callbacks must be short). timeout_ns UINT64_MAX: no limit. Once stopped, it
 * returns CNV_OK again. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_stop(cnv_runtime *rt, uint64_t timeout_ns);

/* A worker stop left inside a handler. */
typedef struct cnv_runtime_stuck_worker {
  uint32_t worker;
  uint32_t agent;
  uint64_t capability;
  uint64_t seq;
  uint64_t running_ns; /* how long its handler had run when stop gave up on it */
} cnv_runtime_stuck_worker;

/* Copies up to cap stuck workers into out; *n gets how many stop reported. Errors:
 * CNV_EINVAL. Any thread after stop. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_stuck(const cnv_runtime *rt, cnv_runtime_stuck_worker *out, size_t cap,
                                                   size_t *n);

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
  uint64_t failed;    /* handlers that returned an error (expired runs included) */
  uint64_t full;      /* CNV_EFULL returned */
  uint64_t refused;   /* CNV_ESTATE returned (not running) */
  uint64_t invalid;   /* CNV_EINVAL or CNV_ERANGE returned (bad options or timeout) */
  uint64_t denied_total;
  uint64_t denied[CNV_RT_DENY_COUNT];                       /* by cnv_runtime_denial */
  uint64_t completed[CNV_DONE_COUNT];                       /* by cnv_runtime_done */
  uint64_t over_target[CNV_DURATION_COUNT];                 /* runs longer than the class's target */
  uint64_t over_deadline[CNV_DURATION_COUNT];               /* expired in the queue or ended after their deadline */
  uint64_t in_queue;                                        /* accepted - completed at the snapshot */
  uint64_t latency_p50_ns, latency_p99_ns, latency_p999_ns; /* accept -> handler done */
  uint64_t latency_count;
  int32_t phase;
  uint32_t agents;
  uint32_t handlers;
  uint32_t workers;
  uint64_t algedonic_signals;
  double breaker_ratio;   /* failure ratio at the last monitor tick */
  uint32_t stuck_workers; /* workers stop left inside a handler */
  uint32_t reserved;
  uint64_t ledger_failed; /* records the configured ledger refused (not counting the
                             drops of CNV_LEDGER_FULL_DROP, which the ledger counts) */
} cnv_runtime_stats;
/* After stop: submitted == accepted + denied_total + full + invalid (+ refused only for
 * submits that raced stop), accepted == the sum of completed[], in_queue == 0. */

/* Fills *out. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_stats_get(const cnv_runtime *rt, cnv_runtime_stats *out);

/* Figures of one registered capability. */
typedef struct cnv_runtime_capability_stats {
  uint64_t failed;        /* runs that returned an error */
  uint64_t over_target;   /* runs longer than the class's target */
  uint64_t over_deadline; /* expired in the queue, or runs that ended after their deadline */
  int32_t cls;
  uint32_t reserved;
} cnv_runtime_capability_stats;

/* Fills *out for a registered path. Errors: CNV_EINVAL, the path errors, CNV_ENOTFOUND. */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_capability_stats_get(cnv_runtime *rt, const char *path, size_t path_len,
                                                                  cnv_runtime_capability_stats *out);

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
 * cnv_rt_latency_seconds histogram, cnv_rt_completions_total{kind=...},
 * cnv_rt_overruns_total{class=...,bound="target"|"deadline"}, cnv_rt_phase,
 * cnv_rt_variety_milli, ...) plus gauges refreshed at the call, then
 * cnv_rt_capability_overruns_total{capability="noun.verb",bound=...} for every registered
 * capability. Errors: CNV_EINVAL, CNV_ETEL_WRITE (fn returned non-zero). */
CNV_API CNV_NODISCARD cnv_status cnv_runtime_metrics_prometheus(cnv_runtime *rt, cnv_tel_write_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
