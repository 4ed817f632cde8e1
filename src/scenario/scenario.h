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

typedef struct cnv_scenario_config {
  uint32_t agents;          /* 0: 32; at least 10, so every kind of bad token is present */
  uint32_t workers;         /* 0: 2 */
  uint32_t duration_ms;     /* run time when count is 0; 0: 3000 */
  uint64_t count;           /* invocations to submit (0, or at least 1000); 0: run for
                               duration_ms instead */
  uint64_t seed;            /* PRNG seed for the invocation mix; 0 is a valid seed */
  uint32_t queue_capacity;  /* 0: 4096 */
  cnv_scenario_progress_fn progress; /* may be NULL */
  void *progress_ctx;
  uint32_t progress_interval_ms;     /* 0: 100 */
  cnv_tel_write_fn metrics;  /* may be NULL; else gets the run's Prometheus text at the end */
  void *metrics_ctx;
} cnv_scenario_config;

/* Defaults as documented above. */
void cnv_scenario_config_default(cnv_scenario_config *cfg);

#define CNV_SCENARIO_TIMELINE_MAX CNV_RT_TIMELINE_MAX

typedef struct cnv_scenario_report {
  uint64_t seed;
  uint32_t agents, workers;
  uint64_t elapsed_ns;       /* from start to the end of the drain */
  double throughput;         /* executed per second */
  uint64_t latency_p50_ns, latency_p99_ns, latency_p999_ns;
  uint64_t submitted, accepted, executed, failed, full;
  uint64_t denied_total;
  uint64_t denied[CNV_RT_DENY_COUNT];
  size_t n_timeline;
  uint64_t timeline_dropped;
  cnv_phase_span timeline[CNV_SCENARIO_TIMELINE_MAX];
  int32_t final_phase;       /* CNV_PHASE_SHUTDOWN after a clean run */
  uint32_t distinct_capabilities;
  double variety_bits;
  double entropy_bits;
  double regulator_bits;
  double deficit_bits;
  uint64_t algedonic_signals;
} cnv_scenario_report;

/* Runs the built-in scenario: creates a runtime with a capability set and agents whose
 * tokens are attenuated from a root (a share expired, revoked, widened, forged, plus ones
 * lacking a capability, its effects or uses, so that every denial occurs), moves through
 * Bootstrap -> Negotiation -> Activation -> Operational, submits invocations drawn with a
 * seeded PRNG (malformed and unknown-capability lines included), injects a burst of handler
 * failures that drives Operational -> Degraded -> Recovery -> Operational, waits for the
 * recovery, then stops (Shutdown) and fills *out. Calls cfg->progress ~10 times a second
 * and cfg->metrics once at the end. With count set, every counter but `full` and the
 * latencies is the same for a given seed and count. cfg may be NULL (defaults).
 * Errors: CNV_EINVAL, CNV_ERT_CONFIG, the errors of the runtime calls, CNV_ETEL_WRITE. */
CNV_NODISCARD cnv_status cnv_scenario_run(const cnv_scenario_config *cfg, cnv_scenario_report *out);

/* Writes the report as one JSON object (keys: seed, agents, workers, elapsed_ns, throughput,
 * latency_ns{p50,p99,p999}, counts{submitted,accepted,executed,failed,full,denied_total},
 * denied{<reason name>: n, ...}, timeline[{phase (name), enter_ns, duration_ns}],
 * timeline_dropped, final_phase (name),
 * variety{distinct,bits,entropy,regulator_bits,deficit_bits}, algedonic_signals) and a
 * trailing newline. Errors: CNV_EINVAL, CNV_ETEL_WRITE (fn returned non-zero). */
CNV_NODISCARD cnv_status cnv_scenario_report_json(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                            void *ctx);

/* Writes the report as human-readable text lines (throughput, latencies, counts, denials by
 * reason, phase timeline, variety). Errors: CNV_EINVAL, CNV_ETEL_WRITE. */
CNV_NODISCARD cnv_status cnv_scenario_report_text(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                            void *ctx);

#ifdef __cplusplus
}
#endif

#endif
