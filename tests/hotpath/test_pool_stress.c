/* Context pool under threads: a handle is never handed out twice while live (checked by a
 * per-slot live flag and by stamping each context with owner + sequence), with and without
 * per-thread caches and with the owner's fast release; handles handed from thread to thread
 * and released there with cnv_pool_release_owned (the context bytes must arrive intact and
 * TSan must see the hand-over ordered); racing releases of one handle: exactly one wins;
 * nothing is lost. */
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

enum { THREADS = 4,
       CAP = 256,
       HOLD = 24 };

typedef struct stamp {
  uint64_t owner; /* thread id + 1 */
  uint64_t seq;
} stamp;

typedef enum cache_mode { NO_CACHE,
                          CACHE,
                          MIXED } cache_mode;

typedef struct shared {
  cnv_pool *pool;
  cache_mode mode;
  uint64_t iters;
  _Atomic int live[CAP];      /* 1 while a thread holds the slot */
  _Atomic uint64_t errors;    /* invariant violations seen by workers */
  _Atomic uint64_t exhausted; /* acquire refusals (allowed, counted) */
  _Atomic uint64_t ready;     /* start gate: threads begin together */
} shared;

typedef struct worker {
  shared *sh;
  int id;
} worker;

static void check(shared *sh, int ok) {
  if (!ok) atomic_fetch_add(&sh->errors, 1);
}

/* Busy-waits (so racers start within nanoseconds of each other), yielding now and then
 * in case the machine has fewer free cores than threads. */
static void wait_for(_Atomic uint64_t *v, uint64_t want) {
  for (unsigned spins = 1; atomic_load(v) != want; spins++)
    if (spins % 4096 == 0) sched_yield();
}

static int take(shared *sh, cnv_pool_cache *c, uint64_t owner, uint64_t seq, cnv_handle *out) {
  cnv_status st = cnv_pool_acquire(sh->pool, c, out);
  if (st == CNV_EPOOL_EXHAUSTED) {
    atomic_fetch_add(&sh->exhausted, 1);
    return 0;
  }
  check(sh, st == CNV_OK);
  if (st != CNV_OK) return 0;
  uint32_t idx = (uint32_t)*out - 1;
  check(sh, atomic_exchange(&sh->live[idx], 1) == 0); /* nobody else holds it */
  void *v;
  check(sh, cnv_pool_get(sh->pool, *out, &v) == CNV_OK);
  stamp *s = v;
  s->owner = owner;
  s->seq = seq;
  return 1;
}

/* Releases h, through cnv_pool_release_owned when `owned` (needs a cache). */
static void give(shared *sh, cnv_pool_cache *c, int owned, uint64_t owner, uint64_t seq,
                 cnv_handle h) {
  void *v;
  check(sh, cnv_pool_get(sh->pool, h, &v) == CNV_OK);
  const stamp *s = v;
  check(sh, s->owner == owner && s->seq == seq); /* nobody overwrote our context */
  check(sh, atomic_exchange(&sh->live[(uint32_t)h - 1], 0) == 1);
  if (owned)
    check(sh, cnv_pool_release_owned(sh->pool, c, h) == CNV_OK);
  else
    check(sh, cnv_pool_release(sh->pool, c, h) == CNV_OK);
  check(sh, cnv_pool_release(sh->pool, c, h) == CNV_ESTALE_HANDLE);
}

static void *churn(void *arg) {
  worker *w = arg;
  shared *sh = w->sh;
  cnv_pool_cache cache;
  cnv_pool_cache_init(&cache);
  cnv_handle held[HOLD];
  uint64_t seqs[HOLD];
  int n = 0;
  uint64_t rng = 1000u + (uint64_t)w->id, owner = (uint64_t)w->id + 1;
  atomic_fetch_add(&sh->ready, 1);
  wait_for(&sh->ready, THREADS);
  for (uint64_t i = 0; i < sh->iters; i++) {
    uint64_t r = cnv_test_rand(&rng);
    int use_cache = sh->mode == CACHE || (sh->mode == MIXED && (r & 2));
    cnv_pool_cache *c = use_cache ? &cache : NULL;
    if (n < HOLD && (n == 0 || (r & 1))) {
      if (take(sh, c, owner, i, &held[n])) seqs[n++] = i;
    } else {
      int k = (int)((r >> 8) % (uint64_t)n);
      give(sh, c, use_cache && (r & 4), owner, seqs[k], held[k]);
      held[k] = held[--n];
      seqs[k] = seqs[n];
    }
  }
  while (n > 0) {
    n--;
    give(sh, &cache, n & 1, owner, seqs[n], held[n]);
  }
  cnv_pool_cache_flush(sh->pool, &cache);
  return NULL;
}

static void run_churn(cache_mode mode) {
  shared *sh = calloc(1, sizeof *sh);
  assert_non_null(sh);
  assert_int_equal(cnv_pool_create(CAP, sizeof(stamp), &sh->pool), CNV_OK);
  sh->mode = mode;
  sh->iters = cnv_test_iters(1000000);
  pthread_t t[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){sh, i};
    assert_int_equal(pthread_create(&t[i], NULL, churn, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  assert_int_equal(atomic_load(&sh->errors), 0);
  assert_int_equal(cnv_pool_in_use(sh->pool), 0);
  /* Nothing lost or duplicated: exactly CAP distinct slots come out, then exhaustion. */
  cnv_handle h;
  int seen[CAP] = {0};
  for (int i = 0; i < CAP; i++) {
    assert_int_equal(cnv_pool_acquire(sh->pool, NULL, &h), CNV_OK);
    assert_int_equal(seen[(uint32_t)h - 1]++, 0);
  }
  assert_int_equal(cnv_pool_acquire(sh->pool, NULL, &h), CNV_EPOOL_EXHAUSTED);
  cnv_pool_destroy(sh->pool);
  free(sh);
}

static void test_churn_no_cache(void **state) {
  (void)state;
  run_churn(NO_CACHE);
}
static void test_churn_cache(void **state) {
  (void)state;
  run_churn(CACHE);
}
static void test_churn_mixed(void **state) {
  (void)state;
  run_churn(MIXED);
}

/* ---- racing double releases ---------------------------------------------------------- */

/* Each round the main thread acquires BATCH handles, then it and RACERS - 1 helpers, all
 * spinning on one start flag, release the same handles, each in its own random order (a
 * cache-line trip between cores costs more than a release here, so equal orders would
 * never collide), half of them through a cache: every handle gets RACERS releases. */
enum { RACERS = 2,
       BATCH = 1024 };

typedef struct race {
  cnv_pool *pool;
  uint64_t rounds;
  cnv_handle batch[BATCH];
  _Atomic uint64_t go;   /* round number the racers may start */
  _Atomic uint64_t done; /* racers finished, all rounds together */
  _Atomic int wins[BATCH];
  _Atomic int stale[BATCH];
  _Atomic uint64_t odd; /* results other than OK / STALE */
} race;

static void release_batch(race *r, cnv_pool_cache *c, uint64_t seed) {
  int order[BATCH];
  for (int i = 0; i < BATCH; i++) order[i] = i;
  for (int i = BATCH - 1; i > 0; i--) {
    int j = (int)(cnv_test_rand(&seed) % (uint64_t)(i + 1)), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (int k = 0; k < BATCH; k++) {
    int i = order[k];
    cnv_status st = cnv_pool_release(r->pool, c, r->batch[i]);
    if (st == CNV_OK)
      atomic_fetch_add(&r->wins[i], 1);
    else if (st == CNV_ESTALE_HANDLE)
      atomic_fetch_add(&r->stale[i], 1);
    else
      atomic_fetch_add(&r->odd, 1);
  }
}

typedef struct racer {
  race *r;
  uint64_t id;
} racer;

static void *race_thread(void *arg) {
  race *r = ((racer *)arg)->r;
  uint64_t id = ((racer *)arg)->id;
  cnv_pool_cache cache;
  cnv_pool_cache_init(&cache);
  for (uint64_t round = 1; round <= r->rounds; round++) {
    wait_for(&r->go, round);
    release_batch(r, &cache, round * RACERS + id);
    cnv_pool_cache_flush(r->pool, &cache);
    atomic_fetch_add(&r->done, 1);
  }
  return NULL;
}

static void test_racing_releases_exactly_one_wins(void **state) {
  (void)state;
  race *r = calloc(1, sizeof *r);
  assert_non_null(r);
  assert_int_equal(cnv_pool_create(BATCH * 2, 64, &r->pool), CNV_OK);
  r->rounds = cnv_test_iters(300);
  pthread_t t[RACERS - 1];
  racer who[RACERS - 1];
  for (int i = 0; i < RACERS - 1; i++) {
    who[i] = (racer){r, (uint64_t)i + 1};
    assert_int_equal(pthread_create(&t[i], NULL, race_thread, &who[i]), 0);
  }
  for (uint64_t round = 1; round <= r->rounds; round++) {
    for (int i = 0; i < BATCH; i++) {
      assert_int_equal(cnv_pool_acquire(r->pool, NULL, &r->batch[i]), CNV_OK);
      atomic_store(&r->wins[i], 0);
      atomic_store(&r->stale[i], 0);
    }
    atomic_store(&r->go, round);
    release_batch(r, NULL, round * RACERS);
    wait_for(&r->done, round * (RACERS - 1));
    for (int i = 0; i < BATCH; i++) {
      assert_int_equal(atomic_load(&r->wins[i]), 1);
      assert_int_equal(atomic_load(&r->stale[i]), RACERS - 1);
    }
    assert_int_equal(atomic_load(&r->odd), 0);
    assert_int_equal(cnv_pool_in_use(r->pool), 0);
  }
  for (int i = 0; i < RACERS - 1; i++) pthread_join(t[i], NULL);
  /* Each slot went back exactly once: the pool still holds exactly its capacity. */
  cnv_handle h;
  for (int i = 0; i < BATCH * 2; i++) assert_int_equal(cnv_pool_acquire(r->pool, NULL, &h), CNV_OK);
  assert_int_equal(cnv_pool_acquire(r->pool, NULL, &h), CNV_EPOOL_EXHAUSTED);
  cnv_pool_destroy(r->pool);
  free(r);
}

/* ---- hand-over: acquired on one thread, released on another ---------------------------- */

/* PAIRS producer/consumer pairs. A producer acquires through its cache, checks that the
 * context holds zeros (first use) or the last consumer's scribble for that slot, fills it
 * with a pattern and publishes the handle in the next cell of its own write-once mailbox;
 * its consumer checks the pattern, scribbles over it and gives the slot back with
 * cnv_pool_release_owned into its own cache, whose overflow feeds the producers' refills.
 * Nothing but the pool carries information from consumers back to producers (a reusable
 * queue would: its slot recycling orders the consumer's pops before later pushes), so a
 * hand-over that did not order the consumer's writes before the next acquirer's reads shows
 * as a race in TSan (checked by mutation: with the list's CASes relaxed it is reported) or a
 * torn pattern here. */
enum { PAIRS = 2,
       CTX = 256 };

typedef struct handoff {
  cnv_pool *pool;
  uint64_t per_producer;
  _Atomic uint64_t *mailbox; /* PAIRS rows of per_producer cells; 0 = not yet written */
  _Atomic uint64_t errors;
  _Atomic uint64_t ready;
} handoff;

typedef struct handoff_worker {
  handoff *ho;
  uint64_t pair;
} handoff_worker;

/* The context is read and written in whole 8-byte words: TSan keeps four shadow cells per
 * word, and byte-wise loops would evict the other thread's cells before they are checked. */
enum { CTX_WORDS = CTX / 8 };

static void fill(void *ctx, uint64_t tag) {
  uint64_t *w = ctx;
  for (int i = 0; i < CTX_WORDS; i++) w[i] = tag * 0x9E3779B97F4A7C15u + (uint64_t)i;
}

static int filled_with(const void *ctx, uint64_t tag) {
  const uint64_t *w = ctx;
  for (int i = 0; i < CTX_WORDS; i++)
    if (w[i] != tag * 0x9E3779B97F4A7C15u + (uint64_t)i) return 0;
  return 1;
}

/* What a consumer leaves in slot `idx`: depends on the slot alone, so the next producer
 * to get the slot knows what to expect. */
static uint64_t scribble(uint32_t idx) { return 0xA5u ^ (uint64_t)idx * 7u; }

static int zeroed(const void *ctx) {
  const uint64_t *w = ctx;
  for (int i = 0; i < CTX_WORDS; i++)
    if (w[i] != 0) return 0;
  return 1;
}

/* A side's start: its pair's mailbox row, an empty cache, and the common start gate. */
static _Atomic uint64_t *handoff_start(const handoff_worker *w, cnv_pool_cache *cache) {
  cnv_pool_cache_init(cache);
  atomic_fetch_add(&w->ho->ready, 1);
  wait_for(&w->ho->ready, 2 * PAIRS);
  return w->ho->mailbox + w->pair * w->ho->per_producer;
}

static void *handoff_producer(void *arg) {
  handoff *ho = ((handoff_worker *)arg)->ho;
  uint64_t pair = ((handoff_worker *)arg)->pair;
  cnv_pool_cache cache;
  _Atomic uint64_t *row = handoff_start(arg, &cache);
  for (uint64_t i = 0; i < ho->per_producer; i++) {
    cnv_handle h;
    while (cnv_pool_acquire(ho->pool, &cache, &h) == CNV_EPOOL_EXHAUSTED) sched_yield();
    void *v;
    if (cnv_pool_get(ho->pool, h, &v) != CNV_OK ||
        !(zeroed(v) || filled_with(v, scribble((uint32_t)h - 1u))))
      atomic_fetch_add(&ho->errors, 1);
    else
      fill(v, h ^ pair);
    atomic_store_explicit(&row[i], h, memory_order_release);
  }
  cnv_pool_cache_flush(ho->pool, &cache);
  return NULL;
}

static void *handoff_consumer(void *arg) {
  handoff *ho = ((handoff_worker *)arg)->ho;
  uint64_t pair = ((handoff_worker *)arg)->pair;
  cnv_pool_cache cache;
  _Atomic uint64_t *row = handoff_start(arg, &cache);
  for (uint64_t i = 0; i < ho->per_producer; i++) {
    cnv_handle h;
    for (unsigned spins = 1; (h = atomic_load_explicit(&row[i], memory_order_acquire)) == 0; spins++)
      if (spins % 64 == 0) sched_yield();
    void *v;
    int ok = cnv_pool_get(ho->pool, h, &v) == CNV_OK && filled_with(v, h ^ pair);
    if (ok) fill(v, scribble((uint32_t)h - 1u));
    ok = ok && cnv_pool_release_owned(ho->pool, &cache, h) == CNV_OK &&
         cnv_pool_release_owned(ho->pool, &cache, h) == CNV_ESTALE_HANDLE;
    if (!ok) atomic_fetch_add(&ho->errors, 1);
  }
  cnv_pool_cache_flush(ho->pool, &cache);
  return NULL;
}

static void test_handoff_release_owned(void **state) {
  (void)state;
  handoff ho = {.per_producer = cnv_test_iters(200000)};
  ho.mailbox = calloc(PAIRS * ho.per_producer, sizeof ho.mailbox[0]);
  assert_non_null(ho.mailbox);
  assert_int_equal(cnv_pool_create(CAP, CTX, &ho.pool), CNV_OK);
  pthread_t t[2 * PAIRS];
  handoff_worker w[2 * PAIRS];
  for (int i = 0; i < 2 * PAIRS; i++) {
    w[i] = (handoff_worker){&ho, (uint64_t)(i % PAIRS)};
    assert_int_equal(
        pthread_create(&t[i], NULL, i < PAIRS ? handoff_producer : handoff_consumer, &w[i]), 0);
  }
  for (int i = 0; i < 2 * PAIRS; i++) pthread_join(t[i], NULL);
  assert_int_equal(atomic_load(&ho.errors), 0);
  assert_int_equal(cnv_pool_in_use(ho.pool), 0);
  cnv_handle h;
  for (int i = 0; i < CAP; i++) assert_int_equal(cnv_pool_acquire(ho.pool, NULL, &h), CNV_OK);
  assert_int_equal(cnv_pool_acquire(ho.pool, NULL, &h), CNV_EPOOL_EXHAUSTED);
  cnv_pool_destroy(ho.pool);
  free(ho.mailbox);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_churn_no_cache),
      cmocka_unit_test(test_churn_cache),
      cmocka_unit_test(test_churn_mixed),
      cmocka_unit_test(test_racing_releases_exactly_one_wins),
      cmocka_unit_test(test_handoff_release_owned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
