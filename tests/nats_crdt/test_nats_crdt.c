/* The nats module's shared state (src/nats/shared.c, docs/nats.md "Shared state") against a
 * real nats-server (tests/support/nats_cluster.h: a missing nats-server fails the test, naming
 * the Debian package): two nodes' sets of live capabilities and their counters of invocations
 * served converge; the admin's snapshot read agrees; an unregistered capability and a stopped
 * node's capabilities leave the set; messages not signed by a live node of the swarm change nothing and are counted. */
#include <setjmp.h>
#include <stdarg.h>
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
#include <cnv/swarmwire.h>

#include "support/nats_cluster.h"
#include "support/nats_fake_client.h"

#define SWARM 9u
#define WAIT_MS 15000 /* a convergence that should come: far more than it takes */

typedef struct scene {
  nats_cluster *cl;
  uint8_t root_pk[32], root_sk[64];
  cnv_runtime *rt[2];
  cnv_nats_node *node[2];
  uint8_t node_pk[2][32], node_sk[2][64];
} scene;

static cnv_status echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)call;
  return cnv_runtime_result_write(r, "ok", 2);
}

/* Node i on a fresh runtime: a new key, or with sk (a restart) the key it had. */
static void add_node_key(scene *s, int i, const char *const *paths, int n_paths, const uint8_t *sk_in);

static void add_node(scene *s, int i, const char *const *paths, int n_paths) { add_node_key(s, i, paths, n_paths, NULL); }

static void add_node_key(scene *s, int i, const char *const *paths, int n_paths, const uint8_t *sk_in) {
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.swarm_id = SWARM;
  assert_int_equal(cnv_runtime_create(&rc, &s->rt[i]), CNV_OK);
  assert_int_equal(cnv_runtime_trust_add(s->rt[i], s->root_pk), CNV_OK);
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_USER_INITIATED, .fn = echo};
  for (int k = 0; k < n_paths; k++)
    assert_int_equal(cnv_runtime_register(s->rt[i], paths[k], strlen(paths[k]), &spec), CNV_OK);
  assert_int_equal(cnv_runtime_start(s->rt[i]), CNV_OK);
  uint8_t sk[64], tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t tok_len;
  if (sk_in) {
    memcpy(sk, sk_in, 64);
    crypto_sign_ed25519_sk_to_pk(s->node_pk[i], sk);
  } else {
    crypto_sign_keypair(s->node_pk[i], sk);
  }
  memcpy(s->node_sk[i], sk, 64);
  const char *serve[] = {CNV_NATS_SERVE_CAPABILITY};
  nats_fake_mint(SWARM, s->root_sk, s->node_pk[i], serve, 1, tok, &tok_len);
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.servers = nats_cluster_url(s->cl, 0);
  cfg.swarm = SWARM;
  cfg.secret_key = sk;
  cfg.token = tok;
  cfg.token_len = tok_len;
  cfg.status_interval_ms = 200;
  assert_int_equal(cnv_nats_node_create(&cfg, s->rt[i], &s->node[i]), CNV_OK);
  sodium_memzero(sk, sizeof sk);
  assert_int_equal(cnv_nats_node_start(s->node[i]), CNV_OK);
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- reading the set ---- */

typedef struct capset {
  char items[16][80]; /* "NODEHEX8:path" */
  int n;
} capset;

static int collect(void *ctx, const char *path, size_t len, const uint8_t node[8]) {
  capset *c = ctx;
  if (c->n < 16) {
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, node, 8);
    snprintf(c->items[c->n++], sizeof c->items[0], "%s:%.*s", hex, (int)len, path);
  }
  return 0;
}

static capset caps_of(cnv_nats_node *n) {
  capset c = {0};
  assert_int_equal(cnv_nats_node_capabilities(n, collect, &c), CNV_OK);
  return c;
}

static bool has(const capset *c, const uint8_t pk[32], const char *path) {
  char want[80], hex[17];
  sodium_bin2hex(hex, sizeof hex, pk, 8);
  snprintf(want, sizeof want, "%s:%s", hex, path);
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->items[i], want) == 0) return true;
  return false;
}

static bool sets_equal(const capset *a, const capset *b) {
  if (a->n != b->n) return false;
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->items[i], b->items[i]) != 0) return false;
  return true;
}

/* Waits (up to WAIT_MS) until both nodes hold the same set of n elements; *a and *b get the
 * sets last read, and the test fails when they never agree. */
static void converge(cnv_nats_node *n0, cnv_nats_node *n1, int n, capset *a, capset *b) {
  for (int waited = 0; waited < WAIT_MS; waited += 50) {
    *a = caps_of(n0);
    *b = caps_of(n1);
    if (a->n == n && sets_equal(a, b)) break;
    sleep_ms(50);
  }
  assert_int_equal(a->n, n);
  assert_true(sets_equal(a, b));
}

static cnv_nats_shared_stats shared_of(cnv_nats_node *n) {
  cnv_nats_shared_stats st;
  assert_int_equal(cnv_nats_node_shared_get(n, &st), CNV_OK);
  return st;
}

static const char *const paths_a[] = {"demo.echo", "demo.alpha"};
static const char *const paths_b[] = {"demo.echo", "demo.beta"};

static void test_shared_state(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  scene s = {0};
  if (nats_cluster_start(1, &s.cl) != 0) fail_msg("%s", nats_cluster_error());
  crypto_sign_keypair(s.root_pk, s.root_sk);
  add_node(&s, 0, paths_a, 2);
  add_node(&s, 1, paths_b, 2);

  /* the two sets converge to the four (node, capability) pairs */
  capset a = {0}, b = {0};
  converge(s.node[0], s.node[1], 4, &a, &b);
  assert_true(has(&a, s.node_pk[0], "demo.alpha") && has(&a, s.node_pk[0], "demo.echo"));
  assert_true(has(&a, s.node_pk[1], "demo.beta") && has(&a, s.node_pk[1], "demo.echo"));
  assert_int_not_equal(shared_of(s.node[0]).replica, shared_of(s.node[1]).replica);

  /* invocations through an agent: the served counter counts them all, on both nodes */
  uint8_t agent_pk[32], agent_sk[64], agent_tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t agent_tok_len;
  crypto_sign_keypair(agent_pk, agent_sk);
  const char *allow[] = {"demo.echo"};
  nats_fake_mint(SWARM, s.root_sk, agent_pk, allow, 1, agent_tok, &agent_tok_len);
  cnv_nats_client_config cc;
  cnv_nats_client_config_default(&cc);
  cc.servers = nats_cluster_url(s.cl, 0);
  cc.swarm = SWARM;
  cc.secret_key = agent_sk;
  cc.token = agent_tok;
  cc.token_len = agent_tok_len;
  cc.trust = s.root_pk;
  cc.n_trust = 1;
  cnv_nats_client *agent = NULL;
  assert_int_equal(cnv_nats_client_connect(&cc, &agent), CNV_OK);
  for (int k = 0; k < 6; k++) {
    cnv_nats_result r;
    char buf[64];
    assert_int_equal(cnv_nats_client_call(agent, "demo.echo hi", 12, 0, &r, buf, sizeof buf), CNV_OK);
    assert_int_equal(r.status, CNV_OK);
  }
  cnv_nats_client_close(agent);
  uint64_t answered = 0;
  for (int i = 0; i < 2; i++) {
    cnv_nats_node_stats ns;
    assert_int_equal(cnv_nats_node_stats_get(s.node[i], &ns), CNV_OK);
    answered += ns.answered;
  }
  assert_true(answered >= 6);
  cnv_nats_shared_stats sa = {0}, sb = {0};
  for (int waited = 0; waited < WAIT_MS; waited += 50) {
    sa = shared_of(s.node[0]);
    sb = shared_of(s.node[1]);
    if (sa.served == answered && sb.served == answered) break;
    sleep_ms(50);
  }
  assert_int_equal(sa.served, answered);
  assert_int_equal(sb.served, answered);
  assert_true(sa.repl.sent > 0 && sa.repl.received > 0);

  /* the admin's read (a snapshot from each live node) agrees */
  cnv_nats_admin *adm = NULL;
  assert_int_equal(cnv_nats_admin_connect(nats_cluster_url(s.cl, 0), SWARM, 5000, &adm), CNV_OK);
  capset viewed = {0};
  uint64_t served = 0;
  assert_int_equal(cnv_nats_admin_shared(adm, s.root_pk, 1, 3000, collect, &viewed, &served), CNV_OK);
  assert_true(sets_equal(&viewed, &a));
  assert_int_equal(served, answered);

  /* forgeries on cnv.S.crdt: garbage, and a message signed by a key that is no node */
  natsConnection *nc = NULL;
  assert_int_equal(natsConnection_ConnectTo(&nc, nats_cluster_url(s.cl, 0)), NATS_OK);
  char subject[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_CRDT, SWARM, subject, sizeof subject, NULL), CNV_OK);
  uint64_t refused_before = shared_of(s.node[0]).refused;
  uint8_t junk[200];
  memset(junk, 0x41, sizeof junk);
  assert_int_equal(natsConnection_Publish(nc, subject, junk, sizeof junk), NATS_OK);
  {
    uint8_t pk[32], sk[64], msg[100 + 40] = {0}, h[32];
    crypto_sign_keypair(pk, sk);
    memcpy(msg + 4, pk, 32); /* generation 0, a stranger's key */
    crypto_generichash_state hs;
    uint8_t head[20] = {'c', 'n', 'v', '.', 'c', 'r', 'd', 't', SWARM};
    crypto_generichash_init(&hs, NULL, 0, 32);
    crypto_generichash_update(&hs, head, sizeof head);
    crypto_generichash_update(&hs, msg + 100, 40);
    crypto_generichash_final(&hs, h, 32);
    crypto_sign_detached(msg + 36, NULL, h, 32, sk);
    assert_int_equal(natsConnection_Publish(nc, subject, msg, sizeof msg), NATS_OK);
  }
  assert_int_equal(natsConnection_Flush(nc), NATS_OK);
  uint64_t refused = refused_before;
  for (int waited = 0; waited < WAIT_MS && refused < refused_before + 2; waited += 50) {
    refused = shared_of(s.node[0]).refused;
    sleep_ms(50);
  }
  assert_true(refused >= refused_before + 2);
  capset after = caps_of(s.node[0]);
  assert_true(sets_equal(&after, &a));
  natsConnection_Destroy(nc);

  /* node 0 unregisters demo.alpha: it leaves both sets */
  assert_int_equal(cnv_runtime_unregister(s.rt[0], "demo.alpha", 10), CNV_OK);
  converge(s.node[0], s.node[1], 3, &a, &b);
  assert_false(has(&b, s.node_pk[0], "demo.alpha"));

  /* node 1 stops: its capabilities leave node 0's set */
  assert_int_equal(cnv_nats_node_stop(s.node[1]), CNV_OK);
  for (int waited = 0; waited < WAIT_MS; waited += 50) {
    a = caps_of(s.node[0]);
    if (a.n == 1) break;
    sleep_ms(50);
  }
  assert_int_equal(a.n, 1);
  assert_true(has(&a, s.node_pk[0], "demo.echo"));
  assert_false(has(&a, s.node_pk[1], "demo.beta"));
  /* the counter keeps what node 1 served */
  assert_int_equal(shared_of(s.node[0]).served, answered);

  /* node 1 restarts with the same key: the same replica id, its capabilities back (its first
   * adds reuse dots the others saw removed; it adds them again once it merged their state) */
  uint64_t replica1 = shared_of(s.node[1]).replica;
  cnv_nats_node_destroy(s.node[1]);
  cnv_runtime_destroy(s.rt[1]);
  add_node_key(&s, 1, paths_b, 2, s.node_sk[1]);
  assert_int_equal(shared_of(s.node[1]).replica, replica1);
  converge(s.node[0], s.node[1], 3, &a, &b);
  assert_true(has(&a, s.node_pk[1], "demo.beta") && has(&a, s.node_pk[1], "demo.echo"));
  /* and its served entry continues rather than starts over */
  for (int waited = 0; waited < WAIT_MS && shared_of(s.node[1]).served != answered; waited += 50) sleep_ms(50);
  assert_int_equal(shared_of(s.node[1]).served, answered);

  cnv_nats_admin_close(adm);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_nats_node_stop(s.node[i]), CNV_OK);
    cnv_nats_node_destroy(s.node[i]);
    cnv_runtime_destroy(s.rt[i]);
  }
  nats_cluster_stop(s.cl);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_shared_state)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
