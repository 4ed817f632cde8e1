/* Reading an open ledger's state from any thread: the durable count and waiting for it,
 * explicit checkpoints, proofs from the in-memory tree, what receipts read (the covering
 * checkpoint, a record's body), the public key and the statistics. */
#include <string.h>
#include <time.h>

#include "core/atomic.h"
#include "writer_internal.h"

uint64_t cnv_ledger_durable(const cnv_ledger *l) {
  if (!l) return 0;
  /* acquire: pairs with the writer's release in publish (writer.c) */
  return cnv__load_acquire(&l->durable);
}

cnv_status cnv_ledger_wait_durable(cnv_ledger *l, uint64_t index, uint64_t timeout_ns) {
  if (!l) return CNV_EINVAL;
  if (cnv_ledger_durable(l) > index) return CNV_OK;
  struct timespec ts;
  int forever = timeout_ns > UINT64_C(1) << 62;
  if (!forever) {
    uint64_t at = cnv__ledger_mono_ns() + timeout_ns;
    ts.tv_sec = (time_t)(at / 1000000000u);
    ts.tv_nsec = (long)(at % 1000000000u);
  }
  cnv_status st = CNV_OK;
  pthread_mutex_lock(&l->dur_mu);
  cnv__fetch_add_relaxed(&l->waiters, 1); /* relaxed: ordered by the fence below */
  /* the waiter's half of the hand-off in publish (writer.c): waiters++, fence, load durable */
  cnv__fence_seq_cst();
  for (;;) {
    if (cnv_ledger_durable(l) > index) break;
    /* acquire: pairs with stop's release (writer.c) */
    if (cnv__load_acquire(&l->stopped)) {
      st = CNV_ESTATE;
      break;
    }
    if (forever) {
      pthread_cond_wait(&l->dur_cv, &l->dur_mu);
    } else if (pthread_cond_timedwait(&l->dur_cv, &l->dur_mu, &ts) != 0 && cnv_ledger_durable(l) <= index) {
      st = CNV_EAGAIN;
      break;
    }
  }
  cnv__fetch_sub_relaxed(&l->waiters, 1); /* relaxed: a late extra broadcast is harmless */
  pthread_mutex_unlock(&l->dur_mu);
  return st;
}

/* The checkpoint that is record index (caller holds mu). */
static const cnv_checkpoint *cp_at(const cnv_ledger *l, uint64_t index) {
  size_t lo = 0, hi = l->ncps;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (l->cps[mid].tree_size < index)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < l->ncps && l->cps[lo].tree_size == index ? &l->cps[lo] : NULL;
}

cnv_status cnv_ledger_checkpoint(cnv_ledger *l, cnv_checkpoint *out) {
  if (!l) return CNV_EINVAL;
  cnv__lqrec r;
  memset(&r, 0, sizeof r);
  r.op = CNV__LQ_CHECKPOINT;
  uint64_t index;
  int waited;
  cnv_status st = cnv__ledger_push_wait(l, &r, &index, &waited);
  if (st != CNV_OK) return st;
  cnv__fetch_add_relaxed(&l->markers, 1); /* relaxed: a statistic */
  cnv__ledger_wake(l);
  st = cnv_ledger_wait_durable(l, index, UINT64_MAX);
  if (st != CNV_OK) return st;
  pthread_mutex_lock(&l->mu);
  const cnv_checkpoint *c = cp_at(l, index);
  if (c && out) *out = *c;
  pthread_mutex_unlock(&l->mu);
  /* durable past index means the writer wrote the marker as this checkpoint */
  return c ? CNV_OK : CNV_ESTATE;
}

void cnv_ledger_public_key(const cnv_ledger *l, uint8_t pk[CNV_LEDGER_KEY_BYTES]) {
  if (!l || !pk) return;
  memcpy(pk, l->pk, CNV_LEDGER_KEY_BYTES);
}

void cnv_ledger_stats_get(const cnv_ledger *l, cnv_ledger_stats *out) {
  if (!l || !out) return;
  cnv_queue_stats qs;
  cnv_queue_stats_get(l->q, &qs);
  /* relaxed: statistics, each exact on its own */
  uint64_t markers = cnv__load_relaxed(&l->markers);
  out->appended = qs.pushed > markers ? qs.pushed - markers : 0;
  out->durable = cnv_ledger_durable(l);
  out->dropped = cnv__load_relaxed(&l->dropped);
  out->blocked = cnv__load_relaxed(&l->blocked);
  out->commits = cnv__load_relaxed(&l->commits);
  out->checkpoints = cnv__load_relaxed(&l->checkpoints);
  out->segments = cnv__load_relaxed(&l->segments);
  out->bytes = cnv__load_relaxed(&l->bytes);
  /* acquire on stopped: pairs with stop's release, so error is the one it set */
  out->error = cnv__load_acquire(&l->stopped) ? (cnv_status)cnv__load_relaxed(&l->error) : CNV_OK;
}

cnv_status cnv_ledger_prove(cnv_ledger *l, uint64_t index, uint64_t tree_size, uint8_t proof[][CNV_LEDGER_HASH_BYTES],
                            size_t *n) {
  if (!l || !proof || !n) return CNV_EINVAL;
  if (index >= tree_size || tree_size > cnv_ledger_durable(l)) return CNV_ERANGE;
  /* the writer grew the tree to at least the durable count before publishing it */
  pthread_mutex_lock(&l->mu);
  cnv_status st = cnv__mtree_inclusion(&l->tree, index, tree_size, proof, n);
  pthread_mutex_unlock(&l->mu);
  return st;
}

cnv_status cnv__ledger_covering(cnv_ledger *l, uint64_t index, cnv_checkpoint *out) {
  if (!l || !out) return CNV_EINVAL;
  uint64_t durable = cnv_ledger_durable(l);
  if (index >= durable) return CNV_ERANGE;
  cnv_status st = CNV_ELEDGER_NOT_COVERED;
  pthread_mutex_lock(&l->mu);
  /* the latest durable checkpoint (itself record tree_size) whose tree holds index */
  for (size_t i = l->ncps; i-- > 0;) {
    const cnv_checkpoint *c = &l->cps[i];
    if (c->tree_size >= durable) continue;
    if (c->tree_size > index) {
      *out = *c;
      st = CNV_OK;
    }
    break;
  }
  pthread_mutex_unlock(&l->mu);
  return st;
}

cnv_status cnv__ledger_body(cnv_ledger *l, uint64_t index, uint8_t *buf, size_t cap, size_t *len) {
  if (!l || !buf || !len) return CNV_EINVAL;
  if (index >= cnv_ledger_durable(l)) return CNV_ERANGE;
  return cnv__lstore_read(l->store, index, buf, cap, len);
}
