/* The scenario's widened token: a chain whose second link grants more than the first.
 * cnv_deleg_attenuate refuses to widen, so the chain is assembled here from public parts:
 * each link is minted (which puts its caveats in canonical order), the two are joined with
 * the public codec, and the second link is signed again over its real parent hash with
 * libsodium, on the signing input that docs/delegation.md ("Signing input and hashes")
 * defines. */
#include <string.h>

#include <sodium.h>

#include "sc_internal.h"

/* The signature domain of a link: docs/delegation.md, "Signing input and hashes". */
static const char sign_domain[] = "libcnv/delegation/link/1";
#define SIGN_DOMAIN_BYTES (sizeof sign_domain - 1)

/* Encodes tok into out and signs its last link with sk (the last link's issuer). */
static cnv_status encode_signed(cnv_deleg_token *tok, const uint8_t *sk, uint8_t *out,
                                size_t *len) {
  size_t before = 0;
  tok->n_links--;
  cnv_status st = cnv_deleg_token_encode(tok, out, CNV_DELEG_MAX_TOKEN_BYTES, &before);
  tok->n_links++;
  if (st == CNV_OK) st = cnv_deleg_token_encode(tok, out, CNV_DELEG_MAX_TOKEN_BYTES, len);
  if (st != CNV_OK) return st;
  size_t body = *len - before - CNV_DELEG_SIG_BYTES;
  uint8_t msg[SIGN_DOMAIN_BYTES + CNV_DELEG_LINK_MAX_BYTES];
  memcpy(msg, sign_domain, SIGN_DOMAIN_BYTES);
  memcpy(msg + SIGN_DOMAIN_BYTES, out + before, body);
  crypto_sign_detached(out + before + body, NULL, msg, SIGN_DOMAIN_BYTES + body, sk);
  return CNV_OK;
}

static cnv_status mint_link(const cnv__sc_key *issuer, const uint8_t *audience,
                            const cnv_deleg_caveats *c, uint8_t nonce_byte, uint8_t *buf,
                            size_t *len, cnv_deleg_token *tok) {
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  memset(nonce, nonce_byte, sizeof nonce);
  cnv_status st = cnv_deleg_mint_root(issuer->sk, audience, c, nonce, buf,
                                      CNV_DELEG_MAX_TOKEN_BYTES, len);
  return st == CNV_OK ? cnv_deleg_token_decode(buf, *len, tok, NULL) : st;
}

cnv_status cnv__sc_widened_token(const cnv__sc_key *root, const cnv__sc_key *mid,
                                 const uint8_t agent[CNV_DELEG_KEY_BYTES], uint64_t swarm,
                                 uint64_t now, uint8_t *out, size_t *len) {
  cnv_deleg_token chain, second; /* about 7 KiB each */
  cnv_deleg_caveats c0, c1;
  cnv_status st = cnv__sc_caveats_valid(&c0, swarm, now);
  if (st != CNV_OK) return st;
  c0.n_allow = 1;
  c0.depth = 1;
  if ((st = cnv_deleg_pattern_parse("user.*", 6, &c0.allow[0])) != CNV_OK) return st;
  c1 = c0;
  c1.depth = 0;
  c1.n_allow = 2;
  if ((st = cnv_deleg_pattern_parse("data.*", 6, &c1.allow[1])) != CNV_OK) return st;
  uint8_t first[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t first_len;
  if ((st = mint_link(root, mid->pk, &c0, 1, first, &first_len, &chain)) != CNV_OK) return st;
  if ((st = mint_link(mid, agent, &c1, 2, out, len, &second)) != CNV_OK) return st;
  chain.links[1] = second.links[0];
  chain.n_links = 2;
  st = cnv_deleg_link_hash(first, first_len, 0, chain.links[1].parent);
  return st == CNV_OK ? encode_signed(&chain, mid->sk, out, len) : st;
}
