/* What the nats cases share: see nats_env.h. */
#include "nats_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../runtime/bench_rt.h"

uint64_t nb_now_ns(void) { return cnv_runtime_now_ns(); }

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

void nb_sort_u64(uint64_t *v, size_t n) { qsort(v, n, sizeof v[0], cmp_u64); }

void nb_rounds_run(cnv_bench_state *st, void *fx, nb_round_fn round, void (*stop)(void *fx)) {
  char err[256];
  double seconds = 0, total = 0;
  int failed = 0;
  while (cnv_bench_keep_running(st)) {
    if (failed) continue; /* a failed round ends the loop through keep_running; reported after */
    uint64_t t0 = nb_now_ns();
    if (round(fx, err, sizeof err) != 0) {
      failed = 1;
      continue;
    }
    seconds += (double)(nb_now_ns() - t0) / 1e9;
    total += NB_ROUND_CALLS;
  }
  stop(fx);
  if (failed) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  cnv_bench_set_rate(st, seconds > 0 ? total / seconds : 0);
}

int nb_servers_start(int n, nats_cluster **out, char *err, size_t err_cap) {
  if (nats_cluster_start(n, out) == 0) return 0;
  *out = NULL;
  snprintf(err, err_cap, "%s", nats_cluster_error());
  return -1;
}

/* ---- keys and tokens ------------------------------------------------------------------- */

cnv_status nb_mint(const uint8_t root_sk[64], const uint8_t holder_pk[32], const char *pattern, cnv_effects effects,
                   uint8_t *tok, size_t *len) {
  cnv_deleg_caveats c;
  memset(&c, 0, sizeof c);
  c.expiry = CNV_DELEG_NO_EXPIRY;
  c.max_uses = CNV_DELEG_UNLIMITED_USES;
  c.effects = effects;
  c.swarm = NB_SWARM;
  c.depth = 4;
  c.n_allow = 1;
  cnv_status st = cnv_deleg_pattern_parse(pattern, strlen(pattern), &c.allow[0]);
  return st != CNV_OK ? st : cnv_deleg_mint_root(root_sk, holder_pk, &c, NULL, tok, CNV_DELEG_MAX_TOKEN_BYTES, len);
}

cnv_status nb_keys_make(nb_keys *k) {
  memset(k, 0, sizeof *k);
  if (sodium_init() < 0) return CNV_ENOMEM;
  uint8_t seed[32];
  memset(seed, 0x41, sizeof seed);
  crypto_sign_seed_keypair(k->root_pk, k->root_sk, seed);
  memset(seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair(k->agent_pk, k->agent_sk, seed);
  cnv_status st = nb_mint(k->root_sk, k->agent_pk, "demo.*", CNV_EFFECT_READ_ONLY, k->agent_token, &k->agent_token_len);
  for (int i = 0; i < NB_MAX_NODES && st == CNV_OK; i++) {
    memset(seed, 0x50 + i, sizeof seed);
    crypto_sign_seed_keypair(k->node_pk[i], k->node_sk[i], seed);
    /* As `cnv token mint --allow swarm.serve --swarm S` makes it: no effects. */
    st = nb_mint(k->root_sk, k->node_pk[i], CNV_NATS_SERVE_CAPABILITY, 0, k->node_token[i], &k->node_token_len[i]);
  }
  return st;
}

void nb_keys_wipe(nb_keys *k) {
  sodium_memzero(k->root_sk, sizeof k->root_sk);
  sodium_memzero(k->agent_sk, sizeof k->agent_sk);
  sodium_memzero(k->node_sk, sizeof k->node_sk);
}

/* ---- the runtime ----------------------------------------------------------------------- */

cnv_runtime *nb_runtime_make(uint32_t workers, const uint8_t root_pk[32], char *err, size_t err_cap) {
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = workers;
  cfg.swarm_id = NB_SWARM;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = bench_rt_echo_text};
  cnv_runtime *rt = NULL;
  const char *step = NULL;
  cnv_status st;
  if ((st = cnv_runtime_create(&cfg, &rt)) != CNV_OK)
    step = "cnv_runtime_create";
  else if ((st = cnv_runtime_register(rt, "demo.echo", 9, &spec)) != CNV_OK)
    step = "cnv_runtime_register";
  else if ((st = cnv_runtime_trust_add(rt, root_pk)) != CNV_OK)
    step = "cnv_runtime_trust_add";
  else if ((st = cnv_runtime_start(rt)) != CNV_OK)
    step = "cnv_runtime_start";
  if (step) {
    snprintf(err, err_cap, "%s: %s", step, cnv_strerror(st));
    cnv_runtime_destroy(rt);
    return NULL;
  }
  return rt;
}

void nb_runtime_free(cnv_runtime *rt) {
  if (!rt) return;
  cnv_status st = cnv_runtime_stop(rt, BENCH_RT_STOP_NS);
  if (st != CNV_OK) fprintf(stderr, "nats bench: cnv_runtime_stop: %s\n", cnv_strerror(st));
  cnv_runtime_destroy(rt);
}
