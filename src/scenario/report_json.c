/* The scenario report as JSON, for machines: raw numbers, times in ns (keys say so); and
 * the writers' shared output helper. The text report: report_text.c. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <cnv/phases.h>
#include <cnv/runtime.h>

#include "sc_internal.h"
#include "scenario.h"

void cnv__sc_put(cnv__sc_out *o, const char *fmt, ...) {
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

double cnv__sc_finite(double x) { return x == x && x < 1e300 && x > -1e300 ? x : 0; }

static void json_counts(cnv__sc_out *o, const cnv_scenario_report *r) {
  cnv__sc_put(o, "\"latency_ns\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64 "},",
              r->latency_p50_ns, r->latency_p99_ns, r->latency_p999_ns);
  cnv__sc_put(o, "\"counts\":{\"submitted\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"executed\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"full\":%" PRIu64 ",\"invalid\":%" PRIu64 ",\"denied_total\":%" PRIu64 "},",
              r->submitted, r->accepted, r->executed, r->failed, r->full, r->invalid, r->denied_total);
  cnv__sc_put(o, "\"denied\":{");
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    cnv__sc_put(o, "%s\"%s\":%" PRIu64, i ? "," : "", cnv_runtime_denial_name(i), r->denied[i]);
  }
  cnv__sc_put(o, "},\"expected\":{\"failed\":%" PRIu64 ",\"denied\":%" PRIu64 "},",
              r->failed_expected, r->denied_expected);
  cnv__sc_put(o, "\"late\":{\"failed\":%" PRIu64 "},", r->failed_late);
  cnv__sc_put(o, "\"unexpected\":{\"failed\":%" PRIu64 ",\"denied\":%" PRIu64 ",\"denied_by\":{",
              r->failed_unexpected, r->denied_unexpected);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    cnv__sc_put(o, "%s\"%s\":%" PRIu64, i ? "," : "", cnv_runtime_denial_name(i),
                r->denied_unexpected_by[i]);
  }
  cnv__sc_put(o, "}},");
}

/* Completions by kind, overruns by class, what the scenario's callback heard. */
static void json_answers(cnv__sc_out *o, const cnv_scenario_report *r) {
  cnv__sc_put(o, "\"completions\":{");
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    cnv__sc_put(o, "%s\"%s\":%" PRIu64, k ? "," : "", cnv_runtime_done_name(k), r->completed[k]);
  }
  cnv__sc_put(o, "},\"overruns\":{");
  for (int c = 0; c < CNV_DURATION_COUNT; c++) {
    cnv__sc_put(o, "%s\"%s\":{\"target\":%" PRIu64 ",\"deadline\":%" PRIu64 "}", c ? "," : "",
                cnv_duration_class_name(c), r->over_target[c], r->over_deadline[c]);
  }
  cnv__sc_put(o, "},\"callbacks\":{\"accepted\":%" PRIu64 ",\"heard\":{", r->callbacks);
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    cnv__sc_put(o, "%s\"%s\":%" PRIu64, k ? "," : "", cnv_runtime_done_name(k),
                r->callbacks_heard[k]);
  }
  cnv__sc_put(o, "},\"results_mismatched\":%" PRIu64 "},\"cancels\":%" PRIu64 ",\"stuck_workers\":%" PRIu32 ",",
              r->results_mismatched, r->cancels, r->stuck_workers);
}

static const char *end_name(int32_t end) {
  return end == CNV_SCENARIO_COMPLETE          ? "complete"
         : end == CNV_SCENARIO_CANCELLED_SETUP ? "cancelled_in_setup"
                                               : "cancelled_in_run";
}

static void json_timeline(cnv__sc_out *o, const cnv_scenario_report *r) {
  cnv__sc_put(o, "\"timeline\":[");
  for (size_t i = 0; i < r->n_timeline && i < CNV_SCENARIO_TIMELINE_MAX; i++) {
    const cnv_phase_span *s = &r->timeline[i];
    cnv__sc_put(o, "%s{\"phase\":\"%s\",\"enter_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "}",
                i ? "," : "", cnv_phase_name(s->phase), s->enter_ns, s->duration_ns);
  }
  cnv__sc_put(o, "],\"timeline_dropped\":%" PRIu64 ",", r->timeline_dropped);
}

cnv_status cnv_scenario_report_json(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                    void *ctx) {
  if (!r || !fn) return CNV_EINVAL;
  cnv__sc_out o = {fn, ctx, CNV_OK};
  cnv__sc_put(&o, "{\"end\":\"%s\",\"agents_ready\":%" PRIu32 ",", end_name(r->end),
              r->agents_ready);
  cnv__sc_put(&o, "\"seed\":%" PRIu64 ",\"agents\":%" PRIu32 ",\"workers\":%" PRIu32 ",\"elapsed_ns\":%" PRIu64 ",\"throughput\":%.3f,",
              r->seed, r->agents, r->workers, r->elapsed_ns, cnv__sc_finite(r->throughput));
  json_counts(&o, r);
  json_answers(&o, r);
  json_timeline(&o, r);
  cnv__sc_put(&o, "\"final_phase\":\"%s\",", cnv_phase_name(r->final_phase));
  cnv__sc_put(&o, "\"variety\":{\"distinct\":%" PRIu32
                  ",\"bits\":%.6f,\"entropy\":%.6f,"
                  "\"regulator_bits\":%.6f,\"deficit_bits\":%.6f},",
              r->distinct_capabilities, cnv__sc_finite(r->variety_bits), cnv__sc_finite(r->entropy_bits),
              cnv__sc_finite(r->regulator_bits), cnv__sc_finite(r->deficit_bits));
  cnv__sc_put(&o, "\"algedonic_signals\":%" PRIu64 "}\n", r->algedonic_signals);
  return o.st;
}
