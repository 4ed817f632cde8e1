/* The runtime object: configuration, creation, handlers, agents, trust and revocation. */
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "rt_internal.h"

void cnv_runtime_config_default(cnv_runtime_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->workers = 2;
  cfg->queue_capacity = 4096;
  cfg->max_line = 232;
  cfg->max_agents = 1024;
  cfg->max_handlers = 256;
  cfg->swarm_id = 1;
  cnv_deleg_config_default(&cfg->deleg);
  cfg->breaker = cnv_breaker_config_default();
  cfg->tick_interval_ms = 10;
}

/* Fills zero fields of *c with the defaults; rejects out-of-range values. */
static cnv_status config_fill(cnv_runtime_config *c) {
  cnv_runtime_config d;
  cnv_runtime_config_default(&d);
  if (!c->workers) c->workers = d.workers;
  if (!c->queue_capacity) c->queue_capacity = d.queue_capacity;
  if (!c->max_line) c->max_line = d.max_line;
  if (!c->max_agents) c->max_agents = d.max_agents;
  if (!c->max_handlers) c->max_handlers = d.max_handlers;
  if (!c->swarm_id) c->swarm_id = d.swarm_id;
  if (!c->tick_interval_ms) c->tick_interval_ms = d.tick_interval_ms;
  cnv_deleg_config zero_deleg;
  memset(&zero_deleg, 0, sizeof zero_deleg);
  if (!memcmp(&c->deleg, &zero_deleg, sizeof zero_deleg)) c->deleg = d.deleg;
  if (c->breaker.window_ns == 0 && c->breaker.buckets == 0) c->breaker = d.breaker;
  if (c->workers > CNV__RT_MAX_WORKERS || c->max_line > CNV__RT_MAX_LINE ||
      c->max_agents > (1u << 20) || c->max_handlers > (1u << 16)) {
    return CNV_ERT_CONFIG;
  }
  return CNV_OK;
}

static cnv_status alloc_tables(cnv_runtime *rt) {
  uint32_t slots = 4;
  while (slots < 2 * rt->cfg.max_handlers) slots <<= 1;
  rt->handler_mask = slots - 1;
  rt->handlers = calloc(rt->cfg.max_handlers, sizeof *rt->handlers);
  rt->handler_index = calloc(slots, sizeof *rt->handler_index);
  rt->agents = calloc(rt->cfg.max_agents, sizeof *rt->agents);
  rt->workers = calloc(rt->cfg.workers, sizeof *rt->workers);
  if (!rt->handlers || !rt->handler_index || !rt->agents || !rt->workers) return CNV_ENOMEM;
  return cnv_variety_tally_create(CNV__RT_VARIETY_CAPACITY, &rt->capabilities);
}

static cnv_status create_parts(cnv_runtime *rt) {
  cnv_status st = alloc_tables(rt);
  if (st != CNV_OK) return st;
  rt->record_size = (CNV__RT_RECORD_HEADER + rt->cfg.max_line + 7u) & ~7u;
  st = cnv_queue_create(rt->cfg.queue_capacity, rt->record_size, &rt->queue);
  if (st != CNV_OK) return st;
  st = cnv_deleg_verifier_create(&rt->cfg.deleg, &rt->verifier);
  if (st != CNV_OK) return st;
  rt->t0_ns = cnv__rt_now_ns();
  st = cnv_swarm_init(&rt->swarm, rt->cfg.swarm_id, 1, &rt->cfg.breaker, NULL);
  if (st != CNV_OK) return st;
  rt->timeline[0] = (cnv_phase_span){.phase = CNV_PHASE_BOOTSTRAP};
  rt->n_timeline = 1;
  /* Shards only for the workers' latency histogram; every counter is striped. */
  cnv_tel_config tc = {.max_threads = rt->cfg.workers, .max_counters = 1, .max_gauges = 16, .max_histograms = 1, .max_striped = CNV__RT_C_COUNT};
  st = cnv_tel_create(&tc, &rt->tel);
  if (st != CNV_OK) return st;
  return cnv__rt_metrics_register(rt);
}

cnv_status cnv_runtime_create(const cnv_runtime_config *cfg, cnv_runtime **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  cnv_runtime *rt = aligned_alloc(CNV_CACHELINE, (sizeof *rt + CNV_CACHELINE - 1) &
                                                     ~(size_t)(CNV_CACHELINE - 1));
  if (!rt) return CNV_ENOMEM;
  memset(rt, 0, sizeof *rt);
  if (cfg) rt->cfg = *cfg;
  cnv_status st = config_fill(&rt->cfg);
  if (st != CNV_OK) {
    free(rt);
    return st;
  }
  pthread_mutex_init(&rt->phase_lock, NULL);
  st = create_parts(rt);
  if (st != CNV_OK) {
    cnv_runtime_destroy(rt);
    return st;
  }
  *out = rt;
  return CNV_OK;
}

void cnv_runtime_destroy(cnv_runtime *rt) {
  if (!rt) return;
  /* acquire: pairs with stop's release of STOPPED, so its final counters and joins are seen */
  /* stop fails only when the runtime is not running, which was just checked */
  if (cnv__load_acquire(&rt->state) == CNV__RT_RUNNING) cnv__ignore_status(cnv_runtime_stop(rt));
  if (rt->agents) {
    for (uint32_t i = 0; i < rt->cfg.max_agents; i++) free(rt->agents[i].token);
  }
  cnv_tel_destroy(rt->tel);
  cnv_deleg_verifier_destroy(rt->verifier);
  cnv_queue_destroy(rt->queue);
  pthread_mutex_destroy(&rt->phase_lock);
  free(rt->handlers);
  free(rt->handler_index);
  free(rt->agents);
  cnv_variety_tally_destroy(rt->capabilities);
  free(rt->workers);
  free(rt);
}

cnv_status cnv_runtime_register(cnv_runtime *rt, const char *path, size_t path_len,
                                cnv_effects effects, cnv_runtime_handler_fn fn, void *ctx) {
  if (!rt || !path || !fn) return CNV_EINVAL;
  /* relaxed: register runs on the one thread that also calls start (header contract) */
  if (cnv__load_relaxed(&rt->state) != CNV__RT_CREATED) return CNV_ESTATE;
  uint64_t id;
  cnv_status st = cnv_capability_id(path, path_len, &id);
  if (st != CNV_OK) return st;
  uint32_t i = (uint32_t)id & rt->handler_mask;
  for (; rt->handler_index[i]; i = (i + 1) & rt->handler_mask) {
    if (rt->handlers[rt->handler_index[i] - 1].id == id) return CNV_EEXIST;
  }
  if (rt->n_handlers == rt->cfg.max_handlers) return CNV_ERT_HANDLERS_FULL;
  cnv__rt_handler *h = &rt->handlers[rt->n_handlers];
  st = cnv_deleg_cap_from_path(path, path_len, &h->cap);
  if (st != CNV_OK) return st;
  h->id = id;
  h->fn = fn;
  h->ctx = ctx;
  h->effects = effects;
  rt->handler_index[i] = ++rt->n_handlers;
  return CNV_OK;
}

cnv_status cnv_runtime_trust_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  if (!rt || !pk) return CNV_EINVAL;
  return cnv_deleg_trust_add(rt->verifier, pk);
}

cnv_status cnv_runtime_revoke(cnv_runtime *rt, const uint8_t hash[CNV_DELEG_HASH_BYTES]) {
  if (!rt || !hash) return CNV_EINVAL;
  return cnv_deleg_revoke(rt->verifier, hash);
}

cnv_status cnv_runtime_agent_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES],
                                 const uint8_t *token, size_t token_len, uint32_t *agent) {
  if (!rt || !pk || !token || !agent || token_len == 0 || token_len > CNV_DELEG_MAX_TOKEN_BYTES) {
    return CNV_EINVAL;
  }
  /* acquire: pairs with start's seq_cst store, so a RUNNING runtime's tables are seen built */
  if (cnv__load_acquire(&rt->state) >= CNV__RT_STOPPING) return CNV_ESTATE;
  uint32_t n = cnv__load_relaxed(&rt->n_agents);
  do {
    if (n >= rt->cfg.max_agents) return CNV_ERT_AGENTS_FULL;
    /* relaxed: the slot index only; the agent's bytes are published by `ready` below */
  } while (!cnv__cas_weak(&rt->n_agents, &n, n + 1, memory_order_relaxed, memory_order_relaxed));
  cnv__rt_agent *a = &rt->agents[n];
  a->token = malloc(token_len);
  if (!a->token) return CNV_ENOMEM;
  memcpy(a->token, token, token_len);
  memcpy(a->pk, pk, CNV_DELEG_KEY_BYTES);
  a->token_len = token_len;
  /* release: pk and token are visible to the submit that reads ready == 1 (acquire) */
  cnv__store_release(&a->ready, 1u);
  *agent = n;
  return CNV_OK;
}
