/* Secrets in memory (white-box): long-term keys, ephemeral secrets, the token and old keys are
 * gone once they served, after a successful handshake, after rotation, and after a session
 * ended with an error (a dead session waiting for its ERROR to be written and its socket to
 * close must not keep secrets it can never use again). */
#include "attack.h"

static const uint8_t zero32[32];

/* After the handshake: neither side keeps its Ed25519 secret (seed or expanded), its ephemeral
 * secret or (client) the token, anywhere in its allocation. */
static void test_after_handshake(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  assert_memory_equal(p.c->secret, (uint8_t[64]){0}, 64);
  assert_memory_equal(p.s->secret, (uint8_t[64]){0}, 64);
  assert_memory_equal(p.c->eph_sk, zero32, 32);
  assert_memory_equal(p.s->eph_sk, zero32, 32);
  assert_false(a_block_has(p.c, p.agent_sk, 32));
  assert_false(a_block_has(p.s, p.server_sk, 32));
  assert_false(a_block_has(p.c, (const uint8_t *)A_TOKEN, A_TOKEN_LEN));
  a_teardown(&p);
}

static void rotate_each(a_pair *p) { p->cc.rekey_frames = p->sc.rekey_frames = 1; }

/* After a rotation the previous key of each direction is nowhere in either allocation. */
static void test_old_keys_after_rotation(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, rotate_each);
  a_handshake(&p);
  uint8_t f[256];
  size_t n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "x", 1, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  uint8_t old_c2s[32];
  memcpy(old_c2s, p.c->tx.key, 32);
  assert_memory_equal(p.s->rx.key, old_c2s, 32);
  n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "y", 1, f, sizeof f); /* REKEY first */
  assert_int_equal(n, 2 * 32 + 1);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  assert_false(a_block_has(p.c, old_c2s, 32));
  assert_false(a_block_has(p.s, old_c2s, 32));
  assert_memory_equal(p.s->rx.key, p.c->tx.key, 32);
  a_teardown(&p);
}

/* True when some non-zero 16-byte block of a (previous) AES-256-GCM state, all of it derived
 * from that state's key, is still in the session's allocation. */
static bool block_has_state(const cnv_session *s, const crypto_aead_aes256gcm_state *st) {
  const uint8_t *b = (const uint8_t *)st;
  for (size_t i = 0; i + 16 <= sizeof *st; i += 16)
    if (!a_is_zero(b + i, 16) && a_block_has(s, b + i, 16)) return true;
  return false;
}

/* Whether d's AES-256-GCM state is the one its current key gives. */
static bool state_matches_key(const cnv__session_dir *d) {
  crypto_aead_aes256gcm_state want;
  memset(&want, 0, sizeof want); /* beforenm may leave part of it unwritten: as the session does */
  assert_int_equal(crypto_aead_aes256gcm_beforenm(&want, d->key), 0);
  bool same = memcmp(&want, &d->aes, sizeof want) == 0;
  sodium_memzero(&want, sizeof want);
  return same;
}

/* Under AES-256-GCM each direction keeps its key's expanded state: it is the current key's in
 * both sessions, and after a rotation nothing of the previous state is left in either
 * allocation (a stale schedule would reveal the old key as surely as the key itself). */
static void test_aes_state_after_rotation(void **state) {
  (void)state;
  if (!crypto_aead_aes256gcm_is_available()) {
    print_message("skipped: no AES-NI here, so no AES-256-GCM state to check\n");
    skip();
  }
  a_pair p;
  a_setup(&p, rotate_each);
  a_handshake(&p);
  assert_int_equal(cnv_session_aead(p.c), CNV_SESSION_AEAD_AES256GCM);
  assert_true(state_matches_key(&p.c->tx) && state_matches_key(&p.c->rx));
  assert_true(state_matches_key(&p.s->tx) && state_matches_key(&p.s->rx));
  uint8_t f[256];
  size_t n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "x", 1, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  crypto_aead_aes256gcm_state old_c2s = p.c->tx.aes;
  assert_memory_equal(&p.s->rx.aes, &old_c2s, sizeof old_c2s);
  n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "y", 1, f, sizeof f); /* REKEY first */
  assert_int_equal(n, 2 * 32 + 1);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  assert_false(block_has_state(p.c, &old_c2s));
  assert_false(block_has_state(p.s, &old_c2s));
  assert_true(state_matches_key(&p.c->tx) && state_matches_key(&p.s->rx));
  sodium_memzero(&old_c2s, sizeof old_c2s);
  a_teardown(&p);
}

static void wrong_pin(a_pair *p) {
  static uint8_t other_pk[32], other_sk[64];
  assert_int_equal(crypto_sign_keypair(other_pk, other_sk), 0);
  p->cc.server_pk = other_pk;
}

/* A client that refused the server (wrong key: a man in the middle) has no use left for the
 * agent's secret key, its ephemeral secret or the token: they are wiped when the session
 * fails, not only at destroy. */
static void test_client_refuses_server(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, wrong_pin);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_ESESSION_SERVER_KEY);
  assert_false(a_block_has(p.c, p.agent_sk, 32));
  assert_memory_equal(p.c->eph_sk, zero32, 32);
  assert_false(a_block_has(p.c, (const uint8_t *)A_TOKEN, A_TOKEN_LEN));
  a_teardown(&p);
}

/* A server that refused a HELLO (here: an unknown session protocol version) never signs for
 * this session: the copy of its identity key is wiped when the session fails. */
static void test_server_refuses_hello(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  uint8_t b[A_BUF];
  size_t n = a_pull(p.c, b);
  b[CNV_FRAME_HEADER_SIZE] = 2;
  assert_int_equal(a_feed(&p, p.s, b, n, 0), CNV_ESESSION_HANDSHAKE);
  assert_false(a_block_has(p.s, p.server_sk, 32));
  a_teardown(&p);
}

/* A session that ended with an error (a forged frame) has sealed its ERROR already; its
 * traffic keys can never be used again and are wiped. */
static void test_keys_after_fatal_error(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t f[256];
  size_t n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "x", 1, f, sizeof f);
  f[n - 1] ^= 1;
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_OPEN);
  uint8_t out[A_BUF];
  size_t en = a_pull(p.s, out); /* the sealed ERROR is still delivered */
  assert_int_equal(en, CNV_FRAME_HEADER_SIZE + 4 + 16);
  assert_int_equal(a_feed(&p, p.c, out, en, 0), CNV_ESESSION_PEER_ERROR);
  assert_memory_equal(p.s->tx.key, zero32, 32);
  assert_memory_equal(p.s->rx.key, zero32, 32);
  /* The AES-256-GCM states (zero all along under XChaCha20-Poly1305) are keys too. */
  assert_true(a_is_zero((const uint8_t *)&p.s->tx.aes, sizeof p.s->tx.aes));
  assert_true(a_is_zero((const uint8_t *)&p.s->rx.aes, sizeof p.s->rx.aes));
  a_teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_after_handshake, a_cleanup),
      cmocka_unit_test_teardown(test_old_keys_after_rotation, a_cleanup),
      cmocka_unit_test_teardown(test_aes_state_after_rotation, a_cleanup),
      cmocka_unit_test_teardown(test_client_refuses_server, a_cleanup),
      cmocka_unit_test_teardown(test_server_refuses_hello, a_cleanup),
      cmocka_unit_test_teardown(test_keys_after_fatal_error, a_cleanup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
