/* Records: the signed values of the swarm's key-value bucket (docs/swarm-wire.md "Records"). */
#include <string.h>

#include "sw_internal.h"

#define RECORD_HEAD 46u  /* version, kind, time, signer, token length, body length */
#define GRANT_BODY 116u  /* epoch, recipient, sealed swarm key */
#define KEY_HEX 64u      /* the key name's id in hex */
#define KIND_NAME_MAX 6u /* "revoke" */

static const char record_label[] = "cnv-swarm/1 record";
static const char *const kind_name[CNV_SW_REC_KIND_MAX + 1] = {NULL, "trust", "revoke", "grant", "join", "node"};

/* A record key name as cnv_sw_record_key writes it: its kind and its 32-byte id. */
static bool parse_key(const char *key_name, uint8_t *kind, uint8_t id[32]) {
  size_t prefix = 0;
  while (prefix <= KIND_NAME_MAX && key_name[prefix] != '.' && key_name[prefix] != '\0') prefix++;
  if (key_name[prefix] != '.') return false;
  *kind = 0;
  for (uint8_t k = 1; k <= CNV_SW_REC_KIND_MAX; k++) {
    if (strlen(kind_name[k]) == prefix && memcmp(kind_name[k], key_name, prefix) == 0) *kind = k;
  }
  if (*kind == 0) return false;
  const char *hex = key_name + prefix + 1;
  for (size_t i = 0; i < KEY_HEX; i++) {
    if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) return false;
  }
  if (hex[KEY_HEX] != '\0') return false;
  return sodium_hex2bin(id, 32, hex, KEY_HEX, NULL, NULL, NULL) == 0;
}

/* The body and token a kind requires. */
static bool body_fits(uint8_t kind, size_t token_len, const uint8_t *body, size_t body_len) {
  cnv_sw_node_status ns;
  switch (kind) {
    case CNV_SW_REC_TRUST:
    case CNV_SW_REC_REVOKE:
      return body_len == 32;
    case CNV_SW_REC_GRANT:
      return body_len == GRANT_BODY;
    case CNV_SW_REC_JOIN:
      return body_len == 0 && token_len > 0;
    case CNV_SW_REC_NODE:
      return cnv_sw_node_status_decode(body, body_len, &ns) == CNV_OK;
    default:
      return false;
  }
}

/* The record belongs under the key's id: a grant to the key's node, a join or status of the
 * key's node. */
static bool id_fits(uint8_t kind, const uint8_t id[32], const uint8_t signer[32], const uint8_t *body) {
  switch (kind) {
    case CNV_SW_REC_GRANT:
      return memcmp(body + 4, id, 32) == 0;
    case CNV_SW_REC_JOIN:
    case CNV_SW_REC_NODE:
      return memcmp(signer, id, 32) == 0;
    default:
      return true;
  }
}

cnv_status cnv_sw_record_write(uint64_t swarm, const char *key_name, const uint8_t signer_sk[CNV_SW_SECRET_BYTES],
                               const cnv_sw_record *rec, void *out, size_t cap, size_t *written) {
  if (!key_name || !signer_sk || !rec || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  if ((rec->token_len && !rec->token) || (rec->body_len && !rec->body)) return CNV_EINVAL;
  if (rec->token_len > CNV_SW_MAX_TOKEN || rec->body_len > CNV_SW_MAX_BODY) return CNV_ERANGE;
  uint8_t kind, id[32];
  if (!parse_key(key_name, &kind, id) || kind != rec->kind || !sw_sk_matches(signer_sk, rec->signer_pk)) {
    return CNV_EINVAL;
  }
  if (!body_fits(kind, rec->token_len, rec->body, rec->body_len) || !id_fits(kind, id, rec->signer_pk, rec->body)) {
    return CNV_EINVAL;
  }
  size_t body = RECORD_HEAD + rec->token_len + rec->body_len;
  if (cap < body + CNV_SW_SIG_BYTES) return CNV_ERANGE;
  uint8_t *p = out;
  /* Body, then token: either may already lie at its place in out (moved, not copied). */
  if (rec->body_len) memmove(p + RECORD_HEAD + rec->token_len, rec->body, rec->body_len);
  if (rec->token_len) memmove(p + RECORD_HEAD, rec->token, rec->token_len);
  p[0] = CNV_SW_VERSION;
  p[1] = kind;
  sw_put64(p + 2, rec->ts_ms);
  memcpy(p + 10, rec->signer_pk, CNV_SW_KEY_BYTES);
  sw_put16(p + 42, (uint16_t)rec->token_len);
  sw_put16(p + 44, (uint16_t)rec->body_len);
  cnv__sw_sign(record_label, swarm, key_name, strlen(key_name) + 1, p, body, signer_sk, p + body);
  if (written) *written = body + CNV_SW_SIG_BYTES;
  return CNV_OK;
}

cnv_status cnv_sw_record_read(uint64_t swarm, const char *key_name, const void *in, size_t len, cnv_sw_record *out) {
  if (!key_name || !in || !out) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  uint8_t key_kind, id[32];
  if (!parse_key(key_name, &key_kind, id)) return CNV_EINVAL;
  sw_reader r = sw_reader_of(in, len);
  uint8_t version = sw_take8(&r), kind = sw_take8(&r);
  uint64_t ts = sw_take64(&r);
  const uint8_t *signer = sw_take(&r, CNV_SW_KEY_BYTES);
  size_t token_len = sw_take16(&r), body_len = sw_take16(&r);
  const uint8_t *token = sw_take(&r, token_len);
  const uint8_t *body = sw_take(&r, body_len);
  size_t signed_len = r.off;
  const uint8_t *sig = sw_take(&r, CNV_SW_SIG_BYTES);
  if (!sw_done(&r) || version != CNV_SW_VERSION || token_len > CNV_SW_MAX_TOKEN || body_len > CNV_SW_MAX_BODY ||
      !body_fits(kind, token_len, body, body_len)) {
    return CNV_ESW_MALFORMED;
  }
  if (kind != key_kind || !id_fits(kind, id, signer, body)) return CNV_ESW_PROOF;
  if (!cnv__sw_verify(record_label, swarm, key_name, strlen(key_name) + 1, in, signed_len, signer, sig)) {
    return CNV_ESW_PROOF;
  }
  out->kind = kind;
  out->ts_ms = ts;
  memcpy(out->signer_pk, signer, CNV_SW_KEY_BYTES);
  out->token = token_len ? token : NULL;
  out->token_len = token_len;
  out->body = body_len ? body : NULL;
  out->body_len = body_len;
  return CNV_OK;
}
