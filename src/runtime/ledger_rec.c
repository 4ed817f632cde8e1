/* The runtime's governance-ledger records (ledger_rec.h). Admission and completion records
 * are built on the stack and copied into the ledger's queue by cnv_ledger_append: no
 * allocation, no lock (their payload is empty). Policy records (TRUST, REVOKE, REGISTER,
 * PHASE) are rare: a mutex keeps their epochs in log order. */
#include <string.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "ledger_rec.h"

void cnv__rt_lrec_init(cnv_runtime *rt) {
  atomic_init(&rt->epoch, 1u);
  atomic_init(&rt->ledger_failed, 0u);
  pthread_mutex_init(&rt->ledger_lock, NULL);
  static const uint8_t none[1];
  /* a pointer and no bytes: cannot fail */
  cnv__ignore_status(cnv_ledger_token_hash(none, 0, rt->empty_result));
}

void cnv__rt_lrec_fini(cnv_runtime *rt) { pthread_mutex_destroy(&rt->ledger_lock); }

/* Appends e; its index, or CNV_LEDGER_NONE when the ledger refused it. */
static uint64_t append(cnv_runtime *rt, const cnv_ledger_entry *e) {
  uint64_t index = CNV_LEDGER_NONE;
  cnv_status st = cnv_ledger_append(rt->cfg.ledger, e, &index);
  if (CNV__LIKELY(st == CNV_OK)) return index;
  /* CNV_EFULL comes only from CNV_LEDGER_FULL_DROP, which counts its drops itself. relaxed:
   * a figure, read by stats. */
  if (st != CNV_EFULL) cnv__fetch_add_relaxed(&rt->ledger_failed, 1u);
  return CNV_LEDGER_NONE;
}

/* Appends a policy record under the epoch it opens. The change it describes is made before
 * (by the caller); the increment's release half publishes it to the submit whose acquire
 * load (cnv__rt_lrec_epoch) reads the new epoch (the acquire half is not needed: the mutex
 * orders the writers). The mutex orders increment and append alike, so epochs grow along
 * the log. */
static void policy(cnv_runtime *rt, cnv_ledger_entry *e) {
  pthread_mutex_lock(&rt->ledger_lock);
  e->epoch = cnv__fetch_add_acq_rel(&rt->epoch, 1u) + 1u;
  e->time_ms = cnv__rt_wall_ms();
  (void)append(rt, e);
  pthread_mutex_unlock(&rt->ledger_lock);
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void cnv__rt_lrec_config(cnv_runtime *rt) {
  uint8_t p[16];
  put_u64(p, rt->cfg.deleg.skew);
  put_u32(p + 8, rt->cfg.deleg.max_counters);
  put_u32(p + 12, rt->cfg.deleg.max_counters_per_delegate);
  cnv_ledger_entry e = {.kind = CNV_LREC_CONFIG, .ticket = rt->cfg.swarm_id, .time_ms = cnv__rt_wall_ms(), .epoch = cnv__rt_lrec_epoch(rt), .payload = p, .payload_len = sizeof p};
  (void)append(rt, &e);
}

void cnv__rt_lrec_trust(cnv_runtime *rt, const uint8_t pk[CNV_LEDGER_KEY_BYTES]) {
  cnv_ledger_entry e = {.kind = CNV_LREC_TRUST};
  memcpy(e.key, pk, sizeof e.key);
  policy(rt, &e);
}

void cnv__rt_lrec_revoke(cnv_runtime *rt, const uint8_t hash[CNV_LEDGER_HASH_BYTES]) {
  cnv_ledger_entry e = {.kind = CNV_LREC_REVOKE};
  memcpy(e.digest, hash, sizeof e.digest);
  policy(rt, &e);
}

void cnv__rt_lrec_agent(cnv_runtime *rt, uint32_t n, const cnv__rt_token *t, int removed) {
  cnv_ledger_entry e = {.kind = CNV_LREC_AGENT, .agent = n, .time_ms = cnv__rt_wall_ms(), .epoch = cnv__rt_lrec_epoch(rt)};
  memcpy(e.key, t->holder, sizeof e.key);
  memcpy(e.digest, t->chain, sizeof e.digest);
  if (removed) {
    e.detail = 1;
  } else if (t->len <= CNV_LEDGER_MAX_PAYLOAD) {
    e.payload = t->bytes;
    e.payload_len = (uint32_t)t->len;
  } else {
    e.flags = CNV_RT_AGENT_TOKEN_OMITTED; /* too long to carry: the digest names it */
  }
  (void)append(rt, &e);
}

void cnv__rt_lrec_register(cnv_runtime *rt, const cnv__rt_handler *h, int unregistered) {
  cnv_ledger_entry e = {.kind = CNV_LREC_REGISTER, .capability = h->id};
  if (unregistered) {
    e.detail = 0xFFFFu;
  } else {
    e.detail = (uint16_t)h->cls;
    e.flags = h->effects;
    e.payload = (const uint8_t *)h->path;
    e.payload_len = (uint32_t)h->path_len;
  }
  policy(rt, &e);
}

void cnv__rt_lrec_phase(cnv_runtime *rt, int from, int to, uint32_t why) {
  cnv_ledger_entry e = {.kind = CNV_LREC_PHASE, .detail = (uint16_t)((unsigned)from << 8 | (unsigned)to), .status = (int32_t)why};
  policy(rt, &e);
}

void cnv__rt_lrec_accept(cnv_runtime *rt, cnv__rt_slot *s, const cnv__rt_agent *a, const cnv__rt_decision *d,
                         int low) {
  s->epoch = d->epoch;
  s->start_ms = cnv__rt_wall_ms();
  memcpy(s->key, a->token->holder, sizeof s->key);
  memcpy(s->chain, a->token->chain, sizeof s->chain);
  cnv_ledger_entry e = {.kind = CNV_LREC_ADMIT, .agent = s->agent, .flags = (uint32_t)low, .time_ms = s->start_ms, .token_time = d->token_time, .ticket = s->ticket, .capability = s->capability, .epoch = d->epoch};
  memcpy(e.digest, s->chain, sizeof e.digest);
  (void)append(rt, &e);
}

void cnv__rt_lrec_deny(cnv_runtime *rt, uint32_t agent, cnv__rt_decision *d, cnv_status st, int low) {
  int reason = cnv_runtime_denial_of(st); /* -1 for CNV_EFULL */
  cnv_ledger_entry e = {.kind = CNV_LREC_ADMIT, .detail = (uint16_t)(reason + 1), .status = st, .agent = agent, .flags = (uint32_t)low, .time_ms = cnv__rt_wall_ms(), .token_time = d->have_time ? d->token_time : cnv__rt_token_now(rt), .capability = d->capability, .epoch = d->epoch};
  /* the agent as the decision found it: an unknown agent's digest stays zero */
  const cnv__rt_agent *a = cnv__rt_agent_get(rt, agent);
  if (a) memcpy(e.digest, a->token->chain, sizeof e.digest);
  (void)append(rt, &e);
}

uint64_t cnv__rt_lrec_complete(cnv_runtime *rt, const cnv__rt_slot *s, const cnv_runtime_completion *c) {
  cnv_ledger_entry e = {.kind = CNV_LREC_COMPLETE, .detail = (uint16_t)c->kind, .status = c->status, .agent = s->agent, .time_ms = cnv__rt_wall_ms(), .start_ms = s->start_ms, .ticket = s->ticket, .capability = s->capability, .epoch = s->epoch};
  memcpy(e.key, s->key, sizeof e.key);
  memcpy(e.digest, s->chain, sizeof e.digest);
  /* BLAKE2b-256 of the result bytes (the token hash is the same unkeyed hash): with a result
   * the pointer is not NULL, so it cannot fail; without one, the hash made once at init */
  if (c->result_len) {
    cnv__ignore_status(cnv_ledger_token_hash(c->result, c->result_len, e.result));
  } else {
    memcpy(e.result, rt->empty_result, sizeof e.result);
  }
  return append(rt, &e);
}
