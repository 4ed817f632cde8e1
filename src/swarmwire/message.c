/* REQUEST, RESPONSE and REFUSAL: invocations and their answers, sealed end to end between
 * an agent and the swarm (docs/swarm-wire.md "Requests and responses"). */
#include <string.h>

#include "sw_internal.h"

enum { KIND_REQUEST = 3,
       KIND_RESPONSE = 4,
       KIND_REFUSAL = 5 };

#define REQ_HEAD 29u  /* version, kind, attempt, ticket length, seq, reqid, time */
#define RESP_HEAD 10u /* version, kind, reqid */
#define REFUSAL_BYTES 14u
#define SEAL_EXTRA (CNV_SW_NONCE_BYTES + CNV_SW_TAG_BYTES)

_Static_assert(REQ_HEAD + SEAL_EXTRA <= CNV_SW_REQUEST_OVERHEAD, "request overhead");
_Static_assert(RESP_HEAD + SEAL_EXTRA <= CNV_SW_RESPONSE_OVERHEAD, "response overhead");
_Static_assert(REFUSAL_BYTES <= CNV_SW_RESPONSE_OVERHEAD, "refusal size");

static const char request_label[] = "cnv-swarm/1 request";
static const char response_label[] = "cnv-swarm/1 response";

static void hash_prefixed(crypto_generichash_state *h, const void *p, size_t n) {
  uint8_t len[8];
  sw_put64(len, (uint64_t)n);
  crypto_generichash_update(h, len, sizeof len);
  if (n) crypto_generichash_update(h, p, n);
}

/* A request's associated data: BLAKE2b-256 of label || head || the subject and the reply
 * subject, each after its length (u64 LE), so no two splits of the same bytes agree. */
static void request_ad(uint8_t ad[CNV_SW_HASH_BYTES], const uint8_t *head, size_t head_len, const char *subject,
                       const char *reply) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, CNV_SW_HASH_BYTES);
  crypto_generichash_update(&h, (const uint8_t *)request_label, sizeof request_label - 1);
  hash_prefixed(&h, head, head_len);
  hash_prefixed(&h, subject, strlen(subject));
  hash_prefixed(&h, reply, strlen(reply));
  crypto_generichash_final(&h, ad, CNV_SW_HASH_BYTES);
}

/* A REQUEST's ticket: none (0, the node holds the session already) or a sealed ticket's size. */
static bool ticket_len_ok(size_t n) { return n == 0 || (n >= SW_TICKET_MIN && n <= CNV_SW_MAX_TICKET); }

cnv_status cnv_sw_request_seal(const uint8_t key_c2s[CNV_SW_SYM_BYTES], const void *ticket, size_t ticket_len,
                               uint64_t seq, uint64_t reqid, uint64_t ts_ms, uint8_t attempt, const char *subject,
                               const char *reply, const void *plain, size_t plain_len, void *out, size_t cap,
                               size_t *written) {
  if (!key_c2s || (!ticket && ticket_len) || !subject || !reply || (!plain && plain_len) || !out) return CNV_EINVAL;
  if (seq == 0 || !ticket_len_ok(ticket_len)) return CNV_ERANGE;
  size_t head_len = REQ_HEAD + ticket_len;
  if (plain_len > SIZE_MAX - head_len - SEAL_EXTRA) return CNV_ERANGE;
  size_t total = head_len + SEAL_EXTRA + plain_len;
  if (cap < total) return CNV_ERANGE;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  uint8_t *p = out;
  uint8_t *c = p + head_len + CNV_SW_NONCE_BYTES;
  /* The plaintext first: the caller may have laid it at its place in out already. */
  if (plain_len) memmove(c, plain, plain_len);
  if (ticket_len) memmove(p + REQ_HEAD, ticket, ticket_len);
  p[0] = CNV_SW_VERSION;
  p[1] = KIND_REQUEST;
  p[2] = attempt;
  sw_put16(p + 3, (uint16_t)ticket_len);
  sw_put64(p + 5, seq);
  sw_put64(p + 13, reqid);
  sw_put64(p + 21, ts_ms);
  cnv__sw_nonce(p + head_len);
  uint8_t ad[CNV_SW_HASH_BYTES];
  request_ad(ad, p, head_len, subject, reply);
  crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, c, plain_len, ad, sizeof ad, NULL, p + head_len, key_c2s);
  if (written) *written = total;
  return CNV_OK;
}

cnv_status cnv_sw_request_parse(const void *in, size_t len, cnv_sw_request *out) {
  if (!in || !out) return CNV_EINVAL;
  sw_reader r = sw_reader_of(in, len);
  uint8_t version = sw_take8(&r), kind = sw_take8(&r), attempt = sw_take8(&r);
  size_t ticket_len = sw_take16(&r);
  uint64_t seq = sw_take64(&r), reqid = sw_take64(&r), ts = sw_take64(&r);
  const uint8_t *ticket = sw_take(&r, ticket_len);
  size_t head_len = r.off;
  const uint8_t *sealed = sw_take(&r, SEAL_EXTRA);
  if (!r.ok || version != CNV_SW_VERSION || kind != KIND_REQUEST || seq == 0 || !ticket_len_ok(ticket_len)) {
    return CNV_ESW_MALFORMED;
  }
  out->attempt = attempt;
  out->seq = seq;
  out->reqid = reqid;
  out->ts_ms = ts;
  out->ticket = ticket_len ? ticket : NULL;
  out->ticket_len = ticket_len;
  out->sealed = sealed;
  out->sealed_len = len - head_len;
  out->head = in;
  out->head_len = head_len;
  return CNV_OK;
}

/* A framing the parser would give: the open functions take the struct from the caller. */
static bool sealed_ok(const uint8_t *sealed, size_t sealed_len, const uint8_t *head, size_t head_len) {
  return sealed && head && sealed_len >= SEAL_EXTRA && head_len > 0;
}

cnv_status cnv_sw_request_open(const uint8_t key_c2s[CNV_SW_SYM_BYTES], const cnv_sw_request *r, const char *subject,
                               const char *reply, void *plain, size_t cap, size_t *plain_len) {
  if (!key_c2s || !r || !subject || !reply || !plain || !plain_len) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  if (!sealed_ok(r->sealed, r->sealed_len, r->head, r->head_len)) return CNV_EINVAL;
  size_t n = r->sealed_len - SEAL_EXTRA;
  if (cap < n) return CNV_ERANGE;
  uint8_t ad[CNV_SW_HASH_BYTES];
  request_ad(ad, r->head, r->head_len, subject, reply);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, r->sealed + CNV_SW_NONCE_BYTES,
                                                 r->sealed_len - CNV_SW_NONCE_BYTES, ad, sizeof ad, r->sealed,
                                                 key_c2s) != 0) {
    return CNV_ESW_OPEN;
  }
  *plain_len = n;
  return CNV_OK;
}

/* A response's associated data: label || its head (version, kind, reqid). */
#define RESP_AD_BYTES (sizeof response_label - 1 + RESP_HEAD)
static void response_ad(uint8_t ad[RESP_AD_BYTES], const uint8_t *head) {
  memcpy(ad, response_label, sizeof response_label - 1);
  memcpy(ad + sizeof response_label - 1, head, RESP_HEAD);
}

cnv_status cnv_sw_response_seal(const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid, const void *plain,
                                size_t plain_len, void *out, size_t cap, size_t *written) {
  if (!key_s2c || (!plain && plain_len) || !out) return CNV_EINVAL;
  if (plain_len > SIZE_MAX - RESP_HEAD - SEAL_EXTRA) return CNV_ERANGE;
  size_t total = RESP_HEAD + SEAL_EXTRA + plain_len;
  if (cap < total) return CNV_ERANGE;
  cnv_status st = cnv__sw_ready();
  if (st != CNV_OK) return st;
  uint8_t *p = out;
  uint8_t *c = p + RESP_HEAD + CNV_SW_NONCE_BYTES;
  if (plain_len) memmove(c, plain, plain_len);
  p[0] = CNV_SW_VERSION;
  p[1] = KIND_RESPONSE;
  sw_put64(p + 2, reqid);
  cnv__sw_nonce(p + RESP_HEAD);
  uint8_t ad[RESP_AD_BYTES];
  response_ad(ad, p);
  crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, c, plain_len, ad, sizeof ad, NULL, p + RESP_HEAD, key_s2c);
  if (written) *written = total;
  return CNV_OK;
}

cnv_status cnv_sw_refusal_write(uint64_t reqid, int32_t status, void *out, size_t cap, size_t *written) {
  if (!out) return CNV_EINVAL;
  if (status >= 0) return CNV_EINVAL;
  if (cap < REFUSAL_BYTES) return CNV_ERANGE;
  uint8_t *p = out;
  p[0] = CNV_SW_VERSION;
  p[1] = KIND_REFUSAL;
  sw_put64(p + 2, reqid);
  sw_put32(p + 10, (uint32_t)status);
  if (written) *written = REFUSAL_BYTES;
  return CNV_OK;
}

cnv_status cnv_sw_response_parse(const void *in, size_t len, cnv_sw_response *out) {
  if (!in || !out) return CNV_EINVAL;
  const uint8_t *p = in;
  if (len < RESP_HEAD || p[0] != CNV_SW_VERSION) return CNV_ESW_MALFORMED;
  if (p[1] == KIND_REFUSAL) {
    if (len != REFUSAL_BYTES) return CNV_ESW_MALFORMED;
    int32_t status = (int32_t)sw_get32(p + 10);
    if (status >= 0) return CNV_ESW_MALFORMED;
    *out = (cnv_sw_response){.reqid = sw_get64(p + 2), .refusal = true, .status = status, .head = p, .head_len = REFUSAL_BYTES};
    return CNV_OK;
  }
  if (p[1] != KIND_RESPONSE || len < RESP_HEAD + SEAL_EXTRA) return CNV_ESW_MALFORMED;
  *out = (cnv_sw_response){.reqid = sw_get64(p + 2), .refusal = false, .status = 0, .sealed = p + RESP_HEAD, .sealed_len = len - RESP_HEAD, .head = p, .head_len = RESP_HEAD};
  return CNV_OK;
}

cnv_status cnv_sw_response_open(const uint8_t key_s2c[CNV_SW_SYM_BYTES], const cnv_sw_response *r, void *plain,
                                size_t cap, size_t *plain_len) {
  if (!key_s2c || !r || !plain || !plain_len || r->refusal) return CNV_EINVAL;
  cnv_status ready = cnv__sw_ready();
  if (ready != CNV_OK) return ready;
  if (!sealed_ok(r->sealed, r->sealed_len, r->head, r->head_len) || r->head_len != RESP_HEAD) return CNV_EINVAL;
  size_t n = r->sealed_len - SEAL_EXTRA;
  if (cap < n) return CNV_ERANGE;
  uint8_t ad[RESP_AD_BYTES];
  response_ad(ad, r->head);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, r->sealed + CNV_SW_NONCE_BYTES,
                                                 r->sealed_len - CNV_SW_NONCE_BYTES, ad, sizeof ad, r->sealed,
                                                 key_s2c) != 0) {
    return CNV_ESW_OPEN;
  }
  *plain_len = n;
  return CNV_OK;
}
