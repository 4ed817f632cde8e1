/* Phase machine: transition cost (one CAS plus accounting) and phase reads while another
 * thread keeps moving the swarm. Peer for the read case: a pthread rwlock-guarded phase. */
#include <pthread.h>
#include <stdatomic.h>

#include <cnv/phases.h>

#include "cnv_bench.h"

static cnv_swarm bench_sw;

static void to_operational(cnv_swarm *sw) {
  CNV_BENCH_OK(cnv_swarm_init(sw, 1, 0, NULL, NULL));
  CNV_BENCH_OK(cnv_swarm_transition(sw, CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, 1));
  CNV_BENCH_OK(cnv_swarm_transition(sw, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION, 2));
  CNV_BENCH_OK(cnv_swarm_transition(sw, CNV_PHASE_ACTIVATION, CNV_PHASE_OPERATIONAL, 3));
}

/* One loop step: Operational -> Degraded -> Recovery -> Operational (3 moves). */
static int cycle(cnv_swarm *sw, uint64_t now) {
  int bad = cnv_swarm_transition(sw, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED, now) != CNV_OK;
  bad |= cnv_swarm_transition(sw, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY, now + 1) != CNV_OK;
  bad |= cnv_swarm_transition(sw, CNV_PHASE_RECOVERY, CNV_PHASE_OPERATIONAL, now + 2) != CNV_OK;
  return bad;
}

static void phase_transition_cnv(cnv_bench_state *st) {
  cnv_swarm sw;
  to_operational(&sw);
  uint64_t now = 10;
  int bad = 0;
  while (cnv_bench_keep_running_batch(st, 3 * 64)) {
    for (int i = 0; i < 64; i++, now += 3) bad |= cycle(&sw, now);
  }
  if (bad) cnv_bench_skip_with_error(st, "a transition failed");
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(phase_transition_cnv, "phase_transition/cnv", 1, 0)

/* Thread 0 moves the swarm; thread 1 reads its phase. Items: reads. */
static void phase_read_under_writer_cnv(cnv_bench_state *st) {
  if (cnv_bench_thread_index(st) == 0) to_operational(&bench_sw);
  uint64_t now = 10, sum = 0;
  int writer = cnv_bench_thread_index(st) == 0;
  while (cnv_bench_keep_running_batch(st, 256)) {
    if (writer) {
      for (int i = 0; i < 256 / 4; i++, now += 3) (void)cycle(&bench_sw, now);
    } else {
      for (int i = 0; i < 256; i++) sum += (uint64_t)cnv_swarm_phase(&bench_sw);
    }
  }
  cnv_bench_do_not_optimize(&sum);
  cnv_bench_set_items_processed(st, writer ? 0 : (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(phase_read_under_writer_cnv, "phase_read_under_writer/cnv", 2, 0)

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int rw_phase;

static void phase_read_under_writer_rwlock(cnv_bench_state *st) {
  uint64_t sum = 0;
  int writer = cnv_bench_thread_index(st) == 0;
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < (writer ? 256 / 4 * 3 : 256); i++) {
      if (writer) {
        pthread_rwlock_wrlock(&rw);
        rw_phase = (rw_phase + 1) % 3 + CNV_PHASE_OPERATIONAL;
        pthread_rwlock_unlock(&rw);
      } else {
        pthread_rwlock_rdlock(&rw);
        sum += (uint64_t)rw_phase;
        pthread_rwlock_unlock(&rw);
      }
    }
  }
  cnv_bench_do_not_optimize(&sum);
  cnv_bench_set_items_processed(st, writer ? 0 : (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(phase_read_under_writer_rwlock, "phase_read_under_writer/rwlock", 2, 0)
