/* Receipts: the canonical encoding (docs/receipts.md), the offline check that moves a
 * certificate state forward one step at a time, and building a receipt from an open ledger
 * or from a reader. */
#include <string.h>

#include <sodium.h>

#include "ledger_internal.h"
#include "lstore.h"

#define HB CNV_LEDGER_HASH_BYTES
#define RC_MAGIC "CNVRCPT1"
#define RC_MAGIC_LEN 8u
/* magic | index u64 | body (fixed, payload_len 0) | leaf | checkpoint | proof_len u32 */
#define RC_FIXED (RC_MAGIC_LEN + 8u + CNV_LEDGER_BODY_FIXED + HB + CNV_CHECKPOINT_BYTES + 4u)

/* The fixed body of the receipt's record: its fields with an empty payload. */
static cnv_status receipt_body(const cnv_receipt *r, uint8_t body[CNV_LEDGER_BODY_FIXED]) {
  cnv_ledger_entry e = r->entry;
  e.payload = NULL;
  e.payload_len = 0;
  size_t len = 0;
  cnv_status st = cnv_ledger_entry_encode(&e, r->index, r->prev, body, CNV_LEDGER_BODY_FIXED, &len);
  if (st != CNV_OK) return st;
  return len == CNV_LEDGER_BODY_FIXED ? CNV_OK : CNV_ELEDGER_CORRUPT;
}

cnv_status cnv_receipt_encode(const cnv_receipt *r, uint8_t *out, size_t cap, size_t *len) {
  if (!r || !out || !len) return CNV_EINVAL;
  if (r->proof_len > CNV_LEDGER_MAX_PROOF) return CNV_ERANGE;
  size_t need = RC_FIXED + (size_t)r->proof_len * HB;
  if (cap < need) return CNV_EFULL;
  uint8_t body[CNV_LEDGER_BODY_FIXED];
  cnv_status st = receipt_body(r, body);
  if (st != CNV_OK) return st;
  uint8_t *p = out;
  memcpy(p, RC_MAGIC, RC_MAGIC_LEN);
  p += RC_MAGIC_LEN;
  cnv__lput64(p, r->index);
  p += 8;
  memcpy(p, body, sizeof body);
  p += sizeof body;
  memcpy(p, r->leaf, HB);
  p += HB;
  st = cnv_checkpoint_encode(&r->checkpoint, p);
  if (st != CNV_OK) return st;
  p += CNV_CHECKPOINT_BYTES;
  for (unsigned i = 0; i < 4; i++) p[i] = (uint8_t)(r->proof_len >> (8 * i));
  p += 4;
  if (r->proof_len) memcpy(p, r->proof, (size_t)r->proof_len * HB);
  *len = need;
  return CNV_OK;
}

cnv_status cnv_receipt_decode(const uint8_t *in, size_t len, cnv_receipt *out) {
  if (!in || !out) return CNV_EINVAL;
  if (len < RC_FIXED || memcmp(in, RC_MAGIC, RC_MAGIC_LEN) != 0) return CNV_ELEDGER_CORRUPT;
  const uint8_t *p = in + RC_MAGIC_LEN;
  cnv_receipt r;
  memset(&r, 0, sizeof r);
  r.index = cnv__lget64(p);
  p += 8;
  const uint8_t *body = p;
  uint64_t bindex = 0;
  if (cnv_ledger_entry_decode(body, CNV_LEDGER_BODY_FIXED, &r.entry, &bindex, r.prev) != CNV_OK)
    return CNV_ELEDGER_CORRUPT;
  if (bindex != r.index || r.entry.payload_len != 0) return CNV_ELEDGER_CORRUPT;
  r.entry.payload = NULL;
  /* one encoding per receipt: the fields must encode back to the same bytes */
  uint8_t again[CNV_LEDGER_BODY_FIXED];
  if (receipt_body(&r, again) != CNV_OK || memcmp(again, body, sizeof again) != 0) return CNV_ELEDGER_CORRUPT;
  p += CNV_LEDGER_BODY_FIXED;
  memcpy(r.leaf, p, HB);
  p += HB;
  if (cnv_checkpoint_decode(p, CNV_CHECKPOINT_BYTES, &r.checkpoint) != CNV_OK) return CNV_ELEDGER_CORRUPT;
  p += CNV_CHECKPOINT_BYTES;
  uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  p += 4;
  if (n > CNV_LEDGER_MAX_PROOF || len != RC_FIXED + (size_t)n * HB) return CNV_ELEDGER_CORRUPT;
  if (n) memcpy(r.proof, p, (size_t)n * HB);
  r.proof_len = n;
  *out = r;
  return CNV_OK;
}

cnv_status cnv_receipt_verify(const cnv_receipt *r, const uint8_t pk[CNV_LEDGER_KEY_BYTES], int *state) {
  if (!r || !pk || !state) return CNV_EINVAL;
  if (*state != CNV_CERT_UNCHECKED) return CNV_ESTATE;
  /* 1: the checkpoint is signed by the node's key */
  cnv_status st = cnv_checkpoint_verify(&r->checkpoint, pk);
  if (st != CNV_OK) return st;
  st = cnv_cert_advance(state, CNV_CERT_POLICY_CHECKED);
  if (st != CNV_OK) return st;
  /* 2: a COMPLETE record whose fields (and prev) are exactly what the leaf hashes */
  if (r->entry.kind != CNV_LREC_COMPLETE) return CNV_ELEDGER_KIND;
  uint8_t body[CNV_LEDGER_BODY_FIXED], leaf[HB];
  if (receipt_body(r, body) != CNV_OK) return CNV_ELEDGER_CORRUPT;
  st = cnv_ledger_leaf_hash(body, sizeof body, leaf);
  if (st != CNV_OK) return st;
  if (sodium_memcmp(leaf, r->leaf, HB) != 0) return CNV_ELEDGER_CORRUPT;
  st = cnv_cert_advance(state, CNV_CERT_CAPABILITY_CHECKED);
  if (st != CNV_OK) return st;
  /* 3: the leaf is leaf index of the signed tree */
  if (r->proof_len > CNV_LEDGER_MAX_PROOF) return CNV_ELEDGER_PROOF;
  st = cnv_merkle_verify_inclusion(r->leaf, r->index, r->checkpoint.tree_size, (const uint8_t(*)[HB])r->proof,
                                   r->proof_len, r->checkpoint.root);
  if (st != CNV_OK) return st;
  return cnv_cert_advance(state, CNV_CERT_VERIFIED);
}

/* Fills the record part of out from record index's body. */
static cnv_status receipt_record(const uint8_t *body, size_t len, uint64_t index, cnv_receipt *out) {
  uint64_t bindex = 0;
  cnv_status st = cnv_ledger_entry_decode(body, len, &out->entry, &bindex, out->prev);
  if (st != CNV_OK) return st;
  if (bindex != index) return CNV_ELEDGER_CORRUPT;
  /* receipts attest COMPLETE records, which carry no payload */
  if (out->entry.kind != CNV_LREC_COMPLETE || out->entry.payload_len != 0) return CNV_ELEDGER_KIND;
  out->entry.payload = NULL;
  out->index = index;
  return cnv_ledger_leaf_hash(body, len, out->leaf);
}

cnv_status cnv_ledger_receipt(cnv_ledger *l, uint64_t index, cnv_receipt *out) {
  if (!l || !out) return CNV_EINVAL;
  cnv_receipt r;
  memset(&r, 0, sizeof r);
  cnv_status st = cnv__ledger_covering(l, index, &r.checkpoint);
  if (st != CNV_OK) return st;
  uint8_t body[CNV__LBODY_MAX];
  size_t len = 0;
  st = cnv__ledger_body(l, index, body, sizeof body, &len);
  if (st != CNV_OK) return st;
  st = receipt_record(body, len, index, &r);
  if (st != CNV_OK) return st;
  size_t n = 0;
  st = cnv_ledger_prove(l, index, r.checkpoint.tree_size, r.proof, &n);
  if (st != CNV_OK) return st;
  r.proof_len = (uint32_t)n;
  *out = r;
  return CNV_OK;
}

cnv_status cnv_ledger_reader_receipt(cnv_ledger_reader *rd, uint64_t index, cnv_receipt *out) {
  if (!rd || !out) return CNV_EINVAL;
  uint64_t size = cnv_ledger_reader_size(rd);
  if (index >= size) return CNV_ERANGE;
  cnv_receipt r;
  memset(&r, 0, sizeof r);
  /* the last checkpoint of the log: it covers every record before it, so it covers index
   * exactly when it comes after it */
  uint64_t at = size;
  cnv_ledger_entry e;
  while (at-- > index + 1) {
    cnv_status st = cnv_ledger_reader_get(rd, at, &e, NULL);
    if (st != CNV_OK) return st;
    if (e.kind == CNV_LREC_CHECKPOINT) break;
  }
  if (at <= index) return CNV_ELEDGER_NOT_COVERED;
  if (cnv_checkpoint_decode(e.payload, e.payload_len, &r.checkpoint) != CNV_OK) return CNV_ELEDGER_CORRUPT;
  if (r.checkpoint.tree_size <= index || r.checkpoint.tree_size > at) return CNV_ELEDGER_CORRUPT;

  cnv_status st = cnv_ledger_reader_get(rd, index, &e, r.leaf);
  if (st != CNV_OK) return st;
  if (e.kind != CNV_LREC_COMPLETE || e.payload_len != 0) return CNV_ELEDGER_KIND;
  e.payload = NULL;
  r.entry = e;
  r.index = index;
  const uint8_t(*leaves)[HB] = cnv_ledger_reader_leaves(rd);
  if (index > 0) memcpy(r.prev, leaves[index - 1], HB); /* prev = the previous record's leaf */
  /* the reader checks frames and chain, not checkpoints: a root of another tree would give
     a receipt that can never verify */
  uint8_t root[HB];
  st = cnv_merkle_root(leaves, r.checkpoint.tree_size, root);
  if (st != CNV_OK) return st;
  if (memcmp(root, r.checkpoint.root, HB) != 0) return CNV_ELEDGER_CORRUPT;
  size_t n = 0;
  st = cnv_merkle_inclusion_proof(leaves, r.checkpoint.tree_size, index, r.proof, &n);
  if (st != CNV_OK) return st;
  r.proof_len = (uint32_t)n;
  *out = r;
  return CNV_OK;
}
