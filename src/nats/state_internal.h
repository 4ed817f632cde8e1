/* The node's state half inside (docs/nats.md "Swarm state"): what state.c, records.c,
 * swarm_key.c and status.c share. One mutex (mu) guards everything here but the key epoch and
 * the keys themselves, which are published lock-free (see natsn_state_set_key). */
#ifndef CNV_NATS_STATE_INTERNAL_H
#define CNV_NATS_STATE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "node_internal.h"
#include "records.h"

#define NATSN_MAX_EPOCHS 8u          /* swarm key epochs kept (1..8) */
#define NATSN_MAX_PENDING_JOINS 256u /* JOINs seen before this node held the key */

typedef struct natsn_peer {
  uint8_t pk[CNV_SW_KEY_BYTES];
  cnv_sw_node_status status;
  uint64_t record_ms; /* the record's time (its author's clock) */
  uint64_t seen_ms;   /* when it was written, on this process's monotonic clock */
} natsn_peer;

struct natsn_state {
  kvStore *kv;
  kvWatcher *watcher;
  pthread_t watch_thread, status_thread;
  bool watch_started, status_started;

  pthread_mutex_t mu;
  pthread_cond_t cv; /* the key arrived; stop asked (CLOCK_MONOTONIC) */
  bool stopping;
  uint8_t pending[NATSN_MAX_PENDING_JOINS][CNV_SW_KEY_BYTES];
  uint32_t n_pending;
  natsn_peer *peers; /* NATSN_MAX_PEERS */
  uint32_t n_peers;

  /* The keys held: bit e - 1 of held for epoch e, epoch the highest (0: none). Written under
   * mu, read lock-free: release stores after keys[e - 1] is written, acquire loads before it is
   * read. A held key is never written again until stop wipes it. */
  _Atomic uint32_t held;
  _Atomic uint32_t epoch;
  uint8_t keys[NATSN_MAX_EPOCHS][CNV_SW_SYM_BYTES];

  uint64_t started_ms; /* CLOCK_REALTIME when start began (the status record's) */
  uint8_t *buf;        /* NATSN_MAX_RECORD bytes: records written by the start or status path */
  uint8_t *watch_buf;  /* the same for the watch thread (grants it writes) */
};

/* Applies one bucket entry (key name, value): verifies it and changes state only when it
 * verifies (records.c). replay: delivered as part of the initial values. Called from the start
 * thread during replay, then from the watch thread only; buf: that thread's NATSN_MAX_RECORD
 * scratch buffer (for the grants it may write). */
void natsn_record_apply(cnv_nats_node *n, const char *key, const void *val, size_t len, bool replay, uint8_t *buf);

/* Signs a record of kind for id with the node's key and token and puts it under its key name;
 * create: kvStore_Create (fails when the key exists) instead of kvStore_Put. buf: a
 * NATSN_MAX_RECORD scratch buffer the caller owns. Errors: CNV_ENATS_JETSTREAM, the codec's. */
CNV_NODISCARD cnv_status natsn_record_put(cnv_nats_node *n, uint8_t *buf, cnv_sw_record_kind kind, const uint8_t id[32],
                                          const void *body, size_t body_len, bool create);

/* Waits on s->cv for up to ms (monotonic clock); mu held by the caller (state.c). */
void natsn_cv_wait_ms(natsn_state *s, uint64_t ms);

/* The configuration's limits with their defaults applied (state.c). */
uint32_t natsn_connect_timeout(const cnv_nats_node *n);
uint32_t natsn_status_interval(const cnv_nats_node *n);

/* Holding the key (swarm_key.c). */
/* Keeps key as epoch's (ignored when that epoch is held already), then grants it to the nodes
 * whose JOIN came before (with buf). Takes mu. */
void natsn_state_set_key(cnv_nats_node *n, uint32_t epoch, const uint8_t key[CNV_SW_SYM_BYTES], uint8_t *buf);
/* A verified GRANT record's body: for this node, opens it and holds the key (CNV_ESW_OPEN when
 * it does not open); for another node, nothing. */
CNV_NODISCARD cnv_status natsn_grant_received(cnv_nats_node *n, const uint8_t *body, size_t len, uint8_t *buf);
/* A valid JOIN from node pk: grants it the key when held, else remembers it for later. */
void natsn_join_received(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], uint8_t *buf);
/* After the replay: genesis (first node) or JOIN, then waits for the key up to
 * connect_timeout_ms. Errors: CNV_ENATS_JETSTREAM, CNV_ENATS_TIMEOUT. */
CNV_NODISCARD cnv_status natsn_key_obtain(cnv_nats_node *n);

/* Status (status.c). */
/* A valid NODE record of pk: updates the view. replay: its age comes from its own time. */
void natsn_peer_update(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], const cnv_sw_node_status *st,
                       uint64_t record_ms, bool replay);
/* Writes this node's status record now with phase (status thread, and stop). */
CNV_NODISCARD cnv_status natsn_status_write(cnv_nats_node *n, uint8_t *buf, int phase);
CNV_NODISCARD cnv_status natsn_status_start(cnv_nats_node *n);
/* Stops and joins the status thread; false when it was not started. */
bool natsn_status_stop(cnv_nats_node *n);

/* Emits a RECORD_BAD event and counts it. */
void natsn_record_bad(cnv_nats_node *n, const uint8_t signer[CNV_SW_KEY_BYTES], uint64_t record_ms, cnv_status why);

#endif
