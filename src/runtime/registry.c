/* The handler registry: capabilities registered and unregistered at any time. Readers
 * (submits, workers) find handlers in an immutable index published with RCU; a change
 * builds a new index under the registry mutex, publishes it, and frees the old one after a
 * grace period. An unregistered handler is freed once no worker announces it in `current`
 * (see worker.c's handler_enter). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-bp.h>

#include <cnv/protocol.h>

#include "core/atomic.h"
#include "ledger_rec.h"
#include "rt_internal.h"

static cnv__rt_table *table_new(uint32_t slots) {
  cnv__rt_table *t = calloc(1, sizeof *t + (size_t)slots * sizeof t->slot[0]);
  if (t) t->mask = slots - 1;
  return t;
}

static void table_put(cnv__rt_table *t, cnv__rt_handler *h) {
  uint32_t i = (uint32_t)h->id & t->mask;
  while (t->slot[i]) i = (i + 1) & t->mask;
  t->slot[i] = h;
  t->count++;
}

cnv__rt_table *cnv__rt_table_get(cnv_runtime *rt) {
  cnv__rt_table *t = rcu_dereference(rt->table);
  CNV__HB_ACQUIRE(t);
  return t;
}

cnv__rt_handler *cnv__rt_table_find(const cnv__rt_table *t, uint64_t id) {
  for (uint32_t i = (uint32_t)id & t->mask; t->slot[i]; i = (i + 1) & t->mask) {
    if (t->slot[i]->id == id) return t->slot[i];
  }
  return NULL;
}

cnv_status cnv__rt_registry_create(cnv_runtime *rt) {
  uint32_t slots = 4;
  while (slots < 2 * rt->cfg.max_handlers) slots <<= 1;
  rt->table = table_new(slots);
  if (!rt->table) return CNV_ENOMEM;
  atomic_init(&rt->registry_gen, 1u);
  pthread_mutex_init(&rt->registry_lock, NULL);
  return CNV_OK;
}

void cnv__rt_registry_destroy(cnv_runtime *rt) {
  if (!rt->table) return;
  for (uint32_t i = 0; i <= rt->table->mask; i++) free(rt->table->slot[i]);
  free(rt->table);
  pthread_mutex_destroy(&rt->registry_lock);
}

/* A copy of the current index without `skip` (may be NULL). Under the registry mutex. */
static cnv__rt_table *table_copy(const cnv__rt_table *cur, const cnv__rt_handler *skip) {
  cnv__rt_table *t = table_new(cur->mask + 1);
  if (!t) return NULL;
  for (uint32_t i = 0; i <= cur->mask; i++) {
    if (cur->slot[i] && cur->slot[i] != skip) table_put(t, cur->slot[i]);
  }
  return t;
}

/* Publishes t and frees the old index after a grace period. Under the registry mutex. */
static void table_swap(cnv_runtime *rt, cnv__rt_table *t) {
  cnv__rt_table *old = rt->table;
  CNV__HB_RELEASE(t);
  rcu_assign_pointer(rt->table, t); /* release: the new index's contents are complete */
  /* relaxed: a figure, read without ordering by the variety check */
  cnv__store_relaxed(&rt->n_handlers, t->count);
  /* Relaxed load: only registry-mutex holders write it. Release store, after the index's
   * publication above: a reader that acquires generation g then finds an index at least as
   * new as the change that made g, which is all a generation promises (a stale listing is
   * one whose generation differs). */
  cnv__store_release(&rt->registry_gen, cnv__load_relaxed(&rt->registry_gen) + 1u);
  urcu_bp_synchronize_rcu();
  CNV__HB_ACQUIRE(&rt->table);
  free(old);
}

uint64_t cnv_runtime_registry_generation(const cnv_runtime *rt) {
  /* acquire: pairs with table_swap's release (see there) */
  return rt ? cnv__load_acquire(&((cnv_runtime *)rt)->registry_gen) : 0u;
}

static int state_allows_changes(cnv_runtime *rt) {
  /* acquire: pairs with stop's release of STOPPED */
  return cnv__load_acquire(&rt->state) < CNV__RT_STOPPING;
}

static cnv_status handler_make(const char *path, size_t path_len, uint64_t id,
                               const cnv_runtime_handler_spec *spec, cnv__rt_handler **out) {
  cnv__rt_handler *h = calloc(1, sizeof *h);
  if (!h) return CNV_ENOMEM;
  cnv_status st = cnv_deleg_cap_from_path(path, path_len, &h->cap);
  if (st != CNV_OK || path_len >= sizeof h->path) {
    free(h);
    return st != CNV_OK ? st : CNV_ERANGE;
  }
  h->id = id;
  h->fn = spec->fn;
  h->ctx = spec->ctx;
  h->effects = spec->effects;
  h->cls = spec->cls;
  h->schema = spec->schema;
  /* a schema of bool_flags only checks nothing: submit need not parse again */
  if (spec->schema && (spec->schema->n_args > 0 || (spec->schema->flags & CNV_SCHEMA_CLOSED))) {
    h->check = spec->schema;
  }
  h->title = spec->title;
  h->description = spec->description;
  memcpy(h->path, path, path_len);
  h->path_len = path_len;
  *out = h;
  return CNV_OK;
}

static cnv_status register_locked(cnv_runtime *rt, const char *path, size_t path_len, uint64_t id,
                                  const cnv_runtime_handler_spec *spec) {
  if (!state_allows_changes(rt)) return CNV_ESTATE;
  if (cnv__rt_table_find(rt->table, id)) return CNV_EEXIST;
  if (rt->table->count == rt->cfg.max_handlers) return CNV_ERT_HANDLERS_FULL;
  cnv__rt_handler *h;
  cnv_status st = handler_make(path, path_len, id, spec, &h);
  if (st != CNV_OK) return st;
  cnv__rt_table *t = table_copy(rt->table, NULL);
  if (!t) {
    free(h);
    return CNV_ENOMEM;
  }
  table_put(t, h);
  table_swap(rt, t);
  if (rt->cfg.ledger) cnv__rt_lrec_register(rt, h, 0);
  return CNV_OK;
}

cnv_status cnv_runtime_register(cnv_runtime *rt, const char *path, size_t path_len,
                                const cnv_runtime_handler_spec *spec) {
  if (!rt || !path || !spec || !spec->fn) return CNV_EINVAL;
  if (cnv_duration_class_limits(spec->cls, NULL, NULL) != CNV_OK) return CNV_ERANGE;
  uint64_t id;
  cnv_status st = cnv_capability_id(path, path_len, &id);
  if (st != CNV_OK) return st;
  if (spec->schema && (st = cnv_schema_validate(spec->schema, NULL)) != CNV_OK) return st;
  pthread_mutex_lock(&rt->registry_lock);
  st = register_locked(rt, path, path_len, id, spec);
  pthread_mutex_unlock(&rt->registry_lock);
  return st;
}

/* Waits until no worker announces h (after the grace period nobody can announce it anew). */
static void wait_unused(cnv_runtime *rt, const cnv__rt_handler *h) {
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    /* acquire: pairs with the worker's release when its run ended */
    while (cnv__load_acquire(&rt->workers[i].current) == h) sched_yield();
  }
}

cnv_status cnv_runtime_unregister(cnv_runtime *rt, const char *path, size_t path_len) {
  if (!rt || !path) return CNV_EINVAL;
  uint64_t id;
  cnv_status st = cnv_capability_id(path, path_len, &id);
  if (st != CNV_OK) return st;
  pthread_mutex_lock(&rt->registry_lock);
  cnv__rt_handler *h = cnv__rt_table_find(rt->table, id);
  cnv__rt_table *t = NULL;
  if (!state_allows_changes(rt)) {
    st = CNV_ESTATE;
  } else if (!h) {
    st = CNV_ENOTFOUND;
  } else if (!(t = table_copy(rt->table, h))) {
    st = CNV_ENOMEM;
  } else {
    table_swap(rt, t); /* after its grace period no reader holds h from the old index */
    if (rt->cfg.ledger) cnv__rt_lrec_register(rt, h, 1);
    wait_unused(rt, h);
    free(h);
  }
  pthread_mutex_unlock(&rt->registry_lock);
  return st;
}

cnv_status cnv_runtime_capability_stats_get(cnv_runtime *rt, const char *path, size_t path_len,
                                            cnv_runtime_capability_stats *out) {
  if (!rt || !path || !out) return CNV_EINVAL;
  uint64_t id;
  cnv_status st = cnv_capability_id(path, path_len, &id);
  if (st != CNV_OK) return st;
  urcu_bp_read_lock();
  const cnv__rt_handler *h = cnv__rt_table_find(cnv__rt_table_get(rt), id);
  if (h) {
    /* relaxed: figures */
    *out = (cnv_runtime_capability_stats){.failed = cnv__load_relaxed(&h->failed), .over_target = cnv__load_relaxed(&h->over_target), .over_deadline = cnv__load_relaxed(&h->over_deadline), .cls = h->cls};
  }
  CNV__HB_RELEASE(&rt->table);
  urcu_bp_read_unlock();
  return h ? CNV_OK : CNV_ENOTFOUND;
}

/* One capability's two overrun lines. */
static int export_one(const cnv__rt_handler *h, cnv_tel_write_fn fn, void *ctx) {
  static const char *const bounds[2] = {"target", "deadline"};
  /* relaxed: figures */
  uint64_t v[2] = {cnv__load_relaxed(&h->over_target), cnv__load_relaxed(&h->over_deadline)};
  for (int b = 0; b < 2; b++) {
    char line[400];
    /* paths are [a-z0-9_-] segments joined by dots: nothing to escape in a label value */
    int n = snprintf(line, sizeof line,
                     "cnv_rt_capability_overruns_total{capability=\"%.*s\",bound=\"%s\"} %llu\n",
                     (int)h->path_len, h->path, bounds[b], (unsigned long long)v[b]);
    if (fn(ctx, line, (size_t)n) != 0) return 1;
  }
  return 0;
}

cnv_status cnv__rt_registry_export(cnv_runtime *rt, cnv_tel_write_fn fn, void *ctx) {
  static const char head[] =
      "# HELP cnv_rt_capability_overruns_total Runs of one capability longer than its class's "
      "target, or ended after their deadline.\n"
      "# TYPE cnv_rt_capability_overruns_total counter\n";
  if (fn(ctx, head, sizeof head - 1) != 0) return CNV_ETEL_WRITE;
  int stopped = 0;
  urcu_bp_read_lock();
  const cnv__rt_table *t = cnv__rt_table_get(rt);
  for (uint32_t i = 0; !stopped && i <= t->mask; i++) {
    if (t->slot[i]) stopped = export_one(t->slot[i], fn, ctx);
  }
  CNV__HB_RELEASE(&rt->table);
  urcu_bp_read_unlock();
  return stopped ? CNV_ETEL_WRITE : CNV_OK;
}
