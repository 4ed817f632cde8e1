/* Status records (docs/nats.md "Swarm state"): this node's own, rewritten every
 * status_interval_ms by a timer thread (and once more, phase Shutdown, at stop), and the view
 * of every node's from the records the watch applies: a node is live while its last record is
 * younger than 3 of its intervals and not a Shutdown record. */
#include <string.h>

#include <sodium.h>

#include "core/ignore.h"
#include "state_internal.h"

/* The once path's verdict on a started request's claimer is final (CNV_ENATS_OUTCOME_UNKNOWN:
 * never run again, the client told so), and waiting longer costs a dead node's requests only
 * time, so it asks for more than the view's 3 intervals: this many of them without a record
 * while the judge wrote its own. A live node whose server died reconnects, and writes its
 * record again within an interval of that, well within it even on a loaded machine. */
#define NATSN_ONCE_DEAD_INTERVALS 10u

bool natsn_status_live(const cnv_sw_node_status *st, uint64_t seen_ms, uint64_t now) {
  if (st->phase == CNV_PHASE_SHUTDOWN) return false;
  uint64_t interval = st->interval_ms ? st->interval_ms : 1000u;
  return now <= seen_ms || now - seen_ms <= 3 * interval;
}

cnv_status natsn_status_write(cnv_nats_node *n, uint8_t *buf, int phase) {
  cnv_runtime_stats rs;
  cnv_status st = cnv_runtime_stats_get(n->rt, &rs);
  if (st != CNV_OK) return st;
  uint64_t completed = 0;
  for (size_t i = 0; i < CNV_DONE_COUNT; i++) completed += rs.completed[i];
  cnv_sw_node_status ns = {.phase = (uint8_t)phase,
                           .breaker = phase == CNV_PHASE_DEGRADED,
                           .capabilities = rs.handlers,
                           .in_flight = natsn_serve_in_flight(n),
                           .interval_ms = natsn_status_interval(n),
                           .completed = completed,
                           .started_ms = n->state->started_ms};
  uint8_t body[CNV_SW_NODE_STATUS_BYTES];
  st = cnv_sw_node_status_encode(&ns, body, sizeof body);
  if (st != CNV_OK) return st;
  char key[CNV_SW_KV_KEY_MAX], bucket[CNV_SW_SUBJECT_MAX], subject[CNV_SW_SUBJECT_MAX + CNV_SW_KV_KEY_MAX + 8];
  size_t len;
  st = natsn_record_sign(n->cfg.swarm, CNV_SW_REC_NODE, n->public_key, n->secret_key, n->token, n->cfg.token_len, body,
                         sizeof body, key, buf, &len);
  if (st == CNV_OK) st = cnv_sw_subject_swarm(CNV_SW_SUBJ_BUCKET, n->cfg.swarm, bucket, sizeof bucket, NULL);
  if (st != CNV_OK) return st;
  /* kvStore_Put's publish ("$KV.BUCKET.KEY"), with a wait of one interval instead of the
   * JetStream context's connect_timeout_ms: a write whose server went away is given up for
   * the next one rather than holding this thread */
  snprintf(subject, sizeof subject, "$KV.%s.%s", bucket, key);
  jsPubOptions po;
  if (jsPubOptions_Init(&po) != NATS_OK) return CNV_ENATS_JETSTREAM;
  po.MaxWait = natsn_status_interval(n);
  jsPubAck *pa = NULL;
  jsErrCode jerr = 0;
  natsStatus pub = js_Publish(&pa, n->js, subject, buf, (int)len, &po, &jerr);
  jsPubAck_Destroy(pa);
  return natsn_kv_status(pub);
}

static void *status_main(void *arg) {
  cnv_nats_node *n = arg;
  natsn_state *s = n->state;
  uint64_t interval = natsn_status_interval(n);
  uint64_t next = natsn_mono_ms();
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    uint64_t now = natsn_mono_ms();
    if (now >= next) {
      pthread_mutex_unlock(&s->mu);
      /* a failed write (JetStream away for a while) is retried at the next interval; others
       * see this node as dead meanwhile, which is what they should see */
      cnv__ignore_status(natsn_status_write(n, s->buf, cnv_runtime_phase(n->rt)));
      pthread_mutex_lock(&s->mu);
      next += interval;
      now = natsn_mono_ms();
      if (next <= now) next = now + interval; /* a slow write: no burst to catch up */
      continue;
    }
    natsn_cv_wait_ms(s, next - now);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

cnv_status natsn_status_start(cnv_nats_node *n) {
  natsn_state *s = n->state;
  if (pthread_create(&s->status_thread, NULL, status_main, n) != 0) return CNV_ENOMEM;
  s->status_started = true;
  return CNV_OK;
}

bool natsn_status_stop(cnv_nats_node *n) {
  natsn_state *s = n->state;
  if (!s->status_started) return false;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->status_thread, NULL);
  s->status_started = false;
  return true;
}

/* Records st (written at record_ms by its author's clock) as node pk's, seen at seen (this
 * process's monotonic clock), unless an older record than the one held; the same record seen
 * again keeps the later of the two sightings. */
static void peer_set(natsn_state *s, const uint8_t pk[CNV_SW_KEY_BYTES], const cnv_sw_node_status *st,
                     uint64_t record_ms, uint64_t seen) {
  pthread_mutex_lock(&s->mu);
  natsn_peer *p = NULL;
  for (uint32_t i = 0; i < s->n_peers && !p; i++) {
    if (memcmp(s->peers[i].pk, pk, CNV_SW_KEY_BYTES) == 0) p = &s->peers[i];
  }
  if (!p && s->n_peers < NATSN_MAX_PEERS) {
    p = &s->peers[s->n_peers++];
    memcpy(p->pk, pk, CNV_SW_KEY_BYTES);
  }
  if (p && record_ms >= p->record_ms) { /* never back to an older record */
    if (record_ms > p->record_ms || seen > p->seen_ms) p->seen_ms = seen;
    p->status = *st;
    p->record_ms = record_ms;
  }
  pthread_mutex_unlock(&s->mu);
}

/* The monotonic time at which something written at written_ms (CLOCK_REALTIME, this
 * machine's or JetStream's) was as old as it is now. */
static uint64_t mono_of(uint64_t written_ms) {
  uint64_t mono = natsn_mono_ms(), now = natsn_now_ms();
  uint64_t age = now > written_ms ? now - written_ms : 0;
  return mono > age ? mono - age : 0;
}

void natsn_peer_update(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], const cnv_sw_node_status *st,
                       uint64_t record_ms, bool replay) {
  /* a replayed record: its age by its author's clock; a followed one: as old as its arrival */
  peer_set(n->state, pk, st, record_ms, replay ? mono_of(record_ms) : natsn_mono_ms());
}

/* Reads node pk's status record from the bucket now (not from the watch, which may lag, e.g.
 * while its consumer is re-created after a server restart): NATS_OK with *stored_ms (when
 * JetStream stored it, its clock) and *st when it verifies as the watch's records do;
 * NATS_NOT_FOUND when pk has no record; else an error (JetStream's, or NATS_ERR for a record
 * that does not verify). */
static natsStatus read_status(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], cnv_sw_node_status *st,
                              uint64_t *stored_ms) {
  char key[CNV_SW_KV_KEY_MAX];
  kvEntry *e = NULL;
  if (cnv_sw_record_key(CNV_SW_REC_NODE, pk, key, sizeof key, NULL) != CNV_OK) return NATS_ERR;
  natsStatus ns = kvStore_Get(&e, n->state->kv, key);
  if (ns != NATS_OK) return ns;
  cnv_sw_record rec;
  int len = kvEntry_ValueLen(e);
  int64_t created = kvEntry_Created(e); /* ns */
  /* the watch's checks (records.c; counted and reported there when the watch delivers it) */
  bool ok = kvEntry_Operation(e) == kvOp_Put && len > 0 && (size_t)len <= NATSN_MAX_RECORD && created > 0 &&
            cnv_sw_record_read(n->cfg.swarm, key, kvEntry_Value(e), (size_t)len, &rec) == CNV_OK &&
            rec.kind == CNV_SW_REC_NODE && natsn_record_check_name(key, &rec) == CNV_OK && rec.token &&
            natsn_check_serve_token(n, rec.signer_pk, rec.token, rec.token_len) == CNV_OK &&
            cnv_sw_node_status_decode(rec.body, rec.body_len, st) == CNV_OK;
  if (ok) {
    *stored_ms = (uint64_t)created / 1000000u;
    peer_set(n->state, pk, st, rec.ts_ms, mono_of(*stored_ms)); /* the view learns it too */
  }
  kvEntry_Destroy(e);
  /* one that does not verify (a passing shortage of agents, or a revoked signer): no judgement */
  return ok ? NATS_OK : NATS_ERR;
}

bool natsn_node_live_fresh(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], uint64_t wrote_ms) {
  if (!n || !pk) return false;
  if (sodium_memcmp(pk, n->public_key, CNV_SW_KEY_BYTES) == 0) return true;
  if (!n->state || !n->state->kv) return natsn_node_live(n, pk);
  /* This node's own last record is the reference: both times are JetStream's, so neither
   * node's clock matters, and while the bucket took no writes (no leader for a while) every
   * record ages alike and nobody is judged dead for it. No reference, or no answer about pk:
   * it cannot be judged dead. */
  cnv_sw_node_status own, st;
  uint64_t own_ms = 0, pk_ms = 0;
  if (read_status(n, n->public_key, &own, &own_ms) != NATS_OK) return true;
  natsStatus ns = read_status(n, pk, &st, &pk_ms);
  if (ns != NATS_OK && ns != NATS_NOT_FOUND) return true;
  /* what it wrote at wrote_ms (a run marker) proves it lived then, as a status record would */
  uint64_t own_interval = own.interval_ms ? own.interval_ms : natsn_status_interval(n);
  if (wrote_ms && (wrote_ms >= own_ms || own_ms - wrote_ms <= NATSN_ONCE_DEAD_INTERVALS * own_interval)) return true;
  if (ns == NATS_NOT_FOUND || st.phase == CNV_PHASE_SHUTDOWN) return false;
  uint64_t interval = st.interval_ms ? st.interval_ms : 1000u;
  return pk_ms >= own_ms || own_ms - pk_ms <= NATSN_ONCE_DEAD_INTERVALS * interval;
}

bool natsn_node_live(const cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES]) {
  if (!n || !pk) return false;
  if (sodium_memcmp(pk, n->public_key, CNV_SW_KEY_BYTES) == 0) return true;
  natsn_state *s = n->state;
  if (!s) return false;
  uint64_t now = natsn_mono_ms();
  bool live = false;
  pthread_mutex_lock(&s->mu);
  for (uint32_t i = 0; i < s->n_peers; i++) {
    if (memcmp(s->peers[i].pk, pk, CNV_SW_KEY_BYTES) == 0) {
      live = natsn_status_live(&s->peers[i].status, s->peers[i].seen_ms, now);
      break;
    }
  }
  pthread_mutex_unlock(&s->mu);
  return live;
}

cnv_status cnv_nats_node_view(cnv_nats_node *n, cnv_nats_node_info *out, size_t cap, size_t *count) {
  if (!n || !count || (!out && cap > 0)) return CNV_EINVAL;
  natsn_state *s = n->state;
  *count = 0;
  if (!s) return CNV_OK;
  uint64_t now = natsn_mono_ms();
  pthread_mutex_lock(&s->mu);
  for (uint32_t i = 0; i < s->n_peers && i < cap; i++) {
    const natsn_peer *p = &s->peers[i];
    memcpy(out[i].node_pk, p->pk, CNV_SW_KEY_BYTES);
    out[i].status = p->status;
    out[i].record_ms = p->record_ms;
    out[i].live = memcmp(p->pk, n->public_key, CNV_SW_KEY_BYTES) == 0 ? p->status.phase != CNV_PHASE_SHUTDOWN
                                                                      : natsn_status_live(&p->status, p->seen_ms, now);
  }
  *count = s->n_peers;
  pthread_mutex_unlock(&s->mu);
  return CNV_OK;
}
