/* Figures of a runtime: its telemetry metrics, the stats snapshot, Prometheus export. */
#include <math.h>
#include <string.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "rt_internal.h"

static const char *const outcome_names[CNV__RT_C_OUTCOMES] = {
    "submitted", "accepted", "full", "refused", "invalid", "executed", "failed"};

/* Striped counters: submitters and workers add to them without attaching a shard. */
/* The completion and overrun families. */
static cnv_status register_contract_counters(cnv_runtime *rt) {
  for (int i = 0; i < CNV_DONE_COUNT; i++) {
    cnv_tel_label l = {"kind", cnv_runtime_done_name(i)};
    cnv_status st = cnv_tel_register_striped_counter(rt->tel, "cnv_rt_completions_total",
                                                     "Completions of accepted invocations by kind.",
                                                     &l, 1, &rt->m_count[CNV__RT_C_DONE0 + i]);
    if (st != CNV_OK) return st;
  }
  for (int b = 0; b < 2; b++) {
    for (int i = 0; i < CNV_DURATION_COUNT; i++) {
      cnv_tel_label l[2] = {{"class", cnv_duration_class_name(i)},
                            {"bound", b ? "deadline" : "target"}};
      int which = (b ? CNV__RT_C_DEADLINE0 : CNV__RT_C_TARGET0) + i;
      cnv_status st = cnv_tel_register_striped_counter(
          rt->tel, "cnv_rt_overruns_total",
          "Runs longer than their class's target, or ended after their deadline.", l, 2,
          &rt->m_count[which]);
      if (st != CNV_OK) return st;
    }
  }
  return CNV_OK;
}

static cnv_status register_counters(cnv_runtime *rt) {
  cnv_status st0 = register_contract_counters(rt);
  if (st0 != CNV_OK) return st0;
  for (int i = 0; i < CNV__RT_C_OUTCOMES; i++) {
    cnv_tel_label l = {"outcome", outcome_names[i]};
    cnv_status st = cnv_tel_register_striped_counter(rt->tel, "cnv_rt_invocations_total",
                                                     "Invocations by outcome.", &l, 1,
                                                     &rt->m_count[i]);
    if (st != CNV_OK) return st;
  }
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    cnv_tel_label l = {"reason", cnv_runtime_denial_name(i)};
    cnv_status st = cnv_tel_register_striped_counter(rt->tel, "cnv_rt_denied_total",
                                                     "Denied invocations by reason.", &l, 1,
                                                     &rt->m_count[CNV__RT_C_DENIED0 + i]);
    if (st != CNV_OK) return st;
  }
  return CNV_OK;
}

cnv_status cnv__rt_metrics_register(cnv_runtime *rt) {
  cnv_status st = register_counters(rt);
  if (st != CNV_OK) return st;
  cnv_tel_hist_opts ho = {.scale = 1e-9, .sample_every = 1};
  st = cnv_tel_register_histogram(rt->tel, "cnv_rt_latency_seconds",
                                  "Time from acceptance to handler completion.", NULL, 0, &ho,
                                  &rt->m_latency);
  struct {
    const char *name, *help;
    cnv_metric_id *id;
  } g[] = {
      {"cnv_rt_phase", "Swarm phase (0 bootstrap .. 7 shutdown).", &rt->m_phase},
      {"cnv_rt_queue_depth", "Accepted invocations not yet completed.", &rt->m_queue},
      {"cnv_rt_variety_milli", "Variety of the capability stream, bits times 1000.",
       &rt->m_variety_bits},
      {"cnv_rt_variety_deficit_milli", "Requisite-variety deficit, bits times 1000.",
       &rt->m_deficit},
      {"cnv_rt_entropy_milli", "Entropy of the capability stream, bits times 1000.",
       &rt->m_entropy},
      {"cnv_rt_agents", "Agents added.", &rt->m_agents}};
  for (size_t i = 0; st == CNV_OK && i < sizeof g / sizeof g[0]; i++) {
    st = cnv_tel_register_gauge(rt->tel, g[i].name, g[i].help, NULL, 0, g[i].id);
  }
  return st;
}

static int64_t millibits(double b) { return (int64_t)llround(b * 1000.0); }

void cnv__rt_gauges_refresh(cnv_runtime *rt) {
  cnv_runtime_stats s;
  cnv_runtime_variety v;
  /* rt is valid and every gauge id was registered at create: none of these calls can fail */
  cnv__ignore_status(cnv_runtime_stats_get(rt, &s));
  cnv__ignore_status(cnv_tel_gauge_set(rt->tel, rt->m_phase, s.phase));
  cnv__ignore_status(cnv_tel_gauge_set(rt->tel, rt->m_queue, (int64_t)s.in_queue));
  cnv__ignore_status(cnv_tel_gauge_set(rt->tel, rt->m_agents, s.agents));
  if (cnv_runtime_variety_get(rt, &v) == CNV_OK) {
    cnv__ignore_status(cnv_tel_gauge_set(rt->tel, rt->m_variety_bits, millibits(v.bits)));
    cnv__ignore_status(cnv_tel_gauge_set(rt->tel, rt->m_deficit, millibits(v.deficit_bits)));
    cnv__ignore_status(cnv_tel_gauge_set(rt->tel, rt->m_entropy, millibits(v.entropy)));
  }
}

static uint64_t sec_to_ns(double s) { return s > 0 ? (uint64_t)llround(s * 1e9) : 0; }

cnv_status cnv_runtime_stats_get(const cnv_runtime *rt, cnv_runtime_stats *out) {
  if (!rt || !out) return CNV_EINVAL;
  memset(out, 0, sizeof *out);
  out->submitted = cnv__rt_counter(rt, CNV__RT_C_SUBMITTED);
  out->accepted = cnv__rt_counter(rt, CNV__RT_C_ACCEPTED);
  out->full = cnv__rt_counter(rt, CNV__RT_C_FULL);
  out->refused = cnv__rt_counter(rt, CNV__RT_C_REFUSED);
  out->invalid = cnv__rt_counter(rt, CNV__RT_C_INVALID);
  out->executed = cnv__rt_counter(rt, CNV__RT_C_EXECUTED);
  out->failed = cnv__rt_counter(rt, CNV__RT_C_FAILED);
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    out->denied[i] = cnv__rt_counter(rt, CNV__RT_C_DENIED0 + i);
    out->denied_total += out->denied[i];
  }
  uint64_t completed = 0;
  for (int i = 0; i < CNV_DONE_COUNT; i++) {
    out->completed[i] = cnv__rt_counter(rt, CNV__RT_C_DONE0 + i);
    completed += out->completed[i];
  }
  for (int i = 0; i < CNV_DURATION_COUNT; i++) {
    out->over_target[i] = cnv__rt_counter(rt, CNV__RT_C_TARGET0 + i);
    out->over_deadline[i] = cnv__rt_counter(rt, CNV__RT_C_DEADLINE0 + i);
  }
  out->in_queue = out->accepted > completed ? out->accepted - completed : 0;
  cnv_tel_hist_summary hs;
  if (cnv_tel_hist_summary_get(rt->tel, rt->m_latency, &hs) == CNV_OK) {
    out->latency_count = hs.count;
    out->latency_p50_ns = sec_to_ns(hs.p50);
    out->latency_p99_ns = sec_to_ns(hs.p99);
    out->latency_p999_ns = sec_to_ns(hs.p999);
  }
  out->phase = (int32_t)cnv_swarm_phase(&rt->swarm);
  uint32_t agents = cnv__load_relaxed(&((cnv_runtime *)rt)->n_agents); /* relaxed: a count */
  out->agents = agents < rt->cfg.max_agents ? agents : rt->cfg.max_agents;
  out->handlers = cnv__load_relaxed(&((cnv_runtime *)rt)->n_handlers); /* relaxed: a count */
  /* acquire: pairs with stop's release (a count here) */
  out->stuck_workers = (uint32_t)cnv__load_acquire(&((cnv_runtime *)rt)->n_stuck);
  /* relaxed: a count of refused records */
  out->ledger_failed = cnv__load_relaxed(&((cnv_runtime *)rt)->ledger_failed);
  out->workers = rt->cfg.workers;
  cnv_swarm_report rep;
  if (cnv_swarm_snapshot(&rt->swarm, cnv__rt_phase_now(rt), &rep) == CNV_OK) {
    out->algedonic_signals = rep.algedonic_signals;
  }
  uint64_t bits = cnv__load_relaxed(&((cnv_runtime *)rt)->breaker_ratio_bits); /* display */
  memcpy(&out->breaker_ratio, &bits, sizeof bits);
  return CNV_OK;
}

cnv_status cnv_runtime_metrics_prometheus(cnv_runtime *rt, cnv_tel_write_fn fn, void *ctx) {
  if (!rt || !fn) return CNV_EINVAL;
  cnv__rt_gauges_refresh(rt);
  cnv_status st = cnv_tel_export_prometheus(rt->tel, fn, ctx);
  return st == CNV_OK ? cnv__rt_registry_export(rt, fn, ctx) : st;
}
