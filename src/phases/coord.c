/* Coordinator: swarms in a liburcu lock-free hash table (bulletproof flavour: threads register themselves on first use). Readers and movers
 * take an RCU read-side section, never a lock; removal waits a grace period before free. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-bp.h>
#include <urcu/rculfhash.h>

#include "core/tsan.h"
#include "phases_internal.h"

/* ThreadSanitizer cannot see liburcu's orderings (its publish is uninstrumented inline asm
 * and grace periods use membarrier), so under TSan we state them: a node's initialization
 * happens-before lookups that find it, and every read-side section happens-before the free
 * that follows the grace period (core/tsan.h). */

struct cnv__coord_node {
  cnv_swarm sw; /* first: keeps the swarm cache-line aligned */
  struct cds_lfht_node node;
  uint64_t id;
};

struct cnv_coord {
  struct cds_lfht *ht;
  char grace; /* TSan sync address for read-side sections vs. frees */
  cnv_breaker_config breaker;
  cnv_observer *observer;
};

/* container_of through void *: the node sits inside a cache-line-aligned allocation. */
static struct cnv__coord_node *cnv__node_of(struct cds_lfht_node *node) {
  return (struct cnv__coord_node *)(void *)((char *)node - offsetof(struct cnv__coord_node, node));
}

static unsigned long cnv__hash_id(uint64_t id) {
  id ^= id >> 33;
  id *= UINT64_C(0xff51afd7ed558ccd);
  id ^= id >> 33;
  id *= UINT64_C(0xc4ceb9fe1a85ec53);
  return (unsigned long)(id ^ (id >> 33));
}

static int cnv__match_id(struct cds_lfht_node *node, const void *key) {
  const struct cnv__coord_node *n = cnv__node_of(node);
  return n->id == *(const uint64_t *)key;
}

static void cnv__read_unlock(cnv_coord *c) {
  CNV__HB_RELEASE(&c->grace);
  urcu_bp_read_unlock();
}

CNV_API cnv_status cnv_coord_create(const cnv_coord_config *cfg, cnv_coord **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  cnv_breaker_config bdef = cnv_breaker_config_default();
  cnv_breaker probe;
  const cnv_breaker_config *bc = cfg ? &cfg->breaker : &bdef;
  cnv_status st = cnv_breaker_init(&probe, bc);
  if (st != CNV_OK) return st;
  unsigned long size = 1;
  uint32_t want = cfg && cfg->expected_swarms ? cfg->expected_swarms : 1024;
  while (size < want && size < (1ul << 24)) size <<= 1;
  struct cnv_coord *c = calloc(1, sizeof *c);
  if (!c) return CNV_ENOMEM;
  /* No auto-resize: the table is sized up front, so no resize worker threads run. */
  c->ht = cds_lfht_new_flavor(size, size, 0, CDS_LFHT_ACCOUNTING, &urcu_bp_flavor, NULL);
  if (!c->ht) {
    free(c);
    return CNV_ENOMEM;
  }
  c->breaker = *bc;
  c->observer = cfg ? cfg->observer : NULL;
  *out = c;
  return CNV_OK;
}

CNV_API void cnv_coord_destroy(cnv_coord *c) {
  if (!c) return;
  struct cds_lfht_iter it;
  struct cds_lfht_node *node;
  /* No other reader is in flight (documented), so nodes can go right away; the section is
   * what the table's traversal API asks for. */
  urcu_bp_read_lock();
  /* Plain iteration: cds_lfht_for_each_entry computes container_of(NULL) at the end. */
  for (cds_lfht_first(c->ht, &it); (node = cds_lfht_iter_get_node(&it)) != NULL;) {
    cds_lfht_next(c->ht, &it);
    cds_lfht_del(c->ht, node);
    free(cnv__node_of(node));
  }
  urcu_bp_read_unlock();
  cds_lfht_destroy(c->ht, NULL);
  free(c);
}

CNV_API cnv_status cnv_coord_add(cnv_coord *c, uint64_t swarm_id, uint64_t now_ns) {
  if (!c) return CNV_EINVAL;
  struct cnv__coord_node *n = aligned_alloc(CNV_CACHELINE, sizeof *n);
  if (!n) return CNV_ENOMEM;
  cnv_status st = cnv_swarm_init(&n->sw, swarm_id, now_ns, &c->breaker, c->observer);
  if (st != CNV_OK) {
    free(n);
    return st;
  }
  n->id = swarm_id;
  cds_lfht_node_init(&n->node);
  CNV__HB_RELEASE(n);
  urcu_bp_read_lock();
  /* add_unique publishes the node with a full barrier: readers see an initialized swarm. */
  struct cds_lfht_node *got = cds_lfht_add_unique(c->ht, cnv__hash_id(swarm_id), cnv__match_id,
                                                  &swarm_id, &n->node);
  urcu_bp_read_unlock();
  if (got != &n->node) {
    free(n);
    return CNV_ECOORD_DUPLICATE;
  }
  return CNV_OK;
}

/* The swarm's node; call inside a read-side section. */
static struct cnv__coord_node *cnv__coord_find(cnv_coord *c, uint64_t swarm_id) {
  struct cds_lfht_iter it;
  cds_lfht_lookup(c->ht, cnv__hash_id(swarm_id), cnv__match_id, &swarm_id, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  if (!node) return NULL;
  struct cnv__coord_node *n = cnv__node_of(node);
  CNV__HB_ACQUIRE(n);
  return n;
}

CNV_API cnv_status cnv_coord_remove(cnv_coord *c, uint64_t swarm_id) {
  if (!c) return CNV_EINVAL;
  urcu_bp_read_lock();
  struct cnv__coord_node *n = cnv__coord_find(c, swarm_id);
  int gone = n ? cds_lfht_del(c->ht, &n->node) : -1;
  cnv__read_unlock(c);
  if (gone != 0) return CNV_ECOORD_NO_SWARM;
  /* Wait until every reader that could hold n has left its section. */
  urcu_bp_synchronize_rcu();
  CNV__HB_ACQUIRE(&c->grace);
  free(n);
  return CNV_OK;
}

CNV_API uint64_t cnv_coord_count(const cnv_coord *c) {
  if (!c) return 0;
  long before, after;
  unsigned long count;
  urcu_bp_read_lock();
  cds_lfht_count_nodes(c->ht, &before, &count, &after);
  urcu_bp_read_unlock();
  return count;
}

CNV_API cnv_status cnv_coord_phase(cnv_coord *c, uint64_t swarm_id, cnv_phase *out) {
  if (!c || !out) return CNV_EINVAL;
  urcu_bp_read_lock();
  struct cnv__coord_node *n = cnv__coord_find(c, swarm_id);
  if (n) *out = cnv_swarm_phase(&n->sw);
  cnv__read_unlock(c);
  return n ? CNV_OK : CNV_ECOORD_NO_SWARM;
}

CNV_API cnv_status cnv_coord_transition(cnv_coord *c, uint64_t swarm_id, int from, int to,
                                        uint64_t now_ns) {
  if (!c) return CNV_EINVAL;
  urcu_bp_read_lock();
  struct cnv__coord_node *n = cnv__coord_find(c, swarm_id);
  cnv_status st = n ? cnv_swarm_transition(&n->sw, from, to, now_ns) : CNV_ECOORD_NO_SWARM;
  cnv__read_unlock(c);
  return st;
}

CNV_API cnv_status cnv_coord_raise_algedonic(cnv_coord *c, uint64_t swarm_id, uint32_t reason,
                                             uint64_t now_ns) {
  if (!c) return CNV_EINVAL;
  urcu_bp_read_lock();
  struct cnv__coord_node *n = cnv__coord_find(c, swarm_id);
  cnv_status st = n ? cnv_swarm_raise_algedonic(&n->sw, reason, now_ns) : CNV_ECOORD_NO_SWARM;
  cnv__read_unlock(c);
  return st;
}

CNV_API cnv_status cnv_coord_record_invocation(cnv_coord *c, uint64_t swarm_id, int ok) {
  if (!c) return CNV_EINVAL;
  urcu_bp_read_lock();
  struct cnv__coord_node *n = cnv__coord_find(c, swarm_id);
  cnv_status st = n ? cnv_swarm_record_invocation(&n->sw, ok) : CNV_ECOORD_NO_SWARM;
  cnv__read_unlock(c);
  return st;
}

CNV_API cnv_status cnv_coord_snapshot(cnv_coord *c, uint64_t swarm_id, uint64_t now_ns,
                                      cnv_swarm_report *out) {
  if (!c || !out) return CNV_EINVAL;
  urcu_bp_read_lock();
  struct cnv__coord_node *n = cnv__coord_find(c, swarm_id);
  cnv_status st = n ? cnv_swarm_snapshot(&n->sw, now_ns, out) : CNV_ECOORD_NO_SWARM;
  cnv__read_unlock(c);
  return st;
}

CNV_API cnv_status cnv_coord_tick_all(cnv_coord *c, uint64_t now_ns, uint64_t *moved) {
  if (moved) *moved = 0;
  if (!c) return CNV_EINVAL;
  struct cds_lfht_iter it;
  struct cds_lfht_node *node;
  uint64_t count = 0;
  urcu_bp_read_lock();
  for (cds_lfht_first(c->ht, &it); (node = cds_lfht_iter_get_node(&it)) != NULL;
       cds_lfht_next(c->ht, &it)) {
    int to;
    struct cnv__coord_node *n = cnv__node_of(node);
    if (cnv_swarm_tick(&n->sw, now_ns, &to) == CNV_OK && to >= 0) count++;
  }
  cnv__read_unlock(c);
  if (moved) *moved = count;
  return CNV_OK;
}
