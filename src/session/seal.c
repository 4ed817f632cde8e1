/* Sealing and opening frames (docs/session.md "Sealed frames"), rotation on the send side, the
 * outbox of the session's own frames, and the caller's seal, pull, accept and fail. */
#include <sodium.h>

#include "core/ignore.h"
#include "session_internal.h"

/* Nonce: the 64-bit counter little-endian, then zeros (24 bytes for XChaCha20-Poly1305, 12 for
 * AES-256-GCM). Each direction has its own key, so the counter alone never repeats a nonce. */
static void make_nonce(uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], uint64_t counter) {
  memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  cnv__sess_put64(nonce, counter);
}

cnv_status cnv__session_seal_one(cnv_session *s, uint8_t type, uint64_t id, const uint8_t *p, size_t len,
                                 uint8_t *out) {
  if (s->tx.counter == UINT64_MAX) return CNV_ESESSION_NONCE_EXHAUSTED;
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  make_nonce(nonce, s->tx.counter);
  cnv__sess_header(out, type, CNV_FRAME_FLAG_SEALED, (uint32_t)(len + CNV_SESSION_TAG_BYTES), id);
  uint8_t *c = out + CNV_FRAME_HEADER_SIZE;
  /* Both return 0 for every length a frame can have (under 2^32 bytes). */
  if (s->aead == CNV_SESSION_AEAD_AES256GCM)
    (void)crypto_aead_aes256gcm_encrypt_detached_afternm(c, c + len, NULL, p, len, out, CNV_FRAME_HEADER_SIZE,
                                                         NULL, nonce, &s->tx.aes);
  else
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt_detached(c, c + len, NULL, p, len, out, CNV_FRAME_HEADER_SIZE,
                                                              NULL, nonce, s->tx.key);
  s->tx.counter++;
  s->tx.bytes += len;
  s->stats.sealed++;
  return CNV_OK;
}

static bool rotation_due(const cnv_session *s) {
  return s->tx.counter >= s->rekey_frames || s->tx.bytes >= CNV__SESSION_REKEY_BYTES ||
         (s->now_ns >= s->tx.since_ns && s->now_ns - s->tx.since_ns >= s->rekey_ns);
}

cnv_status cnv__session_seal_msg(cnv_session *s, uint8_t type, uint64_t id, const uint8_t *p, size_t len,
                                 uint8_t *out, size_t cap, size_t *written) {
  const size_t frame = CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES;
  bool due = rotation_due(s);
  size_t need = frame + len + (due ? frame : 0);
  if (cap < need) return CNV_ERANGE;
  size_t at = 0;
  if (due) {
    cnv_status st = cnv__session_seal_one(s, CNV_MSG_REKEY, 0, NULL, 0, out);
    if (st != CNV_OK) return st;
    st = cnv__session_next_key(&s->tx, s->now_ns);
    if (st != CNV_OK) return st;
    s->stats.rekeys_sent++;
    at = frame;
  }
  cnv_status st = cnv__session_seal_one(s, type, id, p, len, out + at);
  if (st != CNV_OK) return st;
  *written = need;
  return CNV_OK;
}

cnv_status cnv__session_open(cnv_session *s, uint8_t *frame, size_t total, uint8_t **pt, size_t *len) {
  if (total < CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES) return CNV_ESESSION_OPEN;
  if (s->rx.counter == UINT64_MAX) return CNV_ESESSION_NONCE_EXHAUSTED;
  size_t n = total - CNV_FRAME_HEADER_SIZE - CNV_SESSION_TAG_BYTES;
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  make_nonce(nonce, s->rx.counter);
  uint8_t *c = frame + CNV_FRAME_HEADER_SIZE;
  int bad;
  if (s->aead == CNV_SESSION_AEAD_AES256GCM)
    bad = crypto_aead_aes256gcm_decrypt_detached_afternm(c, NULL, c, n, c + n, frame, CNV_FRAME_HEADER_SIZE, nonce,
                                                         &s->rx.aes);
  else
    bad = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(c, NULL, c, n, c + n, frame, CNV_FRAME_HEADER_SIZE,
                                                              nonce, s->rx.key);
  if (bad != 0) return CNV_ESESSION_OPEN;
  s->rx.counter++;
  s->stats.opened++;
  *pt = c;
  *len = n;
  return CNV_OK;
}

cnv_status cnv__session_queue_sealed(cnv_session *s, uint8_t type, const uint8_t *p, size_t len) {
  size_t w = 0;
  cnv_status st =
      cnv__session_seal_msg(s, type, 0, p, len, s->out_buf + s->out_len, s->out_cap - s->out_len, &w);
  if (st != CNV_OK) return st;
  s->out_len += w;
  return CNV_OK;
}

cnv_status cnv__session_fail_with(cnv_session *s, cnv_status code) {
  if (s->error != CNV_OK) return s->error;
  uint8_t p[4];
  cnv__sess_put32(p, (uint32_t)code);
  if (code != CNV_ESESSION_PEER_ERROR && code != CNV_ESESSION_NONCE_EXHAUSTED && code != CNV_ESESSION_CLOSED) {
    if (s->keys) {
      /* Best effort: a full outbox or a spent counter leaves the peer to see the close. */
      cnv__ignore_status(cnv__session_queue_sealed(s, CNV_MSG_ERROR, p, sizeof p));
    } else if (s->out_cap - s->out_len >= CNV_FRAME_HEADER_SIZE + sizeof p) {
      cnv__sess_header(s->out_buf + s->out_len, CNV_MSG_ERROR, 0, sizeof p, 0);
      memcpy(s->out_buf + s->out_len + CNV_FRAME_HEADER_SIZE, p, sizeof p);
      s->out_len += CNV_FRAME_HEADER_SIZE + sizeof p;
    }
  }
  s->error = code;
  cnv__session_wipe_secrets(s);
  return code;
}

/* A dead session keeps no secret until destroy: its last ERROR (if any) is sealed already. */
void cnv__session_wipe_secrets(cnv_session *s) {
  sodium_memzero(s->secret, sizeof s->secret);
  sodium_memzero(s->eph_sk, sizeof s->eph_sk);
  if (s->token) sodium_memzero(s->token, s->token_len);
  sodium_memzero(s->tx.key, sizeof s->tx.key);
  sodium_memzero(s->rx.key, sizeof s->rx.key);
  sodium_memzero(&s->tx.aes, sizeof s->tx.aes);
  sodium_memzero(&s->rx.aes, sizeof s->rx.aes);
}

/* Frame length of the queued frame at off. */
static size_t queued_frame(const cnv_session *s, size_t off) {
  return CNV_FRAME_HEADER_SIZE + cnv__sess_le32(s->out_buf + off + 4);
}

cnv_status cnv_session_pull(cnv_session *s, void *out, size_t cap, size_t *written) {
  if (!s || !out || !written) return CNV_EINVAL;
  *written = 0;
  size_t n = 0;
  while (n < s->out_len && n + queued_frame(s, n) <= cap) n += queued_frame(s, n);
  if (n == 0 && s->out_len) return CNV_ERANGE;
  memcpy(out, s->out_buf, n);
  memmove(s->out_buf, s->out_buf + n, s->out_len - n);
  s->out_len -= n;
  sodium_memzero(s->out_buf + s->out_len, n);
  *written = n;
  return CNV_OK;
}

cnv_status cnv_session_accept(cnv_session *s) {
  if (!s) return CNV_EINVAL;
  if (s->error != CNV_OK) return s->error;
  if (s->role != CNV_SESSION_SERVER || s->state != CNV__S_AUTH_PENDING) return CNV_ESTATE;
  cnv_status st = cnv__session_queue_sealed(s, CNV_MSG_READY, NULL, 0);
  if (st != CNV_OK) return cnv__session_fail_with(s, st);
  s->state = CNV__OPEN;
  s->ready = true;
  return CNV_OK;
}

cnv_status cnv_session_fail(cnv_session *s, cnv_status code) {
  if (!s || code >= 0) return CNV_EINVAL;
  cnv__ignore_status(cnv__session_fail_with(s, code)); /* returns the sticky error by design */
  return CNV_OK;
}

/* Both sides sent SHUTDOWN and nothing is in flight: the session is over. */
void cnv__session_check_closed(cnv_session *s) {
  if (s->sent_shutdown && s->got_shutdown && s->in_flight == 0 && s->error == CNV_OK) {
    s->error = CNV_ESESSION_CLOSED;
    cnv__session_wipe_secrets(s);
  }
}

/* May this side seal `type`? */
static bool sendable(const cnv_session *s, uint8_t type) {
  bool client = s->role == CNV_SESSION_CLIENT;
  switch (type) {
    case CNV_MSG_INVOCATION:
    case CNV_MSG_CANCEL:
      return client;
    case CNV_MSG_RESPONSE:
      return !client;
    case CNV_MSG_SHUTDOWN:
    case CNV_MSG_HEARTBEAT:
    case CNV_MSG_REPLICATION:
      return true;
    default:
      return false;
  }
}

cnv_status cnv_session_seal(cnv_session *s, uint8_t type, uint64_t id, const void *payload, size_t len,
                            uint64_t now_ns, void *out, size_t cap, size_t *written) {
  if (!s || !out || !written || (!payload && len)) return CNV_EINVAL;
  if (s->error != CNV_OK) return s->error;
  if (!sendable(s, type)) return CNV_EINVAL;
  if (type == CNV_MSG_CANCEL && len != 0) return CNV_EINVAL; /* names its request by id only */
  if (!s->ready) return CNV_ESTATE;
  if (len > s->neg.max_message_size) return CNV_ERANGE;
  if (type == CNV_MSG_INVOCATION) {
    if (s->sent_shutdown) return CNV_ESTATE;
    if (s->got_shutdown) return CNV_ESESSION_GOING_AWAY;
    if (s->in_flight >= s->neg.max_concurrent_calls) return CNV_EFULL;
  }
  if (type == CNV_MSG_RESPONSE && s->in_flight == 0) return CNV_ESTATE;
  if (now_ns > s->now_ns) s->now_ns = now_ns;
  cnv_status st = cnv__session_seal_msg(s, type, id, payload, len, out, cap, written);
  if (st == CNV_ERANGE) return st;
  if (st != CNV_OK) return cnv__session_fail_with(s, st);
  if (type == CNV_MSG_INVOCATION) s->in_flight++;
  if (type == CNV_MSG_RESPONSE) s->in_flight--;
  if (type == CNV_MSG_SHUTDOWN) s->sent_shutdown = true;
  cnv__session_check_closed(s);
  return CNV_OK;
}
