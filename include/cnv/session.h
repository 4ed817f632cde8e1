/* libcnv session: the authenticated, encrypted session protocol, without I/O
 * (docs/session.md has every byte).
 *
 * One cnv_session is one end of one connection, client or server. It never reads or writes a
 * socket: the caller feeds it the bytes it received (cnv_session_feed), sends the bytes it
 * asks to send (cnv_session_pull for its own handshake and control messages, cnv_session_seal
 * for the caller's messages), and learns what happened from the events feed returns. The same
 * code therefore runs under libuv (the server), blocking sockets (the client), NATS and the
 * fuzz targets.
 *
 * Handshake (client C, server S):
 *   C -> S  HELLO        capabilities offered, C's ephemeral X25519 key, a random nonce
 *   S -> C  HELLO_REPLY  negotiation result, S's ephemeral X25519 key, S's Ed25519 identity
 *                        key and its signature over the transcript so far (C checks the key
 *                        against the one it pinned, then the signature)
 *   C -> S  AUTH         (sealed) the agent's holder key, its signature over the transcript,
 *                        the agent's token: C proves it holds the key the token names
 *   S -> C  READY        (sealed) after the server's embedder accepted the token
 * Keys: X25519 between the ephemeral keys, then BLAKE2b keyed by the shared secret over the
 * transcript gives a master key, and crypto_kdf one key per direction. After HELLO_REPLY every frame is sealed: AEAD
 * (XChaCha20-Poly1305; AES-256-GCM where the CPU has it and both sides offer it) over the
 * payload with the 16-byte frame header as associated data and a 64-bit counter per direction
 * as nonce, never sent. A replayed, reordered, dropped, truncated or modified frame fails to
 * open and ends the session (CNV_ESESSION_OPEN). Each direction rotates its key after
 * rekey_frames frames or rekey_ns nanoseconds: a REKEY frame, the last under the old key,
 * tells the peer to derive the next key (one-way, so an old key cannot be computed from a new
 * one).
 *
 * Thread-safety: one session is used by one thread at a time; different sessions are
 * independent. No call blocks. Allocation: create only (one block sized by the limits:
 * 67,168 bytes for a server with the defaults, plus twice the token for a client; formula in
 * docs/session.md); feed, pull and seal never allocate.
 *
 * Errors: a session error (any CNV_ESESSION_* code, a frame code from the protocol module for
 * a frame that is not one) is sticky: every later feed, seal and accept returns it, and the
 * caller closes the
 * connection, after sending what cnv_session_pull still gives (an ERROR frame telling the peer
 * why: sealed once keys exist, plain during the handshake). */
#ifndef CNV_SESSION_H
#define CNV_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNV_SESSION_KEY_BYTES 32        /* Ed25519 public key (server identity, agent holder) */
#define CNV_SESSION_SECRET_BYTES 64     /* libsodium Ed25519 secret key (seed || public key) */
#define CNV_SESSION_TAG_BYTES 16        /* AEAD tag after each sealed payload */
#define CNV_SESSION_MAX_TOKEN 16384u    /* largest token AUTH may carry */
#define CNV_SESSION_TRACEPARENT_LEN 55u /* W3C traceparent text, version 00 */
/* A buffer of this many bytes always holds the next message cnv_session_pull gives. */
#define CNV_SESSION_PULL_MAX (1024u + CNV_SESSION_MAX_TOKEN)

/* Session message types: CNV_MSG_HELLO (9), CNV_MSG_HELLO_REPLY (10), CNV_MSG_AUTH (11),
 * CNV_MSG_READY (12), CNV_MSG_CANCEL (13), CNV_MSG_REKEY (14) and CNV_MSG_REPLICATION (15: an
 * opaque payload either side seals after READY, reported as a MESSAGE and never read by the
 * session; include/cnv/crdt_session.h carries CRDT replication in it) are cnv_msg_type values in
 * protocol.h; INVOCATION (4), RESPONSE (5), HEARTBEAT (6), ERROR (7) and SHUTDOWN (8) are also
 * used, sealed. */

/* Bytes cnv_session_seal may write for a payload of n bytes (the message, and a REKEY frame
 * before it when a rotation is due). */
#define CNV_SESSION_SEAL_BOUND(n) (2u * (CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES) + (n))

typedef enum cnv_session_role { CNV_SESSION_CLIENT = 1,
                                CNV_SESSION_SERVER = 2 } cnv_session_role;

typedef struct cnv_session_config {
  int role; /* cnv_session_role */
  /* Server: its Ed25519 identity key; client: the agent's key (the token's holder); 64 bytes
   * (CNV_SESSION_SECRET_BYTES). Copied; the copy is wiped once it signed (HELLO_REPLY, AUTH)
   * or at destroy. */
  const uint8_t *secret_key;
  /* Client: the server's public key it pins (32 bytes, copied); server: NULL. */
  const uint8_t *server_pk;
  /* Client: the token presented in AUTH (1..CNV_SESSION_MAX_TOKEN bytes, copied; the copy
   * is wiped once AUTH is sealed); server: NULL, 0. */
  const uint8_t *token;
  size_t token_len;
  /* What this side offers (cnv_capabilities_check must pass; compression exactly
   * {CNV_COMPRESS_NONE} and checksum 0, as sealed frames are never compressed and carry the
   * AEAD tag instead of the trailer). max_message_size bounds every message's plaintext both
   * ways; max_concurrent_calls is the in-flight credit: a server ends a session whose client
   * has more INVOCATIONs unanswered (CNV_ESESSION_CREDIT). */
  cnv_capabilities caps;
  uint64_t rekey_frames; /* frames sealed under one key before rotating; 1..2^62 */
  uint64_t rekey_ns;     /* or nanoseconds since the key came into use; >= 1 */
  /* AEADs this side offers (CNV_SESSION_AEAD_* bits; XChaCha20-Poly1305 is required).
   * AES-256-GCM is used when both sides offer it and both CPUs have it
   * (crypto_aead_aes256gcm_is_available); a side whose CPU lacks it does not offer it. */
  uint32_t aeads;
} cnv_session_config;

#define CNV_SESSION_AEAD_XCHACHA20POLY1305 1u
#define CNV_SESSION_AEAD_AES256GCM 2u

/* Fills cfg for `role` with the defaults: caps offering protocol 1.0.0, no compression (a
 * sealed frame is never compressed), features CNV_FEAT_IMPLEMENTED (what libcnv really
 * does), max_message_size 65536,
 * max_concurrent_calls 64, rekey every 2^20 frames or 600 s, both AEADs offered; no keys and no
 * token (the caller sets them). NULL cfg: no-op. Thread-safe. */
CNV_API void cnv_session_config_default(cnv_session_config *cfg, int role);

typedef struct cnv_session cnv_session;

/* Creates a session in its first handshake state; a client's HELLO is ready to pull at once.
 * now_ns: the caller's monotonic clock (cnv_runtime_now_ns or equivalent), the time base of
 * rekey_ns. The caller owns *out and frees it with cnv_session_destroy. Thread-safe.
 * Errors: CNV_EINVAL (NULL, a role or key missing, a server given a server_pk or a token,
 * compression or checksum offered, aeads without XChaCha20-Poly1305 or with unknown bits),
 * CNV_ERANGE (token_len, rekey values), the cnv_capabilities_check errors, CNV_ENOTSUP
 * (libsodium failed to initialize), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_session_create(const cnv_session_config *cfg, uint64_t now_ns,
                                                    cnv_session **out);

/* Wipes the whole allocation (keys, token, buffers) with sodium_memzero, then frees. NULL is a
 * no-op. */
CNV_API void cnv_session_destroy(cnv_session *s);

typedef enum cnv_session_event_kind {
  /* Server: the client proved it holds `peer_key`; data/len is the token it presented. The
   * embedder checks the token (holder = peer_key) and calls cnv_session_accept, or ends the
   * session (cnv_session_fail; CNV_ESESSION_HOLDER_PROOF when the token names another key).
   * Until then any frame from the client is CNV_ESESSION_UNEXPECTED. */
  CNV_SESSION_EV_AUTH = 1,
  /* Client: the server accepted; calls may be sealed. */
  CNV_SESSION_EV_READY = 2,
  /* An opened message: type, id (the frame's correlation id), payload data/len. Control
   * messages the session handles itself (REKEY, HEARTBEAT) are not reported; an ERROR is the
   * error CNV_ESESSION_PEER_ERROR, not an event. */
  CNV_SESSION_EV_MESSAGE = 3
} cnv_session_event_kind;

typedef struct cnv_session_event {
  int kind;            /* cnv_session_event_kind */
  uint8_t type;        /* MESSAGE: CNV_MSG_INVOCATION, CANCEL, SHUTDOWN, REPLICATION (server); RESPONSE, SHUTDOWN, REPLICATION (client) */
  uint64_t id;         /* MESSAGE: correlation id */
  const uint8_t *data; /* MESSAGE: plaintext; AUTH: the token. Valid until the next feed. */
  size_t len;
  const uint8_t *peer_key; /* AUTH, READY, MESSAGE: the proven key (server) or server key (client); lives as long as the session */
} cnv_session_event;

/* Feeds received bytes. data is writable: frames are opened in place where they lie whole in
 * it (split frames are gathered in the session's own buffer). Stops after the first event.
 * *consumed = bytes used; call again with the rest. CNV_OK: *ev holds an event (its data is
 * valid until the next feed or until the caller's data changes). CNV_EAGAIN: every byte used,
 * no event yet. Errors, all sticky except CNV_EINVAL (NULL): the frame codes
 * CNV_EFRAME_MAGIC, _VERSION, _TYPE, _FLAGS, _OVERSIZE (garbage, a length over the limit),
 * the negotiation codes CNV_EPROTO_* of a HELLO or HELLO_REPLY (passed through),
 * CNV_ESESSION_HANDSHAKE (a handshake message out of order or malformed),
 * CNV_ESESSION_SERVER_KEY, CNV_ESESSION_HOLDER_PROOF, CNV_ESESSION_OPEN (a sealed frame that
 * fails to open, or a plain frame after READY), CNV_ESESSION_UNEXPECTED (a message not allowed
 * from that side or in that state), CNV_ESESSION_MALFORMED (a REKEY or ERROR payload),
 * CNV_ESESSION_CREDIT, CNV_ESESSION_NONCE_EXHAUSTED, CNV_ESESSION_PEER_ERROR (the peer sent
 * ERROR; its code is in cnv_session_peer_status), CNV_ESESSION_CLOSED (both sides sent
 * SHUTDOWN and nothing is in flight; the feed that completes this returns its event first).
 * A session that hits an error queues an ERROR frame for the peer (none for PEER_ERROR,
 * CLOSED or NONCE_EXHAUSTED). */
CNV_API CNV_NODISCARD cnv_status cnv_session_feed(cnv_session *s, uint8_t *data, size_t len, uint64_t now_ns,
                                                  size_t *consumed, cnv_session_event *ev);

/* Takes the session's own outgoing frames (handshake messages, READY, ERROR, a REKEY before
 * them) into out (cap bytes): as many whole frames as fit, in order; *written 0 when there is
 * nothing. Send them before any message sealed after the call that queued them (their
 * counters come first). Works after an error too (to send the ERROR). Errors: CNV_EINVAL,
 * CNV_ERANGE (cap below the next frame's size: nothing taken; CNV_SESSION_PULL_MAX is always
 * enough). */
CNV_API CNV_NODISCARD cnv_status cnv_session_pull(cnv_session *s, void *out, size_t cap, size_t *written);

/* Server, after CNV_SESSION_EV_AUTH: accepts the agent; queues READY. Errors: CNV_EINVAL,
 * CNV_ESTATE (no AUTH pending), the session's sticky error. */
CNV_API CNV_NODISCARD cnv_status cnv_session_accept(cnv_session *s);

/* Ends the session with `code` (a negative cnv_status): queues an ERROR frame carrying it
 * (sealed when keys exist, plain before) and makes `code` the sticky error. A session that
 * already has a sticky error keeps it and queues nothing. Errors: CNV_EINVAL (NULL,
 * code >= 0). */
CNV_API CNV_NODISCARD cnv_status cnv_session_fail(cnv_session *s, cnv_status code);

/* Seals one message with correlation id `id` into out (which must not overlap payload): at
 * most CNV_SESSION_SEAL_BOUND(len) bytes, exactly *written (a REKEY frame first when a
 * rotation is due). A client seals CNV_MSG_INVOCATION, CANCEL, HEARTBEAT, SHUTDOWN or
 * REPLICATION; a server RESPONSE, HEARTBEAT, SHUTDOWN or REPLICATION (an ERROR goes through cnv_session_fail). A client's
 * INVOCATION takes one credit, returned when its RESPONSE is fed; a server's RESPONSE
 * answers one INVOCATION. now_ns: the caller's clock (rotation by time). Errors (not sticky
 * unless said): CNV_EINVAL (NULL, a type this side may not seal, a CANCEL with a payload: it
 * names its request by id only), CNV_ESTATE (handshake not
 * done; a client INVOCATION after its own SHUTDOWN; a server RESPONSE with nothing in
 * flight), CNV_ERANGE (len over the negotiated max_message_size, or cap too small: nothing
 * written), CNV_EFULL (client: no credit left; retry after a RESPONSE),
 * CNV_ESESSION_GOING_AWAY (client INVOCATION after the server's SHUTDOWN),
 * CNV_ESESSION_NONCE_EXHAUSTED (sticky), the sticky error. */
CNV_API CNV_NODISCARD cnv_status cnv_session_seal(cnv_session *s, uint8_t type, uint64_t id, const void *payload,
                                                  size_t len, uint64_t now_ns, void *out, size_t cap,
                                                  size_t *written);

/* The session's sticky error, or CNV_OK while it is usable (CNV_EINVAL for NULL). These
 * queries read only: call them from the thread that uses the session. */
CNV_API cnv_status cnv_session_error(const cnv_session *s);
/* After CNV_ESESSION_PEER_ERROR: the code the peer's ERROR frame carried. */
CNV_API cnv_status cnv_session_peer_status(const cnv_session *s);
/* True once READY was sent (server) or received (client). */
CNV_API bool cnv_session_ready(const cnv_session *s);
/* The AEAD in use (CNV_SESSION_AEAD_*), 0 before HELLO_REPLY. */
CNV_API int cnv_session_aead(const cnv_session *s);
/* The negotiated parameters. Errors: CNV_EINVAL, CNV_ESTATE (before HELLO_REPLY). */
CNV_API CNV_NODISCARD cnv_status cnv_session_negotiated(const cnv_session *s, cnv_negotiated *out);

typedef struct cnv_session_stats {
  uint64_t sealed, opened; /* frames */
  uint64_t rekeys_sent, rekeys_received;
  uint32_t in_flight; /* INVOCATIONs unanswered (both roles count them) */
} cnv_session_stats;
CNV_API CNV_NODISCARD cnv_status cnv_session_stats_get(const cnv_session *s, cnv_session_stats *out);

/* ---- Session payloads (pure codecs; layouts in docs/session.md) --------------------------- */

/* INVOCATION: the frame's correlation id is the request id. */
typedef struct cnv_session_invoke {
  uint32_t deadline_ms;    /* relative to receipt; 0: none */
  const char *traceparent; /* NULL or CNV_SESSION_TRACEPARENT_LEN bytes (W3C text form) */
  const char *line;        /* the invocation line */
  size_t line_len;
} cnv_session_invoke;
/* Layout in docs/session.md. Errors: CNV_EINVAL (NULL in/out/written, NULL line with
 * line_len > 0, a traceparent that is not W3C version 00 text), CNV_ERANGE (cap too small;
 * nothing written). Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_session_invoke_encode(const cnv_session_invoke *in, void *out, size_t cap,
                                                           size_t *written);
/* Decodes without copying: pointers into in. Errors: CNV_EINVAL, CNV_ESESSION_MALFORMED (too
 * short, unknown flag bits, a malformed traceparent). Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_session_invoke_decode(const void *in, size_t len, cnv_session_invoke *out);

/* RESPONSE: the answer to the request whose id the frame carries. done says whether the
 * request was accepted: CNV_SESSION_DONE_REFUSED when the server refused it before it was
 * accepted (busy: CNV_EFULL; a denial; a malformed line), so it never ran and a retry cannot
 * repeat its effects; otherwise how the accepted request completed (the runtime's done kinds:
 * ran, expired, cancelled, not run). The decoder refuses any other done or result_type value
 * (CNV_ESESSION_MALFORMED). */
#define CNV_SESSION_DONE_MAX 3u        /* the runtime's last done kind (CNV_DONE_NOT_RUN) */
#define CNV_SESSION_DONE_REFUSED 0xFFu /* refused before it was accepted: it never ran */
#define CNV_SESSION_RESULT_TYPE_MAX 2u /* the runtime's last content type (CNV_CONTENT_BINARY) */
typedef struct cnv_session_response {
  int32_t status;      /* the handler's status, a denial, CNV_EFULL (busy: retry), ... */
  uint8_t done;        /* a cnv_runtime_done_kind value (0..CNV_SESSION_DONE_MAX), or
                        * CNV_SESSION_DONE_REFUSED */
  uint8_t result_type; /* a cnv_content_type value (0..CNV_SESSION_RESULT_TYPE_MAX) */
  const uint8_t *result;
  size_t result_len;
} cnv_session_response;
/* Layout in docs/session.md. Errors: CNV_EINVAL (NULL, NULL result with result_len > 0, a
 * positive status), CNV_ERANGE (cap too small; nothing written). The decoder is zero-copy;
 * errors: CNV_EINVAL, CNV_ESESSION_MALFORMED (too short, reserved bytes, a positive status).
 * Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_session_response_encode(const cnv_session_response *in, void *out, size_t cap,
                                                             size_t *written);
CNV_API CNV_NODISCARD cnv_status cnv_session_response_decode(const void *in, size_t len, cnv_session_response *out);

#ifdef __cplusplus
}
#endif

#endif
