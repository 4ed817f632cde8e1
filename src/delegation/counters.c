/* Use counters: one per use-limited link, keyed by link hash, shared by every token that
 * contains the link, so a link's limit holds across all its descendants. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "core/atomic.h"
#include "deleg.h"

static int counter_match(struct cds_lfht_node *node, const void *key) {
  cnv__deleg_counter *c = (cnv__deleg_counter *)(void *)((char *)node - offsetof(cnv__deleg_counter, node));
  /* acquire: pairs with the release in counter_new; orders init before these reads. */
  if (!cnv__load_acquire(&c->published)) return 0;
  return memcmp(c->hash, key, CNV_DELEG_HASH_BYTES) == 0;
}

static cnv__deleg_counter *counter_new(const uint8_t hash[32], uint32_t max) {
  /* sizeof is a multiple of the cache line (aligned members), as aligned_alloc wants. */
  cnv__deleg_counter *c = aligned_alloc(CNV_CACHELINE, sizeof *c);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  memcpy(c->hash, hash, CNV_DELEG_HASH_BYTES);
  c->max = max;
  cds_lfht_node_init(&c->node);
  /* release: publishes hash and max to readers that acquire `published`. */
  cnv__store_release(&c->published, 1u);
  return c;
}

cnv_status cnv__deleg_counter_get(cnv_deleg_verifier *v, const uint8_t hash[32], uint32_t max,
                                  cnv__deleg_counter **out) {
  unsigned long h = (unsigned long)XXH3_64bits_withSeed(hash, CNV_DELEG_HASH_BYTES, v->seed);
  struct cds_lfht_iter it;
  cds_lfht_lookup(v->counters, h, counter_match, hash, &it);
  struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
  if (!n) {
    /* relaxed: the count only bounds memory; no data is published through it. */
    if (cnv__fetch_add_relaxed(&v->counter_count, 1) >= v->cfg.max_counters) {
      /* relaxed: gives back our reservation; the count publishes nothing. */
      cnv__fetch_sub_relaxed(&v->counter_count, 1);
      return CNV_EDELEG_COUNTERS_FULL;
    }
    cnv__deleg_counter *c = counter_new(hash, max);
    if (!c) {
      /* relaxed: gives back our reservation; the count publishes nothing. */
      cnv__fetch_sub_relaxed(&v->counter_count, 1);
      return CNV_ENOMEM;
    }
    n = cds_lfht_add_unique(v->counters, h, counter_match, hash, &c->node);
    if (n != &c->node) { /* lost a race: the winner's counter is the one */
      free(c);
      /* relaxed: gives back our reservation; the count publishes nothing. */
      cnv__fetch_sub_relaxed(&v->counter_count, 1);
    }
  }
  *out = (cnv__deleg_counter *)(void *)((char *)n - offsetof(cnv__deleg_counter, node));
  return CNV_OK;
}

/* Takes one use unless the counter is at its limit. */
static bool take_one(cnv__deleg_counter *c) {
  unsigned cur = cnv__load_relaxed(&c->used);
  do {
    if (cur >= c->max) return false;
    /* relaxed: the count is the only datum; each CAS is an atomic read-modify-write on it,
     * so no two takers can both move it from the same value: it never exceeds max. */
  } while (!cnv__cas_weak(&c->used, &cur, cur + 1, memory_order_relaxed, memory_order_relaxed));
  return true;
}

static cnv_status counters_find(cnv_deleg_verifier *v, const cnv__deleg_chain *c,
                                cnv__deleg_counter *ctr[CNV_DELEG_MAX_LINKS], cnv_deleg_error *err) {
  cnv_status st = CNV_OK;
  urcu_bp_read_lock();
  for (int32_t i = 0; i < c->n_links && st == CNV_OK; i++) {
    ctr[i] = NULL;
    if (c->max_uses[i] == CNV_DELEG_UNLIMITED_USES) continue;
    st = cnv__deleg_counter_get(v, c->hash[i], c->max_uses[i], &ctr[i]);
    if (st != CNV_OK && err) *err = (cnv_deleg_error){.link = i, .offset = 0};
  }
  urcu_bp_read_unlock();
  return st;
}

cnv_status cnv__deleg_counters_take(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_deleg_error *err) {
  cnv__deleg_counter *ctr[CNV_DELEG_MAX_LINKS];
  cnv_status st = counters_find(v, c, ctr, err);
  if (st != CNV_OK) return st;
  /* Leaf first: its limit is the smallest, so racing users of one token fail there and
   * never hold a transient reservation on a shared ancestor. */
  for (int32_t i = c->n_links - 1; i >= 0; i--) {
    if (!ctr[i] || take_one(ctr[i])) continue;
    for (int32_t j = i + 1; j < c->n_links; j++) {
      /* acq_rel on the rare rollback: gives back a reservation taken above. */
      if (ctr[j]) cnv__fetch_sub_acq_rel(&ctr[j]->used, 1u);
    }
    if (err) *err = (cnv_deleg_error){.link = i, .offset = 0};
    return CNV_EDELEG_USES_EXHAUSTED;
  }
  return CNV_OK;
}
