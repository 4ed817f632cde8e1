/* Public keys entering the delegation module: small-order and non-canonical keys are refused
 * by mint (audience), attenuate (audience), trust_add and the decoder (every issuer and
 * audience, so a token for such a holder never verifies); a secret key whose public half does
 * not match its seed is refused by mint and attenuate. */
#include "deleg_fixture.h"

/* Little-endian y of an order-8 point (the two order-8 y values are this one and p - this). */
static const uint8_t order8[32] = {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
                                   0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
                                   0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05};

#define N_BAD 9

/* Keys every entry point must refuse: small order (both x signs where it exists),
 * non-canonical (y >= p), and y = p - order8 (order 8 too). */
static void bad_keys(uint8_t out[N_BAD][32]) {
  memset(out, 0, (size_t)N_BAD * 32);
  out[1][0] = 1;              /* identity */
  memcpy(out[2], order8, 32); /* order 8 */
  memcpy(out[3], order8, 32); /* order 8, other sign of x */
  out[3][31] |= 0x80;
  memset(out[4], 0xff, 32); /* p - 1 (order 2) */
  out[4][0] = 0xec;
  out[4][31] = 0x7f;
  memset(out[5], 0xff, 32); /* p: non-canonical 0 */
  out[5][0] = 0xed;
  out[5][31] = 0x7f;
  memset(out[6], 0xff, 32); /* 2^255 - 1: non-canonical */
  out[6][31] = 0x7f;
  out[7][31] = 0x80; /* 0 with the sign bit set */
  /* p - order8 */
  static const uint8_t p[32] = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  int borrow = 0;
  for (int i = 0; i < 32; i++) {
    int d = p[i] - order8[i] - borrow;
    borrow = d < 0;
    out[8][i] = (uint8_t)(d + (borrow ? 256 : 0));
  }
}

/* The listed order-8 point really has order 8: doubling it three times gives the identity
 * (so the decoder's list and this test's are not both wrong the same way by accident). */
static void test_order8_is_small(void **state) {
  (void)state;
  uint8_t q[32], r[32];
  memcpy(q, order8, 32);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(crypto_core_ed25519_add(r, q, q), 0);
    memcpy(q, r, 32);
  }
  static const uint8_t identity[32] = {1};
  assert_memory_equal(q, identity, 32);
  uint8_t bad[N_BAD][32];
  bad_keys(bad);
  for (int i = 0; i < N_BAD; i++) assert_int_equal(crypto_core_ed25519_is_valid_point(bad[i]), 0);
}

static void test_mint_refuses_bad_audience(void **state) {
  fixture *f = *state;
  uint8_t bad[N_BAD][32];
  bad_keys(bad);
  cnv_deleg_caveats cav;
  std_caveats(0, &cav);
  uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  for (int i = 0; i < N_BAD; i++) {
    assert_int_equal(cnv_deleg_mint_root(f->r.sk, bad[i], &cav, NULL, out, sizeof out, &n), CNV_EDELEG_BAD_KEY);
  }
  /* a key with a small-order component (valid key + order-8 point): not in the prime-order
   * subgroup, refused where keys are created */
  uint8_t mixed[32];
  assert_int_equal(crypto_core_ed25519_add(mixed, f->a.pk, order8), 0);
  assert_int_equal(cnv_deleg_mint_root(f->r.sk, mixed, &cav, NULL, out, sizeof out, &n), CNV_EDELEG_BAD_KEY);
  assert_int_equal(cnv_deleg_mint_root(f->r.sk, f->a.pk, &cav, NULL, out, sizeof out, &n), CNV_OK);
}

static void test_attenuate_refuses_bad_audience(void **state) {
  fixture *f = *state;
  uint8_t bad[N_BAD][32];
  bad_keys(bad);
  cnv_deleg_caveats cav;
  std_caveats(2, &cav);
  cav.depth = 0;
  uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  for (int i = 0; i < N_BAD; i++) {
    assert_int_equal(cnv_deleg_attenuate(f->tok, f->len, f->c.sk, bad[i], &cav, NULL, out, sizeof out, &n),
                     CNV_EDELEG_BAD_KEY);
  }
  assert_int_equal(cnv_deleg_attenuate(f->tok, f->len, f->c.sk, f->u.pk, &cav, NULL, out, sizeof out, &n), CNV_OK);
}

static void test_trust_add_refuses_bad_key(void **state) {
  fixture *f = *state;
  uint8_t bad[N_BAD][32];
  bad_keys(bad);
  for (int i = 0; i < N_BAD; i++) assert_int_equal(cnv_deleg_trust_add(f->v, bad[i]), CNV_EDELEG_BAD_KEY);
  assert_int_equal(cnv_deleg_trust_add(f->v, f->u.pk), CNV_OK);
}

/* A token whose holder is a bad key (signed correctly by a real issuer: forge skips mint's
 * checks) never decodes, verifies or authorizes, cold or again; nor does one whose issuer is. */
static void test_token_for_bad_holder_never_verifies(void **state) {
  fixture *f = *state;
  uint8_t bad[N_BAD][32];
  bad_keys(bad);
  for (int i = 0; i < N_BAD; i++) {
    fspec s[3];
    std_specs(f, s, (uint8_t)(0x30 + 3 * i));
    s[2].audience = bad[i];
    uint8_t t[CNV_DELEG_MAX_TOKEN_BYTES];
    size_t n = forge(s, 3, t);
    cnv_deleg_request req = std_request(NULL);
    req.holder = bad[i];
    for (int round = 0; round < 2; round++) expect_verify(f->v, t, n, &req, CNV_EDELEG_BAD_KEY, 2);
    cnv_deleg_error err = {0};
    assert_int_equal(cnv_deleg_authorize(f->v, t, n, &req, NULL, &err), CNV_EDELEG_BAD_KEY);
    assert_int_equal(err.link, 2);
    cnv_deleg_token tok;
    assert_int_equal(cnv_deleg_token_decode(t, n, &tok, &err), CNV_EDELEG_BAD_KEY);
    assert_int_equal(err.link, 2);
    assert_int_equal(err.offset, f->len2 + CNV_DELEG_KEY_BYTES); /* the audience field */
    /* the encoder refuses what the decoder refuses */
    assert_int_equal(cnv_deleg_token_decode(f->tok, f->len, &tok, NULL), CNV_OK);
    memcpy(tok.links[2].audience, bad[i], 32);
    uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
    assert_int_equal(cnv_deleg_token_encode(&tok, out, sizeof out, &n), CNV_EDELEG_BAD_KEY);
  }
  assert_int_equal(cnv_deleg_cache_size(f->v), 0);
}

/* libsodium's secret key is seed || public key; a caller gluing the wrong halves together
 * would sign links that name one issuer and are signed by another. */
static void test_mismatched_secret_key(void **state) {
  fixture *f = *state;
  uint8_t glued[CNV_DELEG_SECRET_BYTES];
  memcpy(glued, f->r.sk, 32);
  memcpy(glued + 32, f->a.pk, 32); /* R's seed, A's public key */
  cnv_deleg_caveats cav;
  std_caveats(0, &cav);
  uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n = 0;
  assert_int_equal(cnv_deleg_mint_root(glued, f->a.pk, &cav, NULL, out, sizeof out, &n), CNV_EDELEG_BAD_KEY);
  /* attenuating R->A with A's public key but B's seed: names A as the issuer, signed by B */
  memcpy(glued, f->b.sk, 32);
  std_caveats(1, &cav);
  assert_int_equal(cnv_deleg_attenuate(f->tok1, f->len1, glued, f->b.pk, &cav, NULL, out, sizeof out, &n),
                   CNV_EDELEG_BAD_KEY);
  memcpy(glued, f->a.sk, 32); /* the right halves: accepted */
  assert_int_equal(cnv_deleg_attenuate(f->tok1, f->len1, glued, f->b.pk, &cav, NULL, out, sizeof out, &n), CNV_OK);
  sodium_memzero(glued, sizeof glued);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_order8_is_small, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_mint_refuses_bad_audience, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_attenuate_refuses_bad_audience, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_trust_add_refuses_bad_key, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_token_for_bad_holder_never_verifies, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_mismatched_secret_key, fixture_setup_1024, fixture_teardown_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
