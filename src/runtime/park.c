/* Parking idle workers on an eventcount (a futex word): a worker announces itself in
 * `parked`, reads the epoch, looks for work once more and sleeps on the epoch; a submit
 * that finds parked workers bumps the epoch and wakes one. Either the worker's last look
 * sees the record, or the submit sees the worker parked (the seq_cst fences on both sides
 * order "announce, then look" against "push, then check"); a bump between the worker's read
 * of the epoch and its sleep makes the futex wait return at once.
 *
 * A woken worker counts as parked until it runs. So that the submits meanwhile do not each
 * bump and wake again (one futex call per submit on a machine where the woken thread waits
 * for a core), a parking worker publishes in `park_seen` the newest epoch it read, before a
 * look at the queues: when it reads the epoch after its announcement and again when it
 * leaves its sleep. A submit that finds park_seen behind park_epoch wakes nobody: the bump
 * it sees has a worker on its way (the one woken, or one whose sleep returns at once on the
 * new epoch, or one still to read it), which publishes an epoch at least as new and then
 * looks; park_seen only moves forward, so that publication comes after the submit's read,
 * and the fences order the submit's push before that look. */
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
  /* A wake-up on its way (see the top of the file); stop's wake-all always bumps. relaxed:
   * ordered by the fence above */
  if (n == 1 && cnv__load_relaxed(&rt->park_seen) != cnv__load_relaxed(&rt->park_epoch)) return;
  /* release: a parker whose epoch read (acquire) takes this bump then sees the push (or
   * drain) before it, so its last look cannot miss the record and still sleep on the new
   * epoch. The fences alone do not order the parker's epoch read before its last look. */
  atomic_fetch_add_explicit(&rt->park_epoch, 1u, memory_order_release);
  cnv__rt_futex_wake(&rt->park_epoch, n);
}

void cnv__rt_park_wake_one(cnv_runtime *rt) { wake(rt, 1, 1); }

void cnv__rt_park_wake_any(cnv_runtime *rt) { wake(rt, 1, 0); }

void cnv__rt_park_wake_all(cnv_runtime *rt) { wake(rt, INT_MAX, 0); }

/* Publishes that this worker read epoch e (park_seen = e unless it is newer already; the
 * epoch wraps, so "newer" is a signed difference), then a seq_cst fence: the publication is
 * ordered before the caller's next look at the queues, against a submit's push before its
 * read of park_seen. */
static void seen(cnv_runtime *rt, uint32_t e) {
  uint32_t cur = cnv__load_relaxed(&rt->park_seen); /* relaxed: the CAS validates it */
  while ((int32_t)(e - cur) > 0 &&
         !cnv__cas_weak(&rt->park_seen, &cur, e, memory_order_relaxed, memory_order_relaxed)) {
  }
  cnv__fence_seq_cst();
}

int cnv__rt_park(cnv_runtime *rt, void *buf) {
  /* seq_cst RMW then fence: the announcement is ordered before the last look below */
  atomic_fetch_add_explicit(&rt->parked, 1u, memory_order_seq_cst);
  cnv__fence_seq_cst();
  /* acquire: ordered before the last look below, and pairs with wake's release bump */
  uint32_t epoch = cnv__load_acquire(&rt->park_epoch);
  seen(rt, epoch);
  int got = cnv__rt_pop(rt, buf);
  /* acquire: pairs with stop's release of drain (then nothing more is pushed) */
  if (got == CNV__RT_POP_EMPTY && !cnv__load_acquire(&rt->drain)) {
    cnv__rt_futex_wait(&rt->park_epoch, epoch, NULL);
    /* acquire: as above; the caller looks at the queues next (worker_main) */
    seen(rt, cnv__load_acquire(&rt->park_epoch));
  }
  atomic_fetch_sub_explicit(&rt->parked, 1u, memory_order_seq_cst);
  return got == CNV__RT_POP_GOT;
}
