/* Threaded torture of prepared tokens: many threads authorize with one prepared token while
 * another thread revokes one of its links or removes trust in its root. No call that started
 * after the revoke (or trust_remove) returned may be allowed; and racing callers of a
 * use-limited prepared token succeed exactly K times. */
#include <pthread.h>
#include <stdatomic.h>

#include "cnv_test_util.h"
#include "deleg_fixture.h"

#define THREADS 4

typedef struct race {
  cnv_deleg_verifier *v;
  cnv_deleg_prepared *p;
  cnv_deleg_cap cap;
  atomic_int go;
  atomic_int changed;  /* 1 once the revoke / trust_remove returned */
  atomic_long late_ok; /* calls that started after it and were still allowed */
  atomic_long early;   /* calls before it that were allowed (waited for: the race has both sides) */
  atomic_long wins;
  atomic_long bad; /* unexpected statuses (asserted in the main thread: cmocka's asserts
                    * longjmp and must not run in worker threads) */
} race;

static void *policy_worker(void *arg) {
  race *r = arg;
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  long late_ok = 0, bad = 0;
  for (int after_change = 0; after_change < 200;) {
    /* acquire: pairs with the release store after the revoke returned; a call made after
     * seeing 1 started after the revoke (happens-before). */
    int changed = atomic_load_explicit(&r->changed, memory_order_acquire);
    cnv_deleg_error err;
    cnv_status st = cnv_deleg_prepared_authorize(r->v, r->p, 5000, &r->cap, CNV_EFFECT_READ_ONLY, NULL, &err);
    if (st == CNV_OK) {
      /* relaxed: a count the main thread waits on before it changes the policy */
      if (!changed) atomic_fetch_add_explicit(&r->early, 1, memory_order_relaxed);
      late_ok += changed;
    } else if (st != CNV_EDELEG_REVOKED && st != CNV_EDELEG_UNTRUSTED_ROOT) {
      bad++;
    }
    after_change += changed;
  }
  atomic_fetch_add_explicit(&r->late_ok, late_ok, memory_order_relaxed);
  atomic_fetch_add_explicit(&r->bad, bad, memory_order_relaxed);
  return NULL;
}

static void *use_worker(void *arg) {
  race *r = arg;
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  long wins = 0, bad = 0;
  for (;;) {
    cnv_status st = cnv_deleg_prepared_authorize(r->v, r->p, 5000, &r->cap, CNV_EFFECT_READ_ONLY, NULL, NULL);
    if (st == CNV_OK) {
      wins++;
      continue;
    }
    bad += st != CNV_EDELEG_USES_EXHAUSTED;
    break;
  }
  atomic_fetch_add_explicit(&r->wins, wins, memory_order_relaxed);
  atomic_fetch_add_explicit(&r->bad, bad, memory_order_relaxed);
  return NULL;
}

static void spin(uint64_t n) {
  for (volatile uint64_t i = 0; i < n; i++) {
  }
}

/* Round kinds: revoke link 0, 1 or 2 of the chain, or remove trust in its root. */
static void test_revoke_race(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(40);
  for (uint64_t round = 0; round < rounds; round++) {
    race r = {0};
    cnv_deleg_config cfg;
    cnv_deleg_config_default(&cfg);
    cfg.cache_capacity = round % 2 ? 1024 : 0;
    assert_int_equal(cnv_deleg_verifier_create(&cfg, &r.v), CNV_OK);
    assert_int_equal(cnv_deleg_trust_add(r.v, f->r.pk), CNV_OK);
    assert_int_equal(cnv_deleg_prepare(r.v, f->tok, f->len, f->c.pk, 7, &r.p), CNV_OK);
    r.cap = cap_of("user.read");
    assert_int_equal(cnv_deleg_prepared_authorize(r.v, r.p, 5000, &r.cap, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_OK);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, policy_worker, &r), 0);
    atomic_store_explicit(&r.go, 1, memory_order_release);
    /* the change lands while every worker is calling: after some calls were allowed */
    while (atomic_load_explicit(&r.early, memory_order_relaxed) < 4 * THREADS) {
    }
    spin(20000 + round * 3000);
    int kind = (int)(round % 4);
    if (kind < 3) {
      uint8_t h[CNV_DELEG_HASH_BYTES];
      assert_int_equal(cnv_deleg_link_hash(f->tok, f->len, (uint32_t)kind, h), CNV_OK);
      assert_int_equal(cnv_deleg_revoke(r.v, h), CNV_OK);
    } else {
      assert_int_equal(cnv_deleg_trust_remove(r.v, f->r.pk), CNV_OK);
    }
    /* release: the workers that acquire 1 start their next call after the change returned. */
    atomic_store_explicit(&r.changed, 1, memory_order_release);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.late_ok), 0);
    assert_int_equal(atomic_load(&r.bad), 0);
    cnv_deleg_error err;
    assert_int_equal(cnv_deleg_prepared_authorize(r.v, r.p, 5000, &r.cap, CNV_EFFECT_READ_ONLY, NULL, &err),
                     kind < 3 ? CNV_EDELEG_REVOKED : CNV_EDELEG_UNTRUSTED_ROOT);
    assert_int_equal(err.link, kind < 3 ? kind : 0);
    cnv_deleg_prepared_destroy(r.p);
    cnv_deleg_verifier_destroy(r.v);
  }
}

/* N racing callers of one prepared token whose tightest limit is K: exactly K succeed. */
static void test_use_count_race(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(20);
  for (uint64_t round = 0; round < rounds; round++) {
    race r = {0};
    fspec s[3];
    std_specs(f, s, (uint8_t)(0x80 + 3 * round));
    uint32_t k = (uint32_t)(40 + round * 37 % 150);
    s[0].cav.max_uses = k + 10;
    s[1].cav.max_uses = k + 5;
    s[2].cav.max_uses = k;
    uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
    size_t len = forge(s, 3, tok);
    cnv_deleg_config cfg;
    cnv_deleg_config_default(&cfg);
    assert_int_equal(cnv_deleg_verifier_create(&cfg, &r.v), CNV_OK);
    assert_int_equal(cnv_deleg_trust_add(r.v, f->r.pk), CNV_OK);
    assert_int_equal(cnv_deleg_prepare(r.v, tok, len, f->c.pk, 7, &r.p), CNV_OK);
    r.cap = cap_of("user.read");
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, use_worker, &r), 0);
    atomic_store_explicit(&r.go, 1, memory_order_release);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.wins), k);
    assert_int_equal(atomic_load(&r.bad), 0);
    cnv_deleg_prepared_destroy(r.p);
    cnv_deleg_verifier_destroy(r.v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_revoke_race, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_use_count_race, fixture_setup_1024, fixture_teardown_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
