/* The serve half: the handshake responder, the capability subscriptions' setup and teardown,
 * the pool of per-request slots and the result-less answers (docs/nats.md "Handshake and
 * tickets", "Requests"). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/session.h>

#include "core/ignore.h"
#include "serve_internal.h"

/* ---- the slot pool ---- */

natsn_slot *natsn_slot_get(natsn_serve *s) {
  natsn_slot *slot = NULL;
  pthread_mutex_lock(&s->pool_lock);
  if (s->n_free > 0) slot = &s->slots[s->free_stack[--s->n_free]];
  pthread_mutex_unlock(&s->pool_lock);
  /* statistics for the status record: the mutex orders the pool itself */
  if (slot) (void)cnv__fetch_add_relaxed(&s->in_flight, 1);
  return slot;
}

void natsn_slot_put(natsn_serve *s, natsn_slot *slot) {
  sodium_memzero(slot->key_s2c, sizeof slot->key_s2c);
  slot->session = NULL;
  slot->pending = NULL;
  (void)cnv__fetch_sub_relaxed(&s->in_flight, 1); /* statistics, as in natsn_slot_get */
  pthread_mutex_lock(&s->pool_lock);
  slot->once_active = false;
  s->free_stack[s->n_free++] = slot->index;
  if (s->n_free == s->n_slots) pthread_cond_broadcast(&s->pool_idle);
  pthread_mutex_unlock(&s->pool_lock);
}

uint32_t natsn_serve_in_flight(const cnv_nats_node *n) {
  /* a figure for the status record: relaxed is enough */
  return cnv__load_relaxed(&n->serve->in_flight);
}

/* ---- answers ---- */

const uint8_t *natsn_seal_small(const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid, cnv_status status,
                                uint8_t done, uint8_t buf[NATSN_SMALL_ANSWER], size_t *len) {
  cnv_session_response r = {.status = status, .done = done, .result_type = CNV_CONTENT_TEXT};
  size_t plain_len;
  if (cnv_session_response_encode(&r, buf, NATSN_SMALL_PLAIN, &plain_len) != CNV_OK) return NULL;
  cnv_status st = cnv_sw_response_seal(key_s2c, reqid, buf, plain_len, buf + NATSN_SMALL_PLAIN,
                                       NATSN_SMALL_ANSWER - NATSN_SMALL_PLAIN, len);
  return st == CNV_OK ? buf + NATSN_SMALL_PLAIN : NULL;
}

void natsn_answer_small(natsn_serve *s, const char *subject, const uint8_t key_s2c[CNV_SW_SYM_BYTES], uint64_t reqid,
                        cnv_status status, uint8_t done, uint8_t buf[NATSN_SMALL_ANSWER]) {
  size_t len;
  const uint8_t *sealed = natsn_seal_small(key_s2c, reqid, status, done, buf, &len);
  if (!sealed) return;
  /* counted first, so a client that has the answer sees it counted (node_internal.h); a lost
   * answer is a lost message: the client retries with the same request id */
  NATSN_COUNT(s->n, answered);
  if (done == CNV_SESSION_DONE_REFUSED) NATSN_COUNT(s->n, denied);
  (void)natsConnection_Publish(s->n->nc, subject, sealed, (int)len);
}

void natsn_refuse(natsn_serve *s, const char *subject, uint64_t reqid, cnv_status status) {
  uint8_t buf[64];
  size_t len;
  if (cnv_sw_refusal_write(reqid, status, buf, sizeof buf, &len) != CNV_OK) return;
  /* unanswered, the client's attempt times out and it retries: nothing to do on failure */
  (void)natsConnection_Publish(s->n->nc, subject, buf, (int)len);
}

/* ---- handshake ---- */

static void welcome_refusal(natsn_serve *s, const char *reply, const uint8_t hello_hash[CNV_SW_HASH_BYTES],
                            cnv_status why) {
  cnv_nats_node *n = s->n;
  cnv_sw_welcome w = {.status = why, .node_token = n->token, .node_token_len = n->cfg.token_len};
  memcpy(w.node_pk, n->public_key, sizeof w.node_pk);
  size_t len;
  NATSN_COUNT(n, handshake_refused);
  if (cnv_sw_welcome_write(n->cfg.swarm, n->secret_key, hello_hash, &w, s->hs_welcome, s->hs_welcome_cap, &len) !=
      CNV_OK)
    return;
  (void)natsConnection_Publish(n->nc, reply, s->hs_welcome, (int)len); /* the agent retries */
}

/* Whether one more HELLO may be answered now: a token bucket of a second's worth of
 * cfg.max_handshakes_per_s, in thousandths of a HELLO (the handshake subscription's one
 * thread is its only user). */
static bool hs_admit(natsn_serve *s) {
  uint64_t rate = s->n->cfg.max_handshakes_per_s, full = rate * 1000u;
  uint64_t now = natsn_mono_ms();
  if (s->hs_refill_ms == 0) {
    s->hs_tokens = full;
  } else if (now > s->hs_refill_ms) {
    uint64_t add = (now - s->hs_refill_ms) * rate;
    s->hs_tokens = add >= full - s->hs_tokens ? full : s->hs_tokens + add;
  }
  s->hs_refill_ms = now;
  if (s->hs_tokens < 1000u) return false;
  s->hs_tokens -= 1000u;
  return true;
}

/* HELLO -> WELCOME with a ticket sealed under the current swarm key, or a refusal. */
static void on_hello(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc;
  (void)sub;
  natsn_serve *s = closure;
  cnv_nats_node *n = s->n;
  const char *reply = natsMsg_GetReply(msg);
  const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
  size_t len = (size_t)natsMsg_GetDataLength(msg);
  uint8_t hello_hash[CNV_SW_HASH_BYTES];
  cnv_sw_hello hello;
  if (!hs_admit(s)) { /* a flood: dropped before any check (the agent's request times out) */
    NATSN_COUNT(n, handshake_limited);
    goto out;
  }
  if (!reply || !data || cnv_sw_hash(data, len, hello_hash) != CNV_OK) goto out;
  cnv_status st = cnv_sw_hello_read(n->cfg.swarm, data, len, &hello);
  if (st != CNV_OK) {
    welcome_refusal(s, reply, hello_hash, st);
    goto out;
  }
  /* the agent's token: verified now, so a refusal reaches the agent at its handshake */
  uint32_t agent;
  st = cnv_runtime_agent_add_verified(n->rt, hello.agent_pk, hello.token, hello.token_len, &agent);
  if (st != CNV_OK) {
    welcome_refusal(s, reply, hello_hash, st);
    goto out;
  }
  /* the session's agent is added by whichever node gets its requests (sessions.c) */
  cnv__ignore_status(cnv_runtime_agent_remove(n->rt, agent)); /* just added, on this thread */

  uint8_t eph_sk[CNV_SW_EPH_BYTES], swarm_key[CNV_SW_SYM_BYTES];
  cnv_sw_ticket t = {.token = hello.token, .token_len = hello.token_len};
  cnv_sw_welcome w = {.status = 0, .node_token = n->token, .node_token_len = n->cfg.token_len};
  uint32_t epoch = natsn_key_epoch(n);
  size_t ticket_len = 0, welcome_len = 0;
  st = natsn_swarm_key(n, epoch, swarm_key) ? CNV_OK : CNV_ESTATE;
  if (st == CNV_OK) st = cnv_sw_eph_keypair(w.eph_pk, eph_sk);
  memcpy(w.node_pk, n->public_key, sizeof w.node_pk);
  if (st == CNV_OK)
    st = cnv_sw_session_keys(eph_sk, hello.eph_pk, hello_hash, n->public_key, w.eph_pk, t.key_c2s, t.key_s2c);
  if (st == CNV_OK) {
    /* the session id both sides know without sending it: the HELLO's hash, cut (each HELLO
     * is unique: an ephemeral key and a time, signed) */
    memcpy(t.sid, hello_hash, sizeof t.sid);
    memcpy(t.agent_pk, hello.agent_pk, sizeof t.agent_pk);
    memcpy(t.node_pk, n->public_key, sizeof t.node_pk);
    t.issued_ms = natsn_now_ms();
    t.expires_ms = t.issued_ms + n->cfg.ticket_ttl_ms;
    st = cnv_sw_ticket_seal(swarm_key, epoch, n->cfg.swarm, &t, s->hs_ticket, CNV_SW_MAX_TICKET, &ticket_len);
  }
  sodium_memzero(eph_sk, sizeof eph_sk);
  sodium_memzero(swarm_key, sizeof swarm_key);
  sodium_memzero(t.key_c2s, sizeof t.key_c2s);
  sodium_memzero(t.key_s2c, sizeof t.key_s2c);
  if (st != CNV_OK) {
    welcome_refusal(s, reply, hello_hash, st == CNV_ESW_HANDSHAKE ? CNV_ESW_HANDSHAKE : CNV_EFULL);
    goto out;
  }
  w.expires_ms = t.expires_ms;
  w.ticket = s->hs_ticket;
  w.ticket_len = ticket_len;
  if (cnv_sw_welcome_write(n->cfg.swarm, n->secret_key, hello_hash, &w, s->hs_welcome, s->hs_welcome_cap,
                           &welcome_len) == CNV_OK) {
    NATSN_COUNT(n, handshakes);                                                  /* before the agent can have it */
    (void)natsConnection_Publish(n->nc, reply, s->hs_welcome, (int)welcome_len); /* the agent retries */
  }
out:
  natsMsg_Destroy(msg);
}

/* ---- capability subscriptions ---- */

typedef struct cap_list {
  natsn_serve *s;
  cnv_status st;
} cap_list;

static bool add_cap(void *ctx, const cnv_runtime_capability_info *info) {
  cap_list *l = ctx;
  natsn_serve *s = l->s;
  natsn_cap *caps = realloc(s->caps, (s->n_caps + 1) * sizeof *caps);
  if (!caps) {
    l->st = CNV_ENOMEM;
    return false;
  }
  s->caps = caps;
  natsn_cap *c = &caps[s->n_caps];
  memset(c, 0, sizeof *c);
  c->serve = s;
  c->effects = info->effects;
  c->cls = info->cls;
  c->once = s->n->cfg.once == CNV_NATS_ONCE_ALL ||
            (info->effects & (CNV_EFFECT_READ_ONLY | CNV_EFFECT_IDEMPOTENT)) == 0;
  c->path_len = info->path_len;
  c->path = malloc(info->path_len + 1);
  c->plain_cap = s->n->cfg.max_message;
  c->plain = malloc(c->plain_cap);
  s->n_caps++;
  if (!c->path || !c->plain) {
    l->st = CNV_ENOMEM;
    return false;
  }
  memcpy(c->path, info->path, info->path_len + 1);
  l->st = cnv_sw_subject_cap(s->n->cfg.swarm, info->path, info->path_len, c->subject, sizeof c->subject, NULL);
  return l->st == CNV_OK;
}

/* Closes the answer connections (each close joins that connection's threads). */
static void answer_conns_close(natsn_serve *s) {
  for (uint32_t i = 0; i < s->n_answer_nc; i++) {
    if (!s->answer_nc[i]) continue;
    natsConnection_Close(s->answer_nc[i]);
    natsConnection_Destroy(s->answer_nc[i]);
    s->answer_nc[i] = NULL;
  }
}

static void free_serve(natsn_serve *s) {
  answer_conns_close(s);
  for (size_t i = 0; i < s->n_caps; i++) {
    natsSubscription_Destroy(s->caps[i].sub);
    free(s->caps[i].path);
    free(s->caps[i].plain);
  }
  free(s->caps);
  natsSubscription_Destroy(s->hs_sub);
  natsn_sessions_destroy(s->sessions);
  if (s->slots) sodium_memzero(s->slots, (size_t)s->n_slots * sizeof *s->slots);
  free(s->slots);
  free(s->free_stack);
  for (uint32_t i = 0; i < s->n_wbufs; i++) {
    free(s->wbufs[i].plain);
    free(s->wbufs[i].sealed);
  }
  free(s->wbufs);
  free(s->spare.plain);
  free(s->spare.sealed);
  free(s->hs_ticket);
  free(s->hs_welcome);
  free(s->ack_plain);
  pthread_mutex_destroy(&s->pool_lock);
  pthread_cond_destroy(&s->pool_idle);
  pthread_mutex_destroy(&s->spare_lock);
  pthread_mutex_destroy(&s->closed_lock);
  pthread_cond_destroy(&s->closed_cv);
  free(s);
}

static bool wbuf_init(natsn_wbuf *w, size_t max_result) {
  /* the RESPONSE payload's header; at least a result-less answer's buffer (on_done's
   * fallback when a result cannot be sealed) */
  w->plain_cap = max_result + 64 + NATSN_SMALL_ANSWER;
  w->sealed_cap = w->plain_cap + CNV_SW_RESPONSE_OVERHEAD;
  w->plain = malloc(w->plain_cap);
  w->sealed = malloc(w->sealed_cap);
  return w->plain && w->sealed;
}

/* "cnv.S.s.", the start of every session subject of the swarm: "cnv.S.s.SID.>" without its
 * session id and ".>". */
static cnv_status reply_prefix(uint64_t swarm, natsn_serve *s) {
  static const uint8_t zero[CNV_SW_SID_BYTES];
  size_t len = 0;
  cnv_status st =
      cnv_sw_subject_session(CNV_SW_SESS_ALL, swarm, zero, 0, s->reply_prefix, sizeof s->reply_prefix, &len);
  if (st != CNV_OK) return st;
  s->reply_prefix_len = len - (2u * CNV_SW_SID_BYTES + 2u);
  s->reply_prefix[s->reply_prefix_len] = '\0';
  return CNV_OK;
}

cnv_status natsn_serve_create(cnv_nats_node *n) {
  natsn_serve *s = calloc(1, sizeof *s);
  if (!s) return CNV_ENOMEM;
  s->n = n;
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_cond_init(&s->pool_idle, NULL);
  pthread_mutex_init(&s->spare_lock, NULL);
  pthread_mutex_init(&s->closed_lock, NULL);
  pthread_cond_init(&s->closed_cv, NULL);
  s->n_slots = cnv_runtime_in_flight_limit(n->rt);
  s->slots = calloc(s->n_slots, sizeof *s->slots);
  s->free_stack = calloc(s->n_slots, sizeof *s->free_stack);
  s->n_wbufs = cnv_runtime_workers(n->rt);
  s->wbufs = calloc(s->n_wbufs, sizeof *s->wbufs);
  s->hs_ticket = malloc(CNV_SW_MAX_TICKET);
  s->hs_welcome_cap = CNV_SW_MAX_TICKET + CNV_SW_MAX_TOKEN + 512u;
  s->hs_welcome = malloc(s->hs_welcome_cap);
  size_t max_result = cnv_runtime_max_result(n->rt);
  bool ok = s->slots && s->free_stack && s->wbufs && s->hs_ticket && s->hs_welcome && wbuf_init(&s->spare, max_result);
  if (ok) {
    s->ack_plain_cap = s->spare.plain_cap; /* a stored answer's plaintext is at most a worker's */
    s->ack_plain = malloc(s->ack_plain_cap);
    ok = s->ack_plain != NULL;
  }
  for (uint32_t i = 0; ok && i < s->n_wbufs; i++) ok = wbuf_init(&s->wbufs[i], max_result);
  if (!ok) {
    free_serve(s);
    return CNV_ENOMEM;
  }
  for (uint32_t i = 0; i < s->n_slots; i++) {
    s->slots[i].index = i;
    s->slots[i].serve = s;
    s->free_stack[i] = s->n_slots - 1 - i;
  }
  s->n_free = s->n_slots;
  cnv_status st = natsn_sessions_create(n, n->cfg.max_sessions, &s->sessions);
  if (st == CNV_OK) st = cnv_sw_subject_swarm(CNV_SW_SUBJ_STREAM, n->cfg.swarm, s->stream, sizeof s->stream, NULL);
  if (st == CNV_OK) st = reply_prefix(n->cfg.swarm, s);
  if (st != CNV_OK) {
    free_serve(s);
    return st;
  }
  n->serve = s;
  return CNV_OK;
}

void natsn_serve_destroy(cnv_nats_node *n) {
  if (!n->serve) return;
  free_serve(n->serve);
  n->serve = NULL;
}

cnv_status natsn_serve_start(cnv_nats_node *n) {
  natsn_serve *s = n->serve;
  cnv_status st = natsn_once_ensure_stream(s);
  cap_list l = {.s = s, .st = CNV_OK};
  /* the answer connections exist before any request can arrive */
  s->n_answer_nc = s->n_wbufs < NATSN_ANSWER_CONNS_MAX ? s->n_wbufs : NATSN_ANSWER_CONNS_MAX;
  if (st == CNV_OK) st = natsn_answer_conns_open(n, s->answer_nc, s->n_answer_nc);
  if (st == CNV_OK) st = cnv_runtime_capability_each(n->rt, add_cap, &l, NULL);
  if (st == CNV_OK) st = l.st;
  char hs[CNV_SW_SUBJECT_MAX], queue[CNV_SW_SUBJECT_MAX];
  if (st == CNV_OK) st = cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, n->cfg.swarm, hs, sizeof hs, NULL);
  if (st == CNV_OK) st = cnv_sw_subject_swarm(CNV_SW_SUBJ_QUEUE, n->cfg.swarm, queue, sizeof queue, NULL);
  for (size_t i = 0; st == CNV_OK && i < s->n_caps; i++)
    if (natsConnection_QueueSubscribe(&s->caps[i].sub, n->nc, s->caps[i].subject, queue, natsn_on_request,
                                      &s->caps[i]) != NATS_OK)
      st = CNV_ENATS_CONNECT;
  if (st == CNV_OK && natsConnection_QueueSubscribe(&s->hs_sub, n->nc, hs, queue, on_hello, s) != NATS_OK)
    st = CNV_ENATS_CONNECT;
  /* the subscriptions are known to the server once a round trip completed */
  if (st == CNV_OK && natsConnection_FlushTimeout(n->nc, n->cfg.connect_timeout_ms) != NATS_OK)
    st = CNV_ENATS_TIMEOUT;
  if (st != CNV_OK) {
    natsn_serve_stop(n);
    return st;
  }
  return CNV_OK;
}

void natsn_serve_stop(cnv_nats_node *n) {
  natsn_serve *s = n->serve;
  if (!s) return;
  /* no new work: the queue groups stop giving this node requests. Draining waits for the
   * callbacks of what was delivered (Unsubscribe alone would not), so no callback runs on a
   * freed subscription's closure. */
  for (size_t i = 0; i < s->n_caps; i++)
    if (s->caps[i].sub && natsSubscription_Drain(s->caps[i].sub) == NATS_OK)
      (void)natsSubscription_WaitForDrainCompletion(s->caps[i].sub, 0);
  if (s->hs_sub && natsSubscription_Drain(s->hs_sub) == NATS_OK)
    (void)natsSubscription_WaitForDrainCompletion(s->hs_sub, 0);
  /* requests between their claim and their answer, and invocations in the runtime: every
   * claim has a MaxWait (its ack handler runs, timed out or not), every accepted invocation
   * completes through on_done (at the latest when the embedder stops the runtime), and each
   * gives its slot back last */
  pthread_mutex_lock(&s->pool_lock);
  while (s->n_free < s->n_slots) pthread_cond_wait(&s->pool_idle, &s->pool_lock);
  pthread_mutex_unlock(&s->pool_lock);
  /* stored answers published by those last on_done calls */
  jsPubOptions po;
  if (n->js && jsPubOptions_Init(&po) == NATS_OK) {
    po.MaxWait = n->cfg.connect_timeout_ms;
    (void)js_PublishAsyncComplete(n->js, &po); /* a timeout leaves them to the client's retry */
  }
  /* every slot is back: no worker publishes an answer any more */
  answer_conns_close(s);
  /* every agent this node added goes, every session key is wiped */
  natsn_sessions_destroy(s->sessions);
  s->sessions = NULL;
}
