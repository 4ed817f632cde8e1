/* Delegation benchmarks. Fixed names (read by name across runs):
 *   token_verify_3link/sodium      three raw crypto_sign_verify_detached on the token's own
 *                                  signing inputs (the floor any verifier pays)
 *   token_verify_3link/cnv_cold    full verification with the cache off: parse, trust, principals,
 *                                  parent hashes, 3 signatures, attenuation, revocation, time,
 *                                  capability and effects
 *   token_verify_3link/cnv_cached  the same call answered from the verified-chain cache
 *   token_reject_replay_8link/cnv  the same expired 8-link token presented again and again
 *                                  (default verifier: answered by the negative cache)
 *   token_attenuate/cnv            cnv_deleg_attenuate of a 2-link token into a 3-link one
 *   token_attenuate/sodium         one crypto_sign_detached over the new link's signing input
 *   authorize_prepared/cached_chain  cnv_deleg_authorize of the 3-link token answered from the
 *                                  verified-chain cache (hash of the token, lookup, byte compare)
 *   authorize_prepared/cnv         cnv_deleg_prepared_authorize of the same token, holder and
 *                                  request (its snapshot: no hash, no lookup) */
#include <string.h>

#include <sodium.h>

#include <cnv/delegation.h>

#include "cnv_bench.h"
#include "delegation/deleg.h"

typedef struct bench_keys {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  uint8_t sk[CNV_DELEG_SECRET_BYTES];
} bench_keys;

static struct {
  int ready;
  bench_keys k[4];
  uint8_t tok2[CNV_DELEG_MAX_TOKEN_BYTES], tok3[CNV_DELEG_MAX_TOKEN_BYTES], tok8[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len2, len3, len8;
  cnv_deleg_caveats leaf;
  uint8_t msg[3][CNV__DELEG_SIGN_DOMAIN_BYTES + CNV_DELEG_LINK_MAX_BYTES];
  size_t msg_len[3];
  const uint8_t *sig[3];
  cnv_deleg_verifier *cold, *cached;
  cnv_deleg_cap cap;
} B;

static void caveats(int i, cnv_deleg_caveats *c) {
  memset(c, 0, sizeof *c);
  c->expiry = 1000000 - (uint64_t)i;
  c->swarm = 7;
  c->max_uses = CNV_DELEG_UNLIMITED_USES;
  c->effects = (cnv_effects)(CNV_EFFECT_READ_ONLY | (i < 2 ? CNV_EFFECT_MUTATE_STATE : 0));
  c->depth = (uint8_t)(5 - i);
  CNV_BENCH_OK(cnv_deleg_pattern_parse("user.*", 6, &c->allow[c->n_allow++]));
  if (i == 2) CNV_BENCH_OK(cnv_deleg_pattern_parse("user.create", 11, &c->allow[0]));
  CNV_BENCH_OK(cnv_deleg_pattern_parse("user.delete", 11, &c->forbid[c->n_forbid++]));
}

/* An 8-link chain k0 -> k1 -> k2 -> k3 -> k1 -> ... whose links all expired at 4000 - i. */
static int setup_expired_8link(void) {
  uint8_t buf[2][CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  for (int i = 0; i < 8; i++) {
    cnv_deleg_caveats c;
    memset(&c, 0, sizeof c);
    c.expiry = 4000 - (uint64_t)i;
    c.swarm = 7;
    c.max_uses = CNV_DELEG_UNLIMITED_USES;
    c.effects = CNV_EFFECT_READ_ONLY;
    c.depth = (uint8_t)(7 - i);
    const bench_keys *issuer = &B.k[i == 0 ? 0 : (i - 1) % 3 + 1], *audience = &B.k[i % 3 + 1];
    uint8_t *out = i == 7 ? B.tok8 : buf[i % 2];
    size_t cap = CNV_DELEG_MAX_TOKEN_BYTES, n;
    cnv_status st = i == 0 ? cnv_deleg_mint_root(issuer->sk, audience->pk, &c, NULL, out, cap, &n)
                           : cnv_deleg_attenuate(buf[(i - 1) % 2], len, issuer->sk, audience->pk, &c, NULL, out, cap, &n);
    if (st != CNV_OK) return 0;
    len = n;
  }
  B.len8 = len;
  return 1;
}

static void setup_peer_inputs(void) {
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  CNV_BENCH_OK(cnv__deleg_parse(B.tok3, B.len3, &tok, spans, NULL));
  for (int i = 0; i < 3; i++) {
    memcpy(B.msg[i], CNV__DELEG_SIGN_DOMAIN, CNV__DELEG_SIGN_DOMAIN_BYTES);
    memcpy(B.msg[i] + CNV__DELEG_SIGN_DOMAIN_BYTES, B.tok3 + spans[i].off, spans[i].body_len);
    B.msg_len[i] = CNV__DELEG_SIGN_DOMAIN_BYTES + spans[i].body_len;
    B.sig[i] = B.tok3 + spans[i].off + spans[i].body_len;
  }
}

static int setup(void) {
  if (B.ready) return B.ready > 0;
  B.ready = -1;
  if (sodium_init() < 0) return 0;
  for (int i = 0; i < 4; i++) {
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, i + 1, sizeof seed);
    crypto_sign_seed_keypair(B.k[i].pk, B.k[i].sk, seed);
  }
  uint8_t t1[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len1;
  cnv_deleg_caveats c;
  caveats(0, &c);
  if (cnv_deleg_mint_root(B.k[0].sk, B.k[1].pk, &c, NULL, t1, sizeof t1, &len1) != CNV_OK) return 0;
  caveats(1, &c);
  if (cnv_deleg_attenuate(t1, len1, B.k[1].sk, B.k[2].pk, &c, NULL, B.tok2, sizeof B.tok2, &B.len2) != CNV_OK) return 0;
  caveats(2, &B.leaf);
  if (cnv_deleg_attenuate(B.tok2, B.len2, B.k[2].sk, B.k[3].pk, &B.leaf, NULL, B.tok3, sizeof B.tok3, &B.len3) !=
      CNV_OK) {
    return 0;
  }
  setup_peer_inputs();
  if (!setup_expired_8link()) return 0;
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = 0;
  if (cnv_deleg_verifier_create(&cfg, &B.cold) != CNV_OK || cnv_deleg_verifier_create(NULL, &B.cached) != CNV_OK ||
      cnv_deleg_trust_add(B.cold, B.k[0].pk) != CNV_OK || cnv_deleg_trust_add(B.cached, B.k[0].pk) != CNV_OK) {
    return 0;
  }
  CNV_BENCH_OK(cnv_deleg_cap_from_path("user.create", 11, &B.cap));
  B.ready = 1;
  return 1;
}

static void verify_sodium(cnv_bench_state *st) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  while (cnv_bench_keep_running(st)) {
    int bad = 0;
    for (int i = 0; i < 3; i++) bad |= crypto_sign_verify_detached(B.sig[i], B.msg[i], B.msg_len[i], B.k[i].pk);
    cnv_bench_do_not_optimize(&bad);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(verify_sodium, "token_verify_3link/sodium", 1, 0)

/* *vp is read after setup(): the verifiers exist only once it ran (a case run alone, e.g. with
 * --benchmark_filter, is the first to call it). */
static void run_verify(cnv_bench_state *st, cnv_deleg_verifier *const *vp, uint64_t batch) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  cnv_deleg_verifier *v = *vp;
  cnv_deleg_request req = {.now = 5000, .swarm = 7, .holder = B.k[3].pk, .cap = &B.cap, .effects = CNV_EFFECT_READ_ONLY};
  if (cnv_deleg_verify(v, B.tok3, B.len3, &req, NULL, NULL) != CNV_OK) {
    cnv_bench_skip_with_error(st, "token does not verify");
    return;
  }
  while (cnv_bench_keep_running_batch(st, batch)) {
    for (uint64_t i = 0; i < batch; i++) {
      cnv_status s = cnv_deleg_verify(v, B.tok3, B.len3, &req, NULL, NULL);
      cnv_bench_do_not_optimize(&s);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void verify_cold(cnv_bench_state *st) { run_verify(st, &B.cold, 1); }
CNV_BENCH(verify_cold, "token_verify_3link/cnv_cold", 1, 0)

static void verify_cached(cnv_bench_state *st) { run_verify(st, &B.cached, 256); }
CNV_BENCH(verify_cached, "token_verify_3link/cnv_cached", 1, 0)

static void reject_replay(cnv_bench_state *st) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  /* k[2] holds the last link (audience k[7 % 3 + 1]); now is past every expiry + skew */
  cnv_deleg_request req = {.now = 5000, .swarm = 7, .holder = B.k[2].pk, .cap = &B.cap, .effects = CNV_EFFECT_READ_ONLY};
  if (cnv_deleg_verify(B.cached, B.tok8, B.len8, &req, NULL, NULL) != CNV_EDELEG_EXPIRED) {
    cnv_bench_skip_with_error(st, "token is not rejected as expired");
    return;
  }
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (uint64_t i = 0; i < 256; i++) {
      cnv_status s = cnv_deleg_verify(B.cached, B.tok8, B.len8, &req, NULL, NULL);
      cnv_bench_do_not_optimize(&s);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(reject_replay, "token_reject_replay_8link/cnv", 1, 0)

static void attenuate_cnv(cnv_bench_state *st) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  static const uint8_t nonce[CNV_DELEG_NONCE_BYTES] = {7};
  static uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  while (cnv_bench_keep_running(st)) {
    size_t n;
    cnv_status s = cnv_deleg_attenuate(B.tok2, B.len2, B.k[2].sk, B.k[3].pk, &B.leaf, nonce, out, sizeof out, &n);
    cnv_bench_do_not_optimize(&s);
    cnv_bench_do_not_optimize(out);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(attenuate_cnv, "token_attenuate/cnv", 1, 0)

static void attenuate_sodium(cnv_bench_state *st) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  uint8_t sig[CNV_DELEG_SIG_BYTES];
  while (cnv_bench_keep_running(st)) {
    crypto_sign_detached(sig, NULL, B.msg[2], B.msg_len[2], B.k[2].sk);
    cnv_bench_do_not_optimize(sig);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(attenuate_sodium, "token_attenuate/sodium", 1, 0)

/* The per-submit check an agent table makes: the same token, holder, capability and effects. */
static void authorize_cached_chain(cnv_bench_state *st) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  cnv_deleg_request req = {.now = 5000, .swarm = 7, .holder = B.k[3].pk, .cap = &B.cap, .effects = CNV_EFFECT_READ_ONLY};
  if (cnv_deleg_authorize(B.cached, B.tok3, B.len3, &req, NULL, NULL) != CNV_OK) {
    cnv_bench_skip_with_error(st, "token does not authorize");
    return;
  }
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (uint64_t i = 0; i < 256; i++) {
      cnv_status s = cnv_deleg_authorize(B.cached, B.tok3, B.len3, &req, NULL, NULL);
      cnv_bench_do_not_optimize(&s);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(authorize_cached_chain, "authorize_prepared/cached_chain", 1, 0)

static void authorize_prepared(cnv_bench_state *st) {
  if (!setup()) {
    cnv_bench_skip_with_error(st, "setup failed");
    return;
  }
  cnv_deleg_prepared *p = NULL;
  if (cnv_deleg_prepare(B.cached, B.tok3, B.len3, B.k[3].pk, 7, &p) != CNV_OK ||
      cnv_deleg_prepared_authorize(B.cached, p, 5000, &B.cap, CNV_EFFECT_READ_ONLY, NULL, NULL) != CNV_OK) {
    cnv_deleg_prepared_destroy(p);
    cnv_bench_skip_with_error(st, "token does not authorize");
    return;
  }
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (uint64_t i = 0; i < 256; i++) {
      cnv_status s = cnv_deleg_prepared_authorize(B.cached, p, 5000, &B.cap, CNV_EFFECT_READ_ONLY, NULL, NULL);
      cnv_bench_do_not_optimize(&s);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
  cnv_deleg_prepared_destroy(p);
}
CNV_BENCH(authorize_prepared, "authorize_prepared/cnv", 1, 0)
