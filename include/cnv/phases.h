/* libcnv phases: the swarm phase machine, circuit breaker, algedonic signal, coordinator
 * for many swarms, and the transition observer.
 *
 * Synchronization table (who may call what at the same time, and each call's progress;
 * the terms are defined in docs/architecture.md):
 *   cnv_swarm_transition, cnv_swarm_raise_algedonic, cnv_swarm_agent_leave
 *                              any threads, any mix; lock-free (a CAS retried only while
 *                              another thread changed the word and the move still applies).
 *   cnv_swarm_record_invocation, cnv_swarm_agent_join, cnv_swarm_phase, cnv_swarm_snapshot
 *                              any threads; wait-free.
 *   cnv_swarm_tick / cnv_breaker_evaluate
 *                              any threads; wait-free: concurrent callers get
 *                              CNV_EBREAKER_BUSY instead of waiting.
 *   cnv_breaker_record         any threads; wait-free.
 *   cnv_swarm_shutdown         any threads; lock-free (a cnv_swarm_transition, then a
 *                              snapshot).
 *   cnv_coord_* (except create/destroy/remove; cnv_coord_count walks every node)
 *                              any threads (no registration needed); lock-free, no lock
 *                              (a thread's first call joins liburcu's reader registry under
 *                              liburcu's registry lock, once); cnv_coord_add allocates.
 *   cnv_coord_remove           any thread outside an RCU read-side section; blocking: waits
 *                              a grace period for the readers in flight.
 *   cnv_observer_publish       any threads (multi-producer); lock-free (a full channel
 *                              refuses the event).
 *   cnv_observer_drain, _add_rule, _duration_stats, _export_csv
 *                              one consumer thread at a time (a second drain gets
 *                              CNV_EOBS_CONSUMER_BUSY); drain never waits for a producer.
 *   cnv_observer_matrix, cnv_observer_stats   any threads (relaxed snapshots); wait-free.
 *   init/create/destroy/fini   one thread, with no other call on the object in flight.
 * Time is always passed in by the caller (now_ns, nanoseconds of any monotonic clock below
 * 2^61), so tests drive it. Nothing here aborts or prints. */
#ifndef CNV_PHASES_H
#define CNV_PHASES_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* Phases and their legal moves (docs/phases.md).                                       */

typedef enum cnv_phase {
  CNV_PHASE_BOOTSTRAP = 0,
  CNV_PHASE_NEGOTIATION = 1,
  CNV_PHASE_ACTIVATION = 2,
  CNV_PHASE_OPERATIONAL = 3,
  CNV_PHASE_DEGRADED = 4,
  CNV_PHASE_RECOVERY = 5,
  CNV_PHASE_EMERGENCY = 6,
  CNV_PHASE_SHUTDOWN = 7
} cnv_phase;

#define CNV_PHASE_COUNT 8
/* Wildcard phase in alert rules: matches every phase. */
#define CNV_PHASE_ANY (-1)

/* Lowercase name of a phase ("operational"); "unknown" for an out-of-range value.
 * Static string, never NULL. Thread-safe. */
CNV_API const char *cnv_phase_name(int phase);

/* Whether from -> to is a legal move. CNV_OK, CNV_EPHASE_UNKNOWN (either value out of
 * range), CNV_EPHASE_FINAL (from is Shutdown), CNV_EPHASE_ILLEGAL. Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_phase_check_move(int from, int to);

/* ------------------------------------------------------------------------------------ */
/* Circuit breaker with hysteresis.                                                     */

#define CNV_BREAKER_MAX_BUCKETS 32

typedef struct cnv_breaker_config {
  double upper;         /* failure ratio above which Operational -> Degraded (0 < upper <= 1) */
  double lower;         /* ratio under which recovery counts as calm (0 <= lower < upper) */
  uint64_t window_ns;   /* sliding window length */
  uint32_t buckets;     /* window granularity: 1 .. CNV_BREAKER_MAX_BUCKETS */
  uint32_t min_samples; /* fewer outcomes in the window count as ratio 0 */
  uint64_t cooldown_ns; /* calm time needed for Degraded->Recovery and Recovery->Operational */
} cnv_breaker_config;

/* Defaults: upper 0.5, lower 0.1, 10 s window in 10 buckets, 20 samples, 5 s cool-down. */
CNV_API cnv_breaker_config cnv_breaker_config_default(void);

/* Opaque, caller-allocatable breaker (layout private to src/phases). */
typedef struct cnv_breaker {
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char opaque[16 * CNV_CACHELINE];
} cnv_breaker;

/* Initializes b with a copy of cfg. Errors: CNV_EINVAL (NULL), CNV_EBREAKER_CONFIG. */
CNV_API CNV_NODISCARD cnv_status cnv_breaker_init(cnv_breaker *b, const cnv_breaker_config *cfg);

/* Records one outcome (ok != 0: success). Wait-free (two release fetch-adds at most, no
 * retry); any threads. Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_breaker_record(cnv_breaker *b, int ok);

/* Evaluates the window at now_ns for a swarm in `phase` and writes the move the breaker
 * wants to *target (== phase when none): Operational->Degraded when the ratio is above
 * upper; Degraded->Recovery and then Recovery->Operational each after the ratio stayed
 * under lower for cooldown_ns (any tick at or above lower restarts the cool-down).
 * *ratio (optional) gets the window's failure ratio. Errors: CNV_EINVAL, CNV_EPHASE_UNKNOWN,
 * CNV_EBREAKER_BUSY (another thread is evaluating; nothing changed). */
CNV_API CNV_NODISCARD cnv_status cnv_breaker_evaluate(cnv_breaker *b, uint64_t now_ns, int phase, int *target,
                                                      double *ratio);

/* ------------------------------------------------------------------------------------ */
/* Observer: transition events through a lock-free MPSC channel.                         */

typedef struct cnv_observer cnv_observer;

/* One transition; published by a swarm after its CAS succeeded. */
typedef struct cnv_phase_event {
  uint64_t swarm_id;
  uint64_t at_ns;       /* time of the transition (the winner's now_ns) */
  uint64_t entered_ns;  /* when `from` was entered: the previous move's at_ns */
  uint64_t duration_ns; /* time spent in `from` (0 if at_ns < entered_ns) */
  int32_t from;
  int32_t to;
} cnv_phase_event;

/* Algedonic reason codes; callers may use their own values from 256 up. */
enum {
  CNV_ALGEDONIC_OPERATOR = 1,        /* a human or agent pulled the cord */
  CNV_ALGEDONIC_VARIETY_DEFICIT = 2, /* regulator variety below disturbance variety */
  CNV_ALGEDONIC_FAILURE_STORM = 3,   /* failure rate beyond what Degraded can absorb */
  CNV_ALGEDONIC_INTEGRITY = 4        /* tampering or trust failure detected */
};

/* ------------------------------------------------------------------------------------ */
/* Swarm: one phase machine with counters and an embedded breaker.                       */

/* Opaque, caller-allocatable swarm (layout private to src/phases). */
typedef struct cnv_swarm {
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char opaque[24 * CNV_CACHELINE];
} cnv_swarm;

/* Everything a swarm counts; cnv_swarm_snapshot and cnv_swarm_shutdown fill it. */
typedef struct cnv_swarm_report {
  uint64_t swarm_id;
  int32_t phase;                              /* phase at the time of the snapshot */
  uint32_t last_algedonic_reason;             /* 0 when never raised */
  uint64_t entered_ns;                        /* when the current phase was entered */
  uint64_t time_in_phase_ns[CNV_PHASE_COUNT]; /* includes the current phase up to now */
  uint64_t errors_in_phase[CNV_PHASE_COUNT];  /* failures recorded while in each phase */
  uint64_t transitions;                       /* successful moves */
  uint64_t rejected_transitions;              /* illegal or stale attempts */
  uint64_t algedonic_signals;                 /* signals raised, moved or not */
  int64_t active_agents;
  uint64_t invocations; /* outcomes recorded */
  uint64_t failures;
  double health_ratio; /* (invocations-failures)/invocations; 1 if none */
} cnv_swarm_report;

/* Initializes a swarm in Bootstrap, entered at now_ns. breaker may be NULL (defaults);
 * observer may be NULL (no events) and must outlive the swarm. Errors: CNV_EINVAL,
 * CNV_ERANGE, CNV_EBREAKER_CONFIG. */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_init(cnv_swarm *sw, uint64_t swarm_id, uint64_t now_ns,
                                                const cnv_breaker_config *breaker, cnv_observer *observer);

/* Current phase (acquire load: what the winning transition wrote before is visible).
 * sw must be an initialized swarm (the only call here without an error channel). */
CNV_API cnv_phase cnv_swarm_phase(const cnv_swarm *sw);

/* Moves from `from` to `to` with one compare-and-swap on the packed (phase, entry time)
 * word; the winner adds the time spent in `from` and publishes an event to the observer
 * (an observer that is full counts the event as dropped; the move still stands).
 * Errors: CNV_EINVAL, CNV_EPHASE_UNKNOWN, CNV_EPHASE_FINAL, CNV_EPHASE_ILLEGAL,
 * CNV_EPHASE_STALE (the swarm is not in `from`, or left it while we tried),
 * CNV_ERANGE. Illegal and stale attempts are counted. acq_rel on success. */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_transition(cnv_swarm *sw, int from, int to, uint64_t now_ns);

/* Algedonic (pain) signal: moves the swarm straight to Emergency from whatever phase it is
 * in, if that phase allows it, and records `reason`. Errors: CNV_EINVAL, CNV_EPHASE_FINAL
 * (Shutdown), CNV_EPHASE_ALREADY_EMERGENCY (counted, no move), CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_raise_algedonic(cnv_swarm *sw, uint32_t reason, uint64_t now_ns);

/* Records one invocation outcome: invocations, failures, errors of the current phase, and
 * the breaker's window. Wait-free (fetch-adds only: a relaxed one on a failure, then
 * cnv_breaker_record's); any threads. Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_record_invocation(cnv_swarm *sw, int ok);

/* Active agent count: join adds one; leave removes one or fails with
 * CNV_EPHASE_AGENTS_UNDERFLOW when the count is already 0. Any threads. join: wait-free
 * (one relaxed fetch-add). leave: lock-free (a CAS retried only when another thread changed
 * the count). Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_agent_join(cnv_swarm *sw);
CNV_API CNV_NODISCARD cnv_status cnv_swarm_agent_leave(cnv_swarm *sw);

/* Evaluates the breaker and applies the move it wants with cnv_swarm_transition.
 * *moved_to (optional) gets the new phase, or -1 when nothing moved. A move lost to a
 * concurrent transition is not an error (nothing moved). Errors: those of
 * cnv_breaker_evaluate and cnv_swarm_transition other than STALE. */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_tick(cnv_swarm *sw, uint64_t now_ns, int *moved_to);

/* Fills *out with every counter (the phase word and the breaker's failures/invocations are
 * acquire loads, the rest relaxed: each is exact, the set is not one instant; failures <=
 * invocations always). Any threads; wait-free. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_snapshot(const cnv_swarm *sw, uint64_t now_ns, cnv_swarm_report *out);

/* Moves from -> Shutdown and, on success, fills the final report (as cnv_swarm_snapshot).
 * Any threads; lock-free (the transition's CAS, then wait-free reads). Errors: CNV_EINVAL
 * (NULL sw or out), those of cnv_swarm_transition (the report is not written then). */
CNV_API CNV_NODISCARD cnv_status cnv_swarm_shutdown(cnv_swarm *sw, int from, uint64_t now_ns,
                                                    cnv_swarm_report *out);

/* ------------------------------------------------------------------------------------ */
/* Coordinator: many swarms in a liburcu lock-free hash table (bulletproof flavour,
 * urcu-bp: threads register on their first read-side section). */

typedef struct cnv_coord cnv_coord;

typedef struct cnv_coord_config {
  uint32_t expected_swarms;   /* sizes the table (power of two above); 0: 1024 */
  cnv_breaker_config breaker; /* every swarm's breaker */
  cnv_observer *observer;     /* NULL: no events; must outlive the coordinator */
} cnv_coord_config;

/* Creates a coordinator. cfg may be NULL (defaults). Errors: CNV_EINVAL,
 * CNV_EBREAKER_CONFIG, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_coord_create(const cnv_coord_config *cfg, cnv_coord **out);
/* Frees every swarm and the table; call with no other call in flight. NULL is ignored. */
CNV_API void cnv_coord_destroy(cnv_coord *c);

/* Adds a swarm in Bootstrap (allocates); any threads at once. Errors: CNV_EINVAL, CNV_ENOMEM, CNV_ERANGE,
 * CNV_ECOORD_DUPLICATE. */
CNV_API CNV_NODISCARD cnv_status cnv_coord_add(cnv_coord *c, uint64_t swarm_id, uint64_t now_ns);
/* Removes a swarm and frees it after a grace period (waits for readers). Call from a
 * thread outside any read-side section. Errors: CNV_EINVAL, CNV_ECOORD_NO_SWARM. */
CNV_API CNV_NODISCARD cnv_status cnv_coord_remove(cnv_coord *c, uint64_t swarm_id);
/* Number of swarms (approximate while adds and removes run; 0 for NULL c). Any threads;
 * lock-free: walks every node of the table inside one read-side section (no lock apart
 * from liburcu's registry lock on a thread's first read-side section), so its steps grow
 * with the number of swarms and with adds made during the walk. */
CNV_API uint64_t cnv_coord_count(const cnv_coord *c);

/* Lock-free reads and moves by swarm id (RCU read-side section inside). Each returns
 * CNV_ECOORD_NO_SWARM for an unknown id, else what the cnv_swarm_* call it wraps returns. */
CNV_API CNV_NODISCARD cnv_status cnv_coord_phase(cnv_coord *c, uint64_t swarm_id, cnv_phase *out);
CNV_API CNV_NODISCARD cnv_status cnv_coord_transition(cnv_coord *c, uint64_t swarm_id, int from, int to,
                                                      uint64_t now_ns);
CNV_API CNV_NODISCARD cnv_status cnv_coord_raise_algedonic(cnv_coord *c, uint64_t swarm_id, uint32_t reason,
                                                           uint64_t now_ns);
CNV_API CNV_NODISCARD cnv_status cnv_coord_record_invocation(cnv_coord *c, uint64_t swarm_id, int ok);
CNV_API CNV_NODISCARD cnv_status cnv_coord_snapshot(cnv_coord *c, uint64_t swarm_id, uint64_t now_ns,
                                                    cnv_swarm_report *out);
/* Ticks every swarm's breaker; *moved (optional) counts the swarms that changed phase.
 * Swarms whose breaker is busy elsewhere are skipped. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_coord_tick_all(cnv_coord *c, uint64_t now_ns, uint64_t *moved);

/* ------------------------------------------------------------------------------------ */
/* Observer internals exposed to callers: alerts, rules, statistics, CSV.                */

typedef enum cnv_alert_severity { CNV_ALERT_WARNING = 1,
                                  CNV_ALERT_CRITICAL = 2 } cnv_alert_severity;

typedef enum cnv_alert_kind {
  CNV_ALERT_ANOMALY = 0,        /* built-in: |z| of a phase duration above 3 (warn) / 5 (crit) */
  CNV_ALERT_RULE_THRESHOLD = 1, /* matching transitions counted since start reached threshold */
  CNV_ALERT_RULE_RATE = 2,      /* matching transitions within one window reached threshold */
  CNV_ALERT_RULE_ANOMALY = 3    /* |z| of a duration in phase `from` reached threshold */
} cnv_alert_kind;

typedef struct cnv_alert {
  cnv_alert_kind kind;
  cnv_alert_severity severity;
  uint32_t rule_id; /* UINT32_MAX for the built-in anomaly alert */
  int32_t from, to; /* the transition that fired it */
  uint64_t swarm_id;
  uint64_t at_ns;
  double value; /* z-score, or the count that crossed the threshold */
} cnv_alert;

/* Called on the draining thread for each alert; must not call back into the observer. */
typedef void (*cnv_alert_fn)(void *ctx, const cnv_alert *alert);

/* A user rule. from/to may be CNV_PHASE_ANY. THRESHOLD fires once, when the count of
 * matching transitions reaches threshold; RATE fires once per tumbling window of window_ns
 * when that window's count reaches threshold; ANOMALY fires on every duration in `from`
 * (to is ignored) whose |z| reaches threshold. */
typedef struct cnv_alert_rule {
  cnv_alert_kind kind; /* THRESHOLD, RATE or RULE_ANOMALY */
  cnv_alert_severity severity;
  int32_t from, to;
  double threshold;   /* > 0 */
  uint64_t window_ns; /* RATE only, > 0 */
} cnv_alert_rule;

#define CNV_OBSERVER_MAX_RULES 64

typedef struct cnv_observer_config {
  uint32_t capacity;     /* channel slots, power of two, 2 .. 2^24; 0: 4096 */
  uint32_t max_swarms;   /* swarms with duration statistics; 0: 16384 */
  uint32_t min_samples;  /* durations seen before z-scores are judged; 0: 8 */
  cnv_alert_fn on_alert; /* may be NULL: alerts are only counted */
  void *alert_ctx;
} cnv_observer_config;

typedef struct cnv_observer_stats {
  uint64_t published; /* events accepted by the channel */
  uint64_t dropped;   /* events refused because the channel was full */
  uint64_t drained;   /* events folded into the matrix and statistics */
  uint64_t untracked; /* drained events whose swarm did not fit the stats table */
  uint64_t warnings;  /* alerts raised with severity warning */
  uint64_t criticals; /* alerts raised with severity critical */
} cnv_observer_stats;

typedef struct cnv_duration_stats {
  uint64_t count;
  double mean_ns;
  double variance_ns2; /* sample variance (n-1); 0 when count < 2 */
  uint64_t min_ns, max_ns;
} cnv_duration_stats;

/* Creates an observer (allocates the channel and the stats table). cfg may be NULL.
 * Errors: CNV_EINVAL, CNV_EOBS_CAPACITY, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_create(const cnv_observer_config *cfg, cnv_observer **out);
/* Frees an observer; no other call may be in flight. NULL is ignored. */
CNV_API void cnv_observer_destroy(cnv_observer *o);

/* Copies one event into the channel (multi-producer, lock-free). CNV_OK, CNV_EINVAL,
 * CNV_EPHASE_UNKNOWN (from or to out of range), CNV_EOBS_FULL (counted as dropped). Release: the drain that reads it sees the event. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_publish(cnv_observer *o, const cnv_phase_event *ev);

/* Folds up to max events (0: all present) into the matrix and per-(swarm, phase) Welford
 * statistics, judging each duration's z-score and the rules, and calls on_alert.
 * *drained (optional) counts them. Errors: CNV_EINVAL, CNV_EOBS_CONSUMER_BUSY. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_drain(cnv_observer *o, size_t max, size_t *drained);

/* Adds a rule; *rule_id (optional) identifies it in alerts. Consumer thread only.
 * Errors: CNV_EINVAL, CNV_EOBS_RULE, CNV_EOBS_RULES_FULL. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_add_rule(cnv_observer *o, const cnv_alert_rule *rule,
                                                       uint32_t *rule_id);

/* Copies the transition matrix (counts of drained from->to moves). Any thread. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_matrix(const cnv_observer *o,
                                                     uint64_t out[CNV_PHASE_COUNT][CNV_PHASE_COUNT]);
/* Copies the channel and alert counters. Any thread. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_stats_get(const cnv_observer *o, cnv_observer_stats *out);

/* Duration statistics of one (swarm, phase) pair. Consumer thread only.
 * Errors: CNV_EINVAL, CNV_EPHASE_UNKNOWN, CNV_ENOTFOUND (no event for that swarm yet). */
CNV_API CNV_NODISCARD cnv_status cnv_observer_duration_stats(const cnv_observer *o, uint64_t swarm_id,
                                                             int phase, cnv_duration_stats *out);

/* Writes the matrix as CSV ("from,bootstrap,...,shutdown" then one row per from-phase)
 * into buf. *len gets the bytes needed without the terminating NUL; the text is
 * NUL-terminated when it fits. Errors: CNV_EINVAL, CNV_ERANGE (cap too small: nothing
 * usable written, *len says how much is needed). Any thread. */
CNV_API CNV_NODISCARD cnv_status cnv_observer_export_csv(const cnv_observer *o, char *buf, size_t cap,
                                                         size_t *len);

#ifdef __cplusplus
}
#endif

#endif
