/* Status records (docs/nats.md "Swarm state"): this node's own, rewritten every
 * status_interval_ms by a timer thread (and once more, phase Shutdown, at stop), and the view
 * of every node's from the records the watch applies: a node is live while its last record is
 * younger than 3 of its intervals and not a Shutdown record. */
#include <string.h>

#include <sodium.h>

#include "core/ignore.h"
#include "state_internal.h"

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
  return natsn_record_put(n, buf, CNV_SW_REC_NODE, n->public_key, body, sizeof body, false);
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

void natsn_peer_update(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], const cnv_sw_node_status *st,
                       uint64_t record_ms, bool replay) {
  natsn_state *s = n->state;
  uint64_t seen = natsn_mono_ms();
  if (replay) { /* an old record: its age by its author's clock */
    uint64_t now = natsn_now_ms();
    uint64_t age = now > record_ms ? now - record_ms : 0;
    seen = seen > age ? seen - age : 0;
  }
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
    p->status = *st;
    p->record_ms = record_ms;
    p->seen_ms = seen;
  }
  pthread_mutex_unlock(&s->mu);
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
