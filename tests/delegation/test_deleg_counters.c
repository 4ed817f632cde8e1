/* Use counters under hostile traffic, from the outside: a failing authorize leaves no counter,
 * counters of expired and revoked links are reclaimed (by cnv_deleg_counters_purge and by a
 * full table), one delegate cannot take more than its share of the table, and spent uses never
 * come back. */
#include "deleg_fixture.h"

#define NOW 5000
#define FAR 90000 /* an expiry inside C's window */

static cnv_deleg_verifier *new_verifier(fixture *f, uint32_t max_counters, uint32_t per_delegate) {
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.max_counters = max_counters;
  cfg.max_counters_per_delegate = per_delegate;
  cnv_deleg_verifier *v;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, f->r.pk), CNV_OK);
  return v;
}

/* The standard chain R->A->B->C with use limits on links 1 and 2 (UNLIMITED for none). */
static size_t limited_chain(fixture *f, uint8_t nonce, uint32_t uses1, uint32_t uses2, uint8_t *out) {
  fspec s[3];
  std_specs(f, s, nonce);
  s[1].cav.max_uses = uses1;
  s[2].cav.max_uses = uses2;
  return forge(s, 3, out);
}

/* C's token attenuated once more, for audience `aud`, with `uses` uses and expiry `expiry`. */
static size_t child_of_c(fixture *f, const uint8_t *aud, uint8_t nonce_byte, uint32_t uses, uint64_t expiry,
                         uint8_t *out) {
  cnv_deleg_caveats cav;
  std_caveats(2, &cav);
  cav.depth = 0;
  cav.max_uses = uses;
  cav.expiry = expiry;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  memset(nonce, nonce_byte, sizeof nonce);
  nonce[0] = 0xc1; /* apart from every nonce of the standard chain */
  size_t n;
  assert_int_equal(cnv_deleg_attenuate(f->tok, f->len, f->c.sk, aud, &cav, nonce, out, CNV_DELEG_MAX_TOKEN_BYTES, &n),
                   CNV_OK);
  return n;
}

static cnv_status authorize_as(cnv_deleg_verifier *v, const uint8_t *t, size_t n, const uint8_t *holder, uint64_t now,
                               cnv_deleg_error *err) {
  cnv_deleg_request req = std_request(NULL);
  req.holder = holder;
  req.now = now;
  return cnv_deleg_authorize(v, t, n, &req, NULL, err);
}

/* Every kind of failing authorize leaves the counter count where it was. */
static void test_failing_authorize_creates_no_counter(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = new_verifier(f, 64, 0);
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n = limited_chain(f, 0x20, 5, 3, t);
  /* a request check fails: capability not allowed */
  cnv_deleg_cap cap = cap_of("fleet.node.drain");
  cnv_deleg_request req = std_request(&cap);
  assert_int_equal(cnv_deleg_authorize(v, t, n, &req, NULL, NULL), CNV_EDELEG_NOT_ALLOWED);
  assert_int_equal(cnv_deleg_counter_count(v), 0);
  /* a never-usable link (0 uses) below a limited one */
  uint8_t z[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t zn = limited_chain(f, 0x23, 5, 0, z);
  cnv_deleg_error err = {0};
  assert_int_equal(authorize_as(v, z, zn, f->c.pk, NOW, &err), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 2);
  assert_int_equal(cnv_deleg_counter_count(v), 0);
  /* success: one counter per limited link */
  assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_counter_count(v), 2);
  /* children of an exhausted leaf: C's link (3 uses) is used up below, then every new child
   * fails at it and none of them gets a counter of its own */
  assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, NULL), CNV_OK);
  assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, NULL), CNV_OK);
  assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, &err), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 2);
  fixture g = *f;
  memcpy(g.tok, t, n);
  g.len = n;
  for (uint8_t i = 0; i < 40; i++) {
    uint8_t child[CNV_DELEG_MAX_TOKEN_BYTES];
    size_t cn = child_of_c(&g, f->u.pk, i, 1, FAR, child);
    assert_int_equal(authorize_as(v, child, cn, f->u.pk, NOW, &err), CNV_EDELEG_USES_EXHAUSTED);
    assert_int_equal(err.link, 2);
  }
  assert_int_equal(cnv_deleg_counter_count(v), 2);
  cnv_deleg_verifier_destroy(v);
}

/* A table too small for a chain's counters: the call fails and keeps none of those it made. */
static void test_full_table_keeps_nothing(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = new_verifier(f, 1, 0);
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n = limited_chain(f, 0x20, 5, 3, t);
  cnv_deleg_error err = {0};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, &err), CNV_EDELEG_COUNTERS_FULL);
    assert_int_equal(err.link, 2);
    assert_int_equal(cnv_deleg_counter_count(v), 0);
  }
  /* a token that needs one counter still gets it */
  uint8_t one[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t on = limited_chain(f, 0x30, CNV_DELEG_UNLIMITED_USES, 2, one);
  assert_int_equal(authorize_as(v, one, on, f->c.pk, NOW, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_counter_count(v), 1);
  cnv_deleg_verifier_destroy(v);
}

/* Counters of expired links are reclaimed by purge, not before; the link never gets its uses
 * back, not even when presented with an older clock. */
static void test_reclaim_after_expiry(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = new_verifier(f, 64, 0);
  const uint64_t expiry = 6000, skew = 30;
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n = child_of_c(f, f->u.pk, 1, 2, expiry, t);
  assert_int_equal(authorize_as(v, t, n, f->u.pk, NOW, NULL), CNV_OK);
  assert_int_equal(authorize_as(v, t, n, f->u.pk, NOW, NULL), CNV_OK);
  assert_int_equal(authorize_as(v, t, n, f->u.pk, NOW, NULL), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(cnv_deleg_counter_count(v), 1);
  assert_int_equal(cnv_deleg_counters_purge(v, expiry + skew), 0); /* still usable at this second */
  assert_int_equal(cnv_deleg_counter_count(v), 1);
  assert_int_equal(authorize_as(v, t, n, f->u.pk, NOW, NULL), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(cnv_deleg_counters_purge(v, expiry + skew + 1), 1);
  assert_int_equal(cnv_deleg_counter_count(v), 0);
  /* an older clock would pass the time check, but the counter is gone: refused as expired */
  cnv_deleg_error err = {0};
  assert_int_equal(authorize_as(v, t, n, f->u.pk, NOW, &err), CNV_EDELEG_EXPIRED);
  assert_int_equal(err.link, 3);
  assert_int_equal(authorize_as(v, t, n, f->u.pk, expiry + skew + 1, NULL), CNV_EDELEG_EXPIRED);
  assert_int_equal(cnv_deleg_counter_count(v), 0);
  /* a purge with an older time does not move the clock back */
  assert_int_equal(cnv_deleg_counters_purge(v, 1), 0);
  assert_int_equal(authorize_as(v, t, n, f->u.pk, NOW, NULL), CNV_EDELEG_EXPIRED);
  /* a link that is still valid gets its counter as before */
  uint8_t live[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t ln = child_of_c(f, f->u.pk, 2, 2, 90000, live);
  assert_int_equal(authorize_as(v, live, ln, f->u.pk, NOW, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_counter_count(v), 1);
  cnv_deleg_verifier_destroy(v);
}

/* Revoking a link reclaims the counters of it and of its descendants at the next purge. */
static void test_reclaim_after_revoke(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = new_verifier(f, 64, 0);
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES], other[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n = limited_chain(f, 0x20, 5, 1, t);
  size_t on = limited_chain(f, 0x40, CNV_DELEG_UNLIMITED_USES, 1, other);
  assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, NULL), CNV_OK);
  assert_int_equal(authorize_as(v, other, on, f->c.pk, NOW, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_counter_count(v), 3);
  uint8_t h[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(t, n, 1, h), CNV_OK); /* B's link: an ancestor */
  assert_int_equal(cnv_deleg_revoke(v, h), CNV_OK);
  assert_int_equal(cnv_deleg_counters_purge(v, NOW), 2);
  assert_int_equal(cnv_deleg_counter_count(v), 1); /* the unrelated token's counter stays */
  assert_int_equal(authorize_as(v, t, n, f->c.pk, NOW, NULL), CNV_EDELEG_REVOKED);
  assert_int_equal(authorize_as(v, other, on, f->c.pk, NOW, NULL), CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(cnv_deleg_counter_count(v), 1);
  cnv_deleg_verifier_destroy(v);
}

/* A full table reclaims dead counters by itself, but only when something died since its last
 * sweep; live counters are never reclaimed to make room. */
static void test_full_table_reclaims_dead(void **state) {
  fixture *f = *state;
  cnv_deleg_verifier *v = new_verifier(f, 4, 0);
  uint8_t t[5][CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n[5];
  for (uint8_t i = 0; i < 5; i++) n[i] = child_of_c(f, f->u.pk, i, 1, FAR, t[i]);
  for (int i = 0; i < 4; i++) assert_int_equal(authorize_as(v, t[i], n[i], f->u.pk, NOW, NULL), CNV_OK);
  cnv_deleg_error err = {0};
  assert_int_equal(authorize_as(v, t[4], n[4], f->u.pk, NOW, &err), CNV_EDELEG_COUNTERS_FULL);
  assert_int_equal(err.link, 3);
  assert_int_equal(cnv_deleg_counter_count(v), 4);
  /* the spent single uses stay spent: their counters are live (links valid, not revoked) */
  for (int i = 0; i < 4; i++) {
    assert_int_equal(authorize_as(v, t[i], n[i], f->u.pk, NOW, NULL), CNV_EDELEG_USES_EXHAUSTED);
  }
  uint8_t h[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(t[0], n[0], 3, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(v, h), CNV_OK);
  assert_int_equal(authorize_as(v, t[4], n[4], f->u.pk, NOW, NULL), CNV_OK); /* swept t[0]'s */
  assert_int_equal(cnv_deleg_counter_count(v), 4);
  for (int i = 1; i < 5; i++) {
    assert_int_equal(authorize_as(v, t[i], n[i], f->u.pk, NOW, NULL), CNV_EDELEG_USES_EXHAUSTED);
  }
  assert_int_equal(authorize_as(v, t[0], n[0], f->u.pk, NOW, NULL), CNV_EDELEG_REVOKED);
  cnv_deleg_verifier_destroy(v);
}

/* One delegate (A: every token below R->A) fills its share with single-use children for fresh
 * keys; from then on its own new counters are refused, while another delegate's are not. */
static void test_delegate_share(void **state) {
  fixture *f = *state;
  const uint32_t share = 8;
  cnv_deleg_verifier *v = new_verifier(f, 64, share);
  uint32_t ok = 0;
  for (uint8_t i = 0; i < 40; i++) {
    tkey fresh;
    tkey_make(&fresh, (uint8_t)(0x80 + i)); /* a new holder key each time: no help */
    uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
    size_t n = child_of_c(f, fresh.pk, i, 1, FAR, t);
    cnv_deleg_error err = {0};
    cnv_status st = authorize_as(v, t, n, fresh.pk, NOW, &err);
    if (st == CNV_OK) {
      ok++;
    } else {
      assert_int_equal(st, CNV_EDELEG_COUNTERS_FULL);
      assert_int_equal(err.link, 3);
    }
  }
  assert_int_equal(ok, share);
  assert_int_equal(cnv_deleg_counter_count(v), share);
  /* another delegate: R->G, single-use */
  tkey g;
  tkey_make(&g, 6);
  cnv_deleg_caveats cav;
  std_caveats(0, &cav);
  cav.max_uses = 1;
  uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  assert_int_equal(cnv_deleg_mint_root(f->r.sk, g.pk, &cav, NULL, t, sizeof t, &n), CNV_OK);
  assert_int_equal(authorize_as(v, t, n, g.pk, NOW, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_counter_count(v), share + 1);
  /* A's existing counters keep counting; a revoked one frees A's share for a new token */
  uint8_t first[CNV_DELEG_MAX_TOKEN_BYTES];
  tkey k0;
  tkey_make(&k0, 0x80);
  size_t fn = child_of_c(f, k0.pk, 0, 1, FAR, first);
  assert_int_equal(authorize_as(v, first, fn, k0.pk, NOW, NULL), CNV_EDELEG_USES_EXHAUSTED);
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(first, fn, 3, hash), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(v, hash), CNV_OK);
  uint8_t next[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t nn = child_of_c(f, f->u.pk, 0x70, 1, FAR, next);
  assert_int_equal(authorize_as(v, next, nn, f->u.pk, NOW, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_counter_count(v), share + 1);
  cnv_deleg_verifier_destroy(v);
}

static void test_null_arguments(void **state) {
  (void)state;
  assert_int_equal(cnv_deleg_counters_purge(NULL, 0), 0);
  assert_int_equal(cnv_deleg_counter_count(NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_failing_authorize_creates_no_counter, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_full_table_keeps_nothing, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_reclaim_after_expiry, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_reclaim_after_revoke, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_full_table_reclaims_dead, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_delegate_share, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_null_arguments, fixture_setup_1024, fixture_teardown_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
