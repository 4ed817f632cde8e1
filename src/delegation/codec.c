/* Canonical token encoding: bounded parser, encoder, link hash, signing input.
 * Layout (little-endian; docs/delegation.md):
 *   header: "CNVT" | version u8 | n_links u8
 *   link:   issuer[32] audience[32] parent[32] nonce[16] not_before u64 expiry u64
 *           swarm u64 max_uses u32 effects u16 depth u8
 *           n_allow u8 allow[n_allow] n_forbid u8 forbid[n_forbid] signature[64]
 *   pattern: kind u8 | id u64 | noun u64 */
#include <string.h>

#include <sodium.h>

#include "deleg.h"

static uint64_t rd_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static uint8_t *wr_le(uint8_t *p, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
  return p + n;
}

typedef struct reader {
  const uint8_t *buf;
  size_t len;
  size_t pos;
} reader;

static cnv_status fail_at(cnv_deleg_error *err, int32_t link, size_t off, cnv_status st) {
  if (err) *err = (cnv_deleg_error){.link = link, .offset = (uint32_t)off};
  return st;
}

static cnv_status parse_set(reader *r, cnv_deleg_pattern *set, uint8_t *n) {
  if (r->len - r->pos < 1) return CNV_ETOKEN_TRUNCATED;
  uint8_t count = r->buf[r->pos];
  if (count > CNV_DELEG_MAX_PATTERNS) return CNV_ETOKEN_PATTERN_COUNT;
  r->pos++;
  if (r->len - r->pos < (size_t)count * CNV_DELEG_PATTERN_BYTES) return CNV_ETOKEN_TRUNCATED;
  for (uint8_t i = 0; i < count; i++) {
    const uint8_t *p = r->buf + r->pos;
    set[i] = (cnv_deleg_pattern){.kind = p[0], .id = rd_le(p + 1, 8), .noun = rd_le(p + 9, 8)};
    r->pos += CNV_DELEG_PATTERN_BYTES;
  }
  *n = count;
  return CNV_OK;
}

/* Fixed part up to (not including) n_allow. */
#define LINK_HEAD_BYTES (CNV_DELEG_LINK_FIXED_BYTES - 2)

static void parse_head(const uint8_t *p, cnv_deleg_link *l) {
  memcpy(l->issuer, p, 32);
  memcpy(l->audience, p + 32, 32);
  memcpy(l->parent, p + 64, 32);
  memcpy(l->nonce, p + 96, 16);
  cnv_deleg_caveats *c = &l->caveats;
  c->not_before = rd_le(p + 112, 8);
  c->expiry = rd_le(p + 120, 8);
  c->swarm = rd_le(p + 128, 8);
  c->max_uses = (uint32_t)rd_le(p + 136, 4);
  c->effects = (cnv_effects)rd_le(p + 140, 2);
  c->depth = p[142];
}

static cnv_status parse_link(reader *r, cnv_deleg_link *l, cnv__deleg_span *span) {
  size_t start = r->pos;
  if (r->len - r->pos < LINK_HEAD_BYTES) return CNV_ETOKEN_TRUNCATED;
  parse_head(r->buf + r->pos, l);
  r->pos += LINK_HEAD_BYTES;
  cnv_status st = parse_set(r, l->caveats.allow, &l->caveats.n_allow);
  if (st == CNV_OK) st = parse_set(r, l->caveats.forbid, &l->caveats.n_forbid);
  if (st != CNV_OK) return st;
  span->off = (uint32_t)start;
  span->body_len = (uint32_t)(r->pos - start);
  if (r->len - r->pos < CNV_DELEG_SIG_BYTES) return CNV_ETOKEN_TRUNCATED;
  memcpy(l->signature, r->buf + r->pos, CNV_DELEG_SIG_BYTES);
  r->pos += CNV_DELEG_SIG_BYTES;
  return CNV_OK;
}

/* The encodings of the eight points of small order, sign bit cleared (libsodium's own list:
 * crypto_sign_verify_detached refuses these as keys): y = 0, 1, an order-8 y and its
 * negation, p-1, and the non-canonical p and p+1. */
static const uint8_t small_order[7][CNV_DELEG_KEY_BYTES] = {
    {0},
    {1},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

bool cnv__deleg_key_plausible(const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  /* Canonical: y (the low 255 bits) below p = 2^255 - 19, i.e. not 0x7fff..ff with a low
   * byte of 0xed or more. */
  bool all_ff = (pk[31] & 0x7f) == 0x7f;
  for (int i = 1; i < 31 && all_ff; i++) all_ff = pk[i] == 0xff;
  if (all_ff && pk[0] >= 0xed) return false;
  uint8_t y[CNV_DELEG_KEY_BYTES];
  memcpy(y, pk, sizeof y);
  y[31] &= 0x7f; /* both signs of x: -P has the same order as P */
  for (size_t i = 0; i < sizeof small_order / sizeof small_order[0]; i++) {
    if (memcmp(y, small_order[i], sizeof y) == 0) return false;
  }
  return true;
}

bool cnv__deleg_key_valid(const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  return crypto_core_ed25519_is_valid_point(pk) == 1;
}

/* Issuer and audience of a parsed link are plausible keys; else the offset of the bad one. */
static bool link_keys_ok(const cnv_deleg_link *l, size_t start, size_t *bad_off) {
  if (!cnv__deleg_key_plausible(l->issuer)) {
    *bad_off = start;
    return false;
  }
  if (!cnv__deleg_key_plausible(l->audience)) {
    *bad_off = start + CNV_DELEG_KEY_BYTES;
    return false;
  }
  return true;
}

static cnv_status parse_header(reader *r, cnv_deleg_token *out) {
  if (r->len < CNV_DELEG_HEADER_BYTES) return CNV_ETOKEN_TRUNCATED;
  if (memcmp(r->buf, CNV__DELEG_MAGIC, 4) != 0) return CNV_ETOKEN_MAGIC;
  r->pos = 4;
  if (r->buf[4] != CNV_DELEG_VERSION) return CNV_ETOKEN_VERSION;
  r->pos = 5;
  if (r->buf[5] == 0 || r->buf[5] > CNV_DELEG_MAX_LINKS) return CNV_ETOKEN_LINK_COUNT;
  out->version = r->buf[4];
  out->n_links = r->buf[5];
  r->pos = CNV_DELEG_HEADER_BYTES;
  return CNV_OK;
}

cnv_status cnv__deleg_parse(const uint8_t *buf, size_t len, cnv_deleg_token *out,
                            cnv__deleg_span spans[CNV_DELEG_MAX_LINKS], cnv_deleg_error *err) {
  reader r = {.buf = buf, .len = len, .pos = 0};
  cnv_status st = parse_header(&r, out);
  if (st != CNV_OK) return fail_at(err, -1, r.pos, st);
  for (int32_t i = 0; i < out->n_links; i++) {
    size_t start = r.pos;
    st = parse_link(&r, &out->links[i], &spans[i]);
    if (st != CNV_OK) return fail_at(err, i, r.pos, st);
    size_t bad_off;
    if (!link_keys_ok(&out->links[i], start, &bad_off)) return fail_at(err, i, bad_off, CNV_EDELEG_BAD_KEY);
    st = cnv__deleg_caveats_check(&out->links[i].caveats);
    if (st != CNV_OK) return fail_at(err, i, start, st);
  }
  if (r.pos != len) return fail_at(err, -1, r.pos, CNV_ETOKEN_TRAILING);
  return CNV_OK;
}

cnv_status cnv_deleg_token_decode(const uint8_t *buf, size_t len, cnv_deleg_token *out,
                                  cnv_deleg_error *err) {
  if (!buf || !out) return CNV_EINVAL;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  return cnv__deleg_parse(buf, len, out, spans, err);
}

size_t cnv__deleg_body_size(const cnv_deleg_caveats *c) {
  return CNV_DELEG_LINK_FIXED_BYTES + ((size_t)c->n_allow + c->n_forbid) * CNV_DELEG_PATTERN_BYTES;
}

static uint8_t *encode_set(uint8_t *p, const cnv_deleg_pattern *set, uint8_t n) {
  *p++ = n;
  for (uint8_t i = 0; i < n; i++) {
    *p++ = set[i].kind;
    p = wr_le(p, set[i].id, 8);
    p = wr_le(p, set[i].noun, 8);
  }
  return p;
}

void cnv__deleg_body_encode(const cnv_deleg_link *l, uint8_t *out) {
  const cnv_deleg_caveats *c = &l->caveats;
  memcpy(out, l->issuer, 32);
  memcpy(out + 32, l->audience, 32);
  memcpy(out + 64, l->parent, 32);
  memcpy(out + 96, l->nonce, 16);
  uint8_t *p = wr_le(out + 112, c->not_before, 8);
  p = wr_le(p, c->expiry, 8);
  p = wr_le(p, c->swarm, 8);
  p = wr_le(p, c->max_uses, 4);
  p = wr_le(p, c->effects, 2);
  *p++ = c->depth;
  p = encode_set(p, c->allow, c->n_allow);
  encode_set(p, c->forbid, c->n_forbid);
}

static cnv_status token_size(const cnv_deleg_token *tok, size_t *size) {
  if (tok->version != CNV_DELEG_VERSION) return CNV_ETOKEN_VERSION;
  if (tok->n_links == 0 || tok->n_links > CNV_DELEG_MAX_LINKS) return CNV_ETOKEN_LINK_COUNT;
  size_t n = CNV_DELEG_HEADER_BYTES;
  for (uint8_t i = 0; i < tok->n_links; i++) {
    size_t bad_off;
    if (!link_keys_ok(&tok->links[i], 0, &bad_off)) return CNV_EDELEG_BAD_KEY;
    cnv_status st = cnv__deleg_caveats_check(&tok->links[i].caveats);
    if (st != CNV_OK) return st;
    n += cnv__deleg_body_size(&tok->links[i].caveats) + CNV_DELEG_SIG_BYTES;
  }
  *size = n;
  return CNV_OK;
}

cnv_status cnv_deleg_token_encode(const cnv_deleg_token *tok, uint8_t *out, size_t cap,
                                  size_t *out_len) {
  if (!tok || !out_len || (!out && cap)) return CNV_EINVAL;
  size_t need;
  cnv_status st = token_size(tok, &need);
  if (st != CNV_OK) return st;
  *out_len = need;
  if (cap < need) return CNV_ERANGE;
  memcpy(out, CNV__DELEG_MAGIC, 4);
  out[4] = tok->version;
  out[5] = tok->n_links;
  uint8_t *p = out + CNV_DELEG_HEADER_BYTES;
  for (uint8_t i = 0; i < tok->n_links; i++) {
    const cnv_deleg_link *l = &tok->links[i];
    cnv__deleg_body_encode(l, p);
    p += cnv__deleg_body_size(&l->caveats);
    memcpy(p, l->signature, CNV_DELEG_SIG_BYTES);
    p += CNV_DELEG_SIG_BYTES;
  }
  return CNV_OK;
}

void cnv__deleg_hash_link(const uint8_t *link, size_t len, uint8_t out[CNV_DELEG_HASH_BYTES]) {
  static const uint8_t salt[crypto_generichash_blake2b_SALTBYTES];
  crypto_generichash_blake2b_salt_personal(out, CNV_DELEG_HASH_BYTES, link, len, NULL, 0, salt,
                                           (const uint8_t *)CNV__DELEG_HASH_PERSONAL);
}

cnv_status cnv_deleg_link_hash(const uint8_t *buf, size_t len, uint32_t index,
                               uint8_t out[CNV_DELEG_HASH_BYTES]) {
  if (!buf || !out) return CNV_EINVAL;
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  cnv_status st = cnv__deleg_parse(buf, len, &tok, spans, NULL);
  if (st != CNV_OK) return st;
  if (index >= tok.n_links) return CNV_ERANGE;
  cnv__deleg_hash_link(buf + spans[index].off, spans[index].body_len + CNV_DELEG_SIG_BYTES, out);
  return CNV_OK;
}

/* DOMAIN || body in one buffer (libsodium signs contiguous messages). */
static size_t signing_input(const uint8_t *body, size_t len, uint8_t *msg) {
  memcpy(msg, CNV__DELEG_SIGN_DOMAIN, CNV__DELEG_SIGN_DOMAIN_BYTES);
  memcpy(msg + CNV__DELEG_SIGN_DOMAIN_BYTES, body, len);
  return CNV__DELEG_SIGN_DOMAIN_BYTES + len;
}

#define SIGN_INPUT_MAX (CNV__DELEG_SIGN_DOMAIN_BYTES + CNV_DELEG_LINK_MAX_BYTES)

void cnv__deleg_sign_body(const uint8_t *body, size_t len, const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                          uint8_t sig[CNV_DELEG_SIG_BYTES]) {
  uint8_t msg[SIGN_INPUT_MAX];
  size_t n = signing_input(body, len, msg);
  crypto_sign_detached(sig, NULL, msg, n, sk);
}

bool cnv__deleg_verify_body(const uint8_t *body, size_t len, const uint8_t sig[CNV_DELEG_SIG_BYTES],
                            const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  uint8_t msg[SIGN_INPUT_MAX];
  size_t n = signing_input(body, len, msg);
  return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}
