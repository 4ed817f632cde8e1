/* pipeline_2workers: the whole runtime pipeline (parse, capability, phase, cached token check,
 * queue, 2 workers running a handler) against the same records through the bare queue with
 * 2 consumer threads and no checks. One submitter; items = invocations executed. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"

#define LINE "user.read --id=12345 --note=bench"
#define RECORD 264u

static atomic_ulong handled;

static int handler(void *ctx, const cnv_runtime_call *c) {
  (void)ctx;
  atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
  return c->line_len == 0;
}

static cnv_runtime *runtime_make(uint32_t *agent) {
  uint8_t seed[32], rpk[32], rsk[64], apk[32], ask[64], tok[CNV_DELEG_MAX_TOKEN_BYTES];
  if (sodium_init() < 0) return NULL;
  memset(seed, 1, sizeof seed);
  crypto_sign_seed_keypair(rpk, rsk, seed);
  memset(seed, 2, sizeof seed);
  crypto_sign_seed_keypair(apk, ask, seed);
  cnv_deleg_caveats c;
  memset(&c, 0, sizeof c);
  c.expiry = CNV_DELEG_NO_EXPIRY;
  c.max_uses = CNV_DELEG_UNLIMITED_USES;
  c.effects = CNV_EFFECT_READ_ONLY;
  c.swarm = 1;
  c.n_allow = 1;
  CNV_BENCH_OK(cnv_deleg_pattern_parse("user.*", 6, &c.allow[0]));
  size_t len;
  cnv_runtime *rt = NULL;
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 2;
  if (cnv_deleg_mint_root(rsk, apk, &c, NULL, tok, sizeof tok, &len) != CNV_OK ||
      cnv_runtime_create(&cfg, &rt) != CNV_OK) {
    return NULL;
  }
  if (cnv_runtime_register(rt, "user.read", 9, CNV_EFFECT_READ_ONLY, handler, NULL) != CNV_OK ||
      cnv_runtime_trust_add(rt, rpk) != CNV_OK ||
      cnv_runtime_agent_add(rt, apk, tok, len, agent) != CNV_OK || cnv_runtime_start(rt) != CNV_OK) {
    cnv_runtime_destroy(rt);
    return NULL;
  }
  return rt;
}

static void pipeline_cnv(cnv_bench_state *st) {
  uint32_t agent;
  cnv_runtime *rt = runtime_make(&agent);
  if (!rt) {
    cnv_bench_skip_with_error(st, "runtime set-up failed");
    return;
  }
  uint64_t n = 0;
  while (cnv_bench_keep_running(st)) {
    while (cnv_runtime_submit(rt, agent, LINE, sizeof LINE - 1) == CNV_EFULL) sched_yield();
    n++;
  }
  CNV_BENCH_OK(cnv_runtime_stop(rt)); /* drains: every submitted invocation ran */
  cnv_bench_set_items_processed(st, (int64_t)n);
  cnv_runtime_destroy(rt);
}
CNV_BENCH(pipeline_cnv, "pipeline_2workers/cnv", 1, 0)

typedef struct bare {
  cnv_queue *q;
  atomic_int stop;
} bare;

static void *bare_worker(void *p) {
  bare *b = p;
  uint64_t rec[RECORD / 8];
  for (;;) {
    if (cnv_queue_try_pop_mpmc(b->q, rec) == CNV_OK) {
      cnv_runtime_call call = {.line = (const char *)rec + 32, .line_len = sizeof LINE - 1};
      handler(NULL, &call);
      continue;
    }
    if (atomic_load_explicit(&b->stop, memory_order_acquire)) break;
    sched_yield();
  }
  return NULL;
}

static void pipeline_bare(cnv_bench_state *st) {
  bare b = {.q = NULL};
  if (cnv_queue_create(4096, RECORD, &b.q) != CNV_OK) {
    cnv_bench_skip_with_error(st, "queue set-up failed");
    return;
  }
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, bare_worker, &b);
  uint64_t rec[RECORD / 8];
  memset(rec, 0, sizeof rec);
  uint64_t n = 0;
  while (cnv_bench_keep_running(st)) {
    rec[0] = n;
    memcpy((char *)rec + 32, LINE, sizeof LINE - 1);
    while (cnv_queue_try_push_mpmc(b.q, rec) == CNV_EFULL) sched_yield();
    n++;
  }
  atomic_store_explicit(&b.stop, 1, memory_order_release);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cnv_bench_set_items_processed(st, (int64_t)n);
  cnv_queue_destroy(b.q);
}
CNV_BENCH(pipeline_bare, "pipeline_2workers/bare_queue", 1, 0)
