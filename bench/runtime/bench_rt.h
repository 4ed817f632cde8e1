/* Set-up shared by the runtime cases: one trusted root, one agent holding a root token that
 * allows user.* read-only work, and one registered capability, user.read. */
#ifndef CNV_BENCH_RT_H
#define CNV_BENCH_RT_H

#include <string.h>

#include <sodium.h>

#include <cnv.h>

#define BENCH_RT_LINE "user.read --id=12345 --note=bench"
#define BENCH_RT_LINE_LEN (sizeof BENCH_RT_LINE - 1)
/* stop's timeout: far longer than the drain of a full queue, so a stop that does not return
 * CNV_OK is a fault, not a slow machine. */
#define BENCH_RT_STOP_NS 10000000000ull

/* Mints the benches' root token for agent_pk under root_sk: read-only work matching
 * pattern[0..n) in swarm 1, no expiry, unlimited uses. Returns the first failing status. */
static inline cnv_status bench_rt_mint(const uint8_t root_sk[64], const uint8_t agent_pk[32], const char *pattern,
                                       size_t n, uint8_t *tok, size_t cap, size_t *len) {
  cnv_deleg_caveats c;
  memset(&c, 0, sizeof c);
  c.expiry = CNV_DELEG_NO_EXPIRY;
  c.max_uses = CNV_DELEG_UNLIMITED_USES;
  c.effects = CNV_EFFECT_READ_ONLY;
  c.swarm = 1;
  c.n_allow = 1;
  cnv_status st = cnv_deleg_pattern_parse(pattern, n, &c.allow[0]);
  return st != CNV_OK ? st : cnv_deleg_mint_root(root_sk, agent_pk, &c, NULL, tok, cap, len);
}

/* Creates a runtime with cfg, registers user.read with spec, trusts the root, adds the agent
 * (*agent) and starts it. NULL on any failure (nothing left behind). */
static inline cnv_runtime *bench_rt_make(const cnv_runtime_config *cfg, const cnv_runtime_handler_spec *spec,
                                         uint32_t *agent) {
  uint8_t seed[32], rpk[32], rsk[64], apk[32], ask[64], tok[CNV_DELEG_MAX_TOKEN_BYTES];
  if (sodium_init() < 0) return NULL;
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(rpk, rsk, seed);
  memset(seed, 2, sizeof seed);
  crypto_sign_seed_keypair(apk, ask, seed);
  size_t len;
  cnv_runtime *rt = NULL;
  if (bench_rt_mint(rsk, apk, "user.*", 6, tok, sizeof tok, &len) != CNV_OK ||
      cnv_runtime_create(cfg, &rt) != CNV_OK) {
    return NULL;
  }
  if (cnv_runtime_register(rt, "user.read", 9, spec) != CNV_OK || cnv_runtime_trust_add(rt, rpk) != CNV_OK ||
      cnv_runtime_agent_add(rt, apk, tok, len, agent) != CNV_OK || cnv_runtime_start(rt) != CNV_OK) {
    cnv_runtime_destroy(rt);
    return NULL;
  }
  return rt;
}

#endif
