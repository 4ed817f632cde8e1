/* Verified-chain cache and use counters, single-threaded: the cached path returns exactly
 * what the cold path returns, and revocation, trust removal and expiry invalidate it. */
#include "deleg_fixture.h"

static void test_cached_equals_cold(void **state) {
  fixture *f = *state;
  cnv_deleg_cap cap = cap_of("user.create");
  cnv_deleg_request req = std_request(&cap);
  cnv_deleg_caveats cold, warm;
  assert_int_equal(cnv_deleg_cache_size(f->v), 0);
  assert_int_equal(cnv_deleg_verify(f->v, f->tok, f->len, &req, &cold, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_cache_size(f->v), 1);
  assert_int_equal(cnv_deleg_verify(f->v, f->tok, f->len, &req, &warm, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_cache_size(f->v), 1);
  assert_memory_equal(&cold, &warm, sizeof cold);
  /* request-specific failures come from the cached chain with the same code and link */
  cap = cap_of("user.delete");
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_FORBIDDEN, 2);
  cap = cap_of("user.read");
  req.swarm = 9;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_WRONG_SWARM, 0);
  req.swarm = 7;
  req.holder = f->b.pk;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_WRONG_HOLDER, 2);
  req.holder = f->c.pk;
  req.now = 500;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_NOT_YET_VALID, 0);
  req.now = 5000;
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_cache_size(f->v), 1);
  /* a token that differs in one byte is not the cached one */
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  memcpy(buf, f->tok, f->len);
  buf[f->len - 1] ^= 1;
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_BAD_SIGNATURE, 2);
  assert_int_equal(cnv_deleg_cache_size(f->v), 1);
}

static void test_revocation_invalidates(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  fixture g = *f;
  std_chain(&g, 0x40);
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  expect_verify(f->v, g.tok, g.len, &req, CNV_OK, -1);
  uint8_t h[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(f->tok, f->len, 1, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_REVOKED, 1);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_REVOKED, 1);
  expect_verify(f->v, g.tok, g.len, &req, CNV_OK, -1); /* unrelated: still valid */
  req.holder = f->a.pk;
  expect_verify(f->v, f->tok1, f->len1, &req, CNV_OK, -1); /* the parent of the revoked link */
  req.holder = f->c.pk;
  assert_int_equal(cnv_deleg_cache_size(f->v), 3);
  assert_int_equal(cnv_deleg_cache_purge(f->v, 5000), 1);
  assert_int_equal(cnv_deleg_cache_size(f->v), 2);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_REVOKED, 1);
  assert_int_equal(cnv_deleg_cache_size(f->v), 2); /* revoked chains are not cached again */
}

static void test_trust_removal_invalidates(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_trust_remove(f->v, f->r.pk), CNV_OK);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_UNTRUSTED_ROOT, 0);
  assert_int_equal(cnv_deleg_trust_add(f->v, f->r.pk), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(f->v, f->r.pk), CNV_OK);
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
}

static void test_expiry_drops(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_cache_purge(f->v, 5000), 0);
  req.now = 98031;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  assert_int_equal(cnv_deleg_cache_size(f->v), 0);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  assert_int_equal(cnv_deleg_cache_size(f->v), 0);
  req.now = 5000;
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_cache_purge(f->v, 98030), 0);
  assert_int_equal(cnv_deleg_cache_purge(f->v, 98031), 1);
}

static void test_capacity(void **state) {
  fixture *f = *state;
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = 1;
  cnv_deleg_verifier *v;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
  cnv_deleg_request req = std_request(NULL);
  for (int round = 0; round < 2; round++) {
    expect_verify(v, f->tok, f->len, &req, CNV_OK, -1);
    req.holder = f->b.pk;
    expect_verify(v, f->tok2, f->len2, &req, CNV_OK, -1);
    req.holder = f->c.pk;
    assert_int_equal(cnv_deleg_cache_size(v), 1);
  }
  cnv_deleg_verifier_destroy(v);
}

/* Leaf with 3 uses, its parent with 5 shared by two sibling leaves. */
static void test_use_counting(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  uint8_t t1[CNV_DELEG_MAX_TOKEN_BYTES], t2[CNV_DELEG_MAX_TOKEN_BYTES];
  fspec s[3];
  std_specs(f, s, 0x10);
  s[1].cav.max_uses = 5;
  s[2].cav.max_uses = 3;
  size_t n1 = forge(s, 3, t1);
  s[2].nonce = 0x77;
  s[2].cav.max_uses = 4;
  size_t n2 = forge(s, 3, t2);
  cnv_deleg_error err;
  for (int i = 0; i < 3; i++) assert_int_equal(cnv_deleg_authorize(f->v, t1, n1, &req, NULL, &err), CNV_OK);
  assert_int_equal(cnv_deleg_authorize(f->v, t1, n1, &req, NULL, &err), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 2);
  expect_verify(f->v, t1, n1, &req, CNV_OK, -1); /* verify consumes nothing */
  assert_int_equal(cnv_deleg_authorize(f->v, t2, n2, &req, NULL, &err), CNV_OK);
  assert_int_equal(cnv_deleg_authorize(f->v, t2, n2, &req, NULL, &err), CNV_OK);
  assert_int_equal(cnv_deleg_authorize(f->v, t2, n2, &req, NULL, &err), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 1); /* the shared parent ran out (3 + 2 = 5) */
  /* a failed request consumes nothing: a fresh leaf with 2 uses still gives exactly 2 */
  s[2].nonce = 0x78;
  s[2].cav.max_uses = 2;
  s[1].nonce = 0x79;
  size_t n3 = forge(s, 3, t1);
  cnv_deleg_cap cap = cap_of("user.delete");
  req.cap = &cap;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(cnv_deleg_authorize(f->v, t1, n3, &req, NULL, &err), CNV_EDELEG_FORBIDDEN);
  }
  req.cap = NULL;
  for (int i = 0; i < 2; i++) assert_int_equal(cnv_deleg_authorize(f->v, t1, n3, &req, NULL, &err), CNV_OK);
  assert_int_equal(cnv_deleg_authorize(f->v, t1, n3, &req, NULL, &err), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 2);
}

static void test_bad_arguments(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  assert_int_equal(cnv_deleg_verify(NULL, f->tok, f->len, &req, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_verify(f->v, NULL, f->len, &req, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_verify(f->v, f->tok, f->len, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_authorize(f->v, f->tok, f->len, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_revoke(f->v, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_trust_add(NULL, f->r.pk), CNV_EINVAL);
  assert_int_equal(cnv_deleg_trust_remove(f->v, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_verifier_create(NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_cache_purge(NULL, 0), 0);
  assert_int_equal(cnv_deleg_cache_size(NULL), 0);
  cnv_deleg_verifier_destroy(NULL);
}

static void test_counters_full(void **state) {
  fixture *f = *state;
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.max_counters = 1;
  cnv_deleg_verifier *v;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  fspec s[3];
  std_specs(f, s, 0x10);
  s[1].cav.max_uses = 5;
  s[2].cav.max_uses = 3;
  size_t n = forge(s, 3, t);
  cnv_deleg_request req = std_request(NULL);
  expect_verify(v, t, n, &req, CNV_OK, -1); /* verify creates no counter */
  cnv_deleg_error err;
  assert_int_equal(cnv_deleg_authorize(v, t, n, &req, NULL, &err), CNV_EDELEG_COUNTERS_FULL);
  assert_int_equal(err.link, 2);
  cnv_deleg_verifier_destroy(v);
}

/* A delegatable holder (C) mints use-limited children for a stranger and sends them through
 * failing verifications: none of them may take a counter slot from a later, valid token. */
static void test_failed_verify_keeps_no_counter(void **state) {
  fixture *f = *state;
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.max_counters = 8;
  cnv_deleg_verifier *v;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
  cnv_deleg_cap bad = cap_of("nothing.here");
  cnv_deleg_request req = std_request(&bad);
  req.holder = f->u.pk;
  for (uint8_t i = 0; i < 16; i++) {
    cnv_deleg_caveats c;
    std_caveats(2, &c);
    c.depth = 0;
    c.max_uses = 1;
    uint8_t nonce[CNV_DELEG_NONCE_BYTES], out[CNV_DELEG_MAX_TOKEN_BYTES];
    nonce_of(nonce, (uint8_t)(0x60 + i));
    size_t n;
    assert_int_equal(cnv_deleg_attenuate(f->tok, f->len, f->c.sk, f->u.pk, &c, nonce, out, sizeof out, &n), CNV_OK);
    assert_int_equal(cnv_deleg_verify(v, out, n, &req, NULL, NULL), CNV_EDELEG_NOT_ALLOWED);
    assert_int_equal(cnv_deleg_authorize(v, out, n, &req, NULL, NULL), CNV_EDELEG_NOT_ALLOWED);
  }
  cnv_deleg_caveats c;
  std_caveats(0, &c);
  c.max_uses = 10;
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  assert_int_equal(cnv_deleg_mint_root(f->r.sk, f->a.pk, &c, NULL, t, sizeof t, &n), CNV_OK);
  cnv_deleg_request ok = std_request(NULL);
  ok.holder = f->a.pk;
  assert_int_equal(cnv_deleg_authorize(v, t, n, &ok, NULL, NULL), CNV_OK);
  cnv_deleg_verifier_destroy(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cached_equals_cold, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_revocation_invalidates, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_trust_removal_invalidates, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_expiry_drops, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_capacity, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_use_counting, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_counters_full, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_failed_verify_keeps_no_counter, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_bad_arguments, fixture_setup_1024, fixture_teardown_free),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
