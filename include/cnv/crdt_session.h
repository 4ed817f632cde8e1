/* libcnv crdt_session: CRDT replication carried over an authenticated, encrypted session
 * (docs/crdt.md "Over a session"), without I/O.
 *
 * One cnv_crdt_session joins one cnv_session (one connection, either role, handshake done or
 * under way) to one replicator for one peer replica. Its transport (cnv_crdt_session_transport)
 * seals every replication message the replicator sends to that peer (or to every peer) as one
 * CNV_MSG_REPLICATION frame into the adapter's outbox, which the embedder drains with
 * cnv_crdt_session_pull and writes to the connection. The embedder feeds the bytes it receives
 * to the session (cnv_session_feed) and hands every CNV_MSG_REPLICATION event to
 * cnv_crdt_session_deliver with its replicator, which gives the payload to cnv_crdt_repl_receive as coming from
 * the peer replica. The session authenticates the peer (its proven key); the embedder maps
 * that key to the peer's replica id when it creates the adapter.
 *
 * Order on the wire: the session's own frames first (cnv_session_pull), then the adapter's
 * outbox; frames sealed by other calls on the same session go out in the order they were
 * sealed, so an embedder that seals its own messages too drains the outbox before each.
 *
 * Thread-safety: the session, the adapter and the replicator's tick (whose send seals into the
 * session) run on one thread at a time, the thread that owns the connection. Allocation:
 * create only (the outbox). */
#ifndef CNV_CRDT_SESSION_H
#define CNV_CRDT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "crdt.h"
#include "session.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnv_crdt_session_config {
  cnv_session *session; /* borrowed; outlives the adapter */
  uint64_t peer;        /* the peer's replica id (non-zero), as authenticated by the session */
  /* Largest replication message sent or taken, payload bytes; 0: 65536. Sends larger are
   * refused (CNV_ERANGE, the replicator counts a send failure); larger frames delivered are
   * refused (CNV_ECRDT_MALFORMED, counted). The session's negotiated max_message_size bounds
   * it too (cnv_session_seal refuses more). */
  uint32_t max_message;
  /* Outbox bytes; 0: 4 x CNV_SESSION_SEAL_BOUND(max_message). A send that does not fit is
   * refused with CNV_EFULL (lost; the replicator's anti-entropy sends it again). */
  size_t outbox;
  /* The caller's monotonic clock for key rotation by time (cnv_session_seal's now_ns); NULL:
   * time 0, rotation by frame count only. */
  uint64_t (*now_ns)(void *ctx);
  void *clock_ctx;
} cnv_crdt_session_config;

typedef struct cnv_crdt_session cnv_crdt_session;

/* Creates an adapter. The caller owns *out (cnv_crdt_session_destroy). Errors: CNV_EINVAL
 * (NULL, no session, peer 0), CNV_ERANGE (max_message below 1, outbox below
 * CNV_SESSION_SEAL_BOUND(max_message)), CNV_ENOMEM. Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_session_create(const cnv_crdt_session_config *cfg,
                                                         cnv_crdt_session **out);
/* Frees the adapter (not the session or the replicator). NULL is a no-op. */
CNV_API void cnv_crdt_session_destroy(cnv_crdt_session *a);

/* The transport to put in the replicator's config (cnv_crdt_repl_config.transport): send is
 * cnv_crdt_session_send with the adapter as ctx. So the adapter is made first, then the
 * replicator; the replicator is named at each cnv_crdt_session_deliver. NULL a: a transport
 * whose ctx is NULL (its sends fail with CNV_EINVAL). */
CNV_API cnv_crdt_transport cnv_crdt_session_transport(cnv_crdt_session *a);

/* Seals msg (len bytes) for replica `to` into the outbox as one CNV_MSG_REPLICATION frame
 * (correlation id 0). to is the peer or 0 (every peer); a message for another replica is not
 * this link's (CNV_OK, nothing sealed). Errors: CNV_EINVAL (NULL), CNV_ERANGE (len 0 or over
 * max_message), CNV_EFULL (the outbox lacks room; nothing sealed), CNV_ESTATE (handshake not
 * done), the session's sticky error. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_session_send(void *adapter, uint64_t to, const uint8_t *msg, size_t len);

/* Moves up to cap bytes of the outbox, oldest first, into out; *written says how many (0: the
 * outbox is empty). The bytes are a stream: a frame may be split across calls. Errors:
 * CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_session_pull(cnv_crdt_session *a, void *out, size_t cap, size_t *written);
/* Bytes waiting in the outbox. NULL: 0. */
CNV_API size_t cnv_crdt_session_pending(const cnv_crdt_session *a);

/* Hands one event from the session (cnv_session_feed) to repl: a MESSAGE of type
 * CNV_MSG_REPLICATION becomes cnv_crdt_repl_receive(repl, peer, data, len). Call it before
 * the next feed (the event's data lives until then). Errors: CNV_EINVAL (NULL, an event that
 * is not a REPLICATION message: give those to the embedder's own handling),
 * CNV_ECRDT_MALFORMED (empty or over max_message, or what the replicator refuses as malformed;
 * counted, nothing merged), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_crdt_session_deliver(cnv_crdt_session *a, cnv_crdt_repl *repl,
                                                          const cnv_session_event *ev);

/* Counters: frames sealed, bytes sealed (frame bytes), sends refused (outbox full, too large,
 * a session error), messages delivered to the replicator, deliveries refused as malformed.
 * NULL a: zeros. Same thread as the adapter. */
typedef struct cnv_crdt_session_stats {
  uint64_t sealed, bytes_sealed, send_refused, delivered, malformed;
} cnv_crdt_session_stats;
CNV_API void cnv_crdt_session_stats_get(const cnv_crdt_session *a, cnv_crdt_session_stats *out);

#ifdef __cplusplus
}
#endif

#endif
