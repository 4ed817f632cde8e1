/* Verifier lifetime, trust store and revocation set (read-mostly liburcu hash tables). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <xxhash.h>

#include "core/atomic.h"
#include "deleg.h"

void cnv_deleg_config_default(cnv_deleg_config *cfg) {
  if (!cfg) return;
  *cfg = (cnv_deleg_config){.skew = 30,
                            .cache_capacity = 65536,
                            .max_counters = 65536,
                            .max_counters_per_delegate = 4096,
                            .cache_max_bytes = UINT64_C(64) << 20,
                            .cache_max_share = 12,
                            .neg_cache_slots = 4096};
}

static cnv__deleg_key_node *key_node_of(struct cds_lfht_node *n) {
  return (cnv__deleg_key_node *)(void *)((char *)n - offsetof(cnv__deleg_key_node, node));
}

static int key_match(struct cds_lfht_node *node, const void *key) {
  cnv__deleg_key_node *k = key_node_of(node);
  /* acquire: pairs with the release in key_insert, so the key bytes are initialized
   * before we read them (also what lets ThreadSanitizer see liburcu's publication). */
  if (!cnv__load_acquire(&k->published)) return 0;
  return memcmp(k->key, key, CNV_DELEG_HASH_BYTES) == 0;
}

static unsigned long key_hash(const cnv_deleg_verifier *v, const uint8_t key[32]) {
  return (unsigned long)XXH3_64bits_withSeed(key, CNV_DELEG_HASH_BYTES, v->seed);
}

bool cnv__deleg_key_present(const cnv_deleg_verifier *v, struct cds_lfht *t, const uint8_t key[32]) {
  struct cds_lfht_iter it;
  cds_lfht_lookup(t, key_hash(v, key), key_match, key, &it);
  return cds_lfht_iter_get_node(&it) != NULL;
}

/* Adds key to t unless present. CNV_OK either way, or CNV_ENOMEM. */
static cnv_status key_insert(cnv_deleg_verifier *v, struct cds_lfht *t, const uint8_t key[32]) {
  cnv__deleg_key_node *k = calloc(1, sizeof *k);
  if (!k) return CNV_ENOMEM;
  memcpy(k->key, key, CNV_DELEG_HASH_BYTES);
  cds_lfht_node_init(&k->node);
  /* release: orders the key bytes before any reader's acquire in key_match. */
  cnv__store_release(&k->published, 1u);
  urcu_bp_read_lock();
  struct cds_lfht_node *got = cds_lfht_add_unique(t, key_hash(v, key), key_match, key, &k->node);
  urcu_bp_read_unlock();
  if (got != &k->node) free(k); /* never published: nobody else can hold it */
  return CNV_OK;
}

static void key_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_key_node, rcu));
}

/* Makes a policy change visible to cached chains (they re-check trust and revocation) and to
 * negative records (those of an older epoch are ignored). */
static void bump_epoch(cnv_deleg_verifier *v) {
  /* acq_rel: the release half orders the table change before the new epoch, so a reader
   * that sees the new epoch (acquire) also sees the change when it re-checks. */
  cnv__fetch_add_acq_rel(&v->epoch, 1);
}

cnv_status cnv_deleg_trust_add(cnv_deleg_verifier *v, const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  if (!v || !pk) return CNV_EINVAL;
  if (!cnv__deleg_key_valid(pk)) return CNV_EDELEG_BAD_KEY;
  cnv_status st = key_insert(v, v->trust, pk);
  if (st == CNV_OK) bump_epoch(v); /* a rejection for an untrusted root may not hold any more */
  return st;
}

cnv_status cnv_deleg_trust_remove(cnv_deleg_verifier *v, const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  if (!v || !pk) return CNV_EINVAL;
  struct cds_lfht_iter it;
  cnv_status st = CNV_ENOTFOUND;
  urcu_bp_read_lock();
  cds_lfht_lookup(v->trust, key_hash(v, pk), key_match, pk, &it);
  struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
  if (n && cds_lfht_del(v->trust, n) == 0) {
    urcu_bp_call_rcu(&key_node_of(n)->rcu, key_free_rcu);
    st = CNV_OK;
  }
  urcu_bp_read_unlock();
  if (st == CNV_OK) bump_epoch(v);
  return st;
}

cnv_status cnv_deleg_revoke(cnv_deleg_verifier *v, const uint8_t hash[CNV_DELEG_HASH_BYTES]) {
  if (!v || !hash) return CNV_EINVAL;
  cnv_status st = key_insert(v, v->revoked, hash);
  if (st == CNV_OK) bump_epoch(v);
  return st;
}

static struct cds_lfht *new_table(void) {
  return cds_lfht_new_flavor(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
                             &urcu_bp_flavor, NULL);
}

/* Sizes the fixed parts from the configuration. */
static cnv_status fixed_parts(cnv_deleg_verifier *v) {
  const cnv_deleg_config *c = &v->cfg;
  bool cache_on = c->cache_capacity && c->cache_max_bytes;
  if (cache_on && (c->cache_max_share < 1 || c->cache_max_share > 100)) return CNV_ERANGE;
  if (cache_on) {
    v->ring_slots = c->cache_capacity;
    v->share_max = c->cache_max_bytes / 100 * c->cache_max_share + c->cache_max_bytes % 100 * c->cache_max_share / 100;
    v->ring = calloc(v->ring_slots, sizeof *v->ring);
    if (!v->ring) return CNV_ENOMEM;
  }
  v->shares = calloc(CNV__DELEG_SHARE_BUCKETS, sizeof *v->shares);
  if (!v->shares) return CNV_ENOMEM;
  if (c->neg_cache_slots >= 2) {
    uint32_t sets = 1;
    while (sets * 2 <= c->neg_cache_slots / 2) sets *= 2;
    v->neg = calloc((size_t)sets * 2, sizeof *v->neg);
    if (!v->neg) return CNV_ENOMEM;
    v->neg_sets = sets;
  }
  return CNV_OK;
}

cnv_status cnv_deleg_verifier_create(const cnv_deleg_config *cfg, cnv_deleg_verifier **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  cnv_deleg_verifier *v = aligned_alloc(CNV_CACHELINE, sizeof *v);
  if (!v) return CNV_ENOMEM;
  memset(v, 0, sizeof *v);
  cnv_deleg_config_default(&v->cfg);
  if (cfg) v->cfg = *cfg;
  randombytes_buf(&v->seed, sizeof v->seed);
  randombytes_buf(v->neg_secret, sizeof v->neg_secret);
  cnv_status st = fixed_parts(v);
  v->cache = new_table();
  v->revoked = new_table();
  v->trust = new_table();
  v->counters = new_table();
  v->delegates = new_table();
  if (st == CNV_OK && (!v->cache || !v->revoked || !v->trust || !v->counters || !v->delegates))
    st = CNV_ENOMEM;
  if (st != CNV_OK) {
    cnv_deleg_verifier_destroy(v);
    return st;
  }
  *out = v;
  return CNV_OK;
}

static void entry_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_entry, rcu));
}

static void counter_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_counter, rcu));
}

static void delegate_free_rcu(struct rcu_head *head) {
  free((char *)head - offsetof(cnv__deleg_delegate, rcu));
}

/* Unlinks every node of t (no caller-side reader may run) and frees each after a grace
 * period: liburcu's lazy resize worker (AUTO_RESIZE) may still walk unlinked nodes.
 * node_off / rcu_off: offsets of the cds_lfht_node and rcu_head inside the allocation. */
static void table_clear(struct cds_lfht *t, size_t node_off, size_t rcu_off,
                        void (*free_fn)(struct rcu_head *)) {
  if (!t) return;
  struct cds_lfht_iter it;
  urcu_bp_read_lock();
  for (cds_lfht_first(t, &it); cds_lfht_iter_get_node(&it) != NULL; cds_lfht_next(t, &it)) {
    struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
    if (cds_lfht_del(t, n) != 0) continue;
    char *base = (char *)n - node_off;
    urcu_bp_call_rcu((struct rcu_head *)(void *)(base + rcu_off), free_fn);
  }
  urcu_bp_read_unlock();
}

void cnv_deleg_verifier_destroy(cnv_deleg_verifier *v) {
  if (!v) return;
  /* Deferred frees (trust removal, cache eviction) must run before their tables go. */
  urcu_bp_barrier();
  table_clear(v->cache, offsetof(cnv__deleg_entry, node), offsetof(cnv__deleg_entry, rcu), entry_free_rcu);
  table_clear(v->revoked, offsetof(cnv__deleg_key_node, node), offsetof(cnv__deleg_key_node, rcu), key_free_rcu);
  table_clear(v->trust, offsetof(cnv__deleg_key_node, node), offsetof(cnv__deleg_key_node, rcu), key_free_rcu);
  table_clear(v->counters, offsetof(cnv__deleg_counter, node), offsetof(cnv__deleg_counter, rcu), counter_free_rcu);
  table_clear(v->delegates, offsetof(cnv__deleg_delegate, node), offsetof(cnv__deleg_delegate, rcu),
              delegate_free_rcu);
  /* Outside any read-side section: waits for the grace period and runs the frees above. */
  urcu_bp_barrier();
  struct cds_lfht *tables[] = {v->cache, v->revoked, v->trust, v->counters, v->delegates};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    if (tables[i]) cds_lfht_destroy(tables[i], NULL);
  }
  free(v->ring);
  free(v->shares);
  free(v->neg);
  free(v);
}
