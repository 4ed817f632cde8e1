/* Parking idle workers on an eventcount (a futex word): a worker announces itself in
 * `parked`, reads the epoch, looks for work once more and sleeps on the epoch; a submit
 * that finds parked workers bumps the epoch and wakes one. Either the worker's last look
 * sees the record, or the submit sees the worker parked (the seq_cst fences on both sides
 * order "announce, then look" against "push, then check"); a bump between the worker's read
 * of the epoch and its sleep makes the futex wait return at once. */
#include <limits.h>

#include "core/atomic.h"
#include "futex.h"
#include "rt_internal.h"

static void wake(cnv_runtime *rt, int n, int unless_spinning) {
  /* seq_cst: the push (or the stop flag) before is ordered before the checks below */
  cnv__fence_seq_cst();
  if (cnv__load_relaxed(&rt->parked) == 0) return; /* relaxed: ordered by the fence above */
  /* A worker still spinning takes the record: it leaves `spinners` (and enters `parked`)
   * before its last look, so if this load still counts it, that look comes after the fence
   * above and sees the push. relaxed: ordered by the fence. */
  if (unless_spinning && cnv__load_relaxed(&rt->spinners) != 0) return;
  /* release: a parker whose epoch read (acquire) takes this bump then sees the push (or
   * drain) before it, so its last look cannot miss the record and still sleep on the new
   * epoch. The fences alone do not order the parker's epoch read before its last look. */
  atomic_fetch_add_explicit(&rt->park_epoch, 1u, memory_order_release);
  cnv__rt_futex_wake(&rt->park_epoch, n);
}

void cnv__rt_park_wake_one(cnv_runtime *rt) { wake(rt, 1, 1); }

void cnv__rt_park_wake_any(cnv_runtime *rt) { wake(rt, 1, 0); }

void cnv__rt_park_wake_all(cnv_runtime *rt) { wake(rt, INT_MAX, 0); }

int cnv__rt_park(cnv_runtime *rt, void *buf) {
  /* seq_cst RMW then fence: the announcement is ordered before the last look below */
  atomic_fetch_add_explicit(&rt->parked, 1u, memory_order_seq_cst);
  cnv__fence_seq_cst();
  /* acquire: ordered before the last look below, and pairs with wake's release bump */
  uint32_t epoch = cnv__load_acquire(&rt->park_epoch);
  int got = cnv__rt_pop(rt, buf);
  /* acquire: pairs with stop's release of drain (then nothing more is pushed) */
  if (got == CNV__RT_POP_EMPTY && !cnv__load_acquire(&rt->drain)) {
    cnv__rt_futex_wait(&rt->park_epoch, epoch, NULL);
  }
  atomic_fetch_sub_explicit(&rt->parked, 1u, memory_order_seq_cst);
  return got == CNV__RT_POP_GOT;
}
