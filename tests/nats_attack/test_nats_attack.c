/* Attacks on a swarm by anyone on its NATS server (tests/support/nats_cluster.h): an honest
 * client made here from swarmwire calls over a raw NATS connection, and an attacker with a
 * NATS connection of its own (no token, or a valid agent token) that sees every subject and
 * publishes into the once stream's subjects and the handshake subject. Each case starts its
 * own server and nodes, and shows the defence holds: an effectful request runs once, an
 * honest call is answered, a handshake flood costs bounded work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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
  _Atomic int echo_runs, count_runs, secret_runs, slow_runs;
  _Atomic bool release;                      /* demo.slow returns once set */
  void (*pre_start)(struct scene *s, int i); /* NULL, or run between a node's create and start */
  void *pre_ctx;
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

/* Effectful, and blocks until the test releases it: a request that runs meanwhile. */
static cnv_status slow(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)call;
  scene *s = ctx;
  atomic_fetch_add(&s->slow_runs, 1);
  struct timespec ms = {0, 1000000};
  while (!atomic_load(&s->release)) nanosleep(&ms, NULL);
  return cnv_runtime_result_write(r, "slow", 4);
}

/* ---- scene ---- */

/* A node; with all false it registers demo.echo only (a live node of the swarm that never
 * gets an effectful request). */
static void add_node(scene *s, const cnv_nats_node_config *base, bool all) {
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
  cnv_runtime_handler_spec slow_spec = {.effects = CNV_EFFECT_MUTATE_STATE, .cls = CNV_DURATION_USER_INITIATED, .fn = slow, .ctx = s};
  if (all) {
    assert_int_equal(cnv_runtime_register(s->rt[i], "demo.count", 10, &count_spec), CNV_OK);
    assert_int_equal(cnv_runtime_register(s->rt[i], "demo.secret", 11, &secret_spec), CNV_OK);
    assert_int_equal(cnv_runtime_register(s->rt[i], "demo.slow", 9, &slow_spec), CNV_OK);
  }
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
  if (s->pre_start) s->pre_start(s, i);
  assert_int_equal(cnv_nats_node_start(s->node[i]), CNV_OK);
}

/* nodes nodes; the first `all` of them register every capability. */
static scene *scene_new(int nodes, int all, const cnv_nats_node_config *base) {
  assert_true(sodium_init() >= 0);
  scene *s = calloc(1, sizeof *s);
  assert_non_null(s);
  if (nats_cluster_start(1, &s->cl) != 0) fail_msg("%s", nats_cluster_error());
  crypto_sign_keypair(s->root_pk, s->root_sk);
  crypto_sign_keypair(s->agent_pk, s->agent_sk);
  const char *allow[] = {"demo.echo", "demo.count", "demo.slow"};
  nats_fake_mint(SWARM, s->root_sk, s->agent_pk, allow, 3, s->agent_tok, &s->agent_tok_len);
  cnv_nats_node_config def;
  cnv_nats_node_config_default(&def);
  /* status records are the state half's (its tests); written rarely here, so the nodes the
   * takeover case needs alive stay so, and few watch messages are in flight at each stop */
  def.status_interval_ms = 60000;
  for (int i = 0; i < nodes; i++) add_node(s, base ? base : &def, i < all);
  return s;
}

static void scene_free(scene *s) {
  atomic_store(&s->release, true);
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

/* Publishes payload (len bytes) on subject into the once stream, with message id msg_id (NULL:
 * none), from js; it must not be a duplicate. */
static void js_put(jsCtx *js, const char *subject, const void *payload, int len, const char *msg_id) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id;
  jsPubAck *pa = NULL;
  jsErrCode jerr = 0;
  assert_int_equal(js_Publish(&pa, js, subject, payload, len, &po, &jerr), NATS_OK);
  assert_false(pa->Duplicate);
  jsPubAck_Destroy(pa);
}

/* Publishes a claim on request reqid of session sid in claimer's name (the bare key: the
 * attacker cannot make a claim's keyed hash), with message id msg_id (NULL: none). */
static void publish_claim_as(jsCtx *js, const uint8_t sid[16], uint64_t reqid, const uint8_t claimer[32],
                             const char *msg_id) {
  char claim[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_CLAIM, SWARM, sid, reqid, claim, sizeof claim, NULL), CNV_OK);
  js_put(js, claim, claimer, 32, msg_id);
}

/* The message id a claim had before ids were keyed: "SIDHEX.R", which anyone can name. */
static void plain_id(const uint8_t sid[16], uint64_t reqid, char id[64]) {
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, sid, 16);
  snprintf(id, 64, "%s.%llu", hex, (unsigned long long)reqid);
}

/* ---- the attacker ---- */

typedef struct attacker {
  natsConnection *nc;
  jsCtx *js;
} attacker;

static void attacker_connect(scene *s, attacker *a) {
  natsOptions *o = NULL; /* every publish written at once: the attacker answers first */
  assert_int_equal(natsOptions_Create(&o), NATS_OK);
  assert_int_equal(natsOptions_SetURL(o, nats_cluster_url(s->cl, 0)), NATS_OK);
  assert_int_equal(natsOptions_SetSendAsap(o, true), NATS_OK);
  assert_int_equal(natsConnection_Connect(&a->nc, o), NATS_OK);
  natsOptions_Destroy(o);
  assert_int_equal(natsConnection_JetStream(&a->js, a->nc, NULL), NATS_OK);
}

static void attacker_close(attacker *a) {
  jsCtx_Destroy(a->js);
  natsConnection_Destroy(a->nc);
}

/* A's subscription to subject, in place on the server when it returns. */
static natsSubscription *spy_on(attacker *a, const char *subject) {
  natsSubscription *spy = NULL;
  assert_int_equal(natsConnection_SubscribeSync(&spy, a->nc, subject), NATS_OK);
  assert_int_equal(natsConnection_Flush(a->nc), NATS_OK);
  return spy;
}

/* A's subscription to the handshake subject: every HELLO, so every session id. */
static natsSubscription *spy_on_handshakes(attacker *a) {
  char hs[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, SWARM, hs, sizeof hs, NULL), CNV_OK);
  return spy_on(a, hs);
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Waits (up to WAIT_MS) until pred(s) holds; false if it never did. */
typedef bool (*pred_fn)(scene *s, int arg);
static bool wait_for(scene *s, pred_fn pred, int arg) {
  uint64_t end = mono_ms() + WAIT_MS;
  while (!pred(s, arg)) {
    if (mono_ms() > end) return false;
    pause_ms(1);
  }
  return true;
}

static bool slow_started(scene *s, int n) { return atomic_load(&s->slow_runs) >= n; }
static bool duplicates_seen(scene *s, int n) {
  return (int)(stats_of(s, 0).duplicates + stats_of(s, 1).duplicates) >= n;
}
static bool decided(scene *s, int node) {
  cnv_nats_node_stats st = stats_of(s, node);
  return st.answered + st.takeovers >= 1;
}

/* ---- cases ---- */

/* Pre-claiming: whoever watches the handshake subject knows a session's id before its first
 * request (the HELLO's hash), and request ids count from 1. The attacker claims the first ids
 * in the name of a live node of the swarm that does not serve the capability, so that a node
 * would answer "in progress" for ever. The victim's effectful call still runs, once. */
static void t_preclaim(void **state) {
  (void)state;
  scene *s = scene_new(2, 1, NULL); /* node 1 is live and serves demo.echo only */
  attacker at;
  attacker_connect(s, &at);
  natsSubscription *spy = spy_on_handshakes(&at);

  client c;
  assert_int_equal(client_connect(s, &c), 0);
  natsMsg *hello = NULL;
  assert_int_equal(natsSubscription_NextMsg(&hello, spy, WAIT_MS), NATS_OK);
  uint8_t hh[32];
  assert_int_equal(cnv_sw_hash(natsMsg_GetData(hello), (size_t)natsMsg_GetDataLength(hello), hh), CNV_OK);
  natsMsg_Destroy(hello);
  assert_memory_equal(hh, c.sid, 16); /* the attacker knows the session id */
  char id[64];
  for (uint64_t r = 1; r <= 3; r++) { /* claims, with the id anyone can name */
    plain_id(hh, r, id);
    publish_claim_as(at.js, hh, r, s->node_pk[1], id);
  }
  /* and the id taken on another subject of the stream (ids are the stream's, not a subject's),
   * and a takeover's id too */
  uint8_t other_sid[16];
  randombytes_buf(other_sid, sizeof other_sid);
  char elsewhere[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_DONE, SWARM, other_sid, 1, elsewhere, sizeof elsewhere, NULL),
                   CNV_OK);
  plain_id(hh, 4, id);
  js_put(at.js, elsewhere, "x", 1, id);
  strcat(id, ".t0");
  js_put(at.js, elsewhere, "x", 1, id);

  answer a = call(&c, "demo.count", 1);
  assert_false(a.refusal);
  assert_int_equal(a.status, CNV_OK);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_string_equal(a.result, "ran");
  a = call(&c, "demo.count", 1); /* a retry: the stored answer, not a second run */
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_int_equal(atomic_load(&s->count_runs), 1);
  a = call(&c, "demo.count", 4);
  assert_int_equal(a.status, CNV_OK);
  assert_int_equal(a.done, CNV_DONE_RAN);
  assert_int_equal(atomic_load(&s->count_runs), 2);

  natsSubscription_Destroy(spy);
  attacker_close(&at);
  client_close(&c);
  scene_free(s);
}

/* A claim appended by an attacker (a made-up claimer, no message id) while the claimer runs
 * the request: a retry that reaches the other node must not take it over and run it again. */
static void t_appended_claim(void **state) {
  (void)state;
  scene *s = scene_new(2, 2, NULL);
  attacker at;
  attacker_connect(s, &at);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  client_seal(&c, "demo.slow", 3, 3);
  client_publish(&c);
  assert_true(wait_for(s, slow_started, 1));
  int other = stats_of(s, 0).claims == 1 ? 1 : 0; /* the node that does not run it */
  uint8_t junk[32];
  randombytes_buf(junk, sizeof junk);
  publish_claim_as(at.js, c.sid, 3, junk, NULL);

  /* retries (the same request id) until one reaches the other node (the queue group picks) */
  for (int i = 1; i <= 64 && stats_of(s, other).duplicates == 0; i++) {
    client_seal(&c, "demo.slow", 3, 3);
    client_publish(&c);
    assert_true(wait_for(s, duplicates_seen, i));
  }
  assert_int_equal(stats_of(s, other).duplicates, 1);
  assert_true(wait_for(s, decided, other));
  assert_int_equal(stats_of(s, other).takeovers, 0);
  assert_int_equal(atomic_load(&s->slow_runs), 1);

  atomic_store(&s->release, true);
  for (;;) { /* "in progress" answers, then the one that ran */
    answer a = client_recv(&c);
    assert_int_equal(a.reqid, 3);
    if (a.done == CNV_DONE_RAN) break;
    assert_int_equal(a.status, CNV_ENATS_IN_PROGRESS);
  }
  assert_int_equal(atomic_load(&s->slow_runs), 1);
  attacker_close(&at);
  client_close(&c);
  scene_free(s);
}

/* A stored answer forged by an attacker (sealed under a key of its own) on the DONE subject
 * after the real one: a node never relays bytes that do not open under the session's key, and
 * never runs the request again. The client, which also sees the forgery on its subjects, drops
 * it (it does not open). */
static void t_forged_done(void **state) {
  (void)state;
  scene *s = scene_new(1, 1, NULL);
  attacker at;
  attacker_connect(s, &at);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  answer a = call(&c, "demo.count", 2);
  assert_int_equal(a.done, CNV_DONE_RAN);

  uint8_t key[32], plain[64], sealed[256];
  size_t plain_len, sealed_len;
  randombytes_buf(key, sizeof key);
  cnv_session_response fake = {.status = CNV_OK, .done = CNV_DONE_RAN, .result = (const uint8_t *)"forged", .result_len = 6};
  assert_int_equal(cnv_session_response_encode(&fake, plain, sizeof plain, &plain_len), CNV_OK);
  assert_int_equal(cnv_sw_response_seal(key, 2, plain, plain_len, sealed, sizeof sealed, &sealed_len), CNV_OK);
  char done[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_DONE, SWARM, c.sid, 2, done, sizeof done, NULL), CNV_OK);
  jsPubAck *pa = NULL;
  jsErrCode jerr = 0;
  assert_int_equal(js_Publish(&pa, at.js, done, sealed, (int)sealed_len, NULL, &jerr), NATS_OK);
  jsPubAck_Destroy(pa);
  natsMsg *m = NULL; /* the forgery, as the client's subscription sees it: it does not open */
  assert_int_equal(natsSubscription_NextMsg(&m, c.sub, WAIT_MS), NATS_OK);
  cnv_sw_response r;
  assert_int_equal(cnv_sw_response_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &r), CNV_OK);
  assert_int_not_equal(cnv_sw_response_open(c.s2c, &r, plain, sizeof plain, &plain_len), CNV_OK);
  natsMsg_Destroy(m);

  client_seal(&c, "demo.count", 2, 2); /* a retry: the node must not relay the forgery */
  client_publish(&c);
  a = client_recv(&c); /* asserts it opens */
  assert_int_equal(a.reqid, 2);
  assert_string_not_equal(a.result, "forged");
  assert_int_equal(atomic_load(&s->count_runs), 1);
  attacker_close(&at);
  client_close(&c);
  scene_free(s);
}

/* A flood of valid HELLOs (an agent's real token, each its own): the node answers at most its
 * handshake rate (a second's worth at once), drops the rest before any signature check, and
 * counts them; an honest handshake goes through once the flood stops. */
#define FLOOD 60
#define FLOOD_RATE 5
static bool all_counted(scene *s, int n) {
  cnv_nats_node_stats st = stats_of(s, 0);
  return (int)(st.handshakes + st.handshake_refused + st.handshake_limited) >= n;
}
static void t_hello_flood(void **state) {
  (void)state;
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.status_interval_ms = 60000;
  cfg.max_handshakes_per_s = FLOOD_RATE;
  scene *s = scene_new(1, 1, &cfg);
  attacker at;
  attacker_connect(s, &at);
  char hs[CNV_SW_SUBJECT_MAX], inbox[64];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, SWARM, hs, sizeof hs, NULL), CNV_OK);
  snprintf(inbox, sizeof inbox, "attacker.inbox");
  natsSubscription *in = NULL;
  assert_int_equal(natsConnection_SubscribeSync(&in, at.nc, inbox), NATS_OK);
  uint64_t t0 = mono_ms();
  for (int i = 0; i < FLOOD; i++) {
    uint8_t eph_pk[32], eph_sk[32], buf[CNV_SW_MAX_TOKEN + 256];
    assert_int_equal(cnv_sw_eph_keypair(eph_pk, eph_sk), CNV_OK);
    cnv_sw_hello h = {.ts_ms = now_ms(), .token = s->agent_tok, .token_len = s->agent_tok_len};
    memcpy(h.agent_pk, s->agent_pk, 32);
    memcpy(h.eph_pk, eph_pk, 32);
    size_t len;
    assert_int_equal(cnv_sw_hello_write(SWARM, s->agent_sk, &h, buf, sizeof buf, &len), CNV_OK);
    assert_int_equal(natsConnection_PublishRequest(at.nc, hs, inbox, buf, (int)len), NATS_OK);
  }
  assert_int_equal(natsConnection_Flush(at.nc), NATS_OK);
  assert_true(wait_for(s, all_counted, FLOOD));
  uint64_t elapsed_s = (mono_ms() - t0) / 1000u + 1u;
  cnv_nats_node_stats st = stats_of(s, 0);
  assert_true(st.handshakes <= FLOOD_RATE + FLOOD_RATE * elapsed_s);
  assert_true(st.handshake_limited >= FLOOD - (FLOOD_RATE + FLOOD_RATE * elapsed_s));
  assert_int_equal(st.handshakes + st.handshake_limited, FLOOD);
  int welcomes = 0; /* every WELCOME counted came; nothing for the dropped ones */
  natsMsg *m = NULL;
  while (natsSubscription_NextMsg(&m, in, 200) == NATS_OK) {
    welcomes++;
    natsMsg_Destroy(m);
  }
  assert_int_equal(welcomes, (int)st.handshakes);
  pause_ms(1100); /* a second's worth of handshakes again */
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  client_close(&c);
  natsSubscription_Destroy(in);
  attacker_close(&at);
  scene_free(s);
}

/* The configuration of the library client of the scene's agent, trusting its root. */
static void lib_client_config(scene *s, cnv_nats_client_config *cc) {
  cnv_nats_client_config_default(cc);
  cc->servers = nats_cluster_url(s->cl, 0);
  cc->swarm = SWARM;
  cc->secret_key = s->agent_sk;
  cc->token = s->agent_tok;
  cc->token_len = s->agent_tok_len;
  cc->trust = s->root_pk;
  cc->n_trust = 1;
}

/* The library client of the scene's agent, trusting its root. */
static cnv_nats_client *lib_client(scene *s, uint32_t attempt_ms, cnv_status *st) {
  cnv_nats_client_config cc;
  lib_client_config(s, &cc);
  cc.attempt_timeout_ms = attempt_ms;
  cnv_nats_client *c = NULL;
  *st = cnv_nats_client_connect(&cc, &c);
  return c;
}

typedef struct outcome {
  int calls;
  cnv_nats_result r;
} outcome;
static void on_result(void *ctx, const cnv_nats_result *r) {
  outcome *o = ctx;
  o->calls++;
  o->r = *r;
  o->r.result = NULL;
}

/* Whoever is subscribed to the handshake subject may answer a HELLO before the node does
 * (junk, or a WELCOME signed by a key of its own with a token that does not allow
 * swarm.serve): the client passes over what is not authentic and takes the node's WELCOME. */
static void on_hs_junk(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)sub;
  (void)closure;
  if (natsMsg_GetReply(msg)) (void)natsConnection_PublishString(nc, natsMsg_GetReply(msg), "junk");
  natsMsg_Destroy(msg);
}
static void t_forged_welcome(void **state) {
  (void)state;
  scene *s = scene_new(1, 1, NULL);
  attacker at;
  attacker_connect(s, &at);
  char hs[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, SWARM, hs, sizeof hs, NULL), CNV_OK);
  natsSubscription *fake = NULL;
  assert_int_equal(natsConnection_Subscribe(&fake, at.nc, hs, on_hs_junk, NULL), NATS_OK);
  assert_int_equal(natsConnection_Flush(at.nc), NATS_OK);
  for (int i = 0; i < 3; i++) {
    cnv_status st;
    cnv_nats_client *c = lib_client(s, 0, &st);
    assert_int_equal(st, CNV_OK);
    cnv_nats_result r;
    char buf[64];
    assert_int_equal(cnv_nats_client_call(c, "demo.echo hi", 12, 0, &r, buf, sizeof buf), CNV_OK);
    assert_int_equal(r.status, CNV_OK);
    cnv_nats_client_close(c);
  }
  assert_int_equal(stats_of(s, 0).handshakes, 3);
  natsSubscription_Destroy(fake);
  attacker_close(&at);
  scene_free(s);
}

/* A plain REFUSAL "ticket expired" (unauthenticated: anyone may publish one) injected on the
 * reply subject of an effectful call that runs: the client must not renew its session and send
 * the call again under a new session id, where its claim would not stop a second run. */
static bool two_handshakes(scene *s, int n) {
  (void)n;
  return stats_of(s, 0).handshakes >= 2;
}
static void t_injected_refusal(void **state) {
  (void)state;
  scene *s = scene_new(1, 1, NULL);
  attacker at;
  attacker_connect(s, &at);
  char cap[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_cap(SWARM, "demo.slow", 9, cap, sizeof cap, NULL), CNV_OK);
  natsSubscription *spy = spy_on(&at, cap);
  cnv_status st;
  cnv_nats_client *c = lib_client(s, 200, &st);
  assert_int_equal(st, CNV_OK);
  outcome o = {0};
  uint64_t id = 0;
  assert_int_equal(cnv_nats_client_submit(c, "demo.slow", 9, 0, on_result, &o, &id), CNV_OK);
  assert_true(wait_for(s, slow_started, 1));
  natsMsg *req = NULL; /* the attacker saw the request: its reply subject names the session */
  assert_int_equal(natsSubscription_NextMsg(&req, spy, WAIT_MS), NATS_OK);
  uint8_t refusal[64];
  size_t len;
  assert_int_equal(cnv_sw_refusal_write(id, CNV_ESW_TICKET_EXPIRED, refusal, sizeof refusal, &len), CNV_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(natsConnection_Publish(at.nc, natsMsg_GetReply(req), refusal, (int)len), NATS_OK);
    assert_int_equal(natsConnection_Flush(at.nc), NATS_OK);
    uint64_t end = mono_ms() + 500; /* more than two attempt waits: a renewal would be done */
    while (mono_ms() < end && !two_handshakes(s, 0)) {
      unsigned done = 0;
      assert_int_equal(cnv_nats_client_poll(c, 50, &done), CNV_OK);
      assert_int_equal(done, 0);
    }
  }
  natsMsg_Destroy(req);
  assert_int_equal(stats_of(s, 0).handshakes, 1);
  assert_int_equal(atomic_load(&s->slow_runs), 1);
  atomic_store(&s->release, true);
  while (o.calls == 0) assert_int_equal(cnv_nats_client_poll(c, WAIT_MS, NULL), CNV_OK);
  assert_int_equal(o.r.status, CNV_OK);
  assert_int_equal(o.r.done, CNV_DONE_RAN);
  assert_int_equal(atomic_load(&s->slow_runs), 1);
  cnv_nats_client_close(c);
  natsSubscription_Destroy(spy);
  attacker_close(&at);
  scene_free(s);
}

/* Junk written by an attacker under grant.PK of a node about to join (its key is public: its
 * JOIN names it, and its status records): the key-holding node's create of the grant fails on
 * it, and the joiner would wait for ever. The key holder replaces what does not verify. */
static void junk_grant(scene *s, int i) {
  attacker *at = s->pre_ctx;
  kvStore *kv = NULL;
  char bucket[CNV_SW_SUBJECT_MAX], key[CNV_SW_KV_KEY_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_BUCKET, SWARM, bucket, sizeof bucket, NULL), CNV_OK);
  assert_int_equal(js_KeyValue(&kv, at->js, bucket), NATS_OK);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_GRANT, s->node_pk[i], key, sizeof key, NULL), CNV_OK);
  uint64_t rev;
  assert_int_equal(kvStore_PutString(&rev, kv, key, "junk"), NATS_OK);
  kvStore_Destroy(kv);
}
static void t_junk_grant(void **state) {
  (void)state;
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.status_interval_ms = 60000;
  cfg.connect_timeout_ms = 5000; /* the joiner's wait for its grant */
  scene *s = scene_new(1, 1, &cfg);
  attacker at;
  attacker_connect(s, &at);
  s->pre_ctx = &at;
  s->pre_start = junk_grant;
  add_node(s, &cfg, true); /* asserts it starts: it got the key */
  s->pre_start = NULL;
  assert_true(stats_of(s, 1).records_bad >= 1); /* it saw the junk first */
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  assert_string_equal(call(&c, "demo.echo hi", 1).result, "hi");
  client_close(&c);
  attacker_close(&at);
  scene_free(s);
}

/* ---- defences that hold by design ---- */

/* A captured effectful request replayed verbatim (anyone sees it on the capability subject):
 * the node that cached the session drops it (its replay window), another node opens the
 * session afresh and accepts the sequence number, but its claim is a duplicate: the stored
 * answer goes to the victim's reply subject. It runs once. */
static bool replays_handled(scene *s, int n) {
  cnv_nats_node_stats a = stats_of(s, 0), b = stats_of(s, 1);
  return (int)(a.replays + b.replays + a.stored_answers + b.stored_answers) >= n;
}
static void t_replay_captured(void **state) {
  (void)state;
  scene *s = scene_new(2, 2, NULL);
  attacker at;
  attacker_connect(s, &at);
  char cap[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_cap(SWARM, "demo.count", 10, cap, sizeof cap, NULL), CNV_OK);
  natsSubscription *spy = spy_on(&at, cap);
  client c;
  assert_int_equal(client_connect(s, &c), 0);
  assert_int_equal(call(&c, "demo.count", 4).done, CNV_DONE_RAN);
  natsMsg *req = NULL;
  assert_int_equal(natsSubscription_NextMsg(&req, spy, WAIT_MS), NATS_OK);
  for (int i = 0; i < 16; i++)
    assert_int_equal(natsConnection_PublishRequest(at.nc, natsMsg_GetSubject(req), natsMsg_GetReply(req),
                                                   natsMsg_GetData(req), natsMsg_GetDataLength(req)),
                     NATS_OK);
  assert_int_equal(natsConnection_Flush(at.nc), NATS_OK);
  natsMsg_Destroy(req);
  assert_true(wait_for(s, replays_handled, 16));
  assert_int_equal(atomic_load(&s->count_runs), 1);
  natsSubscription_Destroy(spy);
  attacker_close(&at);
  client_close(&c);
  scene_free(s);
}

/* Another agent (a valid token of its own) takes a victim's ticket from the wire: without the
 * session's key it cannot seal a request the ticket's key opens. Dropped, counted, not run. */
static void t_ticket_stolen(void **state) {
  (void)state;
  scene *s = scene_new(1, 1, NULL);
  client victim, thief;
  assert_int_equal(client_connect(s, &victim), 0);
  assert_int_equal(call(&victim, "demo.echo mine", 1).done, CNV_DONE_RAN);
  assert_int_equal(client_connect(s, &thief), 0);
  memcpy(thief.ticket, victim.ticket, victim.ticket_len); /* the victim's ticket and session */
  thief.ticket_len = victim.ticket_len;
  memcpy(thief.sid, victim.sid, sizeof thief.sid);
  thief.seq = 100;
  uint64_t tampered = stats_of(s, 0).tampered;
  client_seal(&thief, "demo.count", 2, 2); /* sealed under the thief's own session key */
  client_publish(&thief);
  randombytes_buf(thief.c2s, sizeof thief.c2s); /* and under a key made up */
  client_seal(&thief, "demo.count", 3, 3);
  client_publish(&thief);
  uint64_t end = mono_ms() + WAIT_MS;
  while (stats_of(s, 0).tampered < tampered + 2 && mono_ms() < end) pause_ms(1);
  assert_int_equal(stats_of(s, 0).tampered, tampered + 2);
  assert_int_equal(atomic_load(&s->count_runs), 0);
  client_close(&thief);
  client_close(&victim);
  scene_free(s);
}

/* A HELLO made for another swarm (its signature covers the swarm id): a signed refusal,
 * CNV_ESW_PROOF, no ticket. */
static void t_cross_swarm_hello(void **state) {
  (void)state;
  scene *s = scene_new(1, 1, NULL);
  attacker at;
  attacker_connect(s, &at);
  uint8_t eph_pk[32], eph_sk[32], buf[CNV_SW_MAX_TOKEN + 256], hh[32];
  assert_int_equal(cnv_sw_eph_keypair(eph_pk, eph_sk), CNV_OK);
  cnv_sw_hello h = {.ts_ms = now_ms(), .token = s->agent_tok, .token_len = s->agent_tok_len};
  memcpy(h.agent_pk, s->agent_pk, 32);
  memcpy(h.eph_pk, eph_pk, 32);
  size_t len;
  assert_int_equal(cnv_sw_hello_write(SWARM + 1, s->agent_sk, &h, buf, sizeof buf, &len), CNV_OK);
  assert_int_equal(cnv_sw_hash(buf, len, hh), CNV_OK);
  char hs[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, SWARM, hs, sizeof hs, NULL), CNV_OK);
  natsMsg *m = NULL;
  assert_int_equal(natsConnection_Request(&m, at.nc, hs, buf, (int)len, WAIT_MS), NATS_OK);
  cnv_sw_welcome w;
  assert_int_equal(cnv_sw_welcome_read(SWARM, hh, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &w), CNV_OK);
  assert_int_equal(w.status, CNV_ESW_PROOF);
  assert_int_equal(w.ticket_len, 0);
  natsMsg_Destroy(m);
  assert_int_equal(stats_of(s, 0).handshakes, 0);
  attacker_close(&at);
  scene_free(s);
}

/* Many sessions (an agent's valid token, one handshake each): the sessions table keeps at
 * most max_sessions, every request is answered (an evicted session is opened again from its
 * ticket). A request larger than max_message is dropped unread. */
#define SESSIONS 40
static void t_bounded(void **state) {
  (void)state;
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.status_interval_ms = 60000;
  cfg.max_sessions = 16;
  cfg.max_message = 2048;
  scene *s = scene_new(1, 1, &cfg);
  client first;
  assert_int_equal(client_connect(s, &first), 0);
  for (int i = 0; i < SESSIONS; i++) {
    client c;
    assert_int_equal(client_connect(s, &c), 0);
    assert_string_equal(call(&c, "demo.echo x", 1).result, "x");
    client_close(&c);
    assert_true(stats_of(s, 0).sessions <= 16);
  }
  assert_string_equal(call(&first, "demo.echo back", 1).result, "back"); /* evicted, reopened */
  uint64_t tampered = stats_of(s, 0).tampered;
  static char big[8192];
  memset(big, 'a', sizeof big - 1);
  memcpy(big, "demo.echo ", 10);
  uint8_t plain[9000];
  size_t plain_len;
  cnv_session_invoke inv = {.line = big, .line_len = strlen(big)};
  assert_int_equal(cnv_session_invoke_encode(&inv, plain, sizeof plain, &plain_len), CNV_OK);
  static uint8_t out[12000];
  size_t out_len;
  char subject[CNV_SW_SUBJECT_MAX], reply[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_cap(SWARM, "demo.echo", 9, subject, sizeof subject, NULL), CNV_OK);
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, SWARM, first.sid, 2, reply, sizeof reply, NULL), CNV_OK);
  assert_int_equal(cnv_sw_request_seal(first.c2s, first.ticket, first.ticket_len, ++first.seq, 2, now_ms(), 0, subject,
                                       reply, plain, plain_len, out, sizeof out, &out_len),
                   CNV_OK);
  assert_int_equal(natsConnection_PublishRequest(first.nc, subject, reply, out, (int)out_len), NATS_OK);
  assert_string_equal(call(&first, "demo.echo next", 3).result, "next"); /* handled in order */
  assert_int_equal(stats_of(s, 0).tampered, tampered + 1);
  client_close(&first);
  scene_free(s);
}

/* A flood on a client's session subjects (anyone may publish there: the session id is public)
 * while the client does not poll: nats.c keeps what arrives for the client's subscription, so
 * the client's memory must stay bounded (a few answers per call in flight), not grow with the
 * flood. The client still completes a call after it. */
static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}
#define FLOOD_MSGS 1600
#define FLOOD_BYTES 65536
static void t_client_flood(void **state) {
  (void)state;
  scene *s = scene_new(1, 1, NULL);
  attacker at;
  attacker_connect(s, &at);
  natsSubscription *spy = spy_on_handshakes(&at);
  cnv_nats_client_config cc;
  lib_client_config(s, &cc);
  cc.max_in_flight = 4;
  cc.max_message = 1024;
  cnv_nats_client *c = NULL;
  assert_int_equal(cnv_nats_client_connect(&cc, &c), CNV_OK);
  natsMsg *hello = NULL; /* the session id, from the HELLO on the wire */
  assert_int_equal(natsSubscription_NextMsg(&hello, spy, WAIT_MS), NATS_OK);
  uint8_t hh[32];
  assert_int_equal(cnv_sw_hash(natsMsg_GetData(hello), (size_t)natsMsg_GetDataLength(hello), hh), CNV_OK);
  natsMsg_Destroy(hello);
  char reply[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, SWARM, hh, 1, reply, sizeof reply, NULL), CNV_OK);

  static uint8_t junk[FLOOD_BYTES];
  memset(junk, 0x5a, sizeof junk);
  long before = max_rss_kb();
  for (int i = 0; i < FLOOD_MSGS; i++) {
    assert_int_equal(natsConnection_Publish(at.nc, reply, junk, (int)sizeof junk), NATS_OK);
    if (i % 64 == 63) assert_int_equal(natsConnection_Flush(at.nc), NATS_OK);
  }
  assert_int_equal(natsConnection_Flush(at.nc), NATS_OK);
  pause_ms(500); /* the client's reader has taken in what the server sent it */
  long grown_kb = max_rss_kb() - before;
  /* the flood is 100 MiB; what the client may keep is well under 1 MiB (under ASan, freed
   * memory stays in its quarantine: the resident size says nothing there) */
#ifndef __SANITIZE_ADDRESS__
  assert_true(grown_kb < 32 * 1024);
#else
  (void)grown_kb;
#endif

  cnv_nats_result r;
  char buf[64];
  assert_int_equal(cnv_nats_client_call(c, "demo.echo after", 15, 0, &r, buf, sizeof buf), CNV_OK);
  assert_int_equal(r.status, CNV_OK);
  cnv_nats_client_close(c);
  natsSubscription_Destroy(spy);
  attacker_close(&at);
  scene_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_preclaim),
      cmocka_unit_test(t_appended_claim),
      cmocka_unit_test(t_forged_done),
      cmocka_unit_test(t_hello_flood),
      cmocka_unit_test(t_forged_welcome),
      cmocka_unit_test(t_injected_refusal),
      cmocka_unit_test(t_junk_grant),
      cmocka_unit_test(t_replay_captured),
      cmocka_unit_test(t_ticket_stolen),
      cmocka_unit_test(t_cross_swarm_hello),
      cmocka_unit_test(t_bounded),
      cmocka_unit_test(t_client_flood),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
