/* The node's parts and what they give each other. Two halves:
 *   - state (state*.c, status.c, admin.c): the swarm's key-value bucket: creating it, replaying
 *     and following its records (trust roots, revocations, key grants, join requests, node
 *     status), the swarm key, this node's own status record, the view of the other nodes;
 *   - serve (node.c, serve*.c, once*.c): the node's life cycle, the handshake responder, the
 *     capability subscriptions, the sessions table and the request path (once stream included).
 * node.c's cnv_nats_node_start calls natsn_state_start (which returns once the swarm key is
 * held), then subscribes; stop runs the other way round. */
#ifndef CNV_NATS_NODE_INTERNAL_H
#define CNV_NATS_NODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

#include <cnv/nats.h>

#include "core/atomic.h"

typedef struct natsn_state natsn_state;   /* state*.c */
typedef struct natsn_serve natsn_serve;   /* serve*.c */
typedef struct natsn_shared natsn_shared; /* shared.c */

/* cnv_nats_node_stats' counters, as atomics (cnv_nats_node_stats_get copies them out): the
 * node's NATS threads and the runtime's workers bump them at once. The serve half bumps a
 * counter before it publishes what it counts (an answer, a WELCOME), so whoever received it
 * sees it counted (a counter for something later refused or lost is taken back or stays:
 * statistics). */
typedef struct natsn_counters {
  _Atomic uint64_t handshakes, handshake_refused, handshake_limited, requests, accepted, answered, denied, claims, duplicates,
      stored_answers, takeovers, replays, stale, bad_tickets, tampered, forged, records_applied, records_bad, sessions,
      no_session;
} natsn_counters;
/* Adds one to counter `field` of node n. */
#define NATSN_COUNT(n, field) ((void)cnv__fetch_add_relaxed(&(n)->stats.field, 1))

struct cnv_nats_node {
  cnv_nats_node_config cfg; /* servers, key and token point at the copies below */
  char *servers;
  uint8_t secret_key[CNV_SW_SECRET_BYTES];
  uint8_t public_key[CNV_SW_KEY_BYTES];
  uint8_t *token;
  cnv_runtime *rt;
  natsConnection *nc; /* the main connection: core NATS and JetStream (answers aside: serve_internal.h) */
  jsCtx *js;
  natsn_state *state;
  natsn_serve *serve;
  natsn_shared *shared; /* the CRDT replicator (shared.c), between start and destroy */
  bool started, stopped;
  natsn_counters stats; /* bumped with relaxed atomic adds: statistics only, nothing is
                           ordered by them */
};

/* Emits one event to cfg.on_event, if set. */
void natsn_event(cnv_nats_node *n, const cnv_nats_event *ev);

/* ---- state half ---- */

/* Makes sure the bucket exists (creating it with cfg.replicas), replays every record, starts
 * following it, obtains the swarm key (genesis or JOIN + GRANT), starts the status record.
 * Returns once the key is held, or an error (CNV_ENATS_JETSTREAM, CNV_ENATS_TIMEOUT). */
cnv_status natsn_state_start(cnv_nats_node *n);
/* Writes the last status record (phase Stopped), stops following, frees the state. */
void natsn_state_stop(cnv_nats_node *n);
/* The current key epoch, and a copy of the swarm key of `epoch` (false: unknown epoch). Any
 * thread; never blocks on the network. */
uint32_t natsn_key_epoch(const cnv_nats_node *n);
bool natsn_swarm_key(const cnv_nats_node *n, uint32_t epoch, uint8_t key[CNV_SW_SYM_BYTES]);
/* Whether node pk's status record is live (written within 3 of its intervals); a node never
 * seen is not live. This node itself is always live. Any thread. */
bool natsn_node_live(const cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES]);
/* The once path's judgement of a started request's claimer, from the bucket now rather than
 * the view: pk is dead when its status record (read now) was stored by JetStream more than 10
 * of pk's intervals before this node's own last record (read now), or is a Shutdown record,
 * or pk has none; and wrote_ms (JetStream's timestamp of a message pk wrote, 0 none) is more
 * than 10 of this node's intervals before it too. Either read failing:
 * live (it cannot be judged). Blocks on two JetStream reads (each at most the JetStream
 * context's wait, connect_timeout_ms). Any thread but the watch's. */
bool natsn_node_live_fresh(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], uint64_t wrote_ms);

/* Whether token (held by pk) comes from one of rt's trust roots (those added since, by TRUST
 * records, too), is not revoked, and allows CNV_NATS_SERVE_CAPABILITY in this swarm: CNV_OK,
 * CNV_ENATS_NOT_AUTHORIZED, or the delegation/runtime code that refused it. Any thread. */
cnv_status natsn_check_serve_token(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], const uint8_t *token,
                                   size_t token_len);

/* ---- serve half ---- */

/* Connects count more connections with the main one's options (no callbacks), on the server
 * the main one uses first, into conns (NULL where none was made): the serve half's answer
 * connections. CNV_OK, or CNV_ENATS_CONNECT (the caller closes those made). */
cnv_status natsn_answer_conns_open(cnv_nats_node *n, natsConnection **conns, uint32_t count);

/* Subscribes to the handshake subject and every registered capability's subject. */
cnv_status natsn_serve_start(cnv_nats_node *n);
/* Unsubscribes, lets invocations in flight be answered, frees the sessions (their agents
 * removed from the runtime, their keys wiped). */
void natsn_serve_stop(cnv_nats_node *n);
/* Invocations the node has in its runtime now (for the status record). */
uint32_t natsn_serve_in_flight(const cnv_nats_node *n);

#endif
