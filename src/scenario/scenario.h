/* The built-in scenario behind `cnv swarm run`: a demo layer above the runtime, built as the
 * static library cnv_scenario (src/scenario/CMakeLists.txt) and linked only by the cnv tool and
 * the tests that test it. Not part of libcnv and never installed: it uses only the public
 * headers of libcnv (and libsodium for its agents' keys).
 *
 * Thread-safety: cnv_scenario_run may run on several threads at once (each run owns its
 * runtime); the report writers are pure. Nothing here prints or aborts: output goes through
 * the caller's write callback. */
#ifndef CNV_SCENARIO_H
#define CNV_SCENARIO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/runtime.h>
#include <cnv/status.h>
#include <cnv/telemetry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Progress snapshot, called about every progress_interval_ms from the scenario's thread. */
typedef struct cnv_scenario_progress {
  uint64_t elapsed_ns;
  uint64_t submitted, accepted, executed, denied, full, failed;
  int32_t phase;
  double throughput; /* executed per second so far */
} cnv_scenario_progress;

typedef void (*cnv_scenario_progress_fn)(void *ctx, const cnv_scenario_progress *p);

/* Agent setup progress: `ready` of `total` agents have their tokens. Called from the
 * scenario's thread once before the first agent, about every progress_interval_ms after,
 * and once with ready == total (unless cancelled first). */
typedef void (*cnv_scenario_setup_fn)(void *ctx, uint32_t ready, uint32_t total);

typedef struct cnv_scenario_config {
  uint32_t agents;                   /* 0: 32; at least 10, so every kind of bad token is present */
  uint32_t workers;                  /* 0: 2 */
  uint32_t duration_ms;              /* run time when count is 0; 0: 3000 */
  uint64_t count;                    /* invocations to submit (0, or at least 1000); 0: run for
                               duration_ms instead */
  uint64_t seed;                     /* PRNG seed for the invocation mix; 0 is a valid seed */
  uint32_t queue_capacity;           /* 0: 4096 */
  cnv_scenario_progress_fn progress; /* may be NULL */
  cnv_scenario_setup_fn setup;       /* may be NULL; gets progress_ctx too */
  void *progress_ctx;
  uint32_t progress_interval_ms; /* 0: 100 */
  cnv_tel_write_fn metrics;      /* may be NULL; else gets a complete run's Prometheus text */
  void *metrics_ctx;
  /* May be NULL. Non-zero asks the run to stop: it is read (relaxed: it guards no other
   * data) between agents during setup, every 64 submissions, while waiting for a phase and
   * while the queue is full, so a run stops within milliseconds. A signal handler may set
   * it (a lock-free atomic_int is async-signal-safe), from any thread. */
  const atomic_int *cancel;
  /* May be NULL. A governance ledger the run's runtime writes (cnv_runtime_config.ledger):
   * opened by the caller, which closes it after cnv_scenario_run returns (the runtime is
   * destroyed by then). */
  cnv_ledger *ledger;
} cnv_scenario_config;

/* Defaults as documented above. */
void cnv_scenario_config_default(cnv_scenario_config *cfg);

#define CNV_SCENARIO_TIMELINE_MAX CNV_RT_TIMELINE_MAX

/* How a run ended. */
typedef enum cnv_scenario_end {
  CNV_SCENARIO_COMPLETE = 0,
  CNV_SCENARIO_CANCELLED_SETUP = 1, /* cancelled while agents were set up: nothing ran, every
                                       count is 0 but agents_ready */
  CNV_SCENARIO_CANCELLED_RUN = 2    /* cancelled while running: the runtime was stopped (every
                                       accepted invocation completed), the counts are those up
                                       to then */
} cnv_scenario_end;

typedef struct cnv_scenario_report {
  int32_t end;           /* cnv_scenario_end */
  uint32_t agents_ready; /* agents set up (== agents unless cancelled in setup) */
  uint64_t seed;
  uint32_t agents, workers;
  uint64_t elapsed_ns; /* from start to the end of the drain */
  double throughput;   /* executed per second */
  uint64_t latency_p50_ns, latency_p99_ns, latency_p999_ns;
  uint64_t submitted, accepted, executed, failed, full, invalid;
  uint64_t denied_total;
  uint64_t denied[CNV_RT_DENY_COUNT];
  /* Which failures and denials the scenario causes on purpose ("expected"): the handler
   * fails every accepted line of the failure burst; a line is meant to be denied when it is
   * malformed, too long, names an unknown agent or capability or one a valid token refuses
   * (user.delete, effects beyond the token), comes from an agent whose token is bad, or is
   * refused for the phase (the operator's Emergency). Any other failure or denial is
   * unexpected: the scenario did not mean to cause it. A run that ends past its deadline
   * counts as failed: those are `failed_late` (the late line's run, on purpose, and any run
   * that a busy machine delayed past its deadline), neither expected nor unexpected. */
  uint64_t failed_expected, failed_late, failed_unexpected;
  uint64_t denied_expected, denied_unexpected;
  uint64_t denied_unexpected_by[CNV_RT_DENY_COUNT];
  /* Completions by kind (cnv_runtime_done; their sum is `accepted` after the stop): a share
   * of the lines is cancelled right after its submit (cancelled), a share gets a 1 ns timeout
   * (expired in the queue, as net.ping lines may under the flood: FAST_PATH's 1 ms limit). */
  uint64_t completed[CNV_DONE_COUNT];
  /* Overruns by duration class (cnv_duration_class): runs longer than the class's target,
   * and runs that ended after their deadline (the rate-limited agent's net.probe runs work
   * past fast_path's target on purpose, and one data.query line runs past its deadline). */
  uint64_t over_target[CNV_DURATION_COUNT];
  uint64_t over_deadline[CNV_DURATION_COUNT];
  /* What the scenario heard itself: accepted lines submitted with a completion callback,
   * the callbacks run by kind (their sum equals `callbacks` after the stop), successful runs
   * whose result did not carry the line's correlation id (0 in a correct run), and cancel
   * requests that took. */
  uint64_t callbacks;
  uint64_t callbacks_heard[CNV_DONE_COUNT];
  uint64_t results_mismatched;
  uint64_t cancels;
  uint32_t stuck_workers; /* workers the stop left inside a handler (0 in a correct run) */
  size_t n_timeline;
  uint64_t timeline_dropped;
  cnv_phase_span timeline[CNV_SCENARIO_TIMELINE_MAX];
  int32_t final_phase; /* CNV_PHASE_SHUTDOWN after a clean run */
  uint32_t distinct_capabilities;
  double variety_bits;
  double entropy_bits;
  double regulator_bits;
  double deficit_bits;
  uint64_t algedonic_signals;
} cnv_scenario_report;

/* Runs the built-in scenario: creates a runtime with a capability set (each with a duration
 * class) and agents whose tokens are attenuated from a root (a share expired, revoked,
 * widened, forged, plus ones lacking a capability, its effects or uses, so that every denial
 * occurs) and one rate-limited agent, moves through Bootstrap -> Negotiation -> Activation
 * -> Operational, submits invocations drawn with a seeded PRNG (malformed and
 * unknown-capability lines included; some with a completion callback, a correlation id and a
 * traceparent, some cancelled at once, some with a 1 ns deadline, some on the low lane),
 * sends the rate-limited agent's lines in a row, injects a burst of handler failures that
 * drives Operational -> Degraded (where the low lane is shed) -> Recovery -> Operational,
 * waits for the recovery, then stops (Shutdown, with a 5 s timeout) and fills *out. Calls
 * cfg->setup while the agents are set up, cfg->progress ~10 times a second while running,
 * and cfg->metrics once at the end of a complete run. With count set, these are the same
 * for a given seed and count: submitted - full, accepted + the shed denials, every other
 * denial reason, the expected failures, callbacks and cancels (the lines, and what each is
 * meant to meet); full, the shed denials (how long the swarm stays Degraded), the
 * completions by kind and the callbacks heard by kind (a line with a 1 ns deadline expires,
 * one cancelled at once completes as cancelled, but a line may also outlive its class's
 * limit on a stalled machine), the late failures, the overruns and the latencies depend on
 * timing. cfg may be NULL (defaults).
 * When *cfg->cancel becomes non-zero the run stops early and returns CNV_OK with a partial
 * report (out->end says where it stopped) and without calling cfg->metrics.
 * Errors: CNV_EINVAL, CNV_ERT_CONFIG, the errors of the runtime calls, CNV_ETEL_WRITE. */
CNV_NODISCARD cnv_status cnv_scenario_run(const cnv_scenario_config *cfg, cnv_scenario_report *out);

/* Writes the report as one JSON object (keys: end ("complete", "cancelled_in_setup" or
 * "cancelled_in_run"), agents_ready, seed, agents, workers, elapsed_ns, throughput,
 * latency_ns{p50,p99,p999}, counts{submitted,accepted,executed,failed,full,invalid,
 * denied_total},
 * denied{<reason name>: n, ...}, expected{failed,denied}, unexpected{failed,denied,
 * denied_by{<reason name>: n, ...}}, late{failed}, completions{<kind name>: n, ...},
 * overruns{<class name>: {target, deadline}, ...}, callbacks{accepted, heard{<kind name>: n,
 * ...}, results_mismatched}, cancels, stuck_workers,
 * timeline[{phase (name), enter_ns, duration_ns}],
 * timeline_dropped, final_phase (name),
 * variety{distinct,bits,entropy,regulator_bits,deficit_bits}, algedonic_signals) and a
 * trailing newline. Errors: CNV_EINVAL, CNV_ETEL_WRITE (fn returned non-zero). */
CNV_NODISCARD cnv_status cnv_scenario_report_json(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                                  void *ctx);

/* Writes the report as human-readable text lines: whether it is partial, throughput,
 * latencies and times in units chosen per value (ns, µs, ms, s; UTF-8), counts, failures
 * and denials split into expected (caused by the scenario on purpose, with the cause of each
 * reason) and unexpected, completions by kind, the callbacks heard, overruns by duration
 * class, stuck workers, the phase timeline, variety. After a cancel in setup only the
 * header and the agents set up. Errors: CNV_EINVAL, CNV_ERANGE, CNV_ETEL_WRITE. */
CNV_NODISCARD cnv_status cnv_scenario_report_text(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                                  void *ctx);

#ifdef __cplusplus
}
#endif

#endif
