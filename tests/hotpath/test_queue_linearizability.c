/* Linearizability of the MPMC queue. Many rounds of 3 threads x 6 random try_push/try_pop
 * calls on a capacity-2 queue; each call logs invoke/response stamps from one global
 * seq_cst counter. Each history is checked against a sequential bounded FIFO by a
 * Wing & Gong search: try every op that no pending op's response precedes, apply it to the
 * model, backtrack on a mismatch, and memoize (per-thread progress, model state) pairs that
 * are known dead ends. A pop answered CNV_EAGAIN (the oldest record still being written)
 * takes effect as nothing, at an instant when the queue is not empty, and must overlap
 * another thread's call. The checker itself is tested on hand-made good and bad histories. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"

enum { THREADS = 3,
       OPS = 6,
       CAP = 2,
       MEMO = 4096 };
enum { OP_PUSH,
       OP_POP };

typedef struct op {
  uint8_t kind;
  uint8_t value;   /* pushed value, or value popped when status is CNV_OK */
  int16_t status;  /* CNV_OK, CNV_EFULL, CNV_EEMPTY or (pop) CNV_EAGAIN */
  uint32_t invoke; /* global stamps: invoke < response */
  uint32_t response;
} op;

typedef struct history {
  int n[THREADS];
  op ops[THREADS][OPS];
} history;

typedef struct model {
  uint8_t items[CAP];
  uint8_t len;
} model;

typedef struct search {
  const history *h;
  uint32_t dead[MEMO]; /* keys of states known not to linearize (0 = empty slot) */
} search;

static uint32_t state_key(const int *idx, const model *m) {
  uint32_t k = (uint32_t)idx[0] | (uint32_t)idx[1] << 3 | (uint32_t)idx[2] << 6 | (uint32_t)m->len << 9;
  for (int i = 0; i < m->len; i++) k |= (uint32_t)m->items[i] << (11 + 8 * i);
  return k + 1;
}

static int memo_slot(search *s, uint32_t key) {
  uint32_t i = (key * 2654435761u) % MEMO;
  while (s->dead[i] && s->dead[i] != key) i = (i + 1) % MEMO;
  return (int)i;
}

/* Applies o to m following the sequential spec; 0 when o's logged outcome is impossible. */
static int apply(model *m, const op *o) {
  if (o->kind == OP_PUSH) {
    if (m->len == CAP) return o->status == CNV_EFULL;
    if (o->status != CNV_OK) return 0;
    m->items[m->len++] = o->value;
    return 1;
  }
  if (o->status == CNV_EAGAIN) return m->len > 0; /* not empty, and nothing taken */
  if (m->len == 0) return o->status == CNV_EEMPTY;
  if (o->status != CNV_OK || o->value != m->items[0]) return 0;
  memmove(m->items, m->items + 1, --m->len);
  return 1;
}

static int linearize(search *s, int *idx, model m) {
  uint32_t min_resp = UINT32_MAX;
  for (int t = 0; t < THREADS; t++)
    if (idx[t] < s->h->n[t] && s->h->ops[t][idx[t]].response < min_resp)
      min_resp = s->h->ops[t][idx[t]].response;
  if (min_resp == UINT32_MAX) return 1; /* every op placed */
  uint32_t key = state_key(idx, &m);
  int slot = memo_slot(s, key);
  if (s->dead[slot] == key) return 0;
  for (int t = 0; t < THREADS; t++) {
    if (idx[t] >= s->h->n[t]) continue;
    const op *o = &s->h->ops[t][idx[t]];
    if (o->invoke > min_resp) continue; /* another pending op finished before o began */
    model next = m;
    if (!apply(&next, o)) continue;
    idx[t]++;
    int ok = linearize(s, idx, next);
    idx[t]--;
    if (ok) return 1;
  }
  s->dead[memo_slot(s, key)] = key;
  return 0;
}

/* 1 when every CNV_EAGAIN pop overlaps a call of another thread (only a push or pop in
 * flight can leave the oldest slot claimed and unwritten). */
static int eagain_overlaps(const history *h) {
  for (int a = 0; a < THREADS; a++)
    for (int i = 0; i < h->n[a]; i++) {
      const op *o = &h->ops[a][i];
      if (o->status != CNV_EAGAIN) continue;
      int seen = 0;
      for (int b = 0; b < THREADS; b++)
        for (int j = 0; b != a && j < h->n[b]; j++)
          if (o->invoke < h->ops[b][j].response && h->ops[b][j].invoke < o->response) seen = 1;
      if (o->kind != OP_POP || !seen) return 0;
    }
  return 1;
}

static int history_linearizable(const history *h) {
  if (!eagain_overlaps(h)) return 0;
  static search s;
  memset(&s, 0, sizeof s);
  s.h = h;
  int idx[THREADS] = {0};
  model m = {{0}, 0};
  return linearize(&s, idx, m);
}

/* ---- checker self-test ---------------------------------------------------------------- */

static void add(history *h, int t, int kind, int value, int status, uint32_t inv, uint32_t res) {
  op o = {(uint8_t)kind, (uint8_t)value, (int16_t)status, inv, res};
  h->ops[t][h->n[t]++] = o;
}

static void test_checker_accepts_and_rejects(void **state) {
  (void)state;
  history h;
  memset(&h, 0, sizeof h); /* push 1 then pop 1, sequential */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 1);
  add(&h, 1, OP_POP, 1, CNV_OK, 2, 3);
  assert_true(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* completed push, later pop says empty */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 1);
  add(&h, 1, OP_POP, 0, CNV_EEMPTY, 2, 3);
  assert_false(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* overlapping: the empty pop may go first */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 5);
  add(&h, 1, OP_POP, 0, CNV_EEMPTY, 1, 2);
  assert_true(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* FIFO broken: 2 out before 1 */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 1);
  add(&h, 0, OP_PUSH, 2, CNV_OK, 2, 3);
  add(&h, 1, OP_POP, 2, CNV_OK, 4, 5);
  assert_false(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* concurrent pushes: either order, pops must agree */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 3);
  add(&h, 1, OP_PUSH, 2, CNV_OK, 1, 2);
  add(&h, 2, OP_POP, 2, CNV_OK, 4, 5);
  add(&h, 2, OP_POP, 1, CNV_OK, 6, 7);
  add(&h, 2, OP_PUSH, 3, CNV_OK, 8, 9);
  add(&h, 2, OP_PUSH, 4, CNV_OK, 10, 11);
  add(&h, 0, OP_PUSH, 5, CNV_EFULL, 12, 13);
  assert_true(history_linearizable(&h));
  h.ops[0][1].status = CNV_OK; /* a third record cannot fit in capacity 2 */
  assert_false(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* "being written" during an overlapping push: fine */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 5);
  add(&h, 1, OP_POP, 0, CNV_EAGAIN, 1, 2);
  add(&h, 1, OP_POP, 1, CNV_OK, 6, 7);
  assert_true(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* ... but not after every push returned */
  add(&h, 0, OP_PUSH, 1, CNV_OK, 0, 1);
  add(&h, 1, OP_POP, 0, CNV_EAGAIN, 2, 3);
  add(&h, 1, OP_POP, 1, CNV_OK, 6, 7);
  assert_false(history_linearizable(&h));
  memset(&h, 0, sizeof h); /* ... and not while the queue is empty throughout */
  add(&h, 0, OP_POP, 0, CNV_EEMPTY, 0, 5);
  add(&h, 1, OP_POP, 0, CNV_EAGAIN, 1, 2);
  assert_false(history_linearizable(&h));
}

/* ---- recorded histories --------------------------------------------------------------- */

typedef struct round_ctx {
  cnv_queue *q;
  pthread_barrier_t start, done;
  _Atomic uint32_t clock;
  _Atomic int ready; /* workers that reached the start line of this round */
  history h;
  uint64_t rng[THREADS];
  int stop;
} round_ctx;

typedef struct worker {
  round_ctx *c;
  int t;
} worker;

/* A short random busy pause, so the threads' calls interleave in many different ways. */
static void jitter(uint64_t *rng, uint64_t most) {
  for (volatile uint64_t n = cnv_test_rand(rng) % most; n > 0; n--) continue;
}

/* Sometimes gives the CPU away inside a call's [invoke, response] window, so calls of
 * different threads overlap even when this process gets one core at a time. */
static void widen(uint64_t *rng) {
  if (cnv_test_rand(rng) % 4 == 0) sched_yield();
}

static void run_ops(round_ctx *c, int t) {
  atomic_fetch_add(&c->ready, 1);
  for (unsigned spins = 0; atomic_load(&c->ready) < THREADS;)
    if (++spins % 4096 == 0) sched_yield();
  for (int i = 0; i < OPS; i++) {
    jitter(&c->rng[t], 64);
    op *o = &c->h.ops[t][i];
    uint64_t v = (uint64_t)(t * OPS + i + 1);
    o->kind = (cnv_test_rand(&c->rng[t]) & 1) ? OP_PUSH : OP_POP;
    o->invoke = atomic_fetch_add(&c->clock, 1);
    widen(&c->rng[t]);
    cnv_status st = o->kind == OP_PUSH ? cnv_queue_try_push_mpmc(c->q, &v) : cnv_queue_try_pop_mpmc(c->q, &v);
    widen(&c->rng[t]);
    o->response = atomic_fetch_add(&c->clock, 1);
    o->status = (int16_t)st;
    o->value = (uint8_t)v;
  }
  c->h.n[t] = OPS;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  for (;;) {
    pthread_barrier_wait(&w->c->start);
    if (w->c->stop) return NULL;
    run_ops(w->c, w->t);
    pthread_barrier_wait(&w->c->done);
  }
}

/* 1 when two threads' calls overlapped in time (the history is not trivially sequential). */
static int has_overlap(const history *h) {
  for (int a = 0; a < THREADS; a++)
    for (int b = a + 1; b < THREADS; b++)
      for (int i = 0; i < h->n[a]; i++)
        for (int j = 0; j < h->n[b]; j++)
          if (h->ops[a][i].invoke < h->ops[b][j].response && h->ops[b][j].invoke < h->ops[a][i].response)
            return 1;
  return 0;
}

static void drain(cnv_queue *q) {
  uint64_t v;
  while (cnv_queue_try_pop_mpmc(q, &v) == CNV_OK) continue;
}

static void test_recorded_histories(void **state) {
  (void)state;
  static round_ctx c;
  memset(&c, 0, sizeof c);
  assert_int_equal(cnv_queue_create(CAP, 8, &c.q), CNV_OK);
  for (int t = 0; t < THREADS; t++) c.rng[t] = 1234 + (uint64_t)t;
  pthread_barrier_init(&c.start, NULL, THREADS + 1);
  pthread_barrier_init(&c.done, NULL, THREADS + 1);
  pthread_t th[THREADS];
  worker w[THREADS];
  for (int t = 0; t < THREADS; t++) {
    w[t] = (worker){&c, t};
    assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
  }
  uint64_t rounds = cnv_test_iters(20000), bad = 0, overlapping = 0, eagain = 0;
  for (uint64_t r = 0; r < rounds; r++) {
    atomic_store(&c.clock, 0);
    atomic_store(&c.ready, 0);
    pthread_barrier_wait(&c.start);
    pthread_barrier_wait(&c.done);
    if (!history_linearizable(&c.h)) bad++;
    overlapping += (uint64_t)has_overlap(&c.h);
    for (int t = 0; t < THREADS; t++)
      for (int i = 0; i < c.h.n[t]; i++) eagain += c.h.ops[t][i].status == CNV_EAGAIN;
    drain(c.q);
  }
  c.stop = 1;
  pthread_barrier_wait(&c.start);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&c.start);
  pthread_barrier_destroy(&c.done);
  cnv_queue_destroy(c.q);
  assert_int_equal(bad, 0);
  print_message("%llu of %llu histories overlapped; %llu pops answered CNV_EAGAIN\n",
                (unsigned long long)overlapping, (unsigned long long)rounds, (unsigned long long)eagain);
  assert_true(overlapping > rounds / 2); /* the histories really are concurrent */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checker_accepts_and_rejects),
      cmocka_unit_test(test_recorded_histories),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
