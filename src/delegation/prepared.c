/* Prepared tokens: a token bound to its holder and swarm, with an immutable snapshot of what
 * its last verification learned (the chain summary, its intersected window, the swarm and
 * holder verdict) and the policy epoch that verification's trust and revocation check read.
 * While the verifier's epoch still equals the snapshot's, a call answers from the snapshot:
 * no hash of the token, no cache lookup, no allocation. Otherwise it verifies through the
 * normal path (cnv_deleg_authorize's) and publishes a new snapshot. Snapshots are published
 * with a release CAS on one pointer and read inside a urcu-bp read-side section; a replaced
 * one is freed after a grace period (urcu_bp_call_rcu). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "deleg.h"

typedef struct prep_snap {
  struct rcu_head rcu;
  uint64_t epoch;   /* policy epoch read before the trust and revocation check it records */
  uint64_t nb_max;  /* the latest not_before of the chain's links */
  uint64_t exp_min; /* the earliest expiry of the chain's links */
  cnv_status bind;  /* swarm and holder verdict for the prepared swarm and holder */
  int32_t bind_link;
  bool limited; /* some link has a use limit: every success takes the counting path */
  cnv__deleg_chain chain;
} prep_snap;

struct cnv_deleg_prepared {
  cnv_deleg_verifier *v;
  _Atomic(prep_snap *) snap; /* NULL until a verification found the chain valid */
  uint64_t swarm;
  uint8_t holder[CNV_DELEG_KEY_BYTES];
  size_t len;
  uint8_t token[];
};

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static void snap_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(prep_snap, rcu));
}

cnv_status cnv_deleg_prepare(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                             const uint8_t holder[CNV_DELEG_KEY_BYTES], uint64_t swarm, cnv_deleg_prepared **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (!v || !token || !holder) return CNV_EINVAL;
  if (len > SIZE_MAX - sizeof(cnv_deleg_prepared)) return CNV_EOVERFLOW;
  cnv_deleg_prepared *p = malloc(sizeof *p + len);
  if (!p) return CNV_ENOMEM;
  p->v = v;
  atomic_init(&p->snap, NULL);
  p->swarm = swarm;
  memcpy(p->holder, holder, CNV_DELEG_KEY_BYTES);
  p->len = len;
  memcpy(p->token, token, len);
  *out = p;
  return CNV_OK;
}

void cnv_deleg_prepared_destroy(cnv_deleg_prepared *p) {
  if (!p) return;
  /* relaxed: no call on p is in flight (the caller's contract), so nobody else reads it;
   * snapshots it replaced earlier are already queued for a deferred free. */
  free(cnv__load_relaxed(&p->snap));
  free(p);
}

uint64_t cnv_deleg_policy_epoch(const cnv_deleg_verifier *v) {
  /* acquire: pairs with bump_epoch's release; a caller that sees epoch E sees the trust and
   * revocation changes counted in E. */
  return v ? cnv__load_acquire(&v->epoch) : 0;
}

/* The snapshot's answer: the same checks, in the same order, as the cached path of
 * cnv_deleg_authorize after its policy check (time, swarm, holder, capability, effects). */
static cnv_status snap_check(const cnv_deleg_verifier *v, const prep_snap *s, const cnv_deleg_request *req,
                             cnv_deleg_error *err) {
  uint64_t skew = v->cfg.skew;
  if (sat_add(req->now, skew) < s->nb_max || req->now > sat_add(s->exp_min, skew)) {
    /* Some link's window fails (the intersected window does exactly when one does): find the
     * first one, as the link-by-link check does. */
    return cnv__deleg_check_time(skew, s->chain.n_links, s->chain.not_before, s->chain.expiry, req->now, err);
  }
  if (s->bind != CNV_OK) {
    if (err) *err = (cnv_deleg_error){.link = s->bind_link, .offset = 0};
    return s->bind;
  }
  return cnv__deleg_chain_leaf(&s->chain, req, err);
}

/* Publishes a snapshot of what a verification learned, unless one of the same or a later
 * epoch is already there. Skipped when the allocation fails (the next call verifies again). */
static void publish(cnv_deleg_prepared *p, const cnv__deleg_learned *l) {
  prep_snap *s = malloc(sizeof *s);
  if (!s) return;
  s->epoch = l->epoch;
  s->chain = l->chain;
  s->nb_max = 0;
  s->exp_min = UINT64_MAX;
  s->limited = false;
  for (uint8_t i = 0; i < l->chain.n_links; i++) {
    if (l->chain.not_before[i] > s->nb_max) s->nb_max = l->chain.not_before[i];
    if (l->chain.expiry[i] < s->exp_min) s->exp_min = l->chain.expiry[i];
    s->limited |= l->chain.max_uses[i] != CNV_DELEG_UNLIMITED_USES;
  }
  cnv_deleg_error e = {.link = -1, .offset = 0};
  s->bind = cnv__deleg_check_bind(l->chain.n_links, l->chain.swarm, l->chain.holder, p->swarm, p->holder, &e);
  s->bind_link = e.link;
  urcu_bp_read_lock();
  /* acquire: we read old->epoch, written before old was published (release below). */
  prep_snap *old = cnv__load_acquire(&p->snap);
  do {
    if (old && old->epoch >= s->epoch) { /* as new or newer: keep it (the epoch only grows) */
      urcu_bp_read_unlock();
      free(s); /* never published: nobody else saw it */
      return;
    }
    /* acq_rel: the release half orders the snapshot's initialization above before its
     * pointer, for the readers' acquire load; acquire on failure, as the load above (the
     * success order carries acquire only because the failure order may not be stronger). */
  } while (!cnv__cas_weak(&p->snap, &old, s, memory_order_acq_rel, memory_order_acquire));
  /* old may still be read by a call inside its read-side section: freed after a grace period. */
  if (old) urcu_bp_call_rcu(&old->rcu, snap_free_rcu);
  urcu_bp_read_unlock();
}

cnv_status cnv_deleg_prepared_authorize(cnv_deleg_verifier *v, cnv_deleg_prepared *p, uint64_t now,
                                        const cnv_deleg_cap *cap, cnv_effects effects, cnv_deleg_caveats *effective,
                                        cnv_deleg_error *err) {
  if (!v || !p || p->v != v) return CNV_EINVAL;
  cnv_deleg_request req = {.now = now, .swarm = p->swarm, .holder = p->holder, .cap = cap, .effects = effects};
  urcu_bp_read_lock();
  /* acquire: pairs with publish's release CAS; the snapshot's fields are initialized. */
  const prep_snap *s = cnv__load_acquire(&p->snap);
  /* acquire: pairs with bump_epoch's release (as in the cache's cached_check). The snapshot's
   * epoch was read before its trust and revocation check, so equal epochs mean no trust or
   * revocation change was counted since that check saw the tables; a revoke or trust_remove
   * that returned before this call bumped the epoch first, so this load sees a later epoch
   * and the call takes the normal path, which sees the change. */
  if (s && s->epoch == cnv__load_acquire(&v->epoch)) {
    cnv_status st = snap_check(v, s, &req, err);
    /* Use limits: the same counting authorize runs on its cached path (exactly K uses). */
    if (st == CNV_OK && s->limited) st = cnv__deleg_counters_take(v, &s->chain, err);
    if (st == CNV_OK) {
      if (effective) *effective = s->chain.leaf;
      if (err) *err = (cnv_deleg_error){.link = -1, .offset = 0};
    }
    urcu_bp_read_unlock();
    return st;
  }
  urcu_bp_read_unlock();
  cnv__deleg_learned l;
  cnv_status st = cnv__deleg_verify_learn(v, p->token, p->len, &req, true, effective, err, &l);
  if (l.valid) publish(p, &l);
  return st;
}
