/* What the nats cases (bench/nats) share: the nats-server each case starts and stops, the
 * keys and tokens of a swarm (one trust root, nodes allowed swarm.serve, an agent allowed
 * demo.*), a runtime serving demo.echo, and the figures of a latency sample.
 *
 * Every case starts its own nats-server with JetStream (-js) on 127.0.0.1, a free port and a
 * fresh temporary store directory before its loop, and stops it after (SIGTERM, SIGKILL after
 * a grace period, always reaped, the directory removed), also when it fails; the server dies
 * with the bench if the bench is killed (PR_SET_PDEATHSIG). */
#ifndef CNV_BENCH_NATS_ENV_H
#define CNV_BENCH_NATS_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"

/* The swarm every case uses (the runtime's default swarm_id, and the tokens' swarm). */
#define NB_SWARM 1
/* The echo line the cnv cases submit and the text they expect back. */
#define NB_ECHO_LINE "demo.echo --text hi"
#define NB_ECHO_TEXT "hi"
/* The load of nats_invoke (both impls): requests in flight at once, and requests per round
 * (one benchmark iteration). */
#define NB_IN_FLIGHT 64
#define NB_ROUND_CALLS 20000L
/* How long a started server has to answer (JetStream included) before the case fails. */
#define NB_START_TIMEOUT_MS 10000
/* A round with no answer for this long fails the case. */
#define NB_STALL_MS 10000

/* One nats-server with JetStream for one case. */
typedef struct nb_server {
  pid_t pid;
  uint16_t port;
  char dir[64]; /* its store (-sd) and its log */
  char url[64]; /* nats://127.0.0.1:PORT */
} nb_server;

/* Starts nats-server (on PATH, else /usr/sbin/nats-server) with -js and waits until it
 * answers a JetStream account request. 0 on success; -1 with a message in err (what failed,
 * and the first line of the server's log where it wrote one), nothing left running or on
 * disk. */
int nb_server_start(nb_server *s, char *err, size_t err_cap);
/* Stops it, reaps it, removes its directory. A server never started (pid 0) is ignored. */
void nb_server_stop(nb_server *s);

/* The swarm's keys (seeded, so every run uses the same) and tokens: a root; nodes[i] holds a
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
/* Makes the keys and mints the tokens. CNV_OK or the first failing status. */
cnv_status nb_keys_make(nb_keys *k);
void nb_keys_wipe(nb_keys *k);

/* A started runtime with `workers` workers, demo.echo registered (read_only: its handler
 * writes the line's --text value as the result) and root_pk trusted. NULL on failure (err
 * says which step), nothing left. */
cnv_runtime *nb_runtime_make(uint32_t workers, const uint8_t root_pk[32], char *err, size_t err_cap);
/* Stops and destroys it. NULL ignored. */
void nb_runtime_free(cnv_runtime *rt);

/* Monotonic nanoseconds. */
uint64_t nb_now_ns(void);
/* Sorts n values in place (ascending). */
void nb_sort_u64(uint64_t *v, size_t n);

#endif
