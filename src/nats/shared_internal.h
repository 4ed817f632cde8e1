/* The swarm's shared state (shared.c): the node's replicator, its transport over cnv.S.crdt
 * and its values; admin.c reads snapshots with the same envelope. */
#ifndef CNV_NATS_SHARED_INTERNAL_H
#define CNV_NATS_SHARED_INTERNAL_H

#include <stdint.h>

#include <cnv/crdt.h>
#include <cnv/nats.h>

#define NATSN_SHARED_CAPS "caps"     /* OR-Set of "NODE:PATH" */
#define NATSN_SHARED_SERVED "served" /* G-Counter of invocations answered */

/* The replica id of the node with key pk at generation gen (BLAKE2b-64, never 0). Pure. */
uint64_t natsn_replica_of(const uint8_t pk[CNV_SW_KEY_BYTES], uint32_t gen);
/* Checks a message of cnv.S.crdt (generation, node key, signature, replication message):
 * its signature by the key it names over the swarm, the generation and the message. *from:
 * the replica id; *pk and *msg point into buf. CNV_ECRDT_MALFORMED (size, generation),
 * CNV_ESW_PROOF (signature). Who the key belongs to is the caller's check. */
cnv_status natsn_envelope_open(uint64_t swarm, const uint8_t *buf, size_t len, uint64_t *from, const uint8_t **pk,
                               const uint8_t **msg, size_t *msg_len);
/* Creates the replicator, subscribes to cnv.S.crdt and starts the thread that ticks it every
 * status interval. After natsn_state_start. */
cnv_status natsn_shared_start(cnv_nats_node *n);
/* Stops the thread, takes this node's capabilities out (one last tick), unsubscribes. */
void natsn_shared_stop(cnv_nats_node *n);
/* Frees (after the connection closed). NULL shared ignored. */
void natsn_shared_destroy(cnv_nats_node *n);
/* Reads a replicator holding the node values (the node's or an observer's). */
cnv_status natsn_shared_caps(cnv_crdt_repl *r, cnv_nats_cap_fn fn, void *ctx);
cnv_status natsn_shared_served(cnv_crdt_repl *r, uint64_t *out);

#endif
