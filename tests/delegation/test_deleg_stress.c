/* Threaded torture: racing use counting never overshoots (exactly K of N racing callers win),
 * and revocation racing with cached verification and cache purges takes effect for every
 * verification that starts after it returned. */
#include <pthread.h>
#include <stdatomic.h>

#include "cnv_test_util.h"
#include "deleg_fixture.h"

#define THREADS 4

typedef struct race {
  fixture *f;
  const uint8_t *tok;
  size_t len;
  atomic_int go;
  atomic_long wins;
  atomic_int stop;
  atomic_int revoked;  /* 1 once cnv_deleg_revoke returned */
  atomic_long late_ok; /* verifications that started after revocation and still passed */
  atomic_long bad;     /* unexpected statuses seen by workers (asserted in the main thread:
                        * cmocka's asserts longjmp and must not run in worker threads) */
} race;

static void *use_worker(void *arg) {
  race *r = arg;
  cnv_deleg_request req = std_request(NULL);
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  long wins = 0;
  for (;;) {
    cnv_deleg_error err;
    cnv_status st = cnv_deleg_authorize(r->f->v, r->tok, r->len, &req, NULL, &err);
    if (st == CNV_OK) {
      wins++;
      continue;
    }
    if (st != CNV_EDELEG_USES_EXHAUSTED) atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
    break;
  }
  atomic_fetch_add_explicit(&r->wins, wins, memory_order_relaxed);
  return NULL;
}

static void run_threads(void *(*fn)(void *), race *r, int n) {
  pthread_t th[THREADS];
  for (int i = 0; i < n; i++) assert_int_equal(pthread_create(&th[i], NULL, fn, r), 0);
  atomic_store_explicit(&r->go, 1, memory_order_release);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
}

static void test_use_count_race(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(20);
  for (uint64_t round = 0; round < rounds; round++) {
    uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
    fspec s[3];
    std_specs(f, s, (uint8_t)(0x20 + 3 * round));
    uint32_t k = (uint32_t)(50 + round * 37 % 200);
    s[1].cav.max_uses = k + 10;
    s[2].cav.max_uses = k;
    race r = {.f = f, .tok = tok, .len = forge(s, 3, tok)};
    run_threads(use_worker, &r, THREADS);
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_int_equal(atomic_load(&r.wins), k);
  }
}

typedef struct sibling_arg {
  race *r;
  const uint8_t *tok;
  size_t len;
  long wins;
} sibling_arg;

static void *sibling_worker(void *arg) {
  sibling_arg *a = arg;
  cnv_deleg_request req = std_request(NULL);
  while (!atomic_load_explicit(&a->r->go, memory_order_acquire)) {
  }
  while (cnv_deleg_authorize(a->r->f->v, a->tok, a->len, &req, NULL, NULL) == CNV_OK) a->wins++;
  return NULL;
}

/* Two sibling leaves (100 uses each) under one parent link with 150: the parent's limit holds
 * across both tokens, exactly. */
static void test_shared_parent_race(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(10);
  for (uint64_t round = 0; round < rounds; round++) {
    static uint8_t tok[2][CNV_DELEG_MAX_TOKEN_BYTES];
    fspec s[3];
    std_specs(f, s, (uint8_t)(0xa0 + 2 * round));
    s[1].cav.max_uses = 150;
    s[2].cav.max_uses = 100;
    race r = {.f = f};
    sibling_arg args[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < 2; t++) {
      s[2].nonce = (uint8_t)(0xf0 + t);
      size_t len = forge(s, 3, tok[t]);
      for (int j = t; j < THREADS; j += 2) args[j] = (sibling_arg){.r = &r, .tok = tok[t], .len = len};
    }
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, sibling_worker, &args[i]), 0);
    atomic_store_explicit(&r.go, 1, memory_order_release);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    long per_token[2] = {args[0].wins + args[2].wins, args[1].wins + args[3].wins};
    assert_int_equal(per_token[0] + per_token[1], 150);
    assert_true(per_token[0] <= 100 && per_token[1] <= 100);
  }
}

static void *verify_worker(void *arg) {
  race *r = arg;
  cnv_deleg_request req = std_request(NULL);
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
    int after = atomic_load_explicit(&r->revoked, memory_order_acquire);
    cnv_status st = cnv_deleg_verify(r->f->v, r->tok, r->len, &req, NULL, NULL);
    if (after && st == CNV_OK) atomic_fetch_add_explicit(&r->late_ok, 1, memory_order_relaxed);
    if (st != CNV_OK && st != CNV_EDELEG_REVOKED) atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
  }
  return NULL;
}

static void *revoke_worker(void *arg) {
  race *r = arg;
  uint8_t h[CNV_DELEG_HASH_BYTES];
  if (cnv_deleg_link_hash(r->tok, r->len, 1, h) != CNV_OK) atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  for (int i = 0; i < 2000; i++) cnv_deleg_cache_purge(r->f->v, 5000);
  if (cnv_deleg_revoke(r->f->v, h) != CNV_OK) atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
  atomic_store_explicit(&r->revoked, 1, memory_order_release);
  for (int i = 0; i < 2000; i++) cnv_deleg_cache_purge(r->f->v, 5000);
  atomic_store_explicit(&r->stop, 1, memory_order_release);
  return NULL;
}

static void *mixed_worker(void *arg) {
  static atomic_int next;
  return atomic_fetch_add(&next, 1) % THREADS == 0 ? revoke_worker(arg) : verify_worker(arg);
}

static void test_revoke_race(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(10);
  for (uint64_t round = 0; round < rounds; round++) {
    fixture g = *f;
    std_chain(&g, (uint8_t)(0x80 + 3 * round));
    race r = {.f = f, .tok = g.tok, .len = g.len};
    run_threads(mixed_worker, &r, THREADS);
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_int_equal(atomic_load(&r.late_ok), 0);
  }
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  fixture_setup(f, 1024);
  (void)std_request(NULL); /* initializes its holder key before any worker thread reads it */
  *state = f;
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_use_count_race, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_shared_parent_race, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_revoke_race, setup, fixture_teardown_free),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
