/* The scenario report as text, for people: times in units chosen per value, and every
 * failure and denial labelled as caused by the scenario on purpose or not. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cnv/phases.h>
#include <cnv/runtime.h>

#include "core/ignore.h"
#include "sc_internal.h"
#include "scenario.h"

/* Why the scenario causes each denial reason (sc_internal.h's token kinds, scenario.c's line
 * mix and stages). */
static const char *const deny_cause[CNV_RT_DENY_COUNT] = {
    [CNV_RT_DENY_PHASE] = "lines sent during the operator's Emergency",
    [CNV_RT_DENY_MALFORMED] = "lines that break the grammar",
    [CNV_RT_DENY_UNKNOWN_AGENT] = "lines from agents never added",
    [CNV_RT_DENY_UNKNOWN_CAPABILITY] = "lines naming ghost.* capabilities",
    [CNV_RT_DENY_EXPIRED] = "agents given expired tokens",
    [CNV_RT_DENY_REVOKED] = "agents whose tokens are revoked",
    [CNV_RT_DENY_WIDENED] = "agents given chains that widen",
    [CNV_RT_DENY_FORGED] = "agents given forged signatures",
    [CNV_RT_DENY_NOT_ALLOWED] = "user.delete, forbidden by every token",
    [CNV_RT_DENY_EFFECTS] = "data.export, net.fetch: effects no token grants",
    [CNV_RT_DENY_USES] = "agents given tokens of 3 uses",
    [CNV_RT_DENY_UNTRUSTED] = "agents given tokens of an untrusted root",
    [CNV_RT_DENY_TOO_LONG] = "log.append lines over the length limit",
    [CNV_RT_DENY_RATE] = "the rate-limited agent's lines in a row",
    [CNV_RT_DENY_SHED] = "low-lane lines while the swarm is degraded",
    [CNV_RT_DENY_ARGUMENTS] = "user.update lines whose --id is not an integer",
};

/* A duration in ns as three significant digits in ns, µs, ms or s. */
typedef struct dur {
  char s[24];
} dur;

static dur fmt_dur(uint64_t ns) {
  static const struct {
    uint64_t from; /* the smallest ns shown in this unit (rounding up into it included) */
    double div;
    const char *unit;
  } units[] = {{999500000u, 1e9, "s"}, {999500u, 1e6, "ms"}, {1000u, 1e3, "µs"}};
  dur d;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (ns < units[i].from) continue;
    double v = (double)ns / units[i].div;
    int prec = v < 9.995 ? 2 : v < 99.95 ? 1
                                         : 0;
    snprintf(d.s, sizeof d.s, "%.*f %s", prec, v, units[i].unit);
    return d;
  }
  snprintf(d.s, sizeof d.s, "%" PRIu64 " ns", ns);
  return d;
}

/* s right-aligned to `width` terminal columns ("µ" is two bytes, one column). */
static void put_right(cnv__sc_out *o, const char *s, int width) {
  int cols = (int)strlen(s) - (strstr(s, "µ") ? (int)strlen("µ") - 1 : 0);
  cnv__sc_put(o, "%*s%s", width > cols ? width - cols : 0, "", s);
}

static void text_phases(cnv__sc_out *o, const cnv_scenario_report *r) {
  cnv__sc_put(o, "phase timeline (entered at, phase, time in it):\n");
  for (size_t i = 0; i < r->n_timeline && i < CNV_SCENARIO_TIMELINE_MAX; i++) {
    const cnv_phase_span *s = &r->timeline[i];
    cnv__sc_put(o, "  ");
    put_right(o, fmt_dur(s->enter_ns).s, 9);
    cnv__sc_put(o, "  %-12s ", cnv_phase_name(s->phase));
    put_right(o, fmt_dur(s->duration_ns).s, 9);
    cnv__sc_put(o, "\n");
  }
  if (r->timeline_dropped) {
    cnv__sc_put(o, "  (%" PRIu64 " later moves not kept)\n", r->timeline_dropped);
  }
}

/* Completions by kind, the callbacks, overruns by class and the stop. */
static void text_answers(cnv__sc_out *o, const cnv_scenario_report *r) {
  uint64_t sum = 0, heard = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) sum += r->completed[k], heard += r->callbacks_heard[k];
  cnv__sc_put(o, "completions %" PRIu64 " (accepted %" PRIu64 "):", sum, r->accepted);
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    cnv__sc_put(o, "%s %s %" PRIu64, k ? "," : "", cnv_runtime_done_name(k), r->completed[k]);
  }
  cnv__sc_put(o, "\n  (scenario: lines given a 1 ns deadline expire, and so does the late data.query run; %" PRIu64 " lines were cancelled right after their submit)\n", r->cancels);
  cnv__sc_put(o, "callbacks: %" PRIu64 " accepted lines asked for one, %" PRIu64 " heard:", r->callbacks, heard);
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    cnv__sc_put(o, "%s %s %" PRIu64, k ? "," : "", cnv_runtime_done_name(k), r->callbacks_heard[k]);
  }
  cnv__sc_put(o, "; results without their correlation id %" PRIu64 "\n", r->results_mismatched);
  cnv__sc_put(o, "overruns by class      target  deadline  class target / limit (scenario: net.probe runs work 150 µs; one data.query runs 1 ms past its deadline)\n");
  for (int c = 0; c < CNV_DURATION_COUNT; c++) {
    uint64_t target = 0, limit = 0;
    cnv__ignore_status(cnv_duration_class_limits(c, &target, &limit)); /* c is a class */
    cnv__sc_put(o, "  %-18s %8" PRIu64 "  %8" PRIu64 "  %s / ", cnv_duration_class_name(c),
                r->over_target[c], r->over_deadline[c], fmt_dur(target).s);
    cnv__sc_put(o, "%s\n", fmt_dur(limit).s);
  }
  cnv__sc_put(o, "stop: %" PRIu32 " workers left inside a handler\n", r->stuck_workers);
}

static void text_outcomes(cnv__sc_out *o, const cnv_scenario_report *r) {
  cnv__sc_put(o, "submitted %" PRIu64 ", accepted %" PRIu64 ", executed %" PRIu64 ", full (backpressure, retried) %" PRIu64 ", invalid %" PRIu64 "\n",
              r->submitted, r->accepted, r->executed, r->full, r->invalid);
  cnv__sc_put(o, "failed %" PRIu64 ": expected (scenario: the injected failure burst) %" PRIu64 ", ran past their deadline (the late data.query line; any a busy machine delayed) %" PRIu64 ", unexpected %" PRIu64 "\n",
              r->failed, r->failed_expected, r->failed_late, r->failed_unexpected);
  cnv__sc_put(o, "denied %" PRIu64 ": expected (scenario: causes below) %" PRIu64 ", unexpected %" PRIu64 "\n",
              r->denied_total, r->denied_expected, r->denied_unexpected);
  cnv__sc_put(o, "denials by reason      expected  unexpected  cause in the scenario\n");
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    uint64_t u = r->denied_unexpected_by[i];
    cnv__sc_put(o, "  %-18s %10" PRIu64 "  %10" PRIu64 "  %s\n", cnv_runtime_denial_name(i),
                r->denied[i] - u, u, deny_cause[i]);
  }
}

cnv_status cnv_scenario_report_text(const cnv_scenario_report *r, cnv_tel_write_fn fn,
                                    void *ctx) {
  if (!r || !fn) return CNV_EINVAL;
  cnv__sc_out o = {fn, ctx, CNV_OK};
  cnv__sc_put(&o, "swarm run: seed %" PRIu64 ", %" PRIu32 " agents, %" PRIu32 " workers",
              r->seed, r->agents, r->workers);
  if (r->end == CNV_SCENARIO_CANCELLED_SETUP) {
    cnv__sc_put(&o, "\ninterrupted while setting up: %" PRIu32 " of %" PRIu32 " agents ready, nothing ran\n", r->agents_ready, r->agents);
    return o.st;
  }
  cnv__sc_put(&o, ", %s%s\n", fmt_dur(r->elapsed_ns).s,
              r->end == CNV_SCENARIO_COMPLETE ? "" : " (interrupted: partial report)");
  cnv__sc_put(&o, "throughput: %.0f invocations/s\n", cnv__sc_finite(r->throughput));
  cnv__sc_put(&o, "latency: p50 %s, p99 %s, p99.9 %s\n", fmt_dur(r->latency_p50_ns).s,
              fmt_dur(r->latency_p99_ns).s, fmt_dur(r->latency_p999_ns).s);
  text_outcomes(&o, r);
  text_answers(&o, r);
  text_phases(&o, r);
  cnv__sc_put(&o, "final phase: %s, algedonic signals: %" PRIu64 "\n",
              cnv_phase_name(r->final_phase), r->algedonic_signals);
  cnv__sc_put(&o, "variety: %" PRIu32
                  " capabilities, %.3f bits, entropy %.3f bits; regulator "
                  "%.3f bits, deficit %.3f bits\n",
              r->distinct_capabilities, cnv__sc_finite(r->variety_bits),
              cnv__sc_finite(r->entropy_bits), cnv__sc_finite(r->regulator_bits),
              cnv__sc_finite(r->deficit_bits));
  return o.st;
}
