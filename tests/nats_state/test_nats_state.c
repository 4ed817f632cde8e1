/* The node's state half (docs/nats.md "Swarm state") against a real nats-server: nodes built
 * by hand (struct cnv_nats_node from node_internal.h: configuration, keys, a started runtime,
 * a NATS connection and JetStream context), then natsn_state_start / natsn_state_stop. The
 * serve half's two functions the state half calls are stubbed here. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/delegation.h>
#include <cnv/nats.h>
#include <cnv/runtime.h>

#include "core/atomic.h"
#include "nats/node_internal.h"
#include "nats/records.h"
#include "nats/state_internal.h"
#include "nats_server.h"

#define SWARM 7u
#define WAIT_MS 20000u /* the longest any awaited event may take before the test fails */

/* ---- the serve half's part, stubbed ---- */

void natsn_event(cnv_nats_node *n, const cnv_nats_event *ev) {
  if (n->cfg.on_event) n->cfg.on_event(n->cfg.event_ctx, ev);
}

uint32_t natsn_serve_in_flight(const cnv_nats_node *n) {
  (void)n;
  return 0;
}

/* ---- events seen by one node ---- */

#define MAX_EVENTS 256
typedef struct events {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  cnv_nats_event ev[MAX_EVENTS];
  size_t n;
} events;

static void on_event(void *ctx, const cnv_nats_event *ev) {
  events *e = ctx;
  pthread_mutex_lock(&e->mu);
  if (e->n < MAX_EVENTS) e->ev[e->n++] = *ev;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
}

static bool has_event(events *e, cnv_nats_event_kind kind, const uint8_t id[32], cnv_status *status) {
  for (size_t i = 0; i < e->n; i++) {
    if (e->ev[i].kind == kind && (!id || memcmp(e->ev[i].id, id, 32) == 0)) {
      if (status) *status = e->ev[i].status;
      return true;
    }
  }
  return false;
}

/* Waits until an event of kind (with id, when not NULL) was seen; false after WAIT_MS. */
static bool wait_event(events *e, cnv_nats_event_kind kind, const uint8_t id[32], cnv_status *status) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += WAIT_MS / 1000;
  pthread_mutex_lock(&e->mu);
  bool found;
  while (!(found = has_event(e, kind, id, status))) {
    if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) != 0) {
      found = has_event(e, kind, id, status);
      break;
    }
  }
  pthread_mutex_unlock(&e->mu);
  return found;
}

static bool seen_event(events *e, cnv_nats_event_kind kind, const uint8_t id[32]) {
  pthread_mutex_lock(&e->mu);
  bool found = has_event(e, kind, id, NULL);
  pthread_mutex_unlock(&e->mu);
  return found;
}

/* ---- the swarm's keys and tokens ---- */

typedef struct keypair {
  uint8_t pk[32];
  uint8_t sk[64];
} keypair;

static void keypair_new(keypair *k) { crypto_sign_keypair(k->pk, k->sk); }

/* A token from root's sk to audience allowing pattern (in SWARM). */
static size_t mint(const keypair *root, const uint8_t audience[32], const char *pattern, uint8_t *out, size_t cap) {
  cnv_deleg_caveats cav;
  memset(&cav, 0, sizeof cav);
  cav.expiry = CNV_DELEG_NO_EXPIRY;
  cav.swarm = SWARM;
  cav.max_uses = CNV_DELEG_UNLIMITED_USES;
  cav.effects = 0;
  cav.n_allow = 1;
  assert_int_equal(cnv_deleg_pattern_parse(pattern, strlen(pattern), &cav.allow[0]), CNV_OK);
  size_t len = 0;
  assert_int_equal(cnv_deleg_mint_root(root->sk, audience, &cav, NULL, out, cap, &len), CNV_OK);
  return len;
}

/* ---- a node built by hand ---- */

typedef struct test_node {
  cnv_nats_node n;
  keypair key;
  uint8_t token[1024];
  events ev;
} test_node;

typedef struct fixture {
  test_nats_server server;
  keypair root;
  test_node *nodes[4];
  size_t n_nodes;
} fixture;

/* A node whose token comes from the fixture's root (which its runtime trusts); interval_ms 0:
 * the default status interval. */
static test_node *node_new(fixture *f, uint32_t interval_ms) {
  test_node *t = calloc(1, sizeof *t);
  assert_non_null(t);
  f->nodes[f->n_nodes++] = t;
  pthread_mutex_init(&t->ev.mu, NULL);
  pthread_cond_init(&t->ev.cv, NULL);
  keypair_new(&t->key);
  size_t token_len = mint(&f->root, t->key.pk, CNV_NATS_SERVE_CAPABILITY, t->token, sizeof t->token);
  cnv_nats_node *n = &t->n;
  memcpy(n->secret_key, t->key.sk, 64);
  memcpy(n->public_key, t->key.pk, 32);
  n->token = t->token;
  n->servers = f->server.url;
  cnv_nats_node_config_default(&n->cfg);
  n->cfg.servers = f->server.url;
  n->cfg.swarm = SWARM;
  n->cfg.secret_key = n->secret_key;
  n->cfg.token = t->token;
  n->cfg.token_len = token_len;
  n->cfg.status_interval_ms = interval_ms;
  n->cfg.on_event = on_event;
  n->cfg.event_ctx = &t->ev;
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.workers = 1;
  rc.idle = CNV_RT_IDLE_PARK;
  rc.swarm_id = SWARM;
  assert_int_equal(cnv_runtime_create(&rc, &n->rt), CNV_OK);
  assert_int_equal(cnv_runtime_trust_add(n->rt, f->root.pk), CNV_OK);
  assert_int_equal(cnv_runtime_start(n->rt), CNV_OK);
  assert_int_equal(natsConnection_ConnectTo(&n->nc, f->server.url), NATS_OK);
  assert_int_equal(natsConnection_JetStream(&n->js, n->nc, NULL), NATS_OK);
  return t;
}

static void node_free(test_node *t) {
  cnv_nats_node *n = &t->n;
  natsn_state_stop(n);
  if (n->js) jsCtx_Destroy(n->js);
  if (n->nc) natsConnection_Destroy(n->nc);
  if (n->rt) {
    assert_int_equal(cnv_runtime_stop(n->rt, 1000000000ull), CNV_OK);
    cnv_runtime_destroy(n->rt);
  }
  pthread_cond_destroy(&t->ev.cv);
  pthread_mutex_destroy(&t->ev.mu);
  sodium_memzero(t, sizeof *t);
  free(t);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || sodium_init() < 0) return -1;
  if (!test_nats_server_start(&f->server)) {
    test_nats_server_stop(&f->server);
    free(f);
    return -1; /* the test fails (cmocka reports the setup), naming the package on stderr */
  }
  keypair_new(&f->root);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  for (size_t i = 0; i < f->n_nodes; i++) node_free(f->nodes[i]);
  test_nats_server_stop(&f->server);
  free(f);
  return 0;
}

/* An agent's token from the fixture's root (allowing demo.echo), and its first link's hash. */
typedef struct agent {
  keypair key;
  uint8_t token[1024];
  size_t token_len;
  uint8_t link[32];
} agent;

static void agent_new(const keypair *root, agent *a) {
  keypair_new(&a->key);
  a->token_len = mint(root, a->key.pk, "demo.echo", a->token, sizeof a->token);
  assert_int_equal(cnv_deleg_link_hash(a->token, a->token_len, 0, a->link), CNV_OK);
}

/* Whether rt accepts the agent's token now (a verified add, removed again). */
static cnv_status agent_accepted(cnv_runtime *rt, const agent *a) {
  uint32_t id;
  cnv_status st = cnv_runtime_agent_add_verified(rt, a->key.pk, a->token, a->token_len, &id);
  if (st == CNV_OK) assert_int_equal(cnv_runtime_agent_remove(rt, id), CNV_OK);
  return st;
}

/* Puts raw bytes under key in the swarm's bucket (as any client of the server could). */
static void bucket_put(test_node *t, const char *key, const void *val, size_t len) {
  assert_int_equal(kvStore_Put(NULL, t->n.state->kv, key, val, (int)len), NATS_OK);
}

/* ---- cases ---- */

static void genesis_then_grant(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 0), *b = node_new(f, 0);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_key_epoch(&a->n), 1);
  assert_true(seen_event(&a->ev, CNV_NATS_EV_KEY_READY, NULL));
  assert_int_equal(natsn_state_start(&b->n), CNV_OK); /* JOIN, then A's GRANT */
  assert_int_equal(natsn_key_epoch(&b->n), 1);
  uint8_t ka[32], kb[32];
  assert_true(natsn_swarm_key(&a->n, 1, ka));
  assert_true(natsn_swarm_key(&b->n, 1, kb));
  assert_memory_equal(ka, kb, 32);
  assert_false(natsn_swarm_key(&b->n, 2, kb));
  /* the genesis key names A; the grant to B is in the bucket, sealed to B */
  kvEntry *e = NULL;
  assert_int_equal(kvStore_Get(&e, a->n.state->kv, NATSN_GENESIS_KEY), NATS_OK);
  assert_int_equal(kvEntry_ValueLen(e), 32);
  assert_memory_equal(kvEntry_Value(e), a->key.pk, 32);
  kvEntry_Destroy(e);
  /* a restarted B gets its key from the replay alone (its grant is in the bucket) */
  natsn_state_stop(&b->n);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  assert_true(natsn_swarm_key(&b->n, 1, kb));
  assert_memory_equal(ka, kb, 32);
  sodium_memzero(ka, 32);
  sodium_memzero(kb, 32);
}

static void revoke_spreads(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 0), *b = node_new(f, 0);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  agent ag;
  agent_new(&f->root, &ag);
  assert_int_equal(agent_accepted(b->n.rt, &ag), CNV_OK);
  assert_int_equal(cnv_nats_node_revoke(&a->n, ag.link), CNV_OK);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_REVOKED, ag.link, NULL));
  assert_int_equal(agent_accepted(b->n.rt, &ag), CNV_ERT_DENY_REVOKED);
  assert_true(wait_event(&a->ev, CNV_NATS_EV_REVOKED, ag.link, NULL));
  assert_int_equal(agent_accepted(a->n.rt, &ag), CNV_ERT_DENY_REVOKED);
  assert_true(cnv__load_relaxed(&b->n.stats.records_applied) > 0);
}

/* A record whose signer has no valid token changes nothing, and is reported. */
static void untrusted_signer_ignored(void **state) {
  fixture *f = *state;
  test_node *b = node_new(f, 0);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  agent ag;
  agent_new(&f->root, &ag);
  /* a rogue: a key with a serve token from a root no node trusts */
  keypair rogue_root, rogue;
  keypair_new(&rogue_root);
  keypair_new(&rogue);
  uint8_t rogue_token[1024];
  size_t rogue_len = mint(&rogue_root, rogue.pk, CNV_NATS_SERVE_CAPABILITY, rogue_token, sizeof rogue_token);
  uint8_t *buf = malloc(NATSN_MAX_RECORD);
  assert_non_null(buf);
  char key[CNV_SW_KV_KEY_MAX];
  size_t len;
  assert_int_equal(natsn_record_sign(SWARM, CNV_SW_REC_REVOKE, ag.link, rogue.sk, rogue_token, rogue_len, ag.link, 32,
                                     key, buf, &len),
                   CNV_OK);
  bucket_put(b, key, buf, len);
  cnv_status why = CNV_OK;
  assert_true(wait_event(&b->ev, CNV_NATS_EV_RECORD_BAD, rogue.pk, &why));
  assert_int_equal(why, CNV_ERT_DENY_UNTRUSTED);
  /* the same with no token at all */
  keypair bare;
  keypair_new(&bare);
  assert_int_equal(
      natsn_record_sign(SWARM, CNV_SW_REC_REVOKE, ag.link, bare.sk, NULL, 0, ag.link, 32, key, buf, &len), CNV_OK);
  bucket_put(b, key, buf, len);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_RECORD_BAD, bare.pk, &why));
  assert_int_equal(why, CNV_ENATS_NOT_AUTHORIZED);
  /* a node's token that does not allow swarm.serve */
  keypair wrong;
  keypair_new(&wrong);
  uint8_t wrong_token[1024];
  size_t wrong_len = mint(&f->root, wrong.pk, "demo.echo", wrong_token, sizeof wrong_token);
  assert_int_equal(natsn_record_sign(SWARM, CNV_SW_REC_REVOKE, ag.link, wrong.sk, wrong_token, wrong_len, ag.link, 32,
                                     key, buf, &len),
                   CNV_OK);
  bucket_put(b, key, buf, len);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_RECORD_BAD, wrong.pk, &why));
  assert_int_equal(why, CNV_ENATS_NOT_AUTHORIZED);
  /* a node (not a root) may not add a trust root */
  keypair root2;
  keypair_new(&root2);
  assert_int_equal(natsn_record_sign(SWARM, CNV_SW_REC_TRUST, root2.pk, b->key.sk, b->n.token, b->n.cfg.token_len,
                                     root2.pk, 32, key, buf, &len),
                   CNV_OK);
  bucket_put(b, key, buf, len);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_RECORD_BAD, b->key.pk, &why));
  assert_int_equal(why, CNV_ENATS_NOT_AUTHORIZED);
  free(buf);
  assert_false(seen_event(&b->ev, CNV_NATS_EV_REVOKED, NULL));
  assert_false(seen_event(&b->ev, CNV_NATS_EV_TRUSTED, NULL));
  assert_int_equal(agent_accepted(b->n.rt, &ag), CNV_OK);
  assert_true(cnv__load_relaxed(&b->n.stats.records_bad) >= 4);
}

/* A valid record put under another key name does not verify there. */
static void moved_record_ignored(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 0), *b = node_new(f, 0);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  agent ag, other;
  agent_new(&f->root, &ag);
  agent_new(&f->root, &other);
  uint8_t *buf = malloc(NATSN_MAX_RECORD);
  assert_non_null(buf);
  char key[CNV_SW_KV_KEY_MAX], moved[CNV_SW_KV_KEY_MAX];
  size_t len;
  assert_int_equal(natsn_record_sign(SWARM, CNV_SW_REC_REVOKE, ag.link, a->key.sk, a->n.token, a->n.cfg.token_len,
                                     ag.link, 32, key, buf, &len),
                   CNV_OK);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_REVOKE, other.link, moved, sizeof moved, NULL), CNV_OK);
  bucket_put(a, moved, buf, len);
  /* and A's status record copied under B's name */
  char node_b[CNV_SW_KV_KEY_MAX];
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_NODE, b->key.pk, node_b, sizeof node_b, NULL), CNV_OK);
  uint8_t body[CNV_SW_NODE_STATUS_BYTES];
  cnv_sw_node_status ns = {.phase = CNV_PHASE_OPERATIONAL, .interval_ms = 1000};
  assert_int_equal(cnv_sw_node_status_encode(&ns, body, sizeof body), CNV_OK);
  assert_int_equal(natsn_record_sign(SWARM, CNV_SW_REC_NODE, a->key.pk, a->key.sk, a->n.token, a->n.cfg.token_len,
                                     body, sizeof body, key, buf, &len),
                   CNV_OK);
  bucket_put(a, node_b, buf, len);
  free(buf);
  cnv_status why = CNV_OK;
  assert_true(wait_event(&b->ev, CNV_NATS_EV_RECORD_BAD, NULL, &why));
  assert_int_equal(why, CNV_ESW_PROOF);
  /* both bad records reach B (its watch applies in order: a later good one proves it) */
  assert_int_equal(cnv_nats_node_revoke(&a->n, other.link), CNV_OK);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_REVOKED, other.link, NULL));
  assert_false(seen_event(&b->ev, CNV_NATS_EV_REVOKED, ag.link));
  assert_int_equal(agent_accepted(b->n.rt, &ag), CNV_OK);
  assert_true(cnv__load_relaxed(&b->n.stats.records_bad) >= 2);
}

/* A node started late has every revocation before its start returns. */
static void late_node_replays(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 0);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  agent ag[3];
  for (int i = 0; i < 3; i++) {
    agent_new(&f->root, &ag[i]);
    assert_int_equal(cnv_nats_node_revoke(&a->n, ag[i].link), CNV_OK);
  }
  test_node *c = node_new(f, 0);
  for (int i = 0; i < 3; i++) assert_int_equal(agent_accepted(c->n.rt, &ag[i]), CNV_OK);
  assert_int_equal(natsn_state_start(&c->n), CNV_OK);
  for (int i = 0; i < 3; i++) {
    assert_true(seen_event(&c->ev, CNV_NATS_EV_REVOKED, ag[i].link));
    assert_int_equal(agent_accepted(c->n.rt, &ag[i]), CNV_ERT_DENY_REVOKED);
  }
  assert_int_equal(natsn_key_epoch(&c->n), 1);
}

/* Polls A's view until B's liveness is `live`; false after WAIT_MS. */
static bool wait_live(test_node *a, const uint8_t pk[32], bool live) {
  for (uint32_t waited = 0; waited < WAIT_MS; waited += 10) {
    if (natsn_node_live(&a->n, pk) == live) return true;
    nanosleep(&(struct timespec){.tv_nsec = 10000000L}, NULL);
  }
  return false;
}

static void status_view(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 100), *b = node_new(f, 100), *c = node_new(f, 100);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  assert_int_equal(natsn_state_start(&c->n), CNV_OK);
  assert_true(wait_live(a, b->key.pk, true));
  assert_true(wait_live(a, c->key.pk, true));
  assert_true(natsn_node_live(&a->n, a->key.pk));
  keypair stranger;
  keypair_new(&stranger);
  assert_false(natsn_node_live(&a->n, stranger.pk));
  cnv_nats_node_info info[4];
  size_t count = 0;
  assert_int_equal(cnv_nats_node_view(&a->n, info, 4, &count), CNV_OK);
  assert_int_equal(count, 3);
  for (size_t i = 0; i < count; i++) {
    assert_true(info[i].live);
    assert_int_equal(info[i].status.interval_ms, 100);
    assert_int_equal(info[i].status.phase, CNV_PHASE_OPERATIONAL);
    assert_true(info[i].record_ms > 0);
  }
  /* B's records stop (its connection is gone, nothing says Shutdown): dead after 3 intervals */
  natsConnection_Close(b->n.nc);
  assert_true(wait_live(a, b->key.pk, false));
  assert_true(natsn_node_live(&a->n, c->key.pk));
  /* C stops: its last record says Shutdown */
  natsn_state_stop(&c->n);
  assert_true(wait_live(a, c->key.pk, false));
  assert_int_equal(cnv_nats_node_view(&a->n, info, 1, &count), CNV_OK);
  assert_int_equal(count, 3); /* every node known, one copied */
}

static void admin_revoke_trust_status(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 200), *b = node_new(f, 200);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  cnv_nats_admin *adm = NULL;
  assert_int_equal(cnv_nats_admin_connect(f->server.url, SWARM, 5000, &adm), CNV_OK);
  /* status: both nodes, once their first records are in */
  assert_true(wait_live(a, b->key.pk, true));
  assert_true(wait_live(b, a->key.pk, true));
  cnv_nats_node_info info[4];
  size_t count = 0;
  assert_int_equal(cnv_nats_admin_status(adm, f->root.pk, 1, info, 4, &count), CNV_OK);
  assert_int_equal(count, 2);
  for (size_t i = 0; i < count; i++) assert_true(info[i].live);
  keypair other_root;
  keypair_new(&other_root);
  assert_int_equal(cnv_nats_admin_status(adm, other_root.pk, 1, info, 4, &count), CNV_OK);
  assert_int_equal(count, 0); /* no node's token comes from that root */
  /* revoke, signed by the root (a root token minted on the spot) */
  agent ag;
  agent_new(&f->root, &ag);
  assert_int_equal(cnv_nats_admin_revoke(adm, f->root.sk, NULL, 0, ag.link), CNV_OK);
  assert_true(wait_event(&a->ev, CNV_NATS_EV_REVOKED, ag.link, NULL));
  assert_true(wait_event(&b->ev, CNV_NATS_EV_REVOKED, ag.link, NULL));
  assert_int_equal(agent_accepted(b->n.rt, &ag), CNV_ERT_DENY_REVOKED);
  /* revoke, signed by a node with its token */
  agent ag2;
  agent_new(&f->root, &ag2);
  assert_int_equal(cnv_nats_admin_revoke(adm, a->key.sk, a->n.token, a->n.cfg.token_len, ag2.link), CNV_OK);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_REVOKED, ag2.link, NULL));
  /* revoke by a root no node trusts: ignored */
  agent ag3;
  agent_new(&f->root, &ag3);
  assert_int_equal(cnv_nats_admin_revoke(adm, other_root.sk, NULL, 0, ag3.link), CNV_OK);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_RECORD_BAD, other_root.pk, NULL));
  assert_int_equal(agent_accepted(b->n.rt, &ag3), CNV_OK);
  /* trust: a new root added by the trusted one; its tokens pass from then on */
  keypair root2;
  keypair_new(&root2);
  agent ag4;
  agent_new(&root2, &ag4);
  assert_int_equal(agent_accepted(b->n.rt, &ag4), CNV_ERT_DENY_UNTRUSTED);
  assert_int_equal(cnv_nats_admin_trust(adm, f->root.sk, root2.pk), CNV_OK);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_TRUSTED, root2.pk, NULL));
  assert_int_equal(agent_accepted(b->n.rt, &ag4), CNV_OK);
  /* the admin follows the same rule: B's token revoked -> B no longer listed */
  uint8_t b_link[32];
  assert_int_equal(cnv_deleg_link_hash(b->n.token, b->n.cfg.token_len, 0, b_link), CNV_OK);
  assert_int_equal(cnv_nats_admin_revoke(adm, f->root.sk, NULL, 0, b_link), CNV_OK);
  assert_true(wait_event(&a->ev, CNV_NATS_EV_REVOKED, b_link, NULL));
  assert_int_equal(cnv_nats_admin_status(adm, f->root.pk, 1, info, 4, &count), CNV_OK);
  assert_int_equal(count, 1);
  assert_memory_equal(info[0].node_pk, a->key.pk, 32);
  /* and A stops counting B: its records no longer verify */
  assert_true(wait_live(a, b->key.pk, false));
  cnv_nats_admin_close(adm);
  /* errors */
  assert_int_equal(cnv_nats_admin_connect(f->server.url, 0, 1000, &adm), CNV_ERANGE);
  assert_int_equal(cnv_nats_admin_connect(f->server.url, SWARM + 1, 2000, &adm), CNV_ENATS_JETSTREAM);
  assert_null(adm);
}

/* The server restarts (same store): the nodes reconnect and keep following the bucket. */
static void server_restart(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 100), *b = node_new(f, 100);
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_state_start(&b->n), CNV_OK);
  assert_true(wait_live(a, b->key.pk, true));
  assert_true(test_nats_server_restart(&f->server));
  agent ag;
  agent_new(&f->root, &ag);
  /* A's connection may still be reconnecting: JetStream answers once it is back */
  cnv_status st = CNV_ENATS_TIMEOUT;
  for (int i = 0; i < 100 && st != CNV_OK; i++) {
    st = cnv_nats_node_revoke(&a->n, ag.link);
    if (st != CNV_OK) nanosleep(&(struct timespec){.tv_nsec = 100000000L}, NULL);
  }
  assert_int_equal(st, CNV_OK);
  assert_true(wait_event(&b->ev, CNV_NATS_EV_REVOKED, ag.link, NULL));
  assert_int_equal(agent_accepted(b->n.rt, &ag), CNV_ERT_DENY_REVOKED);
  assert_true(wait_event(&a->ev, CNV_NATS_EV_REVOKED, ag.link, NULL)); /* A's watch follows again too */
  /* B's status records flow again: it is live to A */
  assert_true(wait_live(a, b->key.pk, true));
  /* The nodes stop with their connections closed: after a server restart libnats 3.4.1 may
   * re-create a watcher's ordered consumer while the watcher is stopped, and its consumer
   * delete then formats the name the re-creation freed (jsSub_deleteConsumer, a use after
   * free ASan reports); a closed connection skips that delete. */
  natsConnection_Close(a->n.nc);
  natsConnection_Close(b->n.nc);
}

static void errors(void **state) {
  fixture *f = *state;
  test_node *a = node_new(f, 0);
  uint8_t hash[32] = {1};
  assert_int_equal(cnv_nats_node_revoke(&a->n, hash), CNV_ESTATE);
  assert_int_equal(cnv_nats_node_revoke(NULL, hash), CNV_EINVAL);
  assert_int_equal(natsn_state_start(NULL), CNV_EINVAL);
  size_t count = 9;
  assert_int_equal(cnv_nats_node_view(&a->n, NULL, 0, &count), CNV_OK);
  assert_int_equal(count, 0);
  assert_int_equal(cnv_nats_node_view(&a->n, NULL, 1, &count), CNV_EINVAL);
  assert_int_equal(natsn_key_epoch(&a->n), 0);
  assert_false(natsn_swarm_key(&a->n, 1, hash));
  assert_int_equal(natsn_state_start(&a->n), CNV_OK);
  assert_int_equal(natsn_state_start(&a->n), CNV_ESTATE);
  /* a node whose token does not allow swarm.serve */
  assert_int_equal(natsn_check_serve_token(&a->n, a->key.pk, a->n.token, a->n.cfg.token_len), CNV_OK);
  agent ag;
  agent_new(&f->root, &ag);
  assert_int_equal(natsn_check_serve_token(&a->n, ag.key.pk, ag.token, ag.token_len), CNV_ENATS_NOT_AUTHORIZED);
  /* held by another key */
  assert_int_not_equal(natsn_check_serve_token(&a->n, ag.key.pk, a->n.token, a->n.cfg.token_len), CNV_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(genesis_then_grant, setup, teardown),
      cmocka_unit_test_setup_teardown(revoke_spreads, setup, teardown),
      cmocka_unit_test_setup_teardown(untrusted_signer_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(moved_record_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(late_node_replays, setup, teardown),
      cmocka_unit_test_setup_teardown(status_view, setup, teardown),
      cmocka_unit_test_setup_teardown(admin_revoke_trust_status, setup, teardown),
      cmocka_unit_test_setup_teardown(server_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(errors, setup, teardown),
  };
  const char *only = getenv("CNV_TEST_FILTER"); /* one case by name, when debugging */
  if (only) cmocka_set_test_filter(only);
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  nats_Close(); /* the NATS library's threads and globals, for the leak check */
  return failed;
}
