/* Verified-chain cache (liburcu lock-free hash table, keyed by the token's bytes) and the
 * public verification entry points. Hot path: one seeded XXH3-64 of the token, one lookup,
 * one acquire load of the policy epoch, then the per-request checks. */
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

/* Unlinks e (RCU read lock held); frees it after a grace period. */
static bool cache_drop(cnv_deleg_verifier *v, cnv__deleg_entry *e) {
  if (cds_lfht_del(v->cache, &e->node) != 0) return false; /* another thread dropped it */
  urcu_bp_call_rcu(&e->rcu, entry_free_rcu);
  /* relaxed: like the add in cache_insert, the count only bounds memory; the entry's
   * reclamation is ordered by the grace period, not by this count. */
  cnv__fetch_sub_relaxed(&v->cache_count, 1);
  return true;
}

static void cache_insert(cnv_deleg_verifier *v, const cache_key *k, unsigned long h,
                         const cnv__deleg_chain *c, uint64_t epoch) {
  /* relaxed: the count only bounds memory; entries are published by `published`. */
  if (cnv__fetch_add_relaxed(&v->cache_count, 1) >= v->cfg.cache_capacity) {
    /* relaxed: gives back our reservation; the count publishes nothing. */
    cnv__fetch_sub_relaxed(&v->cache_count, 1);
    return;
  }
  cnv__deleg_entry *e = malloc(sizeof *e + k->len);
  if (!e) {
    /* relaxed: gives back our reservation; the count publishes nothing. */
    cnv__fetch_sub_relaxed(&v->cache_count, 1);
    return;
  }
  e->len = (uint32_t)k->len;
  memcpy(e->bytes, k->buf, k->len);
  e->chain = *c;
  atomic_init(&e->epoch, epoch);
  cds_lfht_node_init(&e->node);
  /* release: orders everything above before a reader's acquire in entry_match. */
  atomic_init(&e->published, 0u);
  cnv__store_release(&e->published, 1u);
  urcu_bp_read_lock();
  struct cds_lfht_node *got = cds_lfht_add_unique(v->cache, h, entry_match, k, &e->node);
  urcu_bp_read_unlock();
  if (got != &e->node) { /* the same token was cached meanwhile; ours was never seen */
    free(e);
    /* relaxed: gives back our reservation; the count publishes nothing. */
    cnv__fetch_sub_relaxed(&v->cache_count, 1);
  }
}

/* A cached chain: re-checks trust and revocation only when the policy epoch moved. */
static cnv_status cached_check(cnv_deleg_verifier *v, cnv__deleg_entry *e,
                               const cnv_deleg_request *req, cnv_deleg_error *err) {
  /* acquire: pairs with bump_epoch's release; seeing epoch E means every revocation or
   * trust removal counted in E is visible to the re-check below. */
  uint64_t now_epoch = cnv__load_acquire(&v->epoch);
  /* relaxed: e->epoch is only compared; a stale value just causes one more re-check. */
  if (cnv__load_relaxed(&e->epoch) != now_epoch) {
    cnv_status st = cnv__deleg_chain_policy(v, &e->chain, err);
    if (st != CNV_OK) return st;
    cnv__store_relaxed(&e->epoch, now_epoch);
  }
  return cnv__deleg_chain_request(v, &e->chain, req, err);
}

static cnv_status finish(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_status st, bool take,
                         cnv_deleg_caveats *effective, cnv_deleg_error *err) {
  if (st == CNV_OK && take) st = cnv__deleg_counters_take(v, c, err);
  if (st == CNV_OK && effective) *effective = c->leaf;
  if (st == CNV_OK && err) *err = (cnv_deleg_error){.link = -1, .offset = 0};
  return st;
}

static cnv_status verify_cold(cnv_deleg_verifier *v, const cache_key *k, unsigned long h,
                              const cnv_deleg_request *req, bool take,
                              cnv_deleg_caveats *effective, cnv_deleg_error *err) {
  /* One private copy (F4): parse, signatures, hashes and the cache entry all read the same
   * bytes, so a caller's buffer changing meanwhile cannot mix signed and unsigned bytes.
   * Longer inputs are never valid and are rejected by the parser on the caller's bytes. */
  uint8_t copy[CNV_DELEG_MAX_TOKEN_BYTES];
  cache_key own = *k;
  if (k->len <= sizeof copy) {
    memcpy(copy, k->buf, k->len);
    own.buf = copy;
    h = (unsigned long)XXH3_64bits_withSeed(copy, k->len, v->seed); /* of the bytes cached */
  }
  k = &own;
  cnv__deleg_chain c;
  cnv_status st = cnv__deleg_chain_build(v, k->buf, k->len, &c, err);
  if (st != CNV_OK) return st;
  urcu_bp_read_lock();
  /* acquire: as in cached_check; the epoch read before the policy check is the one the
   * entry records, so a change racing with this check makes later lookups re-check. */
  uint64_t epoch = cnv__load_acquire(&v->epoch);
  cnv_status policy = cnv__deleg_chain_policy(v, &c, err);
  st = policy == CNV_OK ? cnv__deleg_chain_request(v, &c, req, err) : policy;
  urcu_bp_read_unlock();
  if (policy == CNV_OK && st != CNV_EDELEG_EXPIRED && v->cfg.cache_capacity) {
    cache_insert(v, k, h, &c, epoch);
  }
  return finish(v, &c, st, take, effective, err);
}

static cnv_status verify_impl(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                              const cnv_deleg_request *req, bool take,
                              cnv_deleg_caveats *effective, cnv_deleg_error *err) {
  if (!v || !token || !req) return CNV_EINVAL;
  /* Without the presenter's key any prefix of a chain verifies: its holder could cut links
   * off the end and gain the parent's authority. */
  if (!req->holder) {
    if (err) *err = (cnv_deleg_error){.link = -1, .offset = 0};
    return CNV_EDELEG_NO_HOLDER;
  }
  cache_key k = {.buf = token, .len = len};
  /* Longer than any token: never cached; the parser rejects it without hashing it all. */
  if (len > CNV_DELEG_MAX_TOKEN_BYTES) return verify_cold(v, &k, 0, req, take, effective, err);
  unsigned long h = (unsigned long)XXH3_64bits_withSeed(token, len, v->seed);
  struct cds_lfht_iter it;
  urcu_bp_read_lock();
  cds_lfht_lookup(v->cache, h, entry_match, &k, &it);
  struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
  if (n) {
    cnv__deleg_entry *e = entry_of(n);
    cnv_status st = cached_check(v, e, req, err);
    if (st == CNV_EDELEG_EXPIRED) cache_drop(v, e); /* time only moves on: never valid again */
    st = finish(v, &e->chain, st, take, effective, err);
    urcu_bp_read_unlock();
    return st;
  }
  urcu_bp_read_unlock();
  return verify_cold(v, &k, h, req, take, effective, err);
}

cnv_status cnv_deleg_verify(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                            const cnv_deleg_request *req, cnv_deleg_caveats *effective,
                            cnv_deleg_error *err) {
  return verify_impl(v, token, len, req, false, effective, err);
}

cnv_status cnv_deleg_authorize(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                               const cnv_deleg_request *req, cnv_deleg_caveats *effective,
                               cnv_deleg_error *err) {
  return verify_impl(v, token, len, req, true, effective, err);
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
     * entry_dead reads was fully written before it. */
    if (cnv__load_acquire(&e->published) && entry_dead(v, e, now) && cache_drop(v, e)) dropped++;
  }
  urcu_bp_read_unlock();
  return dropped;
}

size_t cnv_deleg_cache_size(const cnv_deleg_verifier *v) {
  /* relaxed: a statistic; no data is read through it. */
  return v ? cnv__load_relaxed(&v->cache_count) : 0;
}
