/* The request path (docs/nats.md "Requests"): a REQUEST on a capability's subject -> its
 * session (opened ticket, cached) -> expiry -> anti-replay window -> open -> client time ->
 * the once path (once.c) or straight to the runtime; the answer is sealed and published by
 * on_done on the runtime's worker, on that worker's answer connection. */
#include <string.h>

#include <sodium.h>

#include <cnv/session.h>

#include "core/ignore.h"
#include "reply.h"
#include "serve_internal.h"

/* The session id a reply subject names, when it is exactly the REPLY subject of that session
 * and request id: the answer of a request goes nowhere else. */
static bool reply_sid(const natsn_serve *s, const char *reply, uint64_t reqid, uint8_t sid[CNV_SW_SID_BYTES]) {
  return natsn_reply_read(s->reply_prefix, s->reply_prefix_len, reply, reqid, sid);
}

static void on_done(void *ctx, const cnv_runtime_completion *c) {
  natsn_slot *slot = ctx;
  natsn_serve *s = slot->serve;
  natsn_wbuf *w;
  bool spare = c->worker < 0 || (uint32_t)c->worker >= s->n_wbufs;
  if (spare) {
    pthread_mutex_lock(&s->spare_lock);
    w = &s->spare;
  } else {
    w = &s->wbufs[c->worker]; /* this worker's: it delivers its own completions one at a time */
  }
  cnv_session_response r = {.status = c->status,
                            .done = (uint8_t)c->kind,
                            .result_type = (uint8_t)c->content_type,
                            .result = c->result,
                            .result_len = c->result_len};
  size_t plain_len, sealed_len;
  cnv_status st = cnv_session_response_encode(&r, w->plain, w->plain_cap, &plain_len);
  if (st == CNV_OK)
    st = cnv_sw_response_seal(slot->key_s2c, slot->reqid, w->plain, plain_len, w->sealed, w->sealed_cap, &sealed_len);
  bool stored = false;
  if (slot->kind == NATSN_SLOT_RUN) {
    /* it completed: something must be stored, or a retry would find the claim with no answer
     * and run it again; when the result cannot be sealed, its status without it */
    const uint8_t *bytes = w->sealed;
    if (st != CNV_OK)
      bytes = natsn_seal_small(slot->key_s2c, slot->reqid, st, (uint8_t)c->kind, w->plain, &sealed_len);
    if (bytes) {
      NATSN_COUNT(s->n, answered);
      natsn_once_store(s, slot, bytes, sealed_len); /* the slot goes back once stored */
      stored = true;
    }
  } else if (st == CNV_OK) {
    /* the worker's own answer connection (serve_internal.h), the main one for the spare */
    natsConnection *nc = spare ? s->n->nc : s->answer_nc[(uint32_t)c->worker % s->n_answer_nc];
    NATSN_COUNT(s->n, answered);                                               /* before the client can have it */
    (void)natsConnection_Publish(nc, slot->reply, w->sealed, (int)sealed_len); /* lost: retried */
  }
  if (spare) pthread_mutex_unlock(&s->spare_lock);
  if (!stored) natsn_slot_put(s, slot);
}

cnv_status natsn_submit(natsn_serve *s, natsn_slot *slot, uint32_t agent, const char *line, size_t len,
                        uint64_t timeout_ns, const cnv_trace *trace) {
  cnv_runtime_submit_opts o = {
      .correlation = slot->reqid, .trace = trace, .timeout_ns = timeout_ns, .on_done = on_done, .done_ctx = slot};
  /* counted before: the answer may reach the client before submit returns; taken back when
   * refused */
  NATSN_COUNT(s->n, accepted);
  cnv_status st = cnv_runtime_submit_ex(s->n->rt, agent, line, len, &o, NULL);
  if (st != CNV_OK) (void)cnv__fetch_sub_relaxed(&s->n->stats.accepted, 1);
  return st;
}

/* The runtime's timeout for a client's relative deadline (0: the class's limit), clamped to
 * the class's limit (more would be refused). */
static uint64_t timeout_of(const natsn_cap *c, uint32_t deadline_ms) {
  uint64_t target, limit;
  if (deadline_ms == 0 || cnv_duration_class_limits(c->cls, &target, &limit) != CNV_OK) return 0;
  uint64_t t = (uint64_t)deadline_ms * 1000000u;
  return t < limit ? t : limit;
}

/* Whether line invokes the capability this subject serves (and not another one, which
 * would dodge its queue group and its once decision). */
static bool line_is_for(const natsn_cap *c, const char *line, size_t len) {
  return len >= c->path_len && memcmp(line, c->path, c->path_len) == 0 &&
         (len == c->path_len || line[c->path_len] == ' ');
}

/* A session for a ticket not cached here: opens it under its epoch's swarm key, checks it
 * names this reply subject's session and has not expired, authenticates the request with
 * its key, verifies the agent's token into a runtime agent, caches it. NULL: answered or
 * dropped here (counted). */
static natsn_session *open_session(natsn_cap *c, natsn_stripe *stripe, const cnv_sw_request *r, const char *subject,
                                   const char *reply, const uint8_t sid[CNV_SW_SID_BYTES], size_t *plain_len) {
  natsn_serve *s = c->serve;
  cnv_nats_node *n = s->n;
  uint32_t epoch;
  if (cnv_sw_ticket_epoch(r->ticket, r->ticket_len, &epoch) != CNV_OK) {
    NATSN_COUNT(n, tampered);
    return NULL;
  }
  uint8_t key[CNV_SW_SYM_BYTES];
  if (!natsn_swarm_key(n, epoch, key)) {
    NATSN_COUNT(n, bad_tickets);
    natsn_refuse(s, reply, r->reqid, CNV_ESW_TICKET_EXPIRED);
    return NULL;
  }
  cnv_sw_ticket t;
  cnv_status st = cnv_sw_ticket_open(key, n->cfg.swarm, r->ticket, r->ticket_len, c->ticket_plain,
                                     sizeof c->ticket_plain, &t);
  sodium_memzero(key, sizeof key);
  natsn_session *e = NULL;
  if (st != CNV_OK) {
    NATSN_COUNT(n, bad_tickets);
    natsn_refuse(s, reply, r->reqid, CNV_ESW_TICKET);
    goto out;
  }
  if (memcmp(t.sid, sid, CNV_SW_SID_BYTES) != 0) { /* another session's reply subject */
    NATSN_COUNT(n, tampered);
    goto out;
  }
  if (cnv_sw_request_open(t.key_c2s, r, subject, reply, c->plain, c->plain_cap, plain_len) != CNV_OK) {
    NATSN_COUNT(n, tampered);
    goto out;
  }
  if (t.expires_ms <= natsn_now_ms()) { /* sealed: the client believes it (a plain one it may not) */
    NATSN_COUNT(n, bad_tickets);
    natsn_answer_small(s, reply, t.key_s2c, r->reqid, CNV_ESW_TICKET_EXPIRED, CNV_SESSION_DONE_REFUSED, c->answer);
    goto out;
  }
  uint32_t agent;
  st = cnv_runtime_agent_add_verified(n->rt, t.agent_pk, t.token, t.token_len, &agent);
  if (st != CNV_OK) { /* revoked or expired since the handshake, or no room for an agent */
    natsn_answer_small(s, reply, t.key_s2c, r->reqid, st, CNV_SESSION_DONE_REFUSED, c->answer);
    goto out;
  }
  e = natsn_sessions_insert(s->sessions, stripe, &t, agent);
  if (!e) {                                                     /* every session of the stripe has a claim in flight */
    cnv__ignore_status(cnv_runtime_agent_remove(n->rt, agent)); /* just added, on this thread */
    natsn_answer_small(s, reply, t.key_s2c, r->reqid, CNV_EFULL, CNV_SESSION_DONE_REFUSED, c->answer);
  }
out:
  sodium_memzero(c->ticket_plain, sizeof c->ticket_plain);
  sodium_memzero(&t, sizeof t);
  return e;
}

/* With the session's stripe locked, the request authenticated and its plaintext in
 * c->plain: the client's time, the invocation, then the once path or the runtime. */
static void handle(natsn_cap *c, natsn_session *e, const cnv_sw_request *r, const char *reply, size_t plain_len) {
  natsn_serve *s = c->serve;
  cnv_nats_node *n = s->n;
  uint64_t now = natsn_now_ms();
  uint64_t skew = now > r->ts_ms ? now - r->ts_ms : r->ts_ms - now;
  cnv_status why;
  if (skew > n->cfg.dedupe_window_ms / 2u) {
    NATSN_COUNT(n, stale);
    why = CNV_ENATS_STALE;
    goto refuse;
  }
  cnv_session_invoke inv;
  why = cnv_session_invoke_decode(c->plain, plain_len, &inv);
  if (why != CNV_OK) goto refuse;
  if (!line_is_for(c, inv.line, inv.line_len)) {
    why = CNV_ESW_SUBJECT;
    goto refuse;
  }
  cnv_trace trace = {0};
  bool has_trace = inv.traceparent && cnv_trace_parse(inv.traceparent, CNV_TRACEPARENT_LEN, &trace) == CNV_OK;
  if (c->once && inv.line_len > NATSN_MAX_LINE) {
    why = CNV_ERT_DENY_TOO_LONG;
    goto refuse;
  }
  natsn_slot *slot = natsn_slot_get(s);
  if (!slot) {
    why = CNV_EFULL;
    goto refuse;
  }
  slot->reqid = r->reqid;
  memcpy(slot->sid, e->sid, sizeof slot->sid);
  memcpy(slot->key_s2c, e->key_s2c, sizeof slot->key_s2c);
  memcpy(slot->reply, reply, strlen(reply) + 1); /* reply_sid checked it is a REPLY subject */
  uint64_t timeout_ns = timeout_of(c, inv.deadline_ms);
  if (!c->once) {
    slot->kind = NATSN_SLOT_FAST;
    why = natsn_submit(s, slot, e->agent, inv.line, inv.line_len, timeout_ns, has_trace ? &trace : NULL);
    if (why == CNV_OK) return;
    natsn_slot_put(s, slot);
    goto refuse;
  }
  slot->session = e;
  e->pins++; /* under the stripe's lock: eviction skips it until the claim's answer */
  slot->agent = e->agent;
  slot->timeout_ns = timeout_ns;
  slot->trace = trace;
  slot->has_trace = has_trace;
  memcpy(slot->line, inv.line, inv.line_len);
  slot->line_len = inv.line_len;
  /* the claim is published with the stripe locked: a short buffered write; its ack comes on
   * the JetStream context's thread, which takes this lock only to unpin */
  natsn_once_claim(s, slot, c->answer);
  return;
refuse:
  natsn_answer_small(s, reply, e->key_s2c, r->reqid, why, CNV_SESSION_DONE_REFUSED, c->answer);
}

void natsn_on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc;
  (void)sub;
  natsn_cap *c = closure;
  natsn_serve *s = c->serve;
  cnv_nats_node *n = s->n;
  NATSN_COUNT(n, requests);
  const char *reply = natsMsg_GetReply(msg);
  const char *subject = natsMsg_GetSubject(msg);
  const void *data = natsMsg_GetData(msg);
  size_t len = (size_t)natsMsg_GetDataLength(msg);
  cnv_sw_request r;
  uint8_t sid[CNV_SW_SID_BYTES];
  if (!reply || !data || len > c->plain_cap || cnv_sw_request_parse(data, len, &r) != CNV_OK ||
      !reply_sid(s, reply, r.reqid, sid)) {
    NATSN_COUNT(n, tampered);
    goto out;
  }
  natsn_stripe *stripe;
  size_t plain_len = 0;
  natsn_session *e = natsn_sessions_lock(s->sessions, sid, &stripe);
  if (!e && r.ticket_len == 0) { /* sent without its ticket: the client sends it again with it */
    NATSN_COUNT(n, no_session);
    natsn_refuse(s, reply, r.reqid, CNV_ESW_NO_SESSION);
  } else if (!e) {
    e = open_session(c, stripe, &r, subject, reply, sid, &plain_len);
    if (e) cnv__ignore_status(cnv_replay_update(&e->window, r.seq)); /* a new window takes seq >= 1 */
  } else if (cnv_replay_check(&e->window, r.seq) != CNV_OK) {
    NATSN_COUNT(n, replays);
    e = NULL;
  } else if (cnv_sw_request_open(e->key_c2s, &r, subject, reply, c->plain, c->plain_cap, &plain_len) != CNV_OK) {
    NATSN_COUNT(n, tampered);
    e = NULL;
  } else {
    cnv__ignore_status(cnv_replay_update(&e->window, r.seq)); /* checked just above, same lock */
    if (e->expires_ms <= natsn_now_ms()) {                    /* sealed, as in open_session */
      NATSN_COUNT(n, bad_tickets);
      natsn_answer_small(s, reply, e->key_s2c, r.reqid, CNV_ESW_TICKET_EXPIRED, CNV_SESSION_DONE_REFUSED, c->answer);
      e = NULL;
    }
  }
  if (e) handle(c, e, &r, reply, plain_len);
  natsn_sessions_unlock(stripe);
out:
  natsMsg_Destroy(msg);
}
