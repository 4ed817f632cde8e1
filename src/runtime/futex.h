/* The runtime's futex calls (Linux): wait while a 32-bit word holds a value, and wake
 * waiters. Never installed. */
#ifndef CNV__RT_FUTEX_H
#define CNV__RT_FUTEX_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleeps while *word == expected, up to timeout (NULL: no limit). Returns on a wake, a
 * changed word, the timeout or a signal: callers look at their condition again. */
static inline void cnv__rt_futex_wait(void *word, uint32_t expected, const struct timespec *timeout) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, timeout, NULL, 0);
}

/* Wakes up to n waiters of word. Touches only the address: it may be called on a word whose
 * owner has already moved on (a spurious wake-up is allowed for every futex user). */
static inline void cnv__rt_futex_wake(void *word, int n) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
