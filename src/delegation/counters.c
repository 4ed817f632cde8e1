/* Use counters: one per use-limited link, keyed by link hash, shared by every token that
 * contains the link, so a link's limit holds across all its descendants.
 *
 * Life of a counter. It is created by a successful authorize with its first use already
 * taken; a call that fails gives its uses back, and a counter whose only use is given back is
 * reclaimed at once (used 1 -> DEAD), so a failing call leaves no counter behind. It is
 * charged to the chain's delegate (the audience of the root link), which may hold at most
 * max_counters_per_delegate live counters. It is reclaimed when its link can never verify
 * again: expired as of the reclaim clock (the highest `now` given to
 * cnv_deleg_counters_purge) or it or an ancestor revoked. Reclaiming marks `used` DEAD with
 * one atomic operation on the word every taker CASes, so each use is either taken before the
 * mark (and dies with the link) or its taker sees DEAD, finds no live counter and runs the
 * creation checks, which refuse exactly the links whose counters may have been reclaimed
 * (expired as of the reclaim clock, revoked): spent uses never come back. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/arch.h>
#include <xxhash.h>

#include "core/atomic.h"
#include "deleg.h"

typedef enum take_result { TAKEN,
                           AT_LIMIT,
                           GONE } take_result;

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static unsigned long key_hash(const cnv_deleg_verifier *v, const uint8_t key[32]) {
  return (unsigned long)XXH3_64bits_withSeed(key, 32, v->seed);
}

static cnv__deleg_counter *counter_of(struct cds_lfht_node *n) {
  return (cnv__deleg_counter *)(void *)((char *)n - offsetof(cnv__deleg_counter, node));
}

static cnv__deleg_delegate *delegate_of(struct cds_lfht_node *n) {
  return (cnv__deleg_delegate *)(void *)((char *)n - offsetof(cnv__deleg_delegate, node));
}

static int counter_match(struct cds_lfht_node *node, const void *key) {
  cnv__deleg_counter *c = counter_of(node);
  /* acquire: pairs with the release in counter_new; orders init before these reads. */
  if (!cnv__load_acquire(&c->published)) return 0;
  /* acquire: a reclaimed counter is no longer the link's; pairs with the release of the
   * reclaiming CAS, so what the reclaimer saw (clock, revocation) is seen here too. */
  if (cnv__load_acquire(&c->used) == CNV__DELEG_DEAD) return 0;
  return memcmp(c->hash[c->n_hashes - 1], key, CNV_DELEG_HASH_BYTES) == 0;
}

static int delegate_match(struct cds_lfht_node *node, const void *key) {
  cnv__deleg_delegate *d = delegate_of(node);
  /* acquire: pairs with the release in delegate_find; orders init before these reads. */
  if (!cnv__load_acquire(&d->published)) return 0;
  /* relaxed: a DEAD node is skipped; its key bytes never change, nothing else is read. */
  if (cnv__load_relaxed(&d->live) == CNV__DELEG_DEAD) return 0;
  return memcmp(d->key, key, CNV_DELEG_KEY_BYTES) == 0;
}

static void counter_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_counter, rcu));
}

static void delegate_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_delegate, rcu));
}

/* ---- delegates: who pays for counters ------------------------------------------------ */

/* The live node of key, added if none (RCU read lock held). NULL: out of memory. */
static cnv__deleg_delegate *delegate_find(cnv_deleg_verifier *v, const uint8_t key[32]) {
  unsigned long h = key_hash(v, key);
  struct cds_lfht_iter it;
  cds_lfht_lookup(v->delegates, h, delegate_match, key, &it);
  struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
  if (n) return delegate_of(n);
  cnv__deleg_delegate *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  memcpy(d->key, key, CNV_DELEG_KEY_BYTES);
  cds_lfht_node_init(&d->node);
  /* release: publishes the key to readers that acquire `published`. */
  cnv__store_release(&d->published, 1u);
  n = cds_lfht_add_unique(v->delegates, h, delegate_match, key, &d->node);
  if (n != &d->node) free(d); /* lost a race: never published, nobody else holds it */
  return delegate_of(n);
}

/* Charges one counter to delegate `key` (RCU read lock held). CNV_EDELEG_COUNTERS_FULL when
 * its share is used up. */
static cnv_status delegate_charge(cnv_deleg_verifier *v, const uint8_t key[32], cnv__deleg_delegate **out) {
  uint32_t share = v->cfg.max_counters_per_delegate ? v->cfg.max_counters_per_delegate : v->cfg.max_counters;
  for (;;) {
    cnv__deleg_delegate *d = delegate_find(v, key);
    if (!d) return CNV_ENOMEM;
    unsigned cur = cnv__load_relaxed(&d->live);
    while (cur != CNV__DELEG_DEAD) {
      if (cur >= share) return CNV_EDELEG_COUNTERS_FULL;
      /* relaxed: `live` is a bound, arbitrated by RMWs on this one word against the sweep's
       * 0 -> DEAD; the node's memory is kept by the RCU read lock, not by this order. */
      if (cnv__cas_weak(&d->live, &cur, cur + 1, memory_order_relaxed, memory_order_relaxed)) {
        *out = d;
        return CNV_OK;
      }
    }
    /* reclaimed meanwhile (it had no counter): a fresh node is added on the next turn */
  }
}

static void delegate_release(cnv__deleg_delegate *d) {
  /* relaxed: as in delegate_charge; we hold a charge, so the value is >= 1, never DEAD. */
  cnv__fetch_sub_relaxed(&d->live, 1u);
}

/* ---- counters ------------------------------------------------------------------------- */

/* Unlinks a counter this thread marked DEAD and gives back what it held (RCU read lock
 * held); frees it after a grace period. */
static void counter_unlink(cnv_deleg_verifier *v, cnv__deleg_counter *c) {
  if (cds_lfht_del(v->counters, &c->node) != 0) return; /* only the marker unlinks: cannot fail */
  delegate_release(c->delegate);
  /* relaxed: the count only bounds memory; the free is ordered by the grace period. */
  cnv__fetch_sub_relaxed(&v->counter_count, 1);
  urcu_bp_call_rcu(&c->rcu, counter_free_rcu);
}

/* Takes one use unless the counter is at its limit or reclaimed. */
static take_result take_one(cnv__deleg_counter *c) {
  /* acquire (load and failed CAS): seeing DEAD must show what the reclaimer saw (see
   * counter_match). The count itself needs no order: each CAS is an atomic read-modify-write
   * of this one word, so no two takers move it from the same value and it never passes max. */
  unsigned cur = cnv__load_acquire(&c->used);
  do {
    if (cur == CNV__DELEG_DEAD) return GONE;
    if (cur >= c->max) return AT_LIMIT;
  } while (!cnv__cas_weak(&c->used, &cur, cur + 1, memory_order_acquire, memory_order_acquire));
  return TAKEN;
}

/* Gives back a use this call took. Giving back the last one reclaims the counter (1 -> DEAD):
 * it then records no use at all, and nobody else holds one of its uses. */
static void give_back(cnv_deleg_verifier *v, cnv__deleg_counter *c) {
  unsigned cur = cnv__load_relaxed(&c->used);
  for (;;) {
    if (cur == CNV__DELEG_DEAD) return; /* its link died meanwhile and it was reclaimed */
    unsigned next = cur == 1 ? CNV__DELEG_DEAD : cur - 1;
    /* acq_rel: the same single-word arbitration as take_one; release for the DEAD mark. */
    if (cnv__cas_weak(&c->used, &cur, next, memory_order_acq_rel, memory_order_relaxed)) break;
  }
  if (cur == 1) counter_unlink(v, c);
}

/* Marks a live counter DEAD and unlinks it; false when another thread reclaimed it first. */
static bool counter_reclaim(cnv_deleg_verifier *v, cnv__deleg_counter *c) {
  unsigned cur = cnv__load_relaxed(&c->used);
  do {
    if (cur == CNV__DELEG_DEAD) return false;
    /* acq_rel: release orders the clock raise and revocation lookups that made this counter
     * dead before the mark; takers acquire it (take_one, counter_match). */
  } while (!cnv__cas_weak(&c->used, &cur, CNV__DELEG_DEAD, memory_order_acq_rel, memory_order_relaxed));
  counter_unlink(v, c);
  return true;
}

/* True when the counter's link can never verify again as of `now`. */
static bool counter_dead(cnv_deleg_verifier *v, const cnv__deleg_counter *c, uint64_t now) {
  if (now > sat_add(c->expiry, v->cfg.skew)) return true;
  for (uint8_t j = 0; j < c->n_hashes; j++) {
    if (cnv__deleg_key_present(v, v->revoked, c->hash[j])) return true;
  }
  return false;
}

/* Reclaims the counters of dead links and the delegate nodes with no counter (RCU read lock
 * held). Returns how many counters it reclaimed. */
static size_t sweep(cnv_deleg_verifier *v, uint64_t now) {
  size_t dropped = 0;
  struct cds_lfht_iter it;
  for (cds_lfht_first(v->counters, &it); cds_lfht_iter_get_node(&it) != NULL; cds_lfht_next(v->counters, &it)) {
    cnv__deleg_counter *c = counter_of(cds_lfht_iter_get_node(&it));
    /* acquire: pairs with counter_new's release; the link's data is initialized. */
    if (cnv__load_acquire(&c->published) && counter_dead(v, c, now) && counter_reclaim(v, c)) dropped++;
  }
  for (cds_lfht_first(v->delegates, &it); cds_lfht_iter_get_node(&it) != NULL; cds_lfht_next(v->delegates, &it)) {
    cnv__deleg_delegate *d = delegate_of(cds_lfht_iter_get_node(&it));
    unsigned zero = 0;
    /* acquire: pairs with delegate_find's release; the node is initialized. relaxed CAS:
     * 0 -> DEAD against charges' cur -> cur + 1 on the same word (delegate_charge). */
    if (cnv__load_acquire(&d->published) &&
        cnv__cas_strong(&d->live, &zero, CNV__DELEG_DEAD, memory_order_relaxed, memory_order_relaxed) &&
        cds_lfht_del(v->delegates, &d->node) == 0) {
      urcu_bp_call_rcu(&d->rcu, delegate_free_rcu);
    }
  }
  return dropped;
}

/* A full table sweeps, by one thread at a time, only when something may have died since the
 * last sweep (the reclaim clock or the policy epoch moved): a holder at its bound cannot make
 * every call scan the table. True when it swept. RCU read lock held. */
static bool sweep_if_useful(cnv_deleg_verifier *v) {
  /* acquire: pairs with purge's clock raise and bump_epoch's release. */
  uint64_t now = cnv__load_acquire(&v->reclaim_now);
  uint64_t epoch = cnv__load_acquire(&v->epoch);
  /* relaxed: only a hint that skips a useless sweep; a stale value costs one more sweep. */
  if (now == cnv__load_relaxed(&v->swept_now) && epoch == cnv__load_relaxed(&v->swept_epoch)) return false;
  unsigned idle = 0;
  /* acquire/release pair on `sweeping`: one sweeper at a time; others do not wait. */
  if (!cnv__cas_strong(&v->sweeping, &idle, 1u, memory_order_acquire, memory_order_relaxed)) return false;
  (void)sweep(v, now); /* the count is for purge's caller; here the retry tells */
  cnv__store_relaxed(&v->swept_now, now);
  cnv__store_relaxed(&v->swept_epoch, epoch);
  cnv__store_release(&v->sweeping, 0u);
  return true;
}

static cnv__deleg_counter *counter_new(const cnv__deleg_chain *ch, int32_t i, cnv__deleg_delegate *d) {
  /* sizeof is a multiple of the cache line (aligned members), as aligned_alloc wants. */
  cnv__deleg_counter *c = aligned_alloc(CNV_CACHELINE, sizeof *c);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  atomic_init(&c->used, 1u); /* created with the creating call's use taken */
  c->max = ch->max_uses[i];
  c->n_hashes = (uint8_t)(i + 1);
  c->expiry = ch->expiry[i];
  c->delegate = d;
  memcpy(c->hash, ch->hash, (size_t)(i + 1) * CNV_DELEG_HASH_BYTES);
  cds_lfht_node_init(&c->node);
  /* release: publishes the fields above to readers that acquire `published`. */
  cnv__store_release(&c->published, 1u);
  return c;
}

/* Whether link i of ch may get a new counter, or keep a use taken from one: not if a counter
 * of it may have been reclaimed (expired as of the reclaim clock, or it or an ancestor
 * revoked). Checked before a counter is made and again after every use is taken. *bad: the
 * failing link. */
static cnv_status may_create(cnv_deleg_verifier *v, const cnv__deleg_chain *ch, int32_t i, int32_t *bad) {
  /* A counter this call found missing or DEAD was reclaimed after its reclaimer raised the
   * clock or saw the revocation (release). Seeing DEAD is an acquire; a miss is a liburcu
   * lookup observing the (full-barrier) unlink, which liburcu's read barrier orders before
   * the reads below. */
  cmm_smp_rmb();
  *bad = i;
  if (cnv__load_acquire(&v->reclaim_now) > sat_add(ch->expiry[i], v->cfg.skew)) return CNV_EDELEG_EXPIRED;
  for (int32_t j = 0; j <= i; j++) {
    *bad = j;
    if (cnv__deleg_key_present(v, v->revoked, ch->hash[j])) return CNV_EDELEG_REVOKED;
  }
  return CNV_OK;
}

/* Creates the counter of link i with this call's use taken, or takes a use from the one a
 * racing call created meanwhile (RCU read lock held). */
static cnv_status counter_create(cnv_deleg_verifier *v, const cnv__deleg_chain *ch, int32_t i,
                                 cnv__deleg_counter **out, int32_t *bad) {
  unsigned long h = key_hash(v, ch->hash[i]);
  for (;;) {
    cnv_status st = may_create(v, ch, i, bad);
    if (st != CNV_OK) return st;
    *bad = i;
    cnv__deleg_delegate *d;
    st = delegate_charge(v, ch->delegate, &d);
    if (st != CNV_OK) return st;
    /* relaxed: the count only bounds memory; counters are published by `published`. */
    if (cnv__fetch_add_relaxed(&v->counter_count, 1) >= v->cfg.max_counters) {
      cnv__fetch_sub_relaxed(&v->counter_count, 1); /* relaxed: gives back the reservation */
      delegate_release(d);
      return CNV_EDELEG_COUNTERS_FULL;
    }
    cnv__deleg_counter *c = counter_new(ch, i, d);
    struct cds_lfht_node *n = c ? cds_lfht_add_unique(v->counters, h, counter_match, ch->hash[i], &c->node) : NULL;
    if (c && n == &c->node) {
      *out = c;
      return CNV_OK;
    }
    free(c);                                      /* NULL, or lost a race and never published */
    cnv__fetch_sub_relaxed(&v->counter_count, 1); /* relaxed: gives back the reservation */
    delegate_release(d);
    if (!c) return CNV_ENOMEM;
    take_result r = take_one(counter_of(n));
    if (r == TAKEN) {
      *out = counter_of(n);
      return CNV_OK;
    }
    if (r == AT_LIMIT) return CNV_EDELEG_USES_EXHAUSTED;
    /* GONE: the winner's counter was reclaimed meanwhile; start over */
  }
}

cnv_status cnv__deleg_counters_take(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_deleg_error *err) {
  cnv__deleg_counter *ctr[CNV_DELEG_MAX_LINKS] = {0};
  cnv_status st = CNV_OK;
  int32_t bad = -1;
  urcu_bp_read_lock();
  /* Existing counters, leaf first: its limit is the smallest, so racing users of one token
   * fail there and never hold a transient reservation on a shared ancestor. */
  for (int32_t i = c->n_links - 1; i >= 0 && st == CNV_OK; i--) {
    if (c->max_uses[i] == CNV_DELEG_UNLIMITED_USES) continue;
    if (c->max_uses[i] == 0) { /* never usable: no counter is ever made for it */
      st = CNV_EDELEG_USES_EXHAUSTED;
      bad = i;
      break;
    }
    struct cds_lfht_iter it;
    cds_lfht_lookup(v->counters, key_hash(v, c->hash[i]), counter_match, c->hash[i], &it);
    struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
    take_result r = n ? take_one(counter_of(n)) : GONE;
    if (r == TAKEN) ctr[i] = counter_of(n);
    if (r == AT_LIMIT) {
      st = CNV_EDELEG_USES_EXHAUSTED;
      bad = i;
    }
  }
  /* Missing ones, root first: an ancestor's failure comes before a descendant's counter is
   * made. A full table or share sweeps (when useful) and tries once more. */
  for (int32_t i = 0; i < c->n_links && st == CNV_OK; i++) {
    if (c->max_uses[i] == CNV_DELEG_UNLIMITED_USES || ctr[i]) continue;
    st = counter_create(v, c, i, &ctr[i], &bad);
    if (st == CNV_EDELEG_COUNTERS_FULL && sweep_if_useful(v)) st = counter_create(v, c, i, &ctr[i], &bad);
  }
  /* Every use is taken: check again, after the takes, that no counter of this call may have
   * replaced a reclaimed one. A call can pass may_create, stall, and insert its counter after a
   * racing call spent the old counter's uses and a purge reclaimed it; a third call can take a
   * use from that new counter without any creation check. The reclaimer raised the clock (or
   * the revocation was inserted) before it marked and unlinked the old counter, and our insert
   * or lookup of the new one comes after that unlink, so with the full barrier below the
   * re-check sees the raised clock or the revocation and this call gives its uses back. */
  if (st == CNV_OK) {
    cmm_smp_mb(); /* liburcu's full barrier: the takes above before the reads in may_create */
    for (int32_t i = 0; i < c->n_links && st == CNV_OK; i++) {
      if (ctr[i]) st = may_create(v, c, i, &bad);
    }
  }
  if (st != CNV_OK) {
    for (int32_t i = 0; i < c->n_links; i++) {
      if (ctr[i]) give_back(v, ctr[i]);
    }
    if (err) *err = (cnv_deleg_error){.link = bad, .offset = 0};
  }
  urcu_bp_read_unlock();
  return st;
}

size_t cnv_deleg_counters_purge(cnv_deleg_verifier *v, uint64_t now) {
  if (!v) return 0;
  uint64_t cur = cnv__load_relaxed(&v->reclaim_now);
  /* acq_rel: the release half orders the raised clock before the reclaiming CASes below
   * (themselves release), for may_create's acquire. The clock only moves forward. */
  while (cur < now && !cnv__cas_weak(&v->reclaim_now, &cur, now, memory_order_acq_rel, memory_order_relaxed)) {
  }
  urcu_bp_read_lock();
  /* acquire: the clock as raised by us or a racing purge with a later `now`. */
  size_t dropped = sweep(v, cnv__load_acquire(&v->reclaim_now));
  urcu_bp_read_unlock();
  return dropped;
}

size_t cnv_deleg_counter_count(const cnv_deleg_verifier *v) {
  /* relaxed: a statistic; no data is read through it. */
  return v ? cnv__load_relaxed(&v->counter_count) : 0;
}
