/* Progress reports (cnv_runtime_call_progress): delivered to the submitter's on_progress on
 * the handler's thread, in order, with the ticket and correlation; each report checked
 * (monotonic per call, finite and not negative, a bounded message); CNV_OK and nothing
 * delivered when the submitter gave no callback. */
#include <math.h>
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

/* What the reporting handler's calls returned, in order (its answer carries them too). */
#define STEPS 9

/* Reports 1, 2, 3 (with messages), then the faults, then 4: writes the statuses of all its
 * calls as a comma-separated list of status names (no cmocka on a worker thread). */
static cnv_status reporter(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  char big[CNV_RT_PROGRESS_MESSAGE_MAX + 1];
  memset(big, 'm', sizeof big);
  cnv_status st[STEPS] = {
      cnv_runtime_call_progress(c, 1, 4, "one", 3),
      cnv_runtime_call_progress(c, 2, 4, NULL, 0),
      cnv_runtime_call_progress(c, 3, 4, big, CNV_RT_PROGRESS_MESSAGE_MAX), /* the longest */
      cnv_runtime_call_progress(c, 3, 4, "same", 4),                        /* not above */
      cnv_runtime_call_progress(c, 2.5, 4, "back", 4),                      /* goes back */
      cnv_runtime_call_progress(c, NAN, 4, NULL, 0),
      cnv_runtime_call_progress(c, -1, 4, NULL, 0),
      cnv_runtime_call_progress(c, 5, 4, big, sizeof big), /* message too long */
      cnv_runtime_call_progress(c, 4, 0, "four", 4),       /* total unknown */
  };
  for (int i = 0; i < STEPS; i++) {
    const char *name = cnv_status_name(st[i]);
    if (i && cnv_runtime_result_write(r, ",", 1) != CNV_OK) return CNV_ERANGE;
    if (cnv_runtime_result_write(r, name, strlen(name)) != CNV_OK) return CNV_ERANGE;
  }
  return CNV_OK;
}

static const char *const want_statuses =
    "CNV_OK,CNV_OK,CNV_OK,CNV_ERANGE,CNV_ERANGE,CNV_EINVAL,CNV_EINVAL,CNV_ERANGE,CNV_OK";

/* ---- the submitter's side: reports copied as they arrive ---- */
#define SEEN_MAX 16

typedef struct seen_report {
  cnv_runtime_progress p;
  char message[CNV_RT_PROGRESS_MESSAGE_MAX];
  pthread_t thread;
} seen_report;

typedef struct seen {
  pthread_mutex_t mu;
  unsigned n;
  seen_report r[SEEN_MAX];
} seen;

static void on_progress(void *ctx, const cnv_runtime_progress *p) {
  seen *s = ctx;
  pthread_mutex_lock(&s->mu);
  if (s->n < SEEN_MAX) {
    seen_report *r = &s->r[s->n];
    r->p = *p;
    if (p->message_len <= sizeof r->message && p->message_len) memcpy(r->message, p->message, p->message_len);
    r->p.message = NULL;
    r->thread = pthread_self();
  }
  s->n++;
  pthread_mutex_unlock(&s->mu);
}

/* The handler's thread, seen from the completion callback's (the same worker runs both). */
static pthread_t done_thread;

static void note_done_thread(void *ctx, const cnv_runtime_completion *c) {
  done_thread = pthread_self();
  rtf_box_done(ctx, c);
}

static void test_reports_in_order(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  rtf_register(&f, "t.long", CNV_DURATION_USER_INITIATED, reporter, NULL);
  uint32_t agent = rtf_agent_start(&f, 0x51);
  seen s = {.n = 0};
  assert_int_equal(pthread_mutex_init(&s.mu, NULL), 0);
  rtf_box box;
  rtf_box_init(&box);
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.correlation = 0xC0FFEE;
  o.on_done = note_done_thread;
  o.done_ctx = &box;
  o.on_progress = on_progress;
  o.progress_ctx = &s;
  uint64_t ticket = 0;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.long", 6, &o, &ticket), CNV_OK);
  rtf_box_wait(&box, 1);
  rtf_done d;
  rtf_box_expect(&box, ticket, CNV_DONE_RAN, CNV_OK, &d);
  assert_int_equal(d.c.result_len, strlen(want_statuses));
  assert_memory_equal(d.bytes, want_statuses, d.c.result_len);
  pthread_mutex_lock(&s.mu);
  assert_int_equal(s.n, 4); /* only the reports that passed */
  static const double progress[4] = {1, 2, 3, 4};
  static const double total[4] = {4, 4, 4, 0};
  static const size_t msg_len[4] = {3, 0, CNV_RT_PROGRESS_MESSAGE_MAX, 4};
  for (unsigned i = 0; i < 4; i++) {
    assert_int_equal(s.r[i].p.ticket, ticket);
    assert_int_equal(s.r[i].p.correlation, 0xC0FFEE);
    assert_true(s.r[i].p.progress == progress[i]);
    assert_true(s.r[i].p.total == total[i]);
    assert_int_equal(s.r[i].p.message_len, msg_len[i]);
    assert_true(pthread_equal(s.r[i].thread, done_thread)); /* the handler's worker */
  }
  assert_memory_equal(s.r[0].message, "one", 3);
  assert_memory_equal(s.r[3].message, "four", 4);
  for (size_t i = 0; i < CNV_RT_PROGRESS_MESSAGE_MAX; i++) assert_int_equal(s.r[2].message[i], 'm');
  pthread_mutex_unlock(&s.mu);
  /* a second call starts its own sequence: 1 is above nothing again */
  seen s2 = {.n = 0};
  assert_int_equal(pthread_mutex_init(&s2.mu, NULL), 0);
  o.progress_ctx = &s2;
  o.correlation = 7;
  uint64_t ticket2 = 0;
  assert_int_equal(cnv_runtime_submit_ex(f.rt, agent, "t.long", 6, &o, &ticket2), CNV_OK);
  rtf_box_wait(&box, 2);
  rtf_box_expect(&box, ticket2, CNV_DONE_RAN, CNV_OK, &d);
  assert_memory_equal(d.bytes, want_statuses, d.c.result_len);
  assert_int_equal(s2.n, 4);
  assert_int_equal(s2.r[0].p.ticket, ticket2);
  assert_int_equal(s2.r[0].p.correlation, 7);
  assert_int_equal(s.n, 4); /* nothing of the second call went to the first's callback */
  rtf_stop_destroy(&f);
  rtf_box_destroy(&box);
  pthread_mutex_destroy(&s.mu);
  pthread_mutex_destroy(&s2.mu);
}

/* No callback: the same reports return the same statuses (CNV_OK for those that pass), and
 * nothing is delivered anywhere. */
static void test_no_callback(void **state) {
  (void)state;
  rtf f;
  rtf_create(&f, NULL);
  rtf_register(&f, "t.long", CNV_DURATION_USER_INITIATED, reporter, NULL);
  uint32_t agent = rtf_agent_start(&f, 0x52);
  char out[RTF_RESULT_MAX];
  cnv_runtime_completion c;
  assert_int_equal(cnv_runtime_invoke(f.rt, agent, "t.long", 6, NULL, &c, out, sizeof out), CNV_OK);
  assert_int_equal(c.kind, CNV_DONE_RAN);
  assert_int_equal(c.status, CNV_OK);
  assert_int_equal(c.result_len, strlen(want_statuses));
  assert_memory_equal(out, want_statuses, c.result_len);
  rtf_stop_destroy(&f);
}

/* Calls the runtime did not make, and NULL. */
static void test_outside_a_run(void **state) {
  (void)state;
  cnv_runtime_call call;
  memset(&call, 0, sizeof call);
  assert_int_equal(cnv_runtime_call_progress(NULL, 1, 2, NULL, 0), CNV_EINVAL);
  assert_int_equal(cnv_runtime_call_progress(&call, 1, 2, NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_runtime_call_progress(&call, 1, INFINITY, NULL, 0), CNV_EINVAL);
  assert_int_equal(cnv_runtime_call_progress(&call, 1, -0.5, NULL, 0), CNV_EINVAL);
  assert_int_equal(cnv_runtime_call_progress(&call, 1, 2, "x", CNV_RT_PROGRESS_MESSAGE_MAX + 1), CNV_ERANGE);
  assert_int_equal(cnv_runtime_call_progress(&call, 1, 2, "x", 1), CNV_OK);
}

/* ---- concurrency: many calls report at once on every worker, each its own sequence ---- */
#define RACE_CALLS 400
#define RACE_STEPS 20

static cnv_status counter_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  for (int i = 1; i <= RACE_STEPS; i++) {
    if (cnv_runtime_call_progress(c, i, RACE_STEPS, NULL, 0) != CNV_OK) return CNV_EINVAL;
  }
  return CNV_OK;
}

typedef struct race_seen {
  _Atomic uint64_t reports;
  atomic_uint out_of_order;
  _Atomic double last[RACE_CALLS]; /* by correlation */
} race_seen;

static void race_progress(void *ctx, const cnv_runtime_progress *p) {
  race_seen *s = ctx;
  atomic_fetch_add(&s->reports, 1);
  if (p->correlation >= RACE_CALLS) {
    atomic_fetch_add(&s->out_of_order, 1);
    return;
  }
  /* only this call's handler reports for this correlation: one writer per entry */
  double last = atomic_load(&s->last[p->correlation]);
  if (p->progress != last + 1) atomic_fetch_add(&s->out_of_order, 1);
  atomic_store(&s->last[p->correlation], p->progress);
}

static void test_concurrent_reports(void **state) {
  (void)state;
  cnv_runtime_config cfg = rtf_config_workers(4);
  rtf f;
  rtf_create(&f, &cfg);
  rtf_register(&f, "t.count", CNV_DURATION_USER_INITIATED, counter_handler, NULL);
  uint32_t agent = rtf_agent_start(&f, 0x53);
  static race_seen s;
  atomic_store(&s.reports, 0);
  atomic_store(&s.out_of_order, 0);
  for (int i = 0; i < RACE_CALLS; i++) atomic_store(&s.last[i], 0.0);
  uint64_t calls = cnv_test_iters(RACE_CALLS);
  for (uint64_t i = 0; i < calls; i++) {
    cnv_runtime_submit_opts o;
    memset(&o, 0, sizeof o);
    o.correlation = i;
    o.on_progress = race_progress;
    o.progress_ctx = &s;
    /* no completion callback: the stats count the runs; the progress callback is checked */
    cnv_status st;
    while ((st = cnv_runtime_submit_ex(f.rt, agent, "t.count", 7, &o, NULL)) == CNV_EFULL) sched_yield();
    assert_int_equal(st, CNV_OK);
  }
  assert_int_equal(cnv_runtime_stop(f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_stats st;
  assert_int_equal(cnv_runtime_stats_get(f.rt, &st), CNV_OK);
  assert_int_equal(st.completed[CNV_DONE_RAN], calls);
  assert_int_equal(st.failed, 0);
  assert_int_equal(atomic_load(&s.reports), calls * RACE_STEPS);
  assert_int_equal(atomic_load(&s.out_of_order), 0);
  for (uint64_t i = 0; i < calls; i++) assert_true(atomic_load(&s.last[i]) == RACE_STEPS);
  cnv_runtime_destroy(f.rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reports_in_order),
      cmocka_unit_test(test_no_callback),
      cmocka_unit_test(test_outside_a_run),
      cmocka_unit_test(test_concurrent_reports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
