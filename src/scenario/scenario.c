/* The built-in scenario behind `cnv swarm run`: a swarm of agents with tokens of every kind,
 * a seeded invocation mix, a failure burst that trips the breaker, an operator's algedonic
 * signal, and a clean shutdown. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/atomic.h"
#include "core/ignore.h"
#include "sc_internal.h"
#include "scenario.h"

#define SC_MIN_AGENTS CNV__SC_KINDS
#define SC_MIN_COUNT 1000u
#define SC_LINE_MAX 512u
#define MS 1000000u
#define SC_STOP_TIMEOUT_NS (5000ull * MS) /* stop's timeout: far above any handler's time here */

/* The capabilities of the line mix. refused: a valid agent token refuses it (user.delete is
 * forbidden; data.export and net.fetch need effects beyond the token's ceiling:
 * cnv__sc_caveats_valid). cls: the duration class. None of them is FAST_PATH: that class's
 * 1 ms limit also bounds the time a line waits in the queue, which a flood like this one
 * often passes on a busy machine; SC_PROBE (below) is FAST_PATH instead, sent only by the
 * rate-limited agent to an idle queue. */
static const struct {
  const char *path;
  cnv_effects effects;
  int refused;
  int32_t cls;
} sc_caps[] = {
    {"user.read", CNV_EFFECT_READ_ONLY, 0, CNV_DURATION_INTERACTIVE},
    {"user.create", CNV_EFFECT_MUTATE_STATE, 0, CNV_DURATION_INTERACTIVE},
    {"user.update", CNV_EFFECT_MUTATE_STATE | CNV_EFFECT_IDEMPOTENT, 0, CNV_DURATION_INTERACTIVE},
    {"user.delete", CNV_EFFECT_MUTATE_STATE, 1, CNV_DURATION_INTERACTIVE},
    {"fleet.node.status", CNV_EFFECT_READ_ONLY, 0, CNV_DURATION_INTERACTIVE},
    {"fleet.node.drain", CNV_EFFECT_MUTATE_STATE, 0, CNV_DURATION_USER_INITIATED},
    {"data.query", CNV_EFFECT_READ_ONLY, 0, CNV_DURATION_INTERACTIVE},
    {"data.export", CNV_EFFECT_READ_ONLY | CNV_EFFECT_STORAGE, 1, CNV_DURATION_BATCH},
    {"net.ping", CNV_EFFECT_READ_ONLY, 0, CNV_DURATION_INTERACTIVE},
    {"net.fetch", CNV_EFFECT_NETWORK, 1, CNV_DURATION_USER_INITIATED},
    {"log.append", CNV_EFFECT_MUTATE_STATE, 0, CNV_DURATION_INTERACTIVE},
    {"log.read", CNV_EFFECT_READ_ONLY, 0, CNV_DURATION_INTERACTIVE}};
#define SC_NCAPS (sizeof sc_caps / sizeof sc_caps[0])

/* The FAST_PATH capability of the rate-limited agent's lines (a valid token allows net.*),
 * and how long its runs work: past the class's 100 us target. */
#define SC_PROBE "net.probe"
#define SC_PROBE_NS 150000u

/* The late line: an interactive capability asked for a 100 ms deadline, whose handler sleeps
 * until 1 ms past it (a deadline overrun on purpose; the deadline leaves a stalled machine
 * ample time to start it). */
#define SC_LATE_LINE "data.query --id=0 --late"
#define SC_LATE_TIMEOUT_NS (100u * MS)

static const char *const sc_malformed[] = {"user..read", "User.Read --id=1", "",
                                           "user.read \"open", "user.read --=3"};

/* The capability with typed arguments: its --id must be an integer (other flags pass), so
 * SC_UNFIT_LINE, well formed, is denied for its arguments. */
#define SC_TYPED "user.update"
#define SC_UNFIT_LINE SC_TYPED " --id=first"
static const cnv_arg_spec sc_typed_args[] = {{.name = "id", .type = CNV_ARGT_INTEGER, .flags = CNV_ARGF_REQUIRED}};
static const cnv_parse_schema sc_typed_schema = {.args = sc_typed_args, .n_args = 1};

/* How one line asks to hear back (one draw of the PRNG per line outside the burst). */
enum {
  SC_PLAIN = 0,  /* cnv_runtime_submit_ex without a callback: the completion is only counted */
  SC_ANSWER = 1, /* a completion callback, a correlation id, and a traceparent for half */
  SC_CANCEL = 2, /* --hold (its handler waits for a cancel), a callback, cancelled at once */
  SC_EXPIRE = 3  /* a callback and a 1 ns timeout: the deadline passes in the queue */
};

/* What the completion callback counts (on worker threads, and on the thread in stop).
 * Relaxed adds: each counter is read after cnv_runtime_stop, which joins every thread that
 * is not stuck in a handler (the join orders the adds before the reads); a stuck worker
 * runs no callback. */
typedef struct sc_heard {
  _Atomic uint64_t by_kind[CNV_DONE_COUNT];
  _Atomic uint64_t mismatched; /* ran and succeeded, but the result lacks its correlation id */
} sc_heard;

typedef struct sc_run {
  cnv_scenario_config cfg;
  cnv_runtime *rt;
  uint64_t prng;
  uint64_t t_start;
  uint64_t next_progress;
  int cancelled; /* *cfg.cancel was seen non-zero */
  uint32_t agents_ready;
  uint32_t throttled;                     /* the rate-limited agent's handle */
  uint64_t burst_accepted;                /* accepted lines of the failure burst: each fails */
  uint64_t unexpected[CNV_RT_DENY_COUNT]; /* denials of lines meant to pass */
  uint64_t lines;                         /* lines submitted: the correlation ids */
  uint64_t callbacks;                     /* accepted with a completion callback */
  uint64_t cancels;                       /* cancel requests that took */
  sc_heard heard;
} sc_run;

uint64_t cnv__sc_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cnv_scenario_config_default(cnv_scenario_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->agents = 32;
  cfg->workers = 2;
  cfg->duration_ms = 3000;
  cfg->queue_capacity = 4096;
  cfg->progress_interval_ms = 100;
}

static int ends_with(const cnv_runtime_call *c, const char *flag) {
  size_t n = strlen(flag);
  return c->line_len >= n && memcmp(c->line + c->line_len - n, flag, n) == 0;
}

/* Writes the text result "<path> <what><n>"; the write's status (these results are far
 * below max_result). */
static cnv_status sc_answer(cnv_runtime_result *res, const cnv_runtime_call *c, const char *what,
                            uint64_t n) {
  char text[96];
  int len = snprintf(text, sizeof text, "%.*s %s%llu", (int)c->path_len, c->path, what,
                     (unsigned long long)n);
  return cnv_runtime_result_write(res, text, len > 0 ? (size_t)len : 0);
}

/* Works (spins) for `ns` from t0; returns the time it took. */
static uint64_t sc_work(uint64_t t0, uint64_t ns) {
  uint64_t now;
  while ((now = cnv_runtime_now_ns()) - t0 < ns) {}
  return now - t0;
}

/* Every capability's handler. The burst's lines (flag --fail) fail with CNV_EAGAIN, as a
 * backend that went away would; --hold lines wait, cooperatively, for their cancel (or
 * their deadline); SC_PROBE lines work SC_PROBE_NS (past FAST_PATH's 100 us target); the
 * --late line sleeps until 1 ms past its deadline; the others answer
 * "<path> ok corr=<correlation id>". */
static cnv_status sc_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *res) {
  (void)ctx;
  if (c->path_len == strlen(SC_PROBE) && memcmp(c->path, SC_PROBE, c->path_len) == 0) {
    return sc_answer(res, c, "worked ns=", sc_work(cnv_runtime_now_ns(), SC_PROBE_NS));
  }
  if (ends_with(c, " --late")) {
    struct timespec ms = {0, MS};
    while (cnv_runtime_now_ns() <= c->deadline_ns + MS) nanosleep(&ms, NULL);
    return sc_answer(res, c, "late by ns=", cnv_runtime_now_ns() - c->deadline_ns);
  }
  if (ends_with(c, " --fail")) {
    /* the status returned is the answer; the text only adds to it */
    cnv__ignore_status(sc_answer(res, c, "failed (injected) seq=", c->seq));
    return CNV_EAGAIN;
  }
  if (ends_with(c, " --hold")) {
    uint64_t t0 = cnv_runtime_now_ns();
    while (!cnv_runtime_call_cancelled(c) && cnv_runtime_now_ns() < c->deadline_ns) sched_yield();
    return sc_answer(res, c, "stopped after ns=", cnv_runtime_now_ns() - t0);
  }
  return sc_answer(res, c, "ok corr=", c->correlation);
}

/* The completion callback of SC_ANSWER, SC_CANCEL and SC_EXPIRE lines: counts the kind and
 * checks that a successful run's result carries the line's correlation id. */
static void sc_heard_fn(void *ctx, const cnv_runtime_completion *c) {
  sc_heard *h = ctx;
  if (c->kind >= 0 && c->kind < CNV_DONE_COUNT) cnv__fetch_add_relaxed(&h->by_kind[c->kind], 1);
  if (c->kind != CNV_DONE_RAN || c->status != CNV_OK || c->content_type != CNV_CONTENT_TEXT) return;
  char want[32];
  int n = snprintf(want, sizeof want, " ok corr=%llu", (unsigned long long)c->correlation);
  size_t w = n > 0 ? (size_t)n : 0;
  if (c->result_len < w || memcmp(c->result + c->result_len - w, want, w) != 0) {
    cnv__fetch_add_relaxed(&h->mismatched, 1);
  }
}

/* Latches a cancel request. Relaxed: the flag guards no other data, and a late sighting
 * only delays the stop by one poll. */
static int cancel_requested(sc_run *r) {
  if (!r->cancelled && r->cfg.cancel &&
      cnv__load_relaxed(r->cfg.cancel) != 0) {
    r->cancelled = 1;
  }
  return r->cancelled;
}

static void progress_maybe(sc_run *r) {
  if (!r->cfg.progress) return;
  uint64_t now = cnv__sc_now_ns();
  if (now < r->next_progress) return;
  r->next_progress = now + (uint64_t)r->cfg.progress_interval_ms * MS;
  cnv_runtime_stats s;
  cnv__ignore_status(cnv_runtime_stats_get(r->rt, &s)); /* fails on NULL only */
  cnv_scenario_progress p = {.elapsed_ns = now - r->t_start, .submitted = s.submitted, .accepted = s.accepted, .executed = s.executed, .denied = s.denied_total, .full = s.full, .failed = s.failed, .phase = s.phase};
  p.throughput = p.elapsed_ns ? (double)s.executed * 1e9 / (double)p.elapsed_ns : 0;
  r->cfg.progress(r->cfg.progress_ctx, &p);
}

/* Most traffic comes from agents with valid tokens (a bad token costs a full signature
 * check on every submit: verdicts of failing chains are not cached); one line in ten
 * comes from any agent. */
static uint32_t pick_agent(const sc_run *r, uint64_t x) {
  static const uint32_t valid[] = {0, 1, 2, 9};
  if (x % 10u != 0) {
    uint32_t groups = r->cfg.agents / CNV__SC_KINDS;
    return (uint32_t)((x / 10u) % groups) * CNV__SC_KINDS + valid[(x / 40u) % 4u];
  }
  return (uint32_t)((x / 10u) % r->cfg.agents);
}

/* One generated line into buf; *agent gets the submitter, *meant_denied whether the line is
 * built to be denied (malformed, unfit for its schema, unknown capability, too long, unknown
 * agent, a capability a valid token refuses, or an agent whose token is bad). */
static size_t make_line(sc_run *r, int fail, int hold, char *buf, uint32_t *agent,
                        int *meant_denied) {
  uint64_t x = cnv__sc_next(&r->prng);
  uint32_t pick = (uint32_t)(x % 1000u), v = (uint32_t)(x >> 16) & 0xFFFFFFu;
  *agent = pick_agent(r, x >> 40);
  int n;
  *meant_denied = 1;
  if (pick < 10) {
    /* one in six is well formed but does not fit SC_TYPED's schema */
    n = snprintf(buf, SC_LINE_MAX, "%s", v % 6u < 5u ? sc_malformed[v % 6u] : SC_UNFIT_LINE);
  } else if (pick < 25) {
    n = snprintf(buf, SC_LINE_MAX, "ghost.cap%u --id=%u", v % 8u, v);
  } else if (pick < 27) {
    n = snprintf(buf, SC_LINE_MAX, "log.append --note=%0300u", v);
  } else {
    if (pick < 37) *agent = r->cfg.agents + 1u + v % 7u; /* past the rate-limited agent */
    *meant_denied = pick < 37 || sc_caps[v % SC_NCAPS].refused ||
                    cnv__sc_kind(*agent) != CNV__SC_VALID;
    n = snprintf(buf, SC_LINE_MAX, "%s --id=%u%s", sc_caps[v % SC_NCAPS].path, v,
                 fail ? " --fail" : hold ? " --hold"
                                         : "");
  }
  return n > 0 ? (size_t)n : 0;
}

/* The options of one line outside the burst: one line in 128 is cancelled right after its
 * submit, one in 128 gets a 1 ns timeout, a quarter of the rest get a completion callback
 * (half of those a traceparent too), the others none; one in 8 of those others, when meant
 * to pass, goes to the low lane (shed while the swarm is Degraded: only lines without a
 * callback, so that what the callbacks hear does not depend on how long the swarm stays
 * Degraded). *mode gets the SC_* mode. */
static void line_opts(sc_run *r, uint64_t m, cnv_trace *trace, cnv_runtime_submit_opts *o,
                      int *mode) {
  memset(o, 0, sizeof *o);
  *mode = m % 128u == 0 ? SC_CANCEL : m % 128u == 1    ? SC_EXPIRE
                                  : (m >> 8) % 4u == 0 ? SC_ANSWER
                                                       : SC_PLAIN;
  o->correlation = ++r->lines;
  o->low_priority = *mode == SC_PLAIN && (m >> 16) % 8u == 0;
  if (*mode == SC_EXPIRE) o->timeout_ns = 1;
  if (*mode != SC_PLAIN) {
    o->on_done = sc_heard_fn;
    o->done_ctx = &r->heard;
  }
  if (*mode == SC_ANSWER && (m >> 24) % 2u == 0) {
    uint64_t a = m | 1u, b = cnv__sc_next(&r->prng) | 1u; /* never all zero */
    memset(trace, 0, sizeof *trace);
    trace->present = 1;
    trace->flags = 1;
    memcpy(trace->trace_id, &a, 8);
    memcpy(trace->trace_id + 8, &b, 8);
    memcpy(trace->parent_id, &b, 8);
    o->trace = trace;
  }
}

/* Submits one line, retrying while the queue is full (backpressure) unless cancelled, and
 * sorts its outcome: an accepted burst line is a failure on purpose; a denial is expected
 * when the line is meant to be denied, the phase refuses work (the operator's Emergency),
 * or a low-lane line is shed. */
static cnv_status submit_one(sc_run *r, int fail) {
  char line[SC_LINE_MAX];
  uint32_t agent;
  int meant_denied, mode = SC_PLAIN;
  cnv_runtime_submit_opts o;
  cnv_trace trace;
  memset(&o, 0, sizeof o);
  if (!fail) line_opts(r, cnv__sc_next(&r->prng), &trace, &o, &mode);
  size_t len = make_line(r, fail, mode == SC_CANCEL, line, &agent, &meant_denied);
  if (meant_denied) o.low_priority = 0;
  cnv_status st;
  uint64_t ticket = 0;
  while ((st = cnv_runtime_submit_ex(r->rt, agent, line, len, &o, &ticket)) == CNV_EFULL) {
    progress_maybe(r);
    if (cancel_requested(r)) return CNV_OK;
    sched_yield();
  }
  int reason = cnv_runtime_denial_of(st);
  if (st == CNV_OK) {
    r->burst_accepted += (uint64_t)fail;
    r->callbacks += o.on_done != NULL;
    r->cancels += mode == SC_CANCEL && cnv_runtime_cancel(r->rt, ticket) == CNV_OK;
  } else if (reason >= 0 && !meant_denied && reason != CNV_RT_DENY_PHASE &&
             !(reason == CNV_RT_DENY_SHED && o.low_priority)) {
    r->unexpected[reason]++;
  }
  return st == CNV_OK || reason >= 0 ? CNV_OK : st;
}

/* The rate-limited agent sends CNV__SC_RATE_LINES SC_PROBE lines in a row, each through
 * cnv_runtime_invoke (to a drained queue, one at a time, so that queueing stays far inside
 * FAST_PATH's 1 ms limit): its bucket lets the first CNV__SC_RATE_BURST through, the rest are
 * denied for the rate (expected). The runs overrun the class's target on purpose. Then agent
 * 0 (valid) invokes the late line, which overruns its deadline (and completes as expired) on
 * purpose. */
static cnv_status sc_throttled(sc_run *r) {
  char line[64], answer[128];
  for (uint32_t i = 0; i < CNV__SC_RATE_LINES && !cancel_requested(r); i++) {
    int n = snprintf(line, sizeof line, SC_PROBE " --id=%u", i);
    cnv_runtime_completion c;
    cnv_status st;
    while ((st = cnv_runtime_invoke(r->rt, r->throttled, line, (size_t)n, NULL, &c, answer,
                                    sizeof answer)) == CNV_EFULL) {
      sched_yield();
    }
    int reason = cnv_runtime_denial_of(st);
    if (reason >= 0 && reason != CNV_RT_DENY_RATE) r->unexpected[reason]++;
    if (st != CNV_OK && reason < 0) return st;
  }
  if (cancel_requested(r)) return CNV_OK;
  cnv_runtime_submit_opts o = {.timeout_ns = SC_LATE_TIMEOUT_NS};
  cnv_runtime_completion c;
  cnv_status st;
  while ((st = cnv_runtime_invoke(r->rt, 0, SC_LATE_LINE, strlen(SC_LATE_LINE), &o, &c, answer,
                                  sizeof answer)) == CNV_EFULL) {
    sched_yield();
  }
  int reason = cnv_runtime_denial_of(st);
  if (reason >= 0) r->unexpected[reason]++;
  return st == CNV_OK || reason >= 0 ? CNV_OK : st;
}

/* Submits `lines` lines (ns == 0) or for `ns` nanoseconds. */
static cnv_status stage(sc_run *r, uint64_t lines, uint64_t ns, int fail) {
  uint64_t end = cnv__sc_now_ns() + ns;
  for (uint64_t i = 0; ns == 0 ? i < lines : 1; i++) {
    if ((i & 63u) == 0) {
      progress_maybe(r);
      if (cancel_requested(r) || (ns && cnv__sc_now_ns() >= end)) break;
    }
    cnv_status st = submit_one(r, fail);
    if (st != CNV_OK) return st;
  }
  return CNV_OK;
}

static int queue_empty(const cnv_runtime *rt) {
  cnv_runtime_stats s;
  cnv__ignore_status(cnv_runtime_stats_get(rt, &s)); /* fails on NULL only */
  return s.in_queue == 0;
}

/* Waits (bounded, and not once cancelled) until the phase is `phase`, or, for phase < 0,
 * the queue is empty. */
static void wait_for(sc_run *r, int phase, uint64_t timeout_ns) {
  uint64_t end = cnv__sc_now_ns() + timeout_ns;
  struct timespec ms = {0, 1000000};
  while (cnv__sc_now_ns() < end && !cancel_requested(r)) {
    if (phase >= 0 ? (int)cnv_runtime_phase(r->rt) == phase : queue_empty(r->rt)) return;
    progress_maybe(r);
    nanosleep(&ms, NULL);
  }
}

static cnv_status sc_config(const cnv_scenario_config *in, cnv_scenario_config *c) {
  cnv_scenario_config d;
  cnv_scenario_config_default(&d);
  *c = in ? *in : d;
  if (!c->agents) c->agents = d.agents;
  if (!c->workers) c->workers = d.workers;
  if (!c->duration_ms) c->duration_ms = d.duration_ms;
  if (!c->queue_capacity) c->queue_capacity = d.queue_capacity;
  if (!c->progress_interval_ms) c->progress_interval_ms = d.progress_interval_ms;
  if (c->agents < SC_MIN_AGENTS || (c->count && c->count < SC_MIN_COUNT)) return CNV_ERT_CONFIG;
  return CNV_OK;
}

/* The agent setup's tick: reports progress and honours the cancel (after the report, so
 * that a cancel from the setup callback stops before the next agent). */
static int setup_tick(void *ctx, uint32_t ready) {
  sc_run *r = ctx;
  uint64_t now = r->cfg.setup ? cnv__sc_now_ns() : 0;
  if (r->cfg.setup && (ready == 0 || now >= r->next_progress)) {
    r->next_progress = now + (uint64_t)r->cfg.progress_interval_ms * MS;
    r->cfg.setup(r->cfg.progress_ctx, ready, r->cfg.agents);
  }
  return cancel_requested(r);
}

static cnv_status sc_runtime(sc_run *r) {
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.workers = r->cfg.workers;
  rc.queue_capacity = r->cfg.queue_capacity;
  rc.max_agents = r->cfg.agents + 1; /* and the rate-limited agent */
  rc.breaker = (cnv_breaker_config){.upper = 0.5, .lower = 0.1, .window_ns = 100u * MS, .buckets = 10, .min_samples = 20, .cooldown_ns = 100u * MS};
  rc.variety_threshold_bits = 2.0;
  rc.ledger = r->cfg.ledger;
  cnv_status st = cnv_runtime_create(&rc, &r->rt);
  for (size_t i = 0; st == CNV_OK && i < SC_NCAPS; i++) {
    const cnv_parse_schema *schema = strcmp(sc_caps[i].path, SC_TYPED) == 0 ? &sc_typed_schema : NULL;
    cnv_runtime_handler_spec spec = {.effects = sc_caps[i].effects, .cls = sc_caps[i].cls, .fn = sc_handler, .ctx = NULL, .schema = schema};
    st = cnv_runtime_register(r->rt, sc_caps[i].path, strlen(sc_caps[i].path), &spec);
  }
  cnv_runtime_handler_spec probe = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_FAST_PATH, .fn = sc_handler, .ctx = NULL};
  if (st == CNV_OK) st = cnv_runtime_register(r->rt, SC_PROBE, strlen(SC_PROBE), &probe);
  if (st != CNV_OK) return st;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  st = cnv__sc_agents_add(r->rt, r->cfg.seed, r->cfg.agents, rc.swarm_id, (uint64_t)ts.tv_sec,
                          setup_tick, r, &r->agents_ready, &r->throttled);
  if (st == CNV_OK && !r->cancelled && r->cfg.setup) {
    r->cfg.setup(r->cfg.progress_ctx, r->agents_ready, r->cfg.agents);
  }
  r->next_progress = 0;
  return st;
}

/* Normal traffic, the failure burst, recovery, the operator's pain signal, recovery. Each
 * step returns early once cancelled (stage and wait_for poll the cancel). */
static cnv_status sc_stages(sc_run *r) {
  uint64_t n = r->cfg.count, d = n ? 0 : (uint64_t)r->cfg.duration_ms * MS;
  uint64_t n1 = n * 4 / 10, nb = n / 10, ne = n ? n / 100 : 1000;
  uint64_t n3 = n ? n - n1 - nb - ne - CNV__SC_RATE_LINES - 1 : 0; /* and the late line */
  cnv_status st = stage(r, n1, d * 4 / 10, 0);
  if (st != CNV_OK) return st;
  wait_for(r, -1, 2000u * MS);
  if ((st = sc_throttled(r)) != CNV_OK) return st;
  if (cancel_requested(r)) return CNV_OK;
  struct timespec window = {0, 100 * 1000000};
  nanosleep(&window, NULL); /* the breaker window then holds the burst alone */
  if ((st = stage(r, nb, d / 10, 1)) != CNV_OK) return st;
  wait_for(r, CNV_PHASE_DEGRADED, 2000u * MS);
  if ((st = stage(r, n3, d / 2, 0)) != CNV_OK) return st;
  wait_for(r, CNV_PHASE_OPERATIONAL, 3000u * MS);
  if (cancel_requested(r)) return CNV_OK;
  if ((st = cnv_runtime_raise_algedonic(r->rt, CNV_ALGEDONIC_OPERATOR)) != CNV_OK) return st;
  if ((st = stage(r, ne, 0, 0)) != CNV_OK) return st;
  st = cnv_runtime_transition(r->rt, CNV_PHASE_EMERGENCY, CNV_PHASE_RECOVERY);
  if (st != CNV_OK) return st;
  wait_for(r, CNV_PHASE_OPERATIONAL, 3000u * MS);
  return CNV_OK;
}

/* Expected and unexpected failures and denials (scenario.h). */
static void sc_sort_outcomes(const sc_run *r, const cnv_runtime_stats *s,
                             cnv_scenario_report *out) {
  out->failed_expected = s->failed < r->burst_accepted ? s->failed : r->burst_accepted;
  /* the rest: runs past their deadline (each counts as failed; at most the deadline
   * overruns), then the unexpected */
  uint64_t rest = s->failed - out->failed_expected, late = 0;
  for (int c = 0; c < CNV_DURATION_COUNT; c++) late += s->over_deadline[c];
  out->failed_late = rest < late ? rest : late;
  out->failed_unexpected = rest - out->failed_late;
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    uint64_t u = r->unexpected[i] < s->denied[i] ? r->unexpected[i] : s->denied[i];
    out->denied_unexpected_by[i] = u;
    out->denied_unexpected += u;
  }
  out->denied_expected = s->denied_total - out->denied_unexpected;
}

/* The report's header: how the run ended (`cancelled_end` if cancelled) and its
 * configuration. */
static void sc_report_head(const sc_run *r, int32_t cancelled_end, cnv_scenario_report *out) {
  memset(out, 0, sizeof *out);
  out->end = r->cancelled ? cancelled_end : CNV_SCENARIO_COMPLETE;
  out->agents_ready = r->agents_ready;
  out->seed = r->cfg.seed;
  out->agents = r->cfg.agents;
  out->workers = r->cfg.workers;
  out->final_phase = CNV_PHASE_BOOTSTRAP;
}

static void sc_report(sc_run *r, cnv_scenario_report *out) {
  cnv_runtime_stats s;
  cnv_runtime_variety v;
  cnv__ignore_status(cnv_runtime_stats_get(r->rt, &s)); /* fails on NULL only */
  sc_report_head(r, CNV_SCENARIO_CANCELLED_RUN, out);
  out->elapsed_ns = cnv__sc_now_ns() - r->t_start;
  out->throughput = out->elapsed_ns ? (double)s.executed * 1e9 / (double)out->elapsed_ns : 0;
  out->latency_p50_ns = s.latency_p50_ns;
  out->latency_p99_ns = s.latency_p99_ns;
  out->latency_p999_ns = s.latency_p999_ns;
  out->submitted = s.submitted;
  out->accepted = s.accepted;
  out->executed = s.executed;
  out->failed = s.failed;
  out->full = s.full;
  out->invalid = s.invalid;
  out->denied_total = s.denied_total;
  memcpy(out->denied, s.denied, sizeof out->denied);
  memcpy(out->completed, s.completed, sizeof out->completed);
  memcpy(out->over_target, s.over_target, sizeof out->over_target);
  memcpy(out->over_deadline, s.over_deadline, sizeof out->over_deadline);
  out->stuck_workers = s.stuck_workers;
  out->callbacks = r->callbacks;
  for (int k = 0; k < CNV_DONE_COUNT; k++) {
    out->callbacks_heard[k] = cnv__load_relaxed(&r->heard.by_kind[k]);
  }
  out->results_mismatched = cnv__load_relaxed(&r->heard.mismatched);
  out->cancels = r->cancels;
  sc_sort_outcomes(r, &s, out);
  /* every pointer is valid and the capacity non-zero: the copy cannot fail */
  cnv__ignore_status(cnv_runtime_timeline(r->rt, out->timeline, CNV_SCENARIO_TIMELINE_MAX,
                                          &out->n_timeline, &out->timeline_dropped));
  out->final_phase = s.phase;
  if (cnv_runtime_variety_get(r->rt, &v) == CNV_OK) {
    out->distinct_capabilities = v.distinct;
    out->variety_bits = v.bits;
    out->entropy_bits = v.entropy;
    out->regulator_bits = v.regulator_bits;
    out->deficit_bits = v.deficit_bits;
  }
  out->algedonic_signals = s.algedonic_signals;
}

cnv_status cnv_scenario_run(const cnv_scenario_config *cfg, cnv_scenario_report *out) {
  if (!out) return CNV_EINVAL;
  sc_run r;
  memset(&r, 0, sizeof r);
  cnv_status st = sc_config(cfg, &r.cfg);
  if (st != CNV_OK) return st;
  r.prng = r.cfg.seed;
  st = sc_runtime(&r);
  if (st == CNV_OK && r.cancelled) {
    sc_report_head(&r, CNV_SCENARIO_CANCELLED_SETUP, out);
    cnv_runtime_destroy(r.rt);
    return CNV_OK;
  }
  if (st == CNV_OK) {
    r.t_start = cnv__sc_now_ns();
    st = cnv_runtime_start(r.rt);
  }
  if (st == CNV_OK) st = sc_stages(&r);
  /* CNV_ERT_STUCK still gives a report: it names the stuck workers' count */
  if (st == CNV_OK) st = cnv_runtime_stop(r.rt, SC_STOP_TIMEOUT_NS);
  if (st == CNV_ERT_STUCK) st = CNV_OK;
  if (st == CNV_OK) {
    sc_report(&r, out);
    if (r.cfg.metrics && !r.cancelled) {
      st = cnv_runtime_metrics_prometheus(r.rt, r.cfg.metrics, r.cfg.metrics_ctx);
    }
  }
  cnv_runtime_destroy(r.rt);
  return st;
}
