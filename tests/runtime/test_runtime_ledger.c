/* The runtime's governance-ledger records (runtime.h, "Ledger"): a runtime with a ledger in
 * a temporary directory goes through create, trust, register, agents, start, revocation,
 * accepted and denied submits, phase moves and stop; the closed log must hold each record
 * with the right fields, in order, with the policy epoch as documented; every completion's
 * ledger_index names its COMPLETE record, whose receipt verifies. Then the drop policy (a
 * tiny queue: nothing blocks, drops are counted) and a ledger that stops refusing records
 * (counted in ledger_failed; the invocations go on). */
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
#include "runtime/rt_ledger_fixture.h"

#define NOW 1700000000u

static _Atomic uint64_t token_clock = NOW;

static uint64_t test_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&token_clock);
}

/* An agent as added: handle, key, token. */
typedef struct agent {
  uint32_t h;
  tkey k;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len;
  uint8_t chain[CNV_LEDGER_HASH_BYTES];
} agent;

static void agent_add(rtf *f, agent *a, uint8_t key_byte, const char *allow, cnv_effects effects, uint64_t expiry) {
  cnv_deleg_caveats c;
  cav_init(&c);
  c.swarm = RTF_SWARM;
  c.effects = effects;
  c.expiry = expiry;
  assert_int_equal(cav_allow(&c, allow), CNV_OK);
  assert_int_equal(mint_for_agent(f->root.sk, key_byte, &c, &a->k, a->tok, &a->len), CNV_OK);
  assert_int_equal(cnv_runtime_agent_add(f->rt, a->k.pk, a->tok, a->len, &a->h), CNV_OK);
  rlf_hash(a->tok, a->len, a->chain);
}

/* What one submit's ADMIT record must say. */
typedef struct want {
  uint32_t agent;
  uint64_t capability;
  cnv_status status;
  uint16_t detail;
  uint32_t flags;
  uint64_t token_time;
  uint64_t ticket;
  uint64_t epoch;
  const uint8_t *chain; /* NULL: zero (unknown agent) */
} want;

#define MAX_WANT 32

typedef struct script {
  rtf f;
  want w[MAX_WANT];
  size_t n;
} script;

/* Submits line for a (a NULL: the unknown agent 999) into cq (may be NULL), expecting
 * status; records what its ADMIT record must say. Returns the ticket. */
static uint64_t submit(script *s, const agent *a, const char *line, size_t len, cnv_runtime_cq *cq, int low,
                       cnv_status expect, const char *path) {
  assert_true(s->n < MAX_WANT);
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.cq = cq;
  o.low_priority = (uint32_t)low;
  uint64_t ticket = 0, epoch = cnv_runtime_policy_epoch(s->f.rt);
  uint32_t h = a ? a->h : 999u;
  assert_int_equal(cnv_runtime_submit_ex(s->f.rt, h, line, len, &o, &ticket), expect);
  int reason = cnv_runtime_denial_of(expect);
  s->w[s->n++] = (want){.agent = h, .capability = path ? rtf_cap(path) : 0, .status = expect, .detail = (uint16_t)(reason + 1), .flags = (uint32_t)low, .token_time = atomic_load(&token_clock), .ticket = expect == CNV_OK ? ticket : 0, .epoch = epoch, .chain = a ? a->chain : NULL};
  return ticket;
}

static uint64_t submit_str(script *s, const agent *a, const char *line, cnv_runtime_cq *cq, cnv_status expect,
                           const char *path) {
  return submit(s, a, line, strlen(line), cq, 0, expect, path);
}

/* A completion taken from a queue, its result copied. */
typedef struct done {
  cnv_runtime_completion c;
  uint8_t bytes[RTF_RESULT_MAX];
} done;

static void take(cnv_runtime_cq *cq, done *d) {
  assert_int_equal(cnv_runtime_cq_wait(cq, 30000, &d->c, d->bytes, sizeof d->bytes), CNV_OK);
  assert_true(d->c.ledger_index != CNV_LEDGER_NONE);
}

static void check_admit(const cnv_ledger_entry *e, const want *w) {
  static const uint8_t zero[CNV_LEDGER_HASH_BYTES];
  assert_int_equal(e->kind, CNV_LREC_ADMIT);
  assert_int_equal(e->agent, w->agent);
  assert_int_equal(e->capability, w->capability);
  assert_int_equal(e->status, w->status);
  assert_int_equal(e->detail, w->status == CNV_OK || w->status == CNV_EFULL ? 0 : w->detail);
  assert_int_equal(e->flags, w->flags);
  assert_int_equal(e->token_time, w->token_time);
  assert_int_equal(e->ticket, w->ticket);
  assert_int_equal(e->epoch, w->epoch);
  assert_memory_equal(e->digest, w->chain ? w->chain : zero, sizeof zero);
  assert_int_equal(e->payload_len, 0);
  assert_true(e->time_ms > (uint64_t)NOW * 1000u); /* the wall clock, not the token clock */
}

/* The COMPLETE record of completion d (at d->c.ledger_index): its fields, and its ADMIT (the
 * accepted ADMIT of the same ticket) before it, with the same epoch. */
static void check_complete(cnv_ledger_reader *r, const done *d, const agent *a) {
  cnv_ledger_entry e = rlf_get(r, d->c.ledger_index);
  assert_int_equal(e.kind, CNV_LREC_COMPLETE);
  assert_int_equal(e.ticket, d->c.ticket);
  assert_int_equal(e.agent, d->c.agent);
  assert_int_equal(e.agent, a->h);
  assert_int_equal(e.capability, d->c.capability);
  assert_int_equal(e.detail, d->c.kind);
  assert_int_equal(e.status, d->c.status);
  assert_memory_equal(e.key, a->k.pk, sizeof e.key);
  assert_memory_equal(e.digest, a->chain, sizeof e.digest);
  uint8_t h[CNV_LEDGER_HASH_BYTES];
  rlf_hash(d->c.result, d->c.result_len, h);
  assert_memory_equal(e.result, h, sizeof h);
  assert_true(e.start_ms > 0 && e.start_ms <= e.time_ms);
  uint64_t epoch = e.epoch, start = e.start_ms;
  int admits = 0;
  for (uint64_t i = 0; i < d->c.ledger_index; i++) {
    cnv_ledger_entry p = rlf_get(r, i);
    if (p.kind != CNV_LREC_ADMIT || p.ticket != d->c.ticket || p.status != CNV_OK) continue;
    admits++;
    assert_int_equal(p.epoch, epoch);
    assert_int_equal(p.time_ms, start);
  }
  assert_int_equal(admits, 1);
}

static void check_receipt(const rlf *x, const cnv_receipt *rc, uint64_t index) {
  int state = CNV_CERT_UNCHECKED;
  assert_int_equal(rc->index, index);
  assert_int_equal(cnv_receipt_verify(rc, x->pk, &state), CNV_OK);
  assert_int_equal(state, CNV_CERT_VERIFIED);
}

typedef struct world {
  rlf x;
  script s;
  agent reader, revoked, brief, other;
  uint8_t revoked_link[CNV_DELEG_HASH_BYTES];
  done d[5];
} world;

/* create .. stop, with the epochs the header promises at each step. */
static void run_script(world *w) {
  script *s = &w->s;
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.ledger = w->x.l;
  cfg.clock = test_clock;
  atomic_store(&token_clock, NOW);
  rtf_create(&s->f, &cfg); /* CONFIG (epoch 1), TRUST (2) */
  cnv_runtime *rt = s->f.rt;
  assert_int_equal(cnv_runtime_policy_epoch(rt), 2);
  cnv_runtime_handler_spec read = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = rtf_echo};
  cnv_runtime_handler_spec write = {.effects = CNV_EFFECT_MUTATE_STATE, .cls = CNV_DURATION_BATCH, .fn = rtf_echo};
  assert_int_equal(cnv_runtime_register(rt, "t.read", 6, &read), CNV_OK);
  assert_int_equal(cnv_runtime_register(rt, "t.write", 7, &write), CNV_OK);
  assert_int_equal(cnv_runtime_register(rt, "t.gone", 6, &read), CNV_OK);
  assert_int_equal(cnv_runtime_unregister(rt, "t.gone", 6), CNV_OK);
  assert_int_equal(cnv_runtime_policy_epoch(rt), 6);
  agent_add(&s->f, &w->reader, 0x41, "t.*", CNV_EFFECT_READ_ONLY, CNV_DELEG_NO_EXPIRY);
  agent_add(&s->f, &w->revoked, 0x42, "t.*", CNV_EFFECT_READ_ONLY, CNV_DELEG_NO_EXPIRY);
  agent_add(&s->f, &w->brief, 0x43, "t.*", CNV_EFFECT_READ_ONLY, NOW + 10);
  agent_add(&s->f, &w->other, 0x44, "u.*", CNV_EFFECT_READ_ONLY, CNV_DELEG_NO_EXPIRY);
  assert_int_equal(cnv_runtime_policy_epoch(rt), 6); /* agents are not policy */
  assert_int_equal(cnv_runtime_start(rt), CNV_OK);   /* three PHASE records */
  assert_int_equal(cnv_runtime_policy_epoch(rt), 9);
  assert_int_equal(cnv_deleg_link_hash(w->revoked.tok, w->revoked.len, 0, w->revoked_link), CNV_OK);
  assert_int_equal(cnv_runtime_revoke(rt, w->revoked_link), CNV_OK);
  assert_int_equal(cnv_runtime_policy_epoch(rt), 10);

  cnv_runtime_cq *cq = NULL, *small = NULL;
  assert_int_equal(cnv_runtime_cq_create(rt, 64, &cq), CNV_OK);
  assert_int_equal(cnv_runtime_cq_create(rt, 2, &small), CNV_OK);
  submit_str(s, &w->reader, "t.read --n=1", cq, CNV_OK, "t.read");
  submit(s, &w->reader, "t.read --n=2", 12, cq, 1, CNV_OK, "t.read");
  submit_str(s, &w->reader, "t.nope", cq, CNV_ERT_DENY_UNKNOWN_CAPABILITY, "t.nope");
  submit_str(s, &w->revoked, "t.read", cq, CNV_ERT_DENY_REVOKED, "t.read");
  atomic_store(&token_clock, NOW + 100);
  submit_str(s, &w->brief, "t.read", cq, CNV_ERT_DENY_EXPIRED, "t.read");
  atomic_store(&token_clock, NOW);
  submit_str(s, &w->other, "t.read", cq, CNV_ERT_DENY_NOT_ALLOWED, "t.read");
  submit_str(s, &w->reader, "t.write", cq, CNV_ERT_DENY_EFFECTS, "t.write");
  submit_str(s, &w->reader, "!!", cq, CNV_ERT_DENY_MALFORMED, NULL);
  char longline[400];
  memset(longline, 'a', sizeof longline);
  memcpy(longline, "t.read --x=", 11);
  submit(s, &w->reader, longline, sizeof longline, cq, 0, CNV_ERT_DENY_TOO_LONG, NULL);
  submit_str(s, NULL, "t.read", cq, CNV_ERT_DENY_UNKNOWN_AGENT, "t.read");
  assert_int_equal(cnv_runtime_raise_algedonic(rt, CNV_ALGEDONIC_OPERATOR), CNV_OK);
  assert_int_equal(cnv_runtime_policy_epoch(rt), 11);
  submit_str(s, &w->reader, "t.read", cq, CNV_ERT_DENY_PHASE, "t.read");
  assert_int_equal(cnv_runtime_transition(rt, CNV_PHASE_EMERGENCY, CNV_PHASE_RECOVERY), CNV_OK);
  assert_int_equal(cnv_runtime_policy_epoch(rt), 12);
  submit_str(s, &w->reader, "t.read --n=3", cq, CNV_OK, "t.read");
  /* no room: the small queue's two entries are reserved until polled */
  submit_str(s, &w->reader, "t.read --n=4", small, CNV_OK, "t.read");
  submit_str(s, &w->reader, "t.read --n=5", small, CNV_OK, "t.read");
  submit_str(s, &w->reader, "t.read --n=6", small, CNV_EFULL, "t.read");
  for (int i = 0; i < 3; i++) take(cq, &w->d[i]);
  for (int i = 3; i < 5; i++) take(small, &w->d[i]);
  assert_int_equal(cnv_runtime_agent_remove(rt, w->other.h), CNV_OK);
  cnv_runtime_stats st = rtf_settled(rt);
  assert_int_equal(st.ledger_failed, 0);
  assert_int_equal(cnv_runtime_stop(rt, RTF_STOP_NS), CNV_OK); /* PHASE Recovery -> Shutdown */
  assert_int_equal(cnv_runtime_policy_epoch(rt), 13);
  cnv_runtime_destroy(rt);
  cnv_runtime_cq_destroy(cq);
  cnv_runtime_cq_destroy(small);
}

/* The policy records, in log order: kinds and what they carry. */
static void check_policy(cnv_ledger_reader *r, const world *w) {
  static const struct {
    uint16_t kind, detail;
    int32_t status;
  } want_policy[] = {
      {CNV_LREC_TRUST, 0, 0},
      {CNV_LREC_REGISTER, CNV_DURATION_INTERACTIVE, 0},
      {CNV_LREC_REGISTER, CNV_DURATION_BATCH, 0},
      {CNV_LREC_REGISTER, CNV_DURATION_INTERACTIVE, 0},
      {CNV_LREC_REGISTER, 0xFFFF, 0},
      {CNV_LREC_PHASE, CNV_PHASE_BOOTSTRAP << 8 | CNV_PHASE_NEGOTIATION, 0},
      {CNV_LREC_PHASE, CNV_PHASE_NEGOTIATION << 8 | CNV_PHASE_ACTIVATION, 0},
      {CNV_LREC_PHASE, CNV_PHASE_ACTIVATION << 8 | CNV_PHASE_OPERATIONAL, 0},
      {CNV_LREC_REVOKE, 0, 0},
      {CNV_LREC_PHASE, CNV_PHASE_OPERATIONAL << 8 | CNV_PHASE_EMERGENCY, CNV_ALGEDONIC_OPERATOR},
      {CNV_LREC_PHASE, CNV_PHASE_EMERGENCY << 8 | CNV_PHASE_RECOVERY, 0},
      {CNV_LREC_PHASE, CNV_PHASE_RECOVERY << 8 | CNV_PHASE_SHUTDOWN, 0},
  };
  size_t k = 0;
  uint64_t n = cnv_ledger_reader_size(r);
  for (uint64_t i = 0; i < n; i++) {
    cnv_ledger_entry e = rlf_get(r, i);
    if (e.kind != CNV_LREC_TRUST && e.kind != CNV_LREC_REVOKE && e.kind != CNV_LREC_REGISTER && e.kind != CNV_LREC_PHASE) {
      continue;
    }
    assert_true(k < sizeof want_policy / sizeof want_policy[0]);
    assert_int_equal(e.kind, want_policy[k].kind);
    assert_int_equal(e.detail, want_policy[k].detail);
    assert_int_equal(e.status, want_policy[k].status);
    assert_int_equal(e.epoch, 2 + k); /* one more per policy record, from 1 */
    if (e.kind == CNV_LREC_TRUST) assert_memory_equal(e.key, w->s.f.root.pk, sizeof e.key);
    if (e.kind == CNV_LREC_REVOKE) assert_memory_equal(e.digest, w->revoked_link, sizeof e.digest);
    if (e.kind == CNV_LREC_REGISTER) {
      const char *path = k == 1 ? "t.read" : k == 2 ? "t.write"
                                                    : "t.gone";
      assert_int_equal(e.capability, rtf_cap(path));
      if (e.detail == 0xFFFF) {
        assert_int_equal(e.payload_len, 0);
      } else {
        assert_int_equal(e.flags, k == 2 ? CNV_EFFECT_MUTATE_STATE : CNV_EFFECT_READ_ONLY);
        assert_int_equal(e.payload_len, strlen(path));
        assert_memory_equal(e.payload, path, strlen(path));
      }
    }
    k++;
  }
  assert_int_equal(k, sizeof want_policy / sizeof want_policy[0]);
}

static void check_agents(cnv_ledger_reader *r, const world *w) {
  const agent *added[] = {&w->reader, &w->revoked, &w->brief, &w->other};
  size_t k = 0;
  uint64_t n = cnv_ledger_reader_size(r);
  for (uint64_t i = 0; i < n; i++) {
    cnv_ledger_entry e = rlf_get(r, i);
    if (e.kind != CNV_LREC_AGENT) continue;
    const agent *a = k < 4 ? added[k] : &w->other;
    assert_int_equal(e.agent, a->h);
    assert_memory_equal(e.key, a->k.pk, sizeof e.key);
    assert_memory_equal(e.digest, a->chain, sizeof e.digest);
    assert_int_equal(e.epoch, k < 4 ? 6 : 12); /* added before start, removed in Recovery */
    if (k < 4) {
      assert_int_equal(e.detail, 0);
      assert_int_equal(e.payload_len, a->len);
      assert_memory_equal(e.payload, a->tok, a->len);
    } else {
      assert_int_equal(e.detail, 1);
      assert_int_equal(e.payload_len, 0);
    }
    k++;
  }
  assert_int_equal(k, 5);
}

static void check_config(cnv_ledger_reader *r, const rlf *x) {
  cnv_ledger_entry g = rlf_get(r, 0);
  assert_int_equal(g.kind, CNV_LREC_GENESIS);
  assert_memory_equal(g.key, x->pk, sizeof g.key);
  cnv_ledger_entry e = rlf_get(r, 1);
  assert_int_equal(e.kind, CNV_LREC_CONFIG);
  assert_int_equal(e.ticket, RTF_SWARM);
  assert_int_equal(e.epoch, 1);
  cnv_deleg_config d;
  cnv_deleg_config_default(&d);
  uint8_t p[16];
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(d.skew >> (8 * i));
  for (int i = 0; i < 4; i++) p[8 + i] = (uint8_t)(d.max_counters >> (8 * i));
  for (int i = 0; i < 4; i++) p[12 + i] = (uint8_t)(d.max_counters_per_delegate >> (8 * i));
  assert_int_equal(e.payload_len, 16);
  assert_memory_equal(e.payload, p, 16);
}

static void test_records(void **state) {
  (void)state;
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  rlf_open(&w->x, 0, CNV_LEDGER_FULL_BLOCK, 0);
  run_script(w);
  /* receipts from the open ledger, once a checkpoint covers the records */
  cnv_checkpoint cp;
  assert_int_equal(cnv_ledger_checkpoint(w->x.l, &cp), CNV_OK);
  cnv_receipt *rc = malloc(sizeof *rc);
  assert_non_null(rc);
  for (int i = 0; i < 5; i++) {
    assert_true(w->d[i].c.ledger_index < cp.tree_size);
    assert_int_equal(cnv_ledger_receipt(w->x.l, w->d[i].c.ledger_index, rc), CNV_OK);
    check_receipt(&w->x, rc, w->d[i].c.ledger_index);
    assert_int_equal(rc->entry.ticket, w->d[i].c.ticket);
  }
  rlf_close(&w->x);
  assert_int_equal(cnv_ledger_verify_dir(w->x.dir, w->x.pk, NULL), CNV_OK);

  cnv_ledger_reader *r = rlf_reader(&w->x);
  check_config(r, &w->x);
  check_policy(r, w);
  check_agents(r, w);
  size_t k = 0;
  for (uint64_t i = 0; i < cnv_ledger_reader_size(r); i++) {
    cnv_ledger_entry e = rlf_get(r, i);
    if (e.kind != CNV_LREC_ADMIT) continue;
    assert_true(k < w->s.n);
    check_admit(&e, &w->s.w[k++]);
  }
  assert_int_equal(k, w->s.n);
  for (int i = 0; i < 5; i++) {
    check_complete(r, &w->d[i], &w->reader);
    assert_int_equal(cnv_ledger_reader_receipt(r, w->d[i].c.ledger_index, rc), CNV_OK);
    check_receipt(&w->x, rc, w->d[i].c.ledger_index);
  }
  cnv_ledger_reader_close(r);
  free(rc);
  rlf_remove(&w->x);
  free(w);
}

/* Without a ledger the epoch stays 1 and completions carry CNV_LEDGER_NONE. */
static void test_no_ledger(void **state) {
  (void)state;
  rtf f;
  rtf_handler h[] = {{"t.read", CNV_DURATION_INTERACTIVE, rtf_echo, NULL}};
  uint32_t a = rtf_up(&f, NULL, h, 1, 0x41);
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  memset(hash, 7, sizeof hash);
  assert_int_equal(cnv_runtime_revoke(f.rt, hash), CNV_OK);
  assert_int_equal(cnv_runtime_transition(f.rt, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED), CNV_OK);
  assert_int_equal(cnv_runtime_policy_epoch(f.rt), 1);
  cnv_runtime_completion c;
  char buf[RTF_RESULT_MAX];
  assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.read", 6, NULL, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_true(c.ledger_index == CNV_LEDGER_NONE);
  rtf_stop_destroy(&f);
  assert_int_equal(cnv_runtime_policy_epoch(NULL), 0);
}

/* Completions of the drop test: (ticket, ledger_index) pairs. */
#define DROP_MAX 20000u

typedef struct drops {
  _Atomic uint32_t n;
  uint64_t ticket[DROP_MAX];
  uint64_t index[DROP_MAX];
} drops;

static void drop_done(void *ctx, const cnv_runtime_completion *c) {
  drops *d = ctx;
  uint32_t i = atomic_fetch_add(&d->n, 1u);
  if (i < DROP_MAX) {
    d->ticket[i] = c->ticket;
    d->index[i] = c->ledger_index;
  }
}

/* CNV_LEDGER_FULL_DROP with a tiny queue behind fdatasync: submits never wait for the
 * writer; the ledger counts what it dropped, the runtime counts no failure, and each
 * completion's index is either NONE (dropped) or its own COMPLETE record. */
static void test_drop(void **state) {
  (void)state;
  rlf x;
  cnv_runtime_config cfg;
  rlf_config(&x, &cfg, 4, CNV_LEDGER_FULL_DROP, 0);
  rtf f;
  uint32_t a = rlf_up_echo(&f, &cfg);
  drops *d = calloc(1, sizeof *d);
  assert_non_null(d);
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.on_done = drop_done;
  o.done_ctx = d;
  cnv_ledger_stats ls = {0};
  uint32_t n = 0;
  do {
    cnv_status st = cnv_runtime_submit_ex(f.rt, a, "t.read --n=1", 12, &o, NULL);
    if (st == CNV_EFULL) {
      sched_yield();
      continue;
    }
    assert_int_equal(st, CNV_OK);
    n++;
    cnv_ledger_stats_get(x.l, &ls);
  } while (n < DROP_MAX && (n < 1000 || ls.dropped == 0));
  rlf_stop_unrefused(&f);
  cnv_ledger_stats_get(x.l, &ls);
  assert_true(ls.dropped > 0);
  assert_int_equal(ls.blocked, 0);
  assert_int_equal(atomic_load(&d->n), n);
  rlf_close(&x);
  cnv_ledger_reader *r = rlf_reader(&x);
  uint64_t recorded = 0, completes = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (d->index[i] == CNV_LEDGER_NONE) continue;
    recorded++;
    cnv_ledger_entry e = rlf_get(r, d->index[i]);
    assert_int_equal(e.kind, CNV_LREC_COMPLETE);
    assert_int_equal(e.ticket, d->ticket[i]);
  }
  for (uint64_t i = 0; i < cnv_ledger_reader_size(r); i++) completes += rlf_get(r, i).kind == CNV_LREC_COMPLETE;
  assert_int_equal(completes, recorded);
  cnv_ledger_reader_close(r);
  free(d);
  rlf_remove(&x);
}

/* A ledger that stops (its size limit reached) refuses records: each is counted in
 * ledger_failed, and the invocations go on and complete as if there were no ledger. */
static void test_refused(void **state) {
  (void)state;
  rlf x;
  cnv_runtime_config cfg;
  rlf_config(&x, &cfg, 0, CNV_LEDGER_FULL_BLOCK, 4096);
  rtf f;
  uint32_t a = rlf_up_echo(&f, &cfg);
  cnv_runtime_stats rs;
  cnv_runtime_completion c;
  char buf[RTF_RESULT_MAX];
  uint32_t runs = 0, unrecorded = 0;
  do {
    assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.read --n=1", 12, NULL, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.kind, CNV_DONE_RAN);
    assert_int_equal(c.status, CNV_OK);
    unrecorded += c.ledger_index == CNV_LEDGER_NONE;
    runs++;
    assert_int_equal(cnv_runtime_stats_get(f.rt, &rs), CNV_OK);
  } while (runs < 100000 && (rs.ledger_failed == 0 || unrecorded == 0));
  assert_true(rs.ledger_failed > 0);
  assert_true(unrecorded > 0);
  cnv_ledger_stats ls;
  cnv_ledger_stats_get(x.l, &ls);
  assert_int_equal(ls.error, CNV_EFULL);
  assert_int_equal(ls.dropped, 0);
  rtf_stop_destroy(&f);
  rlf_close(&x);
  rlf_remove(&x);
}

static cnv_status failing(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  (void)r;
  return CNV_EINVAL;
}

/* The breaker's move (the monitor's tick) is a PHASE record with CNV_RT_PHASE_BREAKER. */
static void test_breaker_phase(void **state) {
  (void)state;
  rlf x;
  cnv_runtime_config cfg;
  rlf_config(&x, &cfg, 0, CNV_LEDGER_FULL_BLOCK, 0);
  cfg.breaker.min_samples = 4; /* trips after a few failures (upper 0.5) */
  rtf f;
  rtf_handler h[] = {{"t.fail", CNV_DURATION_INTERACTIVE, failing, NULL}};
  uint32_t a = rtf_up(&f, &cfg, h, 1, 0x41);
  uint64_t before = cnv_runtime_policy_epoch(f.rt);
  cnv_runtime_completion c;
  char buf[RTF_RESULT_MAX];
  while (cnv_runtime_phase(f.rt) == CNV_PHASE_OPERATIONAL) {
    assert_int_equal(cnv_runtime_invoke(f.rt, a, "t.fail", 6, NULL, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.status, CNV_EINVAL);
  }
  assert_int_equal(cnv_runtime_phase(f.rt), CNV_PHASE_DEGRADED);
  /* the tick's record is made under the phase mutex, which stop takes after it: its epoch,
   * then stop's */
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  assert_int_equal(cnv_runtime_policy_epoch(f.rt), before + 2);
  cnv_runtime_destroy(f.rt);
  rlf_close(&x);
  cnv_ledger_entry e = rlf_only(&x, CNV_LREC_PHASE, CNV_PHASE_OPERATIONAL << 8 | CNV_PHASE_DEGRADED);
  assert_int_equal(e.status, CNV_RT_PHASE_BREAKER);
  assert_int_equal(e.epoch, before + 1);
  rlf_remove(&x);
}

/* A token longer than a record's payload: its AGENT record says CNV_RT_AGENT_TOKEN_OMITTED,
 * carries no payload, and its digest still names the token. */
static void test_long_token(void **state) {
  (void)state;
  rlf x;
  cnv_runtime_config cfg;
  rlf_config(&x, &cfg, 0, CNV_LEDGER_FULL_BLOCK, 0);
  rtf f;
  rtf_create(&f, &cfg);
  /* eight links of 16 allowed and 16 forbidden patterns each: about 6 KB */
  tkey keys[9];
  fspec sp[8];
  char text[16];
  for (int i = 0; i < 9; i++) tkey_make(&keys[i], (uint8_t)(0x60 + i));
  for (int i = 0; i < 8; i++) {
    sp[i].issuer_sk = i == 0 ? f.root.sk : keys[i].sk;
    sp[i].audience = keys[i + 1].pk;
    sp[i].nonce = (uint8_t)i;
    cav_init(&sp[i].cav);
    sp[i].cav.swarm = RTF_SWARM;
    for (int k = 0; k < CNV_DELEG_MAX_PATTERNS; k++) {
      snprintf(text, sizeof text, "t.p%02d", k);
      assert_int_equal(cav_allow(&sp[i].cav, text), CNV_OK);
      snprintf(text, sizeof text, "x.f%02d", k);
      assert_int_equal(cav_forbid(&sp[i].cav, text), CNV_OK);
    }
  }
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  assert_int_equal(forge(sp, 8, tok, &len), CNV_OK);
  assert_true(len > CNV_LEDGER_MAX_PAYLOAD);
  uint32_t h = 0;
  assert_int_equal(cnv_runtime_agent_add(f.rt, keys[8].pk, tok, len, &h), CNV_OK);
  cnv_runtime_stats rs;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &rs), CNV_OK);
  assert_int_equal(rs.ledger_failed, 0);
  cnv_runtime_destroy(f.rt);
  rlf_close(&x);
  uint8_t chain[CNV_LEDGER_HASH_BYTES];
  rlf_hash(tok, len, chain);
  cnv_ledger_entry e = rlf_only(&x, CNV_LREC_AGENT, -1);
  assert_int_equal(e.agent, h);
  assert_int_equal(e.flags, CNV_RT_AGENT_TOKEN_OMITTED);
  assert_int_equal(e.payload_len, 0);
  assert_memory_equal(e.key, keys[8].pk, sizeof e.key);
  assert_memory_equal(e.digest, chain, sizeof chain);
  rlf_remove(&x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_records),
      cmocka_unit_test(test_no_ledger),
      cmocka_unit_test(test_drop),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_breaker_phase),
      cmocka_unit_test(test_long_token),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
