/* The admin (docs/nats.md "Swarm state"): writes REVOKE and TRUST records into a swarm's
 * bucket and reads the nodes' status, with no runtime. A root signs with a one-link token it
 * issues to itself (natsn_root_token), which a node's verifier accepts only if that root is
 * one of its trust roots. Status records are checked with a delegation verifier of its own
 * that trusts the roots it is given, plus those the bucket's TRUST records add, minus the
 * links the bucket's REVOKE records revoke: the rule the nodes follow. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/delegation.h>

#include "core/ignore.h"
#include "records.h"
#include "servers.h"
#include "shared_internal.h"

struct cnv_nats_admin {
  natsConnection *nc;
  jsCtx *js;
  kvStore *kv;
  uint64_t swarm;
  uint32_t timeout_ms;
};

void cnv_nats_admin_close(cnv_nats_admin *a) {
  if (!a) return;
  if (a->kv) kvStore_Destroy(a->kv);
  if (a->js) jsCtx_Destroy(a->js);
  if (a->nc) natsConnection_Destroy(a->nc);
  free(a);
}

cnv_status cnv_nats_admin_connect(const char *servers, uint64_t swarm, uint32_t timeout_ms, cnv_nats_admin **out) {
  if (!servers || !out) return CNV_EINVAL;
  *out = NULL;
  if (swarm == 0) return CNV_ERANGE;
  char bucket[CNV_SW_SUBJECT_MAX];
  cnv_status st = cnv_sw_subject_swarm(CNV_SW_SUBJ_BUCKET, swarm, bucket, sizeof bucket, NULL);
  if (st != CNV_OK) return st;
  cnv_nats_admin *a = calloc(1, sizeof *a);
  if (!a) return CNV_ENOMEM;
  a->swarm = swarm;
  a->timeout_ms = timeout_ms ? timeout_ms : 10000u;
  natsOptions *o = NULL;
  st = CNV_ENATS_CONNECT;
  if (natsOptions_Create(&o) == NATS_OK && natsn_set_servers(o, servers) == NATS_OK &&
      natsOptions_SetTimeout(o, (int64_t)a->timeout_ms) == NATS_OK &&
      natsConnection_Connect(&a->nc, o) == NATS_OK) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = (int64_t)a->timeout_ms;
    st = CNV_ENATS_JETSTREAM;
    if (natsConnection_JetStream(&a->js, a->nc, &jo) == NATS_OK && js_KeyValue(&a->kv, a->js, bucket) == NATS_OK) {
      st = CNV_OK;
    }
  }
  natsOptions_Destroy(o);
  if (st != CNV_OK) {
    cnv_nats_admin_close(a);
    return st;
  }
  *out = a;
  return CNV_OK;
}

/* Signs a record with sk (and token, or a root token minted now) and puts it. */
static cnv_status admin_put(cnv_nats_admin *a, cnv_sw_record_kind kind, const uint8_t sk[CNV_SW_SECRET_BYTES],
                            const uint8_t *token, size_t token_len, const uint8_t body[32]) {
  uint8_t root_token[NATSN_ROOT_TOKEN_MAX];
  cnv_status st = CNV_OK;
  if (!token) {
    st = natsn_root_token(a->swarm, sk, root_token, sizeof root_token, &token_len);
    token = root_token;
  }
  uint8_t *buf = malloc(NATSN_MAX_RECORD);
  if (!buf) return CNV_ENOMEM;
  char key[CNV_SW_KV_KEY_MAX];
  size_t len = 0;
  if (st == CNV_OK) st = natsn_record_sign(a->swarm, kind, body, sk, token, token_len, body, 32, key, buf, &len);
  uint64_t rev;
  if (st == CNV_OK) st = natsn_kv_status(kvStore_Put(&rev, a->kv, key, buf, (int)len));
  free(buf);
  return st;
}

cnv_status cnv_nats_admin_revoke(cnv_nats_admin *a, const uint8_t signer_sk[CNV_SW_SECRET_BYTES],
                                 const uint8_t *token, size_t token_len, const uint8_t hash[CNV_SW_HASH_BYTES]) {
  if (!a || !signer_sk || !hash || (token && token_len == 0)) return CNV_EINVAL;
  if (token && token_len > CNV_SW_MAX_TOKEN) return CNV_ERANGE;
  return admin_put(a, CNV_SW_REC_REVOKE, signer_sk, token, token_len, hash);
}

cnv_status cnv_nats_admin_trust(cnv_nats_admin *a, const uint8_t root_sk[CNV_SW_SECRET_BYTES],
                                const uint8_t new_pk[CNV_SW_KEY_BYTES]) {
  if (!a || !root_sk || !new_pk) return CNV_EINVAL;
  return admin_put(a, CNV_SW_REC_TRUST, root_sk, NULL, 0, new_pk);
}

/* The admin's verifier: a token check as a node makes it (signer the holder, swarm.serve). */
static cnv_status admin_check(cnv_deleg_verifier *v, uint64_t swarm, const cnv_sw_record *rec) {
  if (!rec->token || rec->token_len == 0) return CNV_ENATS_NOT_AUTHORIZED;
  cnv_deleg_cap cap;
  cnv_status st = cnv_deleg_cap_from_path(CNV_NATS_SERVE_CAPABILITY, sizeof CNV_NATS_SERVE_CAPABILITY - 1, &cap);
  if (st != CNV_OK) return st;
  cnv_deleg_request req = {
      .now = natsn_now_ms() / 1000u, .swarm = swarm, .holder = rec->signer_pk, .cap = &cap, .effects = 0};
  st = cnv_deleg_verify(v, rec->token, rec->token_len, &req, NULL, NULL);
  if (st == CNV_OK && rec->kind == CNV_SW_REC_TRUST) st = natsn_token_is_root(rec->signer_pk, rec->token, rec->token_len);
  return st;
}

/* One record of the bucket, as the admin reads it: applies TRUST and REVOKE to v (they come in
 * the bucket's order, before the status records are judged), keeps NODE entries in nodes. */
static void admin_entry(cnv_deleg_verifier *v, uint64_t swarm, kvEntry *e, kvEntry **nodes, size_t *n_nodes) {
  const char *key = kvEntry_Key(e);
  int len = kvEntry_ValueLen(e);
  cnv_sw_record rec;
  if (kvEntry_Operation(e) != kvOp_Put || len < 0 || (size_t)len > NATSN_MAX_RECORD ||
      cnv_sw_record_read(swarm, key, kvEntry_Value(e), (size_t)len, &rec) != CNV_OK ||
      natsn_record_check_name(key, &rec) != CNV_OK) {
    kvEntry_Destroy(e);
    return;
  }
  if (rec.kind == CNV_SW_REC_NODE && *n_nodes < NATSN_MAX_PEERS) {
    nodes[(*n_nodes)++] = e;
    return;
  }
  if ((rec.kind == CNV_SW_REC_TRUST || rec.kind == CNV_SW_REC_REVOKE) && admin_check(v, swarm, &rec) == CNV_OK) {
    /* A failed add (memory) leaves the admin's view narrower: it shows fewer nodes, never a
     * node the nodes would not count. */
    if (rec.kind == CNV_SW_REC_TRUST) cnv__ignore_status(cnv_deleg_trust_add(v, rec.body));
    if (rec.kind == CNV_SW_REC_REVOKE) cnv__ignore_status(cnv_deleg_revoke(v, rec.body));
  }
  kvEntry_Destroy(e);
}

cnv_status cnv_nats_admin_status(cnv_nats_admin *a, const uint8_t *trust, size_t n_trust, cnv_nats_node_info *out,
                                 size_t cap, size_t *count) {
  if (!a || !count || (!trust && n_trust > 0) || (!out && cap > 0)) return CNV_EINVAL;
  *count = 0;
  cnv_deleg_config dc;
  cnv_deleg_config_default(&dc);
  dc.cache_capacity = 0;
  dc.cache_max_bytes = 0;
  dc.neg_cache_slots = 0;
  cnv_deleg_verifier *v = NULL;
  cnv_status st = cnv_deleg_verifier_create(&dc, &v);
  if (st != CNV_OK) return st;
  for (size_t i = 0; i < n_trust && st == CNV_OK; i++) st = cnv_deleg_trust_add(v, trust + 32 * i);
  kvEntry **nodes = calloc(NATSN_MAX_PEERS, sizeof *nodes);
  size_t n_nodes = 0;
  if (st == CNV_OK && !nodes) st = CNV_ENOMEM;
  kvWatcher *w = NULL;
  if (st == CNV_OK) {
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = true;
    st = natsn_kv_status(kvStore_WatchAll(&w, a->kv, &wo));
  }
  uint64_t deadline = natsn_mono_ms() + a->timeout_ms;
  while (st == CNV_OK) { /* the initial values, up to their end marker */
    uint64_t now = natsn_mono_ms();
    kvEntry *e = NULL;
    st = now < deadline ? natsn_kv_status(kvWatcher_Next(&e, w, (int64_t)(deadline - now))) : CNV_ENATS_TIMEOUT;
    if (st != CNV_OK || !e) break;
    admin_entry(v, a->swarm, e, nodes, &n_nodes);
  }
  if (w) kvWatcher_Destroy(w);
  uint64_t now = natsn_now_ms();
  for (size_t i = 0; i < n_nodes; i++) {
    cnv_sw_record rec;
    cnv_sw_node_status ns;
    if (st == CNV_OK &&
        cnv_sw_record_read(a->swarm, kvEntry_Key(nodes[i]), kvEntry_Value(nodes[i]),
                           (size_t)kvEntry_ValueLen(nodes[i]), &rec) == CNV_OK &&
        admin_check(v, a->swarm, &rec) == CNV_OK &&
        cnv_sw_node_status_decode(rec.body, rec.body_len, &ns) == CNV_OK) {
      if (*count < cap) {
        cnv_nats_node_info *info = &out[*count];
        memcpy(info->node_pk, rec.signer_pk, CNV_SW_KEY_BYTES);
        info->status = ns;
        info->record_ms = rec.ts_ms;
        info->live = natsn_status_live(&ns, rec.ts_ms, now);
      }
      (*count)++;
    }
    kvEntry_Destroy(nodes[i]);
  }
  free(nodes);
  cnv_deleg_verifier_destroy(v);
  return st;
}

/* ---- shared state (docs/nats.md "Shared state") ---- */

static cnv_status observer_send(void *ctx, uint64_t to, const uint8_t *msg, size_t len) {
  (void)ctx, (void)to, (void)msg, (void)len;
  return CNV_OK; /* an observer never ticks: nothing is sent */
}

/* Whether pk is one of the live nodes of view. */
static bool live_node(const cnv_nats_node_info *view, size_t n, const uint8_t *pk) {
  for (size_t i = 0; i < n; i++)
    if (view[i].live && sodium_memcmp(view[i].node_pk, pk, CNV_SW_KEY_BYTES) == 0) return true;
  return false;
}

#define ADMIN_VIEW_MAX 1024u
#define ADMIN_ASK_AGAIN_MS 100u /* above a node's gap between two snapshot answers (50 ms) */

/* Whether replica from is not among the n that answered already. */
static bool first_answer(const uint64_t *seen, size_t n, uint64_t from) {
  for (size_t i = 0; i < n; i++)
    if (seen[i] == from) return false;
  return true;
}

cnv_status cnv_nats_admin_shared(cnv_nats_admin *a, const uint8_t *trust, size_t n_trust, uint32_t wait_ms,
                                 cnv_nats_cap_fn fn, void *ctx, uint64_t *served) {
  if (!a || !fn) return CNV_EINVAL;
  cnv_nats_node_info *view = calloc(ADMIN_VIEW_MAX, sizeof *view);
  if (!view) return CNV_ENOMEM;
  size_t count = 0;
  cnv_status st = cnv_nats_admin_status(a, trust, n_trust, view, ADMIN_VIEW_MAX, &count);
  if (count > ADMIN_VIEW_MAX) count = ADMIN_VIEW_MAX;
  size_t live = 0;
  for (size_t i = 0; i < count; i++) live += view[i].live;
  cnv_crdt_repl *r = NULL;
  if (st == CNV_OK) {
    uint64_t id = 0;
    while (id == 0) randombytes_buf(&id, sizeof id);
    cnv_crdt_repl_config rc = {.replica = id, .transport = {.send = observer_send}, .max_message = 1u << 20};
    st = cnv_crdt_repl_create(&rc, &r);
  }
  if (st == CNV_OK) st = cnv_crdt_repl_add(r, NATSN_SHARED_CAPS, CNV_CRDT_ORSET);
  if (st == CNV_OK) st = cnv_crdt_repl_add(r, NATSN_SHARED_SERVED, CNV_CRDT_GCOUNTER);
  char subject[CNV_SW_SUBJECT_MAX];
  if (st == CNV_OK) st = cnv_sw_subject_swarm(CNV_SW_SUBJ_CRDT, a->swarm, subject, sizeof subject, NULL);
  natsInbox *inbox = NULL;
  natsSubscription *sub = NULL;
  if (st == CNV_OK && (natsInbox_Create(&inbox) != NATS_OK || natsConnection_SubscribeSync(&sub, a->nc, inbox) != NATS_OK ||
                       natsConnection_PublishRequest(a->nc, subject, inbox, NULL, 0) != NATS_OK))
    st = CNV_ENATS_CONNECT;
  size_t answers = 0;
  /* the replicas that answered: a node asked twice may answer twice, and counts once */
  uint64_t *from_seen = st == CNV_OK ? calloc(live ? live : 1, sizeof *from_seen) : NULL;
  if (st == CNV_OK && !from_seen) st = CNV_ENOMEM;
  if (st == CNV_OK) {
    uint64_t deadline = natsn_mono_ms() + (wait_ms ? wait_ms : 1000u);
    /* a node answers at most one request per 50 ms (SNAP_GAP_MS in shared.c): one that
     * passed this request over (it had just answered another) gets it again */
    uint64_t ask_again = natsn_mono_ms() + ADMIN_ASK_AGAIN_MS;
    while (answers < live) {
      uint64_t now = natsn_mono_ms();
      if (now >= deadline) break;
      if (now >= ask_again) {
        if (natsConnection_PublishRequest(a->nc, subject, inbox, NULL, 0) != NATS_OK) break;
        ask_again = now + ADMIN_ASK_AGAIN_MS;
      }
      uint64_t until = deadline < ask_again ? deadline : ask_again;
      natsMsg *m = NULL;
      natsStatus ns = natsSubscription_NextMsg(&m, sub, (int64_t)(until - now));
      if (ns == NATS_TIMEOUT) continue;
      if (ns != NATS_OK) break;
      uint64_t from = 0;
      const uint8_t *pk = NULL, *msg = NULL;
      size_t len = 0;
      int dlen = natsMsg_GetDataLength(m);
      /* an answer signed by a live node of the swarm; anything else is passed over */
      if (dlen > 0 &&
          natsn_envelope_open(a->swarm, (const uint8_t *)natsMsg_GetData(m), (size_t)dlen, &from, &pk, &msg, &len) ==
              CNV_OK &&
          live_node(view, count, pk) && cnv_crdt_repl_receive(r, from, msg, len) == CNV_OK &&
          first_answer(from_seen, answers, from))
        from_seen[answers++] = from;
      natsMsg_Destroy(m);
    }
    if (answers == 0) st = CNV_ENATS_TIMEOUT;
  }
  if (st == CNV_OK) st = natsn_shared_caps(r, fn, ctx);
  if (st == CNV_OK && served) st = natsn_shared_served(r, served);
  natsSubscription_Destroy(sub);
  natsInbox_Destroy(inbox);
  cnv_crdt_repl_destroy(r);
  free(from_seen);
  free(view);
  return st;
}
