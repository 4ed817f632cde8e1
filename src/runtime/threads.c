/* Worker and monitor threads; start. */
#include <sched.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "core/atomic.h"
#include "futex.h"
#include "core/ignore.h"
#include "rt_internal.h"

void cnv__rt_sleep_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
  nanosleep(&ts, NULL);
}

/* Rounds of pause between two looks at the queues while spinning. */
#define SPIN_PAUSES 32u

/* Idle: spins and yields until a record arrives (1, in buf), the spin time of the
 * strategy is used up (0) or stop drains. It yields after every look that finds nothing: the
 * yield returns at once when nothing else is runnable on this core, and otherwise hands the
 * core to what is (the thread that submits, on a machine with fewer cores than busy threads)
 * instead of spinning on it until the time slice ends. */
static int spin_look(cnv_runtime *rt, void *buf, uint64_t spin_ns) {
  uint64_t start = cnv__rt_now_ns();
  for (;;) {
    for (unsigned i = 0; i < SPIN_PAUSES; i++) cnv__cpu_relax();
    if (cnv__rt_pop(rt, buf) == CNV__RT_POP_GOT) return 1;
    /* acquire: pairs with stop's release of drain */
    if (cnv__load_acquire(&rt->drain)) return 0;
    if (cnv__rt_now_ns() - start >= spin_ns) return 0;
    sched_yield();
  }
}

/* Passes a wake-up on to a parked worker if records are still queued after the one this
 * worker took: submits that saw a worker spinning woke nobody. With the queues empty nobody
 * is woken (a worker woken for nothing would only look, spin and park again): a later push
 * either finds nobody spinning and wakes a parked worker itself, or finds a spinner, which
 * takes it and passes a wake-up on in turn. The seq_cst fence orders this worker's leaving
 * the spinners (or its pop) before its look at the queues, against a submit's push before
 * its look at `spinners` (wake in park.c): either the submit sees no spinner, or this look
 * sees its record. */
static void relay_wake(cnv_runtime *rt) {
  cnv__fence_seq_cst();
  for (int lane = 0; lane < 2; lane++) {
    cnv_queue_stats st;
    cnv_queue_stats_get(rt->lane[lane], &st);
    if (st.pushed != st.popped) {
      cnv__rt_park_wake_any(rt);
      return;
    }
  }
}

/* spin_look, counted in `spinners` meanwhile: a submit wakes no parked worker while one
 * spins (see wake in park.c). The decrement comes before any park's last look. */
static int spin_for_work(cnv_runtime *rt, void *buf, uint64_t spin_ns) {
  /* relaxed: the submit's fence and the park's fence order what matters (park.c) */
  cnv__fetch_add_relaxed(&rt->spinners, 1u);
  int got = spin_look(rt, buf, spin_ns);
  uint32_t before = atomic_fetch_sub_explicit(&rt->spinners, 1u, memory_order_seq_cst); /* park.c */
  /* The last spinner that found work relays: a submit that saw it spinning woke nobody, and
   * the record it took may not be the only one queued. */
  if (got && before == 1) relay_wake(rt);
  return got;
}

/* Waits for a record by the configured strategy; 1 with it in buf, 0 to look again. */
static int idle_wait(cnv_runtime *rt, void *buf) {
  switch (rt->cfg.idle) {
    case CNV_RT_IDLE_SPIN:
      return spin_for_work(rt, buf, UINT64_MAX);
    case CNV_RT_IDLE_PARK:
      return cnv__rt_park(rt, buf);
    default:
      if (spin_for_work(rt, buf, (uint64_t)rt->cfg.idle_spin_us * 1000u)) return 1;
      return cnv__rt_park(rt, buf);
  }
}

static void *worker_main(void *arg) {
  cnv__rt_worker *w = arg;
  cnv_runtime *rt = w->rt;
  /* on failure shard stays NULL: the worker runs on, its latencies go unrecorded */
  cnv__ignore_status(cnv_tel_attach(rt->tel, &w->shard));
  cnv__rt_rec_buf buf;
  /* Back from an idle wait that found nothing (woken from park, or the spin ran out): the
   * first record this worker then takes passes a wake-up on to a parked worker if more are
   * queued (relay_wake). A submit wakes nobody while a worker spins, and the last spinner
   * that finds work wakes only one parked worker; without the relay a burst pushed meanwhile
   * would wait, behind handlers that run long, for parked workers nobody wakes (the relay
   * stops at a worker that finds the queues empty). Only the first record after an idle wait
   * pays for it (a fence), never a worker that keeps finding work. */
  int relay = 0;
  for (;;) {
    int got = cnv__rt_pop(rt, buf.words);
    if (got == CNV__RT_POP_AGAIN) continue; /* the record is being written: look again */
    if (got == CNV__RT_POP_GOT) {
      if (relay) {
        relay = 0;
        relay_wake(rt);
      }
      cnv__rt_run_record(rt, w, buf.words);
      continue;
    }
    if (idle_wait(rt, buf.words)) {
      cnv__rt_run_record(rt, w, buf.words);
      continue;
    }
    relay = 1;
    /* acquire: pairs with stop's release store, made after every submit left; so every
     * push is visible and empty queues now stay empty */
    if (cnv__load_acquire(&rt->drain)) {
      /* every submit has left: no push in flight, so not GOT means empty */
      if (cnv__rt_pop(rt, buf.words) != CNV__RT_POP_GOT) break;
      cnv__rt_run_record(rt, w, buf.words);
    }
  }
  cnv_tel_detach(w->shard);
  /* release: stop joins an exited worker; everything it did is seen through the join too */
  cnv__store_release(&w->exited, 1);
  return NULL;
}

/* Variety check: raises the algedonic signal while the deficit exceeds the threshold. */
static void variety_check(cnv_runtime *rt) {
  if (!(rt->cfg.variety_threshold_bits > 0)) return;
  cnv_runtime_variety v;
  if (cnv_runtime_variety_get(rt, &v) != CNV_OK || !v.exceeded) return;
  if (cnv_swarm_phase(&rt->swarm) == CNV_PHASE_EMERGENCY) return;
  /* a swarm already in Emergency or shut down refuses the signal: nothing more to do */
  cnv__ignore_status(cnv__rt_algedonic(rt, CNV_ALGEDONIC_VARIETY_DEFICIT));
}

/* Sleeps one tick, or less when stop asks the monitor to end (a futex wait on monitor_stop,
 * which cnv__rt_monitor_end wakes): stop never waits out a whole tick to join it. */
static void monitor_sleep(cnv_runtime *rt) {
  uint64_t end = cnv__rt_now_ns() + (uint64_t)rt->cfg.tick_interval_ms * 1000000u;
  /* acquire: see monitor_main */
  while (!cnv__load_acquire(&rt->monitor_stop)) {
    uint64_t now = cnv__rt_now_ns();
    if (now >= end) return;
    struct timespec ts = {.tv_sec = (time_t)((end - now) / 1000000000u), .tv_nsec = (long)((end - now) % 1000000000u)};
    /* returns on the wake, the timeout, a signal, or at once once monitor_stop is set: the
     * loop looks again either way */
    cnv__rt_futex_wait(&rt->monitor_stop, 0, &ts);
  }
}

void cnv__rt_monitor_end(cnv_runtime *rt) {
  cnv__store_release(&rt->monitor_stop, 1); /* release: see monitor_main */
  cnv__rt_futex_wake(&rt->monitor_stop, 1);
  if (rt->monitor_started) pthread_join(rt->monitor, NULL);
  rt->monitor_started = 0;
}

static void *monitor_main(void *arg) {
  cnv_runtime *rt = arg;
  uint64_t last_exec = 0, last_fail = 0;
  /* acquire: pairs with stop's release; nothing is published through it but the request */
  while (!cnv__load_acquire(&rt->monitor_stop)) {
    monitor_sleep(rt);
    if (cnv__load_acquire(&rt->monitor_stop)) break; /* acquire: as above */
    /* a busy breaker (another evaluation in flight) is re-evaluated at the next tick */
    cnv__ignore_status(cnv__rt_tick(rt));
    uint64_t exec = cnv__rt_counter(rt, CNV__RT_C_EXECUTED);
    uint64_t fail = cnv__rt_counter(rt, CNV__RT_C_FAILED);
    double ratio = exec > last_exec ? (double)(fail - last_fail) / (double)(exec - last_exec) : 0;
    uint64_t bits;
    memcpy(&bits, &ratio, sizeof bits);
    cnv__store_relaxed(&rt->breaker_ratio_bits, bits); /* relaxed: a display value */
    last_exec = exec;
    last_fail = fail;
    variety_check(rt);
  }
  return NULL;
}

cnv_status cnv__rt_threads_start(cnv_runtime *rt) {
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    if (pthread_create(&rt->workers[i].thread, NULL, worker_main, &rt->workers[i]) != 0) {
      return CNV_ERT_THREAD;
    }
    rt->workers[i].started = 1;
  }
  if (pthread_create(&rt->monitor, NULL, monitor_main, rt) != 0) return CNV_ERT_THREAD;
  rt->monitor_started = 1;
  return CNV_OK;
}

static cnv_status bootstrap(cnv_runtime *rt) {
  static const int path[] = {CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION,
                             CNV_PHASE_OPERATIONAL};
  for (size_t i = 0; i + 1 < sizeof path / sizeof path[0]; i++) {
    cnv_status st = cnv__rt_move(rt, path[i], path[i + 1]);
    if (st != CNV_OK) return st;
  }
  return CNV_OK;
}

cnv_status cnv_runtime_start(cnv_runtime *rt) {
  if (!rt) return CNV_EINVAL;
  /* relaxed: start, stop and destroy run on one thread (header contract) */
  if (cnv__load_relaxed(&rt->state) != CNV__RT_CREATED) return CNV_ESTATE;
  cnv_status st = bootstrap(rt);
  if (st == CNV_OK) st = cnv__rt_threads_start(rt);
  if (st != CNV_OK) {
    cnv__rt_threads_stop(rt, 0);
    cnv__store_release(&rt->state, CNV__RT_STOPPED); /* release: see below */
    return st;
  }
  /* seq_cst: pairs with submit's seq_cst load; the handler table and threads are ready */
  atomic_store_explicit(&rt->state, CNV__RT_RUNNING, memory_order_seq_cst);
  return CNV_OK;
}
