/* Checkpoints (signed tree heads): the signed message, Ed25519 signing and checking, and the
 * canonical 176-byte encoding (docs/receipts.md). */
#include <string.h>

#include <sodium.h>

#include <cnv/ledger.h>
#include "lstore.h"

#define CP_DOMAIN "cnv-ledger-checkpoint-v1"
#define CP_DOMAIN_LEN (sizeof CP_DOMAIN - 1)
#define CP_MSG_LEN (CP_DOMAIN_LEN + CNV_LEDGER_KEY_BYTES + 8 + CNV_LEDGER_HASH_BYTES + 8)
/* the encoding: tree_size | root | time_ms | key | sig | reserved (zero) */
#define CP_RESERVED (CNV_CHECKPOINT_BYTES - (8 + CNV_LEDGER_HASH_BYTES + 8 + CNV_LEDGER_KEY_BYTES + CNV_LEDGER_SIG_BYTES))

/* "cnv-ledger-checkpoint-v1" || key || tree_size (u64 LE) || root || time_ms (u64 LE) */
static void message(const cnv_checkpoint *c, const uint8_t key[CNV_LEDGER_KEY_BYTES], uint8_t m[CP_MSG_LEN]) {
  uint8_t *p = m;
  memcpy(p, CP_DOMAIN, CP_DOMAIN_LEN);
  p += CP_DOMAIN_LEN;
  memcpy(p, key, CNV_LEDGER_KEY_BYTES);
  p += CNV_LEDGER_KEY_BYTES;
  cnv__lput64(p, c->tree_size);
  p += 8;
  memcpy(p, c->root, CNV_LEDGER_HASH_BYTES);
  p += CNV_LEDGER_HASH_BYTES;
  cnv__lput64(p, c->time_ms);
}

cnv_status cnv_checkpoint_sign(cnv_checkpoint *c, const uint8_t sk[CNV_LEDGER_SECRET_BYTES]) {
  if (!c || !sk) return CNV_EINVAL;
  uint8_t key[CNV_LEDGER_KEY_BYTES];
  if (crypto_sign_ed25519_sk_to_pk(key, sk) != 0) return CNV_EINVAL;
  uint8_t m[CP_MSG_LEN];
  message(c, key, m);
  uint8_t sig[CNV_LEDGER_SIG_BYTES];
  if (crypto_sign_detached(sig, NULL, m, sizeof m, sk) != 0) return CNV_EINVAL;
  memcpy(c->key, key, sizeof key);
  memcpy(c->sig, sig, sizeof sig);
  return CNV_OK;
}

cnv_status cnv_checkpoint_verify(const cnv_checkpoint *c, const uint8_t pk[CNV_LEDGER_KEY_BYTES]) {
  if (!c) return CNV_EINVAL;
  if (pk && sodium_memcmp(c->key, pk, CNV_LEDGER_KEY_BYTES) != 0) return CNV_ELEDGER_SIGNATURE;
  uint8_t m[CP_MSG_LEN];
  message(c, c->key, m);
  if (crypto_sign_verify_detached(c->sig, m, sizeof m, c->key) != 0) return CNV_ELEDGER_SIGNATURE;
  return CNV_OK;
}

cnv_status cnv_checkpoint_encode(const cnv_checkpoint *c, uint8_t out[CNV_CHECKPOINT_BYTES]) {
  if (!c || !out) return CNV_EINVAL;
  uint8_t *p = out;
  cnv__lput64(p, c->tree_size);
  p += 8;
  memcpy(p, c->root, CNV_LEDGER_HASH_BYTES);
  p += CNV_LEDGER_HASH_BYTES;
  cnv__lput64(p, c->time_ms);
  p += 8;
  memcpy(p, c->key, CNV_LEDGER_KEY_BYTES);
  p += CNV_LEDGER_KEY_BYTES;
  memcpy(p, c->sig, CNV_LEDGER_SIG_BYTES);
  p += CNV_LEDGER_SIG_BYTES;
  memset(p, 0, CP_RESERVED);
  return CNV_OK;
}

cnv_status cnv_checkpoint_decode(const uint8_t *in, size_t len, cnv_checkpoint *c) {
  if (!in || !c) return CNV_EINVAL;
  if (len != CNV_CHECKPOINT_BYTES) return CNV_ELEDGER_CORRUPT;
  const uint8_t *p = in;
  const uint8_t *reserved = in + CNV_CHECKPOINT_BYTES - CP_RESERVED;
  for (size_t i = 0; i < CP_RESERVED; i++)
    if (reserved[i] != 0) return CNV_ELEDGER_CORRUPT; /* one encoding per checkpoint */
  c->tree_size = cnv__lget64(p);
  p += 8;
  memcpy(c->root, p, CNV_LEDGER_HASH_BYTES);
  p += CNV_LEDGER_HASH_BYTES;
  c->time_ms = cnv__lget64(p);
  p += 8;
  memcpy(c->key, p, CNV_LEDGER_KEY_BYTES);
  p += CNV_LEDGER_KEY_BYTES;
  memcpy(c->sig, p, CNV_LEDGER_SIG_BYTES);
  return CNV_OK;
}
