/* libcnv nats: one swarm on many machines, over NATS (docs/nats.md). Built on the NATS C
 * client (libnats) and JetStream; the bytes are swarmwire's (include/cnv/swarmwire.h).
 *
 * Three objects, each with its own NATS connection (a node's answers go on connections of
 * their own: one per runtime worker, at most 8, beside the main one):
 *   - cnv_nats_node: puts an embedder's started cnv_runtime into swarm S. It serves every
 *     registered capability on its subject in queue group "cnv.S" (one node of those that have
 *     the capability gets each invocation), answers handshakes, keeps the swarm's shared state
 *     (trust roots, revocations, the swarm key, the nodes' status) from the swarm's JetStream
 *     key-value bucket, replaying it on start and following it after, and publishes its own
 *     status there. A node is authorized by its token: from one of the runtime's trust roots,
 *     held by the node's key, allowing `swarm.serve`, valid in swarm S.
 *   - cnv_nats_client: an agent's way in. One handshake with any node gives a ticket every node
 *     accepts; then sealed invocations on the capabilities' subjects, answers by request/reply,
 *     retries with the same request id when an answer does not come in time.
 *   - cnv_nats_admin: writes and reads the bucket without serving (`cnv swarm status`,
 *     `cnv swarm revoke`, `cnv swarm trust`).
 *
 * Delivery (docs/nats.md "Exactly once"): a capability not declared read_only or idempotent
 * (and every capability with CNV_NATS_ONCE_ALL) runs only after its node claimed the request
 * in the swarm's once stream (JetStream; its duplicate window is the dedupe window), and its
 * answer is stored there before the client can see it: a retry of a request that completed gets
 * the stored answer, a retry of one whose claimer died (its status record went stale) is taken
 * over by exactly one node, a retry while the claimer lives is answered "in progress" and the
 * client waits. Read-only and idempotent capabilities skip the claim (a retry may run them
 * again, which by their declaration changes nothing).
 *
 * The library never prints and never aborts. Strings (servers, paths) are copied. */
#ifndef CNV_NATS_H
#define CNV_NATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt.h"
#include "runtime.h"
#include "status.h"
#include "swarmwire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The capability path a node's token must allow to serve (and to write records). */
#define CNV_NATS_SERVE_CAPABILITY "swarm.serve"

/* Which capabilities go through the claim (the once stream) before they run. */
typedef enum cnv_nats_once {
  CNV_NATS_ONCE_EFFECTFUL = 0, /* those not declared read_only or idempotent (the default) */
  CNV_NATS_ONCE_ALL = 1        /* every capability */
} cnv_nats_once;

/* Something the node applied or noticed (for tests, benchmarks and logs). Runs on one of the
 * node's NATS threads: keep it short, never call the node from it. */
typedef enum cnv_nats_event_kind {
  CNV_NATS_EV_KEY_READY = 1,    /* the node holds the swarm key: it answers handshakes now */
  CNV_NATS_EV_REVOKED = 2,      /* a revocation record was applied (cnv_runtime_revoke) */
  CNV_NATS_EV_TRUSTED = 3,      /* a trust record was applied (cnv_runtime_trust_add) */
  CNV_NATS_EV_RECORD_BAD = 4,   /* a record was ignored: bad signature, token or signer */
  CNV_NATS_EV_DISCONNECTED = 5, /* the NATS connection dropped (the client reconnects) */
  CNV_NATS_EV_RECONNECTED = 6
} cnv_nats_event_kind;
typedef struct cnv_nats_event {
  cnv_nats_event_kind kind;
  uint8_t id[32];     /* REVOKED: the link hash; TRUSTED: the root; RECORD_BAD: the signer */
  uint64_t record_ms; /* the record's time (its author's clock), 0 when none */
  cnv_status status;  /* RECORD_BAD: why */
} cnv_nats_event;
typedef void (*cnv_nats_event_fn)(void *ctx, const cnv_nats_event *ev);

/* ---- Node ------------------------------------------------------------------------------------ */

typedef struct cnv_nats_node_config {
  const char *servers;       /* "nats://HOST:PORT[,nats://HOST:PORT...]"; required */
  uint64_t swarm;            /* 1..; required; the runtime's swarm_id must be the same */
  const uint8_t *secret_key; /* the node's Ed25519 secret key, CNV_SW_SECRET_BYTES; copied,
                                  wiped at destroy */
  const uint8_t *token;      /* the node's token (see above); copied */
  size_t token_len;
  cnv_nats_once once;            /* default CNV_NATS_ONCE_EFFECTFUL */
  uint32_t dedupe_window_ms;     /* the once stream's duplicate window and age limit; requests
                                  whose client time is further than half of it from the node's
                                  are refused (CNV_ENATS_STALE); 0: 120000; at least 10000 */
  uint32_t ticket_ttl_ms;        /* tickets this node issues live this long; 0: 3600000 */
  uint32_t status_interval_ms;   /* the node's status record is rewritten this often; a node whose
                                  record is older than 3 intervals counts as dead; 0: 1000 */
  uint32_t max_sessions;         /* opened tickets kept (each with its replay window and runtime
                                  agent; the least recently used goes first); 0: 4096 */
  uint32_t replicas;             /* JetStream replicas of the bucket and the stream when this node
                                  creates them; 0: 1; at most 5 */
  uint32_t connect_timeout_ms;   /* start: connecting and reaching JetStream; 0: 10000 */
  uint32_t max_message;          /* largest request accepted (larger ones are dropped); 0: 65536 +
                                  CNV_SW_MAX_TICKET; 1024 .. 64 MiB */
  uint32_t max_handshakes_per_s; /* HELLOs this node answers per second (a token bucket holding
                                    a second's worth): each costs signature checks, a token
                                    verification and an X25519, so a flood costs bounded work;
                                    the HELLOs beyond it are dropped before any check (counted
                                    handshake_limited; the agent's request times out); 0: 1000;
                                    at most 1000000 */
  cnv_nats_event_fn on_event;    /* NULL: none */
  void *event_ctx;
} cnv_nats_node_config;
/* Zeroes cfg (defaults; servers, swarm, key and token to set). NULL ignored. */
CNV_API void cnv_nats_node_config_default(cnv_nats_node_config *cfg);

typedef struct cnv_nats_node cnv_nats_node;

/* Creates a node in front of rt (not owned; created, capabilities registered, trust roots
 * added, started; it must outlive the node). Checks the node's own token against rt's trust
 * roots now (CNV_ENATS_NOT_AUTHORIZED with no swarm.serve in this swarm, or the delegation
 * code). Connects nothing yet. Errors: CNV_EINVAL (NULL, missing field, swarm not rt's),
 * CNV_ERANGE (a limit out of range), CNV_ENATS_NOT_AUTHORIZED, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_create(const cnv_nats_node_config *cfg, cnv_runtime *rt,
                                                      cnv_nats_node **out);
/* Connects (its main connection and its answer connections, one per runtime worker up to 8;
 * the NATS client reconnects each by itself after, forever), makes sure the bucket and
 * the once stream exist (creating them when absent), replays every record of the bucket
 * (applying trust roots and revocations before serving anything), obtains the swarm key (the
 * first node of a swarm makes it; a later one writes a JOIN record and waits for a GRANT from
 * any node that holds the key), subscribes to the handshake and capability subjects and starts
 * the status record. Blocks until it serves, or connect_timeout_ms. Errors: CNV_EINVAL,
 * CNV_ESTATE (started before), CNV_ENATS_CONNECT, CNV_ENATS_JETSTREAM (JetStream missing or
 * refusing), CNV_ENATS_TIMEOUT (no swarm key granted in time), CNV_ENOMEM. Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_start(cnv_nats_node *n);
/* Unsubscribes (the queue groups stop giving this node work), lets invocations in flight
 * complete and answers them (up to rt's own stop), writes its status record one last time with
 * phase Stopped, closes its connections. Idempotent. Errors: CNV_EINVAL. Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_stop(cnv_nats_node *n);
/* Stops if needed, wipes the keys, frees. NULL ignored. */
CNV_API void cnv_nats_node_destroy(cnv_nats_node *n);

/* Writes a REVOKE record for link hash into the bucket, signed by this node: every node of the
 * swarm (this one too) applies it when its watch delivers it. Returns once JetStream stored
 * it. Any thread after start. Errors: CNV_EINVAL, CNV_ESTATE (not started), CNV_ENATS_JETSTREAM,
 * CNV_ENATS_TIMEOUT. Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_revoke(cnv_nats_node *n, const uint8_t hash[CNV_SW_HASH_BYTES]);

typedef struct cnv_nats_node_stats {
  uint64_t handshakes; /* WELCOMEs with a ticket */
  uint64_t handshake_refused;
  uint64_t handshake_limited; /* HELLOs dropped unread: over max_handshakes_per_s */
  uint64_t requests;          /* REQUESTs received */
  uint64_t accepted;          /* submitted to the runtime and accepted */
  uint64_t answered;          /* sealed answers sent */
  uint64_t denied;            /* answered with a denial or refusal */
  uint64_t claims;            /* claims made (once path) */
  uint64_t duplicates;        /* requests whose claim was already there (retries, replays) */
  uint64_t stored_answers;    /* of those, answered from the once stream */
  uint64_t takeovers;         /* claims taken over (not started by their claimer) and run here */
  uint64_t replays;           /* refused by the replay window */
  uint64_t stale;             /* refused: client time outside the window */
  uint64_t bad_tickets;       /* tickets that did not open or had expired (REFUSAL sent; sealed
                                 when the ticket opened) */
  uint64_t tampered;          /* requests that did not authenticate (dropped) */
  uint64_t forged;            /* claims and stored answers read from the once stream that did not
                              verify (published by someone outside the swarm; ignored) */
  uint64_t records_applied, records_bad;
  uint64_t sessions;   /* opened tickets held now */
  uint64_t no_session; /* requests without a ticket for a session not held (REFUSAL sent) */
} cnv_nats_node_stats;
/* Relaxed counter loads: each exact, the set not one instant. Any thread. Wait-free.
 * Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_stats_get(const cnv_nats_node *n, cnv_nats_node_stats *out);

/* The node's view of the swarm from the status records it follows. */
typedef struct cnv_nats_node_info {
  uint8_t node_pk[CNV_SW_KEY_BYTES];
  cnv_sw_node_status status;
  uint64_t record_ms; /* the record's time */
  bool live;          /* written within 3 of its intervals (reader's clock) */
} cnv_nats_node_info;
/* Up to cap nodes into out, live or not, *n the count known (may exceed cap). Any thread.
 * Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_view(cnv_nats_node *n, cnv_nats_node_info *out, size_t cap,
                                                    size_t *count);

/* ---- Shared state (docs/nats.md "Shared state") ------------------------------------------------- */
/* Every node replicates, as CRDTs over the subject cnv.S.crdt (each message signed by its
 * node, accepted only from a node whose status record verified and is live), the set of live
 * capabilities across the swarm (an OR-Set of (node, path): a node adds what it registered and
 * takes it out when it no longer has it or stops; the others take out a node's once it is not
 * live) and the swarm-wide count of invocations answered (a G-Counter, an entry per node).
 * The replicas converge within a few status intervals of a change. */

/* One (node, capability) of the set: path (path_len bytes, not NUL-terminated) offered by the
 * node whose key starts with node[0..7]; called in canonical order. Non-zero stops. */
typedef int (*cnv_nats_cap_fn)(void *ctx, const char *path, size_t path_len, const uint8_t node[8]);

typedef struct cnv_nats_shared_stats {
  uint64_t served;          /* invocations answered, swarm-wide, as this node has merged it */
  uint64_t replica;         /* this node's replica id (docs/crdt.md "Replication") */
  uint64_t refused;         /* messages on cnv.S.crdt refused: not signed by a live node of the
                               swarm, or malformed */
  cnv_crdt_repl_stats repl; /* the replicator's */
} cnv_nats_shared_stats;

/* Calls fn for each live (node, capability) as this node sees it now. Any thread after start.
 * Errors: CNV_EINVAL, CNV_ESTATE (not started), what fn's listing returns. Blocking (the
 * replicator's lock during the calls: fn must not call the node). */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_capabilities(cnv_nats_node *n, cnv_nats_cap_fn fn, void *ctx);
/* The shared counters and the replication's statistics. Any thread after start. Errors:
 * CNV_EINVAL, CNV_ESTATE (not started). Blocking (the replicator's lock). */
CNV_API CNV_NODISCARD cnv_status cnv_nats_node_shared_get(cnv_nats_node *n, cnv_nats_shared_stats *out);

/* ---- Client ---------------------------------------------------------------------------------- */
/* The shape of include/cnv/client.h's cnv_client, over a swarm:
 *   - the handshake: a HELLO as a NATS request on "cnv.S.hs" (any node of the queue group
 *     answers); the WELCOME's signature over this HELLO and the node's token (from a trust
 *     root, held by the node's key, allowing swarm.serve in swarm S) are checked before
 *     anything else in it is believed. The session id is the HELLO's hash cut to
 *     CNV_SW_SID_BYTES (the node puts the same in the ticket), so the client knows its
 *     subjects: it subscribes to "cnv.S.s.SID.>" (replies and the once stream's stored
 *     answers) before its first request;
 *   - calls: request ids 1, 2, ... (unique in the session; the swarm's dedupe key), a fresh
 *     sequence number for every send (the nodes' anti-replay window), each send sealed with
 *     the time it leaves. An unanswered call is sent again after attempt_timeout_ms, then
 *     twice that, up to 8 times that between sends; an "in progress" answer (the once path's
 *     claimer is alive) restarts that wait; "outcome unknown" completes the call (its
 *     starter died before storing the answer: docs/nats.md "Exactly once"); a refusal with CNV_ENATS_JETSTREAM (the node
 *     could not reach JetStream, so it never ran) is retried at the next attempt, the call
 *     ending with that status if every attempt until call_timeout_ms gets it; a sealed
 *     answer saying the ticket expired makes poll handshake again and resend every
 *     unanswered call under the new session (a plain REFUSAL, which anyone may send, does so
 *     only once the ticket's end has passed by the client's clock). The ticket goes with a
 *     session's first send only; a REFUSAL CNV_ESW_NO_SESSION (a node that does not hold the
 *     session) sends that call again at once with it (at most once per attempt), and its
 *     later sends keep it;
 *   - every call completes exactly once: the first answer for its id (later ones, a retry's
 *     second answer, are dropped), CNV_ENATS_TIMEOUT after call_timeout_ms, or
 *     CNV_ENATS_CLOSED at close.
 * Thread-safety: one thread uses a client at a time; every callback runs on that thread, in
 * poll, call or close (NATS's own threads only buffer the answers). Clients are independent.
 * Allocation: connect allocates everything (one entry per call of 2 x max_in_flight rounded
 * up to a power of two, max_in_flight line buffers of max_message bytes, the scratch for one
 * sealed request); submit, poll and call allocate nothing of libcnv's (libnats allocates its
 * messages, and keeps at most 4 x max_in_flight + 64 of them unread, each counted at
 * max_message + 1 KiB: a flood on the session's subjects is dropped beyond that). */

typedef struct cnv_nats_client_config {
  const char *servers;       /* as the node's; required */
  uint64_t swarm;            /* required */
  const uint8_t *secret_key; /* the agent's Ed25519 secret key (CNV_SW_SECRET_BYTES); copied,
                                 wiped at close */
  const uint8_t *token;      /* the agent's token; copied */
  size_t token_len;
  const uint8_t *trust; /* n_trust trust roots (32 bytes each): a node's token must come
                                 from one of them (allowing swarm.serve in this swarm) */
  size_t n_trust;
  uint32_t connect_timeout_ms; /* connect + handshake; 0: 10000 */
  uint32_t attempt_timeout_ms; /* an unanswered attempt is sent again (same request id) after
                                  this, doubling up to 8x; 0: 2000 */
  uint32_t call_timeout_ms;    /* a call unanswered this long completes CNV_ENATS_TIMEOUT (no
                                  more retries; at most the swarm's half window, 60000 by
                                  default); 0: 30000 */
  uint32_t max_in_flight;      /* calls unanswered at once; 0: 256; at most 65536 */
  uint32_t max_message;        /* largest line or result; 0: 65536; 256..16 MiB */
} cnv_nats_client_config;
/* Zeroes cfg (every limit at its default; servers, swarm, key, token and trust to set). NULL
 * ignored. Pure. */
CNV_API void cnv_nats_client_config_default(cnv_nats_client_config *cfg);

typedef struct cnv_nats_client cnv_nats_client;

/* Connects and makes the handshake with some node, checking its token against the trust
 * roots and its signature; a swarm where no node subscribed yet is asked again until the time
 * is up. Answers that are not authentic (anyone subscribed to the handshake subject may
 * answer) are passed over for the next one; when no authentic WELCOME comes in time, the
 * error is why the last answer was passed over (CNV_ENATS_TIMEOUT when none came). Blocking
 * up to connect_timeout_ms. On an error nothing is left open. Errors:
 * CNV_EINVAL (NULL, a missing field: servers, swarm 0, key, token, no trust root), CNV_ERANGE
 * (token longer than CNV_SW_MAX_TOKEN, max_in_flight or max_message out of range),
 * CNV_ENATS_CONNECT, CNV_ENATS_TIMEOUT (no node answered), CNV_ENATS_NOT_AUTHORIZED (an
 * answering node's token does not allow swarm.serve here: not the swarm's node), the
 * delegation code of that token, CNV_ESW_PROOF, CNV_ESW_MALFORMED, the node's refusal (a CNV_ERT_DENY_* denial
 * of the agent's token), CNV_ENOTSUP (libsodium failed to start), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_client_connect(const cnv_nats_client_config *cfg, cnv_nats_client **out);
/* Completes every call still unanswered with CNV_ENATS_CLOSED (callbacks run here), closes,
 * wipes, frees. NULL ignored. Not from a callback. */
CNV_API void cnv_nats_client_close(cnv_nats_client *c);

/* One call's answer; pointers valid during the callback. */
typedef struct cnv_nats_result {
  uint64_t id;         /* the request id submit gave */
  cnv_status status;   /* the handler's status, a denial, CNV_ENATS_TIMEOUT, CNV_ENATS_STALE,
                          CNV_ENATS_CLOSED, CNV_ENATS_OUTCOME_UNKNOWN (done CNV_DONE_RAN: the
                          node that started it died before storing its answer; it ran at most
                          once and is not run again) ... */
  int32_t done;        /* cnv_runtime_done kind, or -1 (refused before it was accepted, or no
                          answer) */
  uint8_t result_type; /* cnv_content_type */
  uint32_t attempts;   /* sends it took */
  const uint8_t *result;
  size_t result_len;
} cnv_nats_result;
typedef void (*cnv_nats_done_fn)(void *ctx, const cnv_nats_result *r);

/* Seals one invocation line (deadline_ms: the node's deadline, 0 the capability's own) and
 * publishes it on its capability's subject (the line's path, cnv_sw_subject_cap); done(ctx,
 * ...) runs exactly once, from cnv_nats_client_poll / _call / _close. Resent with the same
 * request id while unanswered (from poll). *id (may be NULL) gets the request id. May be
 * called from a callback. Errors: CNV_EINVAL (NULL c, line or done), CNV_ERANGE (line longer
 * than max_message), CNV_EFULL (max_in_flight unanswered: poll, then retry), the parser's
 * CNV_EPARSE_* (no capability path in the line), CNV_ENATS_CONNECT (the connection refused
 * the message), CNV_ENATS_CLOSED (from a callback that close runs). */
CNV_API CNV_NODISCARD cnv_status cnv_nats_client_submit(cnv_nats_client *c, const char *line, size_t line_len,
                                                        uint32_t deadline_ms, cnv_nats_done_fn done, void *ctx,
                                                        uint64_t *id);
/* Receives answers and runs their callbacks, resends what is due, completes what timed out,
 * renews the ticket (a new handshake, blocking up to connect_timeout_ms) when a node says it
 * expired. Returns once at least one call completed and the answers already received are
 * read, or after timeout_ms (0: no wait; -1: no limit); *completed (may be NULL) gets the
 * callbacks run. Errors: CNV_EINVAL (NULL c, timeout_ms below -1), CNV_ESTATE (from a
 * callback). */
CNV_API CNV_NODISCARD cnv_status cnv_nats_client_poll(cnv_nats_client *c, int timeout_ms, unsigned *completed);
/* Submit, then poll until its answer (other calls' callbacks run meanwhile); result bytes
 * copied to buf (cap; CNV_ERANGE when they do not fit, out->result_len says the size, and
 * out->result is NULL). Returns CNV_OK when the call completed (its outcome in out->status:
 * the answer's, or CNV_ENATS_TIMEOUT after call_timeout_ms), CNV_ESTATE from a callback, or
 * submit's errors. Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_client_call(cnv_nats_client *c, const char *line, size_t line_len,
                                                      uint32_t deadline_ms, cnv_nats_result *out, void *buf,
                                                      size_t cap);
/* Calls submitted and not completed yet (0 for NULL). */
CNV_API uint32_t cnv_nats_client_in_flight(const cnv_nats_client *c);

/* ---- Admin ------------------------------------------------------------------------------------- */

typedef struct cnv_nats_admin cnv_nats_admin;
/* Connects to the swarm's bucket (which must exist: some node started). Errors: CNV_EINVAL,
 * CNV_ERANGE (swarm 0), CNV_ENATS_CONNECT, CNV_ENATS_JETSTREAM (no bucket), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_admin_connect(const char *servers, uint64_t swarm, uint32_t timeout_ms,
                                                        cnv_nats_admin **out);
/* Closes the connection and frees a. NULL ignored. Not concurrent with a's other calls. */
CNV_API void cnv_nats_admin_close(cnv_nats_admin *a);
/* Writes a REVOKE record for link hash, signed by signer_sk: a trust root (token NULL: the
 * record then carries a one-link token the root issues to itself, which verifies only where
 * that root is trusted; docs/nats.md "Swarm state") or a node (its token). Nodes ignore records
 * whose signer is neither. Errors: CNV_EINVAL, CNV_ERANGE (token_len), CNV_ENATS_JETSTREAM,
 * CNV_ENATS_TIMEOUT. Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_admin_revoke(cnv_nats_admin *a, const uint8_t signer_sk[CNV_SW_SECRET_BYTES],
                                                       const uint8_t *token, size_t token_len,
                                                       const uint8_t hash[CNV_SW_HASH_BYTES]);
/* Writes a TRUST record adding root new_pk, signed by root_sk (a trust root the nodes have,
 * with its self-issued token as in revoke). Errors: as revoke. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_admin_trust(cnv_nats_admin *a, const uint8_t root_sk[CNV_SW_SECRET_BYTES],
                                                      const uint8_t new_pk[CNV_SW_KEY_BYTES]);
/* Reads every node status record, keeping those signed by a node whose token comes from one
 * of the n_trust roots (32 bytes each; or a root the bucket's valid TRUST records add), is not
 * revoked by the bucket's valid REVOKE records, and allows swarm.serve in this swarm; up to cap
 * into out, *count the number kept. live as cnv_nats_node_view, by this process's clock against
 * each record's time. Errors: CNV_EINVAL, CNV_ENATS_JETSTREAM, CNV_ENATS_TIMEOUT, CNV_ENOMEM.
 * Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_admin_status(cnv_nats_admin *a, const uint8_t *trust, size_t n_trust,
                                                       cnv_nats_node_info *out, size_t cap, size_t *count);

/* The shared state as the live nodes hold it: asks every node for a snapshot on cnv.S.crdt,
 * keeps the answers signed by a node that cnv_nats_admin_status (same trust roots) lists as
 * live, merges them, and reports: fn for each (node, capability), *served (may be NULL) the
 * swarm-wide count. Waits wait_ms for the answers (0: 1000). Errors: cnv_nats_admin_status's,
 * CNV_ENATS_TIMEOUT (no live node answered), CNV_ENOMEM. Blocking. */
CNV_API CNV_NODISCARD cnv_status cnv_nats_admin_shared(cnv_nats_admin *a, const uint8_t *trust, size_t n_trust,
                                                       uint32_t wait_ms, cnv_nats_cap_fn fn, void *ctx,
                                                       uint64_t *served);

#ifdef __cplusplus
}
#endif

#endif
