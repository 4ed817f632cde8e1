/* revocation_spread/cnv: how long a revocation made on one node takes to be enforced on
 * every node of a 3-node swarm.
 *
 * The fixture (built before the loop, torn down after): 3 nats-servers with JetStream,
 * clustered (nats_env.h), and 3 cnv_nats_nodes in this process, node i connected to server i,
 * each in front of its own runtime (one worker) trusting the same root, each with its own key
 * and a token from that root allowing swarm.serve; node 0 starts first (it makes the swarm
 * key), nodes 1 and 2 join. The bucket has one replica (the nodes' default), on whichever
 * server JetStream placed it: the record reaches the other servers' watchers over the
 * cluster's routes. Every node
 * reports through its on_event hook when it applied a revocation record (CNV_NATS_EV_REVOKED:
 * cnv_runtime_revoke done, so its runtime refuses the link from then on).
 *
 * One benchmark iteration is one round of SPREAD_REVOCATIONS revocations, one after another:
 * the root mints a fresh token (for a fresh key: a link nobody revoked before), and
 * cnv_nats_node_revoke on node 0 writes a REVOKE record for its link hash into the swarm's
 * bucket; each revocation's spread is the time from that call to the last of the 3 nodes'
 * REVOKED events for that hash (node 0's own included: it applies the record when its watch
 * delivers it, like every other node). A round gives the median and the maximum of its
 * spreads; the case reports the medians over its rounds of both, as counters median_ms and
 * max_ms, and the median as its figure (cnv_bench_set_value, label "ms"; no peer). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "nats_env.h"

#define SPREAD_NODES 3
#define SPREAD_SERVERS 3 /* clustered; node i connects to server i */
#define SPREAD_REVOCATIONS 100
#define SPREAD_MAX_ROUNDS 256u /* rounds whose figures are kept (the latest) */
#define SPREAD_WAIT_MS 10000   /* a revocation not applied everywhere in this time fails */

typedef struct spread_fixture spread_fixture;

typedef struct spread_node {
  spread_fixture *fx;
  int index;
  cnv_runtime *rt;
  cnv_nats_node *node;
} spread_node;

struct spread_fixture {
  nats_cluster *servers;
  nb_keys keys;
  spread_node nodes[SPREAD_NODES];
  /* The revocation being timed; the nodes' event threads write seen_ns under the lock. */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint8_t target[CNV_SW_HASH_BYTES];
  uint64_t seen_ns[SPREAD_NODES]; /* 0: not yet */
  int seen;
};

/* A node's event thread: the time it applied the revocation being timed. */
static void on_event(void *ctx, const cnv_nats_event *ev) {
  spread_node *sn = ctx;
  if (ev->kind != CNV_NATS_EV_REVOKED) return;
  uint64_t now = nb_now_ns();
  spread_fixture *fx = sn->fx;
  pthread_mutex_lock(&fx->lock);
  if (memcmp(ev->id, fx->target, sizeof fx->target) == 0 && fx->seen_ns[sn->index] == 0) {
    fx->seen_ns[sn->index] = now;
    if (++fx->seen == SPREAD_NODES) pthread_cond_broadcast(&fx->cond);
  }
  pthread_mutex_unlock(&fx->lock);
}

static void spread_stop(spread_fixture *fx) {
  for (int i = SPREAD_NODES - 1; i >= 0; i--) {
    spread_node *sn = &fx->nodes[i];
    if (sn->node) {
      cnv_status st = cnv_nats_node_stop(sn->node);
      if (st != CNV_OK) fprintf(stderr, "nats bench: cnv_nats_node_stop: %s\n", cnv_strerror(st));
      cnv_nats_node_destroy(sn->node);
      sn->node = NULL;
    }
    nb_runtime_free(sn->rt);
    sn->rt = NULL;
  }
  nats_cluster_stop(fx->servers);
  fx->servers = NULL;
  nb_keys_wipe(&fx->keys);
  pthread_cond_destroy(&fx->cond);
  pthread_mutex_destroy(&fx->lock);
}

static int spread_start(spread_fixture *fx, char *err, size_t err_cap) {
  memset(fx, 0, sizeof *fx);
  pthread_mutex_init(&fx->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&fx->cond, &ca);
  pthread_condattr_destroy(&ca);
  cnv_status st = nb_keys_make(&fx->keys);
  if (st != CNV_OK) {
    snprintf(err, err_cap, "minting the tokens: %s", cnv_strerror(st));
    spread_stop(fx);
    return -1;
  }
  if (nb_servers_start(SPREAD_SERVERS, &fx->servers, err, err_cap) != 0) {
    spread_stop(fx);
    return -1;
  }
  /* Node 0 first: it finds the swarm empty and makes the key; 1 and 2 join and are granted. */
  for (int i = 0; i < SPREAD_NODES; i++) {
    spread_node *sn = &fx->nodes[i];
    sn->fx = fx;
    sn->index = i;
    sn->rt = nb_runtime_make(1, fx->keys.root_pk, err, err_cap);
    if (!sn->rt) {
      spread_stop(fx);
      return -1;
    }
    cnv_nats_node_config cfg;
    cnv_nats_node_config_default(&cfg);
    cfg.servers = nats_cluster_url(fx->servers, i % SPREAD_SERVERS);
    cfg.swarm = NB_SWARM;
    cfg.secret_key = fx->keys.node_sk[i];
    cfg.token = fx->keys.node_token[i];
    cfg.token_len = fx->keys.node_token_len[i];
    cfg.on_event = on_event;
    cfg.event_ctx = sn;
    const char *step = NULL;
    if ((st = cnv_nats_node_create(&cfg, sn->rt, &sn->node)) != CNV_OK) {
      sn->node = NULL;
      step = "cnv_nats_node_create";
    } else if ((st = cnv_nats_node_start(sn->node)) != CNV_OK) {
      step = "cnv_nats_node_start";
    }
    if (step) {
      snprintf(err, err_cap, "node %d: %s: %s", i, step, cnv_strerror(st));
      spread_stop(fx);
      return -1;
    }
  }
  return 0;
}

/* A fresh link: a root token for a fresh key; its link hash into hash. */
static cnv_status fresh_link(const spread_fixture *fx, uint8_t hash[CNV_SW_HASH_BYTES]) {
  uint8_t pk[32], sk[64], tok[CNV_DELEG_MAX_TOKEN_BYTES];
  crypto_sign_keypair(pk, sk);
  sodium_memzero(sk, sizeof sk); /* only the public key is named in the token */
  size_t len;
  cnv_status st = nb_mint(fx->keys.root_sk, pk, "demo.*", CNV_EFFECT_READ_ONLY, tok, &len);
  if (st == CNV_OK) st = cnv_deleg_link_hash(tok, len, 0, hash);
  return st;
}

/* One revocation, timed: the ns from cnv_nats_node_revoke to the last node's REVOKED event
 * into *spread. 0, or -1 with err set. */
static int revoke_one(spread_fixture *fx, uint64_t *spread, char *err, size_t err_cap) {
  uint8_t hash[CNV_SW_HASH_BYTES];
  cnv_status st = fresh_link(fx, hash);
  if (st != CNV_OK) {
    snprintf(err, err_cap, "minting a fresh token: %s", cnv_strerror(st));
    return -1;
  }
  pthread_mutex_lock(&fx->lock);
  memcpy(fx->target, hash, sizeof hash);
  memset(fx->seen_ns, 0, sizeof fx->seen_ns);
  fx->seen = 0;
  pthread_mutex_unlock(&fx->lock);
  uint64_t t0 = nb_now_ns();
  st = cnv_nats_node_revoke(fx->nodes[0].node, hash);
  if (st != CNV_OK) {
    snprintf(err, err_cap, "cnv_nats_node_revoke: %s", cnv_strerror(st));
    return -1;
  }
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += SPREAD_WAIT_MS / 1000;
  int rc = 0;
  pthread_mutex_lock(&fx->lock);
  while (fx->seen < SPREAD_NODES && rc == 0) rc = pthread_cond_timedwait(&fx->cond, &fx->lock, &until);
  int seen = fx->seen;
  uint64_t last = 0;
  for (int i = 0; i < SPREAD_NODES; i++)
    if (fx->seen_ns[i] > last) last = fx->seen_ns[i];
  pthread_mutex_unlock(&fx->lock);
  if (seen < SPREAD_NODES) {
    snprintf(err, err_cap, "a revocation reached %d of %d nodes in %d ms", seen, SPREAD_NODES, SPREAD_WAIT_MS);
    return -1;
  }
  *spread = last > t0 ? last - t0 : 0;
  return 0;
}

static void revocation_spread_cnv(cnv_bench_state *st) {
  static spread_fixture fx;
  static uint64_t medians[SPREAD_MAX_ROUNDS], maxima[SPREAD_MAX_ROUNDS];
  char err[256];
  if (spread_start(&fx, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  size_t rounds = 0;
  int failed = 0;
  while (cnv_bench_keep_running(st)) {
    if (failed) continue; /* a failed round ends the loop through keep_running; reported after */
    uint64_t spread[SPREAD_REVOCATIONS];
    for (int i = 0; i < SPREAD_REVOCATIONS && !failed; i++) failed = revoke_one(&fx, &spread[i], err, sizeof err) != 0;
    if (failed) continue;
    nb_sort_u64(spread, SPREAD_REVOCATIONS);
    medians[rounds % SPREAD_MAX_ROUNDS] = spread[SPREAD_REVOCATIONS / 2];
    maxima[rounds % SPREAD_MAX_ROUNDS] = spread[SPREAD_REVOCATIONS - 1];
    rounds++;
  }
  spread_stop(&fx);
  if (failed) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  size_t kept = rounds < SPREAD_MAX_ROUNDS ? rounds : SPREAD_MAX_ROUNDS;
  if (kept == 0) return;
  nb_sort_u64(medians, kept);
  nb_sort_u64(maxima, kept);
  double median_ms = (double)medians[kept / 2] / 1e6, max_ms = (double)maxima[kept / 2] / 1e6;
  cnv_bench_set_value(st, median_ms, "ms");
  cnv_bench_set_counter(st, "median_ms", median_ms);
  cnv_bench_set_counter(st, "max_ms", max_ms);
}
CNV_BENCH(revocation_spread_cnv, "revocation_spread/cnv", 1, 0)
