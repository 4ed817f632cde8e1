/* Flood (issue 13): one hostile principal H, delegated by the trusted root, mints and presents
 * N distinct valid tokens (to itself and to 64 keys of its own, so both the per-holder share
 * and the global byte bound are under pressure) and N distinct invalid ones (half expired,
 * half with a broken signature) while an honest agent keeps calling with its own token.
 * The honest agent's calls stay on the cached path (a cache hit each, cnv_deleg_cache_stats_get)
 * and the cache's bytes never pass the bound. N = 10^5 in release, a tenth under ASan, a
 * hundredth under TSan.
 * The threaded part runs the same flood against a concurrent honest caller (for TSan). */
#include <pthread.h>
#include <stdatomic.h>

#include "cnv_test_util.h"
#include "deleg_fixture.h"

#define SYBILS 64

/* TSan slows every atomic and liburcu's resize worker far more than ASan: a further tenth. */
#if defined(__SANITIZE_THREAD__)
#define FLOOD_ITERS(n) (cnv_test_iters(n) / 10)
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLOOD_ITERS(n) (cnv_test_iters(n) / 10)
#endif
#endif
#ifndef FLOOD_ITERS
#define FLOOD_ITERS(n) cnv_test_iters(n)
#endif
#define MAX_BYTES (1024u * 1024u)

typedef struct flood {
  fixture f;
  tkey h;             /* the hostile principal: the root delegated to it */
  tkey sybil[SYBILS]; /* keys H holds and presents as */
  uint8_t ht[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t hlen;
} flood;

static cnv_deleg_cache_stats stats(cnv_deleg_verifier *v) {
  cnv_deleg_cache_stats s;
  assert_int_equal(cnv_deleg_cache_stats_get(v, &s), CNV_OK);
  return s;
}

static void flood_setup(flood *fl) {
  fixture_setup(&fl->f, 4096);
  tkey_make(&fl->h, 0x71);
  for (uint32_t i = 0; i < SYBILS; i++) {
    uint8_t seed[crypto_sign_SEEDBYTES] = {0x5B};
    memcpy(seed + 1, &i, sizeof i);
    crypto_sign_seed_keypair(fl->sybil[i].pk, fl->sybil[i].sk, seed);
  }
  cnv_deleg_caveats c;
  std_caveats(0, &c);
  assert_int_equal(cnv_deleg_mint_root(fl->f.r.sk, fl->h.pk, &c, NULL, fl->ht, sizeof fl->ht, &fl->hlen), CNV_OK);
}

static cnv_deleg_verifier *flood_verifier(const flood *fl) {
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = 4096;
  cfg.cache_max_bytes = MAX_BYTES;
  cfg.cache_max_share = 12;
  cnv_deleg_verifier *v;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, fl->f.r.pk), CNV_OK);
  return v;
}

/* Hostile token i: H delegates to one of its keys (valid) or the same with an expired window
 * or a broken root signature (invalid). Returns the length; *holder gets the presenter. */
static size_t hostile_token(const flood *fl, uint64_t i, bool valid, uint8_t *out, const uint8_t **holder) {
  const tkey *to = &fl->sybil[i % SYBILS];
  cnv_deleg_caveats c;
  std_caveats(1, &c);
  if (!valid && i % 2 == 0) c.expiry = 4000; /* now is 5000 */
  uint8_t nonce[CNV_DELEG_NONCE_BYTES] = {0};
  memcpy(nonce, &i, sizeof i);
  nonce[15] = valid ? 1 : 2;
  size_t n;
  assert_int_equal(cnv_deleg_attenuate(fl->ht, fl->hlen, fl->h.sk, to->pk, &c, nonce, out, CNV_DELEG_MAX_TOKEN_BYTES, &n),
                   CNV_OK);
  if (!valid && i % 2 == 1) out[fl->hlen - 1] ^= 0x40; /* the root link's signature */
  *holder = to->pk;
  return n;
}

static int setup(void **state) {
  flood *fl = calloc(1, sizeof *fl);
  flood_setup(fl);
  *state = fl;
  return 0;
}

static int teardown(void **state) {
  flood *fl = *state;
  fixture_teardown(&fl->f);
  free(fl);
  return 0;
}

static void test_flood_single_thread(void **state) {
  flood *fl = *state;
  cnv_deleg_verifier *v = flood_verifier(fl);
  uint64_t n = FLOOD_ITERS(100000);
  cnv_deleg_request honest = std_request(NULL);
  expect_verify(v, fl->f.tok, fl->f.len, &honest, CNV_OK, -1); /* cached from here on */
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  uint64_t valid_ok = 0, invalid_rejected = 0;
  for (uint64_t i = 0; i < 2 * n; i++) {
    bool valid = i % 2 == 0;
    const uint8_t *holder;
    size_t len = hostile_token(fl, i / 2, valid, t, &holder);
    cnv_deleg_request req = std_request(NULL);
    req.holder = holder;
    cnv_status st = cnv_deleg_verify(v, t, len, &req, NULL, NULL);
    if (valid) {
      assert_int_equal(st, CNV_OK);
      valid_ok++;
    } else {
      assert_true(st == CNV_EDELEG_EXPIRED || st == CNV_EDELEG_BAD_SIGNATURE);
      invalid_rejected++;
    }
    cnv_deleg_cache_stats before = stats(v);
    assert_true(before.bytes <= MAX_BYTES);
    assert_int_equal(cnv_deleg_verify(v, fl->f.tok, fl->f.len, &honest, NULL, NULL), CNV_OK);
    cnv_deleg_cache_stats after = stats(v);
    assert_int_equal(after.hits, before.hits + 1); /* the honest call was a cache hit */
    assert_int_equal(after.misses, before.misses);
  }
  cnv_deleg_cache_stats s = stats(v);
  assert_int_equal(valid_ok, n);
  assert_int_equal(invalid_rejected, n);
  assert_true(s.bytes <= MAX_BYTES);
  assert_true(s.evictions > 0); /* the sybils together overflowed the cache */
  print_message("flood: %llu valid + %llu invalid; %llu entries, %llu bytes of %u, %llu evictions\n",
                (unsigned long long)valid_ok, (unsigned long long)invalid_rejected, (unsigned long long)s.entries,
                (unsigned long long)s.bytes, MAX_BYTES, (unsigned long long)s.evictions);
  cnv_deleg_verifier_destroy(v);
}

typedef struct shared {
  flood *fl;
  cnv_deleg_verifier *v;
  atomic_int stop;
  atomic_long honest_bad; /* honest calls that did not pass */
  atomic_long over_bound; /* samples of the bytes above the bound */
  atomic_long honest_calls;
} shared;

static void *honest_worker(void *arg) {
  shared *sh = arg;
  cnv_deleg_request req = std_request(NULL);
  long calls = 0;
  /* at least some calls even if the flood is over first */
  while (!atomic_load_explicit(&sh->stop, memory_order_acquire) || calls < 100) {
    if (cnv_deleg_verify(sh->v, sh->fl->f.tok, sh->fl->f.len, &req, NULL, NULL) != CNV_OK) {
      atomic_fetch_add_explicit(&sh->honest_bad, 1, memory_order_relaxed);
    }
    cnv_deleg_cache_stats s;
    if (cnv_deleg_cache_stats_get(sh->v, &s) != CNV_OK || s.bytes > MAX_BYTES) {
      atomic_fetch_add_explicit(&sh->over_bound, 1, memory_order_relaxed);
    }
    calls++;
  }
  atomic_store_explicit(&sh->honest_calls, calls, memory_order_relaxed);
  return NULL;
}

static void test_flood_concurrent(void **state) {
  flood *fl = *state;
  shared sh = {.fl = fl, .v = flood_verifier(fl)};
  uint64_t n = FLOOD_ITERS(20000);
  uint8_t(*tok)[CNV_DELEG_MAX_TOKEN_BYTES] = calloc(n, CNV_DELEG_MAX_TOKEN_BYTES);
  size_t *len = calloc(n, sizeof *len);
  const uint8_t **holder = calloc(n, sizeof *holder);
  assert_non_null(tok);
  assert_non_null(len);
  assert_non_null(holder);
  for (uint64_t i = 0; i < n; i++) len[i] = hostile_token(fl, i / 2, i % 2 == 0, tok[i], &holder[i]);
  cnv_deleg_request req = std_request(NULL);
  expect_verify(sh.v, fl->f.tok, fl->f.len, &req, CNV_OK, -1);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, honest_worker, &sh), 0);
  long bad = 0;
  for (uint64_t i = 0; i < n; i++) {
    req.holder = holder[i];
    cnv_status st = cnv_deleg_verify(sh.v, tok[i], len[i], &req, NULL, NULL);
    bool want_ok = i % 2 == 0;
    if (want_ok ? st != CNV_OK : (st != CNV_EDELEG_EXPIRED && st != CNV_EDELEG_BAD_SIGNATURE)) bad++;
    if (i % 64 == 0) (void)cnv_deleg_cache_purge(sh.v, 5000);
  }
  atomic_store_explicit(&sh.stop, 1, memory_order_release);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(bad, 0);
  assert_int_equal(atomic_load(&sh.honest_bad), 0);
  assert_int_equal(atomic_load(&sh.over_bound), 0);
  assert_true(atomic_load(&sh.honest_calls) >= 100);
  cnv_deleg_cache_stats s = stats(sh.v);
  assert_true(s.bytes <= MAX_BYTES);
  /* the honest chain is (still, or again) cached after the flood */
  req.holder = fl->f.c.pk;
  expect_verify(sh.v, fl->f.tok, fl->f.len, &req, CNV_OK, -1);
  s = stats(sh.v);
  expect_verify(sh.v, fl->f.tok, fl->f.len, &req, CNV_OK, -1);
  assert_int_equal(stats(sh.v).hits, s.hits + 1);
  cnv_deleg_verifier_destroy(sh.v);
  free(tok);
  free(len);
  free(holder);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_flood_single_thread, setup, teardown),
      cmocka_unit_test_setup_teardown(test_flood_concurrent, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
