/* The once path (docs/nats.md "Exactly once: claims, the dedupe window and takeover"): a
 * request of an effectful capability runs only after this node's claim on it was stored in
 * the once stream, and its answer is stored there (the DONE subject) as it is published.
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

/* A claim's payload: the claimer's key, the key epoch, and a keyed hash under that epoch's
 * swarm key over the claim's subject and the claimer. The once stream's subjects are open to
 * whoever reaches the NATS server: only a node of the swarm (holding the key) makes a claim
 * that verifies, so a made-up claim names no claimer. */
#define CLAIM_TAG_BYTES 32u
#define CLAIM_BYTES (CNV_SW_KEY_BYTES + 4u + CLAIM_TAG_BYTES)

static bool claim_tag(const cnv_nats_node *n, uint32_t epoch, const char *subject, const uint8_t pk[CNV_SW_KEY_BYTES],
                      uint8_t tag[CLAIM_TAG_BYTES]) {
  static const char domain[] = "cnv-swarm/1 claim";
  uint8_t key[CNV_SW_SYM_BYTES];
  if (!natsn_swarm_key(n, epoch, key)) return false;
  crypto_generichash_state h;
  bool ok = crypto_generichash_init(&h, key, sizeof key, CLAIM_TAG_BYTES) == 0 &&
            crypto_generichash_update(&h, (const uint8_t *)domain, sizeof domain) == 0 &&
            crypto_generichash_update(&h, (const uint8_t *)subject, strlen(subject) + 1) == 0 &&
            crypto_generichash_update(&h, pk, CNV_SW_KEY_BYTES) == 0 &&
            crypto_generichash_final(&h, tag, CLAIM_TAG_BYTES) == 0;
  sodium_memzero(key, sizeof key);
  sodium_memzero(&h, sizeof h);
  return ok;
}

/* Whether data is a claim on subject made by a node of the swarm; *claimer its key. */
static bool claim_valid(const cnv_nats_node *n, const char *subject, const void *data, int len,
                        uint8_t claimer[CNV_SW_KEY_BYTES]) {
  if (!data || len != (int)CLAIM_BYTES) return false;
  const uint8_t *p = data;
  uint32_t epoch = (uint32_t)p[32] | (uint32_t)p[33] << 8 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 24;
  uint8_t tag[CLAIM_TAG_BYTES];
  if (!claim_tag(n, epoch, subject, p, tag)) return false;
  memcpy(claimer, p, CNV_SW_KEY_BYTES);
  return sodium_memcmp(tag, p + CNV_SW_KEY_BYTES + 4u, CLAIM_TAG_BYTES) == 0;
}

/* Publishes a claim (or a takeover: expect_seq > 0) on the slot's claim subject. */
static bool publish_claim(natsn_serve *s, natsn_slot *slot, uint64_t expect_seq) {
  cnv_nats_node *n = s->n;
  char subject[CNV_SW_SUBJECT_MAX], id[CNV_SW_CLAIM_ID_MAX], idx[16];
  uint8_t payload[CLAIM_BYTES];
  uint32_t epoch = natsn_key_epoch(n);
  if (cnv_sw_subject_session(CNV_SW_SESS_CLAIM, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                             NULL) != CNV_OK)
    return false;
  memcpy(payload, n->public_key, CNV_SW_KEY_BYTES);
  for (int i = 0; i < 4; i++) payload[CNV_SW_KEY_BYTES + i] = (uint8_t)(epoch >> (8 * i));
  if (!claim_tag(n, epoch, subject, n->public_key, payload + CNV_SW_KEY_BYTES + 4u)) return false;
  /* a message id only the session's holders can name ahead: nobody takes it first */
  if (cnv_sw_claim_id(slot->key_s2c, slot->sid, slot->reqid, expect_seq, id, sizeof id, NULL) != CNV_OK) return false;
  snprintf(idx, sizeof idx, "%u", slot->index);
  natsMsg *m = NULL;
  jsPubOptions po;
  if (natsMsg_Create(&m, subject, NULL, (const char *)payload, (int)sizeof payload) != NATS_OK) return false;
  if (natsMsgHeader_Set(m, NATSN_HDR_SLOT, idx) != NATS_OK || jsPubOptions_Init(&po) != NATS_OK) {
    natsMsg_Destroy(m);
    return false;
  }
  po.MsgId = id;
  po.MaxWait = n->cfg.connect_timeout_ms; /* the ack handler runs for it, acked or timed out */
  po.ExpectLastSubjectSeq = expect_seq;
  slot->kind = expect_seq ? NATSN_SLOT_TAKEOVER : NATSN_SLOT_CLAIM;
  slot->pending = m; /* identity for the ack handler; written before nats.c can see m */
  natsStatus ns = js_PublishMsgAsync(n->js, &m, &po);
  natsMsg_Destroy(m); /* NULL when nats.c took it */
  return ns == NATS_OK;
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
  NATSN_COUNT(s->n, claims); /* before its answer can come: taken back when not published */
  if (!publish_claim(s, slot, 0)) {
    (void)cnv__fetch_sub_relaxed(&s->n->stats.claims, 1);
    finish(s, slot, CNV_ENATS_JETSTREAM, buf);
  }
}

void natsn_once_store(natsn_serve *s, natsn_slot *slot, const uint8_t *sealed, size_t len) {
  cnv_nats_node *n = s->n;
  char subject[CNV_SW_SUBJECT_MAX], idx[16];
  natsMsg *m = NULL;
  snprintf(idx, sizeof idx, "%u", slot->index);
  bool ok = cnv_sw_subject_session(CNV_SW_SESS_DONE, n->cfg.swarm, slot->sid, slot->reqid, subject, sizeof subject,
                                   NULL) == CNV_OK &&
            natsMsg_Create(&m, subject, NULL, (const char *)sealed, (int)len) == NATS_OK &&
            natsMsgHeader_Set(m, NATSN_HDR_SLOT, idx) == NATS_OK;
  if (ok) {
    jsPubOptions po;
    ok = jsPubOptions_Init(&po) == NATS_OK;
    po.MaxWait = n->cfg.connect_timeout_ms; /* the ack handler runs for it, acked or timed out */
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
 * another slot, else the stored answer; with none, "in progress" while its claimer lives, or a
 * takeover when it does not (its claimer dead, or this node restarted and not holding it).
 * This node's slots are asked first: one gives its slot back only once its answer is stored,
 * so when none holds it, a stored answer is found.
 *
 * Anyone on the NATS server may publish on the claim and DONE subjects (docs/nats.md
 * "Exactly once"): a stored answer that does not open under the session's key is never
 * relayed, and a claim that does not verify (claim_valid) names no claimer. Only the last
 * message of a subject can be read, so what an attacker appended may hide a real claim or
 * answer behind it: then "in progress" (the request never runs twice). The one case known
 * safe to take over is a first claim that is forged and still the last: no node of the swarm
 * claimed the request (its claim would have been a duplicate of that one, and a takeover after
 * it would be the last). */
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
  bool valid = claim_valid(n, subject, natsMsg_GetData(m), natsMsg_GetDataLength(m), claimer);
  uint64_t seq = natsMsg_GetSequence(m);
  natsMsg_Destroy(m);
  bool take;
  if (!valid) {
    NATSN_COUNT(n, forged);
    take = seq == orig_seq; /* no node claimed it (above) */
  } else if (forged_answer) {
    take = false; /* the claimer's answer may be behind the forgery */
  } else {
    /* this node as the claimer, not holding it (asked above): a claim left by an earlier run
     * of this node (same key), or one whose ack never came; natsn_node_live says yes to itself */
    bool self = sodium_memcmp(claimer, n->public_key, CNV_SW_KEY_BYTES) == 0;
    take = self || !natsn_node_live(n, claimer);
  }
  if (!take) {
    finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
    return;
  }
  if (!publish_claim(s, slot, seq)) finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
}

void natsn_once_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
  (void)js;
  (void)pae; /* pa NULL says it failed; why does not change the answer */
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
    /* not stored: the client still gets the answer (a retry then takes the claim over) */
    if (!pa) (void)natsConnection_Publish(n->nc, slot->reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
    natsn_slot_put(s, slot);
    return;
  }
  natsMsg_Destroy(msg);
  if (pa && !pa->Duplicate) {
    if (slot->kind == NATSN_SLOT_TAKEOVER) NATSN_COUNT(n, takeovers);
    run(s, slot);
  } else if (pa && slot->kind == NATSN_SLOT_CLAIM) {
    duplicate(s, slot, pa->Sequence); /* a duplicate's ack names the first one's sequence */
  } else if (pa || slot->kind == NATSN_SLOT_TAKEOVER) {
    /* another node's takeover came first (same id, or the claim moved on): it runs it */
    finish(s, slot, CNV_ENATS_IN_PROGRESS, s->ack_answer);
  } else {
    finish(s, slot, CNV_ENATS_JETSTREAM, s->ack_answer);
  }
}
