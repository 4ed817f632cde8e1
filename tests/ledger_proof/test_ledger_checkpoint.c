/* Checkpoints: the signed message spelled out, sign/verify, every field and bit tampered,
 * another key, and the 176-byte encoding (round trip, layout, strict decode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/ledger.h>

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static uint8_t pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];

static cnv_checkpoint signed_cp(void) {
  cnv_checkpoint c;
  memset(&c, 0, sizeof c);
  c.tree_size = 0x0102030405060708ull;
  for (int i = 0; i < 32; i++) c.root[i] = (uint8_t)(0xA0 + i);
  c.time_ms = 1700000000123ull;
  assert_int_equal(cnv_checkpoint_sign(&c, sk), CNV_OK);
  return c;
}

static void test_sign_verify(void **state) {
  (void)state;
  cnv_checkpoint c = signed_cp();
  assert_memory_equal(c.key, pk, 32);
  assert_int_equal(cnv_checkpoint_verify(&c, pk), CNV_OK);
  assert_int_equal(cnv_checkpoint_verify(&c, NULL), CNV_OK);
  assert_int_equal(cnv_checkpoint_verify(&c, pk2), CNV_ELEDGER_SIGNATURE);

  /* the signed message, spelled out */
  uint8_t msg[24 + 32 + 8 + 32 + 8];
  memcpy(msg, "cnv-ledger-checkpoint-v1", 24);
  memcpy(msg + 24, pk, 32);
  for (int i = 0; i < 8; i++) msg[56 + i] = (uint8_t)(c.tree_size >> (8 * i));
  memcpy(msg + 64, c.root, 32);
  for (int i = 0; i < 8; i++) msg[96 + i] = (uint8_t)(c.time_ms >> (8 * i));
  assert_int_equal(crypto_sign_verify_detached(c.sig, msg, sizeof msg, pk), 0);

  /* any field changed */
  cnv_checkpoint t = c;
  t.tree_size++;
  assert_int_equal(cnv_checkpoint_verify(&t, pk), CNV_ELEDGER_SIGNATURE);
  t = c;
  t.time_ms ^= 1;
  assert_int_equal(cnv_checkpoint_verify(&t, pk), CNV_ELEDGER_SIGNATURE);
  for (unsigned bit = 0; bit < 256; bit++) {
    t = c;
    t.root[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(cnv_checkpoint_verify(&t, pk), CNV_ELEDGER_SIGNATURE);
  }
  for (unsigned bit = 0; bit < 512; bit++) {
    t = c;
    t.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(cnv_checkpoint_verify(&t, pk), CNV_ELEDGER_SIGNATURE);
  }
  /* signed by another key: verifies under that key only */
  t = c;
  assert_int_equal(cnv_checkpoint_sign(&t, sk2), CNV_OK);
  assert_memory_equal(t.key, pk2, 32);
  assert_int_equal(cnv_checkpoint_verify(&t, NULL), CNV_OK);
  assert_int_equal(cnv_checkpoint_verify(&t, pk), CNV_ELEDGER_SIGNATURE);
  /* another key claimed with this signature */
  t = c;
  memcpy(t.key, pk2, 32);
  assert_int_equal(cnv_checkpoint_verify(&t, NULL), CNV_ELEDGER_SIGNATURE);

  assert_int_equal(cnv_checkpoint_sign(NULL, sk), CNV_EINVAL);
  assert_int_equal(cnv_checkpoint_sign(&t, NULL), CNV_EINVAL);
  assert_int_equal(cnv_checkpoint_verify(NULL, pk), CNV_EINVAL);
}

static void test_encoding(void **state) {
  (void)state;
  cnv_checkpoint c = signed_cp();
  uint8_t buf[CNV_CHECKPOINT_BYTES];
  memset(buf, 0xFF, sizeof buf);
  assert_int_equal(cnv_checkpoint_encode(&c, buf), CNV_OK);
  /* tree_size u64 LE | root | time_ms u64 LE | key | sig | 32 reserved zero bytes */
  assert_int_equal(buf[0], 0x08);
  assert_int_equal(buf[7], 0x01);
  assert_memory_equal(buf + 8, c.root, 32);
  assert_int_equal(buf[40], (uint8_t)c.time_ms);
  assert_memory_equal(buf + 48, c.key, 32);
  assert_memory_equal(buf + 80, c.sig, 64);
  for (size_t i = 144; i < CNV_CHECKPOINT_BYTES; i++) assert_int_equal(buf[i], 0);

  cnv_checkpoint d;
  assert_int_equal(cnv_checkpoint_decode(buf, sizeof buf, &d), CNV_OK);
  assert_int_equal(d.tree_size, c.tree_size);
  assert_int_equal(d.time_ms, c.time_ms);
  assert_memory_equal(d.root, c.root, 32);
  assert_memory_equal(d.key, c.key, 32);
  assert_memory_equal(d.sig, c.sig, 64);
  assert_int_equal(cnv_checkpoint_verify(&d, pk), CNV_OK);

  assert_int_equal(cnv_checkpoint_decode(buf, sizeof buf - 1, &d), CNV_ELEDGER_CORRUPT);
  uint8_t longer[CNV_CHECKPOINT_BYTES + 1] = {0};
  memcpy(longer, buf, sizeof buf);
  assert_int_equal(cnv_checkpoint_decode(longer, sizeof longer, &d), CNV_ELEDGER_CORRUPT);
  assert_int_equal(cnv_checkpoint_decode(buf, 0, &d), CNV_ELEDGER_CORRUPT);
  for (size_t i = 144; i < CNV_CHECKPOINT_BYTES; i++) {
    buf[i] = 1;
    assert_int_equal(cnv_checkpoint_decode(buf, sizeof buf, &d), CNV_ELEDGER_CORRUPT);
    buf[i] = 0;
  }
  /* a flipped bit in the signed part decodes, but no longer verifies */
  buf[9] ^= 4;
  assert_int_equal(cnv_checkpoint_decode(buf, sizeof buf, &d), CNV_OK);
  assert_int_equal(cnv_checkpoint_verify(&d, pk), CNV_ELEDGER_SIGNATURE);

  assert_int_equal(cnv_checkpoint_encode(NULL, buf), CNV_EINVAL);
  assert_int_equal(cnv_checkpoint_encode(&c, NULL), CNV_EINVAL);
  assert_int_equal(cnv_checkpoint_decode(NULL, sizeof buf, &d), CNV_EINVAL);
  assert_int_equal(cnv_checkpoint_decode(buf, sizeof buf, NULL), CNV_EINVAL);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  static const uint8_t seed1[32] = {1}, seed2[32] = {2};
  if (crypto_sign_seed_keypair(pk, sk, seed1) != 0 || crypto_sign_seed_keypair(pk2, sk2, seed2) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sign_verify),
      cmocka_unit_test(test_encoding),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
