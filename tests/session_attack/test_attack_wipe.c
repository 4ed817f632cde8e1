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
  a_teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_after_handshake, a_cleanup),
      cmocka_unit_test_teardown(test_old_keys_after_rotation, a_cleanup),
      cmocka_unit_test_teardown(test_client_refuses_server, a_cleanup),
      cmocka_unit_test_teardown(test_server_refuses_hello, a_cleanup),
      cmocka_unit_test_teardown(test_keys_after_fatal_error, a_cleanup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
