/* Threaded torture of the MPMC queue (1x1, 2x2, 4x4 producers x consumers) and the SPSC
 * ring. Every record carries (producer id, sequence number, checksum). Checked: every record
 * is consumed exactly once, each consumer sees each producer's records in increasing order,
 * payloads arrive intact, full-queue rejections are retried and equal the queue's
 * rejected_full statistic, pushed == popped == the total at the end (nothing lost), and a
 * pop answers CNV_EAGAIN (oldest record still being written) only while a push is running:
 * never from the SPSC ring, never once every producer has returned. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"

#define MAX_THREADS 4
#define BATCH_MAX 8

typedef struct rec {
  uint32_t producer;
  uint32_t batch;
  uint64_t seq;
  uint64_t payload[5];
  uint64_t check;
} rec;
_Static_assert(sizeof(rec) == 64, "64-byte invocation-sized records");

static uint64_t rec_sum(const rec *r) {
  uint64_t h = r->producer * 0x9E3779B97F4A7C15ull ^ r->seq;
  for (int i = 0; i < 5; i++) h = (h ^ r->payload[i]) * 0xBF58476D1CE4E5B9ull;
  return h;
}

static void rec_make(rec *r, uint32_t producer, uint64_t seq) {
  r->producer = producer;
  r->batch = 0;
  r->seq = seq;
  for (int i = 0; i < 5; i++) r->payload[i] = seq * 31u + (uint64_t)i + ((uint64_t)producer << 40);
  r->check = rec_sum(r);
}

typedef struct run {
  cnv_queue *q;
  cnv_spsc *ring;
  uint32_t producers;
  uint64_t per_producer;
  _Atomic uint64_t consumed;
  _Atomic uint64_t rejections; /* records the producers saw refused with CNV_EFULL */
  _Atomic uint32_t next_producer;
  _Atomic uint32_t next_consumer;
  _Atomic uint32_t producers_done; /* producers whose every push has returned */
  _Atomic uint64_t eagain;         /* pops answered CNV_EAGAIN */
  _Atomic int failure;             /* first failure code seen by any thread, 0 when none */
  _Atomic unsigned char *seen;
} run;

enum { F_CHECKSUM = 1,
       F_ID,
       F_ORDER,
       F_DUPLICATE,
       F_STATUS };

static void note_failure(run *r, int code) {
  int none = 0;
  atomic_compare_exchange_strong(&r->failure, &none, code);
}

static void backoff(unsigned *spins) {
  if (++*spins % 64 == 0) sched_yield();
}

static cnv_status push_some(run *r, const rec *batch, size_t k, size_t *pushed) {
  if (r->ring) return cnv_spsc_try_push_batch(r->ring, batch, k, pushed);
  if (k == 1) {
    cnv_status st = cnv_queue_try_push_mpmc(r->q, batch);
    *pushed = st == CNV_OK;
    return st;
  }
  return cnv_queue_try_push_batch_mpmc(r->q, batch, k, pushed);
}

static void *producer_main(void *arg) {
  run *r = arg;
  uint32_t id = atomic_fetch_add(&r->next_producer, 1);
  uint64_t rng = 1000 + id, rejected = 0;
  rec batch[BATCH_MAX];
  unsigned spins = 0;
  for (uint64_t seq = 0; seq < r->per_producer && !atomic_load(&r->failure);) {
    size_t k = 1 + cnv_test_rand(&rng) % BATCH_MAX, pushed = 0;
    if (k > r->per_producer - seq) k = (size_t)(r->per_producer - seq);
    for (size_t i = 0; i < k; i++) rec_make(&batch[i], id, seq + i);
    cnv_status st = push_some(r, batch, k, &pushed);
    if (st != CNV_OK && st != CNV_EFULL) note_failure(r, F_STATUS);
    if (st == CNV_EFULL) {
      rejected += k - pushed;
      backoff(&spins);
    }
    seq += pushed;
  }
  atomic_fetch_add(&r->rejections, rejected);
  atomic_fetch_add(&r->producers_done, 1);
  return NULL;
}

static void check_record(run *r, const rec *x, uint64_t *last) {
  if (x->check != rec_sum(x)) {
    note_failure(r, F_CHECKSUM);
    return;
  }
  if (x->producer >= r->producers || x->seq >= r->per_producer) {
    note_failure(r, F_ID);
    return;
  }
  if (last[x->producer] != UINT64_MAX && x->seq <= last[x->producer]) note_failure(r, F_ORDER);
  last[x->producer] = x->seq;
  if (atomic_fetch_add(&r->seen[x->producer * r->per_producer + x->seq], 1) != 0)
    note_failure(r, F_DUPLICATE);
}

static cnv_status pop_some(run *r, rec *out, size_t k, size_t *got) {
  if (r->ring) return cnv_spsc_try_pop_batch(r->ring, out, k, got);
  if (k == 1) {
    cnv_status st = cnv_queue_try_pop_mpmc(r->q, out);
    *got = st == CNV_OK;
    return st;
  }
  return cnv_queue_try_pop_batch_mpmc(r->q, out, k, got);
}

static void *consumer_main(void *arg) {
  run *r = arg;
  uint64_t last[MAX_THREADS], rng = 77 + atomic_fetch_add(&r->next_consumer, 1);
  for (int i = 0; i < MAX_THREADS; i++) last[i] = UINT64_MAX;
  uint64_t total = r->producers * r->per_producer;
  rec out[BATCH_MAX];
  unsigned spins = 0;
  while (atomic_load(&r->consumed) < total && !atomic_load(&r->failure)) {
    size_t got = 0;
    /* seq_cst: read before the call, so "all done" means no push overlaps this pop */
    int pushes_over = atomic_load(&r->producers_done) == r->producers;
    cnv_status st = pop_some(r, out, 1 + cnv_test_rand(&rng) % BATCH_MAX, &got);
    if (st == CNV_EAGAIN) {
      if (r->ring || pushes_over || got != 0) note_failure(r, F_STATUS);
      atomic_fetch_add(&r->eagain, 1);
    }
    if (st == CNV_EEMPTY || st == CNV_EAGAIN) {
      backoff(&spins);
      continue;
    }
    if (st != CNV_OK || got == 0) note_failure(r, F_STATUS);
    for (size_t i = 0; i < got; i++) check_record(r, &out[i], last);
    atomic_fetch_add(&r->consumed, got);
  }
  return NULL;
}

static void run_threads(run *r, uint32_t consumers) {
  pthread_t th[2 * MAX_THREADS];
  uint32_t n = 0;
  for (uint32_t i = 0; i < r->producers; i++)
    assert_int_equal(pthread_create(&th[n++], NULL, producer_main, r), 0);
  for (uint32_t i = 0; i < consumers; i++)
    assert_int_equal(pthread_create(&th[n++], NULL, consumer_main, r), 0);
  for (uint32_t i = 0; i < n; i++) pthread_join(th[i], NULL);
}

static void torture(uint32_t producers, uint32_t consumers, uint64_t total, int spsc) {
  run r = {.producers = producers, .per_producer = cnv_test_iters(total) / producers};
  uint64_t n = r.per_producer * producers;
  r.seen = calloc(n, 1);
  assert_non_null(r.seen);
  if (spsc)
    assert_int_equal(cnv_spsc_create(64, sizeof(rec), &r.ring), CNV_OK);
  else
    assert_int_equal(cnv_queue_create(64, sizeof(rec), &r.q), CNV_OK);
  run_threads(&r, consumers);
  assert_int_equal(atomic_load(&r.failure), 0);
  assert_int_equal(atomic_load(&r.consumed), n);
  for (uint64_t i = 0; i < n; i++) assert_int_equal(r.seen[i], 1);
  assert_true(atomic_load(&r.rejections) > 0); /* the small queue did fill up */
  if (!spsc) {
    cnv_queue_stats st;
    cnv_queue_stats_get(r.q, &st);
    assert_int_equal(st.pushed, n);
    assert_int_equal(st.popped, n);
    assert_int_equal(st.rejected_full, atomic_load(&r.rejections));
    print_message("%u x %u: %llu pops answered CNV_EAGAIN\n", producers, consumers,
                  (unsigned long long)atomic_load(&r.eagain));
    cnv_queue_destroy(r.q);
  } else {
    cnv_spsc_destroy(r.ring);
  }
  free((void *)r.seen);
}

static void test_mpmc_1p1c(void **state) {
  (void)state;
  torture(1, 1, 1000000, 0);
}
static void test_mpmc_2p2c(void **state) {
  (void)state;
  torture(2, 2, 1000000, 0);
}
static void test_mpmc_4p4c(void **state) {
  (void)state;
  torture(4, 4, 1000000, 0);
}
static void test_spsc_1p1c(void **state) {
  (void)state;
  torture(1, 1, 2000000, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mpmc_1p1c),
      cmocka_unit_test(test_mpmc_2p2c),
      cmocka_unit_test(test_mpmc_4p4c),
      cmocka_unit_test(test_spsc_1p1c),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
