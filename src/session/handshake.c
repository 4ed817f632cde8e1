/* The handshake messages (docs/session.md "Handshake"): HELLO, HELLO_REPLY with the server's
 * signature over the transcript, AUTH with the holder's proof, and the transcript hashes. */
#include <sodium.h>

#include "session_internal.h"

#define TRANSCRIPT_LABEL "cnv-session/1 transcript"
#define SERVER_SIG_LABEL "cnv-session/1 server signature"
#define HOLDER_SIG_LABEL "cnv-session/1 holder signature"
#define SIG_LABEL_LEN (sizeof SERVER_SIG_LABEL - 1)
_Static_assert(sizeof SERVER_SIG_LABEL == sizeof HOLDER_SIG_LABEL, "both signature labels have one length");

/* T = BLAKE2b-256(a || b || c). */
static void hash3(uint8_t out[CNV__SESSION_KEY], const void *a, size_t na, const void *b, size_t nb, const void *c,
                  size_t nc) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, CNV__SESSION_KEY);
  crypto_generichash_update(&h, a, na);
  crypto_generichash_update(&h, b, nb);
  crypto_generichash_update(&h, c, nc);
  crypto_generichash_final(&h, out, CNV__SESSION_KEY);
}

/* The message a signature covers: label || transcript hash. */
static void sig_message(uint8_t m[SIG_LABEL_LEN + CNV__SESSION_KEY], const char *label, const uint8_t *t) {
  memcpy(m, label, SIG_LABEL_LEN);
  memcpy(m + SIG_LABEL_LEN, t, CNV__SESSION_KEY);
}

static cnv_status new_ephemeral(cnv_session *s) {
  randombytes_buf(s->eph_sk, sizeof s->eph_sk);
  return crypto_scalarmult_base(s->eph_pk, s->eph_sk) == 0 ? CNV_OK : CNV_ESESSION_HANDSHAKE;
}

cnv_status cnv__session_client_hello(cnv_session *s) {
  cnv_status st = new_ephemeral(s);
  if (st != CNV_OK) return st;
  uint8_t *f = s->out_buf, *p = f + CNV_FRAME_HEADER_SIZE;
  p[0] = CNV__SESSION_VERSION;
  p[1] = s->aead_offer;
  p[2] = p[3] = 0;
  memcpy(p + 4, s->eph_pk, CNV__SESSION_KEY);
  randombytes_buf(p + 36, 32);
  size_t caps_len = 0;
  st = cnv_capabilities_encode(&s->caps, p + CNV__SESSION_HELLO_FIXED, CNV_CAPS_MAX_ENCODED, &caps_len);
  if (st != CNV_OK) return st;
  size_t len = CNV__SESSION_HELLO_FIXED + caps_len;
  cnv__sess_header(f, CNV_MSG_HELLO, 0, (uint32_t)len, 0);
  hash3(s->transcript, TRANSCRIPT_LABEL, sizeof TRANSCRIPT_LABEL - 1, f, CNV_FRAME_HEADER_SIZE + len, NULL, 0);
  s->out_len = CNV_FRAME_HEADER_SIZE + len;
  return CNV_OK;
}

cnv_status cnv__session_on_hello(cnv_session *s, const uint8_t *frame, size_t total) {
  const uint8_t *p = frame + CNV_FRAME_HEADER_SIZE;
  size_t len = total - CNV_FRAME_HEADER_SIZE;
  if (len < CNV__SESSION_HELLO_FIXED || p[0] != CNV__SESSION_VERSION || p[2] || p[3] ||
      !(p[1] & CNV_SESSION_AEAD_XCHACHA20POLY1305) ||
      (p[1] & ~(CNV_SESSION_AEAD_XCHACHA20POLY1305 | CNV_SESSION_AEAD_AES256GCM)))
    return CNV_ESESSION_HANDSHAKE;
  cnv_capabilities peer;
  cnv_status st = cnv_capabilities_decode(p + CNV__SESSION_HELLO_FIXED, len - CNV__SESSION_HELLO_FIXED, &peer);
  if (st != CNV_OK) return st;
  st = cnv_negotiate(&s->caps, &peer, &s->neg);
  if (st != CNV_OK) return st;
  s->neg.checksum = 0; /* sealed frames carry the AEAD tag instead of the trailer */
  s->aead = (p[1] & s->aead_offer & CNV_SESSION_AEAD_AES256GCM) ? CNV_SESSION_AEAD_AES256GCM
                                                                : CNV_SESSION_AEAD_XCHACHA20POLY1305;
  uint8_t t1[CNV__SESSION_KEY], t2[CNV__SESSION_KEY], m[SIG_LABEL_LEN + CNV__SESSION_KEY];
  hash3(t1, TRANSCRIPT_LABEL, sizeof TRANSCRIPT_LABEL - 1, frame, total, NULL, 0);
  const size_t reply_total = CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_LEN;
  if (s->out_cap - s->out_len < reply_total) return CNV_ESESSION_HANDSHAKE;
  st = new_ephemeral(s);
  if (st != CNV_OK) return st;
  uint8_t *f = s->out_buf + s->out_len, *r = f + CNV_FRAME_HEADER_SIZE;
  cnv__sess_header(f, CNV_MSG_HELLO_REPLY, 0, CNV__SESSION_REPLY_LEN, 0);
  r[0] = CNV__SESSION_VERSION;
  r[1] = s->aead;
  r[2] = r[3] = 0;
  memcpy(r + 4, s->eph_pk, CNV__SESSION_KEY);
  memcpy(r + 36, s->server_pk, CNV_SESSION_KEY_BYTES);
  size_t w = 0;
  st = cnv_negotiated_encode(&s->neg, r + 68, CNV_NEGOTIATED_ENCODED, &w);
  if (st != CNV_OK) return st;
  hash3(t2, t1, sizeof t1, f, CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_SIGNED, NULL, 0);
  sig_message(m, SERVER_SIG_LABEL, t2);
  uint8_t *sig = r + CNV__SESSION_REPLY_SIGNED;
  int bad = crypto_sign_ed25519_detached(sig, NULL, m, sizeof m, s->secret);
  sodium_memzero(s->secret, sizeof s->secret); /* the identity key signs once per session */
  if (bad != 0) return CNV_ESESSION_HANDSHAKE;
  hash3(s->transcript, t2, sizeof t2, sig, CNV__SESSION_SIG, NULL, 0);
  st = cnv__session_derive(s, p + 4);
  if (st != CNV_OK) return st;
  s->out_len += reply_total;
  s->state = CNV__S_WAIT_AUTH;
  return CNV_OK;
}

cnv_status cnv__session_on_reply(cnv_session *s, const uint8_t *frame, size_t total) {
  const uint8_t *r = frame + CNV_FRAME_HEADER_SIZE;
  if (total - CNV_FRAME_HEADER_SIZE != CNV__SESSION_REPLY_LEN || r[0] != CNV__SESSION_VERSION || r[2] || r[3] ||
      (r[1] != CNV_SESSION_AEAD_XCHACHA20POLY1305 && r[1] != CNV_SESSION_AEAD_AES256GCM) ||
      !(r[1] & s->aead_offer))
    return CNV_ESESSION_HANDSHAKE;
  if (sodium_memcmp(r + 36, s->server_pk, CNV_SESSION_KEY_BYTES) != 0) return CNV_ESESSION_SERVER_KEY;
  uint8_t t2[CNV__SESSION_KEY], m[SIG_LABEL_LEN + CNV__SESSION_KEY];
  hash3(t2, s->transcript, sizeof s->transcript, frame, CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_SIGNED, NULL, 0);
  sig_message(m, SERVER_SIG_LABEL, t2);
  const uint8_t *sig = r + CNV__SESSION_REPLY_SIGNED;
  if (crypto_sign_ed25519_verify_detached(sig, m, sizeof m, s->server_pk) != 0) return CNV_ESESSION_SERVER_KEY;
  cnv_status st = cnv_negotiated_decode(r + 68, CNV_NEGOTIATED_ENCODED, &s->neg);
  if (st != CNV_OK) return st;
  st = cnv_negotiated_check(&s->caps, &s->neg);
  if (st != CNV_OK) return st;
  if (s->neg.checksum || s->neg.compression != CNV_COMPRESS_NONE) return CNV_ESESSION_HANDSHAKE;
  s->aead = r[1];
  hash3(s->transcript, t2, sizeof t2, sig, CNV__SESSION_SIG, NULL, 0);
  st = cnv__session_derive(s, r + 4);
  if (st != CNV_OK) return st;
  memcpy(s->peer_key, s->server_pk, CNV_SESSION_KEY_BYTES);
  /* AUTH: holder key, its signature over label || T3, the token; sealed in place. */
  size_t len = CNV__SESSION_AUTH_FIXED + s->token_len;
  size_t need = CNV_FRAME_HEADER_SIZE + len + CNV_SESSION_TAG_BYTES;
  if (s->out_cap - s->out_len < need) return CNV_ESESSION_HANDSHAKE;
  uint8_t *f = s->out_buf + s->out_len, *a = f + CNV_FRAME_HEADER_SIZE;
  crypto_sign_ed25519_sk_to_pk(a, s->secret);
  sig_message(m, HOLDER_SIG_LABEL, s->transcript);
  int bad = crypto_sign_ed25519_detached(a + CNV_SESSION_KEY_BYTES, NULL, m, sizeof m, s->secret);
  sodium_memzero(s->secret, sizeof s->secret); /* the holder key signs once per session */
  if (bad != 0) return CNV_ESESSION_HANDSHAKE;
  memcpy(a + CNV__SESSION_AUTH_FIXED, s->token, s->token_len);
  sodium_memzero(s->token, s->token_len); /* sent once; sealed in place below */
  st = cnv__session_seal_one(s, CNV_MSG_AUTH, 0, a, len, f);
  if (st != CNV_OK) return st;
  s->out_len += need;
  s->state = CNV__C_WAIT_READY;
  return CNV_OK;
}

cnv_status cnv__session_on_auth(cnv_session *s, const uint8_t *pt, size_t len) {
  if (len <= CNV__SESSION_AUTH_FIXED || len > CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN)
    return CNV_ESESSION_HANDSHAKE;
  uint8_t m[SIG_LABEL_LEN + CNV__SESSION_KEY];
  sig_message(m, HOLDER_SIG_LABEL, s->transcript);
  if (crypto_sign_ed25519_verify_detached(pt + CNV_SESSION_KEY_BYTES, m, sizeof m, pt) != 0)
    return CNV_ESESSION_HOLDER_PROOF;
  memcpy(s->peer_key, pt, CNV_SESSION_KEY_BYTES);
  s->state = CNV__S_AUTH_PENDING;
  return CNV_OK;
}
