/* Shared by the ledger attack tests: a log crafted record by record (any kind, any fields, a
 * checkpoint that lies), written as segment files the way an outsider could hand them in. */
#ifndef ATTACK_FIXTURE_H
#define ATTACK_FIXTURE_H

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../ledger_store/lfix.h"

#define AFIX_MAX_RECORDS 64u
#define AFIX_SEG_CAP (AFIX_MAX_RECORDS * (CNV__LFRAME_OVERHEAD + CNV__LBODY_MAX) + CNV__LSEG_HEADER)

/* A crafted log: one segment starting at record 0, its leaves, the signing key pair. */
typedef struct afix_log {
  lfix_chain chain;
  uint8_t seg[AFIX_SEG_CAP];
  size_t len;
  uint8_t leaves[AFIX_MAX_RECORDS][CNV_LEDGER_HASH_BYTES];
  uint8_t pk[CNV_LEDGER_KEY_BYTES], sk[CNV_LEDGER_SECRET_BYTES];
} afix_log;

/* An empty log with a fresh key pair and its GENESIS record (record 0). */
static inline void afix_begin(afix_log *g);

/* Appends e as the next record (a frame with the right length and leaf). False when full. */
static inline bool afix_add(afix_log *g, const cnv_ledger_entry *e) {
  if (g->chain.next >= AFIX_MAX_RECORDS) return false;
  static uint8_t body[CNV__LBODY_MAX];
  uint8_t leaf[CNV_LEDGER_HASH_BYTES];
  uint64_t at = g->chain.next;
  size_t len = lfix_next(&g->chain, e, body, leaf);
  if (len == 0) return false;
  cnv__lput32(g->seg + g->len, (uint32_t)len);
  memcpy(g->seg + g->len + 4, body, len);
  memcpy(g->seg + g->len + 4 + len, leaf, CNV_LEDGER_HASH_BYTES);
  g->len += 4 + len + CNV_LEDGER_HASH_BYTES;
  memcpy(g->leaves[at], leaf, CNV_LEDGER_HASH_BYTES);
  return true;
}

static inline void afix_begin(afix_log *g) {
  memset(g, 0, sizeof *g);
  crypto_sign_keypair(g->pk, g->sk);
  cnv__lseg_header(g->seg, 0, g->chain.prev);
  g->len = CNV__LSEG_HEADER;
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_GENESIS;
  e.time_ms = 1700000000000ull;
  memcpy(e.key, g->pk, CNV_LEDGER_KEY_BYTES);
  (void)afix_add(g, &e);
}

/* A record of kind with the given fields (the rest zero). */
static inline cnv_ledger_entry afix_entry(uint16_t kind, uint16_t detail, int32_t status, const void *payload,
                                          uint32_t payload_len) {
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = kind;
  e.detail = detail;
  e.status = status;
  e.time_ms = 1700000000000ull;
  e.payload = payload;
  e.payload_len = payload_len;
  return e;
}

/* Appends a CHECKPOINT claiming tree_size (true or not) with the root of the tree of
 * root_size records (root_size <= records so far), signed with the log's key. */
static inline bool afix_checkpoint(afix_log *g, uint64_t tree_size, uint64_t root_size) {
  cnv_checkpoint c;
  memset(&c, 0, sizeof c);
  c.tree_size = tree_size;
  c.time_ms = 1700000000001ull;
  if (cnv_merkle_root((const uint8_t(*)[CNV_LEDGER_HASH_BYTES])g->leaves, root_size, c.root) != CNV_OK) return false;
  if (cnv_checkpoint_sign(&c, g->sk) != CNV_OK) return false;
  static uint8_t pay[CNV_CHECKPOINT_BYTES];
  if (cnv_checkpoint_encode(&c, pay) != CNV_OK) return false;
  cnv_ledger_entry e = afix_entry(CNV_LREC_CHECKPOINT, 0, 0, pay, CNV_CHECKPOINT_BYTES);
  return afix_add(g, &e);
}

/* Writes bytes as dir/name (created or replaced). */
static inline bool afix_write(const char *dir, const char *name, const uint8_t *bytes, size_t len) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  if (!f) return false;
  bool ok = fwrite(bytes, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

/* Writes the log as dir/seg-0000000000000000.log. */
static inline bool afix_save(const afix_log *g, const char *dir) {
  return afix_write(dir, "seg-0000000000000000.log", g->seg, g->len);
}

#endif
