/* cnv_queue_try_push_mpmc_prefix: a pop returns the pushed prefix intact, and past it the
 * slot's earlier bytes (zeros from init, whatever memory init was given); its errors leave
 * the queue as it was; and under several producers and consumers every record arrives once,
 * its prefix whole, and each consumer gets each producer's records in push order. */
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

#define REC 64u
#define CAP 4u

/* A queue of CAP records of REC bytes on caller memory filled with 0xAA first: init must
 * leave no 0xAA in a record's bytes. */
static cnv_queue *queue_on(void *mem, size_t bytes) {
  memset(mem, 0xAA, bytes);
  static cnv_queue q;
  assert_int_equal(cnv_queue_init(&q, mem, bytes, CAP, REC), CNV_OK);
  return &q;
}

static void *queue_memory(size_t *bytes) {
  assert_int_equal(cnv_queue_memory_size(CAP, REC, bytes), CNV_OK);
  void *mem = aligned_alloc(64, (*bytes + 63) / 64 * 64);
  assert_non_null(mem);
  return mem;
}

static void test_pop_returns_prefix_then_earlier_bytes(void **state) {
  (void)state;
  size_t bytes;
  void *mem = queue_memory(&bytes);
  cnv_queue *q = queue_on(mem, bytes);
  uint8_t out[REC], zeros[REC] = {0};
  /* first lap: past the prefix, zeros */
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, "0123456789", 10), CNV_OK);
  memset(out, 0x11, sizeof out);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_OK);
  assert_memory_equal(out, "0123456789", 10);
  assert_memory_equal(out + 10, zeros, REC - 10);
  /* whole records of 0x55 through every slot (the first one has wrapped to slot 1) */
  uint8_t full[REC];
  memset(full, 0x55, sizeof full);
  for (unsigned i = 0; i < CAP; i++) {
    assert_int_equal(cnv_queue_try_push_mpmc(q, full), CNV_OK);
    assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_OK);
    assert_memory_equal(out, full, REC);
  }
  /* a 3-byte prefix lands on a slot that held 0x55s: those stay past it */
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, "abc", 3), CNV_OK);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_OK);
  assert_memory_equal(out, "abc", 3);
  assert_memory_equal(out + 3, full + 3, REC - 3);
  /* a prefix of the whole record is a whole push */
  uint8_t other[REC];
  for (unsigned i = 0; i < REC; i++) other[i] = (uint8_t)i;
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, other, REC), CNV_OK);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_OK);
  assert_memory_equal(out, other, REC);
  cnv_queue_fini(q);
  free(mem);
}

static void test_errors_leave_the_queue_as_it_was(void **state) {
  (void)state;
  size_t bytes;
  void *mem = queue_memory(&bytes);
  cnv_queue *q = queue_on(mem, bytes);
  uint8_t rec[REC + 1] = {1}, out[REC];
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, rec, REC + 1), CNV_ERANGE);
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(NULL, rec, 1), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_EEMPTY); /* nothing went in */
  cnv_queue_stats st;
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, 0);
  /* full: refused and counted, the records inside untouched */
  for (unsigned i = 0; i < CAP; i++) {
    rec[0] = (uint8_t)(i + 1);
    assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, rec, 1), CNV_OK);
  }
  rec[0] = 99;
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, rec, 1), CNV_EFULL);
  cnv_queue_stats_get(q, &st);
  assert_int_equal(st.pushed, CAP);
  assert_int_equal(st.rejected_full, 1);
  for (unsigned i = 0; i < CAP; i++) {
    assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_OK);
    assert_int_equal(out[0], i + 1);
  }
  /* no bytes at all: a record of the slot's earlier bytes */
  assert_int_equal(cnv_queue_try_push_mpmc_prefix(q, NULL, 0), CNV_OK);
  assert_int_equal(cnv_queue_try_pop_mpmc(q, out), CNV_OK);
  assert_int_equal(out[0], 1); /* slot 0's first record */
  cnv_queue_fini(q);
  free(mem);
}

/* ---- several producers and consumers ---- */

#define PRODUCERS 3
#define CONSUMERS 2
#define BIG 256u /* record size; prefixes of 24 .. BIG bytes */

typedef struct hdr {
  uint32_t producer;
  uint32_t len; /* bytes pushed, this header included */
  uint64_t seq;
  uint64_t pad;
} hdr;

typedef struct mp {
  cnv_queue *q;
  uint64_t per_producer;
  _Atomic uint32_t next_producer;
  _Atomic uint64_t popped;
  _Atomic uint64_t bad;
  _Atomic uint8_t *seen; /* [producer * per_producer + seq] */
} mp;

static uint8_t pattern(uint32_t producer, uint64_t seq, size_t i) {
  return (uint8_t)(producer * 131u + seq * 7u + i);
}

static void *mp_producer(void *arg) {
  mp *m = arg;
  uint32_t id = atomic_fetch_add(&m->next_producer, 1);
  uint8_t rec[BIG];
  for (uint64_t s = 0; s < m->per_producer; s++) {
    hdr h = {.producer = id, .len = (uint32_t)(sizeof h + (s * 37u + id) % (BIG - sizeof h + 1)), .seq = s};
    memcpy(rec, &h, sizeof h);
    for (size_t i = sizeof h; i < h.len; i++) rec[i] = pattern(id, s, i);
    cnv_status st;
    while ((st = cnv_queue_try_push_mpmc_prefix(m->q, rec, h.len)) == CNV_EFULL) sched_yield();
    if (st != CNV_OK) return (void *)1;
  }
  return NULL;
}

static void *mp_consumer(void *arg) {
  mp *m = arg;
  uint64_t total = m->per_producer * PRODUCERS;
  uint8_t rec[BIG];
  /* One consumer's pops take increasing positions, and so do one producer's pushes. */
  uint64_t next_seq[PRODUCERS] = {0}; /* lowest seq this consumer may get next */
  while (atomic_load(&m->popped) < total) {
    cnv_status st = cnv_queue_try_pop_mpmc(m->q, rec);
    if (st != CNV_OK) {
      if (st != CNV_EEMPTY && st != CNV_EAGAIN) atomic_fetch_add(&m->bad, 1);
      sched_yield();
      continue;
    }
    hdr h;
    memcpy(&h, rec, sizeof h);
    int ok = h.producer < PRODUCERS && h.seq < m->per_producer && h.len >= sizeof h && h.len <= BIG;
    if (ok) ok = h.seq >= next_seq[h.producer];
    if (ok) next_seq[h.producer] = h.seq + 1;
    for (size_t i = sizeof h; ok && i < h.len; i++) ok = rec[i] == pattern(h.producer, h.seq, i);
    if (ok) ok = atomic_fetch_add(&m->seen[h.producer * m->per_producer + h.seq], 1) == 0;
    if (!ok) atomic_fetch_add(&m->bad, 1);
    atomic_fetch_add(&m->popped, 1);
  }
  return NULL;
}

static void test_producers_and_consumers_get_whole_prefixes_once(void **state) {
  (void)state;
  mp m;
  memset(&m, 0, sizeof m);
  m.per_producer = cnv_test_iters(100000);
  assert_int_equal(cnv_queue_create(64, BIG, &m.q), CNV_OK);
  m.seen = calloc(m.per_producer * PRODUCERS, 1);
  assert_non_null(m.seen);
  pthread_t p[PRODUCERS], c[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) assert_int_equal(pthread_create(&c[i], NULL, mp_consumer, &m), 0);
  for (int i = 0; i < PRODUCERS; i++) assert_int_equal(pthread_create(&p[i], NULL, mp_producer, &m), 0);
  for (int i = 0; i < PRODUCERS; i++) {
    void *ret;
    assert_int_equal(pthread_join(p[i], &ret), 0);
    assert_null(ret);
  }
  for (int i = 0; i < CONSUMERS; i++) assert_int_equal(pthread_join(c[i], NULL), 0);
  assert_int_equal(atomic_load(&m.bad), 0);
  assert_int_equal(atomic_load(&m.popped), m.per_producer * PRODUCERS);
  for (uint64_t i = 0; i < m.per_producer * PRODUCERS; i++) assert_int_equal(m.seen[i], 1);
  free((void *)m.seen);
  cnv_queue_destroy(m.q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pop_returns_prefix_then_earlier_bytes),
      cmocka_unit_test(test_errors_leave_the_queue_as_it_was),
      cmocka_unit_test(test_producers_and_consumers_get_whole_prefixes_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
