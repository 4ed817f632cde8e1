/* Set-up shared by the runtime cases: one trusted root, one agent holding a root token that
 * allows user.* read-only work, and one registered capability, user.read. */
#ifndef CNV_BENCH_RT_H
#define CNV_BENCH_RT_H

#include <string.h>

#include <sodium.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"

#define BENCH_RT_LINE "user.read --id=12345 --note=bench"
#define BENCH_RT_LINE_LEN (sizeof BENCH_RT_LINE - 1)
/* stop's timeout: far longer than the drain of a full queue, so a stop that does not return
 * CNV_OK is a fault, not a slow machine. */
#define BENCH_RT_STOP_NS 10000000000ull

/* The demo.echo handler of the nats and serve cases: the line's --text value is the result
 * (CNV_EINVAL without one). */
static inline cnv_status bench_rt_echo_text(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  cnv_arg args[4];
  cnv_invocation inv;
  cnv_status st = cnv_invocation_init(&inv, args, 4);
  if (st == CNV_OK) st = cnv_parse_invocation(c->line, c->line_len, NULL, NULL, &inv);
  if (st != CNV_OK) return st;
  for (uint32_t i = 0; i < inv.count; i++) {
    const cnv_arg *a = &inv.args[i];
    if (a->kind == CNV_ARG_LONG_VALUE && a->name.len == 4 && memcmp(a->name.ptr, "text", 4) == 0)
      return cnv_runtime_result_write(r, a->value.ptr, a->value.len);
  }
  return CNV_EINVAL;
}

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

/* The timed loop of pipeline_2workers/cnv (pipeline.c), with `ledger` (NULL: none) in the
 * runtime's config: pipeline_2workers_ledger/cnv (bench/ledger) runs the same case with a
 * ledger. Creates the runtime, submits one invocation per iteration, stops it (draining), and
 * reports the invocations as items. 0, or -1 after reporting the error. */
int bench_rt_pipeline_2workers(cnv_bench_state *st, cnv_ledger *ledger);

#endif
