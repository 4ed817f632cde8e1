/* Reading a closed (or another process's) log: every segment read and checked at open
 * through the store's read-only open, the leaf hashes kept in a cnv__mtree, bodies read back
 * with pread. */
#include <stdlib.h>
#include <string.h>

#include "lstore.h"

struct cnv_ledger_reader {
  cnv__lstore *store;
  cnv__mtree tree;
  uint64_t torn;
  uint8_t body[CNV__LBODY_MAX]; /* the last record read: entries' payloads point here */
};

static int push_leaf(void *ctx, const cnv__lscan_rec *r) {
  cnv_ledger_reader *rd = ctx;
  return cnv__mtree_push(&rd->tree, r->leaf) == CNV_OK ? 0 : 1;
}

cnv_status cnv_ledger_reader_open(const char *dir, cnv_ledger_reader **out, uint64_t *bad) {
  if (bad) *bad = CNV_LEDGER_NONE;
  if (!dir || !out) return CNV_EINVAL;
  *out = NULL;
  cnv_ledger_reader *r = calloc(1, sizeof *r);
  if (!r) return CNV_ENOMEM;
  cnv__mtree_init(&r->tree);
  cnv__lstore_found f;
  cnv_status st = cnv__lstore_open_ex(dir, true, 0, 0, push_leaf, r, &r->store, &f);
  if (st == CNV_OK && f.stopped) st = CNV_ENOMEM; /* push_leaf's only failure */
  if (st != CNV_OK) {
    if (st == CNV_ELEDGER_CORRUPT && bad) *bad = f.bad_index;
    cnv__mtree_free(&r->tree);
    free(r);
    return st;
  }
  r->torn = f.torn_bytes;
  *out = r;
  return CNV_OK;
}

void cnv_ledger_reader_close(cnv_ledger_reader *r) {
  if (!r) return;
  cnv__lstore_close(r->store);
  cnv__mtree_free(&r->tree);
  free(r);
}

uint64_t cnv_ledger_reader_size(const cnv_ledger_reader *r) { return r ? r->tree.size : 0; }

uint64_t cnv_ledger_reader_torn(const cnv_ledger_reader *r) { return r ? r->torn : 0; }

cnv_status cnv_ledger_reader_get(cnv_ledger_reader *r, uint64_t index, cnv_ledger_entry *e,
                                 uint8_t leaf[CNV_LEDGER_HASH_BYTES]) {
  if (!r || !e) return CNV_EINVAL;
  if (index >= r->tree.size) return CNV_ERANGE;
  size_t len = 0;
  cnv_status st = cnv__lstore_read(r->store, index, r->body, sizeof r->body, &len);
  if (st != CNV_OK) return st == CNV_EFULL ? CNV_EIO : st;
  /* the file changed under the reader since open when it no longer decodes as that record */
  uint64_t idx = 0;
  uint8_t chk[CNV_LEDGER_HASH_BYTES];
  if (cnv_ledger_leaf_hash(r->body, len, chk) != CNV_OK || cnv_ledger_entry_decode(r->body, len, e, &idx, NULL) != CNV_OK || idx != index ||
      memcmp(chk, r->tree.level[0][index], CNV_LEDGER_HASH_BYTES) != 0) {
    return CNV_EIO;
  }
  if (leaf) memcpy(leaf, r->tree.level[0][index], CNV_LEDGER_HASH_BYTES);
  return CNV_OK;
}

const uint8_t (*cnv_ledger_reader_leaves(const cnv_ledger_reader *r))[CNV_LEDGER_HASH_BYTES] {
  return r ? (const uint8_t(*)[CNV_LEDGER_HASH_BYTES])r->tree.level[0] : NULL;
}
