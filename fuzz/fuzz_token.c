/* fuzz_token: decode + verify + re-encode of delegation tokens.
 * Properties (abort on violation):
 *   - a token that decodes re-encodes to exactly the input bytes (one canonical form);
 *   - verification fails with the decoder's status and link whenever decoding fails;
 *   - a second verification (cached path) gives the same status and link as the first;
 *   - re-signed with fixed keys (so the signature, principal and parent checks pass), the
 *     fuzzed caveats reach the rule engine: verification may only fail with a rule code, a
 *     widening reported at link i is what cnv__deleg_narrows says of links i-1 and i, and a
 *     chain that verifies narrows at every link.
 * The verifier trusts the key of seed 0x01 (the vectors' root), so corpus tokens built from
 * the vectors reach the signature and rule checks unchanged too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/core.h>
#include <cnv/delegation.h>

#include "delegation/deleg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
  cnv_deleg_verifier *v;
  uint8_t pk[CNV_DELEG_MAX_LINKS + 1][CNV_DELEG_KEY_BYTES];
  uint8_t sk[CNV_DELEG_MAX_LINKS + 1][CNV_DELEG_SECRET_BYTES];
} F;

#define FUZZ_CACHE 4096

static void make_verifier(void) {
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = FUZZ_CACHE;
  if (cnv_deleg_verifier_create(&cfg, &F.v) != CNV_OK || cnv_deleg_trust_add(F.v, F.pk[0]) != CNV_OK) abort();
}

static void init(void) {
  if (F.v) {
    /* A full cache would turn "cached equals cold" into cold vs cold: start afresh first. */
    if (cnv_deleg_cache_size(F.v) >= FUZZ_CACHE - 4) {
      cnv_deleg_verifier_destroy(F.v);
      make_verifier();
    }
    return;
  }
  if (sodium_init() < 0) abort();
  for (int i = 0; i <= CNV_DELEG_MAX_LINKS; i++) {
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, i + 1, sizeof seed);
    crypto_sign_seed_keypair(F.pk[i], F.sk[i], seed);
  }
  make_verifier();
}

static void check_raw(const uint8_t *data, size_t size, const cnv_deleg_request *req) {
  static cnv_deleg_token tok;
  static uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  cnv_deleg_error derr = {0}, e1, e2;
  cnv_status dst = cnv_deleg_token_decode(data, size, &tok, &derr);
  cnv_deleg_request r = *req;
  if (dst == CNV_OK) r.holder = tok.links[tok.n_links - 1].audience; /* the presenter is the holder */
  req = &r;
  if (dst == CNV_OK) {
    size_t n = 0;
    if (cnv_deleg_token_encode(&tok, out, sizeof out, &n) != CNV_OK) abort();
    if (n != size || memcmp(out, data, size) != 0) abort();
  }
  cnv_status s1 = cnv_deleg_verify(F.v, data, size, req, NULL, &e1);
  cnv_status s2 = cnv_deleg_verify(F.v, data, size, req, NULL, &e2);
  if (dst != CNV_OK && (s1 != dst || e1.link != derr.link)) abort();
  if (s1 != s2 || e1.link != e2.link) abort();
}

/* Rewrites tok's principals, parent hashes and signatures with the fixed keys; returns the
 * encoded length. */
static size_t resign(cnv_deleg_token *tok, uint8_t *out) {
  memcpy(out, CNV__DELEG_MAGIC, 4);
  out[4] = CNV_DELEG_VERSION;
  out[5] = tok->n_links;
  size_t pos = CNV_DELEG_HEADER_BYTES;
  uint8_t parent[CNV_DELEG_HASH_BYTES] = {0};
  for (uint8_t i = 0; i < tok->n_links; i++) {
    cnv_deleg_link *l = &tok->links[i];
    memcpy(l->issuer, F.pk[i], CNV_DELEG_KEY_BYTES);
    memcpy(l->audience, F.pk[i + 1], CNV_DELEG_KEY_BYTES);
    memcpy(l->parent, parent, CNV_DELEG_HASH_BYTES);
    size_t body = cnv__deleg_body_size(&l->caveats);
    cnv__deleg_body_encode(l, out + pos);
    cnv__deleg_sign_body(out + pos, body, F.sk[i], out + pos + body);
    cnv__deleg_hash_link(out + pos, body + CNV_DELEG_SIG_BYTES, parent);
    pos += body + CNV_DELEG_SIG_BYTES;
  }
  return pos;
}

static bool is_widening(cnv_status st) {
  return st == CNV_EDELEG_WIDENED_ALLOW || st == CNV_EDELEG_DROPPED_FORBIDDEN || st == CNV_EDELEG_WIDENED_EFFECTS ||
         st == CNV_EDELEG_WIDENED_WINDOW || st == CNV_EDELEG_WIDENED_USES || st == CNV_EDELEG_DEPTH ||
         st == CNV_EDELEG_WIDENED_SWARM;
}

static void check_rules(const uint8_t *data, size_t size, const cnv_deleg_request *req) {
  static cnv_deleg_token tok;
  static uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  if (cnv_deleg_token_decode(data, size, &tok, NULL) != CNV_OK) return;
  size_t n = resign(&tok, buf);
  cnv_deleg_request r = *req;
  r.holder = F.pk[tok.n_links];
  cnv_deleg_error err;
  cnv_status st = cnv_deleg_verify(F.v, buf, n, &r, NULL, &err);
  if (st == CNV_EDELEG_BAD_SIGNATURE || st == CNV_EDELEG_MISALIGNED || st == CNV_EDELEG_PARENT_HASH ||
      st == CNV_EDELEG_UNTRUSTED_ROOT || (st <= CNV_ETOKEN_TRUNCATED && st >= CNV_ETOKEN_BAD_WINDOW)) {
    abort();
  }
  if (is_widening(st) && (err.link < 1 || cnv__deleg_narrows(&tok.links[err.link - 1].caveats,
                                                             &tok.links[err.link].caveats) != st)) {
    abort();
  }
  for (int i = 1; st == CNV_OK && i < tok.n_links; i++) {
    if (cnv__deleg_narrows(&tok.links[i - 1].caveats, &tok.links[i].caveats) != CNV_OK) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  cnv_deleg_cap cap;
  if (cnv_deleg_cap_from_path("user.create", 11, &cap) != CNV_OK) abort();
  cnv_deleg_request req = {.now = 5000, .swarm = 7, .holder = F.pk[1], .cap = &cap, .effects = 1};
  check_raw(data, size, &req);
  check_rules(data, size, &req);
  return 0;
}
