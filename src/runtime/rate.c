/* Per-agent rate limits: a token bucket kept as one word, the theoretical arrival time of
 * the generic cell rate algorithm. A submit is allowed when the bucket, after adding its
 * cost (one interval), is not deeper than burst intervals; one compare-and-swap moves it. */
#include "core/atomic.h"
#include "rt_internal.h"

int cnv__rt_rate_allow(cnv__rt_agent *a, uint64_t now) {
  /* relaxed: the limit is a plain value; a concurrent change applies from either call */
  uint64_t rate = cnv__load_relaxed(&a->rate);
  if (rate == 0) return 1;
  uint64_t per_s = rate >> 32, burst = (uint32_t)rate;
  uint64_t interval = 1000000000u / per_s;
  uint64_t tolerance = interval * burst;
  /* relaxed: the bucket guards no other data; the CAS orders the updates among themselves */
  uint64_t tat = cnv__load_relaxed(&a->tat);
  for (;;) {
    uint64_t start = tat > now ? tat : now;
    uint64_t next = start + interval;
    if (next - now > tolerance) return 0;
    if (cnv__cas_weak(&a->tat, &tat, next, memory_order_relaxed, memory_order_relaxed)) {
      return 1;
    }
  }
}

cnv_status cnv_runtime_agent_rate(cnv_runtime *rt, uint32_t agent, uint32_t rate_per_s,
                                  uint32_t burst) {
  if (!rt || agent >= rt->cfg.max_agents) return CNV_EINVAL;
  cnv__rt_agent *a = &rt->agents[agent];
  /* acquire: pairs with agent_add's release (the slot is an added agent) */
  if (cnv__load_acquire(&a->ready) != CNV__RT_AGENT_READY) return CNV_EINVAL;
  if (burst == 0) burst = rate_per_s / 10 ? rate_per_s / 10 : 1;
  /* relaxed: see cnv__rt_rate_allow */
  cnv__store_relaxed(&a->rate, rate_per_s ? (uint64_t)rate_per_s << 32 | burst : 0);
  return CNV_OK;
}
