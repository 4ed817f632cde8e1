/* The scenario's agents: one trusted root, and tokens of every kind the verifier must deny
 * (expired, revoked, widened, forged, use-limited, untrusted) beside valid ones, all made
 * with the public delegation API (the widened chain: widened.c). */
#include <string.h>

#include <sodium.h>

#include "sc_internal.h"

uint64_t cnv__sc_next(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

int cnv__sc_kind(uint32_t i) {
  int k = (int)(i % CNV__SC_KINDS);
  return k < 3 || k == 9 ? CNV__SC_VALID : k;
}

static void key_make(cnv__sc_key *k, uint64_t *prng) {
  uint8_t seed[crypto_sign_SEEDBYTES];
  for (size_t i = 0; i < sizeof seed; i += 8) {
    uint64_t r = cnv__sc_next(prng);
    memcpy(seed + i, &r, 8);
  }
  crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static cnv_status add_pattern(cnv_deleg_caveats *c, const char *text) {
  return cnv_deleg_pattern_parse(text, strlen(text), &c->allow[c->n_allow++]);
}

/* The caveats of a valid agent token. */
cnv_status cnv__sc_caveats_valid(cnv_deleg_caveats *c, uint64_t swarm, uint64_t now) {
  memset(c, 0, sizeof *c);
  c->not_before = now - 600;
  c->expiry = now + 86400;
  c->swarm = swarm;
  c->max_uses = CNV_DELEG_UNLIMITED_USES;
  c->effects = CNV_EFFECT_READ_ONLY | CNV_EFFECT_MUTATE_STATE | CNV_EFFECT_IDEMPOTENT;
  static const char *const allow[] = {"data.*", "fleet.*", "log.*", "net.*", "user.*"};
  for (size_t i = 0; i < sizeof allow / sizeof allow[0]; i++) {
    cnv_status st = add_pattern(c, allow[i]);
    if (st != CNV_OK) return st;
  }
  c->n_forbid = 1;
  return cnv_deleg_pattern_parse("user.delete", 11, &c->forbid[0]);
}

/* Mints agent i's token of its kind into out. */
static cnv_status token_of(int kind, const cnv__sc_key *root, const cnv__sc_key *other,
                           const cnv__sc_key *agent, uint64_t swarm, uint64_t now, uint8_t *out,
                           size_t *len) {
  if (kind == CNV__SC_WIDENED) {
    return cnv__sc_widened_token(root, other, agent->pk, swarm, now, out, len);
  }
  cnv_deleg_caveats c;
  cnv_status st = cnv__sc_caveats_valid(&c, swarm, now);
  if (st != CNV_OK) return st;
  if (kind == CNV__SC_EXPIRED) {
    c.not_before = now - 7200;
    c.expiry = now - 3600;
  }
  if (kind == CNV__SC_USES) c.max_uses = CNV__SC_USES_GRANTED;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  memcpy(nonce, agent->pk, sizeof nonce);
  const cnv__sc_key *issuer = kind == CNV__SC_UNTRUSTED ? other : root;
  st = cnv_deleg_mint_root(issuer->sk, agent->pk, &c, nonce, out, CNV_DELEG_MAX_TOKEN_BYTES, len);
  if (st == CNV_OK && kind == CNV__SC_FORGED) out[*len - 1] ^= 0x5A;
  return st;
}

/* Adds one agent whose token is of `kind`; *handle gets its handle. */
static cnv_status agent_add(cnv_runtime *rt, int kind, const cnv__sc_key *root,
                            const cnv__sc_key *other, uint64_t *prng, uint64_t swarm,
                            uint64_t now, uint32_t *handle) {
  cnv__sc_key agent;
  key_make(&agent, prng);
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  cnv_status st = token_of(kind, root, other, &agent, swarm, now, tok, &len);
  if (st == CNV_OK) st = cnv_runtime_agent_add(rt, agent.pk, tok, len, handle);
  if (st == CNV_OK && kind == CNV__SC_REVOKED) {
    uint8_t hash[CNV_DELEG_HASH_BYTES];
    st = cnv_deleg_link_hash(tok, len, 0, hash);
    if (st == CNV_OK) st = cnv_runtime_revoke(rt, hash);
  }
  return st;
}

cnv_status cnv__sc_agents_add(cnv_runtime *rt, uint64_t seed, uint32_t agents, uint64_t swarm,
                              uint64_t now_s, cnv__sc_tick_fn tick, void *ctx,
                              uint32_t *ready, uint32_t *throttled) {
  *ready = 0;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  uint64_t prng = seed ^ 0xA5A5A5A5DEADBEEFu;
  cnv__sc_key root, other;
  key_make(&root, &prng);
  key_make(&other, &prng);
  cnv_status st = cnv_runtime_trust_add(rt, root.pk);
  uint32_t handle = 0;
  for (uint32_t i = 0; st == CNV_OK && i < agents && !tick(ctx, i); i++) {
    st = agent_add(rt, cnv__sc_kind(i), &root, &other, &prng, swarm, now_s, &handle);
    if (st == CNV_OK) *ready = i + 1;
  }
  if (st == CNV_OK && *ready == agents) {
    st = agent_add(rt, CNV__SC_VALID, &root, &other, &prng, swarm, now_s, throttled);
    if (st == CNV_OK) st = cnv_runtime_agent_rate(rt, *throttled, CNV__SC_RATE_PER_S, CNV__SC_RATE_BURST);
  }
  sodium_memzero(root.sk, sizeof root.sk);
  sodium_memzero(other.sk, sizeof other.sk);
  return st;
}
