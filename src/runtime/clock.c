/* The runtime's clocks (declared in clock.h). */
#include <time.h>

#include "clock.h"
#include "rt_internal.h"

uint64_t cnv__rt_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t cnv__rt_phase_now(const cnv_runtime *rt) { return cnv__rt_now_ns() - rt->t0_ns + 1; }

uint64_t cnv__rt_token_now(const cnv_runtime *rt) {
  if (rt->cfg.clock) return rt->cfg.clock(rt->cfg.clock_ctx);
  struct timespec ts;
  /* whole seconds only: the coarse clock (the last tick's time, no counter read) is enough */
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return (uint64_t)ts.tv_sec;
}

uint64_t cnv__rt_wall_ms(void) {
  struct timespec ts;
  /* milliseconds for the ledger's records: the coarse clock (the last tick's time, no
   * counter read) costs a few ns where CLOCK_REALTIME costs a counter read */
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cnv_runtime_now_ns(void) { return cnv__rt_now_ns(); }
