/* The writer thread: pops records from the queue in chunks (in position order, so index =
 * base + position), encodes each record chained to the previous one, hashes and stores it,
 * adds the leaves to the in-memory tree under mu, writes the batch out and makes it durable
 * with one fdatasync (group commit) that a sync thread runs while the writer goes on with the
 * next batch; once that sync returned it publishes the durable count (release), wakes waiters
 * and calls on_durable. Checkpoint markers in the queue become signed CHECKPOINT records. Idle, it
 * spins briefly and then sleeps on wake_cv, which append signals only while it sleeps. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ignore.h"

#include "core/atomic.h"
#include "writer_internal.h"

#define IDLE_SPINS 2000u

static void stop(cnv_ledger *l, cnv_status why) {
  /* relaxed: published by the release store of stopped just below */
  cnv__store_relaxed(&l->error, (int)why);
  /* release: whoever acquires stopped reads error as set above */
  cnv__store_release(&l->stopped, 1);
  pthread_mutex_lock(&l->dur_mu);
  pthread_cond_broadcast(&l->dur_cv);
  pthread_mutex_unlock(&l->dur_mu);
}

static void publish(cnv_ledger *l, uint64_t durable) {
  /* release: a thread that acquires this count sees the tree leaves and checkpoints added
   * under mu before it (and the writes to the store, synced before it) */
  cnv__store_release(&l->durable, durable);
  /* Dekker hand-off with wait_durable (prove.c): store durable, fence, load waiters there
   * is waiters++, fence, load durable; one side sees the other. */
  cnv__fence_seq_cst();
  if (cnv__load_relaxed(&l->waiters)) {
    pthread_mutex_lock(&l->dur_mu);
    pthread_cond_broadcast(&l->dur_cv);
    pthread_mutex_unlock(&l->dur_mu);
  }
  if (l->cfg.on_durable) l->cfg.on_durable(l->cfg.durable_ctx, durable);
}

/* Moves the leaves written since the last flush into the tree. */
static cnv_status flush_pending(cnv_ledger *l) {
  cnv_status st = CNV_OK;
  pthread_mutex_lock(&l->mu);
  for (size_t i = 0; i < l->npending && st == CNV_OK; i++) st = cnv__mtree_push(&l->tree, l->pending[i]);
  pthread_mutex_unlock(&l->mu);
  l->npending = 0;
  return st;
}

/* A checkpoint of every record before l->next, as the entry of record l->next. */
static cnv_status make_checkpoint(cnv_ledger *l, cnv_checkpoint *c, uint8_t payload[CNV_CHECKPOINT_BYTES],
                                  cnv_ledger_entry *e) {
  cnv_status st = flush_pending(l);
  if (st != CNV_OK) return st;
  memset(c, 0, sizeof *c);
  c->tree_size = l->next;
  /* no lock: only this thread changes the tree; readers under mu only read it */
  st = cnv__mtree_root(&l->tree, l->next, c->root);
  if (st != CNV_OK) return st;
  c->time_ms = cnv__ledger_now_ms();
  st = cnv_checkpoint_sign(c, l->sk);
  if (st != CNV_OK) return st;
  st = cnv_checkpoint_encode(c, payload);
  if (st != CNV_OK) return st;
  memset(e, 0, sizeof *e);
  e->kind = CNV_LREC_CHECKPOINT;
  e->time_ms = c->time_ms;
  memcpy(e->key, l->pk, CNV_LEDGER_KEY_BYTES);
  e->payload = payload;
  e->payload_len = CNV_CHECKPOINT_BYTES;
  return CNV_OK;
}

static void entry_of(const cnv__lqrec *r, cnv_ledger_entry *e) {
  e->kind = r->kind;
  e->detail = r->detail;
  e->status = r->status;
  e->agent = r->agent;
  e->flags = r->flags;
  e->time_ms = r->time_ms;
  e->start_ms = r->start_ms;
  e->token_time = r->token_time;
  e->ticket = r->ticket;
  e->capability = r->capability;
  e->epoch = r->epoch;
  memcpy(e->key, r->key, sizeof e->key);
  memcpy(e->digest, r->digest, sizeof e->digest);
  memcpy(e->result, r->result, sizeof e->result);
  e->payload_len = r->payload_len;
  e->payload = r->heap ? r->heap : r->inline_payload;
}

/* Encodes, hashes and stores one queue record as record l->next. */
static cnv_status write_one(cnv_ledger *l, cnv__lqrec *r) {
  cnv_ledger_entry e;
  cnv_checkpoint c;
  uint8_t cp[CNV_CHECKPOINT_BYTES];
  int is_cp = r->op == CNV__LQ_CHECKPOINT;
  cnv_status st = CNV_OK;
  if (is_cp)
    st = make_checkpoint(l, &c, cp, &e);
  else
    entry_of(r, &e);
  size_t len = 0;
  if (st == CNV_OK) st = cnv_ledger_entry_encode(&e, l->next, l->prev, l->body, CNV__LBODY_MAX, &len);
  free(r->heap);
  r->heap = NULL;
  uint8_t leaf[CNV_LEDGER_HASH_BYTES];
  if (st == CNV_OK && is_cp) st = cnv_ledger_leaf_hash(l->body, len, leaf);
  /* an entry's content hash came with it (cnv_ledger_append); the head (prev, index, ...)
   * is the body just encoded */
  if (st == CNV_OK && !is_cp) cnv__lleaf_head(l->body, r->content, leaf);
  if (st == CNV_OK) st = cnv__lstore_append(l->store, l->next, l->body, len, leaf);
  if (st != CNV_OK) return st;
  if (is_cp) {
    pthread_mutex_lock(&l->mu);
    st = cnv__ledger_add_cp(l, &c);
    pthread_mutex_unlock(&l->mu);
    if (st != CNV_OK) return st;
    cnv__fetch_add_relaxed(&l->checkpoints, 1); /* relaxed: a statistic */
    l->since_cp = 0;
    l->last_cp_ns = cnv__ledger_mono_ns();
    l->cp_inflight = 0;
  } else {
    l->since_cp++;
  }
  memcpy(l->prev, leaf, CNV_LEDGER_HASH_BYTES);
  memcpy(l->pending[l->npending++], leaf, CNV_LEDGER_HASH_BYTES);
  l->next++;
  return CNV_OK;
}

static int push_marker(cnv_ledger *l) {
  cnv__lqrec r;
  memset(&r, 0, sizeof r);
  r.op = CNV__LQ_CHECKPOINT;
  uint64_t pos;
  if (cnv_queue_try_push_mpmc_at(l->q, &r, &pos) != CNV_OK) return 0;
  cnv__fetch_add_relaxed(&l->markers, 1); /* relaxed: a statistic (appended = pushed - markers) */
  l->cp_inflight = 1;
  return 1;
}

static uint64_t interval_ns(const cnv_ledger *l) { return (uint64_t)l->cfg.checkpoint_interval_ms * 1000000u; }

/* Queues a checkpoint marker when one is due: records arrived since the last, and either
 * checkpoint_every of them or checkpoint_interval_ms since it. Returns 1 when it did. */
static int maybe_checkpoint(cnv_ledger *l) {
  if (l->cp_inflight || l->since_cp == 0) return 0;
  if (l->since_cp < l->cfg.checkpoint_every && cnv__ledger_mono_ns() - l->last_cp_ns < interval_ns(l)) return 0;
  return push_marker(l);
}

/* The sync thread: runs one batch's fdatasync while the writer hashes and encodes the next
 * batch (the two overlap; the writer publishes a batch only after its sync returned). All
 * fields under mu; the writer hands over at most one sync at a time. */
typedef struct syncer {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started;
  int quit;
  int busy;     /* a sync handed over and not finished */
  int inflight; /* the writer's: a sync handed over and not yet completed by complete() */
  int fd;       /* the descriptor to fdatasync and close */
  int ok;       /* its outcome */
  uint64_t n;   /* the records it makes durable */
} syncer;

static void *syncer_main(void *arg) {
  syncer *y = arg;
  pthread_mutex_lock(&y->mu);
  for (;;) {
    while (!y->busy && !y->quit) pthread_cond_wait(&y->cv, &y->mu);
    if (!y->busy) break;
    int fd = y->fd;
    pthread_mutex_unlock(&y->mu);
    int ok = fdatasync(fd) == 0;
    close(fd);
    pthread_mutex_lock(&y->mu);
    y->ok = ok;
    y->busy = 0;
    pthread_cond_broadcast(&y->cv);
  }
  pthread_mutex_unlock(&y->mu);
  return NULL;
}

/* Commits the sync in flight, if any: waits for it, marks its records synced, publishes. */
static cnv_status complete(cnv_ledger *l, syncer *y) {
  if (!y->inflight) return CNV_OK;
  pthread_mutex_lock(&y->mu);
  while (y->busy) pthread_cond_wait(&y->cv, &y->mu);
  int ok = y->ok;
  uint64_t n = y->n;
  pthread_mutex_unlock(&y->mu);
  y->inflight = 0;
  cnv_status st = cnv__lstore_synced(l->store, n, ok != 0);
  if (st != CNV_OK) return st;
  cnv__fetch_add_relaxed(&l->commits, 1); /* relaxed: a statistic */
  publish(l, n);                          /* the store's record count is the log's: index of the next record */
  return CNV_OK;
}

/* Writes the batch's frames out and has them made durable: through the sync thread (the
 * caller goes on with the next batch; complete() publishes), or here when there is no sync
 * thread or no sync to run (sync 2). */
static cnv_status commit(cnv_ledger *l, syncer *y) {
  int fd = -1;
  uint64_t n = 0;
  cnv_status st = cnv__lstore_flush(l->store, &fd, &n);
  if (st != CNV_OK) return st;
  if (fd >= 0 && y->started && l->cfg.sync != 2) {
    pthread_mutex_lock(&y->mu);
    y->fd = fd;
    y->n = n;
    y->busy = 1;
    pthread_cond_signal(&y->cv);
    pthread_mutex_unlock(&y->mu);
    y->inflight = 1;
    return CNV_OK;
  }
  int ok = fd < 0 || l->cfg.sync == 2 || fdatasync(fd) == 0;
  if (fd >= 0) close(fd);
  st = cnv__lstore_synced(l->store, n, ok);
  if (st != CNV_OK) return st;
  cnv__fetch_add_relaxed(&l->commits, 1); /* relaxed: a statistic */
  publish(l, n);
  return CNV_OK;
}

/* Writes the n records popped into l->batch; frees the payloads of those a failure left. */
static cnv_status write_chunk(cnv_ledger *l, size_t n) {
  cnv_status err = CNV_OK;
  size_t i = 0;
  for (; i < n && err == CNV_OK; i++) err = write_one(l, &l->batch[i]);
  for (; i < n; i++) free(l->batch[i].heap);
  return err;
}

/* Writes a group: the chunk of n records just popped, then more chunks while full ones keep
 * coming, up to max_batch records; then commits the previous group (its sync ran meanwhile)
 * and starts this one's. A chunk is at most CNV__LWRITE_CHUNK records, so each is written
 * while the copies the pop made are still in the core's cache, whatever max_batch is. Stops
 * the writer on a failure (after committing what was written when the failure is the size
 * limit). */
static void process_batch(cnv_ledger *l, syncer *y, size_t n) {
  cnv_status err = write_chunk(l, n);
  size_t group = n;
  /* a full chunk: more may be waiting */
  while (err == CNV_OK && n == CNV__LWRITE_CHUNK && group < l->cfg.max_batch) {
    size_t want = l->cfg.max_batch - group < CNV__LWRITE_CHUNK ? l->cfg.max_batch - group : CNV__LWRITE_CHUNK;
    /* empty, or a push half done: this group ends here */
    if (cnv_queue_try_pop_batch_mpmc(l->q, l->batch, want, &n) != CNV_OK) break;
    (void)maybe_checkpoint(l); /* as after the first pop (writer_main) */
    err = write_chunk(l, n);
    group += n;
  }
  /* Before acknowledging: a producer waiting for this batch appends after the marker. */
  if (err == CNV_OK) (void)maybe_checkpoint(l);
  /* the tree may run ahead of the durable count: readers use only trees up to it */
  cnv_status st = flush_pending(l);
  /* the previous batch's sync ran while this one was written: commit it first */
  cnv_status prev = complete(l, y);
  if (st == CNV_OK) st = prev;
  if (st == CNV_OK && (err == CNV_OK || err == CNV_EFULL)) st = commit(l, y);
  if (st != CNV_OK) err = st;
  /* stopping: the sync just handed over ends (and publishes) first; its own failure adds
   * nothing to the one the writer stops with */
  if (err != CNV_OK) cnv__ignore_status(complete(l, y));
  /* relaxed: statistics */
  cnv__store_relaxed(&l->segments, cnv__lstore_segments(l->store));
  cnv__store_relaxed(&l->bytes, cnv__lstore_bytes(l->store));
  if (err != CNV_OK) stop(l, err);
}

static void idle_sleep(cnv_ledger *l) {
  pthread_mutex_lock(&l->wake_mu);
  cnv__store_relaxed(&l->sleeping, 1); /* relaxed: ordered by the fence below */
  /* the writer's half of the hand-off in cnv__ledger_wake (append.c) */
  cnv__fence_seq_cst();
  cnv_queue_stats qs;
  cnv_queue_stats_get(l->q, &qs);
  /* acquire on closing: pairs with close's release (nothing else to read, but cheap) */
  if (qs.pushed == qs.popped && !cnv__load_acquire(&l->closing)) {
    if (l->since_cp > 0 && !l->cp_inflight) {
      uint64_t at = l->last_cp_ns + interval_ns(l);
      struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
      /* a timeout is the interval checkpoint coming due; the loop checks */
      (void)pthread_cond_timedwait(&l->wake_cv, &l->wake_mu, &ts);
    } else {
      pthread_cond_wait(&l->wake_cv, &l->wake_mu);
    }
  }
  cnv__store_relaxed(&l->sleeping, 0); /* relaxed: a stale 1 costs an append one signal */
  pthread_mutex_unlock(&l->wake_mu);
}

void *cnv__ledger_writer_main(void *arg) {
  cnv_ledger *l = arg;
  syncer y = {.fd = -1};
  /* without the sync thread (it could not start), commit() syncs on this thread */
  if (pthread_mutex_init(&y.mu, NULL) == 0) {
    if (pthread_cond_init(&y.cv, NULL) == 0) {
      y.started = pthread_create(&y.thread, NULL, syncer_main, &y) == 0;
      if (!y.started) pthread_cond_destroy(&y.cv);
    }
    if (!y.started) pthread_mutex_destroy(&y.mu);
  }
  unsigned idle = 0;
  size_t first_chunk = l->cfg.max_batch < CNV__LWRITE_CHUNK ? l->cfg.max_batch : CNV__LWRITE_CHUNK;
  for (;;) {
    size_t n = 0;
    cnv_status st = cnv_queue_try_pop_batch_mpmc(l->q, l->batch, first_chunk, &n);
    if (st == CNV_OK) {
      idle = 0;
      /* A due marker goes in now, while the slots just popped are free: producers under
       * load refill the queue while the batch is written, and would starve it. */
      (void)maybe_checkpoint(l);
      process_batch(l, &y, n);
      /* relaxed: only this thread stores stopped */
      if (cnv__load_relaxed(&l->stopped)) break;
      continue;
    }
    if (st == CNV_EAGAIN) { /* a push is half done: it completes without us */
      cnv__cpu_relax();
      continue;
    }
    if (y.inflight) { /* nothing to overlap with: commit the batch in flight now */
      cnv_status cst = complete(l, &y);
      if (cst != CNV_OK) {
        stop(l, cst);
        break;
      }
      continue;
    }
    if (maybe_checkpoint(l)) continue;
    /* acquire: pairs with close's release store */
    if (cnv__load_acquire(&l->closing)) {
      /* the queue is empty and no append runs: a last checkpoint when records arrived */
      if (l->since_cp == 0) break;
      if (!l->cp_inflight) (void)push_marker(l);
      continue;
    }
    if (++idle < IDLE_SPINS) {
      cnv__cpu_relax();
      continue;
    }
    idle_sleep(l);
    idle = 0;
  }
  if (y.started) { /* nothing in flight: process_batch and the loop complete before leaving */
    pthread_mutex_lock(&y.mu);
    y.quit = 1;
    pthread_cond_signal(&y.cv);
    pthread_mutex_unlock(&y.mu);
    pthread_join(y.thread, NULL);
    pthread_cond_destroy(&y.cv);
    pthread_mutex_destroy(&y.mu);
  }
  return NULL;
}
