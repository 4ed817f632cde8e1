/* Test support: keys, caveat builders and a token forger that signs chains without the
 * narrowing checks (to build the widened tokens cnv_deleg_attenuate refuses to make). Uses
 * only libcnv's public API and libsodium, so any module's tests may use it. Link with
 * tests/support/forge.c. */
#ifndef CNV_TEST_FORGE_H
#define CNV_TEST_FORGE_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/delegation.h>
#include <cnv/runtime.h>

typedef struct tkey {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  uint8_t sk[CNV_DELEG_SECRET_BYTES];
} tkey;

/* Key pair from a seed of 32 copies of one byte (libsodium must be initialized). */
void tkey_make(tkey *k, uint8_t seed_byte);
/* Nonce of 16 copies of one byte. */
void nonce_of(uint8_t n[CNV_DELEG_NONCE_BYTES], uint8_t b);
/* Empty pattern sets, all effects, no limits, depth 7. */
void cav_init(cnv_deleg_caveats *c);
/* Appends one allowed / forbidden pattern. Errors: those of cnv_deleg_pattern_parse,
 * CNV_ERANGE (set full). */
cnv_status cav_allow(cnv_deleg_caveats *c, const char *text);
cnv_status cav_forbid(cnv_deleg_caveats *c, const char *text);

/* A root token signed by root_sk for the agent whose key pair tkey_make(agent, key_byte)
 * makes, with caveats c and a nonce of key_byte, into tok (CNV_DELEG_MAX_TOKEN_BYTES); *len
 * gets its size. Errors: those of cnv_deleg_mint_root. */
cnv_status mint_for_agent(const uint8_t *root_sk, uint8_t key_byte, const cnv_deleg_caveats *c, tkey *agent,
                          uint8_t *tok, size_t *len);
/* Adds to rt the agent of mint_for_agent's token; *handle gets its handle. Errors: those of
 * mint_for_agent and cnv_runtime_agent_add. */
cnv_status agent_add_rooted(cnv_runtime *rt, const uint8_t *root_sk, uint8_t key_byte, const cnv_deleg_caveats *c,
                            uint32_t *handle);
/* agent_add_rooted with a token that allows one pattern, allow, with effects in swarm and has
 * no other limit. Errors: those of cav_allow and agent_add_rooted. */
cnv_status agent_add_allowing(cnv_runtime *rt, const uint8_t *root_sk, uint8_t key_byte, uint32_t swarm,
                              const char *allow, cnv_effects effects, uint32_t *handle);

/* One link for the forger: issuer's secret key, audience, caveats, nonce byte. */
typedef struct fspec {
  const uint8_t *issuer_sk;
  const uint8_t *audience;
  cnv_deleg_caveats cav;
  uint8_t nonce;
} fspec;

/* Signs the links of s[0..n) into one token (parent hashes chained, every signature valid,
 * no rule between a link and its parent checked) in out (CNV_DELEG_MAX_TOKEN_BYTES); *len
 * gets its size. Each link's caveats must be mintable on their own (canonical window, set
 * sizes). Errors: those of cnv_deleg_mint_root and the codec, CNV_EINVAL (n outside 1..8). */
cnv_status forge(const fspec *s, int n, uint8_t *out, size_t *len);

#endif
