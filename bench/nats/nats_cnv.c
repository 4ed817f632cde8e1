/* nats_invoke/cnv and nats_invoke_once/cnv: sealed, token-checked echo calls through one
 * local nats-server, NB_IN_FLIGHT in flight, as nats_invoke/raw's load.
 *
 * Each case builds its fixture before its loop and tears it down after: one nats-server with
 * JetStream (nats_env.h), a runtime with the default 2 workers serving demo.echo (read_only)
 * and trusting one root, a cnv_nats_node in front of it (its token from that root allows
 * swarm.serve in the swarm), and a cnv_nats_client for an agent whose token from the root
 * allows demo.* (the handshake is made once, before the loop). Every call goes the whole way:
 * the client seals the INVOCATION (AEAD; the session's first send carries the ticket, the
 * others not) and publishes it on the capability's subject; the node opens the ticket once
 * (the session cached by its id, which later requests take from their reply subject), checks
 * the replay window and the time, opens the request, submits it to the runtime (parse,
 * capability, phase, the agent's prepared token, queue); a worker runs the handler; the node
 * seals the RESPONSE and publishes it to the reply subject; the client opens it, and the
 * callback checks the echoed text.
 *
 * nats_invoke/cnv: the node's default delivery (demo.echo is read_only: no claim).
 * nats_invoke_once/cnv: the node runs with CNV_NATS_ONCE_ALL, so every call is first claimed
 * in the swarm's once stream (a JetStream publish with a message id, acknowledged) and its
 * answer stored there (a JetStream publish to the DONE subject) before the client sees it: the
 * cost of exactly-once delivery, shown beside the fast path.
 *
 * The client is driven from the benchmark's thread: each turn tops the calls in flight up to
 * NB_IN_FLIGHT (cnv_nats_client_submit) and polls for answers (cnv_nats_client_poll, which
 * runs the callbacks). One benchmark iteration is one round of NB_ROUND_CALLS calls; the rate
 * reported is the calls of every round over the rounds' time. */
#include <stdio.h>
#include <string.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "nats_env.h"

#define POLL_MS 100

typedef struct cnv_fixture {
  nats_cluster *servers;
  nb_keys keys;
  cnv_runtime *rt;
  cnv_nats_node *node;
  cnv_nats_client *client;
} cnv_fixture;

static void cnv_stop(void *arg) {
  cnv_fixture *fx = arg;
  cnv_nats_client_close(fx->client);
  fx->client = NULL;
  if (fx->node) {
    cnv_status st = cnv_nats_node_stop(fx->node);
    if (st != CNV_OK) fprintf(stderr, "nats bench: cnv_nats_node_stop: %s\n", cnv_strerror(st));
    cnv_nats_node_destroy(fx->node);
    fx->node = NULL;
  }
  nb_runtime_free(fx->rt);
  fx->rt = NULL;
  nats_cluster_stop(fx->servers);
  fx->servers = NULL;
  nb_keys_wipe(&fx->keys);
}

static int cnv_start(cnv_fixture *fx, cnv_nats_once once, char *err, size_t err_cap) {
  memset(fx, 0, sizeof *fx);
  cnv_status st = nb_keys_make(&fx->keys);
  if (st != CNV_OK) {
    snprintf(err, err_cap, "minting the tokens: %s", cnv_strerror(st));
    nb_keys_wipe(&fx->keys);
    return -1;
  }
  if (nb_servers_start(1, &fx->servers, err, err_cap) != 0) {
    nb_keys_wipe(&fx->keys);
    return -1;
  }
  fx->rt = nb_runtime_make(2, fx->keys.root_pk, err, err_cap);
  if (!fx->rt) {
    cnv_stop(fx);
    return -1;
  }
  cnv_nats_node_config ncfg;
  cnv_nats_node_config_default(&ncfg);
  ncfg.servers = nats_cluster_url(fx->servers, 0);
  ncfg.swarm = NB_SWARM;
  ncfg.secret_key = fx->keys.node_sk[0];
  ncfg.token = fx->keys.node_token[0];
  ncfg.token_len = fx->keys.node_token_len[0];
  ncfg.once = once;
  cnv_nats_client_config ccfg;
  cnv_nats_client_config_default(&ccfg);
  ccfg.servers = nats_cluster_url(fx->servers, 0);
  ccfg.swarm = NB_SWARM;
  ccfg.secret_key = fx->keys.agent_sk;
  ccfg.token = fx->keys.agent_token;
  ccfg.token_len = fx->keys.agent_token_len;
  ccfg.trust = fx->keys.root_pk;
  ccfg.n_trust = 1;
  ccfg.max_in_flight = NB_IN_FLIGHT;
  const char *step = NULL;
  if ((st = cnv_nats_node_create(&ncfg, fx->rt, &fx->node)) != CNV_OK) {
    fx->node = NULL;
    step = "cnv_nats_node_create";
  } else if ((st = cnv_nats_node_start(fx->node)) != CNV_OK) {
    step = "cnv_nats_node_start";
  } else if ((st = cnv_nats_client_connect(&ccfg, &fx->client)) != CNV_OK) {
    fx->client = NULL;
    step = "cnv_nats_client_connect";
  }
  if (step) {
    snprintf(err, err_cap, "%s: %s", step, cnv_strerror(st));
    cnv_stop(fx);
    return -1;
  }
  return 0;
}

typedef struct cnv_round {
  long done;
  cnv_status failure; /* the first answer that was not the echo (CNV_OK: none) */
  const char *failed_at;
} cnv_round;

static void on_done(void *ctx, const cnv_nats_result *r) {
  cnv_round *round = ctx;
  round->done++;
  if (round->failure != CNV_OK) return;
  if (r->status != CNV_OK) {
    round->failure = r->status;
    round->failed_at = "a call's answer";
  } else if (r->result_len != sizeof NB_ECHO_TEXT - 1 || memcmp(r->result, NB_ECHO_TEXT, r->result_len) != 0) {
    round->failure = CNV_EINVAL;
    round->failed_at = "a call's echo";
  }
}

/* One round: NB_ROUND_CALLS calls, NB_IN_FLIGHT in flight. 0, or -1 with err set. */
static int cnv_round_run(void *arg, char *err, size_t err_cap) {
  cnv_fixture *fx = arg;
  cnv_round round = {0};
  long submitted = 0;
  uint64_t last_progress = nb_now_ns();
  while (round.done < NB_ROUND_CALLS) {
    while (submitted - round.done < NB_IN_FLIGHT && submitted < NB_ROUND_CALLS) {
      cnv_status st =
          cnv_nats_client_submit(fx->client, NB_ECHO_LINE, sizeof NB_ECHO_LINE - 1, 0, on_done, &round, NULL);
      if (st == CNV_EFULL) break; /* wait for answers */
      if (st != CNV_OK) {
        snprintf(err, err_cap, "cnv_nats_client_submit: %s", cnv_strerror(st));
        return -1;
      }
      submitted++;
    }
    unsigned completed = 0;
    cnv_status st = cnv_nats_client_poll(fx->client, POLL_MS, &completed);
    if (st != CNV_OK) {
      snprintf(err, err_cap, "cnv_nats_client_poll: %s", cnv_strerror(st));
      return -1;
    }
    if (round.failure != CNV_OK) {
      snprintf(err, err_cap, "%s: %s", round.failed_at, cnv_strerror(round.failure));
      return -1;
    }
    uint64_t now = nb_now_ns();
    if (completed > 0)
      last_progress = now;
    else if (now - last_progress > (uint64_t)NB_STALL_MS * 1000000u) {
      snprintf(err, err_cap, "no answer for %d ms (%ld of %ld done)", NB_STALL_MS, round.done, NB_ROUND_CALLS);
      return -1;
    }
  }
  return 0;
}

static void invoke_case(cnv_bench_state *st, cnv_nats_once once) {
  static cnv_fixture fx;
  char err[256];
  if (cnv_start(&fx, once, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  nb_rounds_run(st, &fx, cnv_round_run, cnv_stop);
}

static void nats_invoke_cnv(cnv_bench_state *st) { invoke_case(st, CNV_NATS_ONCE_EFFECTFUL); }
CNV_BENCH(nats_invoke_cnv, "nats_invoke/cnv", 1, 0)

static void nats_invoke_once_cnv(cnv_bench_state *st) { invoke_case(st, CNV_NATS_ONCE_ALL); }
CNV_BENCH(nats_invoke_once_cnv, "nats_invoke_once/cnv", 1, 0)
