/* The node's serve half against a real nats-server (tests/support/nats_cluster.h): a client
 * made here from swarmwire calls over a raw NATS connection makes the handshake and sends
 * sealed requests, honest and not. Each case starts its own server and nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <nats/nats.h>
#include <sodium.h>

#include <cnv/delegation.h>
#include <cnv/nats.h>
#include <cnv/runtime.h>
#include <cnv/session.h>
#include <cnv/swarmwire.h>

#include "support/nats_cluster.h"
#include "support/nats_fake_client.h"

#include "nats/node_internal.h"

#define SWARM 5u
#define MAX_NODES 2
#define WAIT_MS 10000 /* an answer that should come: far more than it takes */

typedef struct scene {
  nats_cluster *cl;
  uint8_t root_pk[32], root_sk[64];
  uint8_t agent_pk[32], agent_sk[64];
  uint8_t agent_tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t agent_tok_len;
  cnv_runtime *rt[MAX_NODES];
  cnv_nats_node *node[MAX_NODES];
  uint8_t node_pk[MAX_NODES][32];
  int n_nodes;
  _Atomic int echo_runs, count_runs, secret_runs;
} scene;

/* ---- handlers ---- */

static cnv_status echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  scene *s = ctx;
  atomic_fetch_add(&s->echo_runs, 1);
  size_t skip = call->path_len + 1 < call->line_len ? call->path_len + 1 : call->line_len;
  return cnv_runtime_result_write(r, call->line + skip, call->line_len - skip);
}

static cnv_status count(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)call;
  scene *s = ctx;
  atomic_fetch_add(&s->count_runs, 1);
  return cnv_runtime_result_write(r, "ran", 3);
}

static cnv_status secret(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)call;
  scene *s = ctx;
  atomic_fetch_add(&s->secret_runs, 1);
  return cnv_runtime_result_write(r, "secret", 6);
}

/* ---- scene ---- */

static void add_node(scene *s, const cnv_nats_node_config *base) {
  int i = s->n_nodes++;
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.swarm_id = SWARM;
  rc.queue_capacity = 256;
  assert_int_equal(cnv_runtime_create(&rc, &s->rt[i]), CNV_OK);
  assert_int_equal(cnv_runtime_trust_add(s->rt[i], s->root_pk), CNV_OK);
  cnv_runtime_handler_spec echo_spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_USER_INITIATED, .fn = echo, .ctx = s};
  cnv_runtime_handler_spec count_spec = {.effects = CNV_EFFECT_MUTATE_STATE, .cls = CNV_DURATION_USER_INITIATED, .fn = count, .ctx = s};
  cnv_runtime_handler_spec secret_spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_USER_INITIATED, .fn = secret, .ctx = s};
  assert_int_equal(cnv_runtime_register(s->rt[i], "demo.echo", 9, &echo_spec), CNV_OK);
  assert_int_equal(cnv_runtime_register(s->rt[i], "demo.count", 10, &count_spec), CNV_OK);
  assert_int_equal(cnv_runtime_register(s->rt[i], "demo.secret", 11, &secret_spec), CNV_OK);
  assert_int_equal(cnv_runtime_start(s->rt[i]), CNV_OK);

  uint8_t pk[32], sk[64], tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t tok_len;
  crypto_sign_keypair(pk, sk);
  memcpy(s->node_pk[i], pk, 32);
  const char *serve[] = {CNV_NATS_SERVE_CAPABILITY};
  nats_fake_mint(SWARM, s->root_sk, pk, serve, 1, tok, &tok_len);
  cnv_nats_node_config cfg = *base;
  cfg.servers = nats_cluster_url(s->cl, 0);
  cfg.swarm = SWARM;
  cfg.secret_key = sk;
  cfg.token = tok;
  cfg.token_len = tok_len;
  assert_int_equal(cnv_nats_node_create(&cfg, s->rt[i], &s->node[i]), CNV_OK);
  sodium_memzero(sk, sizeof sk);
  assert_int_equal(cnv_nats_node_start(s->node[i]), CNV_OK);
}

static scene *scene_new(int nodes, const cnv_nats_node_config *base) {
  assert_true(sodium_init() >= 0);
  scene *s = calloc(1, sizeof *s);
  assert_non_null(s);
  if (nats_cluster_start(1, &s->cl) != 0) fail_msg("%s", nats_cluster_error());
  crypto_sign_keypair(s->root_pk, s->root_sk);
  crypto_sign_keypair(s->agent_pk, s->agent_sk);
  const char *allow[] = {"demo.echo", "demo.count"};
  nats_fake_mint(SWARM, s->root_sk, s->agent_pk, allow, 2, s->agent_tok, &s->agent_tok_len);
  cnv_nats_node_config def;
  cnv_nats_node_config_default(&def);
  /* status records are the state half's (its tests); written rarely here, so the nodes the
   * takeover case needs alive stay so, and few watch messages are in flight at each stop */
  def.status_interval_ms = 60000;
  for (int i = 0; i < nodes; i++) add_node(s, base ? base : &def);
  return s;
}

static void scene_free(scene *s) {
  for (int i = 0; i < s->n_nodes; i++) {
    assert_int_equal(cnv_nats_node_stop(s->node[i]), CNV_OK);
    cnv_nats_node_destroy(s->node[i]);
    cnv_runtime_destroy(s->rt[i]);
  }
  nats_cluster_stop(s->cl);
  free(s);
}

static cnv_nats_node_stats stats_of(const scene *s, int i) {
  cnv_nats_node_stats st;
  assert_int_equal(cnv_nats_node_stats_get(s->node[i], &st), CNV_OK);
  return st;
}

/* ---- the client ---- */

/* HELLO -> WELCOME as the scene's agent; returns the WELCOME's status (0: a ticket). */
static int32_t client_connect(scene *s, client *c) {
  return client_open(c, nats_cluster_url(s->cl, 0), SWARM, s->agent_pk, s->agent_sk, s->agent_tok, s->agent_tok_len);
}

/* Nothing else arrived on the session's subjects (every answer so far was read). */
static void assert_no_more(client *c) {
  uint64_t queued = 1;
  assert_int_equal(natsSubscription_QueuedMsgs(c->sub, &queued), NATS_OK);
  assert_int_equal(queued, 0);
}

/* Publishes a claim on request reqid of c's session in claimer's name, with a node's message id. */
static void publish_claim(client *c, uint64_t reqid, const uint8_t claimer[32]) {
  char claim[CNV_SW_SUBJECT_MAX], id[CNV_SW_CLAIM_ID_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_CLAIM, SWARM, c->sid, reqid, claim, sizeof claim, NULL),
                   CNV_OK);
  /* the id a node's claim has (the client holds the session's keys); the payload is the bare
   * key, which does not verify: no node of the swarm made it, so it is taken over */
  assert_int_equal(cnv_sw_claim_id(c->s2c, c->sid, reqid, 0, id, sizeof id, NULL), CNV_OK);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id;
  jsPubAck *pa = NULL;
  jsErrCode jerr = 0;
  assert_int_equal(js_Publish(&pa, c->js, claim, claimer, 32, &po, &jerr), NATS_OK);
  assert_false(pa->Duplicate);
  jsPubAck_Destroy(pa);
}

/* ---- cases ---- */

static void t_echo(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  answer a = call(&c, "demo.echo hi", 1);
  assert_false(a.refusal);
  assert_int_equal(a.status, CNV_OK);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_string_equal(a.result, "hi");
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.handshakes, 1);
  assert_int_equal(st.requests, 1);
  assert_int_equal(st.accepted, 1);
  assert_int_equal(st.sessions, 1);
  assert_int_equal(atomic_load(&s->echo_runs), 1);
  client_close(&c);
  scene_free(s);
}

static void t_denied(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  answer a = call(&c, "demo.secret", 3);
  assert_false(a.refusal);
  assert_int_equal(a.done, CNV_SESSION_DONE_REFUSED);
  assert_int_equal(a.status, CNV_ERT_DENY_NOT_ALLOWED);
  assert_int_equal(atomic_load(&s->secret_runs), 0);
  assert_int_equal(stats_of(s, 0).denied, 1);
  client_close(&c);
  scene_free(s);
}

/* The same bytes again (a replay) are refused by the window and not run; the session goes on. */
static void t_replay(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  answer a = call(&c, "demo.echo one", 1);
  assert_string_equal(a.result, "one");
  client_publish(&c); /* the same bytes */
  a = call(&c, "demo.echo two", 2);
  assert_string_equal(a.result, "two");
  assert_no_more(&c);
  assert_int_equal(stats_of(s, 0).replays, 1);
  assert_int_equal(atomic_load(&s->echo_runs), 2);
  client_close(&c);
  scene_free(s);
}

/* Every byte of a request matters: a flipped one is dropped and counted. */
static void t_tampered(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  assert_string_equal(call(&c, "demo.echo one", 1).result, "one");
  client_seal(&c, "demo.echo bad", 2, 2);
  c.out[c.out_len - 20] ^= 0x01;
  client_publish(&c);
  assert_string_equal(call(&c, "demo.echo three", 3).result, "three");
  assert_no_more(&c);
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.tampered, 1);
  assert_int_equal(st.answered, 2);
  assert_int_equal(atomic_load(&s->echo_runs), 2);
  client_close(&c);
  scene_free(s);
}

/* A reply subject that is not the REPLY subject of the request's session and id is dropped,
 * even sealed by the session's key (the answer would go elsewhere). */
static void t_wrong_reply(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  client_seal(&c, "demo.echo elsewhere", 5, 6); /* reply subject of request 6 */
  client_publish(&c);
  assert_string_equal(call(&c, "demo.echo here", 7).result, "here");
  assert_no_more(&c);
  assert_int_equal(stats_of(s, 0).tampered, 1);
  assert_int_equal(atomic_load(&s->echo_runs), 1);
  client_close(&c);
  scene_free(s);
}

static void t_expired(void **state) {
  (void)state;
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.ticket_ttl_ms = 1;
  cfg.status_interval_ms = 60000;
  scene *s = scene_new(1, &cfg);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  struct timespec nap = {0, 5 * 1000000};
  nanosleep(&nap, NULL); /* the ticket lived 1 ms */
  answer a = call(&c, "demo.echo late", 1);
  assert_false(a.refusal); /* sealed: the client can believe it */
  assert_int_equal(a.done, CNV_SESSION_DONE_REFUSED);
  assert_int_equal(a.status, CNV_ESW_TICKET_EXPIRED);
  assert_int_equal(stats_of(s, 0).bad_tickets, 1);
  assert_int_equal(atomic_load(&s->echo_runs), 0);
  client_close(&c);
  scene_free(s);
}

/* A request without its ticket for a session the node does not hold is refused with
 * CNV_ESW_NO_SESSION and not run; sent again with the ticket it runs, and once the node holds
 * the session requests without the ticket are answered. */
static void t_ticketless(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  c.no_ticket = true;
  answer a = call(&c, "demo.echo first", 1);
  assert_true(a.refusal);
  assert_int_equal(a.status, CNV_ESW_NO_SESSION);
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.no_session, 1);
  assert_int_equal(st.sessions, 0);
  assert_int_equal(st.accepted, 0);
  assert_int_equal(atomic_load(&s->echo_runs), 0);
  c.no_ticket = false; /* the same request id, a new sequence number, the ticket */
  assert_string_equal(call(&c, "demo.echo first", 1).result, "first");
  c.no_ticket = true;
  assert_string_equal(call(&c, "demo.echo second", 2).result, "second");
  assert_string_equal(call(&c, "demo.echo third", 3).result, "third");
  client_publish(&c); /* the same bytes again: the window drops them */
  assert_string_equal(call(&c, "demo.echo fourth", 4).result, "fourth");
  assert_no_more(&c);
  st = stats_of(s, 0);
  assert_int_equal(st.no_session, 1);
  assert_int_equal(st.sessions, 1);
  assert_int_equal(st.replays, 1);
  assert_int_equal(st.answered, 4);
  assert_int_equal(atomic_load(&s->echo_runs), 4);
  client_close(&c);
  scene_free(s);
}

/* demo.count changes state: it goes through the claim. Sent again with the same request id
 * (a new sequence number: a retry), it gets the stored answer and does not run again. */
static void t_once_stored(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  answer a = call(&c, "demo.count", 9);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_string_equal(a.result, "ran");
  char done[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_DONE, SWARM, c.sid, 9, done, sizeof done, NULL), CNV_OK);
  assert_string_equal(a.subject, done); /* the stored answer's subject */
  a = call(&c, "demo.count", 9);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_string_equal(a.result, "ran");
  assert_string_equal(a.subject, c.reply); /* republished to the retry's reply subject */
  assert_no_more(&c);
  assert_int_equal(atomic_load(&s->count_runs), 1);
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.claims, 2);
  assert_int_equal(st.duplicates, 1);
  assert_int_equal(st.stored_answers, 1);
  client_close(&c);
  scene_free(s);
}

/* A claim whose claimer is dead (a key with no status record) is taken over by exactly one
 * of two nodes, run once, and its answer stored. */
static void t_takeover(void **state) {
  (void)state;
  scene *s = scene_new(2, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  uint8_t dead_pk[32], dead_sk[64];
  crypto_sign_keypair(dead_pk, dead_sk);
  publish_claim(&c, 11, dead_pk);

  answer a = call(&c, "demo.count", 11);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_string_equal(a.result, "ran");
  a = call(&c, "demo.count", 11); /* a retry after completion: the stored answer */
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_no_more(&c);
  assert_int_equal(atomic_load(&s->count_runs), 1);
  cnv_nats_node_stats s0 = stats_of(s, 0), s1 = stats_of(s, 1);
  assert_int_equal(s0.takeovers + s1.takeovers, 1);
  assert_int_equal(s0.stored_answers + s1.stored_answers, 1);
  client_close(&c);
  scene_free(s);
}

static void nap_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Publishes on request reqid's claim subject as node 0 would sign it for claimer (the swarm
 * key of node 0's epoch): payload claimer's key, the epoch, the keyed tag (src/nats/once.c)
 * and, for a run marker, the byte 'r'; message id the session's keyed claim id followed by
 * suffix, expecting the subject's last sequence expect (0: none). The stream sequence it got,
 * or 0 when JetStream refused it (*jerr why); *dup: it was a duplicate. */
static uint64_t publish_on_claim(scene *s, client *c, uint64_t reqid, const uint8_t claimer[32], bool mark,
                                 const char *suffix, uint64_t expect, jsErrCode *jerr, bool *dup) {
  static const char domain[] = "cnv-swarm/1 claim";
  char claim[CNV_SW_SUBJECT_MAX], id[CNV_SW_CLAIM_ID_MAX + 32];
  uint8_t payload[32 + 4 + 32 + 1], key[CNV_SW_SYM_BYTES], m = mark ? 'r' : 0;
  size_t id_len;
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_CLAIM, SWARM, c->sid, reqid, claim, sizeof claim, NULL),
                   CNV_OK);
  assert_int_equal(cnv_sw_claim_id(c->s2c, c->sid, reqid, 0, id, sizeof id, &id_len), CNV_OK);
  snprintf(id + id_len, sizeof id - id_len, "%s", suffix);
  uint32_t epoch = natsn_key_epoch(s->node[0]);
  assert_true(natsn_swarm_key(s->node[0], epoch, key));
  memcpy(payload, claimer, 32);
  for (int i = 0; i < 4; i++) payload[32 + i] = (uint8_t)(epoch >> (8 * i));
  crypto_generichash_state h;
  crypto_generichash_init(&h, key, sizeof key, 32);
  crypto_generichash_update(&h, (const uint8_t *)domain, sizeof domain);
  crypto_generichash_update(&h, (const uint8_t *)claim, strlen(claim) + 1);
  crypto_generichash_update(&h, claimer, 32);
  crypto_generichash_update(&h, &m, 1);
  crypto_generichash_final(&h, payload + 36, 32);
  payload[68] = 'r';
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id;
  po.ExpectLastSubjectSeq = expect;
  jsPubAck *pa = NULL;
  *jerr = 0;
  *dup = false;
  if (js_Publish(&pa, c->js, claim, payload, mark ? 69 : 68, &po, jerr) != NATS_OK) return 0;
  uint64_t seq = pa->Sequence;
  *dup = pa->Duplicate;
  jsPubAck_Destroy(pa);
  return seq;
}

/* What the once path rests on, as JetStream does it: a claim's run marker and a takeover of
 * it both expect the claim as the subject's last message, so one of them is stored; a run
 * marker published again (its ack lost) under its Msg-Id is a duplicate, not a refusal; a run
 * marker is never taken over. Then a retry of that request, its claimer dead (no status
 * record), is answered "outcome unknown" and never run. */
static void t_fenced_claims(void **state) {
  (void)state;
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.status_interval_ms = 100; /* the run marker's own time stops counting as life soon */
  scene *s = scene_new(1, &cfg);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  uint8_t a_pk[32], b_pk[32], sk[64];
  crypto_sign_keypair(a_pk, sk);
  crypto_sign_keypair(b_pk, sk);
  jsErrCode jerr;
  bool dup;
  char sfx[32];
  uint64_t claim = publish_on_claim(s, &c, 31, a_pk, false, "", 0, &jerr, &dup);
  assert_true(claim > 0);
  snprintf(sfx, sizeof sfx, ".t%llu", (unsigned long long)claim);
  uint64_t takeover = publish_on_claim(s, &c, 31, b_pk, false, sfx, claim, &jerr, &dup);
  assert_true(takeover > claim);
  /* a's run marker comes too late: refused, a does not run it */
  snprintf(sfx, sizeof sfx, ".r%llu", (unsigned long long)claim);
  assert_int_equal(publish_on_claim(s, &c, 31, a_pk, true, sfx, claim, &jerr, &dup), 0);
  assert_int_equal(jerr, 10071); /* JSStreamWrongLastSequenceErr */
  /* b's is stored; published again, a duplicate */
  snprintf(sfx, sizeof sfx, ".r%llu", (unsigned long long)takeover);
  uint64_t marker = publish_on_claim(s, &c, 31, b_pk, true, sfx, takeover, &jerr, &dup);
  assert_true(marker > takeover);
  assert_false(dup);
  assert_int_equal(publish_on_claim(s, &c, 31, b_pk, true, sfx, takeover, &jerr, &dup), marker);
  assert_true(dup);
  /* nobody takes a started claim over */
  snprintf(sfx, sizeof sfx, ".t%llu", (unsigned long long)takeover);
  assert_int_equal(publish_on_claim(s, &c, 31, a_pk, false, sfx, takeover, &jerr, &dup), 0);
  assert_int_equal(jerr, 10071);

  /* the node: "in progress" while b's run marker is recent, then "outcome unknown" (b never
   * wrote a status record: dead); never a run */
  answer a;
  int tries = 0;
  do {
    if (tries++) nap_ms(50);
    client_seal(&c, "demo.count", 31, 31);
    client_publish(&c);
    a = client_recv(&c);
    assert_int_equal(a.reqid, 31);
  } while (a.status == CNV_ENATS_IN_PROGRESS && tries < 400);
  assert_int_equal(a.status, CNV_ENATS_OUTCOME_UNKNOWN);
  assert_int_equal(a.done, CNV_DONE_RAN);
  a = call(&c, "demo.count", 31);
  assert_int_equal(a.status, CNV_ENATS_OUTCOME_UNKNOWN);
  assert_no_more(&c);
  assert_int_equal(atomic_load(&s->count_runs), 0);
  assert_int_equal(stats_of(s, 0).takeovers, 0);
  client_close(&c);
  scene_free(s);
}

/* A request whose client clock is off by more than half the dedupe window is refused, not run. */
static void t_stale(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  c.skew_ms = -120000; /* the default window: 120 s */
  answer a = call(&c, "demo.count", 4);
  assert_false(a.refusal);
  assert_int_equal(a.done, CNV_SESSION_DONE_REFUSED);
  assert_int_equal(a.status, CNV_ENATS_STALE);
  c.skew_ms = 0;
  assert_string_equal(call(&c, "demo.echo fresh", 5).result, "fresh");
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.stale, 1);
  assert_int_equal(st.claims, 0);
  assert_int_equal(atomic_load(&s->count_runs), 0);
  client_close(&c);
  scene_free(s);
}

/* A claim in this node's own name that it does not hold (left by an earlier run of the node
 * with the same key, which died): the retry takes it over and runs it, once. */
static void t_own_orphan(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  publish_claim(&c, 21, s->node_pk[0]);
  answer a = call(&c, "demo.count", 21);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_string_equal(a.result, "ran");
  a = call(&c, "demo.count", 21);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_no_more(&c);
  assert_int_equal(atomic_load(&s->count_runs), 1);
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.takeovers, 1);
  assert_int_equal(st.stored_answers, 1);
  client_close(&c);
  scene_free(s);
}

/* The node's connection events, counted. */
static _Atomic int disconnects, reconnects;
static void on_event(void *ctx, const cnv_nats_event *ev) {
  (void)ctx;
  if (ev->kind == CNV_NATS_EV_DISCONNECTED) atomic_fetch_add(&disconnects, 1);
  if (ev->kind == CNV_NATS_EV_RECONNECTED) atomic_fetch_add(&reconnects, 1);
}

/* Waits (polling, up to a minute: far more than it takes) until *counter reaches want. */
static void wait_count(_Atomic int *counter, int want) {
  for (int i = 0; i < 6000 && atomic_load(counter) < want; i++) {
    struct timespec nap = {0, 10 * 1000000};
    nanosleep(&nap, NULL);
  }
  assert_true(atomic_load(counter) >= want);
}

static void wait_connected(natsConnection *nc) {
  for (int i = 0; i < 6000 && natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED; i++) {
    struct timespec nap = {0, 10 * 1000000};
    nanosleep(&nap, NULL);
  }
  assert_int_equal(natsConnection_Status(nc), NATS_CONN_STATUS_CONNECTED);
}

/* The nats-server is killed and started again: the node says so (events), reconnects by
 * itself, and serves both paths again with the same session. */
static void t_reconnect(void **state) {
  (void)state;
  atomic_store(&disconnects, 0);
  atomic_store(&reconnects, 0);
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.status_interval_ms = 60000;
  cfg.on_event = on_event;
  scene *s = scene_new(1, &cfg);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  assert_string_equal(call(&c, "demo.echo before", 1).result, "before");
  assert_int_equal(nats_cluster_kill(s->cl, 0), 0);
  wait_count(&disconnects, 1);
  if (nats_cluster_restart(s->cl, 0) != 0) fail_msg("%s", nats_cluster_error());
  wait_count(&reconnects, 1);
  wait_connected(c.nc);
  assert_string_equal(call(&c, "demo.echo after", 2).result, "after");
  answer a = call(&c, "demo.count", 3);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_int_equal(atomic_load(&s->count_runs), 1);
  client_close(&c);
  scene_free(s);
}

/* An agent whose token no trust root of the node's runtime issued: the WELCOME is a signed
 * refusal with the runtime's denial, no ticket. */
static void t_handshake_refused(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  uint8_t other_pk[32], other_sk[64];
  crypto_sign_keypair(other_pk, other_sk);
  const char *allow[] = {"demo.echo"};
  nats_fake_mint(SWARM, other_sk, s->agent_pk, allow, 1, s->agent_tok, &s->agent_tok_len);
  client c;
  assert_int_equal(client_connect(s, &c), CNV_ERT_DENY_UNTRUSTED);
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.handshakes, 0);
  assert_int_equal(st.handshake_refused, 1);
  client_close(&c);
  scene_free(s);
}

/* Many requests in flight at once, on both paths: each is answered exactly once, with its
 * own result, and each effectful one ran exactly once. */
#define MANY 100
static void t_many(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  char line[64];
  for (uint64_t id = 1; id <= 2 * MANY; id++) {
    if (id % 2)
      snprintf(line, sizeof line, "demo.echo n%llu", (unsigned long long)id);
    else
      snprintf(line, sizeof line, "demo.count");
    client_seal(&c, line, id, id);
    assert_int_equal(natsConnection_PublishRequest(c.nc, c.subject, c.reply, c.out, (int)c.out_len), NATS_OK);
  }
  assert_int_equal(natsConnection_Flush(c.nc), NATS_OK);
  bool seen[2 * MANY + 1] = {false};
  for (int i = 0; i < 2 * MANY; i++) {
    answer a = client_recv(&c);
    assert_true(a.reqid >= 1 && a.reqid <= 2 * MANY);
    assert_false(seen[a.reqid]);
    seen[a.reqid] = true;
    assert_int_equal(a.done, CNV_DONE_RAN);
    if (a.reqid % 2) {
      snprintf(line, sizeof line, "n%llu", (unsigned long long)a.reqid);
      assert_string_equal(a.result, line);
    } else {
      assert_string_equal(a.result, "ran");
    }
  }
  assert_no_more(&c);
  assert_int_equal(atomic_load(&s->count_runs), MANY);
  assert_int_equal(atomic_load(&s->echo_runs), MANY);
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_int_equal(st.claims, MANY);
  assert_int_equal(st.duplicates, 0);
  assert_int_equal(st.answered, 2 * MANY);
  client_close(&c);
  scene_free(s);
}

/* Polls server 0's /connz (up to WAIT_MS) until it lists want connections and those holding
 * no subscription published `quiet` messages in all; returns the number of connections it
 * listed last, *quiet_seen what those published. */
static int connz_wait(scene *s, int want, long long quiet, long long *quiet_seen) {
  nats_cluster_conn conns[16];
  int n = -1;
  for (int i = 0; i < WAIT_MS / 10; i++) {
    n = nats_cluster_connz(s->cl, 0, conns, 16);
    *quiet_seen = 0;
    for (int k = 0; k < n && k < 16; k++)
      if (conns[k].subs == 0) *quiet_seen += conns[k].in_msgs;
    if (n == want && *quiet_seen == quiet) break;
    nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
  }
  return n;
}

/* The node answers over connections of its own, one per runtime worker beside its main
 * connection (which holds every subscription and publishes none of those answers), and
 * stop closes them all. */
#define ANSWER_CALLS 20
static void t_answer_connections(void **state) {
  (void)state;
  scene *s = scene_new(1, NULL);
  int workers = (int)cnv_runtime_workers(s->rt[0]);
  long long published;
  assert_int_equal(connz_wait(s, 1 + workers, 0, &published), 1 + workers);
  assert_int_equal(published, 0);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  for (uint64_t id = 1; id <= ANSWER_CALLS; id++) assert_string_equal(call(&c, "demo.echo hi", id).result, "hi");
  /* the node's connections and the client's: every answer was published on one of the node's
   * connections without a subscription */
  assert_int_equal(connz_wait(s, 2 + workers, ANSWER_CALLS, &published), 2 + workers);
  assert_int_equal(published, ANSWER_CALLS);
  assert_int_equal(cnv_nats_node_stop(s->node[0]), CNV_OK);
  cnv_nats_node_destroy(s->node[0]);
  cnv_runtime_destroy(s->rt[0]);
  s->n_nodes = 0;
  assert_int_equal(connz_wait(s, 1, 0, &published), 1); /* the client's alone */
  client_close(&c);
  assert_int_equal(connz_wait(s, 0, 0, &published), 0);
  scene_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_echo),
      cmocka_unit_test(t_denied),
      cmocka_unit_test(t_replay),
      cmocka_unit_test(t_tampered),
      cmocka_unit_test(t_wrong_reply),
      cmocka_unit_test(t_expired),
      cmocka_unit_test(t_ticketless),
      cmocka_unit_test(t_once_stored),
      cmocka_unit_test(t_takeover),
      cmocka_unit_test(t_own_orphan),
      cmocka_unit_test(t_fenced_claims),
      cmocka_unit_test(t_stale),
      cmocka_unit_test(t_reconnect),
      cmocka_unit_test(t_handshake_refused),
      cmocka_unit_test(t_many),
      cmocka_unit_test(t_answer_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
