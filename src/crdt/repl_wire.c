/* The replicator's message format: writers and the strict decoder (docs/crdt.md
 * "Replication"). */
#include <stdlib.h>
#include <string.h>

#include "repl_wire.h"

static uint64_t get_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

cnv_status repl_buf_reserve(repl_buf *b, size_t more) {
  if (b->cap - b->len >= more) return CNV_OK;
  size_t want = b->cap ? b->cap : 256;
  while (want - b->len < more) {
    if (want > SIZE_MAX / 2) return CNV_EOVERFLOW;
    want *= 2;
  }
  uint8_t *p = realloc(b->p, want);
  if (!p) return CNV_ENOMEM;
  b->p = p;
  b->cap = want;
  return CNV_OK;
}

static void put_le(repl_buf *b, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; i++) b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

void repl_put_u8(repl_buf *b, uint8_t v) { put_le(b, v, 1); }
void repl_put_u16(repl_buf *b, uint16_t v) { put_le(b, v, 2); }
void repl_put_u32(repl_buf *b, uint32_t v) { put_le(b, v, 4); }
void repl_put_u64(repl_buf *b, uint64_t v) { put_le(b, v, 8); }
void repl_put_bytes(repl_buf *b, const void *p, size_t n) {
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

cnv_status repl_begin(repl_buf *b, uint64_t from_epoch, uint64_t to, uint64_t to_epoch) {
  b->len = 0;
  b->count = 0;
  cnv_status st = repl_buf_reserve(b, REPL_HEADER);
  if (st != CNV_OK) return st;
  repl_put_u8(b, REPL_MAGIC0);
  repl_put_u8(b, REPL_MAGIC1);
  repl_put_u8(b, REPL_VERSION);
  repl_put_u8(b, 0);
  repl_put_u64(b, from_epoch);
  repl_put_u64(b, to);
  repl_put_u64(b, to_epoch);
  repl_put_u16(b, 0);
  return CNV_OK;
}

void repl_finish(repl_buf *b) {
  b->p[REPL_HEADER - 2] = (uint8_t)b->count;
  b->p[REPL_HEADER - 1] = (uint8_t)(b->count >> 8);
}

uint64_t repl_hash(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

void repl_records_free(repl_record *recs, size_t n) {
  if (!recs) return;
  for (size_t i = 0; i < n; i++) cnv_crdt_destroy(recs[i].value);
  free(recs);
}

/* A cursor over the message: every read checks the bytes left. */
typedef struct cur {
  const uint8_t *p;
  size_t left;
} cur;

static bool take(cur *c, unsigned n, uint64_t *v) {
  if (c->left < n) return false;
  *v = get_le(c->p, n);
  c->p += n;
  c->left -= n;
  return true;
}

static cnv_status decode_record(cur *c, repl_record *r) {
  uint64_t kind, nlen, v;
  if (!take(c, 1, &kind) || !take(c, 1, &nlen)) return CNV_ECRDT_MALFORMED;
  if (kind < REPL_DELTA || kind > REPL_DIGEST || nlen == 0 || nlen > REPL_MAX_NAME || c->left < nlen)
    return CNV_ECRDT_MALFORMED;
  r->kind = (uint8_t)kind;
  r->name_len = (uint8_t)nlen;
  r->name = (const char *)c->p;
  if (memchr(r->name, 0, nlen)) return CNV_ECRDT_MALFORMED;
  c->p += nlen;
  c->left -= nlen;
  switch (kind) {
    case REPL_DELTA: {
      uint64_t type, flag, from, to, len;
      if (!take(c, 1, &type) || !take(c, 1, &flag) || !take(c, 8, &from) || !take(c, 8, &to) || !take(c, 4, &len))
        return CNV_ECRDT_MALFORMED;
      /* a delta interval: 1 <= from <= to; a full state: from 0, to the sender's last (0 when
       * it sealed none: a state it only merged into) */
      bool interval_ok = flag ? from == 0 : from != 0 && from <= to;
      if (type < CNV_CRDT_GCOUNTER || type > CNV_CRDT_VCLOCK || flag > 1 || !interval_ok || len > c->left)
        return CNV_ECRDT_MALFORMED;
      cnv_status st = cnv_crdt_decode(c->p, (size_t)len, 0, &r->value);
      if (st != CNV_OK) return st == CNV_ENOMEM ? st : CNV_ECRDT_MALFORMED;
      if (cnv_crdt_type_of(r->value) != (int)type) return CNV_ECRDT_MALFORMED;
      c->p += len;
      c->left -= len;
      r->type = (uint8_t)type;
      r->flag = (uint8_t)flag;
      r->from_seq = from;
      r->seq = to;
      return CNV_OK;
    }
    case REPL_ACK:
      if (!take(c, 8, &r->seq) || !take(c, 1, &v) || v > 1) return CNV_ECRDT_MALFORMED;
      r->flag = (uint8_t)v;
      return CNV_OK;
    default: /* REPL_DIGEST */
      if (!take(c, 1, &v) || !take(c, 8, &r->seq) || !take(c, 8, &r->hash)) return CNV_ECRDT_MALFORMED;
      if (v < CNV_CRDT_GCOUNTER || v > CNV_CRDT_VCLOCK) return CNV_ECRDT_MALFORMED;
      r->type = (uint8_t)v;
      return CNV_OK;
  }
}

cnv_status repl_decode(const uint8_t *msg, size_t len, repl_header *hdr, repl_record **recs, size_t *n) {
  *recs = NULL;
  *n = 0;
  if (len < REPL_HEADER || msg[0] != REPL_MAGIC0 || msg[1] != REPL_MAGIC1 || msg[2] != REPL_VERSION || msg[3] != 0)
    return CNV_ECRDT_MALFORMED;
  hdr->from_epoch = get_le(msg + 4, 8);
  hdr->to = get_le(msg + 12, 8);
  hdr->to_epoch = get_le(msg + 20, 8);
  hdr->count = (uint16_t)get_le(msg + 28, 2);
  /* every record takes at least 12 bytes (an ACK with a 1-byte name): the count is bounded by
   * the input before anything is allocated */
  if (hdr->from_epoch == 0 || hdr->count == 0 || hdr->count > REPL_MAX_RECORDS ||
      hdr->count > (len - REPL_HEADER) / 12)
    return CNV_ECRDT_MALFORMED;
  repl_record *r = calloc(hdr->count, sizeof *r);
  if (!r) return CNV_ENOMEM;
  cur c = {msg + REPL_HEADER, len - REPL_HEADER};
  cnv_status st = CNV_OK;
  size_t i = 0;
  for (; i < hdr->count && st == CNV_OK; i++) {
    st = decode_record(&c, &r[i]);
    /* an ACK says where the sender stands with one replica: it must be addressed */
    if (st == CNV_OK && r[i].kind == REPL_ACK && hdr->to == 0) st = CNV_ECRDT_MALFORMED;
  }
  if (st == CNV_OK && c.left != 0) st = CNV_ECRDT_MALFORMED; /* trailing bytes */
  if (st != CNV_OK) {
    repl_records_free(r, hdr->count);
    return st;
  }
  *recs = r;
  *n = hdr->count;
  return CNV_OK;
}
