/* The runtime's clocks: monotonic time for latencies, phase-machine time, and the token
 * clock (seconds) the delegation checks use. Never installed. */
#ifndef CNV__RT_CLOCK_H
#define CNV__RT_CLOCK_H

#include <stdint.h>

#include <cnv/runtime.h>

/* Monotonic clock, ns. */
uint64_t cnv__rt_now_ns(void);
/* Phase-machine time: monotonic ns since create, plus one (never 0). */
uint64_t cnv__rt_phase_now(const cnv_runtime *rt);
/* Token clock in seconds: the configured clock, else CLOCK_REALTIME. */
uint64_t cnv__rt_token_now(const cnv_runtime *rt);
/* Wall clock in ms since the Unix epoch, at the coarse clock's resolution (a few ms): the
 * times of the ledger's records. */
uint64_t cnv__rt_wall_ms(void);

#endif
