/* Token forger for tests (forge.h): each link is minted on its own with the public API (which
 * puts its caveats in canonical order and fills issuer and nonce), the links are joined with
 * the public codec, and each is signed again over its real parent hash with libsodium, on
 * the signing input docs/delegation.md ("Signing input and hashes") defines. */
#include "forge.h"

#include <string.h>

#include <sodium.h>

/* The signature domain of a link: docs/delegation.md, "Signing input and hashes". */
static const char sign_domain[] = "libcnv/delegation/link/1";
#define SIGN_DOMAIN_BYTES (sizeof sign_domain - 1)

void tkey_make(tkey *k, uint8_t seed_byte) {
  uint8_t seed[crypto_sign_SEEDBYTES];
  memset(seed, seed_byte, sizeof seed);
  crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

void nonce_of(uint8_t n[CNV_DELEG_NONCE_BYTES], uint8_t b) { memset(n, b, CNV_DELEG_NONCE_BYTES); }

void cav_init(cnv_deleg_caveats *c) {
  memset(c, 0, sizeof *c);
  c->expiry = CNV_DELEG_NO_EXPIRY;
  c->max_uses = CNV_DELEG_UNLIMITED_USES;
  c->effects = CNV_EFFECTS_ALL;
  c->depth = 7;
}

cnv_status cav_allow(cnv_deleg_caveats *c, const char *t) {
  if (c->n_allow == CNV_DELEG_MAX_PATTERNS) return CNV_ERANGE;
  return cnv_deleg_pattern_parse(t, strlen(t), &c->allow[c->n_allow++]);
}

cnv_status cav_forbid(cnv_deleg_caveats *c, const char *t) {
  if (c->n_forbid == CNV_DELEG_MAX_PATTERNS) return CNV_ERANGE;
  return cnv_deleg_pattern_parse(t, strlen(t), &c->forbid[c->n_forbid++]);
}

cnv_status mint_for_agent(const uint8_t *root_sk, uint8_t key_byte, const cnv_deleg_caveats *c, tkey *agent,
                          uint8_t *tok, size_t *len) {
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  tkey_make(agent, key_byte);
  nonce_of(nonce, key_byte);
  return cnv_deleg_mint_root(root_sk, agent->pk, c, nonce, tok, CNV_DELEG_MAX_TOKEN_BYTES, len);
}

cnv_status agent_add_rooted(cnv_runtime *rt, const uint8_t *root_sk, uint8_t key_byte, const cnv_deleg_caveats *c,
                            uint32_t *handle) {
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  cnv_status st = mint_for_agent(root_sk, key_byte, c, &agent, tok, &len);
  return st == CNV_OK ? cnv_runtime_agent_add(rt, agent.pk, tok, len, handle) : st;
}

cnv_status agent_add_allowing(cnv_runtime *rt, const uint8_t *root_sk, uint8_t key_byte, uint32_t swarm,
                              const char *allow, cnv_effects effects, uint32_t *handle) {
  cnv_deleg_caveats c;
  cav_init(&c);
  c.swarm = swarm;
  c.effects = effects;
  cnv_status st = cav_allow(&c, allow);
  return st == CNV_OK ? agent_add_rooted(rt, root_sk, key_byte, &c, handle) : st;
}

/* Encodes tok into out and signs its last link with sk. */
static cnv_status encode_signed(cnv_deleg_token *tok, const uint8_t *sk, uint8_t *out,
                                size_t *len) {
  size_t before = CNV_DELEG_HEADER_BYTES;
  cnv_status st = CNV_OK;
  if (tok->n_links > 1) {
    tok->n_links--;
    st = cnv_deleg_token_encode(tok, out, CNV_DELEG_MAX_TOKEN_BYTES, &before);
    tok->n_links++;
  }
  if (st == CNV_OK) st = cnv_deleg_token_encode(tok, out, CNV_DELEG_MAX_TOKEN_BYTES, len);
  if (st != CNV_OK) return st;
  size_t body = *len - before - CNV_DELEG_SIG_BYTES;
  uint8_t msg[SIGN_DOMAIN_BYTES + CNV_DELEG_LINK_MAX_BYTES];
  memcpy(msg, sign_domain, SIGN_DOMAIN_BYTES);
  memcpy(msg + SIGN_DOMAIN_BYTES, out + before, body);
  uint8_t *sig = tok->links[tok->n_links - 1].signature;
  crypto_sign_detached(sig, NULL, msg, SIGN_DOMAIN_BYTES + body, sk);
  memcpy(out + before + body, sig, CNV_DELEG_SIG_BYTES);
  return CNV_OK;
}

cnv_status forge(const fspec *s, int n, uint8_t *out, size_t *len) {
  if (n < 1 || n > CNV_DELEG_MAX_LINKS) return CNV_EINVAL;
  static cnv_deleg_token chain, one; /* about 7 KiB each; tests forge on one thread */
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES], parent[CNV_DELEG_HASH_BYTES] = {0};
  for (int i = 0; i < n; i++) {
    uint8_t nonce[CNV_DELEG_NONCE_BYTES];
    size_t blen;
    nonce_of(nonce, s[i].nonce);
    cnv_status st = cnv_deleg_mint_root(s[i].issuer_sk, s[i].audience, &s[i].cav, nonce, buf,
                                        sizeof buf, &blen);
    if (st == CNV_OK) st = cnv_deleg_token_decode(buf, blen, &one, NULL);
    if (st != CNV_OK) return st;
    if (i == 0) chain = one;
    chain.links[i] = one.links[0];
    memcpy(chain.links[i].parent, parent, CNV_DELEG_HASH_BYTES);
    chain.n_links = (uint8_t)(i + 1);
    st = encode_signed(&chain, s[i].issuer_sk, out, len);
    if (st == CNV_OK) st = cnv_deleg_link_hash(out, *len, (uint32_t)i, parent);
    if (st != CNV_OK) return st;
  }
  return CNV_OK;
}
