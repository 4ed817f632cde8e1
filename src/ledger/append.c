/* cnv_ledger_append: the producers' side. A record is copied into one fixed-size queue
 * record and pushed with cnv_queue_try_push_mpmc_at; its index is the count the log had at
 * open plus its position in the queue (the writer pops in position order, and checkpoint
 * markers take positions too). It also hashes the record's content (all but prev and index),
 * so the writer's serial work per record is one compression. Nothing here touches the disk. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/atomic.h"
#include "writer_internal.h"

void cnv__ledger_wake(cnv_ledger *l) {
  /* Dekker hand-off with the writer's sleep (writer.c): we pushed (a store to the queue's
   * tail), fence, load sleeping; the writer stores sleeping, fences, loads the tail. With a
   * seq_cst fence on both sides, at least one of the two loads sees the other's store, so
   * either the writer sees our record or we see it asleep and signal it. The signal under
   * wake_mu cannot fall between the writer's check and its wait: it checks under wake_mu. */
  cnv__fence_seq_cst();
  if (cnv__load_relaxed(&l->sleeping)) {
    pthread_mutex_lock(&l->wake_mu);
    pthread_cond_signal(&l->wake_cv);
    pthread_mutex_unlock(&l->wake_mu);
  }
}

static int refusing(const cnv_ledger *l) {
  /* acquire on stopped: pairs with the writer's release after it set error (read by
   * stats); closing is only a flag (close runs with no append by contract) */
  return cnv__load_acquire(&l->stopped) || cnv__load_relaxed(&l->closing);
}

/* Waits a little longer each time: pauses, then yields, then sleeps up to 1 ms. */
static void backoff(unsigned *k) {
  unsigned n = (*k)++;
  if (n < 64) {
    cnv__cpu_relax();
  } else if (n < 128) {
    sched_yield();
  } else {
    unsigned shift = n - 128 < 10 ? n - 128 : 10;
    struct timespec ts = {0, (long)(1000u << shift)}; /* 1 us .. ~1 ms */
    nanosleep(&ts, NULL);
  }
}

cnv_status cnv__ledger_push_wait(cnv_ledger *l, const cnv__lqrec *r, uint64_t *index, int *waited) {
  unsigned k = 0;
  uint64_t pos;
  *waited = 0;
  for (;;) {
    if (refusing(l)) return CNV_ESTATE;
    cnv_status st = cnv_queue_try_push_mpmc_at(l->q, r, &pos);
    if (st == CNV_OK) break;
    if (st != CNV_EFULL) return st;
    *waited = 1;
    cnv__ledger_wake(l);
    backoff(&k);
  }
  *index = l->base + pos;
  return CNV_OK;
}

static int kind_appendable(uint16_t kind) {
  /* GENESIS and CHECKPOINT are the ledger's own records (open and the writer write them) */
  return kind >= CNV_LREC_CONFIG && kind <= CNV_LREC_APP;
}

cnv_status cnv_ledger_append(cnv_ledger *l, const cnv_ledger_entry *e, uint64_t *index) {
  if (CNV__UNLIKELY(!l || !e)) return CNV_EINVAL;
  if (CNV__UNLIKELY(!kind_appendable(e->kind) || (e->payload_len > 0 && !e->payload))) return CNV_EINVAL;
  if (CNV__UNLIKELY(e->payload_len > CNV_LEDGER_MAX_PAYLOAD)) return CNV_ERANGE;
  if (CNV__UNLIKELY(refusing(l))) return CNV_ESTATE;
  cnv__lqrec r;
  r.kind = e->kind;
  r.detail = e->detail;
  r.status = e->status;
  r.agent = e->agent;
  r.flags = e->flags;
  r.time_ms = e->time_ms;
  r.start_ms = e->start_ms;
  r.token_time = e->token_time;
  r.ticket = e->ticket;
  r.capability = e->capability;
  r.epoch = e->epoch;
  memcpy(r.key, e->key, sizeof r.key);
  memcpy(r.digest, e->digest, sizeof r.digest);
  memcpy(r.result, e->result, sizeof r.result);
  r.payload_len = e->payload_len;
  r.op = CNV__LQ_ENTRY;
  r.heap = NULL;
  /* the bulk of the record's hashing, here on the caller's thread, in parallel with others */
  cnv__lcontent_entry(e, r.content);
  if (e->payload_len > CNV_LEDGER_INLINE_PAYLOAD) {
    r.heap = malloc(e->payload_len);
    if (!r.heap) return CNV_ENOMEM;
    memcpy(r.heap, e->payload, e->payload_len);
  } else if (e->payload_len > 0) {
    memcpy(r.inline_payload, e->payload, e->payload_len);
  }
  uint64_t pos;
  cnv_status st = cnv_queue_try_push_mpmc_at(l->q, &r, &pos);
  if (CNV__UNLIKELY(st == CNV_EFULL)) {
    if (l->cfg.full_policy == CNV_LEDGER_FULL_DROP) {
      free(r.heap);
      /* relaxed: a statistic */
      cnv__fetch_add_relaxed(&l->dropped, 1);
      return CNV_EFULL;
    }
    int waited;
    uint64_t idx;
    st = cnv__ledger_push_wait(l, &r, &idx, &waited);
    if (st != CNV_OK) {
      free(r.heap);
      return st;
    }
    cnv__fetch_add_relaxed(&l->blocked, 1); /* relaxed: a statistic */
    if (index) *index = idx;
    cnv__ledger_wake(l);
    return CNV_OK;
  }
  if (CNV__UNLIKELY(st != CNV_OK)) {
    free(r.heap);
    return st;
  }
  if (index) *index = l->base + pos;
  cnv__ledger_wake(l);
  return CNV_OK;
}
