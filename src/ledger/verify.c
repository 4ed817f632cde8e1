/* cnv_ledger_verify_dir: a whole closed log checked (docs/ledger.md, "What verify checks").
 * The store's read-only scan checks frames, leaf hashes, indexes, chain links and segment
 * headers; this file adds the log's own rules record by record: GENESIS first (and only
 * there), and every CHECKPOINT's tree size, root and signature. */
#include <string.h>

#include "lstore.h"

typedef struct vctx {
  cnv__mtree tree;
  const uint8_t *pk_arg;
  uint8_t pk[CNV_LEDGER_KEY_BYTES];
  uint64_t checkpoints;
  uint64_t bad_index;
  cnv_status bad;
} vctx;

static int fail(vctx *v, uint64_t index, cnv_status st) {
  v->bad_index = index;
  v->bad = st;
  return 1;
}

static cnv_status check_checkpoint(vctx *v, uint64_t n, const cnv_ledger_entry *e) {
  cnv_checkpoint c;
  if (cnv_checkpoint_decode(e->payload, e->payload_len, &c) != CNV_OK || c.tree_size != n) {
    return CNV_ELEDGER_CORRUPT;
  }
  if (memcmp(c.key, v->pk, CNV_LEDGER_KEY_BYTES) != 0) return CNV_ELEDGER_KEY;
  uint8_t root[CNV_LEDGER_HASH_BYTES];
  if (cnv__mtree_root(&v->tree, n, root) != CNV_OK || memcmp(root, c.root, CNV_LEDGER_HASH_BYTES) != 0 ||
      cnv_checkpoint_verify(&c, v->pk) != CNV_OK) {
    return CNV_ELEDGER_SIGNATURE;
  }
  return CNV_OK;
}

static int on_record(void *ctx, const cnv__lscan_rec *r) {
  vctx *v = ctx;
  cnv_ledger_entry e;
  /* the scan decoded it already; a failure here cannot happen but is damage all the same */
  if (cnv_ledger_entry_decode(r->body, r->body_len, &e, NULL, NULL) != CNV_OK) {
    return fail(v, r->index, CNV_ELEDGER_CORRUPT);
  }
  if ((r->index == 0) != (e.kind == CNV_LREC_GENESIS)) return fail(v, r->index, CNV_ELEDGER_CORRUPT);
  if (r->index == 0) {
    if (v->pk_arg && memcmp(v->pk_arg, e.key, CNV_LEDGER_KEY_BYTES) != 0) return fail(v, 0, CNV_ELEDGER_KEY);
    memcpy(v->pk, v->pk_arg ? v->pk_arg : e.key, CNV_LEDGER_KEY_BYTES);
  }
  if (e.kind == CNV_LREC_CHECKPOINT) {
    cnv_status st = check_checkpoint(v, r->index, &e);
    if (st != CNV_OK) return fail(v, r->index, st);
    v->checkpoints++;
  }
  if (cnv__mtree_push(&v->tree, r->leaf) != CNV_OK) return fail(v, CNV_LEDGER_NONE, CNV_ENOMEM);
  return 0;
}

cnv_status cnv_ledger_verify_dir(const char *dir, const uint8_t pk[CNV_LEDGER_KEY_BYTES],
                                 cnv_ledger_verify_report *rep) {
  if (rep) {
    memset(rep, 0, sizeof *rep);
    rep->bad_index = CNV_LEDGER_NONE;
    rep->bad_status = CNV_OK;
  }
  if (!dir) return CNV_EINVAL;
  vctx v;
  memset(&v, 0, sizeof v);
  v.pk_arg = pk;
  v.bad_index = CNV_LEDGER_NONE;
  v.bad = CNV_OK;
  cnv__mtree_init(&v.tree);
  cnv__lstore_found f;
  cnv_status st = cnv__lstore_open_ex(dir, true, 0, 0, on_record, &v, NULL, &f);
  uint64_t records = v.tree.size;
  cnv__mtree_free(&v.tree);
  if (st == CNV_OK && f.stopped) {
    st = v.bad;
  } else if (st == CNV_ELEDGER_CORRUPT) {
    v.bad_index = f.bad_index;
  } else if (st == CNV_OK && records == 0) {
    /* segments without a single record: no GENESIS */
    st = CNV_ELEDGER_CORRUPT;
    v.bad_index = 0;
  } else if (st == CNV_OK && f.torn) {
    /* a log closed cleanly has no torn tail: name the record it would have been */
    st = CNV_ELEDGER_TORN;
    v.bad_index = records;
  }
  if (rep) {
    rep->records = records;
    rep->segments = f.segments;
    rep->checkpoints = v.checkpoints;
    rep->torn_bytes = f.torn_bytes;
    if (st == CNV_ELEDGER_CORRUPT || st == CNV_ELEDGER_TORN || st == CNV_ELEDGER_SIGNATURE || st == CNV_ELEDGER_KEY) {
      rep->bad_index = v.bad_index;
      rep->bad_status = st;
    }
  }
  return st;
}
