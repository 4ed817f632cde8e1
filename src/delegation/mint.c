/* Minting: root tokens and attenuation (appending a narrower link). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deleg.h"

static int pattern_qsort_cmp(const void *a, const void *b) {
  return cnv__deleg_pattern_cmp((const cnv_deleg_pattern *)a, (const cnv_deleg_pattern *)b);
}

/* Copies cav into the link with both sets sorted, then checks the canonical form. */
static cnv_status canonical_caveats(const cnv_deleg_caveats *cav, cnv_deleg_caveats *out) {
  if (cav->n_allow > CNV_DELEG_MAX_PATTERNS || cav->n_forbid > CNV_DELEG_MAX_PATTERNS) {
    return CNV_ETOKEN_PATTERN_COUNT;
  }
  *out = *cav;
  qsort(out->allow, out->n_allow, sizeof out->allow[0], pattern_qsort_cmp);
  qsort(out->forbid, out->n_forbid, sizeof out->forbid[0], pattern_qsort_cmp);
  return cnv__deleg_caveats_check(out);
}

/* True when the public half of sk (its last 32 bytes) is the key its seed (first 32) makes:
 * a mismatched key would sign links that never verify under the issuer they name. */
static bool secret_key_consistent(const uint8_t sk[CNV_DELEG_SECRET_BYTES]) {
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  uint8_t derived[crypto_sign_SECRETKEYBYTES];
  bool ok = crypto_sign_seed_keypair(pk, derived, sk) == 0 &&
            sodium_memcmp(pk, sk + crypto_sign_SEEDBYTES, sizeof pk) == 0;
  sodium_memzero(derived, sizeof derived); /* holds the seed */
  sodium_memzero(pk, sizeof pk);
  return ok;
}

/* Fills principals, nonce and caveats of a new link signed by sk. */
static cnv_status new_link(cnv_deleg_link *l, const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                           const uint8_t audience[CNV_DELEG_KEY_BYTES], const cnv_deleg_caveats *cav,
                           const uint8_t *nonce) {
  if (!cnv__deleg_key_valid(audience) || !secret_key_consistent(sk)) return CNV_EDELEG_BAD_KEY;
  cnv_status st = canonical_caveats(cav, &l->caveats);
  if (st != CNV_OK) return st;
  /* libsodium's secret key is seed || public key: the issuer is its second half. */
  memcpy(l->issuer, sk + 32, CNV_DELEG_KEY_BYTES);
  memcpy(l->audience, audience, CNV_DELEG_KEY_BYTES);
  if (nonce) {
    memcpy(l->nonce, nonce, CNV_DELEG_NONCE_BYTES);
  } else {
    randombytes_buf(l->nonce, CNV_DELEG_NONCE_BYTES);
  }
  return CNV_OK;
}

/* Encodes link l after `prefix_len` bytes already in out, signing it with sk. */
static cnv_status append_link(cnv_deleg_link *l, const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                              uint8_t *out, size_t cap, size_t prefix_len, size_t *out_len) {
  size_t body = cnv__deleg_body_size(&l->caveats);
  *out_len = prefix_len + body + CNV_DELEG_SIG_BYTES;
  if (cap < *out_len) return CNV_ERANGE;
  cnv__deleg_body_encode(l, out + prefix_len);
  cnv__deleg_sign_body(out + prefix_len, body, sk, out + prefix_len + body);
  return CNV_OK;
}

cnv_status cnv_deleg_mint_root(const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                               const uint8_t audience[CNV_DELEG_KEY_BYTES],
                               const cnv_deleg_caveats *cav, const uint8_t *nonce, uint8_t *out,
                               size_t cap, size_t *out_len) {
  if (!sk || !audience || !cav || !out_len || (!out && cap)) return CNV_EINVAL;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  cnv_deleg_link l;
  memset(&l, 0, sizeof l); /* parent hash of a root: all zero */
  cnv_status st = new_link(&l, sk, audience, cav, nonce);
  if (st != CNV_OK) return st;
  if (cap >= CNV_DELEG_HEADER_BYTES) {
    memcpy(out, CNV__DELEG_MAGIC, 4);
    out[4] = CNV_DELEG_VERSION;
    out[5] = 1;
  }
  return append_link(&l, sk, out, cap, CNV_DELEG_HEADER_BYTES, out_len);
}

/* Checks that sk may extend the decoded token with caveats child. */
static cnv_status may_extend(const cnv_deleg_token *tok, const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                             const cnv_deleg_caveats *child) {
  const cnv_deleg_link *last = &tok->links[tok->n_links - 1];
  if (sodium_memcmp(last->audience, sk + 32, CNV_DELEG_KEY_BYTES) != 0) return CNV_EDELEG_WRONG_KEY;
  return cnv__deleg_narrows(&last->caveats, child);
}

cnv_status cnv_deleg_attenuate(const uint8_t *token, size_t len,
                               const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                               const uint8_t audience[CNV_DELEG_KEY_BYTES],
                               const cnv_deleg_caveats *cav, const uint8_t *nonce, uint8_t *out,
                               size_t cap, size_t *out_len) {
  if (!token || !sk || !audience || !cav || !out_len || (!out && cap)) return CNV_EINVAL;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  cnv_status st = cnv__deleg_parse(token, len, &tok, spans, NULL);
  if (st != CNV_OK) return st;
  if (tok.n_links == CNV_DELEG_MAX_LINKS) return CNV_ETOKEN_LINK_COUNT;
  cnv_deleg_link *l = &tok.links[tok.n_links];
  memset(l, 0, sizeof *l);
  st = new_link(l, sk, audience, cav, nonce);
  if (st == CNV_OK) st = may_extend(&tok, sk, &l->caveats);
  if (st != CNV_OK) return st;
  const cnv__deleg_span *last = &spans[tok.n_links - 1];
  cnv__deleg_hash_link(token + last->off, last->body_len + CNV_DELEG_SIG_BYTES, l->parent);
  st = append_link(l, sk, out, cap, len, out_len);
  if (st != CNV_OK) return st;
  memcpy(out, token, len);
  out[5] = (uint8_t)(tok.n_links + 1);
  return CNV_OK;
}
