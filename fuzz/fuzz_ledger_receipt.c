/* fuzz_ledger_receipt: decode then verify arbitrary bytes as a receipt.
 * Properties (abort on violation):
 *   - decoding fails only with CNV_ELEDGER_CORRUPT;
 *   - a receipt that decodes re-encodes to exactly the input bytes (one canonical form);
 *   - cnv_receipt_verify stops at the state its status names: a bad signature at UNCHECKED,
 *     a bad kind or leaf at POLICY_CHECKED, a bad proof at CAPABILITY_CHECKED, and CNV_OK only
 *     at VERIFIED; a second verification gives the same answer;
 *   - re-signed with the target's key (so the signature step passes), the fuzzed fields and
 *     proof reach the later steps under the same rules.
 * The key is the one of seed 0x42 bytes, which signed the corpus's receipts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/ledger.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pk[CNV_LEDGER_KEY_BYTES], sk[CNV_LEDGER_SECRET_BYTES];
static int ready;

static void init(void) {
  uint8_t seed[32];
  memset(seed, 0x42, sizeof seed);
  if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0) abort();
  ready = 1;
}

/* The state a status must leave verification in. */
static int state_for(cnv_status st) {
  switch (st) {
    case CNV_OK:
      return CNV_CERT_VERIFIED;
    case CNV_ELEDGER_SIGNATURE:
      return CNV_CERT_UNCHECKED;
    case CNV_ELEDGER_KIND:
    case CNV_ELEDGER_CORRUPT:
      return CNV_CERT_POLICY_CHECKED;
    case CNV_ELEDGER_PROOF:
      return CNV_CERT_CAPABILITY_CHECKED;
    default:
      abort();
  }
}

static cnv_status check(const cnv_receipt *r) {
  int s = CNV_CERT_UNCHECKED;
  cnv_status st = cnv_receipt_verify(r, pk, &s);
  if (s != state_for(st)) abort();
  int s2 = CNV_CERT_UNCHECKED;
  if (cnv_receipt_verify(r, pk, &s2) != st || s2 != s) abort();
  /* never from a later state, which stays as it is */
  if (s != CNV_CERT_UNCHECKED) {
    int later = s;
    if (cnv_receipt_verify(r, pk, &later) != CNV_ESTATE || later != s) abort();
  }
  return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) init();
  static cnv_receipt r;
  cnv_status st = cnv_receipt_decode(data, size, &r);
  if (st != CNV_OK) {
    if (st != CNV_ELEDGER_CORRUPT) abort();
    return 0;
  }
  static uint8_t again[CNV_RECEIPT_MAX_BYTES];
  size_t len = 0;
  if (cnv_receipt_encode(&r, again, sizeof again, &len) != CNV_OK || len != size || memcmp(again, data, size) != 0)
    abort();
  cnv_status first = check(&r);
  /* signed by the target's key: the signature step passes, the rest is the fuzzer's */
  if (cnv_checkpoint_sign(&r.checkpoint, sk) != CNV_OK) abort();
  cnv_status second = check(&r);
  if (second == CNV_ELEDGER_SIGNATURE) abort();
  if (first == CNV_OK && second != CNV_OK) abort();
  return 0;
}
