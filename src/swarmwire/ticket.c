/* The session ticket: sealed under the swarm key so that every node can open it
 * (docs/swarm-wire.md "Ticket"). */
#include <string.h>

#include "sw_internal.h"

static const char ticket_label[] = "cnv-swarm/1 ticket";

/* Associated data: label || swarm (u64 LE) || the ticket's first 5 bytes (version, epoch). */
#define TICKET_AD_BYTES (sizeof ticket_label - 1 + 8 + 5)
static void ticket_ad(uint8_t ad[TICKET_AD_BYTES], uint64_t swarm, const uint8_t head[5]) {
  memcpy(ad, ticket_label, sizeof ticket_label - 1);
  sw_put64(ad + sizeof ticket_label - 1, swarm);
  memcpy(ad + sizeof ticket_label - 1 + 8, head, 5);
}

cnv_status cnv_sw_ticket_seal(const uint8_t swarm_key[CNV_SW_SYM_BYTES], uint32_t epoch, uint64_t swarm,
                              const cnv_sw_ticket *t, void *out, size_t cap, size_t *written) {
  _Static_assert(SW_TICKET_HEAD + SW_TICKET_PLAIN + CNV_SW_MAX_TOKEN + CNV_SW_TAG_BYTES <= CNV_SW_MAX_TICKET,
                 "the largest ticket fits CNV_SW_MAX_TICKET");
  if (!swarm_key || !t || !out || !t->token) return CNV_EINVAL;
  if (t->issued_ms > t->expires_ms) return CNV_EINVAL;
  if (!SW_TOKEN_LEN_OK(t->token_len)) return CNV_ERANGE;
  size_t plain_len = SW_TICKET_PLAIN + t->token_len;
  size_t total = SW_TICKET_HEAD + plain_len + CNV_SW_TAG_BYTES;
  if (cap < total) return CNV_ERANGE;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  uint8_t *p = out;
  p[0] = CNV_SW_VERSION;
  sw_put32(p + 1, epoch);
  cnv__sw_nonce(p + 5);
  /* The plaintext is laid out in place, after the head, and sealed in place. */
  uint8_t *q = p + SW_TICKET_HEAD;
  memmove(q + SW_TICKET_PLAIN, t->token, t->token_len);
  memcpy(q, t->sid, CNV_SW_SID_BYTES);
  memcpy(q + 16, t->agent_pk, CNV_SW_KEY_BYTES);
  memcpy(q + 48, t->node_pk, CNV_SW_KEY_BYTES);
  sw_put64(q + 80, t->issued_ms);
  sw_put64(q + 88, t->expires_ms);
  memcpy(q + 96, t->key_c2s, CNV_SW_SYM_BYTES);
  memcpy(q + 128, t->key_s2c, CNV_SW_SYM_BYTES);
  sw_put16(q + 160, (uint16_t)t->token_len);
  uint8_t ad[TICKET_AD_BYTES];
  ticket_ad(ad, swarm, p);
  crypto_aead_xchacha20poly1305_ietf_encrypt(q, NULL, q, plain_len, ad, sizeof ad, NULL, p + 5, swarm_key);
  if (written) *written = total;
  return CNV_OK;
}

cnv_status cnv_sw_ticket_epoch(const void *in, size_t len, uint32_t *epoch) {
  if (!in || !epoch) return CNV_EINVAL;
  const uint8_t *p = in;
  if (len < SW_TICKET_MIN || len > CNV_SW_MAX_TICKET || p[0] != CNV_SW_VERSION) return CNV_ESW_MALFORMED;
  *epoch = sw_get32(p + 1);
  return CNV_OK;
}

cnv_status cnv_sw_ticket_open(const uint8_t swarm_key[CNV_SW_SYM_BYTES], uint64_t swarm, const void *in, size_t len,
                              void *plain, size_t cap, cnv_sw_ticket *out) {
  if (!swarm_key || !in || !plain || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  uint32_t epoch;
  cnv_status st = cnv_sw_ticket_epoch(in, len, &epoch);
  if (st != CNV_OK) return st;
  const uint8_t *p = in;
  size_t plain_len = len - SW_TICKET_HEAD - CNV_SW_TAG_BYTES;
  if (cap < plain_len) return CNV_ERANGE;
  uint8_t ad[TICKET_AD_BYTES];
  ticket_ad(ad, swarm, p);
  uint8_t *q = plain;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(q, NULL, NULL, p + SW_TICKET_HEAD, len - SW_TICKET_HEAD, ad,
                                                 sizeof ad, p + 5, swarm_key) != 0) {
    return CNV_ESW_TICKET;
  }
  size_t token_len = sw_get16(q + 160);
  uint64_t issued = sw_get64(q + 80), expires = sw_get64(q + 88);
  if (token_len != plain_len - SW_TICKET_PLAIN || issued > expires) {
    /* Authentic but not a ticket this module writes: no key may stay behind. */
    sodium_memzero(q, plain_len);
    return CNV_ESW_MALFORMED;
  }
  memcpy(out->sid, q, CNV_SW_SID_BYTES);
  memcpy(out->agent_pk, q + 16, CNV_SW_KEY_BYTES);
  memcpy(out->node_pk, q + 48, CNV_SW_KEY_BYTES);
  out->issued_ms = issued;
  out->expires_ms = expires;
  memcpy(out->key_c2s, q + 96, CNV_SW_SYM_BYTES);
  memcpy(out->key_s2c, q + 128, CNV_SW_SYM_BYTES);
  out->token = q + SW_TICKET_PLAIN;
  out->token_len = token_len;
  return CNV_OK;
}
