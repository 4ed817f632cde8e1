/* The swarm's records (docs/nats.md "Swarm state"): who may sign what, the checks a record
 * passes before it changes anything, and how each kind is applied. A record that fails any
 * check changes nothing: it is counted and reported (CNV_NATS_EV_RECORD_BAD). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/delegation.h>

#include "core/atomic.h"
#include "core/ignore.h"
#include "records.h"
#include "state_internal.h"

#define SHORTAGE_RETRY_MS 50 /* a check or application refused for a shortage is tried again after this */

cnv_status natsn_token_allows_serve(const uint8_t *token, size_t token_len) {
  cnv_deleg_cap cap;
  cnv_status st =
      cnv_deleg_cap_from_path(CNV_NATS_SERVE_CAPABILITY, sizeof CNV_NATS_SERVE_CAPABILITY - 1, &cap);
  if (st != CNV_OK) return st;
  cnv_deleg_token *tok = malloc(sizeof *tok); /* about 7 KiB: off the stack */
  if (!tok) return CNV_ENOMEM;
  st = cnv_deleg_token_decode(token, token_len, tok, NULL);
  /* Every link must allow the capability and none forbid it. A verified chain narrows at each
   * link, so this is the last link's scope; checking all of them needs no such assumption. */
  for (uint8_t i = 0; st == CNV_OK && i < tok->n_links; i++) {
    const cnv_deleg_caveats *c = &tok->links[i].caveats;
    bool allowed = false;
    for (uint8_t k = 0; k < c->n_allow; k++) allowed = allowed || cnv_deleg_pattern_matches(&c->allow[k], &cap);
    for (uint8_t k = 0; k < c->n_forbid; k++) allowed = allowed && !cnv_deleg_pattern_matches(&c->forbid[k], &cap);
    if (!allowed) st = CNV_ENATS_NOT_AUTHORIZED;
  }
  free(tok);
  return st;
}

cnv_status natsn_token_is_root(const uint8_t signer[CNV_SW_KEY_BYTES], const uint8_t *token, size_t token_len) {
  cnv_deleg_token *tok = malloc(sizeof *tok);
  if (!tok) return CNV_ENOMEM;
  cnv_status st = cnv_deleg_token_decode(token, token_len, tok, NULL);
  if (st == CNV_OK && (tok->n_links != 1 || sodium_memcmp(tok->links[0].issuer, signer, CNV_SW_KEY_BYTES) != 0 ||
                       sodium_memcmp(tok->links[0].audience, signer, CNV_SW_KEY_BYTES) != 0)) {
    st = CNV_ENATS_NOT_AUTHORIZED;
  }
  free(tok);
  return st;
}

cnv_status natsn_root_token(uint64_t swarm, const uint8_t sk[CNV_SW_SECRET_BYTES], uint8_t *out, size_t cap,
                            size_t *len) {
  cnv_deleg_caveats cav;
  memset(&cav, 0, sizeof cav);
  cav.expiry = CNV_DELEG_NO_EXPIRY;
  cav.swarm = swarm;
  cav.max_uses = CNV_DELEG_UNLIMITED_USES;
  cav.n_allow = 1;
  cnv_status st =
      cnv_deleg_pattern_parse(CNV_NATS_SERVE_CAPABILITY, sizeof CNV_NATS_SERVE_CAPABILITY - 1, &cav.allow[0]);
  if (st != CNV_OK) return st;
  /* the root delegates to itself: sk's public half is its last 32 bytes */
  return cnv_deleg_mint_root(sk, sk + 32, &cav, NULL, out, cap, len);
}

cnv_status natsn_record_sign(uint64_t swarm, cnv_sw_record_kind kind, const uint8_t id[32],
                             const uint8_t sk[CNV_SW_SECRET_BYTES], const uint8_t *token, size_t token_len,
                             const void *body, size_t body_len, char key[CNV_SW_KV_KEY_MAX], uint8_t *buf,
                             size_t *len) {
  cnv_status st = cnv_sw_record_key(kind, id, key, CNV_SW_KV_KEY_MAX, NULL);
  if (st != CNV_OK) return st;
  cnv_sw_record rec = {.kind = (uint8_t)kind,
                       .ts_ms = natsn_now_ms(),
                       .token = token,
                       .token_len = token_len,
                       .body = body,
                       .body_len = body_len};
  memcpy(rec.signer_pk, sk + 32, CNV_SW_KEY_BYTES);
  return cnv_sw_record_write(swarm, key, sk, &rec, buf, NATSN_MAX_RECORD, len);
}

cnv_status natsn_kv_status(natsStatus ns) {
  if (ns == NATS_OK) return CNV_OK;
  return ns == NATS_TIMEOUT ? CNV_ENATS_TIMEOUT : CNV_ENATS_JETSTREAM;
}

/* How record_store writes a record: kvStore_Put, kvStore_Create, kvStore_Update. */
typedef enum { RECORD_PUT,
               RECORD_CREATE,
               RECORD_UPDATE } record_write;

/* Signs a record in n's name (its key and token) into buf and writes it as how says. */
static cnv_status record_store(cnv_nats_node *n, uint8_t *buf, cnv_sw_record_kind kind, const uint8_t id[32],
                               const void *body, size_t body_len, record_write how, uint64_t last_rev) {
  char key[CNV_SW_KV_KEY_MAX];
  size_t len;
  cnv_status st = natsn_record_sign(n->cfg.swarm, kind, id, n->secret_key, n->token, n->cfg.token_len, body, body_len,
                                    key, buf, &len);
  if (st != CNV_OK) return st;
  uint64_t rev;
  natsStatus ns;
  switch (how) {
    case RECORD_CREATE:
      ns = kvStore_Create(&rev, n->state->kv, key, buf, (int)len);
      break;
    case RECORD_UPDATE:
      ns = kvStore_Update(&rev, n->state->kv, key, buf, (int)len, last_rev);
      break;
    default:
      ns = kvStore_Put(&rev, n->state->kv, key, buf, (int)len);
  }
  return natsn_kv_status(ns);
}

cnv_status natsn_record_put(cnv_nats_node *n, uint8_t *buf, cnv_sw_record_kind kind, const uint8_t id[32],
                            const void *body, size_t body_len, bool create) {
  return record_store(n, buf, kind, id, body, body_len, create ? RECORD_CREATE : RECORD_PUT, 0);
}

cnv_status natsn_record_replace(cnv_nats_node *n, uint8_t *buf, cnv_sw_record_kind kind, const uint8_t id[32],
                                const void *body, size_t body_len, uint64_t last_rev) {
  return record_store(n, buf, kind, id, body, body_len, RECORD_UPDATE, last_rev);
}

void natsn_record_bad(cnv_nats_node *n, const uint8_t signer[CNV_SW_KEY_BYTES], uint64_t record_ms, cnv_status why) {
  /* a statistic: relaxed is enough (no other memory is published through it) */
  cnv__fetch_add_relaxed(&n->stats.records_bad, 1);
  cnv_nats_event ev = {.kind = CNV_NATS_EV_RECORD_BAD, .record_ms = record_ms, .status = why};
  if (signer) memcpy(ev.id, signer, sizeof ev.id);
  natsn_event(n, &ev);
}

cnv_status natsn_record_id(const cnv_sw_record *rec, const uint8_t **id) {
  switch (rec->kind) {
    case CNV_SW_REC_TRUST:
    case CNV_SW_REC_REVOKE:
      if (rec->body_len != 32) return CNV_ESW_MALFORMED;
      *id = rec->body;
      return CNV_OK;
    case CNV_SW_REC_GRANT:
      if (rec->body_len != NATSN_GRANT_BODY) return CNV_ESW_MALFORMED;
      *id = rec->body + 4;
      return CNV_OK;
    case CNV_SW_REC_JOIN:
      if (rec->body_len != 0) return CNV_ESW_MALFORMED;
      *id = rec->signer_pk;
      return CNV_OK;
    case CNV_SW_REC_NODE:
      if (rec->body_len != CNV_SW_NODE_STATUS_BYTES) return CNV_ESW_MALFORMED;
      *id = rec->signer_pk;
      return CNV_OK;
    default:
      return CNV_ESW_MALFORMED;
  }
}

cnv_status natsn_record_check_name(const char *key, const cnv_sw_record *rec) {
  const uint8_t *id;
  cnv_status st = natsn_record_id(rec, &id);
  if (st != CNV_OK) return st;
  char want[CNV_SW_KV_KEY_MAX];
  st = cnv_sw_record_key((cnv_sw_record_kind)rec->kind, id, want, sizeof want, NULL);
  if (st != CNV_OK) return st;
  return strcmp(want, key) == 0 ? CNV_OK : CNV_ESW_PROOF;
}

/* Waits SHORTAGE_RETRY_MS before a check or an application is tried again; false when stop
 * was asked (then the record is not applied). */
static bool retry_wait(natsn_state *s) {
  pthread_mutex_lock(&s->mu);
  bool stopping = s->stopping;
  if (!stopping) natsn_cv_wait_ms(s, SHORTAGE_RETRY_MS);
  pthread_mutex_unlock(&s->mu);
  return !stopping;
}

/* A passing shortage: the runtime's agent table full, or memory. */
static bool shortage(cnv_status st) { return st == CNV_ERT_AGENTS_FULL || st == CNV_ENOMEM; }

/* Whether the record's signer may sign it, by the runtime's trust roots and revocations. The
 * check borrows an agent slot: while the runtime has none free (or memory runs out) it is
 * asked again, so a record is never dropped for a passing shortage (a revocation least of
 * all); records wait behind it, in order. */
static cnv_status signer_check(cnv_nats_node *n, const cnv_sw_record *rec) {
  if (!rec->token || rec->token_len == 0) return CNV_ENATS_NOT_AUTHORIZED;
  cnv_status st = natsn_check_serve_token(n, rec->signer_pk, rec->token, rec->token_len);
  while (shortage(st) && retry_wait(n->state)) {
    st = natsn_check_serve_token(n, rec->signer_pk, rec->token, rec->token_len);
  }
  if (st == CNV_OK && rec->kind == CNV_SW_REC_TRUST) st = natsn_token_is_root(rec->signer_pk, rec->token, rec->token_len);
  return st;
}

/* Applies a verified TRUST or REVOKE to the runtime, again while memory runs short. */
static cnv_status runtime_apply(cnv_nats_node *n, const cnv_sw_record *rec) {
  cnv_status st;
  do {
    st = rec->kind == CNV_SW_REC_TRUST ? cnv_runtime_trust_add(n->rt, rec->body) : cnv_runtime_revoke(n->rt, rec->body);
  } while (shortage(st) && retry_wait(n->state));
  return st;
}

cnv_status natsn_record_verify(cnv_nats_node *n, const char *key, const void *val, size_t len, cnv_sw_record *rec,
                               bool *read) {
  *read = false;
  if (len > NATSN_MAX_RECORD) return CNV_ERANGE;
  cnv_status st = cnv_sw_record_read(n->cfg.swarm, key, val, len, rec);
  if (st != CNV_OK) return st;
  *read = true;
  st = natsn_record_check_name(key, rec);
  if (st == CNV_OK) st = signer_check(n, rec);
  return st;
}

void natsn_record_apply(cnv_nats_node *n, const char *key, const void *val, size_t len, bool replay, uint8_t *buf) {
  if (strcmp(key, NATSN_GENESIS_KEY) == 0) return; /* raw: the creator's key, nothing to apply */
  cnv_sw_record rec;
  bool read;
  cnv_status st = natsn_record_verify(n, key, val, len, &rec, &read);
  if (st != CNV_OK) {
    natsn_record_bad(n, read ? rec.signer_pk : NULL, read ? rec.ts_ms : 0, st);
    return;
  }
  cnv_nats_event ev = {.record_ms = rec.ts_ms};
  switch (rec.kind) {
    case CNV_SW_REC_TRUST:
      st = runtime_apply(n, &rec);
      ev.kind = CNV_NATS_EV_TRUSTED;
      break;
    case CNV_SW_REC_REVOKE:
      st = runtime_apply(n, &rec);
      ev.kind = CNV_NATS_EV_REVOKED;
      break;
    case CNV_SW_REC_GRANT:
      st = natsn_grant_received(n, rec.body, rec.body_len, buf);
      break;
    case CNV_SW_REC_JOIN:
      natsn_join_received(n, rec.signer_pk, buf);
      break;
    default: { /* CNV_SW_REC_NODE: natsn_record_id checked the kind */
      cnv_sw_node_status ns;
      st = cnv_sw_node_status_decode(rec.body, rec.body_len, &ns);
      if (st == CNV_OK) natsn_peer_update(n, rec.signer_pk, &ns, rec.ts_ms, replay);
      break;
    }
  }
  if (st != CNV_OK) {
    natsn_record_bad(n, rec.signer_pk, rec.ts_ms, st);
    return;
  }
  /* a statistic: relaxed is enough */
  cnv__fetch_add_relaxed(&n->stats.records_applied, 1);
  if (ev.kind) {
    memcpy(ev.id, rec.body, sizeof ev.id);
    natsn_event(n, &ev);
  }
}

cnv_status natsn_check_serve_token(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], const uint8_t *token,
                                   size_t token_len) {
  if (!n || !pk || !token || token_len == 0) return CNV_EINVAL;
  if (token_len > CNV_SW_MAX_TOKEN) return CNV_ENATS_NOT_AUTHORIZED;
  /* The runtime's verifier knows the trust roots (those TRUST records added too) and the
   * revocations: a verified add asks it about the chain, the holder, the swarm and the time;
   * the agent is removed at once (no submit ever names it). */
  uint32_t agent;
  cnv_status st = cnv_runtime_agent_add_verified(n->rt, pk, token, token_len, &agent);
  if (st != CNV_OK) return st;
  /* cannot fail: the handle was just returned by add and nothing else knows it */
  cnv__ignore_status(cnv_runtime_agent_remove(n->rt, agent));
  return natsn_token_allows_serve(token, token_len);
}
