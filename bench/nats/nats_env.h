/* What the nats cases (bench/nats) share: the nats-servers each case starts and stops, the
 * keys and tokens of a swarm (one trust root, nodes allowed swarm.serve, an agent allowed
 * demo.*), a runtime serving demo.echo.
 *
 * Every case starts its own nats-server(s) with JetStream on 127.0.0.1, free ports and a fresh
 * temporary directory before its loop (tests/support/nats_cluster.h: started from the
 * benchmark's thread, the main one, which outlives them), and stops them after, also when it
 * fails; nothing is left running or on disk, also when the bench is killed. */
#ifndef CNV_BENCH_NATS_ENV_H
#define CNV_BENCH_NATS_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "support/nats_cluster.h"

/* The swarm every case uses (the runtime's default swarm_id, and the tokens' swarm). */
#define NB_SWARM 1
/* The echo line the cnv cases submit and the text they expect back. */
#define NB_ECHO_LINE "demo.echo --text hi"
#define NB_ECHO_TEXT "hi"
/* The load of nats_invoke (both impls): requests in flight at once, and requests per round
 * (one benchmark iteration). */
#define NB_IN_FLIGHT 64
#define NB_ROUND_CALLS 20000L
/* A round with no answer for this long fails the case. */
#define NB_STALL_MS 10000

/* The nats-servers of one case: nats_cluster_start(n) (tests/support/nats_cluster.h) with the
 * reason in err when it fails (the Debian package named when there is no nats-server). */
int nb_servers_start(int n, nats_cluster **out, char *err, size_t err_cap);

/* The swarm's keys (seeded, so every run uses the same) and tokens: a root; node i holds a
 * root token allowing swarm.serve in NB_SWARM; the agent holds one allowing demo.* read-only
 * work in NB_SWARM. Secret keys are wiped by nb_keys_wipe. */
#define NB_MAX_NODES 3
typedef struct nb_keys {
  uint8_t root_pk[32], root_sk[64];
  uint8_t agent_pk[32], agent_sk[64];
  uint8_t agent_token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t agent_token_len;
  uint8_t node_pk[NB_MAX_NODES][32], node_sk[NB_MAX_NODES][64];
  uint8_t node_token[NB_MAX_NODES][CNV_DELEG_MAX_TOKEN_BYTES];
  size_t node_token_len[NB_MAX_NODES];
} nb_keys;
/* A root token from root_sk for holder_pk allowing `pattern` with `effects` in NB_SWARM, no
 * expiry, unlimited uses, depth 4, into tok (CNV_DELEG_MAX_TOKEN_BYTES). CNV_OK or the first
 * failing status. */
cnv_status nb_mint(const uint8_t root_sk[64], const uint8_t holder_pk[32], const char *pattern, cnv_effects effects,
                   uint8_t *tok, size_t *len);
/* Makes the keys and mints the tokens. CNV_OK or the first failing status. */
cnv_status nb_keys_make(nb_keys *k);
void nb_keys_wipe(nb_keys *k);

/* A started runtime with `workers` workers, demo.echo registered (read_only: its handler
 * writes the line's --text value as the result) and root_pk trusted. NULL on failure (err
 * says which step), nothing left. */
cnv_runtime *nb_runtime_make(uint32_t workers, const uint8_t root_pk[32], char *err, size_t err_cap);
/* Stops and destroys it. NULL ignored. */
void nb_runtime_free(cnv_runtime *rt);

/* The loop of a case whose iteration is one round of NB_ROUND_CALLS calls on fx: round(fx)
 * each iteration, timed, then stop(fx); reports the calls per second, or the error of the
 * round that failed (the loop ends at it, through cnv_bench_keep_running). round returns 0, or
 * -1 with err set. */
typedef int (*nb_round_fn)(void *fx, char *err, size_t err_cap);
void nb_rounds_run(cnv_bench_state *st, void *fx, nb_round_fn round, void (*stop)(void *fx));

/* Monotonic nanoseconds (cnv_runtime_now_ns). */
uint64_t nb_now_ns(void);
/* Sorts n values in place (ascending). */
void nb_sort_u64(uint64_t *v, size_t n);

#endif
