/* The canonical record body (docs/ledger.md, "Record body"): its encoder and decoder, the
 * leaf hash of a body (in two levels: see cnv_ledger_leaf_hash) and the token chain hash. */
#include <string.h>

#include <sodium.h>

#include "lstore.h"

/* where the fields after prev and index start in a body */
#define FIELDS_AT (CNV_LEDGER_HASH_BYTES + 8)

static bool kind_known(uint32_t kind) { return kind >= CNV_LREC_GENESIS && kind <= CNV_LREC_APP; }

void cnv__lleaf_head(const uint8_t head[CNV__LHEAD], const uint8_t content[CNV_LEDGER_HASH_BYTES],
                     uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  /* 0x00 || head || content: 121 bytes, one BLAKE2b compression */
  uint8_t in[1 + CNV__LHEAD + CNV_LEDGER_HASH_BYTES];
  in[0] = 0x00;
  memcpy(in + 1, head, CNV__LHEAD);
  memcpy(in + 1 + CNV__LHEAD, content, CNV_LEDGER_HASH_BYTES);
  /* crypto_generichash fails only for out-of-range sizes; 32 and no key are in range */
  (void)crypto_generichash(out, CNV_LEDGER_HASH_BYTES, in, sizeof in, NULL, 0);
}

/* Writes the body's fields after prev and index (kind .. payload_len: offsets 40 .. 203 of the
 * body) into p. */
static void put_fields(const cnv_ledger_entry *e, uint8_t *p) {
  cnv__lput16(p + 0, e->kind);
  cnv__lput16(p + 2, e->detail);
  cnv__lput32(p + 4, (uint32_t)e->status);
  cnv__lput32(p + 8, e->agent);
  cnv__lput32(p + 12, e->flags);
  cnv__lput64(p + 16, e->time_ms);
  cnv__lput64(p + 24, e->start_ms);
  cnv__lput64(p + 32, e->token_time);
  cnv__lput64(p + 40, e->ticket);
  cnv__lput64(p + 48, e->capability);
  cnv__lput64(p + 56, e->epoch);
  memcpy(p + 64, e->key, 32);
  memcpy(p + 96, e->digest, 32);
  memcpy(p + 128, e->result, 32);
  cnv__lput32(p + 160, e->payload_len);
}

void cnv__lcontent_entry(const cnv_ledger_entry *e, uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  uint8_t fixed[CNV_LEDGER_BODY_FIXED - FIELDS_AT]; /* body bytes 40 .. 203 */
  put_fields(e, fixed);
  crypto_generichash_state st;
  /* crypto_generichash_* fail only for out-of-range sizes; 32 and no key are in range */
  (void)crypto_generichash_init(&st, NULL, 0, CNV_LEDGER_HASH_BYTES);
  (void)crypto_generichash_update(&st, fixed + (CNV__LHEAD - FIELDS_AT), sizeof fixed - (CNV__LHEAD - FIELDS_AT));
  if (e->payload_len) (void)crypto_generichash_update(&st, e->payload, e->payload_len);
  (void)crypto_generichash_final(&st, out, CNV_LEDGER_HASH_BYTES);
}

cnv_status cnv_ledger_leaf_hash(const uint8_t *body, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  if (!body || !out) return CNV_EINVAL;
  if (len < CNV_LEDGER_BODY_FIXED) return CNV_ERANGE;
  uint8_t content[CNV_LEDGER_HASH_BYTES];
  /* fails only for out-of-range sizes; 32 and no key are in range */
  (void)crypto_generichash(content, CNV_LEDGER_HASH_BYTES, body + CNV__LHEAD, len - CNV__LHEAD, NULL, 0);
  cnv__lleaf_head(body, content, out);
  return CNV_OK;
}

cnv_status cnv_ledger_entry_encode(const cnv_ledger_entry *e, uint64_t index, const uint8_t prev[CNV_LEDGER_HASH_BYTES],
                                   uint8_t *out, size_t cap, size_t *len) {
  if (!e || !prev || !out || !len || (!e->payload && e->payload_len > 0) || !kind_known(e->kind)) return CNV_EINVAL;
  if (e->payload_len > CNV_LEDGER_MAX_PAYLOAD) return CNV_ERANGE;
  size_t n = CNV_LEDGER_BODY_FIXED + (size_t)e->payload_len;
  if (cap < n) return CNV_EFULL;
  uint8_t *p = out;
  memcpy(p, prev, CNV_LEDGER_HASH_BYTES);
  cnv__lput64(p + 32, index);
  put_fields(e, p + FIELDS_AT);
  if (e->payload_len) memcpy(p + CNV_LEDGER_BODY_FIXED, e->payload, e->payload_len);
  *len = n;
  return CNV_OK;
}

cnv_status cnv_ledger_entry_decode(const uint8_t *body, size_t len, cnv_ledger_entry *e, uint64_t *index,
                                   uint8_t prev[CNV_LEDGER_HASH_BYTES]) {
  if (!body || !e) return CNV_EINVAL;
  if (len < CNV_LEDGER_BODY_FIXED) return CNV_ELEDGER_CORRUPT;
  uint32_t plen = cnv__lget32(body + 200);
  uint16_t kind = cnv__lget16(body + 40);
  if (plen > CNV_LEDGER_MAX_PAYLOAD || len != CNV_LEDGER_BODY_FIXED + (size_t)plen || !kind_known(kind)) {
    return CNV_ELEDGER_CORRUPT;
  }
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->detail = cnv__lget16(body + 42);
  e->status = (int32_t)cnv__lget32(body + 44);
  e->agent = cnv__lget32(body + 48);
  e->flags = cnv__lget32(body + 52);
  e->time_ms = cnv__lget64(body + 56);
  e->start_ms = cnv__lget64(body + 64);
  e->token_time = cnv__lget64(body + 72);
  e->ticket = cnv__lget64(body + 80);
  e->capability = cnv__lget64(body + 88);
  e->epoch = cnv__lget64(body + 96);
  memcpy(e->key, body + 104, 32);
  memcpy(e->digest, body + 136, 32);
  memcpy(e->result, body + 168, 32);
  e->payload_len = plen;
  e->payload = plen ? body + CNV_LEDGER_BODY_FIXED : NULL;
  if (index) *index = cnv__lget64(body + 32);
  if (prev) memcpy(prev, body, CNV_LEDGER_HASH_BYTES);
  return CNV_OK;
}

cnv_status cnv_ledger_token_hash(const uint8_t *token, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  if (!out || (!token && len > 0)) return CNV_EINVAL;
  /* fails only for out-of-range sizes; 32 and no key are in range */
  (void)crypto_generichash(out, CNV_LEDGER_HASH_BYTES, token, len, NULL, 0);
  return CNV_OK;
}
