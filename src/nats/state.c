/* The node's state half (docs/nats.md "Swarm state"): the bucket made sure of, every record
 * replayed before start returns, then followed by one watch thread that applies the records in
 * the bucket's order; the swarm key obtained; the status record started. Stop joins every
 * thread it started and wipes the keys. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "state_internal.h"

/* The watch thread looks at `stopping` at least this often: stop waits for it rather than
 * interrupting its kvWatcher_Next with kvWatcher_Stop, because libnats 3.4.1 can lose (leak)
 * a message that such an interrupted Next was about to return. */
#define WATCH_POLL_MS 100
#define WATCH_RETRY_MS 100 /* and waits this long after an error before it asks again */

uint64_t natsn_now_ms(void) { return cnv__clock_ms(CLOCK_REALTIME); }

uint64_t natsn_mono_ms(void) { return cnv__clock_ms(CLOCK_MONOTONIC); }

uint32_t natsn_connect_timeout(const cnv_nats_node *n) {
  return n->cfg.connect_timeout_ms ? n->cfg.connect_timeout_ms : 10000u;
}

uint32_t natsn_status_interval(const cnv_nats_node *n) {
  return n->cfg.status_interval_ms ? n->cfg.status_interval_ms : 1000u;
}

static void apply_entry(cnv_nats_node *n, kvEntry *e, bool replay, uint8_t *buf) {
  if (kvEntry_Operation(e) != kvOp_Put) return; /* deletes (a granted JOIN) carry no record */
  int len = kvEntry_ValueLen(e);
  if (len < 0) return;
  natsn_record_apply(n, kvEntry_Key(e), kvEntry_Value(e), (size_t)len, replay, buf);
}

void natsn_cv_wait_ms(natsn_state *s, uint64_t ms) {
  struct timespec ts = cnv__deadline_after_ms(CLOCK_MONOTONIC, ms);
  pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void *watch_main(void *arg) {
  cnv_nats_node *n = arg;
  natsn_state *s = n->state;
  for (;;) {
    kvEntry *e = NULL;
    natsStatus ns = kvWatcher_Next(&e, s->watcher, WATCH_POLL_MS);
    if (ns == NATS_OK && e) apply_entry(n, e, false, s->watch_buf);
    kvEntry_Destroy(e);
    pthread_mutex_lock(&s->mu);
    /* another error (the connection closed under us): do not spin on it */
    if (!s->stopping && ns != NATS_OK && ns != NATS_TIMEOUT && ns != NATS_ILLEGAL_STATE) {
      natsn_cv_wait_ms(s, WATCH_RETRY_MS);
    }
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    /* NATS_ILLEGAL_STATE: the watcher is stopped and delivers nothing more */
    if (stopping || ns == NATS_ILLEGAL_STATE) break;
  }
  return NULL;
}

/* Reads the watcher's initial values (every key's last record, in the bucket's order) up to
 * the end marker, applying each. */
static cnv_status replay(cnv_nats_node *n) {
  natsn_state *s = n->state;
  uint64_t deadline = natsn_mono_ms() + natsn_connect_timeout(n);
  for (;;) {
    uint64_t now = natsn_mono_ms();
    if (now >= deadline) return CNV_ENATS_TIMEOUT;
    kvEntry *e = NULL;
    natsStatus ns = kvWatcher_Next(&e, s->watcher, (int64_t)(deadline - now));
    if (ns != NATS_OK) return natsn_kv_status(ns);
    if (!e) return CNV_OK; /* the end of the initial values */
    apply_entry(n, e, true, s->buf);
    kvEntry_Destroy(e);
  }
}

static cnv_status bucket_open(cnv_nats_node *n) {
  natsn_state *s = n->state;
  char bucket[CNV_SW_SUBJECT_MAX];
  cnv_status st = cnv_sw_subject_swarm(CNV_SW_SUBJ_BUCKET, n->cfg.swarm, bucket, sizeof bucket, NULL);
  if (st != CNV_OK) return st;
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = bucket;
  kc.History = 1;
  kc.StorageType = js_FileStorage;
  kc.Replicas = n->cfg.replicas ? (int)n->cfg.replicas : 1;
  kc.MaxValueSize = (int32_t)NATSN_MAX_RECORD;
  /* creating an existing bucket with the same configuration succeeds; another node's (other
   * replicas) fails: then bind to it as it is */
  if (js_CreateKeyValue(&s->kv, n->js, &kc) == NATS_OK) return CNV_OK;
  s->kv = NULL;
  return natsn_kv_status(js_KeyValue(&s->kv, n->js, bucket));
}

static void state_free(cnv_nats_node *n) {
  natsn_state *s = n->state;
  if (s->kv) kvStore_Destroy(s->kv);
  sodium_memzero(s->keys, sizeof s->keys);
  free(s->peers);
  free(s->buf);
  free(s->watch_buf);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
  n->state = NULL;
}

/* Stops and joins the watch thread, if it runs. */
static void watch_stop(cnv_nats_node *n) {
  natsn_state *s = n->state;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (s->watch_started) pthread_join(s->watch_thread, NULL); /* within WATCH_POLL_MS */
  s->watch_started = false;
  if (s->watcher) kvWatcher_Destroy(s->watcher);
  s->watcher = NULL;
}

static cnv_status state_alloc(cnv_nats_node *n) {
  natsn_state *s = calloc(1, sizeof *s);
  if (!s) return CNV_ENOMEM;
  s->peers = calloc(NATSN_MAX_PEERS, sizeof *s->peers);
  s->buf = malloc(NATSN_MAX_RECORD);
  s->watch_buf = malloc(NATSN_MAX_RECORD);
  pthread_condattr_t ca;
  bool ok = s->peers && s->buf && s->watch_buf && pthread_condattr_init(&ca) == 0;
  if (ok) {
    ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&s->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
  }
  if (ok && pthread_mutex_init(&s->mu, NULL) != 0) {
    pthread_cond_destroy(&s->cv);
    ok = false;
  }
  if (!ok) {
    free(s->peers);
    free(s->buf);
    free(s->watch_buf);
    free(s);
    return CNV_ENOMEM;
  }
  s->started_ms = natsn_now_ms();
  n->state = s;
  return CNV_OK;
}

cnv_status natsn_state_start(cnv_nats_node *n) {
  if (!n || !n->js || !n->rt) return CNV_EINVAL;
  if (n->state) return CNV_ESTATE;
  cnv_status st = state_alloc(n);
  if (st != CNV_OK) return st;
  natsn_state *s = n->state;
  st = bucket_open(n);
  if (st == CNV_OK) {
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = true;
    st = natsn_kv_status(kvStore_WatchAll(&s->watcher, s->kv, &wo));
    if (st != CNV_OK) s->watcher = NULL;
  }
  if (st == CNV_OK) st = replay(n);
  if (st == CNV_OK) {
    if (pthread_create(&s->watch_thread, NULL, watch_main, n) == 0) {
      s->watch_started = true;
    } else {
      st = CNV_ENOMEM;
    }
  }
  if (st == CNV_OK) st = natsn_key_obtain(n);
  if (st == CNV_OK) st = natsn_status_start(n);
  if (st != CNV_OK) {
    watch_stop(n);
    state_free(n);
  }
  return st;
}

void natsn_state_stop(cnv_nats_node *n) {
  if (!n || !n->state) return;
  bool status = natsn_status_stop(n);
  /* the watch ends before the last record is written: nothing of ours is in flight to it
   * while it is torn down */
  watch_stop(n);
  /* the last record says Shutdown: readers count the node out at once. A failure leaves the
   * last periodic record, which goes stale after 3 intervals: the same end, later. */
  if (status) cnv__ignore_status(natsn_status_write(n, n->state->buf, CNV_PHASE_SHUTDOWN));
  state_free(n);
}

cnv_status cnv_nats_node_revoke(cnv_nats_node *n, const uint8_t hash[CNV_SW_HASH_BYTES]) {
  if (!n || !hash) return CNV_EINVAL;
  if (!n->state) return CNV_ESTATE;
  uint8_t *buf = malloc(NATSN_MAX_RECORD);
  if (!buf) return CNV_ENOMEM;
  cnv_status st = natsn_record_put(n, buf, CNV_SW_REC_REVOKE, hash, hash, CNV_SW_HASH_BYTES, false);
  free(buf);
  return st;
}
