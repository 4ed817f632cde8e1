/* Parking idle workers on an eventcount (a futex word): a worker announces itself in
 * `parked`, reads the epoch, looks for work once more and sleeps on the epoch; a submit
 * that finds parked workers bumps the epoch and wakes one. Either the worker's last look
 * sees the record, or the submit sees the worker parked (the seq_cst fences on both sides
 * order "announce, then look" against "push, then check"); a bump between the worker's read
 * of the epoch and its sleep makes the futex wait return at once. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/atomic.h"
#include "rt_internal.h"

static void futex_wait(_Atomic uint32_t *word, uint32_t expected) {
  /* returns on a wake, a changed word (EAGAIN) or a signal: the caller looks again anyway */
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static void wake(cnv_runtime *rt, int n) {
  /* seq_cst: the push (or the stop flag) before is ordered before the check of `parked` */
  atomic_thread_fence(memory_order_seq_cst);
  if (cnv__load_relaxed(&rt->parked) == 0) return; /* relaxed: ordered by the fence above */
  /* relaxed: the futex word is compared by the kernel under its own lock */
  cnv__fetch_add_relaxed(&rt->park_epoch, 1u);
  futex_wake(&rt->park_epoch, n);
}

void cnv__rt_park_wake_one(cnv_runtime *rt) { wake(rt, 1); }

void cnv__rt_park_wake_all(cnv_runtime *rt) { wake(rt, INT_MAX); }

int cnv__rt_park(cnv_runtime *rt, void *buf) {
  /* seq_cst RMW then fence: the announcement is ordered before the last look below */
  atomic_fetch_add_explicit(&rt->parked, 1u, memory_order_seq_cst);
  atomic_thread_fence(memory_order_seq_cst);
  uint32_t epoch = cnv__load_relaxed(&rt->park_epoch); /* relaxed: see futex_wait */
  int got = cnv__rt_pop(rt, buf);
  /* acquire: pairs with stop's release of drain (then nothing more is pushed) */
  if (got == CNV__RT_POP_EMPTY && !cnv__load_acquire(&rt->drain)) {
    futex_wait(&rt->park_epoch, epoch);
  }
  atomic_fetch_sub_explicit(&rt->parked, 1u, memory_order_seq_cst);
  return got == CNV__RT_POP_GOT;
}
