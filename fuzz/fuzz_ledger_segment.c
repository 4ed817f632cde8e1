/* Fuzz the ledger's segment scan and record decoder on arbitrary bytes. Properties (abort on
 * violation): a scan that succeeds accounts for every byte (good + torn == input) and hands
 * out consecutive records whose bodies lie inside the input, hash to their leaves, decode,
 * link to the previous leaf and encode back to the same bytes; a damaged segment names a
 * record; the input read as one body decodes only when it encodes back to itself. */
#include <stdlib.h>
#include <string.h>

#include "ledger/lstore.h"

typedef struct fctx {
  const uint8_t *base;
  size_t len;
  uint64_t n, first;
  uint8_t prev[CNV_LEDGER_HASH_BYTES];
} fctx;

static uint8_t again[CNV__LBODY_MAX];

static void check_body(const uint8_t *body, size_t len, bool must) {
  cnv_ledger_entry e;
  uint64_t idx = 0;
  uint8_t prev[CNV_LEDGER_HASH_BYTES];
  cnv_status st = cnv_ledger_entry_decode(body, len, &e, &idx, prev);
  if (st != CNV_OK) {
    if (must || st != CNV_ELEDGER_CORRUPT) abort();
    return;
  }
  size_t n = 0;
  if (e.payload_len && (e.payload < body || e.payload + e.payload_len > body + len)) abort();
  if (cnv_ledger_entry_encode(&e, idx, prev, again, sizeof again, &n) != CNV_OK || n != len ||
      memcmp(again, body, len) != 0) {
    abort();
  }
}

static int on_rec(void *ctx, const cnv__lscan_rec *r) {
  fctx *c = ctx;
  if (r->body < c->base || r->body + r->body_len + CNV_LEDGER_HASH_BYTES > c->base + c->len) abort();
  if (r->index != c->first + c->n || r->offset + 4 != (uint64_t)(r->body - c->base)) abort();
  uint8_t leaf[CNV_LEDGER_HASH_BYTES];
  if (cnv_ledger_leaf_hash(r->body, r->body_len, leaf) != CNV_OK) abort();
  if (memcmp(leaf, r->leaf, sizeof leaf) != 0 || memcmp(r->body, c->prev, sizeof leaf) != 0) abort();
  check_body(r->body, r->body_len, true);
  memcpy(c->prev, leaf, sizeof leaf);
  c->n++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fctx c = {.base = data, .len = size};
  if (size >= CNV__LSEG_HEADER) {
    c.first = cnv__lget64(data + 16);
    memcpy(c.prev, data + 24, sizeof c.prev);
  }
  cnv__lscan_result res;
  cnv_status st = cnv__lseg_scan(data, size, on_rec, &c, &res);
  if (st == CNV_OK) {
    if (res.good_bytes + res.torn_bytes != size || res.records != c.n || res.bad_index != CNV_LEDGER_NONE) abort();
    if (c.n && memcmp(res.last, c.prev, sizeof c.prev) != 0) abort();
  } else if (st == CNV_ELEDGER_CORRUPT) {
    if (size >= CNV__LSEG_HEADER && res.bad_index != c.first + c.n) abort();
  } else {
    abort();
  }
  check_body(data, size, false);
  return 0;
}
