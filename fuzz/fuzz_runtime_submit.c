/* fuzz_runtime_submit: arbitrary lines and agent handles against a started runtime with
 * registered handlers; every submit is either denied with a counted reason or accepted and
 * completed exactly once.
 *
 * One runtime is made on the first input and kept (starting and stopping one per input
 * costs threads and RCU grace periods); it is stopped at exit, where the final figures are
 * checked. Handlers: t.write (Interactive) writes the whole line as its result (a line
 * longer than max_result is refused as too large), t.fail writes a byte and fails, t.tiny
 * (FastPath: 1 ms limit) spins up to 900 us, so short deadlines expire while it runs or
 * while it is queued. Agents: a valid one, one whose token allows only u.*, a forged one, one
 * with 5 uses (spent after the first inputs), a rate-limited one (1/s, bursts of 2), one
 * signed by an untrusted root, one whose token allows no effects, one whose link an input
 * may revoke (for good: later inputs see it revoked); handles past them are unknown.
 *
 * Input: records of
 *   op      bits 0-1: how to hear back (0, 1 callback, 2 completion queue, 3 invoke);
 *           bit 2: low lane; bit 3: cancel right after the submit; bit 4: a traceparent;
 *           bit 5: instead of a submit, a policy move: `t` 0xAA revokes agent 7's link, an
 *           odd `t` revokes a hash of nothing (varied by `prefix`; the policy epoch moves:
 *           prepared tokens are checked again), any other `t` moves the phase (Operational
 *           <-> Degraded); `len` and no line follow;
 *           bits 6-7: timeout: 0 the class's, 1 `t` us, 2 `t` ms, 3 UINT64_MAX;
 *   agent   index into the agents (past them: unknown handles);
 *   t       the timeout's amount;
 *   prefix  index into a few capability prefixes ("t.write ", ...; past them: none);
 *   len     bytes of the line that follow (fewer when the input ends).
 * Bytes past the end read as 0. Per input: each status must be CNV_OK, a CNV_ERT_DENY_*
 * code, CNV_EFULL, or CNV_ERANGE for a timeout beyond 1 ms; after the input, every accepted
 * one completed exactly once (callback, queue or invoke), never one that was not, each
 * completion well formed (kind and status agree, the correlation id, trace and result are
 * the submitted ones), and the runtime's counters moved by exactly the tally. Failures
 * abort. CNV_FUZZ_STATS=1 prints what the run reached at exit. */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/core.h>
#include <cnv/delegation.h>
#include <cnv/protocol.h>
#include <cnv/runtime.h>

#include "support/forge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SWARM 5u
#define MAX_RESULT 64
#define MAX_RECORDS 256
#define CQ_CAP 8
#define N_AGENTS 8
#define MS 1000000ull
#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static const char *const prefixes[] = {"t.write ", "t.fail ", "t.tiny ", "t.write", "t.tiny", "u.x ", "t.none "};
#define N_PREFIXES (sizeof prefixes / sizeof prefixes[0])

static struct {
  bool ready;
  cnv_runtime *rt;
  cnv_runtime_cq *cq;
  uint32_t agent[N_AGENTS];
  uint64_t cap_write;
  uint8_t doomed[CNV_DELEG_HASH_BYTES]; /* agent 7's link: revoked when an input says so */
  cnv_trace trace;
  uint64_t input; /* inputs run so far: the high bits of correlation ids */
} R;

/* One record of the current input. */
typedef struct rec {
  bool accepted, traced;
  unsigned done;
  size_t line_len;
  char line[4 + 8 + 256];
} rec;

static rec Q[MAX_RECORDS];
static unsigned n_recs;
static unsigned cq_pending; /* accepted into the queue, not yet polled */

static void die(const char *what, long a, long b) {
  fprintf(stderr, "fuzz_runtime_submit: %s (%ld, %ld)\n", what, a, b);
  abort();
}

static void check(bool ok, const char *what, long a, long b) {
  if (!ok) die(what, a, b);
}

/* ---- handlers ---- */

static cnv_status h_write(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  return cnv_runtime_result_write(r, c->line, c->line_len);
}

static cnv_status h_fail(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  cnv_status st = cnv_runtime_result_write(r, "x", 1);
  return st == CNV_OK ? CNV_EIO : st;
}

static cnv_status h_tiny(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  uint64_t until = cnv_runtime_now_ns() + (c->line_len % 4) * 300000u;
  while (cnv_runtime_now_ns() < until && !cnv_runtime_call_cancelled(c)) sched_yield();
  return CNV_OK;
}

/* ---- set-up, once ---- */

/* An agent (key byte b) whose root token allows `allow` with `effects` and `uses`; forged: its
 * signature broken; link_hash (may be NULL): the hash of its link. */
static uint32_t add_agent(const uint8_t *root_sk, uint8_t b, const char *allow, uint32_t uses, bool forged,
                          cnv_effects effects, uint8_t *link_hash) {
  cnv_deleg_caveats c;
  cav_init(&c);
  c.swarm = SWARM;
  c.max_uses = uses;
  c.effects = effects;
  check(cav_allow(&c, allow) == CNV_OK, "pattern", 0, 0);
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  check(mint_for_agent(root_sk, b, &c, &agent, tok, &len) == CNV_OK, "mint", b, 0);
  if (forged) tok[len - 1] ^= 1;
  if (link_hash) check(cnv_deleg_link_hash(tok, len, 0, link_hash) == CNV_OK, "link hash", b, 0);
  uint32_t h = 0;
  check(cnv_runtime_agent_add(R.rt, agent.pk, tok, len, &h) == CNV_OK, "agent_add", b, 0);
  return h;
}

static void reg(const char *path, int cls, cnv_runtime_handler_fn fn) {
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = cls, .fn = fn};
  check(cnv_runtime_register(R.rt, path, strlen(path), &spec) == CNV_OK, "register", 0, 0);
}

static void stats(cnv_runtime_stats *s) { check(cnv_runtime_stats_get(R.rt, s) == CNV_OK, "stats", 0, 0); }

/* At exit: stop (nothing is left in flight between inputs, so nothing is stuck) and check
 * the figures promised after stop. */
static void finish(void) {
  if (!R.ready) return;
  check(cnv_runtime_stop(R.rt, 10000 * MS) == CNV_OK, "stop", 0, 0);
  cnv_runtime_stats s;
  stats(&s);
  uint64_t completed = 0, denied = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) completed += s.completed[k];
  for (int r = 0; r < CNV_RT_DENY_COUNT; r++) denied += s.denied[r];
  check(s.accepted == completed, "accepted != completed at stop", (long)s.accepted, (long)completed);
  check(s.denied_total == denied, "denied_total", (long)s.denied_total, (long)denied);
  check(s.in_queue == 0, "in_queue at stop", (long)s.in_queue, 0);
  check(s.completed[CNV_DONE_NOT_RUN] == 0, "not run at stop", (long)s.completed[CNV_DONE_NOT_RUN], 0);
  const char *show = getenv("CNV_FUZZ_STATS");
  if (show && show[0] == '1') {
    fprintf(stderr,
            "fuzz_runtime_submit: %llu inputs; %llu submitted, %llu accepted (ran %llu, expired %llu, "
            "cancelled %llu), %llu full, denied:",
            (unsigned long long)R.input, (unsigned long long)s.submitted,
            (unsigned long long)s.accepted, (unsigned long long)s.completed[CNV_DONE_RAN],
            (unsigned long long)s.completed[CNV_DONE_EXPIRED], (unsigned long long)s.completed[CNV_DONE_CANCELLED],
            (unsigned long long)s.full);
    for (int r = 0; r < CNV_RT_DENY_COUNT; r++) {
      fprintf(stderr, " %s %llu", cnv_runtime_denial_name(r), (unsigned long long)s.denied[r]);
    }
    fprintf(stderr, "\n");
  }
  cnv_runtime_destroy(R.rt);
  cnv_runtime_cq_destroy(R.cq);
  R.ready = false;
}

static void init(void) {
  if (R.ready) return;
  if (sodium_init() < 0) abort();
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 2;
  cfg.queue_capacity = 64;
  cfg.swarm_id = SWARM;
  cfg.max_result = MAX_RESULT;
  check(cnv_runtime_create(&cfg, &R.rt) == CNV_OK, "create", 0, 0);
  tkey root, stranger; /* the trusted root; a root the runtime does not trust */
  tkey_make(&root, 0x11);
  tkey_make(&stranger, 0x12);
  check(cnv_runtime_trust_add(R.rt, root.pk) == CNV_OK, "trust", 0, 0);
  reg("t.write", CNV_DURATION_INTERACTIVE, h_write);
  reg("t.fail", CNV_DURATION_INTERACTIVE, h_fail);
  reg("t.tiny", CNV_DURATION_FAST_PATH, h_tiny);
  reg("u.x", CNV_DURATION_INTERACTIVE, h_write);
  R.agent[0] = add_agent(root.sk, 0x20, "t.*", CNV_DELEG_UNLIMITED_USES, false, CNV_EFFECTS_ALL, NULL);
  R.agent[1] = add_agent(root.sk, 0x21, "u.*", CNV_DELEG_UNLIMITED_USES, false, CNV_EFFECTS_ALL, NULL);
  R.agent[2] = add_agent(root.sk, 0x22, "t.*", CNV_DELEG_UNLIMITED_USES, true, CNV_EFFECTS_ALL, NULL);
  R.agent[3] = add_agent(root.sk, 0x23, "t.*", 5, false, CNV_EFFECTS_ALL, NULL);
  R.agent[4] = add_agent(root.sk, 0x24, "t.*", CNV_DELEG_UNLIMITED_USES, false, CNV_EFFECTS_ALL, NULL);
  check(cnv_runtime_agent_rate(R.rt, R.agent[4], 1, 2) == CNV_OK, "agent_rate", 0, 0);
  R.agent[5] = add_agent(stranger.sk, 0x25, "t.*", CNV_DELEG_UNLIMITED_USES, false, CNV_EFFECTS_ALL, NULL);
  R.agent[6] = add_agent(root.sk, 0x26, "t.*", CNV_DELEG_UNLIMITED_USES, false, 0, NULL); /* no effects */
  R.agent[7] = add_agent(root.sk, 0x27, "t.*", CNV_DELEG_UNLIMITED_USES, false, CNV_EFFECTS_ALL, R.doomed);
  check(cnv_capability_id("t.write", 7, &R.cap_write) == CNV_OK, "capability id", 0, 0);
  check(cnv_trace_parse(TP, strlen(TP), &R.trace) == CNV_OK, "trace", 0, 0);
  check(cnv_runtime_cq_create(R.rt, CQ_CAP, &R.cq) == CNV_OK, "cq_create", 0, 0);
  check(cnv_runtime_start(R.rt) == CNV_OK, "start", 0, 0);
  R.ready = true;
  atexit(finish);
}

/* ---- completions ---- */

/* Checks one completion against its record and counts it. Runs on workers (callbacks) and
 * on the fuzzing thread (queue, invoke); a record is only read here, apart from `done`,
 * which the fuzzing thread reads only once every completion of the input arrived. */
static void complete(const cnv_runtime_completion *c) {
  check((c->correlation >> 32) == R.input, "completion of another input", (long)(c->correlation >> 32),
        (long)R.input);
  uint64_t i = c->correlation & 0xffffffffu;
  check(i < n_recs, "completion of no record", (long)i, (long)n_recs);
  rec *q = &Q[i];
  check(q->accepted, "completion of a record that was not accepted", (long)i, 0);
  check(c->kind >= 0 && c->kind < CNV_DONE_COUNT, "kind", c->kind, 0);
  check(c->result_len <= MAX_RESULT, "result_len", (long)c->result_len, 0);
  check((c->result == NULL) == (c->result_len == 0), "result pointer", (long)c->result_len, 0);
  check(c->trace.present == q->traced, "trace present", c->trace.present, q->traced);
  if (q->traced) check(memcmp(&c->trace, &R.trace, sizeof R.trace) == 0, "trace differs", 0, 0);
  switch (c->kind) {
    case CNV_DONE_RAN:
      check(c->worker >= 0 && c->worker < 2, "ran without a worker", c->worker, 0);
      if (c->capability == R.cap_write) {
        if (q->line_len <= MAX_RESULT) {
          check(c->status == CNV_OK, "t.write status", c->status, (long)q->line_len);
          check(c->result_len == q->line_len && memcmp(c->result, q->line, q->line_len) == 0, "t.write result",
                (long)c->result_len, (long)q->line_len);
        } else {
          check(c->status == CNV_ERT_RESULT_TOO_LARGE && c->result_len == 0, "too large", c->status,
                (long)c->result_len);
        }
      }
      break;
    case CNV_DONE_EXPIRED:
      check(c->status == CNV_ERT_EXPIRED, "expired status", c->status, 0);
      break;
    case CNV_DONE_CANCELLED:
      check(c->status != CNV_ERT_ABANDONED, "abandoned before stop", c->status, 0);
      break;
    default:
      die("not run before stop", c->kind, c->status); /* nothing is unregistered or stopped */
  }
  __atomic_fetch_add(&q->done, 1, __ATOMIC_ACQ_REL);
}

static void on_done(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  complete(c);
}

static void drain_cq(void) {
  static uint8_t buf[MAX_RESULT];
  while (cq_pending > 0) {
    cnv_runtime_completion c;
    cnv_status st = cnv_runtime_cq_wait(R.cq, -1, &c, buf, sizeof buf);
    check(st == CNV_OK, "cq_wait", st, 0);
    complete(&c);
    cq_pending--;
  }
  cnv_runtime_completion c;
  cnv_status st = cnv_runtime_cq_poll(R.cq, &c, buf, sizeof buf);
  check(st == CNV_EEMPTY, "cq holds more than was accepted", st, 0);
}

/* ---- the input ---- */

typedef struct in {
  const uint8_t *p;
  size_t n;
} in;

static uint8_t u8(in *x) {
  if (x->n == 0) return 0;
  x->n--;
  return *x->p++;
}

static void move_phase(void) {
  cnv_phase p = cnv_runtime_phase(R.rt);
  cnv_status st = CNV_OK;
  if (p == CNV_PHASE_OPERATIONAL) {
    st = cnv_runtime_transition(R.rt, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED);
  } else if (p == CNV_PHASE_DEGRADED) {
    st = cnv_runtime_transition(R.rt, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY);
    if (st == CNV_OK) st = cnv_runtime_transition(R.rt, CNV_PHASE_RECOVERY, CNV_PHASE_OPERATIONAL);
  } else if (p == CNV_PHASE_RECOVERY) {
    st = cnv_runtime_transition(R.rt, CNV_PHASE_RECOVERY, CNV_PHASE_OPERATIONAL);
  }
  /* the breaker may have moved the phase meanwhile (a stale move): any phase that admits
   * work is fine, so the status only matters when it is not a phase error */
  check(st == CNV_OK || st == CNV_EPHASE_STALE || st == CNV_EPHASE_ILLEGAL, "transition", st, p);
}

static void policy_move(uint8_t t, uint8_t vary) {
  if (t == 0xAA) {
    check(cnv_runtime_revoke(R.rt, R.doomed) == CNV_OK, "revoke", 0, 0);
  } else if (t & 1) {
    uint8_t h[CNV_DELEG_HASH_BYTES];
    memset(h, 0x5C, sizeof h); /* a hash no link here has */
    h[0] = t;
    h[1] = vary;
    check(cnv_runtime_revoke(R.rt, h) == CNV_OK, "revoke", 0, 0);
  } else {
    move_phase();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  R.input++;
  n_recs = 0;
  cq_pending = 0;
  cnv_runtime_stats before, after;
  stats(&before);
  uint64_t ok = 0, full = 0, denied[CNV_RT_DENY_COUNT] = {0};
  in x = {data, size};
  while (x.n > 0 && n_recs < MAX_RECORDS) {
    uint8_t op = u8(&x), ai = u8(&x), t = u8(&x), pi = u8(&x), len = u8(&x);
    if (op & 0x20) {
      policy_move(t, pi);
      continue;
    }
    rec *q = &Q[n_recs];
    memset(q, 0, sizeof *q);
    size_t pl = pi < N_PREFIXES ? strlen(prefixes[pi]) : 0;
    memcpy(q->line, pi < N_PREFIXES ? prefixes[pi] : "", pl);
    size_t n = len < x.n ? len : x.n;
    memcpy(q->line + pl, x.p, n);
    x.p += n;
    x.n -= n;
    q->line_len = pl + n;
    uint32_t agent = ai < N_AGENTS ? R.agent[ai] : ai == 0xff ? UINT32_MAX
                                                              : (uint32_t)ai * 977u;
    cnv_runtime_submit_opts o;
    memset(&o, 0, sizeof o);
    o.correlation = (R.input << 32) | n_recs;
    o.low_priority = (op >> 2) & 1;
    if (op & 0x10) {
      o.trace = &R.trace;
      q->traced = true;
    }
    switch (op >> 6) {
      case 1:
        o.timeout_ns = (uint64_t)t * 1000u + 1;
        break;
      case 2:
        o.timeout_ns = (uint64_t)t * MS + 1;
        break;
      case 3:
        o.timeout_ns = UINT64_MAX;
        break;
      default:
        break;
    }
    unsigned mode = op & 3;
    if (mode <= 1) {
      o.on_done = on_done;
    } else if (mode == 2) {
      o.cq = R.cq;
    }
    n_recs++;
    uint64_t ticket = 0;
    cnv_status st;
    cnv_runtime_completion out;
    static uint8_t buf[MAX_RESULT];
    /* the record is published before the submit: a callback may run before it returns */
    q->accepted = true;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (mode == 3) {
      st = cnv_runtime_invoke(R.rt, agent, q->line, q->line_len, &o, &out, buf, sizeof buf);
    } else {
      st = cnv_runtime_submit_ex(R.rt, agent, q->line, q->line_len, &o, &ticket);
    }
    if (st == CNV_OK) {
      ok++;
      if (mode == 3) {
        complete(&out);
      } else if (mode == 2) {
        cq_pending++;
      }
      if ((op & 8) && mode != 3) {
        cnv_status cs = cnv_runtime_cancel(R.rt, ticket);
        check(cs == CNV_OK || cs == CNV_ENOTFOUND, "cancel", cs, 0);
      }
      if (o.timeout_ns > 500 * MS) die("accepted a timeout beyond every class's limit", (long)o.timeout_ns, 0);
      continue;
    }
    q->accepted = false;
    int reason = cnv_runtime_denial_of(st);
    if (reason >= 0) {
      denied[reason]++;
    } else if (st == CNV_EFULL) {
      full++;
      if (mode == 2) drain_cq(); /* make room */
    } else if (st == CNV_ERANGE) {
      check(o.timeout_ns > 1 * MS, "CNV_ERANGE for a timeout within every limit", (long)o.timeout_ns, 0);
    } else {
      die("unexpected submit status", st, (long)q->line_len);
    }
  }
  /* every accepted one completes, exactly once */
  drain_cq();
  for (unsigned i = 0; i < n_recs; i++) {
    if (!Q[i].accepted) continue;
    while (__atomic_load_n(&Q[i].done, __ATOMIC_ACQUIRE) == 0) sched_yield();
  }
  stats(&after);
  while (after.in_queue != 0) {
    sched_yield();
    stats(&after);
  }
  for (unsigned i = 0; i < n_recs; i++) {
    unsigned d = __atomic_load_n(&Q[i].done, __ATOMIC_ACQUIRE);
    check(d == (Q[i].accepted ? 1u : 0u), "completions of a record", (long)i, (long)d);
  }
  check(after.accepted - before.accepted == ok, "accepted", (long)(after.accepted - before.accepted), (long)ok);
  uint64_t completed = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) completed += after.completed[k] - before.completed[k];
  check(completed == ok, "completed", (long)completed, (long)ok);
  uint64_t dsum = 0;
  for (int r = 0; r < CNV_RT_DENY_COUNT; r++) {
    check(after.denied[r] - before.denied[r] == denied[r], cnv_runtime_denial_name(r),
          (long)(after.denied[r] - before.denied[r]), (long)denied[r]);
    dsum += denied[r];
  }
  check(after.denied_total - before.denied_total == dsum, "denied_total", (long)(after.denied_total - before.denied_total),
        (long)dsum);
  check(after.full - before.full == full, "full", (long)(after.full - before.full), (long)full);
  /* leave the next input an Operational swarm when the input left it Degraded */
  if (cnv_runtime_phase(R.rt) != CNV_PHASE_OPERATIONAL) move_phase();
  return 0;
}
