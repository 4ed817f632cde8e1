/* The scenario report as JSON and as text, written through the caller's callback. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <cnv/phases.h>
#include <cnv/runtime.h>

#include "scenario.h"

typedef struct out {
  cnv_tel_write_fn fn;
  void *ctx;
  cnv_status st;
} out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(out *o, const char *fmt, ...) {
  if (o->st != CNV_OK) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) {
    o->st = CNV_ERANGE;
    return;
  }
  if (o->fn(o->ctx, buf, (size_t)n) != 0) o->st = CNV_ETEL_WRITE;
}

/* JSON numbers must be finite. */
static double finite(double x) { return x == x && x < 1e300 && x > -1e300 ? x : 0; }

static void json_counts(out *o, const cnv_scenario_report *r) {
  put(o, "\"latency_ns\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64 "},",
      r->latency_p50_ns, r->latency_p99_ns, r->latency_p999_ns);
  put(o, "\"counts\":{\"submitted\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"executed\":%" PRIu64
      ",\"failed\":%" PRIu64 ",\"full\":%" PRIu64 ",\"denied_total\":%" PRIu64 "},",
      r->submitted, r->accepted, r->executed, r->failed, r->full, r->denied_total);
  put(o, "\"denied\":{");
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    put(o, "%s\"%s\":%" PRIu64, i ? "," : "", cnv_runtime_denial_name(i), r->denied[i]);
  }
  put(o, "},");
}

static void json_timeline(out *o, const cnv_scenario_report *r) {
  put(o, "\"timeline\":[");
  for (size_t i = 0; i < r->n_timeline && i < CNV_SCENARIO_TIMELINE_MAX; i++) {
    const cnv_phase_span *s = &r->timeline[i];
    put(o, "%s{\"phase\":\"%s\",\"enter_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "}",
        i ? "," : "", cnv_phase_name(s->phase), s->enter_ns, s->duration_ns);
  }
  put(o, "],\"timeline_dropped\":%" PRIu64 ",", r->timeline_dropped);
}

cnv_status cnv_scenario_report_json(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                    void *ctx) {
  if (!r || !fn) return CNV_EINVAL;
  out o = {fn, ctx, CNV_OK};
  put(&o, "{\"seed\":%" PRIu64 ",\"agents\":%" PRIu32 ",\"workers\":%" PRIu32
      ",\"elapsed_ns\":%" PRIu64 ",\"throughput\":%.3f,",
      r->seed, r->agents, r->workers, r->elapsed_ns, finite(r->throughput));
  json_counts(&o, r);
  json_timeline(&o, r);
  put(&o, "\"final_phase\":\"%s\",", cnv_phase_name(r->final_phase));
  put(&o, "\"variety\":{\"distinct\":%" PRIu32 ",\"bits\":%.6f,\"entropy\":%.6f,"
      "\"regulator_bits\":%.6f,\"deficit_bits\":%.6f},",
      r->distinct_capabilities, finite(r->variety_bits), finite(r->entropy_bits),
      finite(r->regulator_bits), finite(r->deficit_bits));
  put(&o, "\"algedonic_signals\":%" PRIu64 "}\n", r->algedonic_signals);
  return o.st;
}

static void text_phases(out *o, const cnv_scenario_report *r) {
  put(o, "phase timeline:\n");
  for (size_t i = 0; i < r->n_timeline && i < CNV_SCENARIO_TIMELINE_MAX; i++) {
    const cnv_phase_span *s = &r->timeline[i];
    put(o, "  %10.3f ms  %-12s %10.3f ms\n", (double)s->enter_ns / 1e6, cnv_phase_name(s->phase),
        (double)s->duration_ns / 1e6);
  }
  if (r->timeline_dropped) put(o, "  (%" PRIu64 " later moves not kept)\n", r->timeline_dropped);
}

cnv_status cnv_scenario_report_text(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                    void *ctx) {
  if (!r || !fn) return CNV_EINVAL;
  out o = {fn, ctx, CNV_OK};
  put(&o, "swarm run: seed %" PRIu64 ", %" PRIu32 " agents, %" PRIu32 " workers, %.3f s\n",
      r->seed, r->agents, r->workers, (double)r->elapsed_ns / 1e9);
  put(&o, "throughput: %.0f invocations/s\n", finite(r->throughput));
  put(&o, "latency: p50 %" PRIu64 " ns, p99 %" PRIu64 " ns, p99.9 %" PRIu64 " ns\n",
      r->latency_p50_ns, r->latency_p99_ns, r->latency_p999_ns);
  put(&o, "submitted %" PRIu64 ", accepted %" PRIu64 ", executed %" PRIu64 ", failed %" PRIu64
      ", full (backpressure) %" PRIu64 ", denied %" PRIu64 "\n",
      r->submitted, r->accepted, r->executed, r->failed, r->full, r->denied_total);
  put(&o, "denials by reason:\n");
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    put(&o, "  %-20s %" PRIu64 "\n", cnv_runtime_denial_name(i), r->denied[i]);
  }
  text_phases(&o, r);
  put(&o, "final phase: %s, algedonic signals: %" PRIu64 "\n", cnv_phase_name(r->final_phase),
      r->algedonic_signals);
  put(&o, "variety: %" PRIu32 " capabilities, %.3f bits, entropy %.3f bits; regulator %.3f "
      "bits, deficit %.3f bits\n",
      r->distinct_capabilities, finite(r->variety_bits), finite(r->entropy_bits),
      finite(r->regulator_bits), finite(r->deficit_bits));
  return o.st;
}
