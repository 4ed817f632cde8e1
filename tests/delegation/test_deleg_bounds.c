/* Issue 13, items 2 and 3, from the outside (public API only, cnv_deleg_cache_stats_get as the
 * observable): cheap checks come before signatures, rejections are remembered exactly, the
 * verified-chain cache stays within its bytes and per-holder share and keeps hot chains. */
#include "deleg_fixture.h"

static cnv_deleg_cache_stats stats(cnv_deleg_verifier *v) {
  cnv_deleg_cache_stats s;
  assert_int_equal(cnv_deleg_cache_stats_get(v, &s), CNV_OK);
  return s;
}

/* A token whose signatures are all broken but which also fails a cheap check reports the
 * cheap check: no signature was needed to reject it. */
static void test_cheap_checks_first(void **state) {
  fixture *f = *state;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  memcpy(buf, f->tok, f->len);
  assert_int_equal(cnv__deleg_parse(buf, f->len, &tok, spans, NULL), CNV_OK);
  for (int i = 0; i < 3; i++) buf[spans[i].off + spans[i].body_len] ^= 0x55; /* every signature */
  cnv_deleg_request req = std_request(NULL);
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_BAD_SIGNATURE, 0);
  req.now = 98500; /* past the leaf's expiry (98000 + skew) only */
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  req.now = 5000;
  req.swarm = 9;
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_WRONG_SWARM, 0);
  req.swarm = 7;
  req.holder = f->b.pk; /* someone else's token */
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_WRONG_HOLDER, 2);
  req.holder = f->c.pk;
  uint8_t h[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(buf, f->len, 1, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK);
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_REVOKED, 1);
}

/* The same rejected bytes again: answered by the negative cache, with the same status and
 * link, and re-decided whenever the request or the policy could change the answer. */
static void test_negative_replay(void **state) {
  fixture *f = *state;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  memcpy(buf, f->tok, f->len);
  buf[f->len - 1] ^= 1; /* the leaf's signature */
  cnv_deleg_request req = std_request(NULL);
  cnv_deleg_cache_stats s0 = stats(f->v);
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_BAD_SIGNATURE, 2);
  cnv_deleg_cache_stats s1 = stats(f->v);
  assert_int_equal(s1.misses, s0.misses + 1);
  for (int i = 0; i < 5; i++) expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_BAD_SIGNATURE, 2);
  cnv_deleg_cache_stats s2 = stats(f->v);
  assert_int_equal(s2.misses, s1.misses);
  assert_int_equal(s2.negative_hits, s1.negative_hits + 5);
  /* another request: the cheap checks run first, as in a full verification */
  req.holder = f->b.pk;
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_WRONG_HOLDER, 2);
  req.holder = f->c.pk;
  req.now = 98500;
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  req.now = 5000;
  assert_int_equal(stats(f->v).misses, s1.misses);
  /* authorize takes the same path and consumes nothing */
  assert_int_equal(cnv_deleg_authorize(f->v, buf, f->len, &req, NULL, NULL), CNV_EDELEG_BAD_SIGNATURE);
  /* encoding errors too */
  expect_verify(f->v, buf, f->len - 1, &req, CNV_ETOKEN_TRUNCATED, 2);
  s2 = stats(f->v);
  expect_verify(f->v, buf, f->len - 1, &req, CNV_ETOKEN_TRUNCATED, 2);
  assert_int_equal(stats(f->v).negative_hits, s2.negative_hits + 1);
  assert_int_equal(cnv_deleg_cache_size(f->v), 0); /* rejections never enter the chain cache */
}

/* A rejection that depends on time or policy never outlives its cause. */
static void test_negative_state_dependent(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  /* expired, then presented at a time it is valid: verified in full, accepted, cached */
  req.now = 98500;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  assert_int_equal(stats(f->v).negative_hits, 1);
  req.now = 5000;
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_cache_size(f->v), 1);
  /* untrusted root, then trusted: the trust change retires the record */
  tkey r2;
  tkey_make(&r2, 9);
  cnv_deleg_caveats cav;
  std_caveats(0, &cav);
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  assert_int_equal(cnv_deleg_mint_root(r2.sk, f->a.pk, &cav, NULL, t, sizeof t, &n), CNV_OK);
  req.holder = f->a.pk;
  expect_verify(f->v, t, n, &req, CNV_EDELEG_UNTRUSTED_ROOT, 0);
  cnv_deleg_cache_stats s = stats(f->v);
  expect_verify(f->v, t, n, &req, CNV_EDELEG_UNTRUSTED_ROOT, 0);
  assert_int_equal(stats(f->v).negative_hits, s.negative_hits + 1);
  assert_int_equal(cnv_deleg_trust_add(f->v, r2.pk), CNV_OK);
  expect_verify(f->v, t, n, &req, CNV_OK, -1);
  /* a token first presented by someone else is accepted when its holder presents it */
  req.holder = f->b.pk;
  expect_verify(f->v, f->tok2, f->len2, &req, CNV_OK, -1);
  req.holder = f->c.pk;
  expect_verify(f->v, f->tok1, f->len1, &req, CNV_EDELEG_WRONG_HOLDER, 0);
  req.holder = f->a.pk;
  expect_verify(f->v, f->tok1, f->len1, &req, CNV_OK, -1);
}

/* Negative records cannot push out or hide a cached chain. */
static void test_negative_never_shadows(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  memcpy(buf, f->tok, f->len);
  for (unsigned i = 0; i < 3 * 4096; i++) {                         /* three times the default negative table */
    buf[CNV_DELEG_HEADER_BYTES + 100] = (uint8_t)i;                 /* link 0's nonce: a new token each time */
    buf[CNV_DELEG_HEADER_BYTES + 101] = (uint8_t)((i >> 8) ^ 0x80); /* never the original 0x10 */
    cnv_status st = cnv_deleg_verify(f->v, buf, f->len, &req, NULL, NULL);
    assert_true(st == CNV_EDELEG_BAD_SIGNATURE || st == CNV_EDELEG_PARENT_HASH);
  }
  cnv_deleg_cache_stats s = stats(f->v);
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(stats(f->v).hits, s.hits + 1);
  assert_int_equal(cnv_deleg_cache_size(f->v), 1);
}

/* Distinct holders (seeded keys) for cache-filling tests. */
static void holder_key(tkey *k, uint32_t i) {
  uint8_t seed[crypto_sign_SEEDBYTES] = {0xA5};
  memcpy(seed + 1, &i, sizeof i);
  crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

/* C attenuates its token to holder h (nonce i): a valid 4-link token of h. */
static size_t child_of(const fixture *f, const tkey *h, uint32_t i, uint8_t *out) {
  cnv_deleg_caveats c;
  std_caveats(2, &c);
  c.depth = 0;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES] = {0};
  memcpy(nonce, &i, sizeof i);
  size_t n;
  assert_int_equal(cnv_deleg_attenuate(f->tok, f->len, f->c.sk, h->pk, &c, nonce, out, CNV_DELEG_MAX_TOKEN_BYTES, &n),
                   CNV_OK);
  return n;
}

static cnv_deleg_verifier *small_verifier(const fixture *f, uint64_t max_bytes, uint32_t share) {
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_max_bytes = max_bytes;
  cfg.cache_max_share = share;
  cfg.cache_capacity = 1024;
  cnv_deleg_verifier *v;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
  return v;
}

/* One holder cannot take more than its share; another holder still gets cached after it. */
static void test_share(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = small_verifier(f, 256 * 1024, 10);
  cnv_deleg_cache_stats s = stats(v);
  assert_int_equal(s.max_bytes, 256 * 1024);
  assert_true(s.share_bytes >= 25 * 1024 && s.share_bytes <= 26 * 1024);
  tkey h;
  holder_key(&h, 1);
  cnv_deleg_request req = std_request(NULL);
  req.holder = h.pk;
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  for (uint32_t i = 0; i < 200; i++) {
    size_t n = child_of(f, &h, i, t);
    expect_verify(v, t, n, &req, CNV_OK, -1);
    s = stats(v);
    assert_true(s.bytes <= s.share_bytes);
  }
  assert_true(s.entries > 0);
  assert_int_equal(s.evictions, 0); /* over its share a holder is not cached: nothing evicted */
  /* the last one was not cached: verified in full again */
  size_t n = child_of(f, &h, 199, t);
  expect_verify(v, t, n, &req, CNV_OK, -1);
  assert_int_equal(stats(v).misses, s.misses + 1);
  /* C's own token is still cached on first sight and hit afterwards */
  req.holder = f->c.pk;
  expect_verify(v, f->tok, f->len, &req, CNV_OK, -1);
  s = stats(v);
  expect_verify(v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(stats(v).hits, s.hits + 1);
  cnv_deleg_verifier_destroy(v);
  /* out-of-range shares */
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_max_share = 0;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_ERANGE);
  cfg.cache_max_share = 101;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_ERANGE);
  cfg.cache_max_bytes = 0; /* cache off: the share does not matter */
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  req.holder = f->c.pk;
  assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
  expect_verify(v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_cache_size(v), 0);
  cnv_deleg_verifier_destroy(v);
}

/* Many holders fill the cache: the bytes stay under the bound, CLOCK evicts, and a chain used
 * between insertions is never evicted. */
static void test_bytes_bound_and_clock(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = small_verifier(f, 128 * 1024, 100);
  cnv_deleg_request hot = std_request(NULL);
  expect_verify(v, f->tok, f->len, &hot, CNV_OK, -1);
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  for (uint32_t i = 0; i < 400; i++) {
    tkey h;
    holder_key(&h, i);
    cnv_deleg_request req = std_request(NULL);
    req.holder = h.pk;
    size_t n = child_of(f, &h, i, t);
    expect_verify(v, t, n, &req, CNV_OK, -1);
    cnv_deleg_cache_stats s = stats(v);
    assert_true(s.bytes <= s.max_bytes);
    expect_verify(v, f->tok, f->len, &hot, CNV_OK, -1);
    assert_int_equal(stats(v).hits, s.hits + 1); /* the hot chain stayed cached */
  }
  cnv_deleg_cache_stats s = stats(v);
  assert_true(s.evictions > 0);
  assert_true(s.entries >= 2);
  assert_true(s.bytes > s.max_bytes / 2); /* the room is used, not thrown away */
  cnv_deleg_verifier_destroy(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cheap_checks_first, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_negative_replay, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_negative_state_dependent, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_negative_never_shadows, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_share, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_bytes_bound_and_clock, fixture_setup_1024, fixture_teardown_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
