/* Several submitters and workers on a small queue; stop runs while submitters still submit.
 * Every CNV_OK a submitter got is executed exactly once, every EFULL and ESTATE counted:
 * nothing accepted is lost across stop. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sodium.h>

#include <cnv/runtime.h>

#include "cnv_test_util.h"
#include "runtime/rt_fixture.h"

#define SUBMITTERS 4
#define SWARM 3u

static atomic_ulong ran;
static atomic_int done;

static cnv_status handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
  return c->line_len == 0 ? CNV_EIO : CNV_OK;
}

/* stop's timeout: the handler returns at once, so stop lets every accepted one run (the
 * class's 24 h deadline never passes) */
#define STOP_NS (30ull * 1000000000ull)

static void reg(cnv_runtime *rt, const char *path, cnv_effects effects) {
  cnv_runtime_handler_spec spec = {.effects = effects, .cls = CNV_DURATION_LONG_RUNNING, .fn = handler};
  assert_int_equal(cnv_runtime_register(rt, path, strlen(path), &spec), CNV_OK);
}

typedef struct sub_arg {
  cnv_runtime *rt;
  uint32_t agent;
  uint64_t lines;
  uint64_t ok, full, refused, denied;
  atomic_int *go;
} sub_arg;

static void *submitter(void *p) {
  sub_arg *a = p;
  while (!atomic_load(a->go)) sched_yield();
  static const char *const lines[] = {"user.read --id=1", "user.write x", "bad..path", "ghost.x"};
  for (uint64_t i = 0; i < a->lines; i++) {
    const char *l = lines[i % 4];
    cnv_status st = cnv_runtime_submit(a->rt, a->agent, l, strlen(l));
    if (st == CNV_OK)
      a->ok++;
    else if (st == CNV_EFULL)
      a->full++;
    else if (st == CNV_ESTATE)
      a->refused++;
    else if (cnv_runtime_denial_of(st) >= 0)
      a->denied++;
    else
      fail_msg("unexpected %s", cnv_status_name(st));
  }
  atomic_fetch_add(&done, 1);
  return NULL;
}

static void run(int stop_early) {
  assert_true(sodium_init() >= 0);
  tkey root;
  tkey_make(&root, 9);
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 3;
  cfg.queue_capacity = 64;
  cfg.swarm_id = SWARM;
  cnv_runtime *rt;
  assert_int_equal(cnv_runtime_create(&cfg, &rt), CNV_OK);
  reg(rt, "user.read", CNV_EFFECT_READ_ONLY);
  reg(rt, "user.write", CNV_EFFECT_MUTATE_STATE);
  assert_int_equal(cnv_runtime_trust_add(rt, root.pk), CNV_OK);
  atomic_store(&ran, 0);
  atomic_store(&done, 0);
  atomic_int go = 0;
  sub_arg a[SUBMITTERS];
  pthread_t t[SUBMITTERS];
  for (int i = 0; i < SUBMITTERS; i++) {
    a[i] = (sub_arg){.rt = rt, .agent = rtf_agent_add(rt, root.sk, (uint8_t)(20 + i), SWARM, "user.*", CNV_EFFECT_READ_ONLY), .lines = cnv_test_iters(20000), .go = &go};
    assert_int_equal(pthread_create(&t[i], NULL, submitter, &a[i]), 0);
  }
  assert_int_equal(cnv_runtime_start(rt), CNV_OK);
  atomic_store(&go, 1);
  if (stop_early) {
    while (atomic_load_explicit(&ran, memory_order_relaxed) < 100 && atomic_load(&done) < SUBMITTERS) {
      sched_yield();
    }
    assert_int_equal(cnv_runtime_stop(rt, STOP_NS), CNV_OK);
  }
  for (int i = 0; i < SUBMITTERS; i++) pthread_join(t[i], NULL);
  assert_int_equal(cnv_runtime_stop(rt, STOP_NS), CNV_OK);
  uint64_t ok = 0, full = 0, refused = 0, denied = 0;
  for (int i = 0; i < SUBMITTERS; i++) {
    ok += a[i].ok;
    full += a[i].full;
    refused += a[i].refused;
    denied += a[i].denied;
  }
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(rt, &s), CNV_OK);
  assert_int_equal(s.accepted, ok);
  assert_int_equal(s.executed, ok);
  assert_int_equal(s.completed[CNV_DONE_RAN], ok);
  assert_int_equal(s.completed[CNV_DONE_EXPIRED] + s.completed[CNV_DONE_CANCELLED] + s.completed[CNV_DONE_NOT_RUN], 0);
  assert_int_equal(atomic_load(&ran), ok);
  assert_int_equal(s.full, full);
  assert_int_equal(s.refused, refused);
  assert_int_equal(s.denied_total, denied);
  assert_int_equal(s.submitted, ok + full + refused + denied);
  assert_int_equal(s.submitted, SUBMITTERS * cnv_test_iters(20000));
  assert_int_equal(s.in_queue, 0);
  assert_true(ok > 0);
  if (!stop_early) {
    assert_int_equal(refused, 0);
    /* a quarter of the lines are "user.write" (effects), a quarter malformed, a quarter unknown */
    assert_int_equal(s.denied[CNV_RT_DENY_EFFECTS] + s.denied[CNV_RT_DENY_MALFORMED] +
                         s.denied[CNV_RT_DENY_UNKNOWN_CAPABILITY],
                     s.submitted - ok - full);
  }
  cnv_runtime_destroy(rt);
}

static void test_submitters_workers(void **state) {
  (void)state;
  run(0);
}

static void test_stop_while_submitting(void **state) {
  (void)state;
  run(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_submitters_workers),
                                     cmocka_unit_test(test_stop_while_submitting)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
