/* cnv_runtime_agent_check: the token decision submit makes, charging nothing. For each case
 * the check and a submit of the same capability must agree; checks take no use, no rate
 * token and count nothing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "cnv_test_util.h"
#include "runtime/rt_fixture.h"

#define NOW 1700000000u

static _Atomic uint64_t token_clock = NOW;

static uint64_t test_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&token_clock);
}

typedef struct world {
  rtf f;
  uint32_t reader;  /* t.* read-only: allowed t.read, not t.write's effects, not x.other */
  uint32_t revoked; /* t.* whose token is revoked after it was added */
  uint32_t brief;   /* t.* until NOW + 10 */
  uint32_t once;    /* t.* with one use */
  uint32_t limited; /* t.* with a rate limit of one a second, burst 1 */
} world;

/* Adds the agent of key_byte with caveats c; the token's bytes in tok/len if asked. */
static uint32_t add_agent(world *w, uint8_t key_byte, const cnv_deleg_caveats *c, uint8_t *tok, size_t *len) {
  uint8_t local[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n = 0;
  tkey k;
  assert_int_equal(mint_for_agent(w->f.root.sk, key_byte, c, &k, tok ? tok : local, &n), CNV_OK);
  uint32_t h = 0;
  assert_int_equal(cnv_runtime_agent_add(w->f.rt, k.pk, tok ? tok : local, n, &h), CNV_OK);
  if (len) *len = n;
  return h;
}

static cnv_deleg_caveats t_caveats(cnv_effects effects) {
  cnv_deleg_caveats c;
  cav_init(&c);
  c.swarm = RTF_SWARM;
  c.effects = effects;
  assert_int_equal(cav_allow(&c, "t.*"), CNV_OK);
  return c;
}

static void world_up(world *w) {
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.clock = test_clock;
  atomic_store(&token_clock, NOW);
  rtf_create(&w->f, &cfg);
  cnv_runtime_handler_spec read = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = rtf_echo};
  cnv_runtime_handler_spec write = {.effects = CNV_EFFECT_MUTATE_STATE, .cls = CNV_DURATION_INTERACTIVE, .fn = rtf_echo};
  assert_int_equal(cnv_runtime_register(w->f.rt, "t.read", 6, &read), CNV_OK);
  assert_int_equal(cnv_runtime_register(w->f.rt, "t.write", 7, &write), CNV_OK);
  assert_int_equal(cnv_runtime_register(w->f.rt, "x.other", 7, &read), CNV_OK);
  cnv_deleg_caveats c = t_caveats(CNV_EFFECT_READ_ONLY);
  w->reader = add_agent(w, 0x41, &c, NULL, NULL);
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  w->revoked = add_agent(w, 0x42, &c, tok, &len);
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(tok, len, 0, hash), CNV_OK);
  c.expiry = NOW + 10;
  w->brief = add_agent(w, 0x43, &c, NULL, NULL);
  c.expiry = CNV_DELEG_NO_EXPIRY;
  c.max_uses = 1;
  w->once = add_agent(w, 0x44, &c, NULL, NULL);
  c.max_uses = CNV_DELEG_UNLIMITED_USES;
  w->limited = add_agent(w, 0x45, &c, NULL, NULL);
  assert_int_equal(cnv_runtime_agent_rate(w->f.rt, w->limited, 1, 1), CNV_OK);
  assert_int_equal(cnv_runtime_start(w->f.rt), CNV_OK);
  /* both the check and submit see the revocation: it returned before either started */
  assert_int_equal(cnv_runtime_revoke(w->f.rt, hash), CNV_OK);
}

/* The check's status for (agent, path), with the figures unchanged by it. */
static cnv_status check(world *w, uint32_t agent, const char *path) {
  cnv_runtime_stats before, after;
  assert_int_equal(cnv_runtime_stats_get(w->f.rt, &before), CNV_OK);
  cnv_status st = cnv_runtime_agent_check(w->f.rt, agent, path, strlen(path));
  assert_int_equal(cnv_runtime_stats_get(w->f.rt, &after), CNV_OK);
  assert_int_equal(after.submitted, before.submitted);
  assert_int_equal(after.denied_total, before.denied_total);
  assert_int_equal(after.accepted, before.accepted);
  return st;
}

/* The check and then a submit of the bare path agree, and both say `want`. */
static void agree(world *w, uint32_t agent, const char *path, cnv_status want) {
  assert_int_equal(check(w, agent, path), want);
  assert_int_equal(cnv_runtime_submit(w->f.rt, agent, path, strlen(path)), want);
}

static void test_agrees_with_submit(void **state) {
  (void)state;
  world w;
  world_up(&w);
  agree(&w, w.reader, "t.read", CNV_OK);
  agree(&w, w.reader, "x.other", CNV_ERT_DENY_NOT_ALLOWED); /* outside the token's scope */
  agree(&w, w.reader, "t.write", CNV_ERT_DENY_EFFECTS);     /* effects beyond the ceiling */
  agree(&w, w.revoked, "t.read", CNV_ERT_DENY_REVOKED);
  agree(&w, 999, "t.read", CNV_ERT_DENY_UNKNOWN_AGENT); /* never added */
  agree(&w, UINT32_MAX, "t.read", CNV_ERT_DENY_UNKNOWN_AGENT);
  agree(&w, w.reader, "t.ghost", CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  agree(&w, w.brief, "t.read", CNV_OK);
  atomic_store(&token_clock, NOW + 1000); /* past expiry and skew */
  agree(&w, w.brief, "t.read", CNV_ERT_DENY_EXPIRED);
  atomic_store(&token_clock, NOW);
  /* a removed agent is unknown to both */
  assert_int_equal(cnv_runtime_agent_remove(w.f.rt, w.revoked), CNV_OK);
  agree(&w, w.revoked, "t.read", CNV_ERT_DENY_UNKNOWN_AGENT);
  /* the path's own errors, before any lookup */
  assert_int_equal(cnv_runtime_agent_check(w.f.rt, w.reader, "T.read", 6), CNV_EPARSE_PATH_CHAR);
  assert_int_equal(cnv_runtime_agent_check(w.f.rt, w.reader, "t..read", 7), CNV_EPARSE_PATH_SEGMENT);
  assert_int_equal(cnv_runtime_agent_check(NULL, w.reader, "t.read", 6), CNV_EINVAL);
  assert_int_equal(cnv_runtime_agent_check(w.f.rt, w.reader, NULL, 0), CNV_EINVAL);
  rtf_stop_destroy(&w.f);
}

/* A token with one use stays usable after many checks: the one submit then succeeds, and
 * the next is denied for its uses. A rate-limited agent's checks take no rate token. */
static void test_charges_nothing(void **state) {
  (void)state;
  world w;
  world_up(&w);
  for (int i = 0; i < 100; i++) assert_int_equal(check(&w, w.once, "t.read"), CNV_OK);
  assert_int_equal(cnv_runtime_submit(w.f.rt, w.once, "t.read", 6), CNV_OK);
  assert_int_equal(cnv_runtime_submit(w.f.rt, w.once, "t.read", 6), CNV_ERT_DENY_USES);
  for (int i = 0; i < 100; i++) assert_int_equal(check(&w, w.limited, "t.read"), CNV_OK);
  assert_int_equal(cnv_runtime_submit(w.f.rt, w.limited, "t.read", 6), CNV_OK);
  assert_int_equal(cnv_runtime_submit(w.f.rt, w.limited, "t.read", 6), CNV_ERT_DENY_RATE);
  cnv_runtime_stats s = rtf_settled(w.f.rt);
  assert_int_equal(s.submitted, 4); /* the checks are not submits */
  assert_int_equal(s.accepted, 2);
  assert_int_equal(s.denied[CNV_RT_DENY_USES], 1);
  assert_int_equal(s.denied[CNV_RT_DENY_RATE], 1);
  rtf_stop_destroy(&w.f);
}

/* ---- concurrency: checks from several threads while submits take the one-use token and
 * other agents come and go ---- */
#define CHECK_ROUNDS 20000

typedef struct racer {
  world *w;
  atomic_int done;
  atomic_uint bad;
} racer;

static void *checker(void *arg) {
  racer *r = arg;
  uint64_t rounds = cnv_test_iters(CHECK_ROUNDS);
  for (uint64_t i = 0; i < rounds; i++) {
    if (cnv_runtime_agent_check(r->w->f.rt, r->w->reader, "t.read", 6) != CNV_OK ||
        cnv_runtime_agent_check(r->w->f.rt, r->w->reader, "t.write", 7) != CNV_ERT_DENY_EFFECTS ||
        cnv_runtime_agent_check(r->w->f.rt, r->w->once, "t.read", 6) != CNV_OK) {
      atomic_fetch_add(&r->bad, 1);
    }
  }
  return NULL;
}

static void test_concurrent_checks(void **state) {
  (void)state;
  world w;
  world_up(&w);
  racer r = {.w = &w};
  atomic_init(&r.done, 0);
  atomic_init(&r.bad, 0);
  pthread_t th[3];
  for (int i = 0; i < 3; i++) assert_int_equal(pthread_create(&th[i], NULL, checker, &r), 0);
  /* meanwhile: the one use is taken exactly once, and agents are added and removed */
  int ok = 0;
  for (int i = 0; i < 50; i++) {
    cnv_status st = cnv_runtime_submit(w.f.rt, w.once, "t.read", 6);
    if (st == CNV_OK)
      ok++;
    else
      assert_int_equal(st, CNV_ERT_DENY_USES);
    cnv_deleg_caveats c = t_caveats(CNV_EFFECT_READ_ONLY);
    uint32_t extra = add_agent(&w, (uint8_t)(0x60 + i % 8), &c, NULL, NULL);
    assert_int_equal(cnv_runtime_agent_check(w.f.rt, extra, "t.read", 6), CNV_OK);
    assert_int_equal(cnv_runtime_agent_remove(w.f.rt, extra), CNV_OK);
  }
  for (int i = 0; i < 3; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(ok, 1);
  assert_int_equal(atomic_load(&r.bad), 0);
  rtf_stop_destroy(&w.f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_agrees_with_submit),
      cmocka_unit_test(test_charges_nothing),
      cmocka_unit_test(test_concurrent_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
