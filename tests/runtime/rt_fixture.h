/* Shared by the runtime's tests: a runtime whose agents hold tokens for `t.*`, a gate that
 * holds handlers until the test opens it, and a box that collects completions delivered to a
 * callback (copies, results included). Include after <cmocka.h>; link tests/support/forge.c.
 * The breaker is configured never to trip (min_samples out of reach, endless cool-down), so
 * the phase only moves when a test moves it. */
#ifndef CNV_TEST_RT_FIXTURE_H
#define CNV_TEST_RT_FIXTURE_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include <cnv/protocol.h>
#include <cnv/runtime.h>

#include "support/forge.h"

#define RTF_SWARM 11u
#define RTF_RESULT_MAX 256 /* max_result of rtf_config */
/* stop's timeout where nothing is held: far past any drain, so a stop that does not return
 * CNV_OK is a fault, not a slow machine */
#define RTF_STOP_NS (30ull * 1000000000ull)

/* Defaults plus: the fixture's swarm, small result buffers and a breaker that never trips. */
static inline void rtf_config(cnv_runtime_config *cfg) {
  cnv_runtime_config_default(cfg);
  cfg->swarm_id = RTF_SWARM;
  cfg->max_result = RTF_RESULT_MAX;
  cfg->breaker = cnv_breaker_config_default();
  cfg->breaker.min_samples = UINT32_MAX;
  cfg->breaker.cooldown_ns = UINT64_MAX / 4;
}

/* rtf_config with `workers` workers. */
static inline cnv_runtime_config rtf_config_workers(uint32_t workers) {
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.workers = workers;
  return cfg;
}

typedef struct rtf {
  cnv_runtime *rt;
  tkey root;
} rtf;

/* Creates the runtime (cfg may be NULL: rtf_config's) and trusts the fixture's root key. */
static inline void rtf_create(rtf *f, const cnv_runtime_config *cfg) {
  assert_true(sodium_init() >= 0);
  cnv_runtime_config def;
  if (!cfg) {
    rtf_config(&def);
    cfg = &def;
  }
  tkey_make(&f->root, 0x52);
  f->rt = NULL;
  assert_int_equal(cnv_runtime_create(cfg, &f->rt), CNV_OK);
  assert_int_equal(cnv_runtime_trust_add(f->rt, f->root.pk), CNV_OK);
}

/* Adds to rt an agent (key pair from key_byte) whose token, signed by root_sk, allows
 * `allow` with `effects` in `swarm` and has no other limit; returns its handle. */
static inline uint32_t rtf_agent_add(cnv_runtime *rt, const uint8_t *root_sk, uint8_t key_byte, uint32_t swarm,
                                     const char *allow, cnv_effects effects) {
  uint32_t h = 0;
  assert_int_equal(agent_add_allowing(rt, root_sk, key_byte, swarm, allow, effects, &h), CNV_OK);
  return h;
}

/* Adds an agent whose token (signed by the root) allows `allow` (e.g. "t.*") with every
 * effect and no limits; returns its handle. */
static inline uint32_t rtf_agent_allowing(rtf *f, uint8_t key_byte, const char *allow) {
  return rtf_agent_add(f->rt, f->root.sk, key_byte, RTF_SWARM, allow, CNV_EFFECTS_ALL);
}

static inline uint32_t rtf_agent(rtf *f, uint8_t key_byte) { return rtf_agent_allowing(f, key_byte, "t.*"); }

static inline void rtf_register(rtf *f, const char *path, int cls, cnv_runtime_handler_fn fn, void *ctx) {
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = cls, .fn = fn, .ctx = ctx};
  assert_int_equal(cnv_runtime_register(f->rt, path, strlen(path), &spec), CNV_OK);
}

/* A handler to register: path, duration class, function and context (read-only effects). */
typedef struct rtf_handler {
  const char *path;
  int cls;
  cnv_runtime_handler_fn fn;
  void *ctx;
} rtf_handler;

static inline void rtf_register_all(rtf *f, const rtf_handler *h, size_t n) {
  for (size_t i = 0; i < n; i++) rtf_register(f, h[i].path, h[i].cls, h[i].fn, h[i].ctx);
}

/* Adds an agent for `t.*` (rtf_agent) and starts the runtime; returns the agent. */
static inline uint32_t rtf_agent_start(rtf *f, uint8_t key_byte) {
  uint32_t agent = rtf_agent(f, key_byte);
  assert_int_equal(cnv_runtime_start(f->rt), CNV_OK);
  return agent;
}

/* Creates the runtime (cfg may be NULL), registers h[0..n), adds an agent for `t.*` and
 * starts it; returns the agent. */
static inline uint32_t rtf_up(rtf *f, const cnv_runtime_config *cfg, const rtf_handler *h, size_t n,
                              uint8_t key_byte) {
  rtf_create(f, cfg);
  rtf_register_all(f, h, n);
  return rtf_agent_start(f, key_byte);
}

static inline uint64_t rtf_cap(const char *path) {
  uint64_t id = 0;
  assert_int_equal(cnv_capability_id(path, strlen(path), &id), CNV_OK);
  return id;
}

/* Waits (yielding) until the monotonic clock has passed t. */
static inline void rtf_wait_past(uint64_t t) {
  while (cnv_runtime_now_ns() <= t) sched_yield();
}

/* ---- gate: handlers wait in rtf_gate_pass until the test opens it ---- */
typedef struct rtf_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
  unsigned entered; /* calls that reached the gate */
} rtf_gate;

static inline void rtf_gate_init(rtf_gate *g) {
  assert_int_equal(pthread_mutex_init(&g->mu, NULL), 0);
  assert_int_equal(pthread_cond_init(&g->cv, NULL), 0);
  g->open = 0;
  g->entered = 0;
}

static inline void rtf_gate_destroy(rtf_gate *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

/* Handler side: counts the entry and waits until the gate is open (no cmocka here: worker
 * threads must not assert). */
static inline void rtf_gate_pass(rtf_gate *g) {
  pthread_mutex_lock(&g->mu);
  g->entered++;
  pthread_cond_broadcast(&g->cv);
  while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

/* Test side: waits until n calls reached the gate. */
static inline void rtf_gate_wait_entered(rtf_gate *g, unsigned n) {
  pthread_mutex_lock(&g->mu);
  while (g->entered < n) pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static inline void rtf_gate_open(rtf_gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

/* ---- handlers several suites register ---- */

/* Answers with the invocation's line. */
static inline cnv_status rtf_echo(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  return cnv_runtime_result_write(r, c->line, c->line_len);
}

/* Waits at the gate ctx (an rtf_gate *), then answers "gate". */
static inline cnv_status rtf_gate_answer(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)c;
  rtf_gate_pass(ctx);
  return cnv_runtime_result_write(r, "gate", 4);
}

/* ---- box: completions delivered to rtf_box_done, copied ---- */
#define RTF_BOX_MAX 64

typedef struct rtf_done {
  cnv_runtime_completion c; /* c.result points into bytes (or is NULL) */
  uint8_t bytes[RTF_RESULT_MAX];
} rtf_done;

typedef struct rtf_box {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned n;
  unsigned overflow; /* completions past RTF_BOX_MAX, or results past RTF_RESULT_MAX */
  rtf_done d[RTF_BOX_MAX];
} rtf_box;

static inline void rtf_box_init(rtf_box *b) {
  memset(b, 0, sizeof *b);
  assert_int_equal(pthread_mutex_init(&b->mu, NULL), 0);
  assert_int_equal(pthread_cond_init(&b->cv, NULL), 0);
}

static inline void rtf_box_destroy(rtf_box *b) {
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
}

static inline void rtf_box_done(void *ctx, const cnv_runtime_completion *c) {
  rtf_box *b = ctx;
  pthread_mutex_lock(&b->mu);
  if (b->n < RTF_BOX_MAX && c->result_len <= RTF_RESULT_MAX) {
    rtf_done *d = &b->d[b->n++];
    d->c = *c;
    if (c->result_len) memcpy(d->bytes, c->result, c->result_len);
    d->c.result = c->result ? d->bytes : NULL;
  } else {
    b->overflow++;
  }
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static inline void rtf_box_wait(rtf_box *b, unsigned n) {
  pthread_mutex_lock(&b->mu);
  while (b->n + b->overflow < n) pthread_cond_wait(&b->cv, &b->mu);
  pthread_mutex_unlock(&b->mu);
}

static inline unsigned rtf_box_count(rtf_box *b) {
  pthread_mutex_lock(&b->mu);
  unsigned n = b->n + b->overflow;
  pthread_mutex_unlock(&b->mu);
  return n;
}

/* The completion of `ticket` (exactly one must be there), copied into *out (out->c.result
 * points into out->bytes). */
static inline void rtf_box_get(rtf_box *b, uint64_t ticket, rtf_done *out) {
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&b->mu);
  unsigned overflow = b->overflow;
  int found = -1, count = 0;
  for (unsigned i = 0; i < b->n; i++) {
    if (b->d[i].c.ticket == ticket) {
      found = (int)i;
      count++;
    }
  }
  if (found >= 0) *out = b->d[found];
  pthread_mutex_unlock(&b->mu);
  out->c.result = out->c.result ? out->bytes : NULL;
  assert_int_equal(overflow, 0);
  assert_int_equal(count, 1);
}

/* The completion of `ticket` (rtf_box_get), which must be of this kind with this status;
 * copied into *out unless out is NULL. */
static inline void rtf_box_expect(rtf_box *b, uint64_t ticket, int32_t kind, cnv_status status, rtf_done *out) {
  rtf_done local;
  rtf_done *d = out ? out : &local;
  rtf_box_get(b, ticket, d);
  assert_int_equal(d->c.kind, kind);
  assert_int_equal(d->c.status, status);
}

/* Submits with a callback into box; returns the submit's status, *ticket the ticket. */
static inline cnv_status rtf_submit_box(rtf *f, uint32_t agent, const char *line, uint64_t timeout_ns,
                                        uint64_t correlation, rtf_box *box, uint64_t *ticket) {
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.timeout_ns = timeout_ns;
  o.correlation = correlation;
  o.on_done = rtf_box_done;
  o.done_ctx = box;
  return cnv_runtime_submit_ex(f->rt, agent, line, strlen(line), &o, ticket);
}

/* A snapshot once every accepted invocation is counted as completed: the completion
 * counters follow the delivery (a callback or invoke may return first), so figures are read
 * when in_queue is back to 0. Only where nothing is left running. */
static inline cnv_runtime_stats rtf_settled(cnv_runtime *rt) {
  cnv_runtime_stats s;
  for (;;) {
    assert_int_equal(cnv_runtime_stats_get(rt, &s), CNV_OK);
    if (s.in_queue == 0) return s;
    sched_yield();
  }
}

/* Stats after stop: what cnv_runtime_stats promises (submitted is exact only where no submit
 * failed another way, e.g. CNV_ERANGE; the stress tests check it exactly). */
static inline void rtf_check_stopped_stats(cnv_runtime *rt) {
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(rt, &s), CNV_OK);
  uint64_t completed = 0, denied = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) completed += s.completed[k];
  for (int r = 0; r < CNV_RT_DENY_COUNT; r++) denied += s.denied[r];
  assert_int_equal(s.accepted, completed);
  assert_int_equal(s.denied_total, denied);
  assert_int_equal(s.in_queue, 0);
  assert_true(s.submitted >= s.accepted + s.denied_total + s.full + s.refused);
}

/* Stops within RTF_STOP_NS (nothing may be held: CNV_OK expected), checks the stopped
 * figures (rtf_check_stopped_stats) and destroys the runtime. */
static inline void rtf_stop_destroy(rtf *f) {
  assert_int_equal(cnv_runtime_stop(f->rt, RTF_STOP_NS), CNV_OK);
  rtf_check_stopped_stats(f->rt);
  cnv_runtime_destroy(f->rt);
}

#endif
