/* fuzz_token: decode + verify + re-encode of delegation tokens.
 * Properties (abort on violation):
 *   - a token that decodes re-encodes to exactly the input bytes (one canonical form);
 *   - verification fails with the decoder's status whenever decoding fails;
 *   - a second verification (cached path) gives the same status and link as the first;
 *   - verification never succeeds on bytes that do not decode.
 * The verifier trusts the key of seed 0x01 (the vectors' root), so corpus tokens built
 * from the vectors reach the signature and rule checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/core.h>
#include <cnv/delegation.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cnv_deleg_verifier *verifier(void) {
  static cnv_deleg_verifier *v;
  if (v) return v;
  if (sodium_init() < 0) abort();
  cnv_thread_register();
  uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(pk, sk, seed);
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = 4096;
  if (cnv_deleg_verifier_create(&cfg, &v) != CNV_OK || cnv_deleg_trust_add(v, pk) != CNV_OK) abort();
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cnv_deleg_token tok;
  static uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  cnv_deleg_verifier *v = verifier();
  cnv_deleg_error derr;
  cnv_status dst = cnv_deleg_token_decode(data, size, &tok, &derr);
  if (dst == CNV_OK) {
    size_t n = 0;
    if (cnv_deleg_token_encode(&tok, out, sizeof out, &n) != CNV_OK) abort();
    if (n != size || memcmp(out, data, size) != 0) abort();
  }
  cnv_deleg_cap cap;
  if (cnv_deleg_cap_from_path("user.create", 11, &cap) != CNV_OK) abort();
  cnv_deleg_request req = {.now = 5000, .swarm = 7, .holder = NULL, .cap = &cap, .effects = 1};
  cnv_deleg_error e1, e2;
  cnv_status s1 = cnv_deleg_verify(v, data, size, &req, NULL, &e1);
  cnv_status s2 = cnv_deleg_verify(v, data, size, &req, NULL, &e2);
  if (dst != CNV_OK && (s1 != dst || e1.link != derr.link)) abort();
  if (s1 != s2 || e1.link != e2.link) abort();
  return 0;
}
