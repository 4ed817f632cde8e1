/* The runtime object: configuration, creation, agents, trust and revocation. */
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "ledger_rec.h"
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
  cfg->max_result = 4096;
  cfg->idle = CNV_RT_IDLE_SPIN_THEN_PARK;
  cfg->idle_spin_us = 50;
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
  if (!c->max_result) c->max_result = d.max_result;
  if (!c->idle_spin_us) c->idle_spin_us = d.idle_spin_us;
  if (c->rate_per_s && !c->rate_burst) c->rate_burst = c->rate_per_s / 10 ? c->rate_per_s / 10 : 1;
  cnv_deleg_config zero_deleg;
  memset(&zero_deleg, 0, sizeof zero_deleg);
  if (!memcmp(&c->deleg, &zero_deleg, sizeof zero_deleg)) c->deleg = d.deleg;
  if (c->breaker.window_ns == 0 && c->breaker.buckets == 0) c->breaker = d.breaker;
  if (c->workers > CNV__RT_MAX_WORKERS || c->max_line > CNV__RT_MAX_LINE ||
      c->max_agents > (1u << 20) || c->max_handlers > (1u << 16) ||
      c->max_result > CNV__RT_MAX_RESULT || c->idle > CNV_RT_IDLE_PARK ||
      c->queue_capacity > (1u << 24)) {
    return CNV_ERT_CONFIG;
  }
  return CNV_OK;
}

static cnv_status alloc_workers(cnv_runtime *rt) {
  rt->workers = aligned_alloc(CNV_CACHELINE, rt->cfg.workers * sizeof *rt->workers);
  rt->stuck = calloc(rt->cfg.workers, sizeof *rt->stuck);
  if (!rt->workers || !rt->stuck) return CNV_ENOMEM;
  memset(rt->workers, 0, rt->cfg.workers * sizeof *rt->workers);
  for (uint32_t i = 0; i < rt->cfg.workers; i++) {
    cnv__rt_worker *w = &rt->workers[i];
    w->rt = rt;
    w->index = i;
    w->result.cap = rt->cfg.max_result;
    w->result.buf = malloc(rt->cfg.max_result);
    if (!w->result.buf) return CNV_ENOMEM;
  }
  return CNV_OK;
}

static cnv_status alloc_tables(cnv_runtime *rt) {
  rt->agents = aligned_alloc(CNV_CACHELINE, rt->cfg.max_agents * sizeof *rt->agents);
  if (!rt->agents) return CNV_ENOMEM;
  memset(rt->agents, 0, rt->cfg.max_agents * sizeof *rt->agents);
  cnv_status st = alloc_workers(rt);
  if (st == CNV_OK) st = cnv__rt_registry_create(rt);
  if (st == CNV_OK) st = cnv__rt_slots_create(rt);
  if (st != CNV_OK) return st;
  return cnv_variety_tally_create(CNV__RT_VARIETY_CAPACITY, &rt->capabilities);
}

static cnv_status create_parts(cnv_runtime *rt) {
  cnv_status st = alloc_tables(rt);
  if (st != CNV_OK) return st;
  rt->record_size = (CNV__RT_RECORD_HEADER + rt->cfg.max_line + 7u) & ~7u;
  for (int i = 0; i < 2 && st == CNV_OK; i++) {
    st = cnv_queue_create(rt->cfg.queue_capacity, rt->record_size, &rt->lane[i]);
  }
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
  cnv__rt_lrec_init(rt);
  st = create_parts(rt);
  if (st != CNV_OK) {
    cnv_runtime_destroy(rt);
    return st;
  }
  if (rt->cfg.ledger) cnv__rt_lrec_config(rt);
  *out = rt;
  return CNV_OK;
}

void cnv_runtime_destroy(cnv_runtime *rt) {
  if (!rt) return;
  /* acquire: pairs with stop's release of STOPPED, so its final counters and joins are seen */
  /* a stop that times out reports stuck workers, joined below: nothing else to do */
  if (cnv__load_acquire(&rt->state) == CNV__RT_RUNNING) {
    cnv__ignore_status(cnv_runtime_stop(rt, CNV__RT_DESTROY_STOP_NS));
  }
  cnv__rt_threads_join_stuck(rt);
  if (rt->agents) {
    for (uint32_t i = 0; i < rt->cfg.max_agents; i++) {
      cnv_deleg_prepared_destroy(rt->agents[i].prepared);
      free(rt->agents[i].token);
    }
  }
  if (rt->workers) {
    for (uint32_t i = 0; i < rt->cfg.workers; i++) free(rt->workers[i].result.buf);
  }
  cnv_tel_destroy(rt->tel);
  cnv_deleg_verifier_destroy(rt->verifier);
  cnv_queue_destroy(rt->lane[0]);
  cnv_queue_destroy(rt->lane[1]);
  pthread_mutex_destroy(&rt->phase_lock);
  cnv__rt_lrec_fini(rt);
  cnv__rt_registry_destroy(rt);
  free(rt->slots);
  free(rt->agents);
  cnv_variety_tally_destroy(rt->capabilities);
  free(rt->workers);
  free(rt->stuck);
  free(rt);
}

cnv_status cnv_runtime_trust_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  if (!rt || !pk) return CNV_EINVAL;
  cnv_status st = cnv_deleg_trust_add(rt->verifier, pk);
  if (st == CNV_OK && rt->cfg.ledger) cnv__rt_lrec_trust(rt, pk);
  return st;
}

cnv_status cnv_runtime_revoke(cnv_runtime *rt, const uint8_t hash[CNV_DELEG_HASH_BYTES]) {
  if (!rt || !hash) return CNV_EINVAL;
  cnv_status st = cnv_deleg_revoke(rt->verifier, hash);
  if (st == CNV_OK && rt->cfg.ledger) cnv__rt_lrec_revoke(rt, hash);
  return st;
}

uint64_t cnv_runtime_policy_epoch(const cnv_runtime *rt) { return rt ? cnv__rt_lrec_epoch(rt) : 0u; }

/* Claims the first FREE agent slot (FREE -> BUSY); NULL when every slot is taken. The CAS is
 * acquire: it pairs with the release store of the remove that freed the slot, so that remove's
 * writes (the prepared token destroyed, the pointer cleared) happen before this add's. */
static cnv__rt_agent *agent_claim(cnv_runtime *rt, uint32_t *index) {
  for (uint32_t i = 0; i < rt->cfg.max_agents; i++) {
    cnv__rt_agent *a = &rt->agents[i];
    uint32_t expect = CNV__RT_AGENT_FREE;
    /* relaxed pre-check: a slot seen taken is skipped; the CAS decides */
    if (cnv__load_relaxed(&a->ready) != CNV__RT_AGENT_FREE) continue;
    if (cnv__cas_strong(&a->ready, &expect, CNV__RT_AGENT_BUSY, memory_order_acquire, memory_order_relaxed)) {
      *index = i;
      return a;
    }
  }
  return NULL;
}

/* The agent's own copy of its token and key (cnv_runtime_agent_check verifies it), with its
 * chain hash (the ledger's records carry it). */
static cnv_status token_copy(const uint8_t pk[CNV_DELEG_KEY_BYTES], const uint8_t *token, size_t len,
                             cnv__rt_token **out) {
  cnv__rt_token *t = malloc(sizeof *t + len);
  if (!t) return CNV_ENOMEM;
  memcpy(t->holder, pk, sizeof t->holder);
  t->len = len;
  memcpy(t->bytes, token, len);
  /* token is not NULL (checked by add): the hash cannot fail */
  cnv__ignore_status(cnv_ledger_token_hash(token, len, t->chain));
  *out = t;
  return CNV_OK;
}

cnv_status cnv_runtime_agent_add(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES],
                                 const uint8_t *token, size_t token_len, uint32_t *agent) {
  if (!rt || !pk || !token || !agent || token_len == 0 || token_len > CNV_DELEG_MAX_TOKEN_BYTES) {
    return CNV_EINVAL;
  }
  /* acquire: pairs with start's seq_cst store, so a RUNNING runtime's tables are seen built */
  if (cnv__load_acquire(&rt->state) >= CNV__RT_STOPPING) return CNV_ESTATE;
  uint32_t n;
  cnv__rt_agent *a = agent_claim(rt, &n);
  if (!a) return CNV_ERT_AGENTS_FULL;
  cnv_status st = cnv_deleg_prepare(rt->verifier, token, token_len, pk, rt->cfg.swarm_id, &a->prepared);
  if (st == CNV_OK) st = token_copy(pk, token, token_len, &a->token);
  if (st != CNV_OK) {
    cnv_deleg_prepared_destroy(a->prepared); /* NULL when prepare failed */
    a->prepared = NULL;
    /* release: hands the slot back (its pointers are NULL again) */
    cnv__store_release(&a->ready, (uint32_t)CNV__RT_AGENT_FREE);
    return st;
  }
  /* relaxed: published by `ready` below */
  cnv__store_relaxed(&a->rate, rt->cfg.rate_per_s ? (uint64_t)rt->cfg.rate_per_s << 32 | rt->cfg.rate_burst : 0);
  cnv__store_relaxed(&a->tat, 0u);
  /* relaxed: a count for the figures only */
  cnv__fetch_add_relaxed(&rt->n_agents, 1u);
  /* recorded before it is usable: its submits' records follow it in the log */
  if (rt->cfg.ledger) cnv__rt_lrec_agent(rt, n, a->token, 0);
  /* release: the prepared token is visible to the submit that reads READY (acquire) */
  cnv__store_release(&a->ready, (uint32_t)CNV__RT_AGENT_READY);
  *agent = n;
  return CNV_OK;
}

cnv_status cnv_runtime_agent_add_verified(cnv_runtime *rt, const uint8_t pk[CNV_DELEG_KEY_BYTES],
                                          const uint8_t *token, size_t token_len, uint32_t *agent) {
  if (!rt || !pk || !token || !agent || token_len == 0 || token_len > CNV_DELEG_MAX_TOKEN_BYTES) {
    return CNV_EINVAL;
  }
  cnv_deleg_request req = {.now = cnv__rt_token_now(rt), .swarm = rt->cfg.swarm_id, .holder = pk};
  cnv_status st = cnv_deleg_verify(rt->verifier, token, token_len, &req, NULL, NULL);
  if (st != CNV_OK) return cnv_runtime_map_deleg(st);
  return cnv_runtime_agent_add(rt, pk, token, token_len, agent);
}

cnv_status cnv_runtime_agent_remove(cnv_runtime *rt, uint32_t agent) {
  if (!rt || agent >= rt->cfg.max_agents) return CNV_EINVAL;
  cnv__rt_agent *a = &rt->agents[agent];
  uint32_t expect = CNV__RT_AGENT_READY;
  /* acquire: pairs with add's release, so the prepared token it set is the one destroyed */
  if (!cnv__cas_strong(&a->ready, &expect, CNV__RT_AGENT_BUSY, memory_order_acquire, memory_order_relaxed)) {
    return CNV_ENOTFOUND;
  }
  if (rt->cfg.ledger) cnv__rt_lrec_agent(rt, agent, a->token, 1);
  cnv_deleg_prepared_destroy(a->prepared);
  a->prepared = NULL;
  free(a->token);
  a->token = NULL;
  /* relaxed: a count for the figures only */
  cnv__fetch_sub_relaxed(&rt->n_agents, 1u);
  /* release: the slot is FREE for the next add only after the token above is gone */
  cnv__store_release(&a->ready, (uint32_t)CNV__RT_AGENT_FREE);
  return CNV_OK;
}

uint32_t cnv_runtime_max_result(const cnv_runtime *rt) { return rt ? rt->cfg.max_result : 0; }

uint32_t cnv_runtime_in_flight_limit(const cnv_runtime *rt) { return rt ? rt->n_slots : 0; }

uint64_t cnv_runtime_swarm_id(const cnv_runtime *rt) { return rt ? rt->cfg.swarm_id : 0; }

uint32_t cnv_runtime_workers(const cnv_runtime *rt) { return rt ? rt->cfg.workers : 0; }
