/* The serve half's parts (serve.c, sessions.c, request.c, once.c) and what they share: the
 * sessions table, the pool of per-request slots, the capability subscriptions. */
#ifndef CNV_NATS_SERVE_INTERNAL_H
#define CNV_NATS_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cnv/protocol.h>

#include "node_internal.h"
#include "records.h" /* natsn_now_ms */

/* The longest line a runtime accepts (cnv_runtime_config.max_line is at most 4000): a longer
 * one is denied before anything is kept. */
#define NATSN_MAX_LINE 4000u
/* The header that names the slot in this node's pool whose JetStream publish (a claim, a
 * takeover, a stored answer) a message is, for the ack handler. */
#define NATSN_HDR_SLOT "Cnv-Slot"
/* A result-less answer's buffer: its RESPONSE payload, then the sealed RESPONSE. */
#define NATSN_SMALL_PLAIN 64u
#define NATSN_SMALL_ANSWER (NATSN_SMALL_PLAIN + NATSN_SMALL_PLAIN + CNV_SW_RESPONSE_OVERHEAD)
/* At most this many answer connections per node (struct natsn_serve), whatever the runtime's
 * number of workers. */
#define NATSN_ANSWER_CONNS_MAX 8u

/* ---- sessions.c: opened tickets, by session id ---- */

typedef struct natsn_session {
  uint8_t sid[CNV_SW_SID_BYTES];
  uint8_t key_c2s[CNV_SW_SYM_BYTES];
  uint8_t key_s2c[CNV_SW_SYM_BYTES];
  uint64_t expires_ms;
  uint32_t agent; /* the runtime agent of the ticket's holder key and token */
  uint32_t pins;  /* once-path requests between their claim and their submit: not evicted */
  cnv_replay_window window;
  /* the stripe's links: LRU list (indices, UINT32_MAX none) and hash chain */
  uint32_t lru_prev, lru_next, hash_next;
  bool used;
} natsn_session;

typedef struct natsn_sessions natsn_sessions;
typedef struct natsn_stripe natsn_stripe;

/* A table of at most max sessions (split in stripes, each its own LRU). Errors: CNV_ENOMEM. */
cnv_status natsn_sessions_create(cnv_nats_node *n, uint32_t max, natsn_sessions **out);
/* Removes every session's agent from the runtime, wipes the keys, frees. NULL ignored. */
void natsn_sessions_destroy(natsn_sessions *ss);
/* Locks sid's stripe (*stripe), returns its session (made most recently used) or NULL. The
 * caller unlocks with natsn_sessions_unlock whatever the answer. */
natsn_session *natsn_sessions_lock(natsn_sessions *ss, const uint8_t sid[CNV_SW_SID_BYTES], natsn_stripe **stripe);
void natsn_sessions_unlock(natsn_stripe *stripe);
/* With the stripe locked and sid absent: opens a ticket's session (agent added verified by
 * the caller, its keys copied), evicting the least recently used unpinned session of the
 * stripe when full (its agent removed, its keys wiped). NULL: every session is pinned. */
natsn_session *natsn_sessions_insert(natsn_sessions *ss, natsn_stripe *stripe, const cnv_sw_ticket *t, uint32_t agent);
/* Unpins s (a pinned session's slot still points at it): locks its stripe. */
void natsn_sessions_unpin(natsn_sessions *ss, natsn_session *s);

/* ---- serve.c: the slot pool and the answers ---- */

typedef enum natsn_slot_kind {
  NATSN_SLOT_FAST = 0,     /* submitted, answered to the reply subject */
  NATSN_SLOT_CLAIM = 1,    /* once path: claim published, ack awaited */
  NATSN_SLOT_TAKEOVER = 2, /* once path: takeover published, ack awaited */
  NATSN_SLOT_RUN = 3,      /* once path: submitted, answer stored on the DONE subject */
  NATSN_SLOT_STORE = 4,    /* once path: answer published on the DONE subject, ack awaited */
  NATSN_SLOT_START = 5     /* once path: run marker published after the claim, ack awaited */
} natsn_slot_kind;

/* One request's state from acceptance to answer, preallocated (the runtime's in-flight limit
 * of them): nothing is allocated per request. */
typedef struct natsn_slot {
  struct natsn_serve *serve;
  uint32_t index;
  natsn_slot_kind kind;
  uint64_t reqid;
  uint8_t sid[CNV_SW_SID_BYTES];
  uint8_t key_s2c[CNV_SW_SYM_BYTES];
  char reply[CNV_SW_SUBJECT_MAX];
  /* once path only */
  /* under the pool's lock: this slot holds once-path request (once_sid, once_reqid) from its
   * claim until its answer is stored (natsn_once_running_elsewhere) */
  bool once_active;
  uint8_t once_sid[CNV_SW_SID_BYTES];
  uint64_t once_reqid;
  natsn_session *session; /* pinned until submitted */
  uint32_t agent;
  uint64_t timeout_ns;     /* the runtime's: 0 the class's limit */
  natsMsg *pending;        /* the claim in flight (identity only: nats.c owns it) */
  uint64_t claim_seq;      /* the stream sequence of this node's stored claim (the run marker's
                        * expected last subject sequence) */
  bool took_over;          /* that claim was a takeover (counted when it runs) */
  uint64_t retry_until_ms; /* monotonic: an unanswered run marker or answer is published
                            * again until then (a retry of the client may come until then) */
  size_t line_len;
  char line[NATSN_MAX_LINE];
  cnv_trace trace;
  bool has_trace;
} natsn_slot;

struct natsn_serve;

/* One registered capability's queue subscription and its scratch (a subscription's callbacks
 * run on one thread, one message at a time: the scratch is its own). */
typedef struct natsn_cap {
  struct natsn_serve *serve;
  char *path;
  size_t path_len;
  cnv_effects effects;
  int32_t cls;
  bool once;
  char subject[CNV_SW_SUBJECT_MAX];
  natsSubscription *sub;
  uint8_t *plain; /* max_message */
  size_t plain_cap;
  uint8_t answer[NATSN_SMALL_ANSWER];
  uint8_t ticket_plain[CNV_SW_MAX_TICKET];
} natsn_cap;

/* A worker's buffers for sealing an answer (max_result plus the framing). */
typedef struct natsn_wbuf {
  uint8_t *plain, *sealed;
  size_t plain_cap, sealed_cap;
} natsn_wbuf;

struct natsn_serve {
  cnv_nats_node *n;
  char stream[CNV_SW_SUBJECT_MAX];
  /* "cnv.S.s.": every REPLY subject of this swarm starts with it (request.c reads them) */
  char reply_prefix[CNV_SW_SUBJECT_MAX];
  size_t reply_prefix_len;
  natsSubscription *hs_sub;
  natsn_cap *caps;
  size_t n_caps;
  natsn_sessions *sessions;
  /* slot pool: a stack of free indices under pool_lock; idle signalled when all are free */
  natsn_slot *slots;
  uint32_t n_slots, n_free;
  uint32_t *free_stack;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_idle;
  _Atomic uint32_t in_flight; /* slots taken (natsn_serve_in_flight) */
  /* answer buffers: one per runtime worker, and one under spare_lock for completions that
   * no worker delivers (stop's thread) */
  natsn_wbuf *wbufs;
  uint32_t n_wbufs;
  natsn_wbuf spare;
  pthread_mutex_t spare_lock;
  /* answer connections: worker i publishes its answers on answer_nc[i % n_answer_nc] rather
   * than on the main connection, whose lock every publish holds across its send system call
   * and its reader thread takes after every read; one per worker up to
   * NATSN_ANSWER_CONNS_MAX, made at start, closed at stop once no answer is left to send */
  natsConnection *answer_nc[NATSN_ANSWER_CONNS_MAX];
  uint32_t n_answer_nc;
  /* the handshake's scratch (its subscription's one thread) */
  uint8_t *hs_ticket, *hs_welcome;
  size_t hs_welcome_cap;
  /* the connection's closed callback ran (node.c waits for it: nats.c runs the connection's
   * callbacks on its own thread, in order, and the disconnected one comes before) */
  bool closed;
  pthread_mutex_t closed_lock;
  pthread_cond_t closed_cv;
  /* the publish-ack handler's scratch (the JetStream context's one reply thread): a
   * result-less answer, and a stored answer opened to check it (a worker buffer's size) */
  uint8_t ack_answer[NATSN_SMALL_ANSWER];
  uint8_t *ack_plain;
  size_t ack_plain_cap;
  /* the handshake's token bucket (its subscription's one thread): milli-HELLOs, refilled at
   * cfg.max_handshakes_per_s up to a second's worth */
  uint64_t hs_tokens, hs_refill_ms;
};

/* Allocates n->serve (at node create: it lives as long as the node, so the state half's
 * status record may read natsn_serve_in_flight at any time). Errors: CNV_ENOMEM. */
cnv_status natsn_serve_create(cnv_nats_node *n);
/* Frees n->serve (after natsn_serve_stop, or when start never ran). */
void natsn_serve_destroy(cnv_nats_node *n);

natsn_slot *natsn_slot_get(natsn_serve *s);
void natsn_slot_put(natsn_serve *s, natsn_slot *slot);

/* Seals a result-less answer (status, done kind) for reqid under key_s2c into buf (cap) and
 * publishes it to subject with core NATS; counts it (answered, and denied when refused). */
void natsn_answer_small(natsn_serve *s, const char *subject, const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid,
                        cnv_status status, uint8_t done, uint8_t buf[NATSN_SMALL_ANSWER]);
/* Seals that answer into buf only: the sealed bytes (*len of them), NULL on failure. */
const uint8_t *natsn_seal_small(const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid, cnv_status status,
                                uint8_t done, uint8_t buf[NATSN_SMALL_ANSWER], size_t *len);
/* Publishes a plain REFUSAL of reqid to subject (bad_tickets counted by the caller). */
void natsn_refuse(natsn_serve *s, const char *subject, uint64_t reqid, cnv_status status);

/* ---- request.c ---- */

/* The capability subscriptions' message callback (closure: its natsn_cap). */
void natsn_on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure);
/* Submits a slot's line to the runtime, the answer going through natsn_on_done. CNV_OK:
 * accepted (the slot is the runtime's until on_done); otherwise the runtime's refusal. */
cnv_status natsn_submit(natsn_serve *s, natsn_slot *slot, uint32_t agent, const char *line, size_t len,
                        uint64_t timeout_ns, const cnv_trace *trace);

/* ---- once.c ---- */

/* Ensures the once stream exists (created with cfg.replicas when absent). Errors:
 * CNV_ENATS_JETSTREAM. */
cnv_status natsn_once_ensure_stream(natsn_serve *s);
/* Publishes the claim of a filled slot (its session pinned); the rest runs in the ack
 * handler. On a failure to publish the slot is answered (with buf), unpinned and given back
 * here. */
void natsn_once_claim(natsn_serve *s, natsn_slot *slot, uint8_t buf[NATSN_SMALL_ANSWER]);
/* Publishes a once-path answer (sealed bytes) on the DONE subject of slot's request with
 * JetStream (asynchronously; stored, so a retry gets it) and gives the slot back once
 * JetStream acknowledged it (or, not stored, once the answer went to the reply subject). */
void natsn_once_store(natsn_serve *s, natsn_slot *slot, const uint8_t *sealed, size_t len);
/* The JetStream context's publish-ack handler (closure: the node). */
void natsn_once_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

#endif
