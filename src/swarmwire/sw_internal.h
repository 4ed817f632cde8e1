/* swarmwire's private helpers: little-endian fields, a bounds-checked reader, the signature
 * over a labelled message, libsodium's one-time start. Internal to src/swarmwire. */
#ifndef CNV_SW_INTERNAL_H
#define CNV_SW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include <cnv/swarmwire.h>

static inline void sw_put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void sw_put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void sw_put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t sw_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t sw_get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static inline uint64_t sw_get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* A reader over len bytes: every take checks the bytes are there; once one fails, ok stays
 * false and every later take returns NULL or 0. */
typedef struct sw_reader {
  const uint8_t *p;
  size_t len, off;
  bool ok;
} sw_reader;

static inline sw_reader sw_reader_of(const void *in, size_t len) { return (sw_reader){in, len, 0, true}; }
static inline const uint8_t *sw_take(sw_reader *r, size_t n) {
  if (!r->ok || n > r->len - r->off) {
    r->ok = false;
    return NULL;
  }
  const uint8_t *at = r->p + r->off;
  r->off += n;
  return at;
}
static inline uint8_t sw_take8(sw_reader *r) {
  const uint8_t *p = sw_take(r, 1);
  return p ? p[0] : 0;
}
static inline uint16_t sw_take16(sw_reader *r) {
  const uint8_t *p = sw_take(r, 2);
  return p ? sw_get16(p) : 0;
}
static inline uint32_t sw_take32(sw_reader *r) {
  const uint8_t *p = sw_take(r, 4);
  return p ? sw_get32(p) : 0;
}
static inline uint64_t sw_take64(sw_reader *r) {
  const uint8_t *p = sw_take(r, 8);
  return p ? sw_get64(p) : 0;
}
/* All bytes taken, none left over. */
static inline bool sw_done(const sw_reader *r) { return r->ok && r->off == r->len; }

/* libsodium started once (sodium_init); CNV_ENOTSUP when it cannot start. */
cnv_status cnv__sw_ready(void);

/* A fresh random nonce for one sealed message: libsodium's generator, drawn in batches per
 * thread (crypto.c), each nonce handed out once, also across fork. Any thread; after
 * cnv__sw_ready. */
void cnv__sw_nonce(uint8_t nonce[CNV_SW_NONCE_BYTES]);

/* An Ed25519ph signature (RFC 8032 prehash, libsodium's crypto_sign_init/update/final) over
 * label || swarm (u64 LE) || a (a_len bytes) || b (b_len bytes); a or b may be NULL with length
 * 0. Streaming, so a message up to a full token is signed without a copy. */
void cnv__sw_sign(const char *label, uint64_t swarm, const void *a, size_t a_len, const void *b, size_t b_len,
                  const uint8_t sk[CNV_SW_SECRET_BYTES], uint8_t sig[CNV_SW_SIG_BYTES]);
bool cnv__sw_verify(const char *label, uint64_t swarm, const void *a, size_t a_len, const void *b, size_t b_len,
                    const uint8_t pk[CNV_SW_KEY_BYTES], const uint8_t sig[CNV_SW_SIG_BYTES]);

/* True when sk's public half (libsodium's secret key is seed || public key) is pk. */
static inline bool sw_sk_matches(const uint8_t sk[CNV_SW_SECRET_BYTES], const uint8_t pk[CNV_SW_KEY_BYTES]) {
  return sodium_memcmp(sk + 32, pk, CNV_SW_KEY_BYTES) == 0;
}

/* Shared sizes. */
#define SW_TOKEN_LEN_OK(n) ((n) >= 1 && (n) <= CNV_SW_MAX_TOKEN)
#define SW_TICKET_HEAD 29u   /* version, epoch, nonce */
#define SW_TICKET_PLAIN 162u /* the ticket's plaintext before its token */
/* The smallest sealed ticket: a one-byte token. */
#define SW_TICKET_MIN CNV_SW_MIN_TICKET
_Static_assert(CNV_SW_MIN_TICKET == SW_TICKET_HEAD + SW_TICKET_PLAIN + 1u + CNV_SW_TAG_BYTES, "smallest ticket");

#endif
