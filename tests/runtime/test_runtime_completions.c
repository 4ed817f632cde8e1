/* Completions: every kind (ran through a callback, a completion queue and invoke; expired
 * while queued and while running; cancelled before and while running; not run after its
 * capability was unregistered), what travels with an invocation (correlation id, W3C
 * traceparent, deadline, class), results (content type, the max_result bound) and the
 * completion queue (reserved capacity, eventfd, waits). Each test drives one runtime whose
 * workers a gate holds where the order must be known; nothing here asserts a duration. */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "runtime/rt_fixture.h"

#define MS 1000000ull
#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* What handlers saw, by correlation id (tests use ids below SEEN_MAX). */
#define SEEN_MAX 64
typedef struct seen {
  unsigned count;
  cnv_runtime_call call; /* its pointers are not kept: line and path are copied below */
  char line[256];
  char path[64];
  cnv_status writes[4];
  size_t len_after;
  bool cancelled_at_end;
} seen;

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static seen S[SEEN_MAX];
static rtf_gate gate;
static atomic_int coop_entered;

static void note(const cnv_runtime_call *c) {
  pthread_mutex_lock(&seen_mu);
  if (c->correlation < SEEN_MAX) {
    seen *s = &S[c->correlation];
    s->count++;
    s->call = *c;
    size_t n = c->line_len < sizeof s->line - 1 ? c->line_len : sizeof s->line - 1;
    memcpy(s->line, c->line, n);
    s->line[n] = 0;
    n = c->path_len < sizeof s->path - 1 ? c->path_len : sizeof s->path - 1;
    memcpy(s->path, c->path, n);
    s->path[n] = 0;
  }
  pthread_mutex_unlock(&seen_mu);
}

static seen seen_of(uint64_t corr) {
  pthread_mutex_lock(&seen_mu);
  seen s = S[corr];
  pthread_mutex_unlock(&seen_mu);
  return s;
}

/* t.echo: a JSON result naming the line. */
static cnv_status h_echo(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  note(c);
  cnv_status st = cnv_runtime_result_set_type(r, CNV_CONTENT_JSON);
  if (st == CNV_OK) st = cnv_runtime_result_write(r, "{\"line\":\"", 9);
  if (st == CNV_OK) st = cnv_runtime_result_write(r, c->line, c->line_len);
  if (st == CNV_OK) st = cnv_runtime_result_write(r, "\"}", 2);
  return st;
}

/* t.fail: a text result and an error. */
static cnv_status h_fail(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  note(c);
  cnv_status st = cnv_runtime_result_write(r, "bad", 3);
  return st == CNV_OK ? CNV_EIO : st;
}

/* t.block: waits at the gate. */
static cnv_status h_block(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  note(c);
  rtf_gate_pass(&gate);
  return CNV_OK;
}

/* t.late: runs past its deadline, then writes a result. */
static cnv_status h_late(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  note(c);
  rtf_wait_past(c->deadline_ns);
  return cnv_runtime_result_write(r, "late", 4);
}

/* t.coop: runs until cancelled, then says so with its own status. */
static cnv_status h_coop(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  note(c);
  atomic_store(&coop_entered, 1);
  while (!cnv_runtime_call_cancelled(c)) sched_yield();
  pthread_mutex_lock(&seen_mu);
  if (c->correlation < SEEN_MAX) S[c->correlation].cancelled_at_end = true;
  pthread_mutex_unlock(&seen_mu);
  cnv_status st = cnv_runtime_result_write(r, "stopped", 7);
  return st == CNV_OK ? CNV_EAGAIN : st;
}

/* t.big: the line's flag picks the writes: --fit (exactly max_result), --over (200 then
 * 100: the second passes the bound), --one (max_result + 1 at once, then 1 byte). */
static cnv_status h_big(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  note(c);
  static const uint8_t fill[RTF_RESULT_MAX + 1] = {0};
  cnv_status w[4] = {CNV_OK, CNV_OK, CNV_OK, CNV_OK};
  if (memmem(c->line, c->line_len, "--fit", 5)) {
    w[0] = cnv_runtime_result_write(r, fill, RTF_RESULT_MAX);
  } else if (memmem(c->line, c->line_len, "--over", 6)) {
    w[0] = cnv_runtime_result_write(r, fill, 200);
    w[1] = cnv_runtime_result_write(r, fill, 100);
  } else {
    w[0] = cnv_runtime_result_write(r, fill, RTF_RESULT_MAX + 1);
    w[1] = cnv_runtime_result_write(r, fill, 1);
  }
  /* argument errors of the writer */
  w[2] = cnv_runtime_result_write(r, NULL, 1);
  w[3] = cnv_runtime_result_set_type(r, CNV_CONTENT_BINARY + 1);
  pthread_mutex_lock(&seen_mu);
  if (c->correlation < SEEN_MAX) {
    memcpy(S[c->correlation].writes, w, sizeof w);
    S[c->correlation].len_after = cnv_runtime_result_len(r);
  }
  pthread_mutex_unlock(&seen_mu);
  return CNV_OK;
}

/* t.victim: must never run (its invocations are cancelled or unregistered first). */
static cnv_status h_victim(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  note(c);
  return CNV_OK;
}

typedef struct world {
  rtf f;
  uint32_t agent;
  rtf_box box;
} world;

/* t.chain (ctx: the world): a handler that submits t.echo itself, correlation + 1, its
 * completion into the world's box; returns the submit's status. */
static cnv_status h_chain(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  world *w = ctx;
  (void)r;
  note(c);
  cnv_runtime_submit_opts o = {.correlation = c->correlation + 1, .on_done = rtf_box_done, .done_ctx = &w->box};
  return cnv_runtime_submit_ex(w->f.rt, w->agent, "t.echo --chained", 16, &o, NULL);
}

static void world_up(world *w, uint32_t workers) {
  memset(S, 0, sizeof S);
  atomic_store(&coop_entered, 0);
  rtf_gate_init(&gate);
  rtf_box_init(&w->box);
  cnv_runtime_config cfg = rtf_config_workers(workers);
  rtf_create(&w->f, &cfg);
  rtf_register(&w->f, "t.echo", CNV_DURATION_INTERACTIVE, h_echo, NULL);
  rtf_register(&w->f, "t.fail", CNV_DURATION_INTERACTIVE, h_fail, NULL);
  rtf_register(&w->f, "t.block", CNV_DURATION_LONG_RUNNING, h_block, NULL);
  rtf_register(&w->f, "t.late", CNV_DURATION_INTERACTIVE, h_late, NULL);
  rtf_register(&w->f, "t.coop", CNV_DURATION_LONG_RUNNING, h_coop, NULL);
  rtf_register(&w->f, "t.big", CNV_DURATION_INTERACTIVE, h_big, NULL);
  rtf_register(&w->f, "t.victim", CNV_DURATION_INTERACTIVE, h_victim, NULL);
  rtf_register(&w->f, "t.chain", CNV_DURATION_INTERACTIVE, h_chain, w);
  w->agent = rtf_agent_start(&w->f, 0x30);
}

static void world_down(world *w) {
  rtf_gate_open(&gate); /* whatever a failed test left waiting */
  rtf_stop_destroy(&w->f);
  rtf_box_destroy(&w->box);
  rtf_gate_destroy(&gate);
}

static cnv_runtime_stats stats(world *w) { return rtf_settled(w->f.rt); }

/* Submits t.block (correlation 1) and waits until a worker holds it at the gate; returns
 * its ticket. */
static uint64_t hold_worker(world *w) {
  uint64_t ticket = 0;
  assert_int_equal(rtf_submit_box(&w->f, w->agent, "t.block", 0, 1, &w->box, &ticket), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  return ticket;
}

static void assert_trace_equal(const cnv_trace *a, const cnv_trace *b) {
  assert_int_equal(a->present, b->present);
  assert_int_equal(a->version, b->version);
  assert_int_equal(a->flags, b->flags);
  assert_memory_equal(a->trace_id, b->trace_id, sizeof a->trace_id);
  assert_memory_equal(a->parent_id, b->parent_id, sizeof a->parent_id);
}

static void assert_result(const cnv_runtime_completion *c, const char *want) {
  assert_int_equal(c->result_len, strlen(want));
  assert_non_null(c->result);
  assert_memory_equal(c->result, want, strlen(want));
}

/* ---- ran ---- */

static void test_ran_callback(void **state) {
  (void)state;
  world w;
  world_up(&w, 2);
  cnv_trace tr;
  assert_int_equal(cnv_trace_parse(TP, strlen(TP), &tr), CNV_OK);
  cnv_runtime_submit_opts o = {.correlation = 7, .trace = &tr, .on_done = rtf_box_done, .done_ctx = &w.box};
  const char *line = "t.echo --x 1";
  uint64_t limit = 0, ticket = 0;
  assert_int_equal(cnv_duration_class_limits(CNV_DURATION_INTERACTIVE, NULL, &limit), CNV_OK);
  uint64_t before = cnv_runtime_now_ns();
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, line, strlen(line), &o, &ticket), CNV_OK);
  uint64_t after = cnv_runtime_now_ns();
  rtf_box_wait(&w.box, 1);
  rtf_done d;
  rtf_box_get(&w.box, ticket, &d);
  seen s = seen_of(7);
  /* the handler saw the invocation as submitted */
  assert_int_equal(s.count, 1);
  assert_string_equal(s.line, line);
  assert_string_equal(s.path, "t.echo");
  assert_int_equal(s.call.correlation, 7);
  assert_int_equal(s.call.ticket, ticket);
  assert_int_equal(s.call.agent, w.agent);
  assert_int_equal(s.call.cls, CNV_DURATION_INTERACTIVE);
  assert_int_equal(s.call.capability, rtf_cap("t.echo"));
  assert_int_equal(s.call.effects, CNV_EFFECT_READ_ONLY);
  assert_true(s.call.worker < 2);
  assert_true(s.call.deadline_ns >= before + limit && s.call.deadline_ns <= after + limit);
  assert_trace_equal(&s.call.trace, &tr);
  /* and the completion carries it back, with the result */
  assert_int_equal(d.c.kind, CNV_DONE_RAN);
  assert_int_equal(d.c.status, CNV_OK);
  assert_int_equal(d.c.correlation, 7);
  assert_int_equal(d.c.capability, rtf_cap("t.echo"));
  assert_int_equal(d.c.seq, s.call.seq);
  assert_int_equal(d.c.agent, w.agent);
  assert_int_equal(d.c.worker, (int32_t)s.call.worker);
  assert_int_equal(d.c.cls, CNV_DURATION_INTERACTIVE);
  assert_int_equal(d.c.content_type, CNV_CONTENT_JSON);
  assert_result(&d.c, "{\"line\":\"t.echo --x 1\"}");
  assert_trace_equal(&d.c.trace, &tr);
  /* a shorter deadline than the class's travels too; a failing handler's status and result
   * reach the completion; no trace: none arrives */
  o.correlation = 8;
  o.timeout_ns = 100 * MS;
  o.trace = NULL;
  before = cnv_runtime_now_ns();
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.fail", 6, &o, &ticket), CNV_OK);
  after = cnv_runtime_now_ns();
  rtf_box_wait(&w.box, 2);
  rtf_box_get(&w.box, ticket, &d);
  s = seen_of(8);
  assert_true(s.call.deadline_ns >= before + 100 * MS && s.call.deadline_ns <= after + 100 * MS);
  assert_int_equal(s.call.trace.present, 0);
  assert_int_equal(d.c.trace.present, 0);
  assert_int_equal(d.c.kind, CNV_DONE_RAN);
  assert_int_equal(d.c.status, CNV_EIO);
  assert_int_equal(d.c.content_type, CNV_CONTENT_TEXT);
  assert_result(&d.c, "bad");
  assert_int_equal(d.c.seq, s.call.seq);
  assert_true(seen_of(7).call.seq != s.call.seq); /* sequence numbers are unique */
  /* the worker's buffer is reused: a shorter result after a longer one has only its bytes */
  o.correlation = 9;
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, &ticket), CNV_OK);
  rtf_box_wait(&w.box, 3);
  rtf_box_get(&w.box, ticket, &d);
  assert_result(&d.c, "{\"line\":\"t.echo\"}");
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.accepted, 3);
  assert_int_equal(st.completed[CNV_DONE_RAN], 3);
  assert_int_equal(st.executed, 3);
  assert_int_equal(st.failed, 1);
  world_down(&w);
}

static void test_ran_cq(void **state) {
  (void)state;
  world w;
  world_up(&w, 2);
  cnv_runtime_cq *cq = NULL;
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 4, &cq), CNV_OK);
  cnv_trace tr;
  assert_int_equal(cnv_trace_parse(TP, strlen(TP), &tr), CNV_OK);
  cnv_runtime_submit_opts o = {.correlation = 11, .trace = &tr, .cq = cq};
  uint64_t ticket = 0;
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo --cq", 11, &o, &ticket), CNV_OK);
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  assert_int_equal(cnv_runtime_cq_wait(cq, -1, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.ticket, ticket);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.correlation, 11);
  assert_int_equal(c.content_type, CNV_CONTENT_JSON);
  assert_ptr_equal(c.result, buf);
  assert_result(&c, "{\"line\":\"t.echo --cq\"}");
  assert_trace_equal(&c.trace, &tr);
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, sizeof buf), CNV_EEMPTY);
  world_down(&w);
  cnv_runtime_cq_destroy(cq);
}

static void test_ran_invoke(void **state) {
  (void)state;
  world w;
  world_up(&w, 2);
  cnv_runtime_submit_opts o = {.correlation = 12};
  cnv_runtime_completion c;
  char buf[64];
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t.echo --inv", 12, &o, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.correlation, 12);
  assert_ptr_equal(c.result, buf);
  assert_result(&c, "{\"line\":\"t.echo --inv\"}");
  assert_int_equal(seen_of(12).count, 1);
  /* no options at all */
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t.fail", 6, NULL, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_EIO);
  assert_result(&c, "bad");
  /* a result that does not fit the caller's buffer: its size is reported, nothing copied */
  o.correlation = 13;
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t.echo --inv", 12, &o, &c, buf, 4), CNV_ERANGE);
  assert_int_equal(c.result_len, strlen("{\"line\":\"t.echo --inv\"}"));
  assert_int_equal(seen_of(13).count, 1);
  /* not accepted: the submit's status */
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t.ghost", 7, NULL, &c, buf, sizeof buf),
                   CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t..x", 4, NULL, &c, buf, sizeof buf), CNV_ERT_DENY_MALFORMED);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.accepted, 3);
  assert_int_equal(st.completed[CNV_DONE_RAN], 3);
  world_down(&w);
}

/* ---- expired ---- */

static void test_expired_queued(void **state) {
  (void)state;
  world w;
  world_up(&w, 1);
  uint64_t victim = 0, blocker = hold_worker(&w); /* the only worker is held */
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.victim", 1 * MS, 2, &w.box, &victim), CNV_OK);
  rtf_wait_past(cnv_runtime_now_ns() + 1 * MS); /* its deadline has passed, still queued */
  rtf_gate_open(&gate);
  rtf_box_wait(&w.box, 2);
  rtf_done d;
  rtf_box_expect(&w.box, victim, CNV_DONE_EXPIRED, CNV_ERT_EXPIRED, &d);
  assert_int_equal(d.c.worker, -1);
  assert_int_equal(d.c.run_ns, 0);
  assert_int_equal(d.c.result_len, 0);
  assert_null(d.c.result);
  assert_int_equal(d.c.correlation, 2);
  assert_int_equal(seen_of(2).count, 0); /* never ran */
  rtf_box_get(&w.box, blocker, &d);
  assert_int_equal(d.c.kind, CNV_DONE_RAN);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.completed[CNV_DONE_EXPIRED], 1);
  assert_int_equal(st.completed[CNV_DONE_RAN], 1);
  assert_int_equal(st.executed, 1);
  world_down(&w);
}

static void test_expired_running(void **state) {
  (void)state;
  world w;
  world_up(&w, 1);
  uint64_t ticket = 0;
  /* a deadline the idle worker reaches long before it passes (so the run starts), and that
   * the handler then waits out */
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.late", 300 * MS, 3, &w.box, &ticket), CNV_OK);
  rtf_box_wait(&w.box, 1);
  rtf_done d;
  rtf_box_get(&w.box, ticket, &d);
  assert_int_equal(seen_of(3).count, 1);
  assert_int_equal(d.c.kind, CNV_DONE_EXPIRED);
  assert_int_equal(d.c.status, CNV_ERT_EXPIRED);
  assert_int_equal(d.c.worker, 0);
  assert_result(&d.c, "late"); /* the handler's result is kept */
  cnv_runtime_stats st = stats(&w);
  cnv_runtime_capability_stats cs;
  assert_int_equal(cnv_runtime_capability_stats_get(w.f.rt, "t.late", 6, &cs), CNV_OK);
  world_down(&w); /* first: a failure below leaves nothing behind */
  assert_int_equal(st.completed[CNV_DONE_EXPIRED], 1);
  assert_int_equal(st.executed, 1);
  assert_int_equal(st.over_deadline[CNV_DURATION_INTERACTIVE], 1);
  assert_int_equal(cs.over_deadline, 1);
  assert_int_equal(cs.cls, CNV_DURATION_INTERACTIVE);
  assert_int_equal(st.failed, 1); /* an expired run counts as failed (cnv_runtime_stats) */
}

/* ---- cancelled ---- */

static void test_cancel_queued(void **state) {
  (void)state;
  world w;
  world_up(&w, 1);
  uint64_t victim = 0, blocker = hold_worker(&w);
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.victim", 0, 4, &w.box, &victim), CNV_OK);
  assert_int_equal(cnv_runtime_cancel(w.f.rt, victim), CNV_OK);
  assert_int_equal(cnv_runtime_cancel(w.f.rt, victim ^ 0x5a5a5a5a00000000ull), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(NULL, victim), CNV_EINVAL);
  rtf_gate_open(&gate);
  rtf_box_wait(&w.box, 2);
  rtf_done d;
  rtf_box_expect(&w.box, victim, CNV_DONE_CANCELLED, CNV_ERT_CANCELLED, &d);
  assert_int_equal(d.c.worker, -1);
  assert_int_equal(d.c.correlation, 4);
  assert_int_equal(d.c.result_len, 0);
  assert_int_equal(seen_of(4).count, 0);
  /* completed: nothing left to cancel */
  assert_int_equal(cnv_runtime_cancel(w.f.rt, victim), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_cancel(w.f.rt, blocker), CNV_ENOTFOUND);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.completed[CNV_DONE_CANCELLED], 1);
  assert_int_equal(st.executed, 1);
  world_down(&w);
}

static void test_cancel_running(void **state) {
  (void)state;
  world w;
  world_up(&w, 2);
  uint64_t ticket = 0;
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.coop", 0, 5, &w.box, &ticket), CNV_OK);
  while (!atomic_load(&coop_entered)) sched_yield();
  assert_int_equal(cnv_runtime_cancel(w.f.rt, ticket), CNV_OK);
  rtf_box_wait(&w.box, 1);
  rtf_done d;
  rtf_box_get(&w.box, ticket, &d);
  seen s = seen_of(5);
  assert_int_equal(s.count, 1);
  assert_true(s.cancelled_at_end);
  assert_int_equal(d.c.kind, CNV_DONE_CANCELLED);
  assert_int_equal(d.c.status, CNV_EAGAIN); /* the handler's */
  assert_int_equal(d.c.worker, (int32_t)s.call.worker);
  assert_int_equal(cnv_runtime_cancel(w.f.rt, ticket), CNV_ENOTFOUND);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.completed[CNV_DONE_CANCELLED], 1);
  assert_int_equal(st.executed, 1);
  world_down(&w);
}

/* ---- not run ---- */

typedef struct unreg_arg {
  cnv_runtime *rt;
  const char *path;
  cnv_status st;
  atomic_int done;
} unreg_arg;

static void *unreg_thread(void *p) {
  unreg_arg *a = p;
  a->st = cnv_runtime_unregister(a->rt, a->path, strlen(a->path));
  atomic_store(&a->done, 1);
  return NULL;
}

static void test_not_run_unregistered(void **state) {
  (void)state;
  world w;
  world_up(&w, 1);
  uint64_t victim = 0;
  (void)hold_worker(&w);
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.victim --q", 0, 6, &w.box, &victim), CNV_OK);
  /* unregister must not wait for another capability's running handler, nor for its own
   * queued invocations: run it on a thread, bounded so a hang fails instead of blocking */
  unreg_arg a = {.rt = w.f.rt, .path = "t.victim"};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, unreg_thread, &a), 0);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 60;
  int joined = pthread_timedjoin_np(t, NULL, &until);
  if (joined != 0) {
    rtf_gate_open(&gate); /* let it finish, then report */
    pthread_join(t, NULL);
    fail_msg("cnv_runtime_unregister waited for a handler of another capability or a queued invocation");
  }
  assert_int_equal(a.st, CNV_OK);
  uint64_t t2 = 0;
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.victim", 0, 7, &w.box, &t2), CNV_ERT_DENY_UNKNOWN_CAPABILITY);
  cnv_runtime_capability_stats cs;
  assert_int_equal(cnv_runtime_capability_stats_get(w.f.rt, "t.victim", 8, &cs), CNV_ENOTFOUND);
  assert_int_equal(cnv_runtime_unregister(w.f.rt, "t.victim", 8), CNV_ENOTFOUND);
  rtf_gate_open(&gate);
  rtf_box_wait(&w.box, 2);
  rtf_done d;
  rtf_box_expect(&w.box, victim, CNV_DONE_NOT_RUN, CNV_ERT_DENY_UNKNOWN_CAPABILITY, &d);
  assert_int_equal(d.c.worker, -1);
  assert_int_equal(d.c.correlation, 6);
  assert_int_equal(seen_of(6).count, 0);
  assert_int_equal(seen_of(7).count, 0);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.completed[CNV_DONE_NOT_RUN], 1);
  assert_int_equal(st.denied[CNV_RT_DENY_UNKNOWN_CAPABILITY], 1);
  /* registered again, it runs again */
  rtf_register(&w.f, "t.victim", CNV_DURATION_INTERACTIVE, h_victim, NULL);
  cnv_runtime_completion c;
  cnv_runtime_submit_opts o = {.correlation = 8};
  uint8_t buf[RTF_RESULT_MAX];
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t.victim", 8, &o, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(seen_of(8).count, 1);
  world_down(&w);
}

/* ---- trace context ---- */

static void test_trace_parse_format(void **state) {
  (void)state;
  cnv_trace t;
  assert_int_equal(cnv_trace_parse(TP, CNV_TRACEPARENT_LEN, &t), CNV_OK);
  assert_int_equal(t.present, 1);
  assert_int_equal(t.version, 0);
  assert_int_equal(t.flags, 1);
  static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                  0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
  static const uint8_t pid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
  assert_memory_equal(t.trace_id, tid, 16);
  assert_memory_equal(t.parent_id, pid, 8);
  char out[CNV_TRACEPARENT_LEN + 1];
  assert_int_equal(cnv_trace_format(&t, out), CNV_OK);
  assert_string_equal(out, TP);
  const char *other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
  assert_int_equal(cnv_trace_parse(other, strlen(other), &t), CNV_OK);
  assert_int_equal(t.flags, 0);
  assert_int_equal(cnv_trace_format(&t, out), CNV_OK);
  assert_string_equal(out, other);
  static const char *const bad[] = {
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",   /* short */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011", /* long */
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  /* uppercase */
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version ff */
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  /* zero trace id */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  /* zero parent id */
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* separator */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",  /* separator */
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  /* not hex */
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version not hex */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-z1",  /* flags not hex */
      "00-4bf92f3577b34da6a3ce929d0e0e4736--0f067aa0ba902b7-01",  /* sign in a field */
      "                                                       ",  /* blanks */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(cnv_trace_parse(TP, strlen(TP), &t), CNV_OK);
    assert_int_equal(cnv_trace_parse(bad[i], strlen(bad[i]), &t), CNV_EINVAL);
    cnv_trace zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&t, &zero, sizeof t); /* cleared */
  }
  /* the length is the caller's: a valid value followed by more bytes is refused */
  assert_int_equal(cnv_trace_parse(TP "x", CNV_TRACEPARENT_LEN + 1, &t), CNV_EINVAL);
  assert_int_equal(cnv_trace_parse(TP, CNV_TRACEPARENT_LEN - 1, &t), CNV_EINVAL);
  assert_int_equal(cnv_trace_parse(NULL, CNV_TRACEPARENT_LEN, &t), CNV_EINVAL);
  assert_int_equal(cnv_trace_parse(TP, CNV_TRACEPARENT_LEN, NULL), CNV_EINVAL);
  memset(&t, 0, sizeof t);
  assert_int_equal(cnv_trace_format(&t, out), CNV_EINVAL); /* not present */
  assert_int_equal(cnv_trace_format(NULL, out), CNV_EINVAL);
}

/* ---- results past max_result ---- */

static void check_too_large(const cnv_runtime_completion *c) {
  assert_int_equal(c->kind, CNV_DONE_RAN);
  assert_int_equal(c->status, CNV_ERT_RESULT_TOO_LARGE);
  assert_int_equal(c->result_len, 0);
  assert_null(c->result);
}

static void test_result_too_large(void **state) {
  (void)state;
  world w;
  world_up(&w, 2);
  uint64_t fit = 0, over = 0, one = 0;
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.big --fit", 0, 20, &w.box, &fit), CNV_OK);
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.big --over", 0, 21, &w.box, &over), CNV_OK);
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.big --one", 0, 22, &w.box, &one), CNV_OK);
  rtf_box_wait(&w.box, 3);
  /* exactly max_result fits */
  rtf_done d;
  rtf_box_expect(&w.box, fit, CNV_DONE_RAN, CNV_OK, &d);
  assert_int_equal(d.c.result_len, RTF_RESULT_MAX);
  seen s = seen_of(20);
  assert_int_equal(s.writes[0], CNV_OK);
  assert_int_equal(s.writes[2], CNV_EINVAL);
  assert_int_equal(s.writes[3], CNV_ERANGE);
  assert_int_equal(s.len_after, RTF_RESULT_MAX);
  /* 200 + 100: the second write is refused and writes nothing; the completion has no bytes */
  s = seen_of(21);
  assert_int_equal(s.writes[0], CNV_OK);
  assert_int_equal(s.writes[1], CNV_ERT_RESULT_TOO_LARGE);
  assert_int_equal(s.len_after, 200);
  rtf_box_get(&w.box, over, &d);
  check_too_large(&d.c);
  /* one write of max_result + 1 */
  s = seen_of(22);
  assert_int_equal(s.writes[0], CNV_ERT_RESULT_TOO_LARGE);
  rtf_box_get(&w.box, one, &d);
  check_too_large(&d.c);
  /* the same through a completion queue and invoke */
  cnv_runtime_cq *cq = NULL;
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 2, &cq), CNV_OK);
  cnv_runtime_submit_opts o = {.correlation = 23, .cq = cq};
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.big --over", 12, &o, NULL), CNV_OK);
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  assert_int_equal(cnv_runtime_cq_wait(cq, -1, &c, buf, sizeof buf), CNV_OK);
  check_too_large(&c);
  o = (cnv_runtime_submit_opts){.correlation = 24};
  assert_int_equal(cnv_runtime_invoke(w.f.rt, w.agent, "t.big --one", 11, &o, &c, buf, sizeof buf), CNV_OK);
  check_too_large(&c);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.completed[CNV_DONE_RAN], 5);
  world_down(&w);
  cnv_runtime_cq_destroy(cq);
}

/* ---- the completion queue: reserved capacity, the eventfd after an arm, waits ---- */

static int fd_readable(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, timeout_ms);
  assert_true(n >= 0);
  return n == 1 && (p.revents & POLLIN);
}

static void test_cq(void **state) {
  (void)state;
  world w;
  world_up(&w, 2);
  cnv_runtime_cq *cq = NULL;
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 3, &cq), CNV_ERANGE);
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 1, &cq), CNV_ERANGE);
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 0, &cq), CNV_ERANGE);
  assert_int_equal(cnv_runtime_cq_create(NULL, 2, &cq), CNV_EINVAL);
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 2, NULL), CNV_EINVAL);
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 2, &cq), CNV_OK);
  int fd = cnv_runtime_cq_fd(cq);
  assert_true(fd >= 0);
  assert_int_equal(cnv_runtime_cq_arm(NULL), CNV_EINVAL);
  assert_int_equal(cnv_runtime_cq_arm(cq), CNV_OK); /* nothing to poll: wait */
  assert_false(fd_readable(fd, 0));
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, sizeof buf), CNV_EEMPTY);
  assert_int_equal(cnv_runtime_cq_wait(cq, 10, &c, buf, sizeof buf), CNV_EEMPTY); /* time ran out */
  /* two entries: the third submit finds the queue's capacity taken, before anything ran */
  cnv_runtime_submit_opts o = {.cq = cq};
  uint64_t t[3] = {0, 0, 0};
  for (uint64_t i = 0; i < 2; i++) {
    o.correlation = 30 + i;
    assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, &t[i]), CNV_OK);
  }
  o.correlation = 32;
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, &t[2]), CNV_EFULL);
  /* both complete without being polled; still full */
  (void)stats(&w); /* waits until both completed */
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, &t[2]), CNV_EFULL);
  assert_int_equal(seen_of(32).count, 0);
  assert_true(fd_readable(fd, 60000));                  /* armed above: the first completion signalled */
  assert_int_equal(cnv_runtime_cq_arm(cq), CNV_EAGAIN); /* ready: poll instead of waiting */
  /* a buffer smaller than max_result takes nothing */
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, RTF_RESULT_MAX - 1), CNV_ERANGE);
  assert_int_equal(cnv_runtime_cq_poll(NULL, &c, buf, sizeof buf), CNV_EINVAL);
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, NULL, sizeof buf), CNV_EINVAL);
  /* nothing was lost: both, oldest first */
  uint64_t got = 0;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, sizeof buf), CNV_OK);
    assert_int_equal(c.kind, CNV_DONE_RAN);
    assert_true(c.correlation == 30 || c.correlation == 31);
    assert_int_equal(c.ticket, t[c.correlation - 30]);
    assert_result(&c, "{\"line\":\"t.echo\"}");
    got |= 1ull << (c.correlation - 30);
  }
  assert_int_equal(got, 3);
  assert_int_equal(cnv_runtime_cq_poll(cq, &c, buf, sizeof buf), CNV_EEMPTY);
  assert_int_equal(cnv_runtime_cq_arm(cq), CNV_OK);
  assert_false(fd_readable(fd, 0)); /* reset by the arm */
  /* room again; the fd wakes a poll(2) for the next completion */
  o.correlation = 33;
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, &t[2]), CNV_OK);
  assert_true(fd_readable(fd, 60000));
  assert_int_equal(cnv_runtime_cq_wait(cq, -1, &c, buf, sizeof buf), CNV_OK);
  assert_int_equal(c.ticket, t[2]);
  assert_int_equal(c.correlation, 33);
  /* a callback and a queue at once; a queue of another runtime */
  o.on_done = rtf_box_done;
  o.done_ctx = &w.box;
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, NULL), CNV_EINVAL);
  rtf other;
  rtf_create(&other, NULL);
  cnv_runtime_cq *foreign = NULL;
  assert_int_equal(cnv_runtime_cq_create(other.rt, 2, &foreign), CNV_OK);
  o = (cnv_runtime_submit_opts){.cq = foreign};
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, NULL), CNV_EINVAL);
  cnv_runtime_cq_destroy(foreign);
  cnv_runtime_destroy(other.rt);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.full, 2);
  assert_int_equal(st.accepted, 3);
  assert_int_equal(st.completed[CNV_DONE_RAN], 3);
  assert_int_equal(rtf_box_count(&w.box), 0);
  world_down(&w);
  cnv_runtime_cq_destroy(cq);
}

/* A completion queue across stop: what stop completes lands in it too. */
static void test_cq_at_stop(void **state) {
  (void)state;
  world w;
  world_up(&w, 1);
  cnv_runtime_cq *cq = NULL;
  assert_int_equal(cnv_runtime_cq_create(w.f.rt, 4, &cq), CNV_OK);
  cnv_runtime_submit_opts o = {.cq = cq, .correlation = 40};
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.block", 7, &o, NULL), CNV_OK);
  rtf_gate_wait_entered(&gate, 1);
  o.correlation = 41;
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, NULL), CNV_OK);
  rtf_gate_open(&gate);
  assert_int_equal(cnv_runtime_stop(w.f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_completion c;
  uint8_t buf[RTF_RESULT_MAX];
  unsigned n = 0;
  while (cnv_runtime_cq_poll(cq, &c, buf, sizeof buf) == CNV_OK) {
    assert_true(c.correlation == 40 || c.correlation == 41);
    assert_int_equal(c.kind, CNV_DONE_RAN); /* stop let both run */
    n++;
  }
  assert_int_equal(n, 2);
  world_down(&w);
  cnv_runtime_cq_destroy(cq);
}

/* A handler may submit (and a completion callback may submit): each invocation completes. */
typedef struct resubmit {
  world *w;
  atomic_int st;
} resubmit;

static void on_done_resubmit(void *ctx, const cnv_runtime_completion *c) {
  resubmit *r = ctx;
  rtf_box_done(&r->w->box, c);
  cnv_runtime_submit_opts o = {.correlation = 52, .on_done = rtf_box_done, .done_ctx = &r->w->box};
  atomic_store(&r->st, cnv_runtime_submit_ex(r->w->f.rt, r->w->agent, "t.echo --again", 14, &o, NULL));
}

static void test_submit_from_handler_and_callback(void **state) {
  (void)state;
  world w;
  world_up(&w, 1); /* one worker: the nested submits must not wait for it */
  uint64_t ticket = 0;
  assert_int_equal(rtf_submit_box(&w.f, w.agent, "t.chain", 0, 50, &w.box, &ticket), CNV_OK);
  rtf_box_wait(&w.box, 2);
  rtf_done d;
  rtf_box_expect(&w.box, ticket, CNV_DONE_RAN, CNV_OK, &d); /* the nested submit was accepted */
  assert_int_equal(seen_of(51).count, 1);
  resubmit r = {.w = &w, .st = 1};
  cnv_runtime_submit_opts o = {.correlation = 53, .on_done = on_done_resubmit, .done_ctx = &r};
  assert_int_equal(cnv_runtime_submit_ex(w.f.rt, w.agent, "t.echo", 6, &o, NULL), CNV_OK);
  rtf_box_wait(&w.box, 4);
  assert_int_equal(atomic_load(&r.st), CNV_OK);
  assert_int_equal(seen_of(52).count, 1);
  assert_int_equal(seen_of(53).count, 1);
  cnv_runtime_stats st = stats(&w);
  assert_int_equal(st.accepted, 4);
  assert_int_equal(st.completed[CNV_DONE_RAN], 4);
  world_down(&w);
}

/* Lines up to max_line arrive whole (the record holds them), one byte more is denied; with
 * the largest max_line and a result buffer to match, the handler (rtf_echo) echoes 4000
 * bytes. */
static void check_line_len(rtf *f, uint32_t agent, size_t max_line, char *line, uint8_t *buf, size_t cap) {
  memset(line, 'a', max_line + 1);
  memcpy(line, "t.copy --x ", 11);
  for (size_t i = 11; i < max_line; i++) line[i] = (char)('a' + i % 26);
  cnv_runtime_completion c;
  assert_int_equal(cnv_runtime_invoke(f->rt, agent, line, max_line, NULL, &c, buf, cap), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.result_len, max_line);
  assert_memory_equal(c.result, line, max_line);
  assert_int_equal(cnv_runtime_invoke(f->rt, agent, line, max_line + 1, NULL, &c, buf, cap), CNV_ERT_DENY_TOO_LONG);
}

static void test_line_lengths(void **state) {
  (void)state;
  static char line[4096];
  static uint8_t buf[4096];
  for (int big = 0; big < 2; big++) {
    cnv_runtime_config cfg;
    rtf_config(&cfg);
    if (big) {
      cfg.max_line = 4000;
      cfg.max_result = 4096;
    }
    rtf f;
    rtf_create(&f, &cfg);
    rtf_register(&f, "t.copy", CNV_DURATION_INTERACTIVE, rtf_echo, NULL);
    uint32_t a = rtf_agent_start(&f, 0x31);
    check_line_len(&f, a, big ? 4000 : 232, line, buf, big ? 4096 : RTF_RESULT_MAX);
    assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
    rtf_check_stopped_stats(f.rt);
    cnv_runtime_destroy(f.rt);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ran_callback),
      cmocka_unit_test(test_ran_cq),
      cmocka_unit_test(test_ran_invoke),
      cmocka_unit_test(test_expired_queued),
      cmocka_unit_test(test_expired_running),
      cmocka_unit_test(test_cancel_queued),
      cmocka_unit_test(test_cancel_running),
      cmocka_unit_test(test_not_run_unregistered),
      cmocka_unit_test(test_trace_parse_format),
      cmocka_unit_test(test_result_too_large),
      cmocka_unit_test(test_cq),
      cmocka_unit_test(test_cq_at_stop),
      cmocka_unit_test(test_submit_from_handler_and_callback),
      cmocka_unit_test(test_line_lengths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
