/* The runtime's clocks (declared in clock.h). */
#include <time.h>

#include "clock.h"
#include "core/clock.h"
#include "rt_internal.h"

uint64_t cnv__rt_now_ns(void) { return cnv__clock_ns(CLOCK_MONOTONIC); }

uint64_t cnv__rt_phase_now(const cnv_runtime *rt) { return cnv__rt_now_ns() - rt->t0_ns + 1; }

uint64_t cnv__rt_token_now(const cnv_runtime *rt) {
  if (rt->cfg.clock) return rt->cfg.clock(rt->cfg.clock_ctx);
  struct timespec ts;
  /* whole seconds only: the coarse clock (the last tick's time, no counter read) is enough */
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return (uint64_t)ts.tv_sec;
}

/* milliseconds for the ledger's records: the coarse clock (the last tick's time, no counter
 * read) costs a few ns where CLOCK_REALTIME costs a counter read */
uint64_t cnv__rt_wall_ms(void) { return cnv__clock_ms(CLOCK_REALTIME_COARSE); }

uint64_t cnv_runtime_now_ns(void) { return cnv__rt_now_ns(); }
