/* Coordinator with 10,000 swarms: writers move swarms, a remover deletes some, readers
 * look phases up without locks the whole time; then the breakers are ticked in bulk. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cnv/phases.h>

#include "cnv_test_util.h"

#define SWARMS 10000
#define KEPT 9000

static cnv_coord *coord;
static cnv_observer *obs;
static _Atomic int writers_left;
static _Atomic uint64_t drained_live;

static uint64_t id_of(uint64_t i) { return i * 7919u + 1u; }

struct range {
  uint64_t lo, hi;
};

static void *writer(void *arg) {
  const struct range *r = arg;
  const int path[] = {CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION,
                      CNV_PHASE_OPERATIONAL};
  for (int step = 0; step < 3; step++)
    for (uint64_t i = r->lo; i < r->hi; i++)
      assert_int_equal(cnv_coord_transition(coord, id_of(i), path[step], path[step + 1], i + 10), CNV_OK);
  atomic_fetch_sub(&writers_left, 1);
  return NULL;
}

static void *remover(void *arg) {
  (void)arg;
  for (uint64_t i = KEPT; i < SWARMS; i++) assert_int_equal(cnv_coord_remove(coord, id_of(i)), CNV_OK);
  atomic_fetch_sub(&writers_left, 1);
  return NULL;
}

static void *reader(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  uint64_t reads = 0;
  while (atomic_load(&writers_left) > 0 || reads < 1000) {
    uint64_t i = cnv_test_rand(&seed) % SWARMS;
    cnv_phase p;
    cnv_status st = cnv_coord_phase(coord, id_of(i), &p);
    if (i >= KEPT)
      assert_true(st == CNV_OK || st == CNV_ECOORD_NO_SWARM);
    else
      assert_int_equal(st, CNV_OK);
    if (st == CNV_OK) assert_true(p <= CNV_PHASE_OPERATIONAL);
    reads++;
  }
  return NULL;
}

/* Drains the observer while the writers publish (one consumer, many producers). */
static void *drainer(void *arg) {
  (void)arg;
  while (atomic_load(&writers_left) > 0) {
    size_t n;
    assert_int_equal(cnv_observer_drain(obs, 256, &n), CNV_OK);
    atomic_fetch_add(&drained_live, n);
  }
  return NULL;
}

static void check_matrix(uint64_t bn, uint64_t od, uint64_t oe) {
  size_t n;
  assert_int_equal(cnv_observer_drain(obs, 0, &n), CNV_OK);
  atomic_fetch_add(&drained_live, n);
  uint64_t m[CNV_PHASE_COUNT][CNV_PHASE_COUNT];
  assert_int_equal(cnv_observer_matrix(obs, m), CNV_OK);
  assert_int_equal(m[CNV_PHASE_BOOTSTRAP][CNV_PHASE_NEGOTIATION], bn);
  assert_int_equal(m[CNV_PHASE_NEGOTIATION][CNV_PHASE_ACTIVATION], bn);
  assert_int_equal(m[CNV_PHASE_ACTIVATION][CNV_PHASE_OPERATIONAL], bn);
  assert_int_equal(m[CNV_PHASE_OPERATIONAL][CNV_PHASE_DEGRADED], od);
  assert_int_equal(m[CNV_PHASE_OPERATIONAL][CNV_PHASE_EMERGENCY], oe);
  cnv_observer_stats st;
  assert_int_equal(cnv_observer_stats_get(obs, &st), CNV_OK);
  assert_int_equal(st.dropped, 0);
  assert_int_equal(st.untracked, 0);
  assert_int_equal(st.drained, 3 * bn + od + oe);
  assert_int_equal(atomic_load(&drained_live), st.drained);
}

static void test_many_swarms(void **state) {
  (void)state;
  cnv_observer_config oc = {.capacity = 1u << 15, .max_swarms = 16384};
  assert_int_equal(cnv_observer_create(&oc, &obs), CNV_OK);
  cnv_coord_config cfg = {.expected_swarms = SWARMS, .breaker = cnv_breaker_config_default(), .observer = obs};
  assert_int_equal(cnv_coord_create(&cfg, &coord), CNV_OK);
  for (uint64_t i = 0; i < SWARMS; i++) assert_int_equal(cnv_coord_add(coord, id_of(i), 1), CNV_OK);
  assert_int_equal(cnv_coord_add(coord, id_of(5), 1), CNV_ECOORD_DUPLICATE);
  assert_int_equal(cnv_coord_count(coord), SWARMS);
  cnv_phase p;
  assert_int_equal(cnv_coord_phase(coord, 2, &p), CNV_ECOORD_NO_SWARM);
  atomic_store(&writers_left, 3);
  struct range halves[2] = {{0, KEPT / 2}, {KEPT / 2, KEPT}};
  pthread_t w[2], rm, rd[2], dr;
  assert_int_equal(pthread_create(&dr, NULL, drainer, NULL), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&w[i], NULL, writer, &halves[i]), 0);
  assert_int_equal(pthread_create(&rm, NULL, remover, NULL), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&rd[i], NULL, reader, (void *)(uintptr_t)(i + 1)), 0);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  pthread_join(rm, NULL);
  for (int i = 0; i < 2; i++) pthread_join(rd[i], NULL);
  pthread_join(dr, NULL);
  check_matrix(KEPT, 0, 0);
  assert_int_equal(cnv_coord_count(coord), KEPT);
  for (uint64_t i = 0; i < KEPT; i += 97) {
    assert_int_equal(cnv_coord_phase(coord, id_of(i), &p), CNV_OK);
    assert_int_equal(p, CNV_PHASE_OPERATIONAL);
  }
  assert_int_equal(cnv_coord_phase(coord, id_of(KEPT), &p), CNV_ECOORD_NO_SWARM);
  assert_int_equal(cnv_coord_remove(coord, id_of(KEPT)), CNV_ECOORD_NO_SWARM);
}

static void test_bulk_tick_and_algedonic(void **state) {
  (void)state;
  for (uint64_t i = 0; i < 10; i++)
    for (int k = 0; k < 30; k++) assert_int_equal(cnv_coord_record_invocation(coord, id_of(i), 0), CNV_OK);
  uint64_t moved;
  assert_int_equal(cnv_coord_tick_all(coord, 1000000, &moved), CNV_OK);
  assert_int_equal(moved, 10);
  cnv_swarm_report r;
  assert_int_equal(cnv_coord_snapshot(coord, id_of(3), 2000000, &r), CNV_OK);
  assert_int_equal(r.phase, CNV_PHASE_DEGRADED);
  assert_int_equal(r.failures, 30);
  assert_int_equal(r.errors_in_phase[CNV_PHASE_OPERATIONAL], 30);
  assert_int_equal(cnv_coord_raise_algedonic(coord, id_of(20), CNV_ALGEDONIC_VARIETY_DEFICIT, 3000000), CNV_OK);
  cnv_phase p;
  assert_int_equal(cnv_coord_phase(coord, id_of(20), &p), CNV_OK);
  assert_int_equal(p, CNV_PHASE_EMERGENCY);
  assert_int_equal(cnv_coord_raise_algedonic(coord, 2, 1, 3000000), CNV_ECOORD_NO_SWARM);
  check_matrix(KEPT, 10, 1);
  cnv_duration_stats d;
  assert_int_equal(cnv_observer_duration_stats(obs, id_of(3), CNV_PHASE_OPERATIONAL, &d), CNV_OK);
  assert_int_equal(d.count, 1);
  cnv_coord_destroy(coord);
  cnv_observer_destroy(obs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_swarms),
      cmocka_unit_test(test_bulk_tick_and_algedonic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
