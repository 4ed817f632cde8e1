/* Observer alerts: the built-in z-score anomaly alert and user rules (threshold, rate,
 * anomaly). Runs on the consumer thread only, so rule state needs no atomics. */
#include <math.h>

#include "observer_internal.h"

#define CNV__Z_WARNING 3.0
#define CNV__Z_CRITICAL 5.0

static int cnv__rule_phase_ok(int32_t p) { return p == CNV_PHASE_ANY || (p >= 0 && p < CNV_PHASE_COUNT); }

static int cnv__rule_ok(const cnv_alert_rule *r) {
  if (r->kind != CNV_ALERT_RULE_THRESHOLD && r->kind != CNV_ALERT_RULE_RATE &&
      r->kind != CNV_ALERT_RULE_ANOMALY)
    return 0;
  if (r->severity != CNV_ALERT_WARNING && r->severity != CNV_ALERT_CRITICAL) return 0;
  if (!cnv__rule_phase_ok(r->from) || !cnv__rule_phase_ok(r->to)) return 0;
  if (!(r->threshold > 0.0) || !isfinite(r->threshold)) return 0;
  return r->kind != CNV_ALERT_RULE_RATE || r->window_ns > 0;
}

CNV_API cnv_status cnv_observer_add_rule(cnv_observer *o, const cnv_alert_rule *rule,
                                         uint32_t *rule_id) {
  if (!o || !rule) return CNV_EINVAL;
  if (!cnv__rule_ok(rule)) return CNV_EOBS_RULE;
  if (o->nrules >= CNV_OBSERVER_MAX_RULES) return CNV_EOBS_RULES_FULL;
  struct cnv__obs_rule *r = &o->rules[o->nrules];
  *r = (struct cnv__obs_rule){.r = *rule};
  if (rule_id) *rule_id = o->nrules;
  o->nrules++;
  return CNV_OK;
}

static void cnv__fire(struct cnv_observer *o, cnv_alert_kind kind, cnv_alert_severity sev,
                      uint32_t rule_id, const cnv_phase_event *ev, double value) {
  /* Relaxed: alert statistics. */
  cnv__fetch_add_relaxed(sev == CNV_ALERT_CRITICAL ? &o->criticals : &o->warnings, 1);
  if (!o->on_alert) return;
  cnv_alert a = {kind, sev, rule_id, ev->from, ev->to, ev->swarm_id, ev->at_ns, value};
  o->on_alert(o->alert_ctx, &a);
}

/* z-score of this duration against the series so far; 0 with *ok = 0 when not judged. */
static double cnv__zscore(const struct cnv_observer *o, const struct cnv__welford *w,
                          uint64_t x, int *ok) {
  *ok = 0;
  if (!w || w->n < o->min_samples || w->n < 2) return 0.0;
  double sd = sqrt(w->m2 / (double)(w->n - 1));
  if (!(sd > 0.0)) return 0.0;
  *ok = 1;
  return ((double)x - w->mean) / sd;
}

static int cnv__matches(const cnv_alert_rule *r, const cnv_phase_event *ev) {
  return (r->from == CNV_PHASE_ANY || r->from == ev->from) &&
         (r->to == CNV_PHASE_ANY || r->to == ev->to);
}

static void cnv__count_rule(struct cnv_observer *o, struct cnv__obs_rule *r, uint32_t id,
                            const cnv_phase_event *ev) {
  if (r->r.kind == CNV_ALERT_RULE_RATE &&
      (r->count == 0 || (ev->at_ns > r->win_start && ev->at_ns - r->win_start >= r->r.window_ns))) {
    r->win_start = ev->at_ns;
    r->count = 0;
    r->fired = 0;
  }
  r->count++;
  if (!r->fired && (double)r->count >= r->r.threshold) {
    r->fired = 1;
    cnv__fire(o, r->r.kind, r->r.severity, id, ev, (double)r->count);
  }
}

void cnv__obs_judge(struct cnv_observer *o, const cnv_phase_event *ev, const struct cnv__welford *w) {
  int z_ok;
  double z = cnv__zscore(o, w, ev->duration_ns, &z_ok);
  double az = fabs(z);
  if (z_ok && az > CNV__Z_CRITICAL)
    cnv__fire(o, CNV_ALERT_ANOMALY, CNV_ALERT_CRITICAL, UINT32_MAX, ev, z);
  else if (z_ok && az > CNV__Z_WARNING)
    cnv__fire(o, CNV_ALERT_ANOMALY, CNV_ALERT_WARNING, UINT32_MAX, ev, z);
  for (uint32_t i = 0; i < o->nrules; i++) {
    struct cnv__obs_rule *r = &o->rules[i];
    if (r->r.kind == CNV_ALERT_RULE_ANOMALY) {
      if (z_ok && (r->r.from == CNV_PHASE_ANY || r->r.from == ev->from) && az >= r->r.threshold)
        cnv__fire(o, r->r.kind, r->r.severity, i, ev, z);
    } else if (cnv__matches(&r->r, ev)) {
      cnv__count_rule(o, r, i, ev);
    }
  }
}
