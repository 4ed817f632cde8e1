/* Reading a clock as one number, and a deadline for a timed wait. Internal (cnv__ prefix),
 * never installed: the lines every module that keeps time would otherwise write alike.
 * Thread-safe; no allocation. */
#ifndef CNV__CLOCK_H
#define CNV__CLOCK_H

#include <stdint.h>
#include <time.h>

/* Clock id's time in ns (CLOCK_MONOTONIC: since boot; CLOCK_REALTIME: since the epoch). */
static inline uint64_t cnv__clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The same in ms. */
static inline uint64_t cnv__clock_ms(clockid_t id) { return cnv__clock_ns(id) / 1000000u; }

/* The time ms from now on clock id, as pthread_cond_timedwait takes it (for a condition
 * variable made with that clock). */
static inline struct timespec cnv__deadline_after_ms(clockid_t id, uint64_t ms) {
  uint64_t at = cnv__clock_ns(id) + ms * 1000000u;
  return (struct timespec){.tv_sec = (time_t)(at / 1000000000u), .tv_nsec = (long)(at % 1000000000u)};
}

#endif
