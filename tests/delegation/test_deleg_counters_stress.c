/* Threaded: use counters created and reclaimed while racing. Sibling tokens under one
 * use-limited parent are authorized from several threads while another thread purges and
 * revokes unrelated links (sweeps): the parent's limit holds exactly, no use is lost, and
 * every failed call left no counter behind. And a revocation racing with them and with
 * purges: effective for every later call, and every counter below it reclaimed. And expiry
 * racing with reclaim: a single-use link never passes twice, even when a call that passed its
 * creation checks inserts its counter after a purge reclaimed the spent one. */
#include <pthread.h>
#include <stdatomic.h>

#include "cnv_test_util.h"
#include "deleg_fixture.h"

#define THREADS 4
#define PER_THREAD 48
#define PARENT_USES 100

typedef struct shared {
  cnv_deleg_verifier *v;
  const uint8_t *holder;
  atomic_int go;
  atomic_int stop;
  atomic_long wins;
  atomic_long bad;     /* unexpected statuses (asserted in the main thread) */
  atomic_int revoked;  /* 1 once the parent's revocation returned */
  atomic_long late_ok; /* calls that started after it and still passed */
  uint8_t parent_hash[CNV_DELEG_HASH_BYTES];
} shared;

typedef struct worker {
  shared *s;
  uint8_t (*tok)[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t *len;
} worker;

static void *authorize_worker(void *arg) {
  worker *w = arg;
  cnv_deleg_request req = std_request(NULL);
  req.holder = w->s->holder;
  while (!atomic_load_explicit(&w->s->go, memory_order_acquire)) {
  }
  long wins = 0;
  for (int i = 0; i < PER_THREAD; i++) {
    int after = atomic_load_explicit(&w->s->revoked, memory_order_acquire);
    cnv_status st = cnv_deleg_authorize(w->s->v, w->tok[i], w->len[i], &req, NULL, NULL);
    if (st == CNV_OK) {
      wins++;
      if (after) atomic_fetch_add_explicit(&w->s->late_ok, 1, memory_order_relaxed);
    } else if (st != CNV_EDELEG_USES_EXHAUSTED && st != CNV_EDELEG_REVOKED) {
      atomic_fetch_add_explicit(&w->s->bad, 1, memory_order_relaxed);
    }
  }
  atomic_fetch_add_explicit(&w->s->wins, wins, memory_order_relaxed);
  return NULL;
}

static void *purge_worker(void *arg) {
  shared *s = arg;
  while (!atomic_load_explicit(&s->go, memory_order_acquire)) {
  }
  uint8_t h[CNV_DELEG_HASH_BYTES];
  for (unsigned i = 0; !atomic_load_explicit(&s->stop, memory_order_acquire); i++) {
    if (cnv_deleg_counters_purge(s->v, 5000) != 0) atomic_fetch_add_explicit(&s->bad, 1, memory_order_relaxed);
    if (i % 16) continue;
    memset(h, 0, sizeof h);
    memcpy(h, &i, sizeof i); /* an unrelated link: moves the epoch, kills nothing */
    if (cnv_deleg_revoke(s->v, h) != CNV_OK) atomic_fetch_add_explicit(&s->bad, 1, memory_order_relaxed);
  }
  return NULL;
}

/* Revokes the shared parent link midway, purging before and after. */
static void *revoke_worker(void *arg) {
  shared *s = arg;
  while (!atomic_load_explicit(&s->go, memory_order_acquire)) {
  }
  for (int i = 0; i < 50; i++) (void)cnv_deleg_counters_purge(s->v, 5000);
  if (cnv_deleg_revoke(s->v, s->parent_hash) != CNV_OK) atomic_fetch_add_explicit(&s->bad, 1, memory_order_relaxed);
  atomic_store_explicit(&s->revoked, 1, memory_order_release);
  while (!atomic_load_explicit(&s->stop, memory_order_acquire)) (void)cnv_deleg_counters_purge(s->v, 5000);
  return NULL;
}

/* C's token (its link with `uses` uses) attenuated for U, single-use, nonce bytes (a, b). */
static size_t child(fixture *f, const uint8_t *parent, size_t plen, uint8_t a, uint8_t b, uint8_t *out) {
  cnv_deleg_caveats cav;
  std_caveats(2, &cav);
  cav.depth = 0;
  cav.max_uses = 1;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  memset(nonce, a, sizeof nonce);
  nonce[1] = b;
  size_t n;
  assert_int_equal(cnv_deleg_attenuate(parent, plen, f->c.sk, f->u.pk, &cav, nonce, out, CNV_DELEG_MAX_TOKEN_BYTES, &n),
                   CNV_OK);
  return n;
}

static void test_siblings_race_with_sweeps(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(4);
  static uint8_t tok[THREADS][PER_THREAD][CNV_DELEG_MAX_TOKEN_BYTES];
  static size_t len[THREADS][PER_THREAD];
  for (uint64_t round = 0; round < rounds; round++) {
    cnv_deleg_config cfg;
    cnv_deleg_config_default(&cfg);
    cfg.max_counters = 1024;
    cnv_deleg_verifier *v;
    assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
    assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
    fspec s[3];
    std_specs(f, s, (uint8_t)(0x20 + 3 * round));
    s[2].cav.max_uses = PARENT_USES;
    uint8_t parent[CNV_DELEG_MAX_TOKEN_BYTES];
    size_t plen = forge(s, 3, parent);
    for (int t = 0; t < THREADS; t++) {
      for (int i = 0; i < PER_THREAD; i++) len[t][i] = child(f, parent, plen, (uint8_t)(0x40 + t), (uint8_t)i, tok[t][i]);
    }
    shared sh = {.v = v, .holder = f->u.pk};
    worker w[THREADS];
    pthread_t th[THREADS + 1];
    for (int t = 0; t < THREADS; t++) {
      w[t] = (worker){.s = &sh, .tok = tok[t], .len = len[t]};
      assert_int_equal(pthread_create(&th[t], NULL, authorize_worker, &w[t]), 0);
    }
    assert_int_equal(pthread_create(&th[THREADS], NULL, purge_worker, &sh), 0);
    atomic_store_explicit(&sh.go, 1, memory_order_release);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    atomic_store_explicit(&sh.stop, 1, memory_order_release);
    pthread_join(th[THREADS], NULL);
    assert_int_equal(atomic_load(&sh.bad), 0);
    long racing = atomic_load(&sh.wins);
    assert_true(racing <= PARENT_USES);
    /* one counter for the parent, one per successful child; failed children left none */
    assert_int_equal(cnv_deleg_counter_count(v), (size_t)(1 + racing));
    /* uses given back by failed calls are there: fresh children succeed up to the limit */
    cnv_deleg_request req = std_request(NULL);
    req.holder = f->u.pk;
    long more = 0;
    for (int i = 0; i <= PARENT_USES; i++) {
      uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
      size_t n = child(f, parent, plen, 0x7f, (uint8_t)i, t);
      cnv_status st = cnv_deleg_authorize(v, t, n, &req, NULL, NULL);
      if (st != CNV_OK) {
        assert_int_equal(st, CNV_EDELEG_USES_EXHAUSTED);
        break;
      }
      more++;
    }
    assert_int_equal(racing + more, PARENT_USES);
    assert_int_equal(cnv_deleg_counter_count(v), (size_t)(1 + PARENT_USES));
    cnv_deleg_verifier_destroy(v);
  }
}

/* The parent is revoked while its children are being authorized and counters purged: no call
 * that started after the revocation passes, and once the calls are over one purge reclaims
 * every counter below the revoked link, including any an in-flight call created late. */
static void test_revoke_races_with_reclaim(void **state) {
  fixture *f = *state;
  uint64_t rounds = cnv_test_iters(4);
  static uint8_t tok[THREADS][PER_THREAD][CNV_DELEG_MAX_TOKEN_BYTES];
  static size_t len[THREADS][PER_THREAD];
  for (uint64_t round = 0; round < rounds; round++) {
    cnv_deleg_verifier *v;
    assert_int_equal(cnv_deleg_verifier_create(NULL, &v), CNV_OK);
    assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
    fspec s[3];
    std_specs(f, s, (uint8_t)(0x90 + 3 * round));
    s[2].cav.max_uses = 4 * PER_THREAD;
    uint8_t parent[CNV_DELEG_MAX_TOKEN_BYTES];
    size_t plen = forge(s, 3, parent);
    for (int t = 0; t < THREADS; t++) {
      for (int i = 0; i < PER_THREAD; i++) len[t][i] = child(f, parent, plen, (uint8_t)(0x50 + t), (uint8_t)i, tok[t][i]);
    }
    shared sh = {.v = v, .holder = f->u.pk};
    assert_int_equal(cnv_deleg_link_hash(parent, plen, 2, sh.parent_hash), CNV_OK);
    worker w[THREADS];
    pthread_t th[THREADS + 1];
    for (int t = 0; t < THREADS; t++) {
      w[t] = (worker){.s = &sh, .tok = tok[t], .len = len[t]};
      assert_int_equal(pthread_create(&th[t], NULL, authorize_worker, &w[t]), 0);
    }
    assert_int_equal(pthread_create(&th[THREADS], NULL, revoke_worker, &sh), 0);
    atomic_store_explicit(&sh.go, 1, memory_order_release);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    atomic_store_explicit(&sh.stop, 1, memory_order_release);
    pthread_join(th[THREADS], NULL);
    assert_int_equal(atomic_load(&sh.bad), 0);
    assert_int_equal(atomic_load(&sh.late_ok), 0);
    (void)cnv_deleg_counters_purge(v, 5000);
    assert_int_equal(cnv_deleg_counter_count(v), 0);
    cnv_deleg_verifier_destroy(v);
  }
}

/* Expiry racing with reclaim. Token i (single use) expires at 5000 + i; every worker presents
 * tokens 0, 1, 2, ... in turn at its own time 5000 + i while a purger reclaims, right behind
 * the workers, the counters of the tokens they have passed. A call stalled between its
 * creation checks and its insert would make a fresh counter for a link whose spent counter
 * was just reclaimed, and pass a second time; the check after the takes refuses it. */
#define EXPIRY_TOKENS 512

typedef struct race {
  cnv_deleg_verifier *v;
  const uint8_t *holder;
  uint8_t (*tok)[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t *len;
  atomic_int go;
  atomic_int done;
  atomic_int progress; /* highest token index a worker has finished */
  atomic_int wins[EXPIRY_TOKENS];
  atomic_long bad;
} race;

static void *expiry_worker(void *arg) {
  race *r = arg;
  cnv_deleg_request req = std_request(NULL);
  req.holder = r->holder;
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  for (int i = 0; i < EXPIRY_TOKENS; i++) {
    req.now = 5000 + (uint64_t)i;
    cnv_status st = cnv_deleg_authorize(r->v, r->tok[i], r->len[i], &req, NULL, NULL);
    if (st == CNV_OK)
      atomic_fetch_add_explicit(&r->wins[i], 1, memory_order_relaxed);
    else if (st != CNV_EDELEG_USES_EXHAUSTED && st != CNV_EDELEG_EXPIRED)
      atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
    int seen = atomic_load_explicit(&r->progress, memory_order_relaxed);
    while (seen < i && !atomic_compare_exchange_weak(&r->progress, &seen, i)) {
    }
  }
  return NULL;
}

static void *expiry_purger(void *arg) {
  race *r = arg;
  while (!atomic_load_explicit(&r->go, memory_order_acquire)) {
  }
  while (!atomic_load_explicit(&r->done, memory_order_acquire)) {
    int p = atomic_load_explicit(&r->progress, memory_order_relaxed);
    /* expired as of this clock: tokens 0..p (expiry 5000 + j, skew 30) */
    (void)cnv_deleg_counters_purge(r->v, 5000 + (uint64_t)p + 31);
  }
  return NULL;
}

static void test_expiry_races_with_reclaim(void **state) {
  fixture *f = *state;
  static uint8_t tok[EXPIRY_TOKENS][CNV_DELEG_MAX_TOKEN_BYTES];
  static size_t len[EXPIRY_TOKENS];
  for (int i = 0; i < EXPIRY_TOKENS; i++) {
    cnv_deleg_caveats cav;
    std_caveats(2, &cav);
    cav.depth = 0;
    cav.max_uses = 1;
    cav.expiry = 5000 + (uint64_t)i;
    uint8_t nonce[CNV_DELEG_NONCE_BYTES];
    memset(nonce, 0x71, sizeof nonce);
    memcpy(nonce + 1, &i, sizeof i);
    assert_int_equal(cnv_deleg_attenuate(f->tok, f->len, f->c.sk, f->u.pk, &cav, nonce, tok[i],
                                         CNV_DELEG_MAX_TOKEN_BYTES, &len[i]),
                     CNV_OK);
  }
  uint64_t rounds = cnv_test_iters(20);
  for (uint64_t round = 0; round < rounds; round++) {
    static race r;
    memset(&r, 0, sizeof r);
    assert_int_equal(cnv_deleg_verifier_create(NULL, &r.v), CNV_OK);
    assert_int_equal(cnv_deleg_trust_add(r.v, f->r.pk), CNV_OK);
    r.holder = f->u.pk;
    r.tok = tok;
    r.len = len;
    atomic_init(&r.progress, -1);
    pthread_t th[THREADS + 1];
    for (int t = 0; t < THREADS; t++) assert_int_equal(pthread_create(&th[t], NULL, expiry_worker, &r), 0);
    assert_int_equal(pthread_create(&th[THREADS], NULL, expiry_purger, &r), 0);
    atomic_store_explicit(&r.go, 1, memory_order_release);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    atomic_store_explicit(&r.done, 1, memory_order_release);
    pthread_join(th[THREADS], NULL);
    assert_int_equal(atomic_load(&r.bad), 0);
    for (int i = 0; i < EXPIRY_TOKENS; i++) {
      if (atomic_load(&r.wins[i]) > 1) fail_msg("single-use token %d passed %d times", i, atomic_load(&r.wins[i]));
    }
    cnv_deleg_verifier_destroy(r.v);
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
      cmocka_unit_test_setup_teardown(test_siblings_race_with_sweeps, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_revoke_races_with_reclaim, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_expiry_races_with_reclaim, setup, fixture_teardown_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
