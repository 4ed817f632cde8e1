/* The open ledger (src/ledger ledger.c, append.c, writer.c, prove.c): indices from many
 * threads unique and dense, every record read back with its content, durable growing and
 * acknowledged through on_durable, reopen continuing the index and chain, checkpoints every
 * N and at close (each verifying, root = the Merkle root of the leaves before it), the full
 * policies (DROP counts, BLOCK never drops), group commits of what is queued up to
 * max_batch, max_bytes stopping the writer, the directory lock, the key check, and proofs
 * from the open ledger verifying. */
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

#include <cnv/ledger.h>

#include "cnv_test_util.h"
#include "fixture.h"
#include "ledger/writer_internal.h"

#define THREADS 4

typedef struct fx {
  char dir[256];
  uint8_t pk[CNV_LEDGER_KEY_BYTES];
  uint8_t sk[CNV_LEDGER_SECRET_BYTES];
  cnv_ledger_config cfg;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f || lw_mkdtemp(f->dir) != 0) return -1;
  lw_keys(7, f->pk, f->sk);
  cnv_ledger_config_default(&f->cfg);
  f->cfg.dir = f->dir;
  f->cfg.secret_key = f->sk;
  f->cfg.sync = 2; /* durability is the crash test's; these check the logic */
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  lw_rmdir(f->dir);
  free(f);
  return 0;
}

/* on_durable: counts must grow strictly; the last one seen. */
typedef struct dur_ctx {
  _Atomic uint64_t last;
  _Atomic uint64_t calls;
  _Atomic int not_growing;
} dur_ctx;

static void on_durable(void *ctx, uint64_t d) {
  dur_ctx *c = ctx;
  if (d <= atomic_load(&c->last)) atomic_store(&c->not_growing, 1);
  atomic_store(&c->last, d);
  atomic_fetch_add(&c->calls, 1);
}

typedef struct app_run {
  cnv_ledger *l;
  uint32_t thread;
  uint64_t n;
  uint64_t *index; /* index[i]: what append i returned */
  int failed;
} app_run;

static void *appender(void *arg) {
  app_run *a = arg;
  uint8_t buf[LW_MAX_PAYLOAD];
  uint64_t seen_durable = 0;
  for (uint64_t i = 0; i < a->n; i++) {
    cnv_ledger_entry e;
    lw_make(&e, buf, 1, a->thread, i);
    if (cnv_ledger_append(a->l, &e, &a->index[i]) != CNV_OK) a->failed = 1;
    uint64_t d = cnv_ledger_durable(a->l);
    if (d < seen_durable) a->failed = 1; /* durable only grows */
    seen_durable = d;
    if (i % 64 == 0 && cnv_ledger_wait_durable(a->l, a->index[i], UINT64_MAX) != CNV_OK) a->failed = 1;
  }
  return NULL;
}

/* Reads record index through the open ledger. */
static void read_open(cnv_ledger *l, uint64_t index, cnv_ledger_entry *e, uint8_t *body, uint8_t leaf[32]) {
  size_t len = 0;
  assert_int_equal(cnv__ledger_body(l, index, body, CNV__LBODY_MAX, &len), CNV_OK);
  uint64_t got;
  assert_int_equal(cnv_ledger_entry_decode(body, len, e, &got, NULL), CNV_OK);
  assert_int_equal(got, index);
  if (leaf) assert_int_equal(cnv_ledger_leaf_hash(body, len, leaf), CNV_OK);
}

/* Checks every checkpoint of a closed log: signature, root over the leaves before it, the
 * gap between checkpoints at most max_gap records; returns how many; *last_is_cp says whether
 * the last record is one. */
static uint64_t check_checkpoints(const fx *f, uint64_t max_gap, int *last_is_cp) {
  cnv_ledger_reader *r;
  uint64_t bad = 0;
  assert_int_equal(cnv_ledger_reader_open(f->dir, &r, &bad), CNV_OK);
  uint64_t size = cnv_ledger_reader_size(r);
  const uint8_t(*leaves)[32] = cnv_ledger_reader_leaves(r);
  uint64_t count = 0, last_cp = 0;
  *last_is_cp = 0;
  for (uint64_t i = 0; i < size; i++) {
    cnv_ledger_entry e;
    assert_int_equal(cnv_ledger_reader_get(r, i, &e, NULL), CNV_OK);
    *last_is_cp = e.kind == CNV_LREC_CHECKPOINT;
    if (e.kind != CNV_LREC_CHECKPOINT) continue;
    cnv_checkpoint c;
    assert_int_equal(cnv_checkpoint_decode(e.payload, e.payload_len, &c), CNV_OK);
    assert_int_equal(c.tree_size, i);
    assert_int_equal(cnv_checkpoint_verify(&c, f->pk), CNV_OK);
    uint8_t root[32];
    assert_int_equal(cnv_merkle_root(leaves, i, root), CNV_OK);
    assert_memory_equal(root, c.root, 32);
    assert_true(i - last_cp <= max_gap);
    last_cp = i;
    count++;
  }
  cnv_ledger_reader_close(r);
  return count;
}

/* Opens f's ledger with a checkpoint every `every` records, a queue of capacity and batches
 * of at most batch; the recovery report in rec when not NULL. */
static cnv_ledger *open_sized(fx *f, uint32_t every, uint32_t capacity, uint32_t batch, cnv_ledger_recovery *rec) {
  f->cfg.checkpoint_every = every;
  f->cfg.queue_capacity = capacity;
  f->cfg.max_batch = batch;
  cnv_ledger *l;
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, rec), CNV_OK);
  return l;
}

static void test_threads_dense_durable_reopen(void **state) {
  fx *f = *state;
  dur_ctx dc;
  memset(&dc, 0, sizeof dc);
  f->cfg.on_durable = on_durable;
  f->cfg.durable_ctx = &dc;
  cnv_ledger_recovery rec;
  cnv_ledger *l = open_sized(f, 500, 256, 64, &rec);
  assert_int_equal(rec.records, 1); /* GENESIS */
  uint8_t pk[32];
  cnv_ledger_public_key(l, pk);
  assert_memory_equal(pk, f->pk, 32);
  uint64_t n = cnv_test_iters(5000);
  app_run a[THREADS];
  pthread_t th[THREADS];
  for (uint32_t t = 0; t < THREADS; t++) {
    a[t] = (app_run){.l = l, .thread = t, .n = n, .index = calloc(n, sizeof(uint64_t))};
    assert_non_null(a[t].index);
    assert_int_equal(pthread_create(&th[t], NULL, appender, &a[t]), 0);
  }
  for (uint32_t t = 0; t < THREADS; t++) {
    assert_int_equal(pthread_join(th[t], NULL), 0);
    assert_false(a[t].failed);
  }
  uint64_t top = 0;
  for (uint32_t t = 0; t < THREADS; t++)
    for (uint64_t i = 0; i < n; i++) top = a[t].index[i] > top ? a[t].index[i] : top;
  assert_int_equal(cnv_ledger_wait_durable(l, top, UINT64_MAX), CNV_OK);
  assert_true(cnv_ledger_durable(l) > top);
  /* Unique and dense: every index 1..top is an appended record or a checkpoint. */
  uint8_t *owner = calloc(top + 1, 1);
  assert_non_null(owner);
  for (uint32_t t = 0; t < THREADS; t++)
    for (uint64_t i = 0; i < n; i++) {
      assert_true(a[t].index[i] >= 1);
      assert_int_equal(owner[a[t].index[i]], 0);
      owner[a[t].index[i]] = (uint8_t)(t + 1);
      if (i > 0) assert_true(a[t].index[i] > a[t].index[i - 1]);
    }
  uint8_t *body = malloc(CNV__LBODY_MAX);
  assert_non_null(body);
  for (uint64_t i = 1; i <= top; i++) {
    cnv_ledger_entry e;
    read_open(l, i, &e, body, NULL);
    if (owner[i]) {
      assert_true(lw_check(&e));
      assert_int_equal(e.agent, owner[i] - 1u);
      assert_int_equal(a[e.agent].index[e.ticket], i);
    } else {
      assert_int_equal(e.kind, CNV_LREC_CHECKPOINT);
    }
  }
  cnv_ledger_stats st;
  cnv_ledger_stats_get(l, &st);
  assert_int_equal(st.appended, THREADS * n);
  assert_int_equal(st.dropped, 0);
  assert_int_equal(st.error, CNV_OK);
  assert_true(st.commits >= 1);
  assert_true(st.checkpoints >= 1);
  cnv_ledger_close(l);
  f->cfg.on_durable = NULL;
  /* on_durable: called, growing, and last with the log's final size (close's commit) */
  assert_true(atomic_load(&dc.calls) >= 1);
  assert_false(atomic_load(&dc.not_growing));

  int last_is_cp;
  /* under load a marker lands behind what the queue held: every + a batch or two + the
   * queue; twice that is the bound a starved marker would break */
  uint64_t cps = check_checkpoints(f, 2 * (500 + 2 * 64 + 256 + 1), &last_is_cp);
  assert_true(cps >= 2);
  assert_true(last_is_cp); /* close wrote one */

  /* Reopen: everything kept, the index and the chain continue. */
  cnv_ledger_reader *r;
  assert_int_equal(cnv_ledger_reader_open(f->dir, &r, NULL), CNV_OK);
  uint64_t size = cnv_ledger_reader_size(r);
  cnv_ledger_reader_close(r);
  assert_int_equal(atomic_load(&dc.last), size);
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, &rec), CNV_OK);
  assert_int_equal(rec.records, size);
  assert_int_equal(rec.torn_bytes, 0);
  assert_int_equal(rec.last_checkpoint, size - 1);
  cnv_ledger_entry e;
  uint8_t buf[LW_MAX_PAYLOAD];
  lw_make(&e, buf, 2, 0, 0);
  uint64_t idx;
  assert_int_equal(cnv_ledger_append(l, &e, &idx), CNV_OK);
  assert_int_equal(idx, size);
  assert_int_equal(cnv_ledger_wait_durable(l, idx, UINT64_MAX), CNV_OK);
  uint8_t prev_leaf[32];
  cnv_ledger_entry pe;
  read_open(l, size - 1, &pe, body, prev_leaf);
  size_t len;
  assert_int_equal(cnv__ledger_body(l, idx, body, CNV__LBODY_MAX, &len), CNV_OK);
  uint8_t prev[32];
  assert_int_equal(cnv_ledger_entry_decode(body, len, &e, NULL, prev), CNV_OK);
  assert_memory_equal(prev, prev_leaf, 32);
  assert_true(lw_check(&e));
  cnv_ledger_close(l);
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(f->dir, f->pk, &rep), CNV_OK);
  assert_int_equal(rep.records, size + 2); /* the record and the close's checkpoint */
  free(body);
  free(owner);
  for (uint32_t t = 0; t < THREADS; t++) free(a[t].index);
}

static void test_checkpoints_every_n_and_explicit(void **state) {
  fx *f = *state;
  cnv_ledger *l = open_sized(f, 10, 8, 4, NULL);
  uint8_t buf[LW_MAX_PAYLOAD];
  uint64_t idx = 0;
  for (uint64_t i = 0; i < 200; i++) {
    cnv_ledger_entry e;
    lw_make(&e, buf, 3, 0, i);
    assert_int_equal(cnv_ledger_append(l, &e, &idx), CNV_OK);
    /* one record per group commit: the writer queues its marker as the 10th arrives */
    assert_int_equal(cnv_ledger_wait_durable(l, idx, UINT64_MAX), CNV_OK);
  }
  cnv_checkpoint c;
  assert_int_equal(cnv_ledger_checkpoint(l, &c), CNV_OK);
  assert_true(c.tree_size > idx);
  assert_true(cnv_ledger_durable(l) > c.tree_size);
  assert_int_equal(cnv_checkpoint_verify(&c, f->pk), CNV_OK);
  /* the covering checkpoint of a record is the latest durable one */
  cnv_checkpoint cov;
  assert_int_equal(cnv__ledger_covering(l, idx, &cov), CNV_OK);
  assert_int_equal(cov.tree_size, c.tree_size);
  assert_int_equal(cnv__ledger_covering(l, cnv_ledger_durable(l), &cov), CNV_ERANGE);
  /* proofs from the open ledger verify against the checkpoint's root and any tree size */
  uint8_t(*leaves)[32] = malloc(c.tree_size * 32);
  uint8_t *body = malloc(CNV__LBODY_MAX);
  assert_non_null(leaves);
  assert_non_null(body);
  for (uint64_t i = 0; i < c.tree_size; i++) {
    cnv_ledger_entry e;
    read_open(l, i, &e, body, leaves[i]);
  }
  uint8_t proof[CNV_LEDGER_MAX_PROOF][32];
  const uint8_t(*cproof)[32] = (const uint8_t(*)[32])proof;
  const uint8_t(*cleaves)[32] = (const uint8_t(*)[32])leaves;
  size_t pn;
  for (uint64_t i = 0; i < c.tree_size; i++) {
    assert_int_equal(cnv_ledger_prove(l, i, c.tree_size, proof, &pn), CNV_OK);
    assert_int_equal(cnv_merkle_verify_inclusion(leaves[i], i, c.tree_size, cproof, pn, c.root), CNV_OK);
    uint64_t size = i + 1 + (i * 7) % (c.tree_size - i);
    uint8_t root[32];
    assert_int_equal(cnv_merkle_root(cleaves, size, root), CNV_OK);
    assert_int_equal(cnv_ledger_prove(l, i, size, proof, &pn), CNV_OK);
    assert_int_equal(cnv_merkle_verify_inclusion(leaves[i], i, size, cproof, pn, root), CNV_OK);
    if (i + 1 < size)
      assert_int_equal(cnv_merkle_verify_inclusion(leaves[i + 1], i, size, cproof, pn, root), CNV_ELEDGER_PROOF);
  }
  assert_int_equal(cnv_ledger_prove(l, 5, 5, proof, &pn), CNV_ERANGE);
  assert_int_equal(cnv_ledger_prove(l, 0, cnv_ledger_durable(l) + 1, proof, &pn), CNV_ERANGE);
  cnv_ledger_close(l);
  int last_is_cp;
  /* 10 records, then the checkpoint covering them */
  uint64_t cps = check_checkpoints(f, 11, &last_is_cp);
  assert_true(cps >= 200 / 11);
  assert_true(last_is_cp);
  assert_int_equal(cnv_ledger_verify_dir(f->dir, f->pk, NULL), CNV_OK);
  free(body);
  free(leaves);
}

/* A thread that appends n records of lw_make(round, thread, 0..n-1) and waits for none. */
typedef struct plain_run {
  cnv_ledger *l;
  uint64_t round;
  uint32_t thread;
  uint64_t n;
  int failed;
} plain_run;

static void *plain_appender(void *arg) {
  plain_run *a = arg;
  uint8_t buf[LW_MAX_PAYLOAD];
  for (uint64_t i = 0; i < a->n; i++) {
    cnv_ledger_entry e;
    lw_make(&e, buf, a->round, a->thread, i);
    if (cnv_ledger_append(a->l, &e, NULL) != CNV_OK) a->failed = 1;
  }
  return NULL;
}

/* Starts k plain appenders on l (threads 0..k-1, n records each, of round). */
static void plain_start(plain_run *a, pthread_t *th, uint32_t k, cnv_ledger *l, uint64_t round, uint64_t n) {
  for (uint32_t t = 0; t < k; t++) {
    a[t] = (plain_run){.l = l, .round = round, .thread = t, .n = n, .failed = 0};
    assert_int_equal(pthread_create(&th[t], NULL, plain_appender, &a[t]), 0);
  }
}

/* Joins the k appenders plain_start started; every append must have succeeded. */
static void plain_join(const plain_run *a, const pthread_t *th, uint32_t k) {
  for (uint32_t t = 0; t < k; t++) {
    assert_int_equal(pthread_join(th[t], NULL), 0);
    assert_false(a[t].failed);
  }
}

/* Producers that never wait keep the queue full: the writer's markers must still get in. */
static void test_checkpoints_under_saturation(void **state) {
  fx *f = *state;
  cnv_ledger *l = open_sized(f, 100, 256, 64, NULL);
  plain_run a[THREADS];
  pthread_t th[THREADS];
  plain_start(a, th, THREADS, l, 7, cnv_test_iters(20000));
  plain_join(a, th, THREADS);
  cnv_ledger_stats s;
  cnv_ledger_stats_get(l, &s);
  assert_int_equal(s.dropped, 0);
  cnv_ledger_close(l);
  int last_is_cp;
  /* every + a batch or two + the queue, twice */
  assert_true(check_checkpoints(f, 2 * (100 + 2 * 64 + 256 + 1), &last_is_cp) >= 2);
  assert_true(last_is_cp);
}

/* on_durable that holds the writer until the test opens the gate. */
typedef struct gate {
  _Atomic int entered;
  _Atomic int open;
} gate;

static void gate_durable(void *ctx, uint64_t d) {
  (void)d;
  gate *g = ctx;
  atomic_store(&g->entered, 1);
  while (!atomic_load(&g->open)) sched_yield();
}

/* A ledger whose writer a gate holds, and the first record appended to it (buf its payload). */
typedef struct held {
  gate g;
  uint8_t buf[LW_MAX_PAYLOAD];
  cnv_ledger_entry e;
} held;

/* Opens f's ledger with a queue of 4 under policy, the writer held by h->g (no marker of
 * the writer's takes a slot): appends lw_make(round, thread, 0) into h->e and returns once
 * the writer holds it, the queue empty. */
static cnv_ledger *open_held(fx *f, held *h, cnv_ledger_full_policy policy, uint64_t round, uint32_t thread) {
  atomic_init(&h->g.entered, 0);
  atomic_init(&h->g.open, 0);
  f->cfg.queue_capacity = 4;
  f->cfg.full_policy = policy;
  f->cfg.checkpoint_interval_ms = 1000000000u;
  f->cfg.on_durable = gate_durable;
  f->cfg.durable_ctx = &h->g;
  cnv_ledger *l;
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, NULL), CNV_OK);
  lw_make(&h->e, h->buf, round, thread, 0);
  assert_int_equal(cnv_ledger_append(l, &h->e, NULL), CNV_OK);
  while (!atomic_load(&h->g.entered)) sched_yield();
  return l;
}

/* on_durable that holds the writer until the gate opens, and logs every durable count. */
#define GROUP_LOG 128
typedef struct group_log {
  gate g;
  _Atomic uint32_t n;
  uint64_t d[GROUP_LOG]; /* written by the writer before n counts it */
} group_log;

static void group_durable(void *ctx, uint64_t d) {
  group_log *gl = ctx;
  uint32_t i = atomic_load(&gl->n);
  if (i < GROUP_LOG) gl->d[i] = d;
  atomic_store(&gl->n, i + 1); /* only the writer calls on_durable */
  gate_durable(&gl->g, d);
}

/* A group commit is what the queue holds when the writer comes to it, up to max_batch,
 * however many pops the writer takes it in: 512 records queued behind a held writer are
 * committed as groups of max_batch, then the rest. */
static void groups_case(fx *f, uint32_t max_batch) {
  group_log gl;
  memset(&gl, 0, sizeof gl);
  f->cfg.queue_capacity = 512;
  f->cfg.max_batch = max_batch;
  f->cfg.checkpoint_every = 1000000u; /* no marker takes a slot or a place in a group */
  f->cfg.checkpoint_interval_ms = 1000000000u;
  f->cfg.on_durable = group_durable;
  f->cfg.durable_ctx = &gl;
  cnv_ledger *l;
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, NULL), CNV_OK);
  held h;
  lw_make(&h.e, h.buf, 1, 0, 0);
  assert_int_equal(cnv_ledger_append(l, &h.e, NULL), CNV_OK);
  while (!atomic_load(&gl.g.entered)) sched_yield();
  uint64_t base = gl.d[0];
  for (uint64_t i = 1; i <= 512; i++) {
    lw_make(&h.e, h.buf, 1, 0, i);
    assert_int_equal(cnv_ledger_append(l, &h.e, NULL), CNV_OK);
  }
  atomic_store(&gl.g.open, 1);
  assert_int_equal(cnv_ledger_wait_durable(l, base + 511, UINT64_MAX), CNV_OK);
  uint32_t groups = (512 + max_batch - 1) / max_batch;
  /* the writer publishes the durable count (which wakes the wait above) before it calls
   * on_durable: give the last call up to 10 s to log it */
  for (int i = 0; i < 10000 && atomic_load(&gl.n) < 1 + groups; i++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  assert_true(atomic_load(&gl.n) >= 1 + groups);
  for (uint32_t k = 1; k <= groups; k++) {
    uint64_t want = k < groups ? max_batch : 512 - (uint64_t)(groups - 1) * max_batch;
    assert_int_equal(gl.d[k] - gl.d[k - 1], want);
  }
  cnv_ledger_close(l);
  f->cfg.on_durable = NULL;
  assert_int_equal(cnv_ledger_verify_dir(f->dir, f->pk, NULL), CNV_OK);
}

/* Groups larger than the writer's chunk, and one not a multiple of it */
static void test_groups_up_to_max_batch(void **state) { groups_case(*state, 200); }

/* Groups smaller than the writer's chunk */
static void test_groups_below_chunk(void **state) { groups_case(*state, 10); }

static void test_drop_counts(void **state) {
  fx *f = *state;
  held h;
  cnv_ledger *l = open_held(f, &h, CNV_LEDGER_FULL_DROP, 4, 0);
  uint64_t ok = 1, drops = 0;
  for (uint64_t i = 1; i < 20; i++) {
    lw_make(&h.e, h.buf, 4, 0, i);
    cnv_status st = cnv_ledger_append(l, &h.e, NULL);
    if (st == CNV_OK)
      ok++;
    else {
      assert_int_equal(st, CNV_EFULL);
      drops++;
    }
  }
  assert_int_equal(ok, 1 + 4);
  assert_int_equal(drops, 15);
  cnv_ledger_stats s;
  cnv_ledger_stats_get(l, &s);
  assert_int_equal(s.dropped, 15);
  assert_int_equal(s.appended, 5);
  atomic_store(&h.g.open, 1);
  cnv_ledger_close(l);
  assert_int_equal(cnv_ledger_verify_dir(f->dir, f->pk, NULL), CNV_OK);
}

static void test_block_never_drops(void **state) {
  fx *f = *state;
  held h;
  cnv_ledger *l = open_held(f, &h, CNV_LEDGER_FULL_BLOCK, 5, 9);
  plain_run b[2];
  pthread_t th[2];
  plain_start(b, th, 2, l, 5, 50);
  /* open the gate only once an append found the queue full */
  cnv_queue_stats qs;
  do {
    sched_yield();
    cnv_queue_stats_get(l->q, &qs);
  } while (qs.rejected_full == 0);
  atomic_store(&h.g.open, 1);
  plain_join(b, th, 2);
  cnv_ledger_stats s;
  cnv_ledger_stats_get(l, &s);
  assert_int_equal(s.dropped, 0);
  assert_true(s.blocked >= 1);
  assert_int_equal(s.appended, 101);
  cnv_ledger_close(l);
  /* every record is there */
  cnv_ledger_reader *r;
  assert_int_equal(cnv_ledger_reader_open(f->dir, &r, NULL), CNV_OK);
  uint64_t apps = 0;
  for (uint64_t i = 0; i < cnv_ledger_reader_size(r); i++) {
    assert_int_equal(cnv_ledger_reader_get(r, i, &h.e, NULL), CNV_OK);
    if (h.e.kind == CNV_LREC_APP) {
      assert_true(lw_check(&h.e));
      apps++;
    }
  }
  assert_int_equal(apps, 101);
  cnv_ledger_reader_close(r);
}

/* max_bytes reached: the writer stops with CNV_EFULL after committing what fit. sync 1 and
 * no wait between appends: batches are written while the previous one's sync runs. */
static void max_bytes_case(fx *f, uint32_t sync, bool wait_each) {
  f->cfg.sync = sync;
  f->cfg.max_bytes = 16384;
  f->cfg.segment_bytes = 4096;
  cnv_ledger *l;
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, NULL), CNV_OK);
  uint8_t buf[LW_MAX_PAYLOAD];
  cnv_status st = CNV_OK;
  uint64_t i = 0;
  for (; i < 10000 && st == CNV_OK; i++) {
    cnv_ledger_entry e;
    lw_make(&e, buf, 6, 0, i);
    uint64_t idx;
    st = cnv_ledger_append(l, &e, &idx);
    if (st == CNV_OK && (wait_each || i % 16 == 15)) st = cnv_ledger_wait_durable(l, idx, UINT64_MAX);
  }
  assert_int_equal(st, CNV_ESTATE);
  cnv_ledger_stats s;
  cnv_ledger_stats_get(l, &s);
  assert_int_equal(s.error, CNV_EFULL);
  assert_true(s.bytes <= 16384);
  cnv_ledger_entry e;
  lw_make(&e, buf, 6, 0, i);
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_ESTATE);
  assert_int_equal(cnv_ledger_wait_durable(l, s.durable, 1000000), CNV_ESTATE);
  assert_int_equal(cnv_ledger_checkpoint(l, NULL), CNV_ESTATE);
  cnv_ledger_close(l);
  /* what was acknowledged is intact */
  cnv_ledger_reader *r;
  assert_int_equal(cnv_ledger_reader_open(f->dir, &r, NULL), CNV_OK);
  assert_int_equal(cnv_ledger_reader_size(r), s.durable);
  assert_int_equal(cnv_ledger_reader_torn(r), 0);
  cnv_ledger_reader_close(r);
}

static void test_max_bytes_stops_writer(void **state) { max_bytes_case(*state, 2, true); }

static void test_max_bytes_stops_writer_synced(void **state) { max_bytes_case(*state, 1, false); }

static void test_lock_and_key(void **state) {
  fx *f = *state;
  cnv_ledger *l, *l2;
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, NULL), CNV_OK);
  assert_int_equal(cnv_ledger_open(&f->cfg, &l2, NULL), CNV_ESTATE);
  cnv_ledger_close(l);
  uint8_t pk2[32], sk2[64];
  lw_keys(8, pk2, sk2);
  cnv_ledger_config c = f->cfg;
  c.secret_key = sk2;
  assert_int_equal(cnv_ledger_open(&c, &l2, NULL), CNV_ELEDGER_KEY);
  /* the lock is released after a refused open */
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, NULL), CNV_OK);
  cnv_ledger_close(l);
  /* configuration checks */
  c = f->cfg;
  c.queue_capacity = 100;
  assert_int_equal(cnv_ledger_open(&c, &l, NULL), CNV_ERANGE);
  c = f->cfg;
  c.segment_bytes = (UINT64_C(1) << 30) + 1; /* a reader refuses segment files past 1 GiB */
  assert_int_equal(cnv_ledger_open(&c, &l, NULL), CNV_ERANGE);
  c = f->cfg;
  c.dir = NULL;
  assert_int_equal(cnv_ledger_open(&c, &l, NULL), CNV_EINVAL);
  c = f->cfg;
  c.secret_key = NULL;
  assert_int_equal(cnv_ledger_open(&c, &l, NULL), CNV_EINVAL);
  assert_int_equal(cnv_ledger_open(NULL, &l, NULL), CNV_EINVAL);
  /* the ledger's own kinds cannot be appended */
  assert_int_equal(cnv_ledger_open(&f->cfg, &l, NULL), CNV_OK);
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_CHECKPOINT;
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_EINVAL);
  e.kind = CNV_LREC_GENESIS;
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_EINVAL);
  e.kind = CNV_LREC_APP;
  e.payload_len = CNV_LEDGER_MAX_PAYLOAD + 1;
  uint8_t big[CNV_LEDGER_MAX_PAYLOAD + 1];
  memset(big, 1, sizeof big);
  e.payload = big;
  assert_int_equal(cnv_ledger_append(l, &e, NULL), CNV_ERANGE);
  e.payload_len = CNV_LEDGER_MAX_PAYLOAD; /* the largest: heap-copied */
  uint64_t idx;
  assert_int_equal(cnv_ledger_append(l, &e, &idx), CNV_OK);
  assert_int_equal(cnv_ledger_wait_durable(l, idx, UINT64_MAX), CNV_OK);
  uint8_t *body = malloc(CNV__LBODY_MAX);
  assert_non_null(body);
  cnv_ledger_entry got;
  read_open(l, idx, &got, body, NULL);
  assert_int_equal(got.payload_len, CNV_LEDGER_MAX_PAYLOAD);
  assert_memory_equal(got.payload, big, CNV_LEDGER_MAX_PAYLOAD);
  free(body);
  cnv_ledger_close(l);
  assert_int_equal(cnv_ledger_verify_dir(f->dir, f->pk, NULL), CNV_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_threads_dense_durable_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checkpoints_every_n_and_explicit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checkpoints_under_saturation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_groups_up_to_max_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_groups_below_chunk, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drop_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_block_never_drops, setup, teardown),
      cmocka_unit_test_setup_teardown(test_max_bytes_stops_writer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_max_bytes_stops_writer_synced, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lock_and_key, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
