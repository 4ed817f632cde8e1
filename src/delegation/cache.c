/* Verified-chain cache (liburcu lock-free hash table keyed by the token's bytes, bounded in
 * bytes, CLOCK eviction, per-holder share), the negative cache (a fixed array of seqlocked
 * 2-way sets) and the public verification entry points.
 * Hot path: one seeded XXH3-64 of the token, one lookup, one acquire load of the policy
 * epoch, then the per-request checks. A replayed rejection: one keyed XXH3-128 of the token,
 * two slot reads, the cheap checks. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "core/atomic.h"
#include "deleg.h"

typedef struct cache_key {
  const uint8_t *buf;
  size_t len;
} cache_key;

/* ---- statistics ---------------------------------------------------------------------- */

static cnv__deleg_stripe *stripe(cnv_deleg_verifier *v) {
  static atomic_uint next;
  static _Thread_local unsigned idx; /* 0: not assigned yet; else stripe + 1 */
  /* relaxed: only spreads threads over stripes; no data is published through it. */
  if (!idx) idx = cnv__fetch_add_relaxed(&next, 1u) % CNV__DELEG_STRIPES + 1;
  return &v->stripes[idx - 1];
}

/* relaxed: statistics; no data is read through them. */
#define STAT_ADD(v, field) cnv__fetch_add_relaxed(&stripe(v)->field, 1u)

/* ---- positive cache: entries, CLOCK ring, shares ------------------------------------- */

static cnv__deleg_entry *entry_of(struct cds_lfht_node *n) {
  return (cnv__deleg_entry *)(void *)((char *)n - offsetof(cnv__deleg_entry, node));
}

static int entry_match(struct cds_lfht_node *node, const void *key) {
  const cnv__deleg_entry *e = entry_of(node);
  const cache_key *k = key;
  /* acquire: pairs with the release in cache_insert; the entry's bytes and chain are
   * initialized before we read them. */
  if (!cnv__load_acquire(&e->published)) return 0;
  return e->len == k->len && memcmp(e->bytes, k->buf, k->len) == 0;
}

static void entry_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_entry, rcu));
}

/* Adds size to *p unless that would pass max. */
static bool reserve(_Atomic uint64_t *p, uint64_t size, uint64_t max) {
  /* relaxed: a single-location bound; the CAS makes concurrent reservations add up, so the
   * sum never passes max. No data is published through it. */
  uint64_t cur = cnv__load_relaxed(p);
  do {
    if (size > max || cur > max - size) return false;
  } while (!cnv__cas_weak(p, &cur, cur + size, memory_order_relaxed, memory_order_relaxed));
  return true;
}

/* Gives back what e charged: its share, the cache's bytes and its count. */
static void entry_unaccount(cnv_deleg_verifier *v, const cnv__deleg_entry *e) {
  /* relaxed: memory bounds only; reclamation is ordered by the grace period. */
  cnv__fetch_sub_relaxed(&v->shares[e->share], (uint64_t)e->size);
  cnv__fetch_sub_relaxed(&v->cache_bytes, (uint64_t)e->size);
  cnv__fetch_sub_relaxed(&v->cache_count, 1);
}

/* The caller won cds_lfht_del(e) (RCU read lock held): it alone owns e's ring slot now.
 * Hands the slot to `next` (NULL: frees it), gives back e's charge, frees e after a grace period. */
static void entry_retire(cnv_deleg_verifier *v, cnv__deleg_entry *e, cnv__deleg_entry *next) {
  /* release: a sweeping hand that loads `next` (acquire) sees it initialized. */
  cnv__store_release(&v->ring[e->slot], next);
  entry_unaccount(v, e);
  urcu_bp_call_rcu(&e->rcu, entry_free_rcu);
}

/* Unlinks e (RCU read lock held); frees it after a grace period. */
static bool cache_drop(cnv_deleg_verifier *v, cnv__deleg_entry *e) {
  if (cds_lfht_del(v->cache, &e->node) != 0) return false; /* another thread dropped it */
  entry_retire(v, e, NULL);
  return true;
}

/* One step of the CLOCK hand (RCU read lock held). A free slot goes to `mine` (if any); a
 * referenced entry loses its bit; an unreferenced one is evicted and its slot goes to
 * `mine`. Returns true when `mine` got the slot. */
static bool clock_step(cnv_deleg_verifier *v, cnv__deleg_entry *mine) {
  /* relaxed: the hand only spreads the sweep; slots are claimed by CAS below. */
  uint32_t i = (uint32_t)(cnv__fetch_add_relaxed(&v->hand, 1u) % v->ring_slots);
  /* acquire: pairs with the release stores and CAS of ring slots; cur is initialized. */
  cnv__deleg_entry *cur = cnv__load_acquire(&v->ring[i]);
  if (!cur) {
    if (!mine) return false;
    mine->slot = i;
    /* acq_rel: publishes mine's initialization to the hand of other threads. */
    return cnv__cas_strong(&v->ring[i], &cur, mine, memory_order_acq_rel, memory_order_relaxed);
  }
  /* acquire: pairs with the release in cache_insert; cur is linked in the table. */
  if (!cnv__load_acquire(&cur->in_table)) return false; /* still being inserted */
  /* relaxed: the bit is a hint; a lost set only makes an entry look one sweep colder. */
  if (cnv__load_relaxed(&cur->ref)) {
    cnv__store_relaxed(&cur->ref, 0u);
    return false;
  }
  if (cds_lfht_del(v->cache, &cur->node) != 0) return false; /* dropped meanwhile */
  if (mine) mine->slot = i;
  entry_retire(v, cur, mine);
  STAT_ADD(v, evictions);
  return mine != NULL;
}

static uint32_t share_of(const cnv_deleg_verifier *v, const uint8_t holder[CNV_DELEG_KEY_BYTES]) {
  return (uint32_t)(XXH3_64bits_withSeed(holder, CNV_DELEG_KEY_BYTES, ~v->seed) % CNV__DELEG_SHARE_BUCKETS);
}

/* Caches a verified chain unless its holder is over its share, or no room can be made
 * within two sweeps of the ring. Bytes are reserved before the entry exists, so the cache's
 * bytes never pass cache_max_bytes. */
static void cache_insert(cnv_deleg_verifier *v, const cache_key *k, unsigned long h,
                         const cnv__deleg_chain *c, uint64_t epoch) {
  if (!v->ring_slots) return;
  uint64_t size = sizeof(cnv__deleg_entry) + k->len;
  uint32_t share = share_of(v, c->holder);
  if (!reserve(&v->shares[share], size, v->share_max)) return; /* over its share: stays cold */
  cnv__deleg_entry *e = malloc((size_t)size);
  if (!e) {
    /* relaxed: gives back the reservation; the count publishes nothing. */
    cnv__fetch_sub_relaxed(&v->shares[share], size);
    return;
  }
  e->len = (uint32_t)k->len;
  e->size = (uint32_t)size;
  e->share = share;
  memcpy(e->bytes, k->buf, k->len);
  e->chain = *c;
  atomic_init(&e->epoch, epoch);
  atomic_init(&e->ref, 0u); /* a new entry is the first candidate until it is used again */
  atomic_init(&e->in_table, 0u);
  cds_lfht_node_init(&e->node);
  atomic_init(&e->published, 0u);
  uint64_t limit = 2 * (uint64_t)v->ring_slots + 2, steps = 0;
  urcu_bp_read_lock();
  bool have_bytes = false, placed = false;
  while (!have_bytes && steps++ < limit) {
    have_bytes = reserve(&v->cache_bytes, size, v->cfg.cache_max_bytes);
    if (!have_bytes) (void)clock_step(v, NULL); /* evicts the next cold entry */
  }
  while (have_bytes && !placed && steps++ < limit) placed = clock_step(v, e);
  if (!placed) {
    /* relaxed: gives back the reservations; the counts publish nothing. */
    if (have_bytes) cnv__fetch_sub_relaxed(&v->cache_bytes, size);
    urcu_bp_read_unlock();
    cnv__fetch_sub_relaxed(&v->shares[share], size);
    free(e); /* never in the ring nor the table: nobody else saw it */
    return;
  }
  /* relaxed: the count is a statistic; taken before linking so a racing drop never wraps it. */
  cnv__fetch_add_relaxed(&v->cache_count, 1);
  /* release: orders everything above, the slot index included, before a reader's acquire in
   * entry_match (and so before any thread that finds e in the table drops it). */
  cnv__store_release(&e->published, 1u);
  struct cds_lfht_node *got = cds_lfht_add_unique(v->cache, h, entry_match, k, &e->node);
  if (got != &e->node) { /* the same token was cached meanwhile; ours is only in the ring */
    /* release: as in entry_retire. */
    cnv__store_release(&v->ring[e->slot], NULL);
    entry_unaccount(v, e);
    urcu_bp_call_rcu(&e->rcu, entry_free_rcu); /* a sweeping hand may be reading it */
  } else {
    /* release: the sweeping hand evicts e only once it is linked (acquire in clock_step). */
    cnv__store_release(&e->in_table, 1u);
  }
  urcu_bp_read_unlock();
}

/* ---- negative cache ------------------------------------------------------------------ */

enum neg_kind {
  NEG_EMPTY = 0,
  NEG_DECODE = 1,  /* encoding error: depends on the bytes only */
  NEG_POLICY = 2,  /* untrusted root or revoked link, at `epoch` */
  NEG_REQUEST = 3, /* policy passed at `epoch`; a window check failed; signatures not checked */
  NEG_STATIC = 4,  /* policy and window passed; the static pass failed with status/link */
};

typedef struct neg_rec {
  uint64_t key_lo, key_hi; /* keyed XXH3-128 of the token */
  uint64_t epoch;
  uint64_t stamp; /* insertion order: the older way of a set is replaced */
  uint32_t len;
  int32_t status;
  int32_t link;
  uint32_t offset;
  uint8_t kind;
  uint8_t n_links;
  uint8_t pad[6];
  uint64_t not_before[CNV_DELEG_MAX_LINKS];
  uint64_t expiry[CNV_DELEG_MAX_LINKS];
  uint64_t swarm[CNV_DELEG_MAX_LINKS];
  uint8_t holder[CNV_DELEG_KEY_BYTES];
} neg_rec;

_Static_assert(sizeof(neg_rec) <= CNV__DELEG_NEG_WORDS * sizeof(uint64_t), "negative record fits its slot");

typedef struct neg_key {
  uint64_t lo, hi;
  uint32_t len;
} neg_key;

static neg_key neg_key_of(const cnv_deleg_verifier *v, const uint8_t *buf, size_t len) {
  XXH128_hash_t h = XXH3_128bits_withSecret(buf, len, v->neg_secret, sizeof v->neg_secret);
  return (neg_key){.lo = h.low64, .hi = h.high64, .len = (uint32_t)len};
}

/* Seqlock read: false when the slot was being written (then it is just a miss). No fences
 * (ThreadSanitizer does not model them): the word loads are acquire, so the re-read of seq
 * cannot move before them, and a word a later writer stored (release, after its odd seq)
 * makes that re-read see the odd or a newer seq. On x86-64 these are plain moves. */
static bool neg_read(cnv__deleg_neg_slot *s, neg_rec *r) {
  /* acquire: pairs with the writer's final release store of seq. */
  uint64_t s1 = cnv__load_acquire(&s->seq);
  if (s1 & 1u) return false;
  uint64_t w[CNV__DELEG_NEG_WORDS];
  /* acquire: see above; orders each word load before the re-read of seq. */
  for (size_t i = 0; i < CNV__DELEG_NEG_WORDS; i++) w[i] = cnv__load_acquire(&s->w[i]);
  /* relaxed: ordered after the acquire loads above. */
  if (cnv__load_relaxed(&s->seq) != s1) return false;
  memcpy(r, w, sizeof *r);
  return true;
}

/* Seqlock write; skipped when another writer holds the slot (it is a cache). */
static void neg_write(cnv__deleg_neg_slot *s, const neg_rec *r) {
  uint64_t cur = cnv__load_relaxed(&s->seq);
  if (cur & 1u) return;
  /* relaxed CAS: the release stores of the words below order it before them. */
  if (!cnv__cas_strong(&s->seq, &cur, cur + 1, memory_order_relaxed, memory_order_relaxed)) return;
  uint64_t w[CNV__DELEG_NEG_WORDS] = {0};
  memcpy(w, r, sizeof *r);
  /* release: orders the odd seq before each word (see neg_read). */
  for (size_t i = 0; i < CNV__DELEG_NEG_WORDS; i++) cnv__store_release(&s->w[i], w[i]);
  /* release: a reader that acquires the even seq sees every word above. */
  cnv__store_release(&s->seq, cur + 2);
}

static cnv__deleg_neg_slot *neg_set(const cnv_deleg_verifier *v, const neg_key *k) {
  return &v->neg[(k->lo & (v->neg_sets - 1)) * 2];
}

static bool neg_find(const cnv_deleg_verifier *v, const neg_key *k, neg_rec *r) {
  cnv__deleg_neg_slot *set = neg_set(v, k);
  for (int way = 0; way < 2; way++) {
    if (neg_read(&set[way], r) && r->kind != NEG_EMPTY && r->key_lo == k->lo && r->key_hi == k->hi &&
        r->len == k->len) {
      return true;
    }
  }
  return false;
}

static void neg_insert(cnv_deleg_verifier *v, const neg_key *k, neg_rec *r) {
  if (!v->neg_sets) return;
  r->key_lo = k->lo;
  r->key_hi = k->hi;
  r->len = k->len;
  /* relaxed: an ordering hint for replacement only. */
  r->stamp = cnv__fetch_add_relaxed(&v->neg_stamp, 1u) + 1;
  cnv__deleg_neg_slot *set = neg_set(v, k);
  neg_rec old[2];
  int victim = 0;
  for (int way = 0; way < 2; way++) {
    if (!neg_read(&set[way], &old[way])) old[way] = (neg_rec){.kind = NEG_EMPTY, .stamp = UINT64_MAX};
    if (old[way].kind != NEG_EMPTY && old[way].key_lo == k->lo && old[way].key_hi == k->hi) {
      old[way].stamp = 0; /* the same token: replace its record */
    } else if (old[way].kind == NEG_EMPTY) {
      old[way].stamp = 0;
    }
  }
  victim = old[1].stamp < old[0].stamp ? 1 : 0;
  neg_write(&set[victim], r);
}

/* Answers from a negative record when it decides the request exactly as a full verification
 * would; false: verify in full. */
static bool neg_decide(cnv_deleg_verifier *v, const neg_rec *r, const cnv_deleg_request *req, cnv_status *st,
                       cnv_deleg_error *err) {
  if (r->kind == NEG_DECODE) {
    if (err) *err = (cnv_deleg_error){.link = r->link, .offset = r->offset};
    *st = r->status;
    return true;
  }
  /* acquire: as in cached_check; a record of an older epoch is not trusted. */
  if (r->epoch != cnv__load_acquire(&v->epoch)) return false;
  if (r->kind == NEG_POLICY) {
    if (err) *err = (cnv_deleg_error){.link = r->link, .offset = 0};
    *st = r->status;
    return true;
  }
  cnv_status w = cnv__deleg_check_window(v->cfg.skew, r->n_links, r->not_before, r->expiry, r->swarm, r->holder,
                                         req, err);
  if (w != CNV_OK) {
    *st = w;
    return true;
  }
  if (r->kind != NEG_STATIC) return false; /* the window passes now: the signatures decide */
  if (err) *err = (cnv_deleg_error){.link = r->link, .offset = 0};
  *st = r->status;
  return true;
}

static void neg_summary(neg_rec *r, const cnv__deleg_chain *c, uint64_t epoch) {
  r->epoch = epoch;
  r->n_links = c->n_links;
  memcpy(r->not_before, c->not_before, sizeof r->not_before);
  memcpy(r->expiry, c->expiry, sizeof r->expiry);
  memcpy(r->swarm, c->swarm, sizeof r->swarm);
  memcpy(r->holder, c->holder, sizeof r->holder);
}

/* ---- verification -------------------------------------------------------------------- */

/* Fills *learn (may be NULL): the chain c is valid and its policy held at epoch. */
static void learned(cnv__deleg_learned *learn, const cnv__deleg_chain *c, uint64_t epoch) {
  if (!learn) return;
  learn->valid = true;
  learn->epoch = epoch;
  learn->chain = *c;
}

/* A cached chain: re-checks trust and revocation only when the policy epoch moved. */
static cnv_status cached_check(cnv_deleg_verifier *v, cnv__deleg_entry *e, const cnv_deleg_request *req,
                               cnv_deleg_error *err, cnv__deleg_learned *learn) {
  /* acquire: pairs with bump_epoch's release; seeing epoch E means every revocation or
   * trust change counted in E is visible to the re-check below. */
  uint64_t now_epoch = cnv__load_acquire(&v->epoch);
  /* relaxed: e->epoch is only compared; a stale value just causes one more re-check. */
  if (cnv__load_relaxed(&e->epoch) != now_epoch) {
    cnv_status st = cnv__deleg_chain_policy(v, &e->chain, err);
    if (st != CNV_OK) return st;
    cnv__store_relaxed(&e->epoch, now_epoch);
  }
  learned(learn, &e->chain, now_epoch);
  return cnv__deleg_chain_request(v, &e->chain, req, err);
}

static cnv_status finish(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_status st, bool take,
                         cnv_deleg_caveats *effective, cnv_deleg_error *err) {
  if (st == CNV_OK && take) st = cnv__deleg_counters_take(v, c, err);
  if (st == CNV_OK && effective) *effective = c->leaf;
  if (st == CNV_OK && err) *err = (cnv_deleg_error){.link = -1, .offset = 0};
  return st;
}

/* Full verification, cheapest checks first (docs/delegation.md#rules); a failure is
 * remembered in the negative cache, a chain that passes the static pass in the cache. */
static cnv_status verify_cold(cnv_deleg_verifier *v, const cache_key *k, const cnv_deleg_request *req, bool take,
                              cnv_deleg_caveats *effective, cnv_deleg_error *err, cnv__deleg_learned *learn) {
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  if (k->len > CNV_DELEG_MAX_TOKEN_BYTES) { /* never valid, never cached: the parser says why */
    return cnv__deleg_parse(k->buf, k->len, &tok, spans, err);
  }
  /* One private copy (F4): parse, signatures, hashes and the cache entries all read the same
   * bytes, so a caller's buffer changing meanwhile cannot mix signed and unsigned bytes. */
  uint8_t copy[CNV_DELEG_MAX_TOKEN_BYTES];
  memcpy(copy, k->buf, k->len);
  cache_key own = {.buf = copy, .len = k->len};
  neg_key nk = {0};
  if (v->neg_sets) nk = neg_key_of(v, copy, own.len);
  neg_rec r;
  memset(&r, 0, sizeof r);
  cnv_deleg_error e = {.link = -1, .offset = 0};
  cnv_status st = cnv__deleg_parse(copy, own.len, &tok, spans, &e);
  if (st != CNV_OK) {
    r.kind = NEG_DECODE;
  } else {
    cnv__deleg_chain c;
    cnv__deleg_chain_summary(&tok, copy, spans, &c);
    urcu_bp_read_lock();
    /* acquire: as in cached_check; the epoch read before the policy check is the one the
     * entries record, so a change racing with this check makes later lookups re-check. */
    uint64_t epoch = cnv__load_acquire(&v->epoch);
    st = cnv__deleg_chain_policy(v, &c, &e);
    urcu_bp_read_unlock();
    neg_summary(&r, &c, epoch);
    r.kind = NEG_POLICY;
    if (st == CNV_OK) {
      r.kind = NEG_REQUEST;
      st = cnv__deleg_check_window(v->cfg.skew, c.n_links, c.not_before, c.expiry, c.swarm, c.holder, req, &e);
    }
    if (st == CNV_OK) {
      r.kind = NEG_STATIC;
      st = cnv__deleg_chain_static(&tok, spans, copy, &c, &e);
    }
    if (st == CNV_OK) {
      cache_insert(v, &own, (unsigned long)XXH3_64bits_withSeed(copy, own.len, v->seed), &c, epoch);
      learned(learn, &c, epoch);
      st = cnv__deleg_chain_leaf(&c, req, &e);
      if (err) *err = e;
      return finish(v, &c, st, take, effective, err);
    }
  }
  r.status = st;
  r.link = e.link;
  r.offset = e.offset;
  neg_insert(v, &nk, &r);
  if (err) *err = e;
  return st;
}

static cnv_status verify_impl(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                              const cnv_deleg_request *req, bool take, cnv_deleg_caveats *effective,
                              cnv_deleg_error *err, cnv__deleg_learned *learn) {
  if (learn) learn->valid = false;
  if (!v || !token || !req) return CNV_EINVAL;
  /* Without the presenter's key any prefix of a chain verifies: its holder could cut links
   * off the end and gain the parent's authority. */
  if (!req->holder) {
    if (err) *err = (cnv_deleg_error){.link = -1, .offset = 0};
    return CNV_EDELEG_NO_HOLDER;
  }
  cache_key k = {.buf = token, .len = len};
  /* Longer than any token: never cached; the parser rejects it without hashing it all. */
  if (len <= CNV_DELEG_MAX_TOKEN_BYTES) {
    unsigned long h = (unsigned long)XXH3_64bits_withSeed(token, len, v->seed);
    struct cds_lfht_iter it;
    urcu_bp_read_lock();
    cds_lfht_lookup(v->cache, h, entry_match, &k, &it);
    struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
    if (n) {
      cnv__deleg_entry *e = entry_of(n);
      /* relaxed: the CLOCK bit is a hint; only set when clear, to keep the line shared. */
      if (!cnv__load_relaxed(&e->ref)) cnv__store_relaxed(&e->ref, 1u);
      STAT_ADD(v, hits);
      cnv_status st = cached_check(v, e, req, err, learn);
      if (st == CNV_EDELEG_EXPIRED) cache_drop(v, e); /* time only moves on: never valid again */
      st = finish(v, &e->chain, st, take, effective, err);
      urcu_bp_read_unlock();
      return st;
    }
    urcu_bp_read_unlock();
    if (v->neg_sets) {
      neg_key nk = neg_key_of(v, token, len);
      neg_rec r;
      cnv_status st;
      if (neg_find(v, &nk, &r) && neg_decide(v, &r, req, &st, err)) {
        STAT_ADD(v, negative_hits);
        return st;
      }
    }
  }
  STAT_ADD(v, misses);
  return verify_cold(v, &k, req, take, effective, err, learn);
}

cnv_status cnv_deleg_verify(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                            const cnv_deleg_request *req, cnv_deleg_caveats *effective,
                            cnv_deleg_error *err) {
  return verify_impl(v, token, len, req, false, effective, err, NULL);
}

cnv_status cnv_deleg_authorize(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                               const cnv_deleg_request *req, cnv_deleg_caveats *effective,
                               cnv_deleg_error *err) {
  return verify_impl(v, token, len, req, true, effective, err, NULL);
}

cnv_status cnv__deleg_verify_learn(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                                   const cnv_deleg_request *req, bool take, cnv_deleg_caveats *effective,
                                   cnv_deleg_error *err, cnv__deleg_learned *learn) {
  return verify_impl(v, token, len, req, take, effective, err, learn);
}

static bool entry_dead(cnv_deleg_verifier *v, const cnv__deleg_entry *e, uint64_t now) {
  for (uint8_t i = 0; i < e->chain.n_links; i++) {
    uint64_t end = e->chain.expiry[i] > UINT64_MAX - v->cfg.skew ? UINT64_MAX : e->chain.expiry[i] + v->cfg.skew;
    if (now > end) return true;
  }
  return cnv__deleg_chain_policy(v, &e->chain, NULL) != CNV_OK;
}

size_t cnv_deleg_cache_purge(cnv_deleg_verifier *v, uint64_t now) {
  if (!v) return 0;
  size_t dropped = 0;
  struct cds_lfht_iter it;
  urcu_bp_read_lock();
  for (cds_lfht_first(v->cache, &it); cds_lfht_iter_get_node(&it) != NULL; cds_lfht_next(v->cache, &it)) {
    cnv__deleg_entry *e = entry_of(cds_lfht_iter_get_node(&it));
    /* acquire: pairs with the release store of `published` in cache_insert, so the chain
     * entry_dead reads was fully written before it; in_table: the entry owns its slot. */
    if (cnv__load_acquire(&e->published) && cnv__load_acquire(&e->in_table) && entry_dead(v, e, now) &&
        cache_drop(v, e)) {
      dropped++;
    }
  }
  urcu_bp_read_unlock();
  return dropped;
}

size_t cnv_deleg_cache_size(const cnv_deleg_verifier *v) {
  /* relaxed: a statistic; no data is read through it. */
  return v ? cnv__load_relaxed(&v->cache_count) : 0;
}

cnv_status cnv_deleg_cache_stats_get(const cnv_deleg_verifier *v, cnv_deleg_cache_stats *out) {
  if (!v || !out) return CNV_EINVAL;
  *out = (cnv_deleg_cache_stats){0};
  /* relaxed: statistics; no data is read through them. */
  for (size_t i = 0; i < CNV__DELEG_STRIPES; i++) {
    out->hits += cnv__load_relaxed(&v->stripes[i].hits);
    out->misses += cnv__load_relaxed(&v->stripes[i].misses);
    out->negative_hits += cnv__load_relaxed(&v->stripes[i].negative_hits);
    out->evictions += cnv__load_relaxed(&v->stripes[i].evictions);
  }
  out->bytes = cnv__load_relaxed(&v->cache_bytes);
  out->entries = cnv__load_relaxed(&v->cache_count);
  out->max_bytes = v->cfg.cache_max_bytes;
  out->share_bytes = v->share_max;
  return CNV_OK;
}
