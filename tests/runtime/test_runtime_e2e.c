/* End-to-end: one runtime driven with a known mix (valid, expired, revoked, widened, forged,
 * use-limited, untrusted, wrong holder, not allowed, effects exceeded, malformed, unknown
 * capability and agent, too long, wrong phase, rate-limited, shed, full queue); every counter
 * is checked exactly against a tally kept here, and nothing accepted is lost across stop. */
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include <cnv/runtime.h>

#include "support/forge.h"

#define NOW 5000u
#define SWARM 7u

static atomic_int gate_open = 1;
static atomic_uint entered;
static atomic_uint ran;

static uint64_t fixed_clock(void *ctx) {
  (void)ctx;
  return NOW;
}

static cnv_status handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  atomic_fetch_add(&entered, 1);
  while (!atomic_load(&gate_open)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  atomic_fetch_add(&ran, 1);
  return c->line_len >= 6 && memcmp(c->line + c->line_len - 6, "--fail", 6) == 0 ? CNV_EIO : CNV_OK;
}

static cnv_status reg(cnv_runtime *rt, const char *path, cnv_effects effects) {
  cnv_runtime_handler_spec spec = {.effects = effects, .cls = CNV_DURATION_INTERACTIVE, .fn = handler};
  return cnv_runtime_register(rt, path, strlen(path), &spec);
}

#define STOP_NS (10ull * 1000000000ull) /* stop's timeout: the handlers here return at once */

typedef struct world {
  cnv_runtime *rt;
  tkey r, x, m;
  uint32_t valid, expired, revoked, widened, forged, uses, untrusted, holder, rated;
  uint64_t want[CNV_RT_DENY_COUNT];
  uint64_t want_ok, want_full, want_failed;
} world;

static void base_cav(cnv_deleg_caveats *c) {
  cav_init(c);
  c->swarm = SWARM;
  c->not_before = 1000;
  c->expiry = 100000;
  c->effects = CNV_EFFECT_READ_ONLY | CNV_EFFECT_MUTATE_STATE;
  assert_int_equal(cav_allow(c, "user.*"), CNV_OK);
  assert_int_equal(cav_forbid(c, "user.delete"), CNV_OK);
}

static uint32_t add(world *w, const uint8_t *pk, const uint8_t *tok, size_t len) {
  uint32_t h;
  assert_int_equal(cnv_runtime_agent_add(w->rt, pk, tok, len, &h), CNV_OK);
  return h;
}

static uint32_t add_minted(world *w, uint8_t key_byte, const tkey *issuer,
                           const cnv_deleg_caveats *c, int flip, const uint8_t *holder) {
  tkey a;
  tkey_make(&a, key_byte);
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES], nonce[CNV_DELEG_NONCE_BYTES];
  size_t len;
  nonce_of(nonce, key_byte);
  assert_int_equal(cnv_deleg_mint_root(issuer->sk, a.pk, c, nonce, tok, sizeof tok, &len), CNV_OK);
  if (flip) tok[len - 1] ^= 1;
  return add(w, holder ? holder : a.pk, tok, len);
}

static void add_agents(world *w) {
  cnv_deleg_caveats c;
  base_cav(&c);
  w->valid = add_minted(w, 20, &w->r, &c, 0, NULL);
  w->rated = add_minted(w, 28, &w->r, &c, 0, NULL);
  assert_int_equal(cnv_runtime_agent_rate(w->rt, w->rated, 1, 1), CNV_OK); /* one, then one a second */
  w->forged = add_minted(w, 21, &w->r, &c, 1, NULL);
  w->untrusted = add_minted(w, 22, &w->x, &c, 0, NULL);
  w->holder = add_minted(w, 23, &w->r, &c, 0, w->x.pk);
  c.max_uses = 2;
  w->uses = add_minted(w, 24, &w->r, &c, 0, NULL);
  base_cav(&c);
  c.expiry = 2000;
  w->expired = add_minted(w, 25, &w->r, &c, 0, NULL);
  /* revoked: mint, then revoke the link */
  tkey a;
  tkey_make(&a, 26);
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES], hash[CNV_DELEG_HASH_BYTES];
  size_t len;
  base_cav(&c);
  assert_int_equal(cnv_deleg_mint_root(w->r.sk, a.pk, &c, NULL, tok, sizeof tok, &len), CNV_OK);
  w->revoked = add(w, a.pk, tok, len);
  assert_int_equal(cnv_deleg_link_hash(tok, len, 0, hash), CNV_OK);
  assert_int_equal(cnv_runtime_revoke(w->rt, hash), CNV_OK);
  /* widened: R -> M allows user.read only; M -> agent allows user.* */
  tkey_make(&a, 27);
  fspec s[2];
  s[0] = (fspec){.issuer_sk = w->r.sk, .audience = w->m.pk, .nonce = 1};
  base_cav(&s[0].cav);
  s[0].cav.n_allow = 0;
  assert_int_equal(cav_allow(&s[0].cav, "user.read"), CNV_OK);
  s[1] = (fspec){.issuer_sk = w->m.sk, .audience = a.pk, .nonce = 2};
  base_cav(&s[1].cav);
  s[1].cav.depth = 6;
  assert_int_equal(forge(s, 2, tok, &len), CNV_OK);
  w->widened = add(w, a.pk, tok, len);
}

static void setup_world(world *w) {
  memset(w, 0, sizeof *w);
  assert_true(sodium_init() >= 0);
  tkey_make(&w->r, 1);
  tkey_make(&w->x, 2);
  tkey_make(&w->m, 3);
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.queue_capacity = 4;
  cfg.swarm_id = SWARM;
  cfg.clock = fixed_clock;
  cfg.breaker = cnv_breaker_config_default();
  cfg.breaker.cooldown_ns = UINT64_MAX / 4; /* the phase moves only when the test moves it */
  assert_int_equal(cnv_runtime_create(&cfg, &w->rt), CNV_OK);
  static const struct {
    const char *p;
    cnv_effects e;
  } caps[] = {{"user.read", CNV_EFFECT_READ_ONLY}, {"user.create", CNV_EFFECT_MUTATE_STATE}, {"user.delete", CNV_EFFECT_MUTATE_STATE}, {"net.fetch", CNV_EFFECT_NETWORK}, {"user.export", CNV_EFFECT_STORAGE}, {"fleet.status", CNV_EFFECT_READ_ONLY}};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    assert_int_equal(reg(w->rt, caps[i].p, caps[i].e), CNV_OK);
  }
  /* user.find declares a required integer id: lines without one are denied (arguments) */
  static const cnv_arg_spec find_args[] = {{.name = "id", .type = CNV_ARGT_INTEGER, .flags = CNV_ARGF_REQUIRED}};
  static const cnv_parse_schema find_schema = {.args = find_args, .n_args = 1, .flags = CNV_SCHEMA_CLOSED};
  cnv_runtime_handler_spec find = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = handler, .schema = &find_schema};
  assert_int_equal(cnv_runtime_register(w->rt, "user.find", 9, &find), CNV_OK);
  assert_int_equal(reg(w->rt, "user.read", 0), CNV_EEXIST);
  assert_int_equal(reg(w->rt, "Bad", 0), CNV_EPARSE_PATH_CHAR);
  assert_int_equal(cnv_runtime_trust_add(w->rt, w->r.pk), CNV_OK);
  add_agents(w);
}

static void drain_wait(cnv_runtime *rt) {
  cnv_runtime_stats s;
  do {
    assert_int_equal(cnv_runtime_stats_get(rt, &s), CNV_OK);
  } while (s.in_queue != 0);
}

/* Submits after the queue drained (so no EFULL), checks the status and tallies it. */
static void sub_lane(world *w, uint32_t agent, const char *line, uint32_t low, cnv_status want) {
  drain_wait(w->rt);
  cnv_runtime_submit_opts o = {.low_priority = low};
  cnv_status st = cnv_runtime_submit_ex(w->rt, agent, line, strlen(line), &o, NULL);
  assert_string_equal(cnv_status_name(st), cnv_status_name(want));
  int reason = cnv_runtime_denial_of(st);
  if (reason >= 0) w->want[reason]++;
  if (st == CNV_OK) w->want_ok++;
}

static void sub(world *w, uint32_t agent, const char *line, cnv_status want) { sub_lane(w, agent, line, 0, want); }

static void run_mix(world *w) {
  sub(w, w->valid, "user.read --id=1", CNV_OK);
  sub(w, w->valid, "user.create --name \"ann lee\"", CNV_OK);
  sub(w, w->valid, "user.read --fail", CNV_OK);
  w->want_failed++;
  sub(w, w->valid, "user.delete --id=1", CNV_ERT_DENY_NOT_ALLOWED);
  sub(w, w->valid, "fleet.status", CNV_ERT_DENY_NOT_ALLOWED);
  sub(w, w->valid, "net.fetch http", CNV_ERT_DENY_NOT_ALLOWED);
  sub(w, w->valid, "user.export", CNV_ERT_DENY_EFFECTS);
  sub(w, w->expired, "user.read", CNV_ERT_DENY_EXPIRED);
  sub(w, w->revoked, "user.read", CNV_ERT_DENY_REVOKED);
  sub(w, w->widened, "user.read", CNV_ERT_DENY_WIDENED);
  sub(w, w->forged, "user.read", CNV_ERT_DENY_FORGED);
  sub(w, w->untrusted, "user.read", CNV_ERT_DENY_UNTRUSTED);
  sub(w, w->holder, "user.read", CNV_ERT_DENY_UNTRUSTED);
  sub(w, w->uses, "user.read", CNV_OK);
  sub(w, w->uses, "user.read", CNV_OK);
  sub(w, w->uses, "user.read", CNV_ERT_DENY_USES);
  sub(w, w->valid, "user..read", CNV_ERT_DENY_MALFORMED);
  sub(w, w->valid, "", CNV_ERT_DENY_MALFORMED);
  sub(w, w->valid, "user.read \"open", CNV_ERT_DENY_MALFORMED);
  sub(w, w->valid, "ghost.cap --x", CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  sub(w, w->valid, "user.find --id=x", CNV_ERT_DENY_ARGUMENTS);
  sub(w, w->valid, "user.find --id=4", CNV_OK);
  sub(w, 999, "user.read", CNV_ERT_DENY_UNKNOWN_AGENT);
  sub(w, 100000, "user.read", CNV_ERT_DENY_UNKNOWN_AGENT);
  char longline[300];
  memset(longline, 'a', sizeof longline);
  memcpy(longline, "user.read --note=", 17);
  longline[sizeof longline - 1] = 0;
  sub(w, w->valid, longline, CNV_ERT_DENY_TOO_LONG);
  /* Emergency refuses work; the operator moves it on to Recovery, which admits work. */
  assert_int_equal(cnv_runtime_raise_algedonic(w->rt, CNV_ALGEDONIC_OPERATOR), CNV_OK);
  sub(w, w->valid, "user.read", CNV_ERT_DENY_PHASE);
  sub(w, w->expired, "user.read", CNV_ERT_DENY_PHASE);
  sub(w, w->valid, "ghost.cap", CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  assert_int_equal(cnv_runtime_transition(w->rt, CNV_PHASE_EMERGENCY, CNV_PHASE_RECOVERY), CNV_OK);
  sub(w, w->valid, "user.read", CNV_OK);
  sub_lane(w, w->valid, "user.read", 1, CNV_OK); /* Recovery sheds nothing */
  /* Degraded sheds the low lane only */
  assert_int_equal(cnv_runtime_transition(w->rt, CNV_PHASE_RECOVERY, CNV_PHASE_OPERATIONAL), CNV_OK);
  assert_int_equal(cnv_runtime_transition(w->rt, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED), CNV_OK);
  sub_lane(w, w->valid, "user.read", 1, CNV_ERT_DENY_SHED);
  sub_lane(w, w->valid, "user.read", 0, CNV_OK);
  assert_int_equal(cnv_runtime_transition(w->rt, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY), CNV_OK);
  /* the rate-limited agent: a bucket of one */
  sub(w, w->rated, "user.read", CNV_OK);
  sub(w, w->rated, "user.read", CNV_ERT_DENY_RATE);
}

/* Both workers held inside handlers, two more queued: the four in-flight slots
 * (queue_capacity) are taken, the next submit gets CNV_EFULL, and every accepted one still
 * runs. */
static void run_full(world *w) {
  drain_wait(w->rt);
  unsigned base = atomic_load(&entered);
  atomic_store(&gate_open, 0);
  for (unsigned i = 1; i <= 2; i++) { /* one for each worker, each held in the handler */
    assert_int_equal(cnv_runtime_submit(w->rt, w->valid, "user.read", 9), CNV_OK);
    w->want_ok++;
    while (atomic_load(&entered) != base + i) sched_yield();
  }
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_runtime_submit(w->rt, w->valid, "user.read", 9), CNV_OK);
    w->want_ok++;
  }
  assert_int_equal(cnv_runtime_submit(w->rt, w->valid, "user.read", 9), CNV_EFULL);
  w->want_full++;
  atomic_store(&gate_open, 1);
}

static void check_stats(const world *w) {
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(w->rt, &s), CNV_OK);
  uint64_t denied = 0;
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    assert_int_equal(s.denied[i], w->want[i]);
    assert_true(w->want[i] > 0); /* the mix reaches every reason */
    denied += w->want[i];
  }
  assert_int_equal(s.denied_total, denied);
  assert_int_equal(s.accepted, w->want_ok);
  assert_int_equal(s.executed, w->want_ok);
  assert_int_equal(s.completed[CNV_DONE_RAN], w->want_ok);
  assert_int_equal(s.completed[CNV_DONE_EXPIRED] + s.completed[CNV_DONE_CANCELLED] + s.completed[CNV_DONE_NOT_RUN], 0);
  assert_int_equal(atomic_load(&ran), w->want_ok);
  assert_int_equal(s.failed, w->want_failed);
  assert_int_equal(s.full, w->want_full);
  assert_int_equal(s.refused, 1);
  assert_int_equal(s.submitted, w->want_ok + denied + w->want_full + 1);
  assert_int_equal(s.in_queue, 0);
  assert_int_equal(s.latency_count, w->want_ok);
  assert_int_equal(s.phase, CNV_PHASE_SHUTDOWN);
  assert_int_equal(s.agents, 9);
  assert_int_equal(s.stuck_workers, 0);
}

static int collect(void *ctx, const char *data, size_t len) {
  char *buf = ctx;
  size_t have = strlen(buf);
  if (have + len >= 65536) return 1;
  memcpy(buf + have, data, len);
  buf[have + len] = 0;
  return 0;
}

static void check_metrics(const world *w) {
  static char text[65536];
  text[0] = 0;
  assert_int_equal(cnv_runtime_metrics_prometheus(w->rt, collect, text), CNV_OK);
  char want[128];
  snprintf(want, sizeof want, "cnv_rt_invocations_total{outcome=\"executed\"} %llu\n",
           (unsigned long long)w->want_ok);
  assert_non_null(strstr(text, want));
  assert_non_null(strstr(text, "cnv_rt_denied_total{reason=\"expired\"} 1\n"));
  assert_non_null(strstr(text, "cnv_rt_denied_total{reason=\"rate\"} 1\n"));
  assert_non_null(strstr(text, "cnv_rt_denied_total{reason=\"shed\"} 1\n"));
  assert_non_null(strstr(text, "cnv_rt_denied_total{reason=\"arguments\"} 1\n"));
  snprintf(want, sizeof want, "cnv_rt_completions_total{kind=\"ran\"} %llu\n", (unsigned long long)w->want_ok);
  assert_non_null(strstr(text, want));
  assert_non_null(strstr(text, "cnv_rt_completions_total{kind=\"not_run\"} 0\n"));
  assert_non_null(strstr(text, "cnv_rt_phase 7\n"));
}

static void check_timeline(const world *w) {
  cnv_phase_span t[CNV_RT_TIMELINE_MAX];
  size_t n;
  uint64_t dropped;
  assert_int_equal(cnv_runtime_timeline(w->rt, t, CNV_RT_TIMELINE_MAX, &n, &dropped), CNV_OK);
  static const int want[] = {CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION,
                             CNV_PHASE_OPERATIONAL, CNV_PHASE_EMERGENCY, CNV_PHASE_RECOVERY,
                             CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY,
                             CNV_PHASE_SHUTDOWN};
  assert_int_equal(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n; i++) assert_int_equal(t[i].phase, want[i]);
  assert_int_equal(dropped, 0);
  for (size_t i = 1; i < n; i++) assert_true(t[i].enter_ns >= t[i - 1].enter_ns);
}

static void test_mix(void **state) {
  (void)state;
  world w;
  setup_world(&w);
  assert_int_equal(cnv_runtime_submit(w.rt, w.valid, "user.read", 9), CNV_ESTATE);
  assert_int_equal(cnv_runtime_stop(w.rt, STOP_NS), CNV_ESTATE);
  assert_int_equal(cnv_runtime_start(w.rt), CNV_OK);
  assert_int_equal(cnv_runtime_start(w.rt), CNV_ESTATE);
  assert_int_equal(reg(w.rt, "x.y", 0), CNV_OK); /* while running */
  run_mix(&w);
  run_full(&w);
  assert_int_equal(cnv_runtime_stop(w.rt, STOP_NS), CNV_OK);
  assert_int_equal(cnv_runtime_stop(w.rt, STOP_NS), CNV_OK);
  assert_int_equal(reg(w.rt, "x.z", 0), CNV_ESTATE);
  check_stats(&w); /* refused counts the submit before start */
  check_metrics(&w);
  check_timeline(&w);
  cnv_runtime_variety v;
  assert_int_equal(cnv_runtime_variety_get(w.rt, &v), CNV_OK);
  assert_int_equal(v.distinct, 8); /* seven registered paths and ghost.cap */
  assert_int_equal(v.exceeded, 0);
  cnv_runtime_destroy(w.rt);
}

static void test_denial_table(void **state) {
  (void)state;
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    assert_int_equal(cnv_runtime_denial_of(cnv_runtime_denial_status(i)), i);
    assert_string_not_equal(cnv_runtime_denial_name(i), "unknown");
  }
  assert_int_equal(cnv_runtime_denial_of(CNV_EFULL), -1);
  assert_int_equal(cnv_runtime_denial_status(CNV_RT_DENY_COUNT), CNV_EINVAL);
  assert_int_equal(cnv_runtime_map_deleg(CNV_EDELEG_NOT_YET_VALID), CNV_ERT_DENY_EXPIRED);
  assert_int_equal(cnv_runtime_map_deleg(CNV_EDELEG_DEPTH), CNV_ERT_DENY_WIDENED);
  assert_int_equal(cnv_runtime_map_deleg(CNV_ETOKEN_MAGIC), CNV_ERT_DENY_UNTRUSTED);
}

static void test_config_errors(void **state) {
  (void)state;
  cnv_runtime *rt = NULL;
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.max_line = 4001;
  assert_int_equal(cnv_runtime_create(&cfg, &rt), CNV_ERT_CONFIG);
  cnv_runtime_config_default(&cfg);
  cfg.queue_capacity = 3;
  assert_int_equal(cnv_runtime_create(&cfg, &rt), CNV_ECAPACITY);
  assert_null(rt);
  assert_int_equal(cnv_runtime_create(NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_runtime_phase(NULL), CNV_PHASE_SHUTDOWN); /* admits no work */
  cnv_runtime_config_default(&cfg);
  cfg.max_agents = 1;
  cfg.max_handlers = 1;
  assert_int_equal(cnv_runtime_create(&cfg, &rt), CNV_OK);
  uint8_t pk[32] = {0}, tok[8] = {0};
  uint32_t h;
  assert_int_equal(cnv_runtime_agent_add(rt, pk, tok, sizeof tok, &h), CNV_OK);
  assert_int_equal(cnv_runtime_agent_add(rt, pk, tok, sizeof tok, &h), CNV_ERT_AGENTS_FULL);
  assert_int_equal(cnv_runtime_agent_add(rt, pk, tok, 0, &h), CNV_EINVAL);
  cnv_runtime_handler_spec spec = {.cls = CNV_DURATION_COUNT, .fn = handler};
  assert_int_equal(cnv_runtime_register(rt, "a.b", 3, &spec), CNV_ERANGE);
  spec.cls = -1;
  assert_int_equal(cnv_runtime_register(rt, "a.b", 3, &spec), CNV_ERANGE);
  spec.cls = CNV_DURATION_FAST_PATH;
  spec.fn = NULL;
  assert_int_equal(cnv_runtime_register(rt, "a.b", 3, &spec), CNV_EINVAL);
  assert_int_equal(cnv_runtime_register(rt, "a.b", 3, NULL), CNV_EINVAL);
  assert_int_equal(reg(rt, "a.b", 0), CNV_OK);
  assert_int_equal(reg(rt, "a.c", 0), CNV_ERT_HANDLERS_FULL);
  assert_int_equal(cnv_runtime_unregister(rt, "a.c", 3), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_unregister(rt, "a.b", 3), CNV_OK); /* before start too */
  assert_int_equal(reg(rt, "a.c", 0), CNV_OK);                    /* its entry is free again */
  assert_int_equal(cnv_runtime_agent_rate(rt, h + 1, 1, 1), CNV_EINVAL);
  assert_int_equal(cnv_runtime_agent_rate(NULL, h, 1, 1), CNV_EINVAL);
  assert_int_equal(cnv_runtime_agent_rate(rt, h, 1, 1), CNV_OK);
  assert_int_equal(cnv_runtime_submit(NULL, 0, "a.b", 3), CNV_EINVAL);
  cnv_runtime_destroy(rt);
  cnv_runtime_config_default(&cfg);
  cfg.max_result = 16u * 1024 * 1024 + 1;
  assert_int_equal(cnv_runtime_create(&cfg, &rt), CNV_ERT_CONFIG);
}

/* The classes' limits as the issue fixes them, totally ordered. */
static void test_duration_classes(void **state) {
  (void)state;
  static const uint64_t us = 1000, ms = 1000 * 1000, s = 1000ull * 1000 * 1000;
  static const uint64_t want[CNV_DURATION_COUNT][2] = {
      {100 * us, 1 * ms}, {100 * ms, 500 * ms}, {5 * s, 30 * s}, {300 * s, 1800 * s}, {3600 * s, 86400 * s}};
  static const char *const names[CNV_DURATION_COUNT] = {"fast_path", "interactive", "user_initiated", "batch",
                                                        "long_running"};
  for (int c = 0; c < CNV_DURATION_COUNT; c++) {
    uint64_t target = 0, limit = 0;
    assert_int_equal(cnv_duration_class_limits(c, &target, &limit), CNV_OK);
    assert_int_equal(target, want[c][0]);
    assert_int_equal(limit, want[c][1]);
    assert_string_equal(cnv_duration_class_name(c), names[c]);
    assert_int_equal(cnv_duration_class_limits(c, NULL, NULL), CNV_OK);
  }
  assert_int_equal(cnv_duration_class_limits(CNV_DURATION_COUNT, NULL, NULL), CNV_ERANGE);
  assert_int_equal(cnv_duration_class_limits(-1, NULL, NULL), CNV_ERANGE);
  assert_string_equal(cnv_duration_class_name(CNV_DURATION_COUNT), "unknown");
  static const char *const kinds[CNV_DONE_COUNT] = {"ran", "expired", "cancelled", "not_run"};
  for (int k = 0; k < CNV_DONE_COUNT; k++) assert_string_equal(cnv_runtime_done_name(k), kinds[k]);
  assert_string_equal(cnv_runtime_done_name(CNV_DONE_COUNT), "unknown");
  assert_string_equal(cnv_runtime_denial_name(CNV_RT_DENY_RATE), "rate");
  assert_string_equal(cnv_runtime_denial_name(CNV_RT_DENY_SHED), "shed");
  assert_string_equal(cnv_runtime_denial_name(CNV_RT_DENY_ARGUMENTS), "arguments");
  assert_int_equal(cnv_runtime_denial_status(CNV_RT_DENY_RATE), CNV_ERT_DENY_RATE);
  assert_int_equal(cnv_runtime_denial_status(CNV_RT_DENY_SHED), CNV_ERT_DENY_SHED);
  assert_int_equal(cnv_runtime_denial_status(CNV_RT_DENY_ARGUMENTS), CNV_ERT_DENY_ARGUMENTS);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_mix), cmocka_unit_test(test_denial_table),
                                     cmocka_unit_test(test_config_errors), cmocka_unit_test(test_duration_classes)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
