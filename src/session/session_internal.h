/* Session internals shared by the module's files (and, white-box, by tests and fuzz targets):
 * the session object, its states, the wire helpers and the key, seal and queue steps. */
#ifndef CNV_SESSION_INTERNAL_H
#define CNV_SESSION_INTERNAL_H

#include <cnv/session.h>
#include <sodium.h>
#include <string.h>

#define CNV__SESSION_VERSION 1u
#define CNV__SESSION_KEY 32u /* symmetric key, X25519 keys, transcript hash */
#define CNV__SESSION_SIG 64u /* Ed25519 signature */
#define CNV__SESSION_HELLO_FIXED 68u
#define CNV__SESSION_REPLY_LEN 152u   /* HELLO_REPLY payload, signature included */
#define CNV__SESSION_REPLY_SIGNED 88u /* HELLO_REPLY payload bytes before the signature */
#define CNV__SESSION_AUTH_FIXED 96u   /* AUTH plaintext before the token: key, signature */
/* Largest plain frame payload accepted before keys exist: the larger of HELLO and
 * HELLO_REPLY. */
#define CNV__SESSION_HELLO_MAX (CNV__SESSION_HELLO_FIXED + CNV_CAPS_MAX_ENCODED)
#define CNV__SESSION_PLAIN_MAX \
  (CNV__SESSION_HELLO_MAX > CNV__SESSION_REPLY_LEN ? CNV__SESSION_HELLO_MAX : CNV__SESSION_REPLY_LEN)
/* Bytes of the outbox beyond the client's token: HELLO, AUTH's fixed part and tag, an ERROR
 * with a REKEY before it, each with its header (see cnv__session_outbox_size). */
#define CNV__SESSION_OUTBOX_BASE 1024u

/* Handshake states. */
enum {
  CNV__S_WAIT_HELLO = 1, /* server: nothing received yet */
  CNV__S_WAIT_AUTH,      /* server: HELLO_REPLY queued, keys derived */
  CNV__S_AUTH_PENDING,   /* server: AUTH verified, embedder deciding */
  CNV__C_WAIT_REPLY,     /* client: HELLO queued */
  CNV__C_WAIT_READY,     /* client: AUTH queued */
  CNV__OPEN              /* both: READY sent / received */
};

/* Plaintext bytes one key seals before the send side rotates it, whatever rekey_frames says:
 * 2^36 bytes is 2^32 AES blocks, inside AES-GCM's usage limit per key (and far inside
 * XChaCha20-Poly1305's). */
#define CNV__SESSION_REKEY_BYTES (UINT64_C(1) << 36)

/* One direction's AEAD state. */
typedef struct cnv__session_dir {
  /* AES-256-GCM only: key's expanded schedule and GHASH key, computed once per key (at
   * derivation and at each rotation) instead of once per frame; a secret like key, wiped with
   * it. Unused (zero) under XChaCha20-Poly1305. */
  crypto_aead_aes256gcm_state aes;
  bool use_aes; /* aes holds key's state (the session negotiated AES-256-GCM) */
  uint8_t key[CNV__SESSION_KEY];
  uint64_t counter;  /* the next frame's nonce under key */
  uint64_t since_ns; /* when key came into use (send direction's time trigger) */
  uint64_t bytes;    /* plaintext bytes sealed under key (send direction's volume trigger) */
} cnv__session_dir;

struct cnv_session {
  int role;
  int state;
  cnv_status error;       /* sticky */
  cnv_status peer_status; /* code of the peer's ERROR */
  uint8_t aead_offer;     /* CNV_SESSION_AEAD_* bits this side offers */
  uint8_t aead;           /* the one in use, 0 before HELLO_REPLY */
  bool keys;              /* tx and rx hold keys */
  bool ready;
  bool sent_shutdown, got_shutdown;
  cnv_capabilities caps;
  cnv_negotiated neg;
  uint64_t rekey_frames, rekey_ns, now_ns;
  uint8_t secret[CNV_SESSION_SECRET_BYTES]; /* own Ed25519 secret key, wiped once it signed */
  uint8_t server_pk[CNV_SESSION_KEY_BYTES]; /* client: pinned; server: own identity */
  uint8_t peer_key[CNV_SESSION_KEY_BYTES];  /* server: proven holder key; client: server key */
  uint8_t eph_sk[CNV__SESSION_KEY], eph_pk[CNV__SESSION_KEY];
  uint8_t transcript[CNV__SESSION_KEY]; /* T1, then T3 once HELLO_REPLY is done */
  cnv__session_dir tx, rx;
  uint32_t in_flight;
  cnv_session_stats stats;
  uint8_t *token; /* client: the token (same allocation), wiped once AUTH holds it */
  size_t token_len;
  uint8_t *rx_buf; /* a split frame being gathered */
  size_t rx_cap, rx_have;
  uint8_t *out_buf; /* queued outgoing frames */
  size_t out_cap, out_len;
  size_t block_size; /* the whole allocation, struct included */
};

/* ---- little-endian wire helpers ---- */
static inline uint32_t cnv__sess_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t cnv__sess_le64(const uint8_t *p) {
  return (uint64_t)cnv__sess_le32(p) | (uint64_t)cnv__sess_le32(p + 4) << 32;
}
static inline void cnv__sess_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static inline void cnv__sess_put64(uint8_t *p, uint64_t v) {
  cnv__sess_put32(p, (uint32_t)v);
  cnv__sess_put32(p + 4, (uint32_t)(v >> 32));
}
/* Writes a 16-byte frame header. */
static inline void cnv__sess_header(uint8_t *h, uint8_t type, uint16_t flags, uint32_t len, uint64_t id) {
  h[0] = CNV_FRAME_MAGIC;
  h[1] = (uint8_t)((CNV_FRAME_WIRE_VERSION << 4) | type);
  h[2] = (uint8_t)flags;
  h[3] = (uint8_t)(flags >> 8);
  cnv__sess_put32(h + 4, len);
  cnv__sess_put64(h + 8, id);
}

/* ---- keys.c ---- */
/* Wipes the long-term secret, the ephemeral secret, the token and both traffic keys with
 * their AES-256-GCM states. */
void cnv__session_wipe_secrets(cnv_session *s);

/* Derives tx and rx from the X25519 secret of eph_sk and peer_eph and the transcript (T3);
 * wipes the shared secret, the master key and eph_sk. CNV_ESESSION_HANDSHAKE when the peer's
 * key gives an all-zero secret. */
cnv_status cnv__session_derive(cnv_session *s, const uint8_t peer_eph[CNV__SESSION_KEY]);
/* Replaces key by the next one (one-way), recomputes the AES-256-GCM state from it (the old
 * one wiped) and restarts the counter. */
cnv_status cnv__session_next_key(cnv__session_dir *d, uint64_t now_ns);

/* ---- seal.c ---- */
/* Seals one frame under tx into out (16 + len + 16 bytes; p may be exactly out + 16, anything
 * else must not overlap). CNV_ESESSION_NONCE_EXHAUSTED at counter 2^64-1. */
cnv_status cnv__session_seal_one(cnv_session *s, uint8_t type, uint64_t id, const uint8_t *p, size_t len,
                                 uint8_t *out);
/* Seals a message, a REKEY first when a rotation is due. CNV_ERANGE when cap is too small. */
cnv_status cnv__session_seal_msg(cnv_session *s, uint8_t type, uint64_t id, const uint8_t *p, size_t len,
                                 uint8_t *out, size_t cap, size_t *written);
/* Opens a sealed frame (header + ciphertext + tag, total bytes) in place under rx. */
cnv_status cnv__session_open(cnv_session *s, uint8_t *frame, size_t total, uint8_t **pt, size_t *len);
/* Queues a sealed message in the outbox. */
cnv_status cnv__session_queue_sealed(cnv_session *s, uint8_t type, const uint8_t *p, size_t len);
/* Makes code the sticky error and queues an ERROR frame carrying it (sealed when keys exist,
 * plain before). Returns code. */
cnv_status cnv__session_fail_with(cnv_session *s, cnv_status code);

/* Makes CNV_ESESSION_CLOSED sticky once both sides sent SHUTDOWN and nothing is in flight. */
void cnv__session_check_closed(cnv_session *s);

/* ---- handshake.c ---- */
/* Client: writes HELLO into the outbox and starts the transcript. */
cnv_status cnv__session_client_hello(cnv_session *s);
cnv_status cnv__session_on_hello(cnv_session *s, const uint8_t *frame, size_t total);
cnv_status cnv__session_on_reply(cnv_session *s, const uint8_t *frame, size_t total);
/* Server: checks AUTH's plaintext; on success peer_key holds the proven key. */
cnv_status cnv__session_on_auth(cnv_session *s, const uint8_t *pt, size_t len);

/* ---- config.c ---- */
/* Zeroes the whole allocation (destroy calls it before free). */
void cnv__session_wipe(cnv_session *s);

#endif
