/* Test support: an in-process transport for the crdt replicator (include/cnv/crdt.h
 * "Replication"). Replicators attach to a hub by index; what they send is queued (never
 * delivered inside send) and crdt_hub_deliver hands the queue to the receivers, losing,
 * duplicating and reordering messages as the hub was told, drawn from its seed: a run is
 * repeatable from its seed. A link can be cut (every message on it lost). Not thread-safe:
 * one thread drives a hub and its replicators. */
#ifndef CNV_TEST_CRDT_HUB_H
#define CNV_TEST_CRDT_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/crdt.h>

#define CRDT_HUB_MAX 16

typedef struct crdt_hub crdt_hub;

/* A hub losing loss_pct and duplicating dup_pct percent of the messages, delivering them in a
 * random order when reorder. NULL: no memory. */
crdt_hub *crdt_hub_create(uint64_t seed, unsigned loss_pct, unsigned dup_pct, bool reorder);
void crdt_hub_destroy(crdt_hub *h);
void crdt_hub_set_faults(crdt_hub *h, unsigned loss_pct, unsigned dup_pct);
/* The transport of slot i (0..CRDT_HUB_MAX-1), sending as replica id. */
cnv_crdt_transport crdt_hub_port(crdt_hub *h, size_t i, uint64_t id);
/* Attaches replicator r to slot i (NULL detaches: messages for it are dropped). */
void crdt_hub_attach(crdt_hub *h, size_t i, cnv_crdt_repl *r);
/* Cuts (or restores) the link from slot i to slot j. */
void crdt_hub_cut(crdt_hub *h, size_t i, size_t j, bool cut);
/* Delivers every queued message (reordered, duplicated, lost); returns how many arrived. A
 * receive error other than CNV_OK is counted in *errors (may be NULL). */
size_t crdt_hub_deliver(crdt_hub *h, size_t *errors);
/* The next number of the hub's generator (for the tests' own choices under the same seed). */
uint64_t crdt_hub_rand(crdt_hub *h);

#endif
