/* Attacks on the runtime's contracts (review of issue 14): stop with a "no limit" timeout,
 * stop against a slow monitor, completion callbacks that cancel and submit, stale and bogus
 * tickets after slot reuse, hostile submit options (completion-queue credits must not leak),
 * unregister racing running calls (the handler and its context are freed right after),
 * the completion queue's arm/push hand-off and parked workers' wake-ups under load, and a
 * worker stuck in a completion callback at stop. Durations appear only as generous bounds
 * on calls that must return by their timeout, and as pauses that help a race happen. */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "runtime/rt_fixture.h"

#define MS 1000000ull

static void pause_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
  nanosleep(&ts, NULL);
}

static rtf_gate gate;

/* t.gate: waits at the gate; answers "g". */
static cnv_status h_gate(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  rtf_gate_pass(&gate);
  return cnv_runtime_result_write(r, "g", 1);
}

/* t.quick: answers "q". */
static cnv_status h_quick(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  return cnv_runtime_result_write(r, "q", 1);
}

static const rtf_handler handlers[] = {{"t.gate", CNV_DURATION_LONG_RUNNING, h_gate, NULL},
                                       {"t.quick", CNV_DURATION_LONG_RUNNING, h_quick, NULL}};

/* The gate and box (box may be NULL) ready, a runtime of cfg (may be NULL) running t.gate and
 * t.quick; returns its agent. */
static uint32_t up(rtf *f, rtf_box *box, const cnv_runtime_config *cfg) {
  rtf_gate_init(&gate);
  if (box) rtf_box_init(box);
  return rtf_up(f, cfg, handlers, sizeof handlers / sizeof handlers[0], 0x41);
}

/* Stops (nothing held), checks the stopped figures, destroys the runtime, box and gate. */
static void down(rtf *f, rtf_box *box) {
  rtf_stop_destroy(f);
  if (box) rtf_box_destroy(box);
  rtf_gate_destroy(&gate);
}

/* ---- stop(UINT64_MAX): "no limit" must let a running handler finish ---- */

typedef struct opener {
  rtf *f;
  uint64_t pause;
} opener;

/* Opens the gate once the runtime is stopping, after a pause (so that a stop that gives up
 * at once has done so before the handler could return). */
static void *open_when_stopping(void *arg) {
  opener *o = arg;
  while (cnv_runtime_phase(o->f->rt) != CNV_PHASE_SHUTDOWN) sched_yield();
  pause_ns(o->pause);
  rtf_gate_open(&gate);
  return NULL;
}

static void test_stop_without_limit_lets_running_work_finish(void **state) {
  (void)state;
  rtf_box box;
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(1);
  uint32_t agent = up(&f, &box, &cfg);
  uint64_t running = 0, queued = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.gate", 0, 1, &box, &running), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 2, &box, &queued), CNV_OK);
  opener o = {.f = &f, .pause = 50 * MS};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, open_when_stopping, &o), 0);
  /* UINT64_MAX: wait as long as it takes. start + timeout must not wrap into "now". The
   * checks come after destroy, so that a failure leaves no thread behind. */
  cnv_status st = cnv_runtime_stop(f.rt, UINT64_MAX);
  assert_int_equal(pthread_join(t, NULL), 0);
  rtf_done run, next;
  rtf_box_get(&box, running, &run);
  rtf_box_get(&box, queued, &next);
  size_t n = 99;
  assert_int_equal(cnv_runtime_stuck(f.rt, NULL, 0, &n), CNV_OK);
  cnv_runtime_destroy(f.rt);
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
  assert_int_equal(st, CNV_OK);
  assert_int_equal(n, 0);
  assert_int_equal(run.c.kind, CNV_DONE_RAN);
  assert_int_equal(run.c.status, CNV_OK);
  assert_int_equal(run.c.result_len, 1);
  assert_int_equal(next.c.kind, CNV_DONE_RAN);
}

/* ---- stop returns by its timeout even when the monitor's period is long ---- */

static void test_stop_bounded_by_timeout_with_slow_monitor(void **state) {
  (void)state;
  rtf gate_f;
  cnv_runtime_config cfg;
  rtf_config(&cfg);
  cfg.tick_interval_ms = 20000; /* a valid configuration: one breaker tick each 20 s */
  (void)up(&gate_f, NULL, &cfg);
  uint64_t t0 = cnv_runtime_now_ns();
  assert_int_equal(cnv_runtime_stop(gate_f.rt, 100 * MS), CNV_OK);
  uint64_t took = cnv_runtime_now_ns() - t0;
  cnv_runtime_destroy(gate_f.rt);
  rtf_gate_destroy(&gate);
  /* a generous bound, far above the timeout and far below the monitor's period */
  assert_true(took < 5000 * MS);
}

/* ---- a completion callback that cancels and submits ---- */

typedef struct reenter {
  rtf *f;
  uint32_t agent;
  rtf_box *box;
  uint64_t victim; /* a queued ticket the callback cancels */
  cnv_status own_cancel, victim_cancel, submit;
  uint64_t submitted; /* the ticket the callback's submit got */
  atomic_int done;
} reenter;

static void cb_reenter(void *ctx, const cnv_runtime_completion *c) {
  reenter *r = ctx;
  r->own_cancel = cnv_runtime_cancel(r->f->rt, c->ticket);
  r->victim_cancel = cnv_runtime_cancel(r->f->rt, r->victim);
  r->submit = rtf_submit_box(r->f, r->agent, "t.quick", 0, 7, r->box, &r->submitted);
  atomic_store(&r->done, 1);
}

static void test_callback_cancels_and_submits(void **state) {
  (void)state;
  rtf_box box;
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(1);
  uint32_t agent = up(&f, &box, &cfg);
  uint64_t g = 0, low = 0, high = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.gate", 0, 1, &box, &g), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  /* low lane: runs after the high lane, so it is still queued when the callback runs */
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.low_priority = 1;
  o.on_done = rtf_box_done;
  o.done_ctx = &box;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &low), CNV_OK);
  reenter r = {.f = &f, .agent = agent, .box = &box, .victim = low};
  memset(&o, 0, sizeof o);
  o.on_done = cb_reenter;
  o.done_ctx = &r;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &high), CNV_OK);
  rtf_gate_open(&gate);
  rtf_box_wait(&box, 3); /* g, low (cancelled), the callback's submit */
  assert_int_equal(atomic_load(&r.done), 1);
  /* its own ticket is already completed while its callback runs */
  assert_int_equal(r.own_cancel, CNV_ENOTFOUND);
  assert_int_equal(r.victim_cancel, CNV_OK);
  assert_int_equal(r.submit, CNV_OK);
  rtf_done d;
  rtf_box_expect(&box, low, CNV_DONE_CANCELLED, CNV_ERT_CANCELLED, &d);
  assert_int_equal(d.c.worker, -1);
  rtf_box_expect(&box, r.submitted, CNV_DONE_RAN, CNV_OK, &d);
  assert_int_equal(d.c.correlation, 7);
  rtf_box_get(&box, g, &d);
  assert_int_equal(d.c.kind, CNV_DONE_RAN);
  /* completed tickets cancel nothing */
  assert_int_equal(cnv_runtime_cancel(f.rt, low), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(f.rt, high), CNV_ENOTFOUND);
  rtf_stop_destroy(&f);
  assert_int_equal(rtf_box_count(&box), 3); /* nothing delivered again by stop or destroy */
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
}

/* ---- stale and bogus tickets once slots are reused ---- */

static atomic_int saw_cancel = -1;

static cnv_status h_gate_note(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  rtf_gate_pass(&gate);
  atomic_store(&saw_cancel, cnv_runtime_call_cancelled(c) ? 1 : 0);
  return CNV_OK;
}

static void test_stale_tickets_after_slot_reuse(void **state) {
  (void)state;
  assert_int_equal(cnv_runtime_cancel(NULL, 1), CNV_EINVAL);
  rtf_gate_init(&gate);
  rtf_box box;
  rtf_box_init(&box);
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(1);
  cfg.queue_capacity = 2; /* two slots: every submit reuses one */
  rtf_create(&f, &cfg);
  /* before start: nothing is in flight */
  assert_int_equal(cnv_runtime_cancel(f.rt, (uint64_t)1 << 32), CNV_ENOTFOUND);
  rtf_register(&f, "t.quick", CNV_DURATION_LONG_RUNNING, h_quick, NULL);
  rtf_register(&f, "t.note", CNV_DURATION_LONG_RUNNING, h_gate_note, NULL);
  uint32_t agent = rtf_agent_start(&f, 0x42);
  uint64_t old[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(rtf_submit_box(&f, agent, "t.quick", 0, 1, &box, &old[i]), CNV_OK);
  }
  rtf_box_wait(&box, 2);
  (void)rtf_settled(f.rt);
  /* both slots are free again; the next invocation takes one of them */
  uint64_t cur = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.note", 0, 2, &box, &cur), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  assert_true((uint32_t)cur == (uint32_t)old[0] || (uint32_t)cur == (uint32_t)old[1]);
  for (int i = 0; i < 2; i++) assert_int_equal(cnv_runtime_cancel(f.rt, old[i]), CNV_ENOTFOUND);
  /* the running slot's later and earlier generations, its generation 0, other slots */
  uint32_t index = (uint32_t)cur, gen = (uint32_t)(cur >> 32);
  assert_int_equal(cnv_runtime_cancel(f.rt, (uint64_t)(gen + 1) << 32 | index), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(f.rt, (uint64_t)(gen - 1) << 32 | index), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(f.rt, index), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(f.rt, (uint64_t)gen << 32 | 2u), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(f.rt, (uint64_t)gen << 32 | UINT32_MAX), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(f.rt, UINT64_MAX), CNV_ENOTFOUND);
  rtf_gate_open(&gate);
  rtf_box_wait(&box, 3);
  rtf_box_expect(&box, cur, CNV_DONE_RAN, CNV_OK, NULL); /* no stale ticket reached it */
  assert_int_equal(atomic_load(&saw_cancel), 0);
  down(&f, &box);
}

/* ---- hostile options: nothing accepted, nothing leaked (completion-queue credits) ---- */

static void test_hostile_options_leak_nothing(void **state) {
  (void)state;
  rtf f, other;
  uint32_t agent = up(&f, NULL, NULL);
  /* an agent whose token allows nothing registered here */
  uint32_t stranger = rtf_agent_allowing(&f, 0x43, "u.*");
  rtf_create(&other, NULL);
  cnv_runtime_cq *cq = NULL, *foreign = NULL;
  assert_int_equal(cnv_runtime_cq_create(f.rt, 2, &cq), CNV_OK);
  assert_int_equal(cnv_runtime_cq_create(other.rt, 2, &foreign), CNV_OK);
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  uint64_t ticket = 0;
  o.cq = foreign; /* another runtime's queue */
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &ticket), CNV_EINVAL);
  o.cq = cq;
  o.on_done = rtf_box_done; /* both ways to hear */
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &ticket), CNV_EINVAL);
  o.on_done = NULL;
  char longline[300]; /* past max_line (232 by default) */
  memset(longline, 'a', sizeof longline);
  for (int i = 0; i < 100; i++) {
    o.timeout_ns = UINT64_MAX; /* beyond every class's limit */
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &ticket), CNV_ERANGE);
    o.timeout_ns = 0;
    assert_int_equal(cnv_runtime_submit_ex(f.rt, stranger, "t.quick", 7, &o, &ticket),
                     CNV_ERT_DENY_NOT_ALLOWED);
    assert_int_equal(cnv_runtime_submit_ex(f.rt, UINT32_MAX, "t.quick", 7, &o, &ticket),
                     CNV_ERT_DENY_UNKNOWN_AGENT);
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, longline, sizeof longline, &o, &ticket),
                     CNV_ERT_DENY_TOO_LONG);
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, NULL, 0, &o, &ticket), CNV_ERT_DENY_MALFORMED);
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.none", 6, &o, &ticket),
                     CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  }
  /* the queue's two credits are all still there, and no more */
  uint64_t t[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &t[i]), CNV_OK);
  }
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &ticket), CNV_EFULL);
  uint8_t buf[RTF_RESULT_MAX];
  cnv_runtime_completion c;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_runtime_cq_wait(cq, 10000, &c, buf, sizeof buf), CNV_OK);
    assert_true(c.ticket == t[0] || c.ticket == t[1]);
    assert_int_equal(c.kind, CNV_DONE_RAN);
  }
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, sizeof buf), CNV_EEMPTY);
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &ticket), CNV_OK);
  assert_int_equal(cnv_runtime_cq_wait(cq, 10000, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.ticket, ticket);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &s), CNV_OK);
  assert_int_equal(s.accepted, 3);
  assert_int_equal(s.full, 1);
  assert_int_equal(s.invalid, 2 + 100);
  assert_int_equal(s.denied_total, 5 * 100);
  rtf_check_stopped_stats(f.rt);
  cnv_runtime_destroy(f.rt);
  cnv_runtime_destroy(other.rt);
  cnv_runtime_cq_destroy(cq);
  cnv_runtime_cq_destroy(foreign);
  rtf_gate_destroy(&gate);
}

/* ---- unregister while calls run: the handler (and its context) are freed right after ---- */

#define FLIP_MAGIC 0x5eedf00dcafe1234ull

typedef struct flip_ctx {
  _Atomic uint64_t magic;
} flip_ctx;

static atomic_uint flip_bad, flip_runs;

static cnv_status h_flip(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)c;
  flip_ctx *x = ctx;
  if (atomic_load(&x->magic) != FLIP_MAGIC) atomic_fetch_add(&flip_bad, 1);
  for (int i = 0; i < 64; i++) sched_yield();
  /* still ours: unregister has not returned (it waits for this call) */
  if (atomic_load(&x->magic) != FLIP_MAGIC) atomic_fetch_add(&flip_bad, 1);
  atomic_fetch_add(&flip_runs, 1);
  return cnv_runtime_result_write(r, "f", 1);
}

typedef struct tally {
  atomic_uint by_kind[CNV_DONE_COUNT];
  atomic_uint other;
} tally;

static void cb_tally(void *ctx, const cnv_runtime_completion *c) {
  tally *t = ctx;
  if (c->kind >= 0 && c->kind < CNV_DONE_COUNT) {
    atomic_fetch_add(&t->by_kind[c->kind], 1);
  } else {
    atomic_fetch_add(&t->other, 1);
  }
}

typedef struct flipper {
  rtf *f;
  uint32_t agent;
  tally *t;
  atomic_int *stop;
  unsigned accepted;
} flipper;

static void *flip_submitter(void *arg) {
  flipper *p = arg;
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.on_done = cb_tally;
  o.done_ctx = p->t;
  while (!atomic_load(p->stop)) {
    if (cnv_runtime_submit_ex(p->f->rt, p->agent, "t.flip", 6, &o, NULL) == CNV_OK) p->accepted++;
  }
  return NULL;
}

static void test_unregister_while_running(void **state) {
  (void)state;
  atomic_store(&flip_bad, 0);
  atomic_store(&flip_runs, 0);
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(3);
  cfg.queue_capacity = 64;
  uint32_t agent = up(&f, NULL, &cfg);
  tally t;
  memset(&t, 0, sizeof t);
  atomic_int stop = 0;
  flipper p[2];
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    p[i] = (flipper){.f = &f, .agent = agent, .t = &t, .stop = &stop};
    assert_int_equal(pthread_create(&th[i], NULL, flip_submitter, &p[i]), 0);
  }
  for (int round = 0; round < 200; round++) {
    flip_ctx *x = malloc(sizeof *x);
    assert_non_null(x);
    atomic_store(&x->magic, FLIP_MAGIC);
    cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_LONG_RUNNING, .fn = h_flip, .ctx = x};
    assert_int_equal(cnv_runtime_register(f.rt, "t.flip", 6, &spec), CNV_OK);
    for (int i = 0; i < 20; i++) sched_yield();
    assert_int_equal(cnv_runtime_unregister(f.rt, "t.flip", 6), CNV_OK);
    /* no call of it runs any more: poison and free its context */
    atomic_store(&x->magic, 0);
    free(x);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  unsigned accepted = p[0].accepted + p[1].accepted, done = 0;
  for (int k = 0; k < CNV_DONE_COUNT; k++) done += atomic_load(&t.by_kind[k]);
  assert_int_equal(atomic_load(&flip_bad), 0);
  assert_int_equal(atomic_load(&t.other), 0);
  assert_int_equal(done, accepted); /* each exactly once */
  assert_int_equal(atomic_load(&t.by_kind[CNV_DONE_RAN]), atomic_load(&flip_runs));
  assert_int_equal(atomic_load(&t.by_kind[CNV_DONE_CANCELLED]), 0);
  assert_int_equal(atomic_load(&t.by_kind[CNV_DONE_EXPIRED]), 0);
  rtf_check_stopped_stats(f.rt);
  cnv_runtime_destroy(f.rt);
  rtf_gate_destroy(&gate);
}

/* ---- completion queue: arm/push hand-off, an event loop never misses a completion ---- */

#define CQ_N 20000u

typedef struct cq_feeder {
  rtf *f;
  uint32_t agent;
  cnv_runtime_cq *cq;
  unsigned n;
  unsigned full;
} cq_feeder;

static void *cq_feed(void *arg) {
  cq_feeder *p = arg;
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.cq = p->cq;
  for (unsigned i = 0; i < p->n;) {
    o.correlation = i;
    cnv_status st = cnv_runtime_submit_ex(p->f->rt, p->agent, "t.quick", 7, &o, NULL);
    if (st == CNV_OK) {
      i++;
    } else {
      p->full += st == CNV_EFULL;
      sched_yield();
    }
  }
  return NULL;
}

static void test_cq_event_loop_misses_nothing(void **state) {
  (void)state;
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(3);
  cfg.idle = CNV_RT_IDLE_PARK;
  uint32_t agent = up(&f, NULL, &cfg);
  cnv_runtime_cq *cq = NULL;
  assert_int_equal(cnv_runtime_cq_create(f.rt, 8, &cq), CNV_OK);
  cq_feeder p[2];
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    p[i] = (cq_feeder){.f = &f, .agent = agent, .cq = cq, .n = CQ_N / 2};
    assert_int_equal(pthread_create(&th[i], NULL, cq_feed, &p[i]), 0);
  }
  uint8_t buf[RTF_RESULT_MAX];
  unsigned got = 0, waits = 0, timeouts = 0;
  while (got < CQ_N && timeouts == 0) {
    cnv_runtime_completion c;
    cnv_status st = cnv_runtime_cq_poll(cq, &c, buf, sizeof buf);
    if (st == CNV_OK) {
      assert_int_equal(c.kind, CNV_DONE_RAN);
      assert_int_equal(c.result_len, 1);
      assert_int_equal(buf[0], 'q');
      got++;
      continue;
    }
    assert_int_equal(st, CNV_EEMPTY);
    if (cnv_runtime_cq_arm(cq) == CNV_EAGAIN) continue;
    struct pollfd pfd = {.fd = cnv_runtime_cq_fd(cq), .events = POLLIN};
    waits++;
    /* a lost signal leaves a completion in the queue and the descriptor silent */
    if (poll(&pfd, 1, 10000) == 0) timeouts++;
  }
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(timeouts, 0);
  assert_int_equal(got, CQ_N);
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_completion c;
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, sizeof buf), CNV_EEMPTY);
  rtf_check_stopped_stats(f.rt);
  cnv_runtime_destroy(f.rt);
  cnv_runtime_cq_destroy(cq);
  rtf_gate_destroy(&gate);
  (void)waits;
}

/* ---- parked workers: every submit to an idle runtime wakes one (invoke would hang) ---- */

typedef struct invoker {
  rtf *f;
  uint32_t agent;
  unsigned n, ran;
} invoker;

static void *invoke_loop(void *arg) {
  invoker *p = arg;
  for (unsigned i = 0; i < p->n; i++) {
    cnv_runtime_completion c;
    uint8_t buf[RTF_RESULT_MAX];
    if (cnv_runtime_invoke(p->f->rt, p->agent, "t.quick", 7, NULL, &c, buf, sizeof buf) == CNV_OK &&
        c.kind == CNV_DONE_RAN) {
      p->ran++;
    }
  }
  return NULL;
}

static void test_parked_workers_always_wake(void **state) {
  (void)state;
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(4);
  cfg.idle = CNV_RT_IDLE_PARK; /* park at once: every invoke meets parked workers */
  uint32_t agent = up(&f, NULL, &cfg);
  invoker p[3];
  pthread_t th[3];
  for (int i = 0; i < 3; i++) {
    p[i] = (invoker){.f = &f, .agent = agent, .n = 3000};
    assert_int_equal(pthread_create(&th[i], NULL, invoke_loop, &p[i]), 0);
  }
  for (int i = 0; i < 3; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(p[i].ran, p[i].n);
  }
  down(&f, NULL);
}

/* ---- a worker stuck in a completion callback at stop ---- */

static rtf_box cb_box;

/* Correlation 1 waits at the gate (a callback that never returns until the test says so);
 * the others go to cb_box. */
static void cb_maybe_stuck(void *ctx, const cnv_runtime_completion *c) {
  (void)ctx;
  if (c->correlation == 1) {
    rtf_gate_pass(&gate);
    return;
  }
  rtf_box_done(&cb_box, c);
}

static void test_stop_with_worker_stuck_in_callback(void **state) {
  (void)state;
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(1);
  uint32_t agent = up(&f, &cb_box, &cfg);
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.on_done = cb_maybe_stuck;
  o.correlation = 1;
  uint64_t stuck = 0, queued[3] = {0, 0, 0};
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &stuck), CNV_OK);
  rtf_gate_wait_entered(&gate, 1); /* its only worker now sits in the callback */
  o.correlation = 2;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.quick", 7, &o, &queued[i]), CNV_OK);
  }
  uint64_t t0 = cnv_runtime_now_ns();
  assert_int_equal(cnv_runtime_stop(f.rt, 50 * MS), CNV_ERT_STUCK);
  assert_true(cnv_runtime_now_ns() - t0 < 5000 * MS);
  /* the queued ones completed (by stop) exactly once, as not run */
  assert_int_equal(rtf_box_count(&cb_box), 3);
  for (int i = 0; i < 3; i++) rtf_box_expect(&cb_box, queued[i], CNV_DONE_NOT_RUN, CNV_ERT_STOPPED, NULL);
  cnv_runtime_stuck_worker sw[2];
  size_t n = 0;
  assert_int_equal(cnv_runtime_stuck(f.rt, sw, 2, &n), CNV_OK);
  assert_int_equal(n, 1);
  assert_int_equal(sw[0].worker, 0);
  /* once the callback returns, destroy joins the worker */
  rtf_gate_open(&gate);
  cnv_runtime_destroy(f.rt);
  rtf_box_destroy(&cb_box);
  rtf_gate_destroy(&gate);
}

/* ---- a cooperative handler abandoned at the timeout returns at once: not stuck ---- */

static atomic_uint coop_entered, coop_left;

/* t.coop: runs until its cancel flag is set, then returns (a well-behaved long call). */
static cnv_status h_coop(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  atomic_fetch_add(&coop_entered, 1);
  while (!cnv_runtime_call_cancelled(c)) sched_yield();
  atomic_fetch_add(&coop_left, 1);
  return CNV_OK;
}

static void test_stop_cooperative_handler_not_stuck(void **state) {
  (void)state;
  atomic_store(&coop_entered, 0);
  atomic_store(&coop_left, 0);
  rtf_gate_init(&gate);
  rtf_box box;
  rtf_box_init(&box);
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(2);
  static const rtf_handler coop[] = {{"t.coop", CNV_DURATION_LONG_RUNNING, h_coop, NULL}};
  uint32_t agent = rtf_up(&f, &cfg, coop, 1, 0x44);
  uint64_t ticket = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.coop", 0, 1, &box, &ticket), CNV_OK);
  while (atomic_load(&coop_entered) == 0) sched_yield();
  /* 200 ms: 150 ms graceful, then the cancel flag and up to 50 ms for the handler to see
   * it; it returns within microseconds, so its worker is joined, not reported stuck */
  cnv_status st = cnv_runtime_stop(f.rt, 200 * MS);
  unsigned left = atomic_load(&coop_left);
  size_t n = 99;
  assert_int_equal(cnv_runtime_stuck(f.rt, NULL, 0, &n), CNV_OK);
  cnv_runtime_stats s;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &s), CNV_OK);
  rtf_done d;
  rtf_box_get(&box, ticket, &d);
  cnv_runtime_destroy(f.rt);
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
  assert_int_equal(d.c.kind, CNV_DONE_CANCELLED);
  assert_int_equal(d.c.status, CNV_ERT_ABANDONED);
  assert_int_equal(left, 1); /* stop returned after the handler did */
  assert_int_equal(st, CNV_OK);
  assert_int_equal(n, 0);
  assert_int_equal(s.stuck_workers, 0);
}

/* ---- stop(0): only the worker inside a handler is reported, not the idle one ---- */

static void test_stop_now_reports_only_busy_workers(void **state) {
  (void)state;
  rtf_box box;
  rtf f;
  cnv_runtime_config cfg = rtf_config_workers(2);
  cfg.idle = CNV_RT_IDLE_PARK;
  uint32_t agent = up(&f, &box, &cfg);
  uint64_t held = 0;
  assert_int_equal(rtf_submit_box(&f, agent, "t.gate", 0, 1, &box, &held), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  pause_ns(10 * MS); /* helps the other worker park: stop must wake it and let it exit */
  /* no time at all: the held worker is stuck, the idle one is not */
  cnv_status st = cnv_runtime_stop(f.rt, 0);
  cnv_runtime_stuck_worker sw[2];
  size_t n = 0;
  assert_int_equal(cnv_runtime_stuck(f.rt, sw, 2, &n), CNV_OK);
  rtf_gate_open(&gate);
  cnv_runtime_destroy(f.rt);
  unsigned delivered = rtf_box_count(&box);
  rtf_box_destroy(&box);
  rtf_gate_destroy(&gate);
  assert_int_equal(st, CNV_ERT_STUCK);
  assert_int_equal(n, 1);
  assert_int_equal(delivered, 1); /* exactly once, by destroy at the latest */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stop_without_limit_lets_running_work_finish),
      cmocka_unit_test(test_stop_bounded_by_timeout_with_slow_monitor),
      cmocka_unit_test(test_callback_cancels_and_submits),
      cmocka_unit_test(test_stale_tickets_after_slot_reuse),
      cmocka_unit_test(test_hostile_options_leak_nothing),
      cmocka_unit_test(test_unregister_while_running),
      cmocka_unit_test(test_cq_event_loop_misses_nothing),
      cmocka_unit_test(test_parked_workers_always_wake),
      cmocka_unit_test(test_stop_with_worker_stuck_in_callback),
      cmocka_unit_test(test_stop_cooperative_handler_not_stuck),
      cmocka_unit_test(test_stop_now_reports_only_busy_workers),
  };
  /* CNV_TEST_FILTER: run only the tests matching this cmocka pattern */
  const char *filter = getenv("CNV_TEST_FILTER");
  if (filter) cmocka_set_test_filter(filter);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
