/* The policy a runtime decided with, rebuilt from its records (CONFIG, TRUST, REVOKE, AGENT,
 * REGISTER, PHASE; the payloads and fields as ledger.h's kind table has them), with the
 * what-if changes applied as each record is read. */
#include <stdlib.h>
#include <string.h>

#include <cnv/ledger.h>
#include <cnv/phases.h>
#include <cnv/runtime.h>

#include "audit_internal.h"
#include "core/ignore.h"

/* CONFIG's payload: skew u64 LE, max_counters u32 LE, max_counters_per_delegate u32 LE. */
#define CONFIG_PAYLOAD 16u
/* AGENT and TRUST: detail 1 is a removal; REGISTER: detail 0xFFFF is an unregistration. */
#define DETAIL_REMOVED 1u
#define DETAIL_UNREGISTERED 0xFFFFu

static uint64_t get_u64le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint32_t get_u32le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* True when the what-if changes hold one of this kind with this hash (REVOKE_*) or key
 * (TRUST_REMOVE). */
static bool changed(const cnv__audit_policy *p, int kind, const uint8_t bytes[32]) {
  for (size_t i = 0; i < p->n_changes; i++) {
    const cnv_audit_change *c = &p->changes[i];
    if (c->kind != kind) continue;
    const uint8_t *b = kind == CNV_AUDIT_TRUST_REMOVE ? c->key : c->hash;
    if (!memcmp(b, bytes, 32)) return true;
  }
  return false;
}

void cnv__audit_policy_init(cnv__audit_policy *p, const cnv_audit_change *changes, size_t n,
                            const cnv__audit_move *moves, size_t n_moves) {
  memset(p, 0, sizeof *p);
  p->changes = changes;
  p->n_changes = n;
  p->moves = moves;
  p->n_moves = n_moves;
  p->forced_phase = -1;
  for (size_t i = 0; i < n; i++) {
    if (changes[i].kind == CNV_AUDIT_PHASE_FORCE) p->forced_phase = changes[i].phase;
  }
}

/* Drops the runtime the policy described (its verifier, agents and capabilities). */
static void policy_clear(cnv__audit_policy *p) {
  cnv_deleg_verifier_destroy(p->v);
  p->v = NULL;
  for (size_t i = 0; i < p->n_agents; i++) free(p->agents[i].token);
  free(p->agents);
  free(p->caps);
  cnv__audit_map_free(&p->agent_index);
  cnv__audit_map_free(&p->cap_index);
  p->agents = NULL;
  p->caps = NULL;
  p->n_agents = p->cap_agents = p->n_caps = p->cap_caps = 0;
  p->configured = false;
}

void cnv__audit_policy_free(cnv__audit_policy *p) { policy_clear(p); }

/* A new runtime: its verifier with the recorded settings (the cache sizes are not recorded:
 * they change how fast a decision is made, never the decision), the revocations the what-if
 * adds from the start. */
static cnv_status apply_config(cnv__audit_policy *p, const cnv_ledger_entry *e) {
  if (e->payload_len != CONFIG_PAYLOAD) return CNV_ELEDGER_CORRUPT;
  policy_clear(p);
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.skew = get_u64le(e->payload);
  cfg.max_counters = get_u32le(e->payload + 8);
  cfg.max_counters_per_delegate = get_u32le(e->payload + 12);
  cnv_status st = cnv_deleg_verifier_create(&cfg, &p->v);
  if (st != CNV_OK) return st == CNV_ENOMEM || st == CNV_ENOTSUP ? st : CNV_ELEDGER_CORRUPT;
  for (size_t i = 0; i < p->n_changes; i++) {
    if (p->changes[i].kind != CNV_AUDIT_REVOKE_ADD) continue;
    st = cnv_deleg_revoke(p->v, p->changes[i].hash);
    if (st != CNV_OK) return st;
  }
  p->swarm = e->ticket;
  p->configured = true;
  /* this runtime's moves: those collected with the same count of CONFIG records before */
  p->runtimes++;
  p->move_first = p->moves_seen;
  p->move_end = p->move_first;
  while (p->move_end < p->n_moves && p->moves[p->move_end].runtime == p->runtimes) p->move_end++;
  return CNV_OK;
}

static cnv_status apply_trust(cnv__audit_policy *p, const cnv_ledger_entry *e) {
  if (changed(p, CNV_AUDIT_TRUST_REMOVE, e->key)) return CNV_OK;
  if (e->detail == DETAIL_REMOVED) {
    /* a removal of a root the replay never added (what-if ignored it) changes nothing */
    cnv__ignore_status(cnv_deleg_trust_remove(p->v, e->key));
    return CNV_OK;
  }
  cnv_status st = cnv_deleg_trust_add(p->v, e->key);
  return st == CNV_EDELEG_BAD_KEY ? CNV_ELEDGER_CORRUPT : st;
}

static cnv_status apply_revoke(cnv__audit_policy *p, const cnv_ledger_entry *e) {
  if (changed(p, CNV_AUDIT_REVOKE_REMOVE, e->digest)) return CNV_OK;
  return cnv_deleg_revoke(p->v, e->digest);
}

/* The entry for key in a table of entries (index map + array), added absent when new. */
static cnv_status entry_of(cnv__audit_map *index, void **array, size_t *n, size_t *cap, size_t size,
                           uint64_t key, void **out) {
  uint32_t at = cnv__audit_map_get(index, key);
  if (!at) {
    if (*n == *cap) {
      size_t c = *cap ? *cap * 2 : 16;
      void *a = realloc(*array, c * size);
      if (!a) return CNV_ENOMEM;
      *array = a;
      *cap = c;
    }
    if (*n >= UINT32_MAX) return CNV_ENOMEM;
    cnv_status st = cnv__audit_map_put(index, key, (uint32_t)(*n + 1));
    if (st != CNV_OK) return st;
    memset((char *)*array + *n * size, 0, size);
    at = (uint32_t)++ * n;
  }
  *out = (char *)*array + (at - 1) * size;
  return CNV_OK;
}

static cnv_status apply_agent(cnv__audit_policy *p, const cnv_ledger_entry *e) {
  if (e->detail == DETAIL_REMOVED) {
    cnv__audit_agent *a = (cnv__audit_agent *)cnv__audit_policy_agent(p, e->agent);
    if (a) {
      free(a->token);
      a->token = NULL;
      a->present = false;
    }
    return CNV_OK;
  }
  /* a token too long for a record is named by its digest only: the agent is known, its
   * token checks cannot be re-run (decide.c takes them as recorded) */
  bool omitted = (e->flags & CNV_RT_AGENT_TOKEN_OMITTED) != 0;
  if (omitted != (e->payload_len == 0)) return CNV_ELEDGER_CORRUPT;
  uint8_t *token = NULL;
  if (!omitted) {
    token = malloc(e->payload_len);
    if (!token) return CNV_ENOMEM;
    memcpy(token, e->payload, e->payload_len);
  }
  void *slot;
  cnv_status st = entry_of(&p->agent_index, (void **)&p->agents, &p->n_agents, &p->cap_agents,
                           sizeof *p->agents, e->agent, &slot);
  if (st != CNV_OK) {
    free(token);
    return st;
  }
  cnv__audit_agent *a = slot;
  free(a->token);
  a->token = token;
  a->token_len = e->payload_len;
  memcpy(a->key, e->key, sizeof a->key);
  a->present = true;
  return CNV_OK;
}

static cnv_status apply_register(cnv__audit_policy *p, const cnv_ledger_entry *e) {
  if (e->detail == DETAIL_UNREGISTERED) {
    cnv__audit_cap *c = (cnv__audit_cap *)cnv__audit_policy_cap(p, e->capability);
    if (c) c->present = false;
    return CNV_OK;
  }
  cnv_deleg_cap cap;
  if (!e->payload_len || cnv_deleg_cap_from_path((const char *)e->payload, e->payload_len, &cap) != CNV_OK) {
    return CNV_ELEDGER_CORRUPT;
  }
  void *slot;
  cnv_status st = entry_of(&p->cap_index, (void **)&p->caps, &p->n_caps, &p->cap_caps, sizeof *p->caps,
                           e->capability, &slot);
  if (st != CNV_OK) return st;
  cnv__audit_cap *c = slot;
  c->cap = cap;
  c->effects = (cnv_effects)e->flags;
  c->present = true;
  return CNV_OK;
}

cnv_status cnv__audit_policy_apply(cnv__audit_policy *p, const cnv_ledger_entry *e) {
  if (e->kind == CNV_LREC_CONFIG) return apply_config(p, e);
  if (e->kind == CNV_LREC_PHASE) p->moves_seen++; /* counted for every runtime, as collected */
  if (!p->configured) return CNV_OK;
  switch (e->kind) {
    case CNV_LREC_TRUST:
      return apply_trust(p, e);
    case CNV_LREC_REVOKE:
      return apply_revoke(p, e);
    case CNV_LREC_AGENT:
      return apply_agent(p, e);
    case CNV_LREC_REGISTER:
      return apply_register(p, e);
    case CNV_LREC_PHASE:
      /* the move itself was collected before the replay (p->moves) */
      return (e->detail & 0xFFu) < CNV_PHASE_COUNT ? CNV_OK : CNV_ELEDGER_CORRUPT;
    default:
      return CNV_OK;
  }
}

const cnv__audit_agent *cnv__audit_policy_agent(const cnv__audit_policy *p, uint32_t handle) {
  uint32_t at = cnv__audit_map_get(&p->agent_index, handle);
  return at && p->agents[at - 1].present ? &p->agents[at - 1] : NULL;
}

const cnv__audit_cap *cnv__audit_policy_cap(const cnv__audit_policy *p, uint64_t id) {
  uint32_t at = cnv__audit_map_get(&p->cap_index, id);
  return at && p->caps[at - 1].present ? &p->caps[at - 1] : NULL;
}
