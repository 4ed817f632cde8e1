/* Circuit breaker with hysteresis: recorders add to two cumulative counters; one evaluator
 * at a time keeps a ring of snapshots of them and reads the window as a difference. */
#include <string.h>

#include "phases_internal.h"

static struct cnv__breaker *cnv__br(cnv_breaker *b) { return (struct cnv__breaker *)(void *)b; }

CNV_API cnv_breaker_config cnv_breaker_config_default(void) {
  cnv_breaker_config c = {0.5, 0.1, UINT64_C(10000000000), 10, 20, UINT64_C(5000000000)};
  return c;
}

static int cnv__breaker_config_ok(const cnv_breaker_config *c) {
  return c->lower >= 0.0 && c->lower < c->upper && c->upper <= 1.0 && c->window_ns > 0 &&
         c->buckets >= 1 && c->buckets <= CNV_BREAKER_MAX_BUCKETS &&
         c->window_ns >= c->buckets;
}

CNV_API cnv_status cnv_breaker_init(cnv_breaker *b, const cnv_breaker_config *cfg) {
  if (!b || !cfg) return CNV_EINVAL;
  if (!cnv__breaker_config_ok(cfg)) return CNV_EBREAKER_CONFIG;
  struct cnv__breaker *br = cnv__br(b);
  memset(br, 0, sizeof *br);
  br->cfg = *cfg;
  br->bucket_ns = cfg->window_ns / cfg->buckets;
  return CNV_OK;
}

CNV_API cnv_status cnv_breaker_record(cnv_breaker *b, int ok) {
  if (!b) return CNV_EINVAL;
  struct cnv__breaker *br = cnv__br(b);
  /* Release on both: an evaluator that acquires `fails` then `total` sees every total add
   * that came before a fail add it saw, so its window never has more fails than outcomes. */
  atomic_fetch_add_explicit(&br->total, 1, memory_order_release);
  if (!ok) atomic_fetch_add_explicit(&br->fails, 1, memory_order_release);
  return CNV_OK;
}

/* The counters as they were when the window began: the newest snapshot taken at least
 * window_ns ago; failing that, the oldest kept (or all-zero if none was ever dropped). */
static struct cnv__breaker_snap cnv__window_base(const struct cnv__breaker *br, uint64_t now_ns) {
  uint32_t cap = br->cfg.buckets + 1;
  uint32_t oldest = (br->head + cap - br->count) % cap;
  const struct cnv__breaker_snap *best = NULL;
  for (uint32_t i = 0; i < br->count; i++) {
    const struct cnv__breaker_snap *sn = &br->ring[(oldest + i) % cap];
    if (sn->t_ns <= now_ns && now_ns - sn->t_ns >= br->cfg.window_ns) best = sn;
  }
  if (best) return *best;
  if (!br->wrapped || !br->count) return (struct cnv__breaker_snap){0, 0, 0};
  return br->ring[oldest];
}

/* Window ratio at now_ns; then records a snapshot if a bucket boundary passed. */
static double cnv__window_ratio(struct cnv__breaker *br, uint64_t now_ns) {
  /* Acquire both (see cnv_breaker_record): fails first, so fails <= total below. */
  uint64_t fails = cnv__load_acquire(&br->fails);
  uint64_t total = cnv__load_acquire(&br->total);
  struct cnv__breaker_snap base = cnv__window_base(br, now_ns);
  uint64_t dt = total - base.total, df = fails - base.fails;
  uint32_t cap = br->cfg.buckets + 1;
  const struct cnv__breaker_snap *last = &br->ring[(br->head + cap - 1) % cap];
  if (!br->count || now_ns - last->t_ns >= br->bucket_ns) {
    br->ring[br->head] = (struct cnv__breaker_snap){now_ns, total, fails};
    br->head = (br->head + 1) % cap;
    if (br->count < cap)
      br->count++;
    else
      br->wrapped = 1;
  }
  if (dt < br->cfg.min_samples || dt == 0) return 0.0;
  return (double)df / (double)dt;
}

/* Calm bookkeeping: true once the ratio stayed under `lower` for the cool-down. */
static int cnv__calm_long_enough(struct cnv__breaker *br, double ratio, uint64_t now_ns) {
  if (ratio >= br->cfg.lower) {
    br->calm = 0;
    return 0;
  }
  if (!br->calm) {
    br->calm = 1;
    br->calm_since = now_ns;
  }
  return now_ns - br->calm_since >= br->cfg.cooldown_ns;
}

static int cnv__decide(struct cnv__breaker *br, int phase, double ratio, uint64_t now_ns) {
  switch (phase) {
    case CNV_PHASE_OPERATIONAL:
      br->calm = 0;
      return ratio > br->cfg.upper ? CNV_PHASE_DEGRADED : phase;
    case CNV_PHASE_DEGRADED:
    case CNV_PHASE_RECOVERY:
      if (!cnv__calm_long_enough(br, ratio, now_ns)) return phase;
      br->calm = 0; /* the next phase needs its own full cool-down */
      return phase == CNV_PHASE_DEGRADED ? CNV_PHASE_RECOVERY : CNV_PHASE_OPERATIONAL;
    default:
      br->calm = 0;
      return phase;
  }
}

CNV_API cnv_status cnv_breaker_evaluate(cnv_breaker *b, uint64_t now_ns, int phase, int *target,
                                        double *ratio) {
  if (!b || !target) return CNV_EINVAL;
  if (phase < 0 || phase >= CNV_PHASE_COUNT) return CNV_EPHASE_UNKNOWN;
  struct cnv__breaker *br = cnv__br(b);
  uint32_t idle = 0;
  /* Acquire: we see the previous evaluator's ring and calm state (it released `busy`). */
  if (!cnv__cas_strong(&br->busy, &idle, 1, memory_order_acquire, memory_order_relaxed))
    return CNV_EBREAKER_BUSY;
  double r = cnv__window_ratio(br, now_ns);
  *target = cnv__decide(br, phase, r, now_ns);
  if (ratio) *ratio = r;
  /* Release: hands the ring and calm state to the next evaluator. */
  cnv__store_release(&br->busy, 0);
  return CNV_OK;
}
