/* The once path (docs/nats.md "Exactly once: claims, the dedupe window and takeover"): a
 * request of an effectful capability runs only after this node's claim on it, then its run
 * marker (published on the claim subject on the condition that the claim is still the
 * subject's last message), were stored in the once stream; its answer is stored there (the
 * DONE subject) as it is published. A takeover is published on the same condition, so a
 * claim is either run by its claimer or taken over, never both; a run marker is never taken
 * over.
 *
 * Claims are published with js_PublishMsgAsync and answered in the JetStream context's ack
 * handler (one nats.c thread for every ack): many claims are in flight with no thread each.
 * The claim's slot is named in a header and checked against the message. The duplicate
 * case (a retry, or a replay of the claim) asks JetStream synchronously for the stored
 * answer and the last claim from that thread: it is the rare path. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/session.h>

#include "core/ignore.h"
#include "serve_internal.h"

/* JetStream's error code for a publish whose expected last subject sequence is not the
 * subject's last one (JSStreamWrongLastSequenceErr; nats.c 3.4.1 has no name for it). */
#define NATSN_JS_WRONG_LAST_SEQ 10071
/* A run marker or an answer JetStream refused at once is published again after this long. */
#define NATSN_RETRY_MS 100
/* The run marker: the claimer's public key and this byte (a claim is the key alone). */
#define NATSN_RUN_MARK 'r'

cnv_status natsn_once_ensure_stream(natsn_serve *s) {
  cnv_nats_node *n = s->n;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  if (js_GetStreamInfo(&si, n->js, s->stream, NULL, &jerr) == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return CNV_OK;
  }
  char claims[CNV_SW_SUBJECT_MAX], done[CNV_SW_SUBJECT_MAX];
  if (cnv_sw_subject_swarm(CNV_SW_SUBJ_CLAIMS, n->cfg.swarm, claims, sizeof claims, NULL) != CNV_OK ||
      cnv_sw_subject_swarm(CNV_SW_SUBJ_DONE_ALL, n->cfg.swarm, done, sizeof done, NULL) != CNV_OK)
    return CNV_ENATS_JETSTREAM;
  const char *subjects[2] = {claims, done};
  jsStreamConfig cfg;
  if (jsStreamConfig_Init(&cfg) != NATS_OK) return CNV_ENATS_JETSTREAM;
  cfg.Name = s->stream;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 2;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = (int64_t)n->cfg.replicas;
  /* the dedupe window: claims' message ids are remembered this long (Duplicates), and claims
   * and stored answers are kept as long (MaxAge) */
  cfg.MaxAge = (int64_t)n->cfg.dedupe_window_ms * 1000000;
  cfg.Duplicates = cfg.MaxAge;
  if (js_AddStream(&si, n->js, &cfg, NULL, &jerr) == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return CNV_OK;
  }
  /* another node may have made it between the two calls */
  if (js_GetStreamInfo(&si, n->js, s->stream, NULL, &jerr) == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return CNV_OK;
  }
  return CNV_ENATS_JETSTREAM;
}

/* Answers a slot with a result-less refusal (not stored), unpins it, gives it back. The ack
 * handler's thread (buf its scratch), or the request's (buf its capability's). */
static void finish(natsn_serve *s, natsn_slot *slot, cnv_status why, uint8_t buf[NATSN_SMALL_ANSWER]) {
  natsn_answer_small(s, slot->reply, slot->key_s2c, slot->reqid, why, CNV_SESSION_DONE_REFUSED, buf);
  natsn_sessions_unpin(s->sessions, slot->session);
  natsn_slot_put(s, slot);
}

/* How long an answer's store waits for its ack before the answer also goes to the reply
 * subject (and is published again): one status interval. A node whose JetStream is slow or
 * away (its server restarting) still answers its client at once over core NATS, long before
 * anyone could judge it dead (10 intervals without its status record). */
static int64_t store_wait(const cnv_nats_node *n) {
  return n->cfg.status_interval_ms ? (int64_t)n->cfg.status_interval_ms : 1000;
}

/* A claim or run marker's payload: the claimer's key, the key epoch, a keyed hash under that
 * epoch's swarm key over the claim's subject, the claimer and the mark, then (a run marker) the
 * mark byte. The once stream's subjects are open to whoever reaches the NATS server: only a
 * node of the swarm (holding the key) makes a claim or marker that verifies, so a made-up one
 * names no claimer. */
#define CLAIM_TAG_BYTES 32u
#define CLAIM_BYTES (CNV_SW_KEY_BYTES + 4u + CLAIM_TAG_BYTES)

static bool claim_tag(const cnv_nats_node *n, uint32_t epoch, const char *subject, const uint8_t pk[CNV_SW_KEY_BYTES],
                      uint8_t mark, uint8_t tag[CLAIM_TAG_BYTES]) {
  static const char domain[] = "cnv-swarm/1 claim";
  uint8_t key[CNV_SW_SYM_BYTES];
  if (!natsn_swarm_key(n, epoch, key)) return false;
  crypto_generichash_state h;
  bool ok = crypto_generichash_init(&h, key, sizeof key, CLAIM_TAG_BYTES) == 0 &&
            crypto_generichash_update(&h, (const uint8_t *)domain, sizeof domain) == 0 &&
            crypto_generichash_update(&h, (const uint8_t *)subject, strlen(subject) + 1) == 0 &&
            crypto_generichash_update(&h, pk, CNV_SW_KEY_BYTES) == 0 &&
            crypto_generichash_update(&h, &mark, 1) == 0 && crypto_generichash_final(&h, tag, CLAIM_TAG_BYTES) == 0;
  sodium_memzero(key, sizeof key);
  sodium_memzero(&h, sizeof h);
  return ok;
}

/* Whether data is a claim (*started false) or a run marker (*started true) on subject made by
 * a node of the swarm; *claimer its key. */
static bool claim_valid(const cnv_nats_node *n, const char *subject, const void *data, int len,
                        uint8_t claimer[CNV_SW_KEY_BYTES], bool *started) {
  if (!data || (len != (int)CLAIM_BYTES && len != (int)CLAIM_BYTES + 1)) return false;
  const uint8_t *p = data;
  uint8_t mark = len == (int)CLAIM_BYTES ? 0 : p[CLAIM_BYTES];
  if (len == (int)CLAIM_BYTES + 1 && mark != NATSN_RUN_MARK) return false;
  uint32_t epoch = (uint32_t)p[32] | (uint32_t)p[33] << 8 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 24;
  uint8_t tag[CLAIM_TAG_BYTES];
  if (!claim_tag(n, epoch, subject, p, mark, tag)) return false;
  memcpy(claimer, p, CNV_SW_KEY_BYTES);
  *started = mark == NATSN_RUN_MARK;
  return sodium_memcmp(tag, p + CNV_SW_KEY_BYTES + 4u, CLAIM_TAG_BYTES) == 0;
}

/* The slot's message id with suffix: "SIDHEX.R.MAC" (cnv_sw_claim_id: only the session's
 * holders can name it ahead, so nobody takes a request's ids first) then suffix. */
static bool once_msg_id(const natsn_slot *slot, const char *suffix, char *id, size_t cap) {
  size_t len;
  if (cnv_sw_claim_id(slot->key_s2c, slot->sid, slot->reqid, 0, id, cap, &len) != CNV_OK) return false;
  int w = snprintf(id + len, cap - len, "%s", suffix);
  return w >= 0 && (size_t)w < cap - len;
}

/* Publishes on the slot's claim subject, with the message id once_msg_id(suffix), the
 * expected last subject sequence expect_seq (0: none), payload a claim (mark 0) or a run
 * marker (mark NATSN_RUN_MARK). The ack handler runs for it, acked or timed out. */
static bool publish_on_claim(natsn_serve *s, natsn_slot *slot, natsn_slot_kind kind, const char *suffix,
                             uint64_t expect_seq, char mark) {
  cnv_nats_node *n = s->n;
  char subject[CNV_SW_SUBJECT_MAX], id[CNV_SW_CLAIM_ID_MAX + 32], idx[16];
  uint8_t payload[CLAIM_BYTES + 1];
  uint32_t epoch = natsn_key_epoch(n);
  if (cnv_sw_subject_session(CNV_SW_SESS_CLAIM, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                             NULL) != CNV_OK ||
      !once_msg_id(slot, suffix, id, sizeof id))
    return false;
  memcpy(payload, n->public_key, CNV_SW_KEY_BYTES);
  for (int i = 0; i < 4; i++) payload[CNV_SW_KEY_BYTES + i] = (uint8_t)(epoch >> (8 * i));
  if (!claim_tag(n, epoch, subject, n->public_key, (uint8_t)mark, payload + CNV_SW_KEY_BYTES + 4u)) return false;
  payload[CLAIM_BYTES] = (uint8_t)mark;
  snprintf(idx, sizeof idx, "%u", slot->index);
  natsMsg *m = NULL;
  jsPubOptions po;
  if (natsMsg_Create(&m, subject, NULL, (const char *)payload, (int)CLAIM_BYTES + (mark ? 1 : 0)) != NATS_OK)
    return false;
  if (natsMsgHeader_Set(m, NATSN_HDR_SLOT, idx) != NATS_OK || jsPubOptions_Init(&po) != NATS_OK) {
    natsMsg_Destroy(m);
    return false;
  }
  po.MsgId = id;
  po.MaxWait = n->cfg.connect_timeout_ms;
  po.ExpectLastSubjectSeq = expect_seq;
  slot->kind = kind;
  slot->pending = m; /* identity for the ack handler; written before nats.c can see m */
  natsStatus ns = js_PublishMsgAsync(n->js, &m, &po);
  natsMsg_Destroy(m); /* NULL when nats.c took it */
  return ns == NATS_OK;
}

/* Publishes a claim (expect_seq 0) or a takeover of the claim at stream sequence expect_seq
 * (message id once_msg_id(".tSEQ")). */
static bool publish_claim(natsn_serve *s, natsn_slot *slot, uint64_t expect_seq) {
  char suffix[32] = "";
  if (expect_seq) snprintf(suffix, sizeof suffix, ".t%llu", (unsigned long long)expect_seq);
  return publish_on_claim(s, slot, expect_seq ? NATSN_SLOT_TAKEOVER : NATSN_SLOT_CLAIM, suffix, expect_seq, 0);
}

/* Publishes the run marker of this node's stored claim (slot->claim_seq), on the condition
 * that the claim is still the subject's last message: message id once_msg_id(".rSEQ") (a failure
 * other than that refusal is published again under it: JetStream keeps one). */
static bool publish_start(natsn_serve *s, natsn_slot *slot) {
  char suffix[32];
  snprintf(suffix, sizeof suffix, ".r%llu", (unsigned long long)slot->claim_seq);
  return publish_on_claim(s, slot, NATSN_SLOT_START, suffix, slot->claim_seq, NATSN_RUN_MARK);
}

/* Publishes msg (a run marker or an answer not known to be stored) again, as it is: its
 * Msg-Id header makes JetStream keep one of them. false: not published (msg destroyed). */
static bool republish(natsn_serve *s, natsn_slot *slot, natsMsg *msg) {
  jsPubOptions po;
  if (jsPubOptions_Init(&po) != NATS_OK) {
    natsMsg_Destroy(msg);
    return false;
  }
  po.MaxWait = slot->kind == NATSN_SLOT_STORE ? store_wait(s->n) : s->n->cfg.connect_timeout_ms;
  slot->pending = msg;
  natsStatus ns = js_PublishMsgAsync(s->n->js, &msg, &po);
  natsMsg_Destroy(msg); /* NULL when nats.c took it */
  return ns == NATS_OK;
}

/* After a failed ack of a run marker or an answer (JetStream's answer is all that says
 * whether it was stored: a timeout says nothing, and an error from a stream changing its
 * leader may come for a message that is stored nonetheless): publishes msg again, as it is,
 * while a retry of the client may still come; its Msg-Id makes JetStream keep one. An error
 * that came at once waits NATSN_RETRY_MS first, on the ack handler's thread (JetStream is
 * failing meanwhile). true: published again; false: the time is up or the publish failed
 * (msg destroyed either way). */
static bool publish_again(natsn_serve *s, natsn_slot *slot, natsMsg *msg, const jsPubAckErr *pae) {
  if (natsn_mono_ms() >= slot->retry_until_ms) {
    natsMsg_Destroy(msg);
    return false;
  }
  if (pae && pae->Err != NATS_TIMEOUT) nats_Sleep(NATSN_RETRY_MS);
  return republish(s, slot, msg);
}

/* Whether the slot's claim subject ends with this node's run marker, stored after its claim
 * (slot->claim_seq): 1 yes (it is this slot's: no other slot of this node holds the request,
 * and no earlier marker can follow its claim), 0 no, -1 JetStream did not say. */
static int own_marker_last(natsn_serve *s, const natsn_slot *slot) {
  cnv_nats_node *n = s->n;
  char subject[CNV_SW_SUBJECT_MAX];
  natsMsg *m = NULL;
  jsErrCode jerr = 0;
  if (cnv_sw_subject_session(CNV_SW_SESS_CLAIM, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                             NULL) != CNV_OK ||
      js_GetLastMsg(&m, n->js, s->stream, subject, NULL, &jerr) != NATS_OK)
    return -1;
  uint8_t claimer[CNV_SW_KEY_BYTES];
  bool started = false;
  bool own = natsMsg_GetSequence(m) > slot->claim_seq &&
             claim_valid(n, subject, natsMsg_GetData(m), natsMsg_GetDataLength(m), claimer, &started) && started &&
             sodium_memcmp(claimer, n->public_key, CNV_SW_KEY_BYTES) == 0;
  natsMsg_Destroy(m);
  return own ? 1 : 0;
}

/* Whether another slot of this node holds request (sid, reqid) between its claim and its
 * stored answer. */
static bool running_elsewhere(natsn_serve *s, const natsn_slot *slot) {
  bool found = false;
  pthread_mutex_lock(&s->pool_lock);
  for (uint32_t i = 0; i < s->n_slots && !found; i++) {
    const natsn_slot *o = &s->slots[i];
    found = o != slot && o->once_active && o->once_reqid == slot->once_reqid &&
            memcmp(o->once_sid, slot->once_sid, CNV_SW_SID_BYTES) == 0;
  }
  pthread_mutex_unlock(&s->pool_lock);
  return found;
}

void natsn_once_claim(natsn_serve *s, natsn_slot *slot, uint8_t buf[NATSN_SMALL_ANSWER]) {
  pthread_mutex_lock(&s->pool_lock);
  slot->once_active = true;
  memcpy(slot->once_sid, slot->sid, CNV_SW_SID_BYTES);
  slot->once_reqid = slot->reqid;
  pthread_mutex_unlock(&s->pool_lock);
  /* the client retries for at most half the dedupe window (its call timeout): a run marker or
   * an answer whose ack does not come is published again until then */
  slot->retry_until_ms = natsn_mono_ms() + s->n->cfg.dedupe_window_ms / 2u;
  slot->took_over = false;
  NATSN_COUNT(s->n, claims); /* before its answer can come: taken back when not published */
  if (!publish_claim(s, slot, 0)) {
    (void)cnv__fetch_sub_relaxed(&s->n->stats.claims, 1);
    finish(s, slot, CNV_ENATS_JETSTREAM, buf);
  }
}

void natsn_once_store(natsn_serve *s, natsn_slot *slot, const uint8_t *sealed, size_t len) {
  cnv_nats_node *n = s->n;
  char subject[CNV_SW_SUBJECT_MAX], idx[16], id[CNV_SW_CLAIM_ID_MAX + 32];
  natsMsg *m = NULL;
  snprintf(idx, sizeof idx, "%u", slot->index);
  bool ok = once_msg_id(slot, ".d", id, sizeof id) &&
            cnv_sw_subject_session(CNV_SW_SESS_DONE, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                                   NULL) == CNV_OK &&
            natsMsg_Create(&m, subject, NULL, (const char *)sealed, (int)len) == NATS_OK &&
            natsMsgHeader_Set(m, NATSN_HDR_SLOT, idx) == NATS_OK;
  if (ok) {
    jsPubOptions po;
    ok = jsPubOptions_Init(&po) == NATS_OK;
    po.MaxWait = store_wait(n); /* the ack handler runs for it, acked or timed out */
    po.MsgId = id;              /* published again after a failure: stored once */
    slot->kind = NATSN_SLOT_STORE;
    slot->pending = m; /* identity for the ack handler, as a claim's */
    ok = ok && js_PublishMsgAsync(n->js, &m, &po) == NATS_OK;
  }
  natsMsg_Destroy(m); /* NULL when nats.c took it */
  if (ok) return;
  /* not stored: the client still gets this answer */
  (void)natsConnection_Publish(n->nc, slot->reply, sealed, (int)len);
  natsn_slot_put(s, slot);
}

/* The claim was stored: run it. A refusal by the runtime is stored as its answer, so a
 * retry gets it rather than waiting on a claim nobody runs. */
static void run(natsn_serve *s, natsn_slot *slot) {
  natsn_session *session = slot->session; /* on_done may give the slot back before submit returns */
  slot->kind = NATSN_SLOT_RUN;
  cnv_status st = natsn_submit(s, slot, slot->agent, slot->line, slot->line_len, slot->timeout_ns,
                               slot->has_trace ? &slot->trace : NULL);
  natsn_sessions_unpin(s->sessions, session);
  if (st == CNV_OK) return;
  size_t len;
  const uint8_t *sealed =
      natsn_seal_small(slot->key_s2c, slot->reqid, st, CNV_SESSION_DONE_REFUSED, s->ack_answer, &len);
  if (!sealed) {
    natsn_slot_put(s, slot);
    return;
  }
  NATSN_COUNT(s->n, answered);
  NATSN_COUNT(s->n, denied);
  natsn_once_store(s, slot, sealed, len);
}

/* Whether a stored answer (the DONE subject's last message) is this request's, sealed under
 * the session's key: an attacker may publish on the DONE subject too. */
static bool stored_answer_valid(natsn_serve *s, const natsn_slot *slot, const natsMsg *m) {
  cnv_sw_response r;
  size_t plain_len;
  return cnv_sw_response_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &r) == CNV_OK && !r.refusal &&
         r.reqid == slot->reqid &&
         cnv_sw_response_open(slot->key_s2c, &r, s->ack_plain, s->ack_plain_cap, &plain_len) == CNV_OK;
}

/* The claim was there already (counted a duplicate; orig_seq the stream sequence of the first
 * claim with this request's message id): "in progress" while this node holds the request in
 * another slot, else the stored answer. With none, the claim subject's last message says who
 * claimed it and whether it started:
 *   - a claim (not started): a takeover, expecting that claim to be the subject's last
 *     message, as the claimer's run marker does: one of them is stored;
 *   - a run marker (started): "in progress" while its claimer lives; when it does not, its
 *     handler may have run, and nobody can tell: the answer is CNV_ENATS_OUTCOME_UNKNOWN,
 *     never a second run.
 * This node's slots are asked first: one gives its slot back only once its answer is stored
 * (or its retries ran out), so when none holds it, a stored answer is found.
 *
 * Anyone on the NATS server may publish on the claim and DONE subjects (docs/nats.md
 * "Exactly once"): a stored answer that does not open under the session's key is never
 * relayed, and a claim or marker that does not verify (claim_valid) names no claimer. Only the
 * last message of a subject can be read, so what an attacker appended may hide a real claim,
 * marker or answer behind it: then "in progress" (the request never runs twice). The one case
 * known safe to take over is a first claim that is forged and still the last: no node of the
 * swarm claimed the request (its claim would have been a duplicate of that one, and a takeover
 * or marker after it would be the last). */
static void duplicate(natsn_serve *s, natsn_slot *slot, uint64_t orig_seq) {
  cnv_nats_node *n = s->n;
  char subject[CNV_SW_SUBJECT_MAX];
  natsMsg *m = NULL;
  jsErrCode jerr = 0;
  NATSN_COUNT(n, duplicates);
  if (running_elsewhere(s, slot)) {
    finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
    return;
  }
  if (cnv_sw_subject_session(CNV_SW_SESS_DONE, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                             NULL) != CNV_OK) {
    finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
    return;
  }
  bool forged_answer = false;
  natsStatus ns = js_GetLastMsg(&m, n->js, s->stream, subject, NULL, &jerr);
  if (ns == NATS_OK) {
    if (stored_answer_valid(s, slot, m)) {
      NATSN_COUNT(n, stored_answers); /* before the client can have it */
      NATSN_COUNT(n, answered);
      (void)natsConnection_Publish(n->nc, slot->reply, natsMsg_GetData(m), natsMsg_GetDataLength(m));
      natsMsg_Destroy(m);
      natsn_sessions_unpin(s->sessions, slot->session);
      natsn_slot_put(s, slot);
      return;
    }
    NATSN_COUNT(n, forged);
    forged_answer = true;
    natsMsg_Destroy(m);
    m = NULL;
  } else if (jerr != JSNoMessageFoundErr) {
    finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
    return;
  }
  if (cnv_sw_subject_session(CNV_SW_SESS_CLAIM, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                             NULL) != CNV_OK ||
      js_GetLastMsg(&m, n->js, s->stream, subject, NULL, &jerr) != NATS_OK) {
    finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
    return;
  }
  uint8_t claimer[CNV_SW_KEY_BYTES];
  bool started = false;
  bool valid = claim_valid(n, subject, natsMsg_GetData(m), natsMsg_GetDataLength(m), claimer, &started);
  uint64_t seq = natsMsg_GetSequence(m);
  int64_t stored_ns = natsMsg_GetTime(m); /* JetStream's clock */
  natsMsg_Destroy(m);
  if (!valid) {
    NATSN_COUNT(n, forged);
    if (seq == orig_seq && !publish_claim(s, slot, seq)) /* no node claimed it (above) */
      finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
    else if (seq != orig_seq)
      finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
    return;
  }
  if (forged_answer) { /* the claimer's answer may be behind the forgery */
    finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
    return;
  }
  if (started) {
    /* this node as the claimer, not holding it (asked above): an earlier run of this node
     * (same key), or one that gave up storing its answer; natsn_node_live_fresh says yes to
     * itself */
    bool self = sodium_memcmp(claimer, n->public_key, CNV_SW_KEY_BYTES) == 0;
    if (!self && natsn_node_live_fresh(n, claimer, stored_ns > 0 ? (uint64_t)stored_ns / 1000000u : 0)) {
      finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
      return;
    }
    /* not a refusal (it may have run): done says it ran, the status that nobody knows */
    natsn_answer_small(s, slot->reply, slot->key_s2c, slot->reqid, CNV_ENATS_OUTCOME_UNKNOWN, CNV_DONE_RAN,
                       s->ack_answer);
    natsn_sessions_unpin(s->sessions, slot->session);
    natsn_slot_put(s, slot);
    return;
  }
  /* a claim not started: taking it over is safe whoever holds it and whether it lives (its
   * run marker and the takeover expect the same last message: one is stored), and a claim
   * whose claimer gave up (its ack timed out) is run by the first retry */
  if (!publish_claim(s, slot, seq)) finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
}

void natsn_once_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
  (void)js;
  cnv_nats_node *n = closure;
  natsn_serve *s = n->serve;
  const char *v = NULL;
  char *end = NULL;
  unsigned long idx = natsMsgHeader_Get(msg, NATSN_HDR_SLOT, &v) == NATS_OK ? strtoul(v, &end, 10) : ULONG_MAX;
  /* another half's publish (none uses this handler today), or a slot's ack that no longer
   * matches its message (cannot happen: each slot has one publish in flight) */
  if (!end || *end || idx >= s->n_slots || s->slots[idx].pending != msg) {
    natsMsg_Destroy(msg);
    return;
  }
  natsn_slot *slot = &s->slots[idx];
  slot->pending = NULL;
  if (slot->kind == NATSN_SLOT_STORE) {
    if (!pa) {
      /* not known to be stored: the client gets the answer now (a second copy of it is
       * dropped), and it is published again while a retry may come, the slot held */
      (void)natsConnection_Publish(n->nc, slot->reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      if (publish_again(s, slot, msg, pae)) return;
    } else {
      natsMsg_Destroy(msg);
    }
    natsn_slot_put(s, slot);
    return;
  }
  if (slot->kind == NATSN_SLOT_START) {
    /* stored (a duplicate: this very marker, published again, was stored before): this node
     * runs it, and no takeover can be stored after it */
    if (pa) {
      natsMsg_Destroy(msg);
      if (slot->took_over) NATSN_COUNT(n, takeovers);
      run(s, slot);
      return;
    }
    /* the claim is no longer the subject's last message: another node's takeover came first
     * (it runs it), or this very marker, published again, is (a clustered stream checks the
     * expected sequence before the Msg-Id: the first publish was stored, its ack lost) */
    int last = pae && pae->ErrCode == NATSN_JS_WRONG_LAST_SEQ ? own_marker_last(s, slot) : -1;
    if (last == 1) {
      natsMsg_Destroy(msg);
      if (slot->took_over) NATSN_COUNT(n, takeovers);
      run(s, slot);
      return;
    }
    if (last == 0) {
      natsMsg_Destroy(msg);
      finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
      return;
    }
    if (publish_again(s, slot, msg, pae)) return;
    /* gave up (half the window: no retry of the client comes any more) */
    finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
    return;
  }
  natsMsg_Destroy(msg);
  if (pa && !pa->Duplicate) {
    /* the claim (or takeover) is stored: the run marker next, expecting it as the last */
    slot->claim_seq = pa->Sequence;
    slot->took_over = slot->kind == NATSN_SLOT_TAKEOVER;
    if (!publish_start(s, slot)) finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
  } else if (pa && slot->kind == NATSN_SLOT_CLAIM) {
    duplicate(s, slot, pa->Sequence); /* a duplicate's ack names the first one's sequence */
  } else if (pa || slot->kind == NATSN_SLOT_TAKEOVER) {
    /* another node's takeover came first (same id, or the claim moved on): it runs it */
    finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
  } else {
    finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
  }
}
