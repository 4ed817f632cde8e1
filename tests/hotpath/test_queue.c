/* MPMC queue, single thread: argument checks (each its own status), FULL leaves the record
 * with the caller, EMPTY writes nothing, batch prefix semantics, exact stats, many
 * wraparounds checked against a plain array model, and (white box) a pop that meets a push
 * between its claim and its publication returns CNV_EAGAIN at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"
#include "hotpath/queue_internal.h"

#define REC 16u /* record size in these tests: two uint64 words */

static void fill(uint64_t *rec, uint64_t v) {
  rec[0] = v;
  rec[1] = ~v;
}

static void test_memory_size_checks(void **state) {
  (void)state;
  size_t bytes = 0;
  assert_int_equal(cnv_queue_memory_size(0, REC, &bytes), CNV_ECAPACITY);
  assert_int_equal(cnv_queue_memory_size(1, REC, &bytes), CNV_ECAPACITY); /* needs 2 slots */
  assert_int_equal(cnv_queue_memory_size(3, REC, &bytes), CNV_ECAPACITY);
  assert_int_equal(cnv_queue_memory_size(CNV_HOTPATH_MAX_CAPACITY * 2u, REC, &bytes), CNV_ECAPACITY);
  assert_int_equal(cnv_queue_memory_size(8, 0, &bytes), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_queue_memory_size(8, 12, &bytes), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_queue_memory_size(8, CNV_HOTPATH_MAX_RECORD + 8, &bytes), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_queue_memory_size(8, REC, NULL), CNV_EINVAL);
  assert_int_equal(cnv_queue_memory_size(8, REC, &bytes), CNV_OK);
  assert_int_equal(bytes, 8 * (8 + REC));
  assert_int_equal(cnv_queue_memory_size(2, CNV_HOTPATH_MAX_RECORD, &bytes), CNV_OK);
}

static void test_init_checks(void **state) {
  (void)state;
  cnv_queue q;
  size_t bytes;
  assert_int_equal(cnv_queue_memory_size(8, REC, &bytes), CNV_OK);
  unsigned char *mem = aligned_alloc(CNV_CACHELINE, bytes + CNV_CACHELINE);
  assert_non_null(mem);
  assert_int_equal(cnv_queue_init(NULL, mem, bytes, 8, REC), CNV_EINVAL);
  assert_int_equal(cnv_queue_init(&q, NULL, bytes, 8, REC), CNV_EINVAL);
  assert_int_equal(cnv_queue_init(&q, mem, bytes, 6, REC), CNV_ECAPACITY);
  assert_int_equal(cnv_queue_init(&q, mem, bytes, 8, 20), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_queue_init(&q, mem + 8, bytes, 8, REC), CNV_EALIGN);
  assert_int_equal(cnv_queue_init(&q, mem, bytes - 1, 8, REC), CNV_ERANGE);
  assert_int_equal(cnv_queue_init(&q, mem, bytes, 8, REC), CNV_OK);
  assert_int_equal(cnv_queue_capacity(&q), 8);
  assert_int_equal(cnv_queue_record_size(&q), REC);
  cnv_queue_fini(&q);
  free(mem);
}

static void test_create_checks(void **state) {
  (void)state;
  cnv_queue *q = (cnv_queue *)(uintptr_t)1;
  assert_int_equal(cnv_queue_create(5, REC, &q), CNV_ECAPACITY);
  assert_null(q);
  assert_int_equal(cnv_queue_create(4, 7, &q), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_queue_create(4, REC, NULL), CNV_EINVAL);
  assert_int_equal(cnv_queue_create(4, REC, &q), CNV_OK);
  assert_int_equal(cnv_queue_capacity(q), 4);
  cnv_queue_destroy(q);
  cnv_queue_destroy(NULL);
}

static void test_null_arguments(void **state) {
  (void)state;
  cnv_queue *q;
  uint64_t rec[2] = {1, 2};
  size_t n = 7;
  assert_int_equal(cnv_queue_create(4, REC, &q), CNV_OK);
  assert_int_equal(cnv_queue_try_push_mpmc(NULL, rec), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_push_mpmc(q, NULL), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, NULL), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_push_batch_mpmc(q, NULL, 2, &n), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_push_batch_mpmc(q, rec, 1, NULL), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_pop_batch_mpmc(q, rec, 0, &n), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_push_batch_mpmc(q, NULL, 0, &n), CNV_OK);
  assert_int_equal(n, 0);
  cnv_queue_stats st;
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed + st.popped + st.rejected_full, 0);
  cnv_queue_destroy(q);
}

static void test_full_leaves_record_and_queue(void **state) {
  (void)state;
  cnv_queue *q;
  uint64_t rec[2];
  assert_int_equal(cnv_queue_create(4, REC, &q), CNV_OK);
  for (uint64_t i = 0; i < 4; i++) {
    fill(rec, i);
    assert_int_equal(cnv_queue_try_push_mpmc(q, rec), CNV_OK);
  }
  fill(rec, 99);
  assert_int_equal(cnv_queue_try_push_mpmc(q, rec), CNV_EFULL);
  assert_int_equal(rec[0], 99);
  assert_int_equal(rec[1], ~(uint64_t)99);
  for (uint64_t i = 0; i < 4; i++) {
    assert_int_equal(cnv_queue_try_pop_mpmc(q, rec), CNV_OK);
    assert_int_equal(rec[0], i);
    assert_int_equal(rec[1], ~i);
  }
  memset(rec, 0xAB, sizeof rec);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, rec), CNV_EEMPTY);
  assert_int_equal(rec[0], 0xABABABABABABABABull);
  cnv_queue_stats st;
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, 4);
  assert_int_equal(st.popped, 4);
  assert_int_equal(st.rejected_full, 1);
  cnv_queue_destroy(q);
}

static void test_batch_prefix(void **state) {
  (void)state;
  cnv_queue *q;
  uint64_t in[10][2], out[12][2];
  size_t n = 99;
  for (uint64_t i = 0; i < 10; i++) fill(in[i], 100 + i);
  assert_int_equal(cnv_queue_create(8, REC, &q), CNV_OK);
  assert_int_equal(cnv_queue_try_push_batch_mpmc(q, in, 5, &n), CNV_OK);
  assert_int_equal(n, 5);
  assert_int_equal(cnv_queue_try_push_batch_mpmc(q, in[5], 5, &n), CNV_EFULL);
  assert_int_equal(n, 3); /* records 105..107 went in, 108 and 109 stay with the caller */
  assert_int_equal(cnv_queue_try_push_batch_mpmc(q, in[8], 2, &n), CNV_EFULL);
  assert_int_equal(n, 0);
  memset(out, 0xCD, sizeof out);
  assert_int_equal(cnv_queue_try_pop_batch_mpmc(q, out, 3, &n), CNV_OK);
  assert_int_equal(n, 3);
  assert_int_equal(cnv_queue_try_pop_batch_mpmc(q, out[3], 12, &n), CNV_OK);
  assert_int_equal(n, 5);
  for (uint64_t i = 0; i < 8; i++) assert_memory_equal(out[i], in[i], REC);
  assert_int_equal(out[8][0], 0xCDCDCDCDCDCDCDCDull); /* nothing written past *popped */
  assert_int_equal(cnv_queue_try_pop_batch_mpmc(q, out, 12, &n), CNV_EEMPTY);
  assert_int_equal(n, 0);
  cnv_queue_stats st;
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, 8);
  assert_int_equal(st.popped, 8);
  assert_int_equal(st.rejected_full, 4);
  cnv_queue_destroy(q);
}

/* Random single and batch operations on a capacity-4 queue, compared step by step with a
 * ring-array model; positions wrap the slot array tens of thousands of times. */
static void test_wraparound_model(void **state) {
  (void)state;
  enum { CAP = 4,
         STEPS = 100000 };
  cnv_queue *q;
  uint64_t model[CAP], next = 0, expect_push = 0, expect_pop = 0, expect_rej = 0;
  size_t mhead = 0, mlen = 0;
  uint64_t rng = 42;
  assert_int_equal(cnv_queue_create(CAP, REC, &q), CNV_OK);
  for (int step = 0; step < STEPS; step++) {
    uint64_t buf[6][2];
    size_t k = 1 + cnv_test_rand(&rng) % 6, got = 0;
    if (cnv_test_rand(&rng) & 1) {
      for (size_t i = 0; i < k; i++) fill(buf[i], next + i);
      cnv_status st = cnv_queue_try_push_batch_mpmc(q, buf, k, &got);
      size_t fit = k < CAP - mlen ? k : CAP - mlen;
      assert_int_equal(got, fit);
      assert_int_equal(st, fit == k ? CNV_OK : CNV_EFULL);
      for (size_t i = 0; i < got; i++) model[(mhead + mlen++) % CAP] = next++;
      expect_push += got;
      expect_rej += k - got;
    } else {
      cnv_status st = cnv_queue_try_pop_batch_mpmc(q, buf, k, &got);
      size_t avail = k < mlen ? k : mlen;
      assert_int_equal(got, avail);
      assert_int_equal(st, avail ? CNV_OK : CNV_EEMPTY);
      for (size_t i = 0; i < got; i++, mlen--, mhead = (mhead + 1) % CAP) {
        assert_int_equal(buf[i][0], model[mhead]);
        assert_int_equal(buf[i][1], ~model[mhead]);
      }
      expect_pop += got;
    }
  }
  cnv_queue_stats st;
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, expect_push);
  assert_int_equal(st.popped, expect_pop);
  assert_int_equal(st.rejected_full, expect_rej);
  assert_true(expect_pop > 10 * CAP * 1000);
  cnv_queue_destroy(q);
}

/* The first half of a push, as a producer preempted between its claim and its copy leaves
 * it: tail moved past the slot, whose sequence number still says "free". */
static uint64_t claim_without_publishing(cnv_queue *q) {
  struct cnv__queue *s = cnv__queue_of(q);
  uint64_t pos = atomic_load(&s->tail);
  assert_true(atomic_compare_exchange_strong(&s->tail, &pos, pos + 1));
  return pos;
}

/* The second half: copy the record in and publish it, as queue.c's publish_run does. */
static void publish(cnv_queue *q, uint64_t pos, const uint64_t *rec) {
  struct cnv__queue *s = cnv__queue_of(q);
  unsigned char *slot = s->slots + (size_t)(pos & s->mask) * s->stride;
  memcpy(slot + 8, rec, REC);
  atomic_store((_Atomic uint64_t *)(void *)slot, pos + 1);
}

static void test_pop_sees_push_in_progress(void **state) {
  (void)state;
  cnv_queue *q;
  uint64_t rec[2], out[4][2];
  cnv_queue_stats st;
  assert_int_equal(cnv_queue_create(4, REC, &q), CNV_OK);
  fill(rec, 10);
  assert_int_equal(cnv_queue_try_push_mpmc(q, rec), CNV_OK);
  uint64_t stalled = claim_without_publishing(q);
  assert_int_equal(stalled, 1);
  fill(rec, 12); /* a later push completes while the earlier one is still open */
  assert_int_equal(cnv_queue_try_push_mpmc(q, rec), CNV_OK);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, rec), CNV_OK);
  assert_int_equal(rec[0], 10);
  /* The oldest record is claimed but unwritten: not empty, and not skipped either. Before
   * CNV_EAGAIN these calls waited for the stalled push and never returned here. */
  memset(rec, 0xAB, sizeof rec);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, rec), CNV_EAGAIN);
  assert_int_equal(rec[0], 0xABABABABABABABABull);
  size_t got = 99;
  memset(out, 0xAB, sizeof out);
  assert_int_equal(cnv_queue_try_pop_batch_mpmc(q, out, 4, &got), CNV_EAGAIN);
  assert_int_equal(got, 0);
  assert_int_equal(out[0][0], 0xABABABABABABABABull);
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, 3);
  assert_int_equal(st.popped, 1);
  /* The push finishes on its own; the records come out in claim order, then empty. */
  fill(rec, 11);
  publish(q, stalled, rec);
  assert_int_equal(cnv_queue_try_pop_batch_mpmc(q, out, 4, &got), CNV_OK);
  assert_int_equal(got, 2);
  assert_int_equal(out[0][0], 11);
  assert_int_equal(out[0][1], ~(uint64_t)11);
  assert_int_equal(out[1][0], 12);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, rec), CNV_EEMPTY);
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, 3);
  assert_int_equal(st.popped, 3);
  assert_int_equal(st.rejected_full, 0);
  cnv_queue_destroy(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_memory_size_checks),
      cmocka_unit_test(test_init_checks),
      cmocka_unit_test(test_create_checks),
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_full_leaves_record_and_queue),
      cmocka_unit_test(test_batch_prefix),
      cmocka_unit_test(test_wraparound_model),
      cmocka_unit_test(test_pop_sees_push_in_progress),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
