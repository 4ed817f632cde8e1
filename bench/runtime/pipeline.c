/* The runtime's pipeline against the same records through bare queues, 2 workers each.
 *
 * pipeline_2workers: one submitter, fire and forget: the whole pipeline (parse, capability,
 * phase, cached token check, queue, 2 workers running a handler) against the same records
 * through the bare queue with 2 consumer threads and no checks. Items = invocations
 * submitted (stop drains them all; the case fails unless every one ran). The same loop
 * (bench_rt_pipeline_2workers) runs pipeline_2workers_ledger/cnv (bench/ledger), with a ledger.
 *
 * pipeline_reply_2workers: invocations that answer. The submitter keeps up to WINDOW of them
 * in flight: it submits while its completion queue has room and polls what is done; each
 * handler writes a small result that comes back in the completion. The peer sends the same
 * records to 2 worker threads through a bare request queue and gets a reply record carrying
 * the same result back through a bare reply queue, with no checks. Items = completions (or
 * replies) received, each checked.
 *
 * The peers push records as the runtime's submit does: the runtime's 240-byte record, of
 * which only the header and the line are copied in (cnv_queue_try_push_mpmc_prefix).
 *
 * The capability is registered as Interactive (limit 500 ms): a full queue of 4096 records
 * takes a few ms to drain, past FastPath's 1 ms limit, and expired invocations would not run.
 * Waits (full or empty) yield, on both sides. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "bench_rt.h"

#define LINE BENCH_RT_LINE
#define LINE_LEN BENCH_RT_LINE_LEN
#define RECORD 240u /* the runtime's inline record: an 8-byte header and up to 232 line bytes */
#define LINE_AT 8u  /* where the line starts in a record */
#define WINDOW 256u /* invocations in flight in pipeline_reply_2workers */
#define RESULT "read ok: id=12345"
#define RESULT_LEN (sizeof RESULT - 1)
#define RESULT_MAX 64u /* the runtime's max_result, and the bare reply's result room */

/* ---- pipeline_2workers ---------------------------------------------------------------- */

static atomic_ulong handled;

static cnv_status handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
  return c->line_len == 0 ? CNV_EINVAL : CNV_OK;
}

int bench_rt_pipeline_2workers(cnv_bench_state *st, cnv_ledger *ledger) {
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 2;
  cfg.ledger = ledger;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = handler};
  uint32_t agent;
  atomic_store(&handled, 0);
  cnv_runtime *rt = bench_rt_make(&cfg, &spec, &agent);
  if (!rt) {
    cnv_bench_skip_with_error(st, "runtime set-up failed");
    return -1;
  }
  uint64_t n = 0;
  while (cnv_bench_keep_running(st)) {
    cnv_status s;
    while ((s = cnv_runtime_submit(rt, agent, LINE, LINE_LEN)) == CNV_EFULL) sched_yield();
    CNV_BENCH_OK(s);
    n++;
  }
  CNV_BENCH_OK(cnv_runtime_stop(rt, BENCH_RT_STOP_NS)); /* drains: every accepted invocation runs */
  cnv_runtime_destroy(rt);
  if (atomic_load(&handled) != n) {
    cnv_bench_skip_with_error(st, "not every submitted invocation ran");
    return -1;
  }
  cnv_bench_set_items_processed(st, (int64_t)n);
  return 0;
}

static void pipeline_cnv(cnv_bench_state *st) { (void)bench_rt_pipeline_2workers(st, NULL); }
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
      cnv_runtime_call call = {.line = (const char *)rec + LINE_AT, .line_len = LINE_LEN};
      (void)handler(NULL, &call, NULL); /* its status is not reported anywhere: no completions */
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
    memcpy((char *)rec + LINE_AT, LINE, LINE_LEN);
    while (cnv_queue_try_push_mpmc_prefix(b.q, rec, LINE_AT + LINE_LEN) == CNV_EFULL) sched_yield();
    n++;
  }
  atomic_store_explicit(&b.stop, 1, memory_order_release);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cnv_bench_set_items_processed(st, (int64_t)n);
  cnv_queue_destroy(b.q);
}
CNV_BENCH(pipeline_bare, "pipeline_2workers/bare_queue", 1, 0)

/* ---- pipeline_reply_2workers ---------------------------------------------------------- */

static cnv_status reply_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  if (c->line_len == 0) return CNV_EINVAL;
  return cnv_runtime_result_write(r, RESULT, RESULT_LEN);
}

/* Whether one answer is what the handler wrote. */
static int answer_ok(cnv_status status, const void *result, size_t len) {
  return status == CNV_OK && len == RESULT_LEN && memcmp(result, RESULT, RESULT_LEN) == 0;
}

static void reply_cnv(cnv_bench_state *st) {
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = 2;
  cfg.max_result = RESULT_MAX;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY,
                                   .cls = CNV_DURATION_INTERACTIVE,
                                   .fn = reply_handler};
  uint32_t agent;
  cnv_runtime *rt = bench_rt_make(&cfg, &spec, &agent);
  cnv_runtime_cq *cq = NULL;
  if (!rt || cnv_runtime_cq_create(rt, WINDOW, &cq) != CNV_OK) {
    cnv_runtime_destroy(rt);
    cnv_bench_skip_with_error(st, "runtime set-up failed");
    return;
  }
  cnv_runtime_submit_opts opts = {.cq = cq};
  cnv_runtime_completion c;
  uint8_t result[RESULT_MAX];
  uint32_t in_flight = 0;
  uint64_t bad = 0;
  while (cnv_bench_keep_running(st)) { /* one iteration: one completion received */
    for (;;) {
      while (in_flight < WINDOW) {
        cnv_status s = cnv_runtime_submit_ex(rt, agent, LINE, LINE_LEN, &opts, NULL);
        if (s == CNV_EFULL) break;
        CNV_BENCH_OK(s);
        in_flight++;
      }
      cnv_status s = cnv_runtime_cq_poll(cq, &c, result, sizeof result);
      if (s == CNV_OK) break;
      if (s != CNV_EEMPTY) CNV_BENCH_OK(s);
      sched_yield();
    }
    in_flight--;
    bad += c.kind != CNV_DONE_RAN || !answer_ok(c.status, c.result, c.result_len);
  }
  for (; in_flight > 0; in_flight--) {
    CNV_BENCH_OK(cnv_runtime_cq_wait(cq, -1, &c, result, sizeof result));
    bad += c.kind != CNV_DONE_RAN || !answer_ok(c.status, c.result, c.result_len);
  }
  CNV_BENCH_OK(cnv_runtime_stop(rt, BENCH_RT_STOP_NS));
  cnv_runtime_cq_destroy(cq);
  cnv_runtime_destroy(rt);
  if (bad) {
    cnv_bench_skip_with_error(st, "a completion was not a run with the handler's result");
    return;
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(reply_cnv, "pipeline_reply_2workers/cnv", 1, 0)

typedef struct reply_rec {
  uint64_t seq;
  int32_t status;
  uint32_t len;
  char result[RESULT_MAX];
} reply_rec;

typedef struct bare_reply {
  cnv_queue *req, *rep;
  atomic_int stop;
} bare_reply;

static void *bare_reply_worker(void *p) {
  bare_reply *b = p;
  uint64_t rec[RECORD / 8]; /* the header (seq: 32 bits, line length: 16, 16 unused), the line */
  reply_rec out;
  memset(&out, 0, sizeof out);
  for (;;) {
    if (cnv_queue_try_pop_mpmc(b->req, rec) == CNV_OK) {
      /* the handler's work: check the line, write the result */
      out.seq = (uint32_t)rec[0];
      out.status = (uint16_t)(rec[0] >> 32) == 0 ? CNV_EINVAL : CNV_OK;
      memcpy(out.result, RESULT, RESULT_LEN);
      out.len = RESULT_LEN;
      while (cnv_queue_try_push_mpmc(b->rep, &out) == CNV_EFULL) sched_yield();
      continue;
    }
    if (atomic_load_explicit(&b->stop, memory_order_acquire)) break;
    sched_yield();
  }
  return NULL;
}

static void reply_bare(cnv_bench_state *st) {
  bare_reply b = {.req = NULL, .rep = NULL};
  if (cnv_queue_create(4096, RECORD, &b.req) != CNV_OK || cnv_queue_create(WINDOW, sizeof(reply_rec), &b.rep) != CNV_OK) {
    cnv_queue_destroy(b.req);
    cnv_bench_skip_with_error(st, "queue set-up failed");
    return;
  }
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, bare_reply_worker, &b);
  uint64_t rec[RECORD / 8];
  memset(rec, 0, sizeof rec);
  memcpy((char *)rec + LINE_AT, LINE, LINE_LEN);
  reply_rec in;
  uint64_t seq = 0, bad = 0;
  uint32_t in_flight = 0;
  while (cnv_bench_keep_running(st)) { /* one iteration: one reply received */
    for (;;) {
      while (in_flight < WINDOW) {
        rec[0] = (uint64_t)LINE_LEN << 32 | (uint32_t)seq;
        if (cnv_queue_try_push_mpmc_prefix(b.req, rec, LINE_AT + LINE_LEN) == CNV_EFULL) break;
        seq++;
        in_flight++;
      }
      if (cnv_queue_try_pop_mpmc(b.rep, &in) == CNV_OK) break;
      sched_yield();
    }
    in_flight--;
    bad += !answer_ok(in.status, in.result, in.len);
  }
  for (; in_flight > 0; in_flight--) {
    while (cnv_queue_try_pop_mpmc(b.rep, &in) != CNV_OK) sched_yield();
    bad += !answer_ok(in.status, in.result, in.len);
  }
  atomic_store_explicit(&b.stop, 1, memory_order_release);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cnv_queue_destroy(b.req);
  cnv_queue_destroy(b.rep);
  if (bad) {
    cnv_bench_skip_with_error(st, "a reply did not carry the handler's result");
    return;
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(reply_bare, "pipeline_reply_2workers/bare_queue", 1, 0)
