/* Threads that never register: waves of short-lived threads look swarms up in the
 * coordinator and exit while the main thread removes and re-adds swarms. The library's RCU
 * flavour registers a reader on its first read-side section and unregisters it at thread
 * exit, so every removal's grace period waits for the readers still inside a lookup (ASan
 * sees any early free as a use-after-free) and dead readers never stall a grace period. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cnv/phases.h>

#include "cnv_test_util.h"

#define SWARMS 256u
#define THREADS 4
#define LOOKUPS 2000u

static cnv_coord *coord;
static _Atomic uint64_t found, missing;

static uint64_t id_of(uint64_t i) { return i * 104729u + 3u; }

/* A reader that calls straight into the read side: no registration, no unregistration. */
static void *reader(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  for (uint64_t n = 0; n < LOOKUPS; n++) {
    cnv_phase p;
    cnv_status st = cnv_coord_phase(coord, id_of(cnv_test_rand(&seed) % SWARMS), &p);
    assert_true(st == CNV_OK || st == CNV_ECOORD_NO_SWARM);
    if (st == CNV_OK) {
      assert_int_equal(p, CNV_PHASE_BOOTSTRAP);
      atomic_fetch_add(&found, 1);
    } else {
      atomic_fetch_add(&missing, 1);
    }
  }
  return NULL;
}

static void test_unregistered_readers(void **state) {
  (void)state;
  cnv_coord_config cfg = {.expected_swarms = SWARMS, .breaker = cnv_breaker_config_default()};
  assert_int_equal(cnv_coord_create(&cfg, &coord), CNV_OK);
  for (uint64_t i = 0; i < SWARMS; i++) assert_int_equal(cnv_coord_add(coord, id_of(i), 0), CNV_OK);

  uint64_t waves = cnv_test_iters(40);
  for (uint64_t w = 0; w < waves; w++) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
      assert_int_equal(pthread_create(&t[i], NULL, reader, (void *)(uintptr_t)(w * THREADS + i + 1)), 0);
    /* Each removal frees its swarm after a grace period that must cover the readers. */
    for (uint64_t i = w % 4; i < SWARMS; i += 4) {
      assert_int_equal(cnv_coord_remove(coord, id_of(i)), CNV_OK);
      assert_int_equal(cnv_coord_add(coord, id_of(i), 0), CNV_OK);
    }
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  }
  /* Every reader thread has exited: a grace period must not wait for any of them. */
  assert_int_equal(cnv_coord_remove(coord, id_of(0)), CNV_OK);
  assert_int_equal(cnv_coord_count(coord), SWARMS - 1);
  assert_int_equal(atomic_load(&found) + atomic_load(&missing), waves * THREADS * LOOKUPS);
  assert_true(atomic_load(&found) > 0);
  cnv_coord_destroy(coord);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_unregistered_readers)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
