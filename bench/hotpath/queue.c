/* Queue benchmarks: cnv MPMC queue and SPSC ring against ck_ring (MPMC and SPSC) and
 * liburcu's wfcqueue, all moving 64-byte records.
 *
 * Threads 0..P-1 produce and the rest consume; every thread runs the same number of
 * iterations, so each run pushes exactly as many records as it pops and leaves nothing
 * behind. Only consumers report items, so items/s = records delivered per second.
 * ck_ring and wfcqueue carry pointers, not records: their producers copy each record into
 * a preallocated per-producer array and pass its address, their consumers copy the record
 * out, so every implementation does the same two 64-byte copies per record. Waits (full,
 * empty, or cnv's CNV_EAGAIN: the next record is still being written) spin with a pause and
 * yield every 64 rounds, the same loop for every implementation. */
#define _LGPL_SOURCE
#include <ck_ring.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/wfcqueue.h>

#include <cnv/hotpath.h>

#include "cnv_bench.h"
#include "core/atomic.h"

#define CAP 1024u       /* slots in every queue/ring */
#define POOL (8u * CAP) /* pointer targets per producer for ck and urcu */
#define BATCH 32u
#define ROUND 256u /* iterations per keep_running_batch call, a multiple of BATCH */

typedef struct rec {
  uint64_t w[8];
} rec;
_Static_assert(sizeof(rec) == 64, "64-byte records");

typedef struct urcu_node {
  struct cds_wfcq_node node;
  rec r;
} urcu_node;
_Static_assert(offsetof(urcu_node, node) == 0, "a queue node pointer is its urcu_node pointer");

enum impl { CNV_MPMC,
            CNV_MPMC_BATCH,
            CNV_SPSC,
            CNV_SPSC_BATCH,
            CK_MPMC,
            CK_SPSC,
            URCU };

static struct {
  cnv_queue *q;
  cnv_spsc *ring;
  ck_ring_t ck;
  ck_ring_buffer_t *ck_buf;
  rec *pool;
  urcu_node *nodes;
  struct __cds_wfcq_head uh;
  struct cds_wfcq_tail ut;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t urcu_consumed; /* bounds wfcqueue's backlog */
} g;

static void backoff(unsigned *spins) {
  if (++*spins % 64 == 0)
    sched_yield();
  else
    cnv__cpu_relax();
}

static int setup(enum impl impl, int producers) {
  switch (impl) {
    case CNV_MPMC:
    case CNV_MPMC_BATCH:
      return cnv_queue_create(CAP, sizeof(rec), &g.q) == CNV_OK;
    case CNV_SPSC:
    case CNV_SPSC_BATCH:
      return cnv_spsc_create(CAP, sizeof(rec), &g.ring) == CNV_OK;
    case CK_MPMC:
    case CK_SPSC:
      ck_ring_init(&g.ck, CAP);
      g.ck_buf = aligned_alloc(CNV_CACHELINE, CAP * sizeof(ck_ring_buffer_t));
      g.pool = aligned_alloc(CNV_CACHELINE, (size_t)producers * POOL * sizeof(rec));
      return g.ck_buf && g.pool;
    case URCU:
      __cds_wfcq_init(&g.uh, &g.ut);
      atomic_init(&g.urcu_consumed, 0);
      g.nodes = aligned_alloc(CNV_CACHELINE, POOL * sizeof(urcu_node));
      return g.nodes != NULL;
  }
  return 0;
}

static void teardown(void) {
  cnv_queue_destroy(g.q);
  cnv_spsc_destroy(g.ring);
  free(g.ck_buf);
  free(g.pool);
  free(g.nodes);
  g.q = NULL;
  g.ring = NULL;
  g.ck_buf = NULL;
  g.pool = NULL;
  g.nodes = NULL;
}

/* ---- producers: each round pushes ROUND records ---------------------------------------- */

static void produce_cnv(cnv_bench_state *st, rec *r, unsigned *spins) {
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i++) {
      r->w[0]++;
      while (cnv_queue_try_push_mpmc(g.q, r) != CNV_OK) backoff(spins);
    }
}

static void produce_cnv_batch(cnv_bench_state *st, rec *r, unsigned *spins) {
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i += BATCH) {
      r[0].w[0]++;
      for (size_t done = 0, k; done < BATCH; done += k)
        if (cnv_queue_try_push_batch_mpmc(g.q, r + done, BATCH - done, &k) != CNV_OK) backoff(spins);
    }
}

static void produce_spsc(cnv_bench_state *st, rec *r, unsigned *spins) {
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i++) {
      r->w[0]++;
      while (cnv_spsc_try_push(g.ring, r) != CNV_OK) backoff(spins);
    }
}

static void produce_spsc_batch(cnv_bench_state *st, rec *r, unsigned *spins) {
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i += BATCH) {
      r[0].w[0]++;
      for (size_t done = 0, k; done < BATCH; done += k)
        if (cnv_spsc_try_push_batch(g.ring, r + done, BATCH - done, &k) != CNV_OK) backoff(spins);
    }
}

static void produce_ck(cnv_bench_state *st, rec *r, unsigned *spins, int id, int mpmc) {
  uint64_t n = 0;
  /* g is read only inside the loop: thread 0 fills it before the start barrier. */
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i++, n++) {
      rec *slot = &g.pool[(size_t)id * POOL + n % POOL];
      r->w[0]++;
      memcpy(slot, r, sizeof *r);
      if (mpmc)
        while (!ck_ring_enqueue_mpmc(&g.ck, g.ck_buf, slot)) backoff(spins);
      else
        while (!ck_ring_enqueue_spsc(&g.ck, g.ck_buf, slot)) backoff(spins);
    }
}

static void produce_urcu(cnv_bench_state *st, rec *r, unsigned *spins) {
  uint64_t n = 0, seen = 0;
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i++, n++) {
      /* wfcqueue is unbounded: keep at most CAP nodes in flight, like the bounded peers,
       * so a node is never reused before it is consumed. acquire: pairs with the
       * consumer's release, so its copy-out of the node we reuse is done. */
      while (n - seen >= CAP) {
        seen = cnv__load_acquire(&g.urcu_consumed);
        if (n - seen >= CAP) backoff(spins);
      }
      urcu_node *node = &g.nodes[n % POOL];
      r->w[0]++;
      memcpy(&node->r, r, sizeof *r);
      cds_wfcq_node_init(&node->node);
      cds_wfcq_enqueue(&g.uh, &g.ut, &node->node);
    }
}

/* ---- consumers: each round pops ROUND records ------------------------------------------ */

static uint64_t consume_cnv(cnv_bench_state *st, enum impl impl, rec *r, unsigned *spins) {
  uint64_t sum = 0;
  while (cnv_bench_keep_running_batch(st, ROUND)) {
    if (impl == CNV_MPMC)
      for (unsigned i = 0; i < ROUND; i++, sum += r->w[0])
        while (cnv_queue_try_pop_mpmc(g.q, r) != CNV_OK) backoff(spins);
    else
      for (unsigned i = 0; i < ROUND; i++, sum += r->w[0])
        while (cnv_spsc_try_pop(g.ring, r) != CNV_OK) backoff(spins);
  }
  return sum;
}

static uint64_t consume_batch(cnv_bench_state *st, enum impl impl, rec *r, unsigned *spins) {
  uint64_t sum = 0;
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i += BATCH) {
      for (size_t done = 0, k = 0; done < BATCH; done += k) {
        cnv_status s = impl == CNV_MPMC_BATCH ? cnv_queue_try_pop_batch_mpmc(g.q, r, BATCH - done, &k)
                                              : cnv_spsc_try_pop_batch(g.ring, r, BATCH - done, &k);
        if (s != CNV_OK) backoff(spins);
      }
      sum += r[0].w[0];
    }
  return sum;
}

static uint64_t consume_ck(cnv_bench_state *st, rec *r, unsigned *spins, int mpmc) {
  uint64_t sum = 0;
  void *p;
  while (cnv_bench_keep_running_batch(st, ROUND))
    for (unsigned i = 0; i < ROUND; i++) {
      if (mpmc)
        while (!ck_ring_dequeue_mpmc(&g.ck, g.ck_buf, &p)) backoff(spins);
      else
        while (!ck_ring_dequeue_spsc(&g.ck, g.ck_buf, &p)) backoff(spins);
      memcpy(r, p, sizeof *r);
      sum += r->w[0];
    }
  return sum;
}

static uint64_t consume_urcu(cnv_bench_state *st, rec *r, unsigned *spins) {
  uint64_t sum = 0, n = 0;
  while (cnv_bench_keep_running_batch(st, ROUND)) {
    for (unsigned i = 0; i < ROUND; i++, n++) {
      struct cds_wfcq_node *node;
      /* WOULDBLOCK: an enqueue is half done; NULL: empty. Both mean "try again". */
      while ((node = __cds_wfcq_dequeue_nonblocking(&g.uh, &g.ut)) == NULL || node == CDS_WFCQ_WOULDBLOCK)
        backoff(spins);
      memcpy(r, &((urcu_node *)(void *)node)->r, sizeof *r); /* node is the first member */
      sum += r->w[0];
    }
    /* release: our copy-outs are done before the producer reuses these nodes. */
    cnv__store_release(&g.urcu_consumed, n);
  }
  return sum;
}

/* ---- driver ---------------------------------------------------------------------------- */

static void produce(cnv_bench_state *st, enum impl impl, int id) {
  rec r[BATCH];
  unsigned spins = 0;
  memset(r, 0, sizeof r);
  switch (impl) {
    case CNV_MPMC:
      produce_cnv(st, r, &spins);
      break;
    case CNV_MPMC_BATCH:
      produce_cnv_batch(st, r, &spins);
      break;
    case CNV_SPSC:
      produce_spsc(st, r, &spins);
      break;
    case CNV_SPSC_BATCH:
      produce_spsc_batch(st, r, &spins);
      break;
    case CK_MPMC:
      produce_ck(st, r, &spins, id, 1);
      break;
    case CK_SPSC:
      produce_ck(st, r, &spins, id, 0);
      break;
    case URCU:
      produce_urcu(st, r, &spins);
      break;
  }
  cnv_bench_set_items_processed(st, 0);
}

static void consume(cnv_bench_state *st, enum impl impl) {
  rec r[BATCH];
  unsigned spins = 0;
  uint64_t sum = 0;
  switch (impl) {
    case CNV_MPMC:
    case CNV_SPSC:
      sum = consume_cnv(st, impl, r, &spins);
      break;
    case CNV_MPMC_BATCH:
    case CNV_SPSC_BATCH:
      sum = consume_batch(st, impl, r, &spins);
      break;
    case CK_MPMC:
      sum = consume_ck(st, r, &spins, 1);
      break;
    case CK_SPSC:
      sum = consume_ck(st, r, &spins, 0);
      break;
    case URCU:
      sum = consume_urcu(st, r, &spins);
      break;
  }
  cnv_bench_do_not_optimize(&sum);
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

/* Pins thread t to CPU t % ncpu (producer and consumer of a pair on different cores, as
 * ck's own regressions do), so every run measures cross-core transfer instead of whatever
 * the scheduler picked. The old mask is restored after the run: thread 0 is the main thread. */
static int pin(int t, cpu_set_t *old) {
  cpu_set_t set;
  if (pthread_getaffinity_np(pthread_self(), sizeof *old, old) != 0) return 0;
  int ncpu = CPU_COUNT(old), k = t % (ncpu > 0 ? ncpu : 1);
  CPU_ZERO(&set);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, old) && k-- == 0) {
      CPU_SET(cpu, &set);
      break;
    }
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/* More threads than CPUs: spinning peers starve each other and the figure means nothing.
 * Every thread skips (and still enters its empty loop, so all meet at the start barrier). */
static int oversubscribed(cnv_bench_state *st) {
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) return 0;
  if (cnv_bench_threads(st) <= CPU_COUNT(&mine) || cnv_bench_threads(st) <= 4) return 0;
  cnv_bench_skip_with_error(st, "more threads than CPUs: run on a machine with as many cores");
  while (cnv_bench_keep_running(st)) {
  }
  return 1;
}

static void run(cnv_bench_state *st, enum impl impl) {
  if (oversubscribed(st)) return;
  int t = cnv_bench_thread_index(st), producers = cnv_bench_threads(st) / 2;
  cpu_set_t old;
  int pinned = pin(t, &old);
  if (t == 0 && !setup(impl, producers)) {
    cnv_bench_skip_with_error(st, "setup failed");
  } else {
    if (t < producers)
      produce(st, impl, t);
    else
      consume(st, impl);
    if (t == 0) teardown();
  }
  if (pinned) pthread_setaffinity_np(pthread_self(), sizeof old, &old);
}

static void mpmc_cnv(cnv_bench_state *st) { run(st, CNV_MPMC); }
static void mpmc_ck(cnv_bench_state *st) { run(st, CK_MPMC); }
static void mpmc_batch_cnv(cnv_bench_state *st) { run(st, CNV_MPMC_BATCH); }
static void spsc_cnv(cnv_bench_state *st) { run(st, CNV_SPSC); }
static void spsc_ck(cnv_bench_state *st) { run(st, CK_SPSC); }
static void spsc_urcu(cnv_bench_state *st) { run(st, URCU); }
static void spsc_batch_cnv(cnv_bench_state *st) { run(st, CNV_SPSC_BATCH); }

CNV_BENCH(mpmc_cnv, "queue_mpmc_1p1c/cnv", 2, 0)
CNV_BENCH(mpmc_ck, "queue_mpmc_1p1c/ck", 2, 0)
CNV_BENCH(mpmc_batch_cnv, "queue_mpmc_batch32_1p1c/cnv", 2, 0)
CNV_BENCH(mpmc_ck, "queue_mpmc_batch32_1p1c/ck", 2, 0)
CNV_BENCH(mpmc_cnv, "queue_mpmc_2p2c/cnv", 4, 0)
CNV_BENCH(mpmc_ck, "queue_mpmc_2p2c/ck", 4, 0)
CNV_BENCH(spsc_cnv, "queue_spsc_1p1c/cnv", 2, 0)
CNV_BENCH(spsc_ck, "queue_spsc_1p1c/ck", 2, 0)
CNV_BENCH(spsc_urcu, "queue_spsc_1p1c/urcu", 2, 0)
CNV_BENCH(spsc_batch_cnv, "queue_spsc_batch32_1p1c/cnv", 2, 0)
CNV_BENCH(spsc_ck, "queue_spsc_batch32_1p1c/ck", 2, 0)
/* Scaling (shown, no target): measured on many-core machines; on 2 cores they oversubscribe. */
CNV_BENCH(mpmc_cnv, "queue_mpmc_4p4c/cnv", 8, 0)
CNV_BENCH(mpmc_ck, "queue_mpmc_4p4c/ck", 8, 0)
CNV_BENCH(mpmc_cnv, "queue_mpmc_8p8c/cnv", 16, 0)
CNV_BENCH(mpmc_ck, "queue_mpmc_8p8c/ck", 16, 0)
CNV_BENCH(mpmc_batch_cnv, "queue_mpmc_batch32_8p8c/cnv", 16, 0)
CNV_BENCH(mpmc_ck, "queue_mpmc_batch32_8p8c/ck", 16, 0)
