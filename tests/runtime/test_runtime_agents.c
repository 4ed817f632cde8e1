/* Agents that come and go (what a network session does): cnv_runtime_agent_add_verified
 * refuses a bad token at add with its denial code and adds nothing; cnv_runtime_agent_remove
 * frees the handle for the next add, a removed handle is denied as unknown, and adding and
 * removing far more agents than max_agents never exhausts the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/rt_fixture.h"

#define MAX_AGENTS 4u

static cnv_status h_ok(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  return cnv_runtime_result_write(r, c->path, c->path_len);
}

static const rtf_handler handlers[] = {{"t.ok", CNV_DURATION_INTERACTIVE, h_ok, NULL}};

static void up(rtf *f) {
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.max_agents = MAX_AGENTS;
  cfg.workers = 1;
  rtf_create(f, &cfg);
  rtf_register_all(f, handlers, 1);
  assert_int_equal(cnv_runtime_start(f->rt), CNV_OK);
}

/* A token for agent key_byte allowing t.* in `swarm`, signed by root_sk. */
static void token_for(const uint8_t *root_sk, uint8_t key_byte, uint32_t swarm, tkey *agent, uint8_t *tok,
                      size_t *len) {
  cnv_deleg_caveats c;
  cav_init(&c);
  c.swarm = swarm;
  assert_int_equal(cav_allow(&c, "t.*"), CNV_OK);
  assert_int_equal(mint_for_agent(root_sk, key_byte, &c, agent, tok, len), CNV_OK);
}

static void test_add_verified_refuses_bad_tokens(void **state) {
  (void)state;
  rtf f;
  up(&f);
  tkey agent, stranger;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  uint32_t h = 99;
  /* a root nobody trusts */
  tkey_make(&stranger, 0x77);
  token_for(stranger.sk, 1, RTF_SWARM, &agent, tok, &len);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h), CNV_ERT_DENY_UNTRUSTED);
  /* the wrong holder: a stolen token presented under another key */
  token_for(f.root.sk, 2, RTF_SWARM, &agent, tok, &len);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, stranger.pk, tok, len, &h), CNV_ERT_DENY_UNTRUSTED);
  /* another swarm */
  token_for(f.root.sk, 3, RTF_SWARM + 1, &agent, tok, &len);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h), CNV_ERT_DENY_UNTRUSTED);
  /* revoked */
  token_for(f.root.sk, 4, RTF_SWARM, &agent, tok, &len);
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(tok, len, 0, hash), CNV_OK);
  assert_int_equal(cnv_runtime_revoke(f.rt, hash), CNV_OK);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h), CNV_ERT_DENY_REVOKED);
  assert_int_equal(h, 99); /* nothing added */
  cnv_runtime_stats st;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &st), CNV_OK);
  assert_int_equal(st.agents, 0);
  /* a good one is added and works */
  token_for(f.root.sk, 5, RTF_SWARM, &agent, tok, &len);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h), CNV_OK);
  assert_int_equal(h, 0);
  assert_int_equal(cnv_runtime_submit(f.rt, h, "t.ok", 4), CNV_OK);
  /* argument checks */
  assert_int_equal(cnv_runtime_agent_add_verified(NULL, agent.pk, tok, len, &h), CNV_EINVAL);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, 0, &h), CNV_EINVAL);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(f.rt);
}

static void test_remove_frees_the_handle(void **state) {
  (void)state;
  rtf f;
  up(&f);
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  uint32_t h[MAX_AGENTS];
  for (uint32_t i = 0; i < MAX_AGENTS; i++) {
    token_for(f.root.sk, (uint8_t)(10 + i), RTF_SWARM, &agent, tok, &len);
    assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h[i]), CNV_OK);
    assert_int_equal(h[i], i);
  }
  uint32_t extra = 0;
  assert_int_equal(cnv_runtime_agent_add(f.rt, agent.pk, tok, len, &extra), CNV_ERT_AGENTS_FULL);
  assert_int_equal(cnv_runtime_agent_remove(f.rt, h[2]), CNV_OK);
  assert_int_equal(cnv_runtime_agent_remove(f.rt, h[2]), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_agent_remove(f.rt, MAX_AGENTS), CNV_EINVAL);
  assert_int_equal(cnv_runtime_agent_remove(NULL, 0), CNV_EINVAL);
  /* the removed handle is unknown now */
  assert_int_equal(cnv_runtime_submit(f.rt, h[2], "t.ok", 4), CNV_ERT_DENY_UNKNOWN_AGENT);
  assert_int_equal(cnv_runtime_agent_rate(f.rt, h[2], 1, 1), CNV_EINVAL);
  cnv_runtime_stats st;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &st), CNV_OK);
  assert_int_equal(st.agents, MAX_AGENTS - 1);
  /* the next add takes it again */
  assert_int_equal(cnv_runtime_agent_add(f.rt, agent.pk, tok, len, &extra), CNV_OK);
  assert_int_equal(extra, h[2]);
  assert_int_equal(cnv_runtime_submit(f.rt, extra, "t.ok", 4), CNV_OK);
  /* sessions coming and going: many more adds than slots */
  for (uint32_t round = 0; round < 10 * MAX_AGENTS; round++) {
    assert_int_equal(cnv_runtime_agent_remove(f.rt, h[round % MAX_AGENTS]), CNV_OK);
    assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h[round % MAX_AGENTS]), CNV_OK);
    assert_int_equal(h[round % MAX_AGENTS], round % MAX_AGENTS);
  }
  assert_int_equal(cnv_runtime_stats_get(f.rt, &st), CNV_OK);
  assert_int_equal(st.agents, MAX_AGENTS);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(f.rt);
}

/* An accepted invocation of a removed agent still completes (and reports the old handle). */
static void on_done(void *ctx, const cnv_runtime_completion *c) {
  atomic_uint *seen = ctx;
  if (c->kind == CNV_DONE_RAN && c->status == CNV_OK && c->agent == 0) atomic_fetch_add(seen, 1);
}

static void test_remove_keeps_accepted_work(void **state) {
  (void)state;
  rtf f;
  up(&f);
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  uint32_t h = 9;
  token_for(f.root.sk, 30, RTF_SWARM, &agent, tok, &len);
  assert_int_equal(cnv_runtime_agent_add_verified(f.rt, agent.pk, tok, len, &h), CNV_OK);
  atomic_uint seen = 0;
  cnv_runtime_submit_opts o = {.on_done = on_done, .done_ctx = &seen};
  for (int i = 0; i < 8; i++) assert_int_equal(cnv_runtime_submit_ex(f.rt, h, "t.ok", 4, &o, NULL), CNV_OK);
  assert_int_equal(cnv_runtime_agent_remove(f.rt, h), CNV_OK);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  assert_int_equal(atomic_load(&seen), 8);
  cnv_runtime_destroy(f.rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_verified_refuses_bad_tokens),
      cmocka_unit_test(test_remove_frees_the_handle),
      cmocka_unit_test(test_remove_keeps_accepted_work),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
