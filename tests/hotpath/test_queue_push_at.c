/* cnv_queue_try_push_mpmc_at: the positions handed out are unique and dense from 0 (every
 * successful push, single and batch, counted once), and one consumer pops records in
 * position order, so it can number them at push time (the ledger does). Several pushing
 * threads, a small queue so pushes see CNV_EFULL and retry, one popping thread. */
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

#define PRODUCERS 4

typedef struct rec {
  uint64_t position; /* what the push returned, written after the push by the producer */
  uint64_t producer;
  uint64_t seq;
  uint64_t pad;
} rec;

typedef struct run {
  cnv_queue *q;
  uint64_t per_producer;
  _Atomic uint32_t next_id;
  uint64_t *pos_of[PRODUCERS]; /* pos_of[p][seq]: the position push p/seq got */
} run;

static void *producer(void *arg) {
  run *r = arg;
  uint32_t id = atomic_fetch_add(&r->next_id, 1);
  for (uint64_t s = 0; s < r->per_producer; s++) {
    rec x = {.position = 0, .producer = id, .seq = s, .pad = 0};
    uint64_t pos;
    cnv_status st;
    while ((st = cnv_queue_try_push_mpmc_at(r->q, &x, &pos)) == CNV_EFULL) sched_yield();
    if (st != CNV_OK) return (void *)1;
    r->pos_of[id][s] = pos;
  }
  return NULL;
}

static void test_positions_dense_and_in_pop_order(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  r.per_producer = cnv_test_iters(200000);
  assert_int_equal(cnv_queue_create(64, sizeof(rec), &r.q), CNV_OK);
  for (int p = 0; p < PRODUCERS; p++) {
    r.pos_of[p] = calloc(r.per_producer, sizeof(uint64_t));
    assert_non_null(r.pos_of[p]);
  }
  pthread_t th[PRODUCERS];
  for (int p = 0; p < PRODUCERS; p++) assert_int_equal(pthread_create(&th[p], NULL, producer, &r), 0);
  uint64_t total = r.per_producer * PRODUCERS;
  /* popped[i] = (producer, seq) of the i-th record popped */
  uint64_t *popped = calloc(total, sizeof(uint64_t));
  assert_non_null(popped);
  uint64_t last_seq[PRODUCERS];
  memset(last_seq, 0xff, sizeof last_seq);
  uint64_t got = 0;
  while (got < total) {
    rec x[16];
    size_t n = 0;
    cnv_status st = cnv_queue_try_pop_batch_mpmc(r.q, x, 16, &n);
    if (st != CNV_OK) {
      assert_true(st == CNV_EEMPTY || st == CNV_EAGAIN);
      sched_yield();
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      assert_true(x[i].producer < PRODUCERS);
      /* per-producer FIFO */
      assert_true(last_seq[x[i].producer] == UINT64_MAX || x[i].seq == last_seq[x[i].producer] + 1);
      last_seq[x[i].producer] = x[i].seq;
      popped[got++] = x[i].producer << 48 | x[i].seq;
    }
  }
  for (int p = 0; p < PRODUCERS; p++) {
    void *ret;
    assert_int_equal(pthread_join(th[p], &ret), 0);
    assert_null(ret);
  }
  /* Every position in 0..total-1 handed out exactly once, and the record popped i-th is the
   * one whose push got position i. */
  uint8_t *seen = calloc(total, 1);
  assert_non_null(seen);
  for (int p = 0; p < PRODUCERS; p++) {
    for (uint64_t s = 0; s < r.per_producer; s++) {
      uint64_t pos = r.pos_of[p][s];
      assert_true(pos < total);
      assert_int_equal(seen[pos], 0);
      seen[pos] = 1;
      assert_int_equal(popped[pos], (uint64_t)p << 48 | s);
    }
  }
  /* a batch push counts in the same order: the next single push follows it */
  rec b[3];
  memset(b, 0, sizeof b);
  size_t pushed = 0;
  assert_int_equal(cnv_queue_try_push_batch_mpmc(r.q, b, 3, &pushed), CNV_OK);
  assert_int_equal(pushed, 3);
  uint64_t pos;
  assert_int_equal(cnv_queue_try_push_mpmc_at(r.q, &b[0], &pos), CNV_OK);
  assert_int_equal(pos, total + 3);
  /* a full queue hands out no position */
  while (cnv_queue_try_push_mpmc(r.q, &b[0]) == CNV_OK) {
  }
  uint64_t untouched = 12345;
  assert_int_equal(cnv_queue_try_push_mpmc_at(r.q, &b[0], &untouched), CNV_EFULL);
  assert_int_equal(untouched, 12345);
  assert_int_equal(cnv_queue_try_push_mpmc_at(r.q, &b[0], NULL), CNV_EINVAL);
  free(seen);
  free(popped);
  for (int p = 0; p < PRODUCERS; p++) free(r.pos_of[p]);
  cnv_queue_destroy(r.q);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_positions_dense_and_in_pop_order)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
