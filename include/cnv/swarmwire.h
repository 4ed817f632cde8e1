/* libcnv swarmwire: the bytes a swarm spanning machines exchanges over NATS (docs/swarm-wire.md
 * has every layout byte by byte; docs/nats.md the protocol that uses them). Pure codecs and
 * cryptography (libsodium), no I/O: the nats module (include/cnv/nats.h) is their user, the
 * fuzz targets feed them garbage.
 *
 * What travels:
 *   - subjects: every NATS subject of a swarm is made here (cnv_sw_subject_*), so the mapping
 *     from a swarm id and a capability path to a subject is written once;
 *   - HELLO / WELCOME: the one handshake an agent makes with any node of the swarm. HELLO
 *     carries the agent's holder key, an ephemeral X25519 key, a time and the agent's token,
 *     signed by the holder key (proof of possession). WELCOME carries the node's key, its
 *     token (which the agent checks against its trust root: the node may serve in this swarm),
 *     the node's ephemeral key and a TICKET, signed by the node over the HELLO's hash too;
 *   - the TICKET: the session's two keys, the agent's key and token, sealed (XChaCha20-Poly1305)
 *     under the SWARM KEY that every node holds, so every node can open it and no one else can;
 *   - REQUEST / RESPONSE: an invocation (the session module's INVOCATION payload) sealed under
 *     the session's client-to-swarm key with a random 24-byte nonce, carrying the ticket (or
 *     none, once the nodes hold the session: a node without it refuses CNV_ESW_NO_SESSION), a
 *     sequence number (the node's anti-replay window, cnv_replay_*), the request id (the same
 *     on every retry: the swarm's dedupe key) and the client's time; the answer (the session
 *     module's RESPONSE payload) sealed under the swarm-to-client key. The subject and the reply
 *     subject are associated data: a message moved to another subject does not open;
 *   - REFUSAL: a plain, unauthenticated answer for requests whose ticket a node cannot use
 *     (expired, unknown key epoch: the client makes a new handshake) or that came without a
 *     ticket to a node that does not hold the session (the client sends it again with it);
 *   - RECORDS: the swarm's shared state (trust roots, revocations, swarm key grants, join
 *     requests, node status), each signed by its author (a trust root, or a node whose token
 *     the reader checks) over the swarm id and the record's key name, so a record copied to
 *     another key or swarm does not verify.
 *
 * Random nonces (XChaCha20's 192 bits) rather than counters: many nodes seal under the same
 * session keys, and a message may be answered twice (a retry), so no counter could be kept
 * unique; replay is caught by the sequence number and the request id instead.
 *
 * Every function is pure (apart from reading the system's randomness) and thread-safe; none
 * allocates. Progress: wait-free (work bounded by its input, no shared state), except that the
 * first call that starts libsodium takes libsodium's start-up lock once. Decoders are
 * zero-copy (pointers into the input) and refuse anything malformed with CNV_ESW_MALFORMED,
 * never reading past len. Secrets passed in are not kept; secrets written out (session keys,
 * the swarm key) are the caller's to wipe (sodium_memzero). A function that uses libsodium
 * starts it (sodium_init) on first use, and fails with CNV_ENOTSUP in the unlikely case that
 * it cannot start; no function's error list repeats this. */
#ifndef CNV_SWARMWIRE_H
#define CNV_SWARMWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNV_SW_VERSION 1u
#define CNV_SW_KEY_BYTES 32u     /* Ed25519 public key (agent holder key, node key, root) */
#define CNV_SW_SECRET_BYTES 64u  /* libsodium Ed25519 secret key (seed || public key) */
#define CNV_SW_SYM_BYTES 32u     /* a symmetric key: the swarm key, a session key */
#define CNV_SW_EPH_BYTES 32u     /* an X25519 public or secret key */
#define CNV_SW_HASH_BYTES 32u    /* BLAKE2b-256 */
#define CNV_SW_SID_BYTES 16u     /* session id */
#define CNV_SW_NONCE_BYTES 24u   /* XChaCha20-Poly1305 nonce */
#define CNV_SW_TAG_BYTES 16u     /* AEAD tag */
#define CNV_SW_SIG_BYTES 64u     /* Ed25519 signature */
#define CNV_SW_MAX_TOKEN 16384u  /* largest token a HELLO, WELCOME, ticket or record carries */
#define CNV_SW_MAX_TICKET 17000u /* largest sealed ticket (a CNV_SW_MAX_TOKEN token inside) */
#define CNV_SW_MIN_TICKET 208u   /* smallest sealed ticket (a one-byte token inside) */
#define CNV_SW_SUBJECT_MAX 320u  /* longest subject cnv_sw_subject_* writes, NUL included */
#define CNV_SW_KV_KEY_MAX 80u    /* longest record key name, NUL included */
#define CNV_SW_GRANT_BYTES 80u   /* a swarm key sealed to one node (crypto_box_seal of 32 bytes) */
#define CNV_SW_MAX_BODY 1024u    /* largest record body */
/* Bytes a REQUEST adds around its ticket (if any) and plaintext, and a RESPONSE around its
 * plaintext: a buffer of ticket_len + plain_len + CNV_SW_REQUEST_OVERHEAD (plain_len +
 * CNV_SW_RESPONSE_OVERHEAD) always suffices. */
#define CNV_SW_REQUEST_OVERHEAD 96u
#define CNV_SW_RESPONSE_OVERHEAD 64u

/* ---- Subjects (docs/nats.md "Subjects") ------------------------------------------------- */
/* Every subject of swarm S starts "cnv.S." with S in decimal (1..UINT64_MAX; 0 is refused
 * with CNV_ERANGE: it means "any swarm" in tokens). Each writes a NUL-terminated subject into
 * out (cap bytes; CNV_SW_SUBJECT_MAX always suffices) and its length, NUL excluded, into
 * *written (may be NULL). Errors: CNV_EINVAL (NULL), CNV_ERANGE (swarm 0, cap too small:
 * nothing useful written). */

/* "cnv.S.cap.PATH": where capability PATH (noun.verb..., 1..8 segments of [a-z0-9_-], as
 * docs/grammar.md; the dots stay dots, so NATS wildcards follow the path's segments:
 * "cnv.S.cap.noun.>" is every capability of a noun) is served, in queue group "cnv.S".
 * Errors also: CNV_ESW_SUBJECT (not such a path). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_subject_cap(uint64_t swarm, const char *path, size_t path_len, char *out,
                                                    size_t cap, size_t *written);

/* The subjects that name no capability. */
typedef enum cnv_sw_subject_kind {
  CNV_SW_SUBJ_HANDSHAKE = 1, /* "cnv.S.hs": HELLO requests, queue group "cnv.S" */
  CNV_SW_SUBJ_QUEUE = 2,     /* "cnv.S": the queue group name of every queue subscription */
  CNV_SW_SUBJ_CLAIMS = 3,    /* "cnv.S.claim.>": the claim subjects (the once stream's) */
  CNV_SW_SUBJ_DONE_ALL = 4,  /* "cnv.S.s.*.d.*": the stored answers (the once stream's) */
  CNV_SW_SUBJ_STREAM = 5,    /* "CNV_S_ONCE": the JetStream stream of claims and answers */
  CNV_SW_SUBJ_BUCKET = 6,    /* "cnv_S": the JetStream key-value bucket of records */
  CNV_SW_SUBJ_CRDT = 7       /* "cnv.S.crdt": the nodes' CRDT replication (docs/nats.md "Shared
                                state"); a message with a reply subject asks for a snapshot */
} cnv_sw_subject_kind;
CNV_API CNV_NODISCARD cnv_status cnv_sw_subject_swarm(cnv_sw_subject_kind kind, uint64_t swarm, char *out, size_t cap,
                                                      size_t *written);

/* A session's subjects; SID is the session id in lowercase hex (32 characters), R the request
 * id in decimal, or "*" when reqid is CNV_SW_ANY_REQUEST (a subscription's wildcard). */
typedef enum cnv_sw_session_subject {
  CNV_SW_SESS_REPLY = 1, /* "cnv.S.s.SID.r.R": the reply subject of request R (its answer) */
  CNV_SW_SESS_DONE = 2,  /* "cnv.S.s.SID.d.R": request R's answer stored in the once stream */
  CNV_SW_SESS_CLAIM = 3, /* "cnv.S.claim.SID.R": the claim on request R (the once stream) */
  CNV_SW_SESS_ALL = 4    /* "cnv.S.s.SID.>": what the client subscribes to (reqid ignored) */
} cnv_sw_session_subject;
#define CNV_SW_ANY_REQUEST UINT64_MAX
CNV_API CNV_NODISCARD cnv_status cnv_sw_subject_session(cnv_sw_session_subject kind, uint64_t swarm,
                                                        const uint8_t sid[CNV_SW_SID_BYTES], uint64_t reqid,
                                                        char *out, size_t cap, size_t *written);

/* The once stream's message id (Nats-Msg-Id: the JetStream dedupe key) of a claim on request
 * reqid of session sid: "SIDHEX.R.MAC" for the first claim, "SIDHEX.R.tSEQ.MAC" for a takeover
 * of the claim at stream sequence takeover_seq (> 0). MAC is 32 lowercase hex digits of a
 * BLAKE2b-128 keyed by the session's swarm-to-agent key over "cnv-swarm/1 claim-id" and the
 * rest of the id: anyone may publish into the stream, and only a holder of the session's keys
 * can name a claim's id ahead (an id taken first would make the node's claim a duplicate).
 * At most CNV_SW_CLAIM_ID_MAX bytes with the NUL. Errors: CNV_EINVAL (NULL), CNV_ERANGE (cap:
 * nothing written), CNV_ENOTSUP (libsodium failed to start). */
#define CNV_SW_CLAIM_ID_MAX 128u
CNV_API CNV_NODISCARD cnv_status cnv_sw_claim_id(const uint8_t key_s2c[CNV_SW_SYM_BYTES], const uint8_t sid[CNV_SW_SID_BYTES],
                                                 uint64_t reqid, uint64_t takeover_seq, char *out, size_t cap,
                                                 size_t *written);

/* ---- Hashing and keys -------------------------------------------------------------------- */

/* BLAKE2b-256 of len bytes. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_hash(const void *in, size_t len, uint8_t out[CNV_SW_HASH_BYTES]);

/* A fresh X25519 key pair for one handshake (the secret is the caller's to wipe). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_eph_keypair(uint8_t pk[CNV_SW_EPH_BYTES], uint8_t sk[CNV_SW_EPH_BYTES]);

/* The session's two keys, the same on both sides: shared = X25519(own_eph_sk, peer_eph_pk);
 * master = BLAKE2b-256(key = shared, "cnv-swarm/1 keys" || hello_hash || node_pk ||
 * node_eph_pk); c2s and s2c derived from master (crypto_kdf, context "cnvswrm1", ids 1 and
 * 2). The agent passes its ephemeral secret and the node's ephemeral public key, the node its
 * own secret and the agent's public key. shared and master are wiped before returning.
 * Errors: CNV_EINVAL (NULL), CNV_ESW_HANDSHAKE (an all-zero shared secret: a low-order key). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_session_keys(const uint8_t own_eph_sk[CNV_SW_EPH_BYTES],
                                                     const uint8_t peer_eph_pk[CNV_SW_EPH_BYTES],
                                                     const uint8_t hello_hash[CNV_SW_HASH_BYTES],
                                                     const uint8_t node_pk[CNV_SW_KEY_BYTES],
                                                     const uint8_t node_eph_pk[CNV_SW_EPH_BYTES],
                                                     uint8_t c2s[CNV_SW_SYM_BYTES], uint8_t s2c[CNV_SW_SYM_BYTES]);

/* ---- Handshake ----------------------------------------------------------------------------- */

/* HELLO, agent -> any node (a NATS request on the handshake subject). */
typedef struct cnv_sw_hello {
  uint8_t agent_pk[CNV_SW_KEY_BYTES]; /* the holder key the token names */
  uint8_t eph_pk[CNV_SW_EPH_BYTES];   /* the agent's ephemeral X25519 key */
  uint64_t ts_ms;                     /* the agent's clock, ms since the Unix epoch */
  const uint8_t *token;               /* 1..CNV_SW_MAX_TOKEN bytes */
  size_t token_len;
} cnv_sw_hello;
/* Writes a HELLO for swarm, signed with agent_sk (whose public half must be hello->agent_pk:
 * otherwise CNV_EINVAL) over "cnv-swarm/1 hello" || swarm || the message. Errors: CNV_EINVAL,
 * CNV_ERANGE (token length, cap too small: nothing written). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_hello_write(uint64_t swarm, const uint8_t agent_sk[CNV_SW_SECRET_BYTES],
                                                    const cnv_sw_hello *hello, void *out, size_t cap,
                                                    size_t *written);
/* Decodes a HELLO and checks its signature with the key it carries (proof that the sender
 * holds that key; whether the token is any good is the caller's question). Errors: CNV_EINVAL,
 * CNV_ESW_MALFORMED, CNV_ESW_PROOF (the signature does not verify: another swarm, a changed
 * byte, not the holder). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_hello_read(uint64_t swarm, const void *in, size_t len, cnv_sw_hello *out);

/* WELCOME, node -> agent (the HELLO's reply). status 0: a ticket follows; a negative status
 * (a CNV_ERT_DENY_* denial of the agent's token, CNV_ESW_PROOF, CNV_EFULL): refused, no
 * ticket. Signed by the node either way, over "cnv-swarm/1 welcome" || swarm || the HELLO's
 * hash || the message, so an agent believes only a WELCOME made for its own HELLO. */
typedef struct cnv_sw_welcome {
  int32_t status;
  uint8_t node_pk[CNV_SW_KEY_BYTES]; /* the node's Ed25519 key */
  uint8_t eph_pk[CNV_SW_EPH_BYTES];  /* the node's ephemeral X25519 key (zero when refused) */
  uint64_t expires_ms;               /* the ticket's end (0 when refused) */
  const uint8_t *node_token;         /* the node's token: allows swarm.serve in this swarm */
  size_t node_token_len;             /* 1..CNV_SW_MAX_TOKEN */
  const uint8_t *ticket;             /* the sealed ticket (status 0), CNV_SW_MIN_TICKET..CNV_SW_MAX_TICKET bytes */
  size_t ticket_len;                 /* 0 when refused */
} cnv_sw_welcome;
/* node_sk's public half must be welcome->node_pk (CNV_EINVAL otherwise). A refusal has no
 * ticket, a zero eph_pk and expires_ms 0. Errors: CNV_EINVAL (NULL, a positive status, a
 * ticket with a refusal or none with status 0, a refusal with a key or an expiry), CNV_ERANGE
 * (token or ticket length, cap: nothing written). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_welcome_write(uint64_t swarm, const uint8_t node_sk[CNV_SW_SECRET_BYTES],
                                                      const uint8_t hello_hash[CNV_SW_HASH_BYTES],
                                                      const cnv_sw_welcome *welcome, void *out, size_t cap,
                                                      size_t *written);
/* Decodes a WELCOME and checks the node's signature against the key it carries and the hash
 * of the HELLO this agent sent (whether the node's token is any good is the caller's
 * question). Errors: CNV_EINVAL, CNV_ESW_MALFORMED, CNV_ESW_PROOF. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_welcome_read(uint64_t swarm, const uint8_t hello_hash[CNV_SW_HASH_BYTES],
                                                     const void *in, size_t len, cnv_sw_welcome *out);

/* ---- Ticket ---------------------------------------------------------------------------------- */

typedef struct cnv_sw_ticket {
  uint8_t sid[CNV_SW_SID_BYTES];      /* random, chosen by the node that issued it */
  uint8_t agent_pk[CNV_SW_KEY_BYTES]; /* the holder key the agent proved */
  uint8_t node_pk[CNV_SW_KEY_BYTES];  /* the node that issued it */
  uint64_t issued_ms, expires_ms;     /* issuing node's clock */
  uint8_t key_c2s[CNV_SW_SYM_BYTES];  /* the session's agent-to-swarm key */
  uint8_t key_s2c[CNV_SW_SYM_BYTES];  /* the session's swarm-to-agent key */
  const uint8_t *token;               /* the agent's token, 1..CNV_SW_MAX_TOKEN bytes */
  size_t token_len;
} cnv_sw_ticket;
/* Seals t under swarm_key (key epoch `epoch`, sent in clear so a reader picks the key) with a
 * random nonce; the swarm id is associated data. Errors: CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_ticket_seal(const uint8_t swarm_key[CNV_SW_SYM_BYTES], uint32_t epoch,
                                                    uint64_t swarm, const cnv_sw_ticket *t, void *out, size_t cap,
                                                    size_t *written);
/* The key epoch a sealed ticket names. Errors: CNV_EINVAL, CNV_ESW_MALFORMED. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_ticket_epoch(const void *in, size_t len, uint32_t *epoch);
/* Opens a sealed ticket into plain (cap bytes; in's length always suffices) and decodes it:
 * out->token points into plain, and the keys in *out are secrets the caller wipes. Expiry is
 * not checked here (the caller's clock). Errors: CNV_EINVAL, CNV_ERANGE (cap), CNV_ESW_MALFORMED,
 * CNV_ESW_TICKET (does not open under this key and swarm: forged, altered, another swarm). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_ticket_open(const uint8_t swarm_key[CNV_SW_SYM_BYTES], uint64_t swarm,
                                                    const void *in, size_t len, void *plain, size_t cap,
                                                    cnv_sw_ticket *out);

/* ---- Requests and responses ---------------------------------------------------------------- */

/* A REQUEST as decoded (framing only: nothing opened yet). */
typedef struct cnv_sw_request {
  uint8_t attempt;       /* 0 for the first send, +1 per retry (informative) */
  uint64_t seq;          /* the session's sequence number, 1.. (the anti-replay window's) */
  uint64_t reqid;        /* the request id, the same on every retry */
  uint64_t ts_ms;        /* the client's clock when this attempt was sealed */
  const uint8_t *ticket; /* the sealed ticket; NULL when the request carries none */
  size_t ticket_len;     /* 0 (none: the node must hold the session) or CNV_SW_MIN_TICKET.. */
  const uint8_t *sealed; /* nonce || ciphertext || tag */
  size_t sealed_len;
  const uint8_t *head; /* the bytes before `sealed` (associated data, with the subjects) */
  size_t head_len;
} cnv_sw_request;
/* Seals plain (the session module's INVOCATION payload) under key_c2s, binding subject and
 * reply (the NATS subject and reply subject it is published with, NUL-terminated, neither
 * NULL) as associated data. plain may be NULL when plain_len is 0. ticket_len 0 (ticket may
 * then be NULL) sends no ticket: for a node that holds the session already (one that does
 * not answers a REFUSAL CNV_ESW_NO_SESSION). Errors: CNV_EINVAL (ticket NULL with a length),
 * CNV_ERANGE (seq 0, a ticket_len neither 0 nor CNV_SW_MIN_TICKET..CNV_SW_MAX_TICKET, cap:
 * nothing written). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_request_seal(const uint8_t key_c2s[CNV_SW_SYM_BYTES], const void *ticket,
                                                     size_t ticket_len, uint64_t seq, uint64_t reqid, uint64_t ts_ms,
                                                     uint8_t attempt, const char *subject, const char *reply,
                                                     const void *plain, size_t plain_len, void *out, size_t cap,
                                                     size_t *written);
/* Frames a REQUEST without opening it (with or without a ticket). Errors: CNV_EINVAL,
 * CNV_ESW_MALFORMED. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_request_parse(const void *in, size_t len, cnv_sw_request *out);
/* Opens a parsed request with the session's key and the subjects it arrived on; plain gets
 * the plaintext (cap bytes; r->sealed_len always suffices), *plain_len its length. Errors:
 * CNV_EINVAL, CNV_ERANGE (cap), CNV_ESW_OPEN (altered, another key, moved to another
 * subject). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_request_open(const uint8_t key_c2s[CNV_SW_SYM_BYTES], const cnv_sw_request *r,
                                                     const char *subject, const char *reply, void *plain, size_t cap,
                                                     size_t *plain_len);

/* A RESPONSE as decoded: either sealed (the answer) or a plain REFUSAL. */
typedef struct cnv_sw_response {
  uint64_t reqid;
  bool refusal;          /* a plain REFUSAL: status is its only content, unauthenticated */
  int32_t status;        /* REFUSAL only: CNV_ESW_TICKET_EXPIRED, CNV_ESW_TICKET, CNV_ESW_NO_SESSION */
  const uint8_t *sealed; /* sealed answer: nonce || ciphertext || tag */
  size_t sealed_len;
  const uint8_t *head;
  size_t head_len;
} cnv_sw_response;
/* Seals plain (the session module's RESPONSE payload) for request reqid under key_s2c.
 * Errors: CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_response_seal(const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid,
                                                      const void *plain, size_t plain_len, void *out, size_t cap,
                                                      size_t *written);
/* A plain REFUSAL of request reqid (status negative). Errors: CNV_EINVAL, CNV_ERANGE. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_refusal_write(uint64_t reqid, int32_t status, void *out, size_t cap,
                                                      size_t *written);
/* Frames a RESPONSE or REFUSAL. Errors: CNV_EINVAL, CNV_ESW_MALFORMED. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_response_parse(const void *in, size_t len, cnv_sw_response *out);
/* Opens a sealed response (not a refusal: CNV_EINVAL). Errors: CNV_EINVAL, CNV_ERANGE (cap),
 * CNV_ESW_OPEN. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_response_open(const uint8_t key_s2c[CNV_SW_SYM_BYTES], const cnv_sw_response *r,
                                                      void *plain, size_t cap, size_t *plain_len);

/* ---- Records (the swarm's key-value bucket) ------------------------------------------------ */

typedef enum cnv_sw_record_kind {
  CNV_SW_REC_TRUST = 1,  /* body: a new trust root's key (32); signer: a trust root */
  CNV_SW_REC_REVOKE = 2, /* body: a token link hash (32); signer: a root or a node */
  CNV_SW_REC_GRANT = 3,  /* body: epoch (u32) || recipient node key (32) || sealed swarm key
                            (CNV_SW_GRANT_BYTES); signer: a node holding the key, or a root */
  CNV_SW_REC_JOIN = 4,   /* body: empty; signer: a node asking for the swarm key (its token
                            proves it may serve) */
  CNV_SW_REC_NODE = 5    /* body: a cnv_sw_node_status; signer: that node */
} cnv_sw_record_kind;
#define CNV_SW_REC_KIND_MAX 5

/* The record key name a kind and a 32-byte id give: "trust.HEX", "revoke.HEX", "grant.HEX"
 * (the recipient's key), "join.HEX", "node.HEX" (HEX: 64 lowercase hex digits).
 * Errors: CNV_EINVAL, CNV_ERANGE (unknown kind, cap). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_record_key(cnv_sw_record_kind kind, const uint8_t id[32], char *out,
                                                   size_t cap, size_t *written);

typedef struct cnv_sw_record {
  uint8_t kind;                        /* cnv_sw_record_kind */
  uint64_t ts_ms;                      /* the author's clock */
  uint8_t signer_pk[CNV_SW_KEY_BYTES]; /* who signed it */
  const uint8_t *token;                /* the signer's token; NULL/0 when the signer is a root */
  size_t token_len;
  const uint8_t *body;
  size_t body_len; /* 0..CNV_SW_MAX_BODY */
} cnv_sw_record;
/* Writes a record stored under key_name (NUL-terminated) in swarm's bucket, signed with
 * signer_sk (its public half must be rec->signer_pk) over "cnv-swarm/1 record" || swarm ||
 * key_name (with its NUL) || the record. Errors: CNV_EINVAL (NULL, a key name or body that
 * cnv_sw_record_read would refuse), CNV_ERANGE (token or body length, cap: nothing written). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_record_write(uint64_t swarm, const char *key_name,
                                                     const uint8_t signer_sk[CNV_SW_SECRET_BYTES],
                                                     const cnv_sw_record *rec, void *out, size_t cap, size_t *written);
/* Decodes a record read from key_name and checks its signature, that its kind matches the
 * key name's prefix, the body its kind requires (sizes above; a join carries a token), and
 * that a grant's recipient, a join's or a status record's signer is the key name's id (the
 * signer's token is the caller's to check). token and body point into in (NULL when empty).
 * Errors: CNV_EINVAL (NULL, key_name not as cnv_sw_record_key writes it), CNV_ESW_MALFORMED,
 * CNV_ESW_PROOF (signature, or a record moved to another key). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_record_read(uint64_t swarm, const char *key_name, const void *in, size_t len,
                                                    cnv_sw_record *out);

/* Seals the swarm key to a node's Ed25519 public key (converted to X25519; crypto_box_seal):
 * only that node's secret key opens it. Errors: CNV_EINVAL, CNV_ESW_PROOF (not a valid
 * Ed25519 key). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_grant_seal(const uint8_t swarm_key[CNV_SW_SYM_BYTES],
                                                   const uint8_t node_pk[CNV_SW_KEY_BYTES],
                                                   uint8_t out[CNV_SW_GRANT_BYTES]);
/* Opens a grant with the node's Ed25519 secret key. Errors: CNV_EINVAL, CNV_ESW_OPEN. */
CNV_API CNV_NODISCARD cnv_status cnv_sw_grant_open(const uint8_t node_sk[CNV_SW_SECRET_BYTES],
                                                   const uint8_t sealed[CNV_SW_GRANT_BYTES],
                                                   uint8_t swarm_key[CNV_SW_SYM_BYTES]);

/* A node's status record body (fixed 32 bytes; layout in docs/swarm-wire.md). */
typedef struct cnv_sw_node_status {
  uint8_t phase;         /* cnv_phase of the node's runtime */
  uint8_t breaker;       /* 0 closed, 1 open (the runtime's breaker) */
  uint32_t capabilities; /* capabilities it serves */
  uint32_t in_flight;    /* invocations in its runtime now */
  uint32_t interval_ms;  /* how often it writes this record (readers call it dead after 3) */
  uint64_t completed;    /* invocations it completed since it started */
  uint64_t started_ms;   /* when it started (its clock) */
} cnv_sw_node_status;
#define CNV_SW_NODE_STATUS_BYTES 32u
/* Errors: CNV_EINVAL, CNV_ERANGE (cap < CNV_SW_NODE_STATUS_BYTES). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_node_status_encode(const cnv_sw_node_status *s, void *out, size_t cap);
/* Errors: CNV_EINVAL, CNV_ESW_MALFORMED (length not CNV_SW_NODE_STATUS_BYTES, reserved bytes). */
CNV_API CNV_NODISCARD cnv_status cnv_sw_node_status_decode(const void *in, size_t len, cnv_sw_node_status *out);

#ifdef __cplusplus
}
#endif

#endif
