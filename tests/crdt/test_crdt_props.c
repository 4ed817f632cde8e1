/* Property tests of the CRDT types: random operations on 3-5 replicas whose deltas travel
 * through a network that loses, duplicates and reorders them (as encoded bytes); then
 * - merge is commutative, associative and idempotent on the states and deltas seen;
 * - the join of every delta equals the join of every full state;
 * - after one anti-entropy round every replica holds the same state and the expected value;
 * - the encoding round-trips, is canonical, and rejects truncation, trailing bytes and any
 *   bit flip that would not re-encode to itself;
 * - OR-Set removals leave no dots behind; retirement keeps values and bounds replicas().
 * Seeded: CNV_CRDT_SEED=<n> replays a run; the seed is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cnv/crdt.h>

#include "cnv_test_util.h"

static uint64_t g_seed, g_rng;

static uint64_t rnd(uint64_t n) { return cnv_test_rand(&g_rng) % n; }

#define MAXR 5
#define MAXMSG 4096
#define BUF (1u << 16)

typedef struct msg {
  uint8_t *b;
  size_t n;
  int to;
} msg;

/* What the replicas did, to check values against. */
typedef struct model {
  int64_t sum;
  uint64_t ticks[MAXR + 1];
  uint64_t lww_ts, lww_rep;
  char lww_val[8];
} model;

typedef struct sim {
  int type, nrep;
  cnv_crdt *s[MAXR + 1], *acc[MAXR + 1];
  msg net[MAXMSG];
  size_t nnet;
  msg log[MAXMSG]; /* every delta shipped */
  size_t nlog;
  model m;
} sim;

static uint8_t *encode(const cnv_crdt *c, size_t *n) {
  static uint8_t buf[BUF];
  assert_int_equal(cnv_crdt_encode(c, buf, sizeof buf, n), CNV_OK);
  uint8_t *b = malloc(*n);
  assert_non_null(b);
  memcpy(b, buf, *n);
  return b;
}

static cnv_crdt *decode(const uint8_t *b, size_t n) {
  cnv_crdt *c = NULL;
  assert_int_equal(cnv_crdt_decode(b, n, 0, &c), CNV_OK);
  return c;
}

static void merge_bytes(cnv_crdt *dst, const uint8_t *b, size_t n) {
  cnv_crdt *c = decode(b, n);
  assert_int_equal(cnv_crdt_merge(dst, c), CNV_OK);
  cnv_crdt_destroy(c);
}

static const char *names[] = {"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"};

static void op(sim *S, int r, bool removes) {
  cnv_crdt *s = S->s[r], *d = S->acc[r];
  switch (S->type) {
    case CNV_CRDT_GCOUNTER: {
      uint64_t n = rnd(5);
      assert_int_equal(cnv_crdt_gcounter_inc(s, n, d), CNV_OK);
      S->m.sum += (int64_t)n;
      break;
    }
    case CNV_CRDT_PNCOUNTER: {
      int64_t n = (int64_t)rnd(11) - 5;
      assert_int_equal(cnv_crdt_pncounter_add(s, n, d), CNV_OK);
      S->m.sum += n;
      break;
    }
    case CNV_CRDT_ORSET: {
      const char *e = names[rnd(8)];
      if (removes && rnd(5) < 2)
        assert_int_equal(cnv_crdt_orset_remove(s, e, 2, d), CNV_OK);
      else
        assert_int_equal(cnv_crdt_orset_add(s, e, 2, d), CNV_OK);
      break;
    }
    case CNV_CRDT_LWW: {
      uint64_t ts = rnd(40);
      char v[8];
      snprintf(v, sizeof v, "v%u", (unsigned)rnd(100));
      assert_int_equal(cnv_crdt_lww_set(s, v, strlen(v), ts, d), CNV_OK);
      /* The winner: largest (ts, replica), then the bytewise larger value. */
      size_t a = strlen(v), b = strlen(S->m.lww_val), k = a < b ? a : b;
      int vc = memcmp(v, S->m.lww_val, k);
      vc = vc ? vc : (int)a - (int)b;
      if (S->m.lww_rep == 0 || ts > S->m.lww_ts || (ts == S->m.lww_ts && (uint64_t)r > S->m.lww_rep) ||
          (ts == S->m.lww_ts && (uint64_t)r == S->m.lww_rep && vc > 0)) {
        S->m.lww_ts = ts;
        S->m.lww_rep = (uint64_t)r;
        memcpy(S->m.lww_val, v, a + 1);
      }
      break;
    }
    case CNV_CRDT_MVREG:
      assert_int_equal(cnv_crdt_mvreg_set(s, names[rnd(8)], 2, d), CNV_OK);
      break;
    default:
      assert_int_equal(cnv_crdt_vclock_tick(s, d), CNV_OK);
      S->m.ticks[r]++;
      break;
  }
}

static void ship(sim *S, int r, bool lossy) {
  if (cnv_crdt_is_empty(S->acc[r])) return;
  size_t n;
  uint8_t *b = encode(S->acc[r], &n);
  cnv_crdt_clear(S->acc[r]);
  assert_true(cnv_crdt_is_empty(S->acc[r]));
  assert_true(S->nlog < MAXMSG);
  S->log[S->nlog++] = (msg){b, n, 0};
  for (int to = 1; to <= S->nrep; to++) {
    if (to == r || (lossy && rnd(5) == 0)) continue;
    int copies = lossy && rnd(5) == 0 ? 2 : 1;
    for (int k = 0; k < copies && S->nnet < MAXMSG; k++) S->net[S->nnet++] = (msg){b, n, to};
  }
}

static void deliver_one(sim *S) {
  size_t i = rnd(S->nnet);
  msg m = S->net[i];
  S->net[i] = S->net[--S->nnet];
  merge_bytes(S->s[m.to], m.b, m.n);
}

static void sim_run(sim *S, int type, int nrep, int steps, bool lossy, bool removes) {
  memset(S, 0, sizeof *S);
  S->type = type;
  S->nrep = nrep;
  for (int r = 1; r <= nrep; r++) {
    assert_int_equal(cnv_crdt_create(type, (uint64_t)r, &S->s[r]), CNV_OK);
    assert_int_equal(cnv_crdt_create(type, 0, &S->acc[r]), CNV_OK);
  }
  for (int i = 0; i < steps; i++) {
    int r = 1 + (int)rnd((uint64_t)nrep);
    switch (rnd(4)) {
      case 0:
      case 1:
        op(S, r, removes);
        break;
      case 2:
        ship(S, r, lossy);
        break;
      default:
        if (S->nnet) deliver_one(S);
        break;
    }
  }
  for (int r = 1; r <= nrep; r++) ship(S, r, lossy);
}

static void sim_free(sim *S) {
  for (int r = 1; r <= S->nrep; r++) {
    cnv_crdt_destroy(S->s[r]);
    cnv_crdt_destroy(S->acc[r]);
  }
  for (size_t i = 0; i < S->nlog; i++) free(S->log[i].b);
}

static void check_value(const sim *S, const cnv_crdt *c) {
  switch (S->type) {
    case CNV_CRDT_GCOUNTER:
    case CNV_CRDT_PNCOUNTER: {
      int64_t v;
      assert_int_equal(cnv_crdt_counter_value(c, &v), CNV_OK);
      assert_int_equal(v, S->m.sum);
      break;
    }
    case CNV_CRDT_VCLOCK:
      for (int r = 1; r <= S->nrep; r++) assert_int_equal(cnv_crdt_vclock_get(c, (uint64_t)r), S->m.ticks[r]);
      break;
    case CNV_CRDT_LWW: {
      const void *v;
      size_t n;
      uint64_t ts;
      if (S->m.lww_rep == 0) {
        assert_int_equal(cnv_crdt_lww_get(c, &v, &n, &ts), CNV_ENOTFOUND);
        break;
      }
      assert_int_equal(cnv_crdt_lww_get(c, &v, &n, &ts), CNV_OK);
      assert_int_equal(ts, S->m.lww_ts);
      assert_int_equal(n, strlen(S->m.lww_val));
      assert_memory_equal(v, S->m.lww_val, n);
      break;
    }
    default:
      break;
  }
}

static const int types[] = {CNV_CRDT_GCOUNTER, CNV_CRDT_PNCOUNTER, CNV_CRDT_ORSET,
                            CNV_CRDT_LWW, CNV_CRDT_MVREG, CNV_CRDT_VCLOCK};

static int count_cb(void *ctx, const void *v, size_t len) {
  (void)v;
  (void)len;
  ++*(size_t *)ctx;
  return 0;
}

static void exchange(cnv_crdt *a, cnv_crdt *b, const cnv_crdt *da, const cnv_crdt *db) {
  assert_int_equal(cnv_crdt_merge(a, db), CNV_OK);
  assert_int_equal(cnv_crdt_merge(b, da), CNV_OK);
}

/* On converged replicas: OR-Set add-wins against a concurrent remove, and a remove that saw
 * the add wins; MV register: one value per replica at most, and a set that saw everything
 * leaves one value everywhere. */
static void after_converge(sim *S) {
  cnv_crdt *a = S->s[1], *b = S->s[2], *da, *db;
  assert_int_equal(cnv_crdt_create(S->type, 0, &da), CNV_OK);
  assert_int_equal(cnv_crdt_create(S->type, 0, &db), CNV_OK);
  if (S->type == CNV_CRDT_ORSET) {
    const char *e = names[rnd(8)];
    assert_int_equal(cnv_crdt_orset_add(a, e, 2, da), CNV_OK);
    assert_int_equal(cnv_crdt_orset_remove(b, e, 2, db), CNV_OK);
    exchange(a, b, da, db);
    assert_true(cnv_crdt_orset_contains(a, e, 2));
    assert_true(cnv_crdt_orset_contains(b, e, 2));
    cnv_crdt_clear(db);
    assert_int_equal(cnv_crdt_orset_remove(b, e, 2, db), CNV_OK);
    exchange(a, b, da, db);
    assert_false(cnv_crdt_orset_contains(a, e, 2));
    assert_false(cnv_crdt_orset_contains(b, e, 2));
    assert_true(cnv_crdt_equal(a, b));
  } else if (S->type == CNV_CRDT_MVREG) {
    size_t n = 0;
    assert_int_equal(cnv_crdt_mvreg_each(a, count_cb, &n), CNV_OK);
    assert_true(n <= (size_t)S->nrep);
    assert_int_equal(cnv_crdt_mvreg_set(a, "zz", 2, da), CNV_OK);
    exchange(a, b, da, db);
    n = 0;
    assert_int_equal(cnv_crdt_mvreg_each(b, count_cb, &n), CNV_OK);
    assert_int_equal(n, 1);
    assert_true(cnv_crdt_equal(a, b));
  }
  cnv_crdt_destroy(da);
  cnv_crdt_destroy(db);
}

/* Convergence, and the join of all deltas == the join of all full states. */
static void test_converge(void **state) {
  (void)state;
  uint64_t rounds = cnv_test_iters(200);
  for (uint64_t round = 0; round < rounds; round++) {
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
      sim S;
      int nrep = 3 + (int)rnd(3);
      sim_run(&S, types[t], nrep, 50 + (int)rnd(200), true, true);
      cnv_crdt *fromd, *froms;
      assert_int_equal(cnv_crdt_create(types[t], 0, &fromd), CNV_OK);
      assert_int_equal(cnv_crdt_create(types[t], 0, &froms), CNV_OK);
      /* Every delta twice, in a random order. */
      size_t n = S.nlog * 2, *ord = malloc((n ? n : 1) * sizeof *ord);
      assert_non_null(ord);
      for (size_t i = 0; i < n; i++) ord[i] = i % (S.nlog ? S.nlog : 1);
      for (size_t i = n; i > 1; i--) {
        size_t j = rnd(i), x = ord[i - 1];
        ord[i - 1] = ord[j];
        ord[j] = x;
      }
      for (size_t i = 0; i < n; i++) merge_bytes(fromd, S.log[ord[i]].b, S.log[ord[i]].n);
      free(ord);
      /* Anti-entropy: every replica merges every other's full state (as bytes). */
      uint8_t *full[MAXR + 1];
      size_t fn[MAXR + 1];
      for (int r = 1; r <= nrep; r++) {
        full[r] = encode(S.s[r], &fn[r]);
        merge_bytes(froms, full[r], fn[r]);
      }
      if (!cnv_crdt_equal(fromd, froms)) fail_msg("seed %llu: delta join != state join (type %d)", (unsigned long long)g_seed, types[t]);
      for (int r = 1; r <= nrep; r++)
        for (int k = 1; k <= nrep; k++)
          if (k != r) merge_bytes(S.s[r], full[k], fn[k]);
      /* Late duplicates and reordered leftovers change nothing now. */
      while (S.nnet) deliver_one(&S);
      for (int r = 1; r <= nrep; r++) {
        if (!cnv_crdt_equal(S.s[r], froms)) fail_msg("seed %llu: replica %d diverged (type %d)", (unsigned long long)g_seed, r, types[t]);
        check_value(&S, S.s[r]);
        free(full[r]);
      }
      after_converge(&S);
      cnv_crdt_destroy(fromd);
      cnv_crdt_destroy(froms);
      sim_free(&S);
    }
  }
}

static cnv_crdt *join2(const cnv_crdt *a, const cnv_crdt *b) {
  cnv_crdt *c;
  assert_int_equal(cnv_crdt_clone(a, 0, &c), CNV_OK);
  assert_true(cnv_crdt_equal(a, c));
  assert_int_equal(cnv_crdt_merge(c, b), CNV_OK);
  return c;
}

/* A random state or delta from a run: a replica's state, or a logged delta. */
static cnv_crdt *pick(const sim *S) {
  cnv_crdt *c;
  if (S->nlog && rnd(2)) {
    const msg *m = &S->log[rnd(S->nlog)];
    return decode(m->b, m->n);
  }
  assert_int_equal(cnv_crdt_clone(S->s[1 + rnd((uint64_t)S->nrep)], 0, &c), CNV_OK);
  return c;
}

static void test_merge_laws(void **state) {
  (void)state;
  uint64_t rounds = cnv_test_iters(400);
  for (uint64_t round = 0; round < rounds; round++) {
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
      sim S;
      sim_run(&S, types[t], 3 + (int)rnd(3), 20 + (int)rnd(120), true, true);
      cnv_crdt *a = pick(&S), *b = pick(&S), *c = pick(&S);
      cnv_crdt *ab = join2(a, b), *ba = join2(b, a), *aa = join2(a, a), *abb = join2(ab, b);
      cnv_crdt *ab_c = join2(ab, c), *bc = join2(b, c), *a_bc = join2(a, bc);
      if (!cnv_crdt_equal(ab, ba)) fail_msg("seed %llu: not commutative (type %d)", (unsigned long long)g_seed, types[t]);
      if (!cnv_crdt_equal(aa, a) || !cnv_crdt_equal(abb, ab))
        fail_msg("seed %llu: not idempotent (type %d)", (unsigned long long)g_seed, types[t]);
      if (!cnv_crdt_equal(ab_c, a_bc)) fail_msg("seed %llu: not associative (type %d)", (unsigned long long)g_seed, types[t]);
      /* Equal states, equal bytes. */
      size_t n1, n2;
      uint8_t *e1 = encode(ab, &n1), *e2 = encode(ba, &n2);
      assert_int_equal(n1, n2);
      assert_memory_equal(e1, e2, n1);
      free(e1);
      free(e2);
      /* Every join is a well-formed state: its encoding passes the strict decoder (sorted,
       * compact context, every dot seen and on one element only). */
      cnv_crdt *all[] = {a, b, c, ab, ba, aa, abb, ab_c, bc, a_bc};
      for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        size_t n;
        uint8_t *e = encode(all[i], &n);
        cnv_crdt *back = decode(e, n);
        assert_true(cnv_crdt_equal(back, all[i]));
        cnv_crdt_destroy(back);
        free(e);
      }
      for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cnv_crdt_destroy(all[i]);
      sim_free(&S);
    }
  }
}

/* Round trip; every strict prefix and a trailing byte rejected; any single bit flip either
 * rejected with CNV_ECRDT_MALFORMED or decoding to a value that re-encodes to exactly the
 * flipped bytes (so nothing non-canonical is accepted). */
static void test_codec(void **state) {
  (void)state;
  static uint8_t buf[BUF], back[BUF];
  uint64_t rounds = cnv_test_iters(40);
  for (uint64_t round = 0; round < rounds; round++) {
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
      sim S;
      sim_run(&S, types[t], 3 + (int)rnd(3), 10 + (int)rnd(60), false, true);
      cnv_crdt *s = pick(&S);
      size_t n, m;
      assert_int_equal(cnv_crdt_encode(s, buf, sizeof buf, &n), CNV_OK);
      cnv_crdt *d = decode(buf, n);
      assert_true(cnv_crdt_equal(s, d));
      cnv_crdt_destroy(d);
      for (size_t k = 0; k < n; k++) {
        d = NULL;
        assert_int_equal(cnv_crdt_decode(buf, k, 0, &d), CNV_ECRDT_MALFORMED);
        assert_null(d);
      }
      buf[n] = (uint8_t)rnd(256);
      assert_int_equal(cnv_crdt_decode(buf, n + 1, 0, &d), CNV_ECRDT_MALFORMED);
      size_t lim = n < 96 ? n : 96;
      for (size_t k = 0; k < lim * 8; k++) {
        buf[k / 8] ^= (uint8_t)(1u << (k % 8));
        d = NULL;
        cnv_status st = cnv_crdt_decode(buf, n, 0, &d);
        if (st == CNV_OK) {
          assert_int_equal(cnv_crdt_encode(d, back, sizeof back, &m), CNV_OK);
          if (m != n || memcmp(back, buf, n) != 0)
            fail_msg("seed %llu: flip %zu decoded non-canonical bytes (type %d)", (unsigned long long)g_seed, k, types[t]);
          cnv_crdt_destroy(d);
        } else {
          assert_int_equal(st, CNV_ECRDT_MALFORMED);
        }
        buf[k / 8] ^= (uint8_t)(1u << (k % 8));
      }
      cnv_crdt_destroy(s);
      sim_free(&S);
    }
  }
}

/* Adds, then every element removed and everyone synced: no dot stays, the context compacts
 * to one version vector entry per replica. */
static void test_orset_no_tombstones(void **state) {
  (void)state;
  uint64_t rounds = cnv_test_iters(30);
  for (uint64_t round = 0; round < rounds; round++) {
    sim S;
    int nrep = 3 + (int)rnd(3);
    sim_run(&S, CNV_CRDT_ORSET, nrep, 300, true, false);
    for (int r = 1; r <= nrep; r++)
      for (int k = 1; k <= nrep; k++)
        if (k != r) assert_int_equal(cnv_crdt_merge(S.s[r], S.s[k]), CNV_OK);
    assert_true(cnv_crdt_orset_size(S.s[1]) > 0);
    for (size_t e = 0; e < 8; e++) assert_int_equal(cnv_crdt_orset_remove(S.s[1], names[e], 2, S.acc[1]), CNV_OK);
    ship(&S, 1, false);
    while (S.nnet) deliver_one(&S);
    for (int r = 1; r <= nrep; r++) {
      size_t n;
      uint8_t *b = encode(S.s[r], &n);
      assert_int_equal(cnv_crdt_orset_size(S.s[r]), 0);
      /* type, retired count, vv (count + up to nrep (id, counter<2^14) pairs), cloud, elements */
      if (n > 4 + 3 * (size_t)nrep) fail_msg("seed %llu: %zu bytes after removing everything", (unsigned long long)g_seed, n);
      free(b);
    }
    assert_true(cnv_crdt_equal(S.s[1], S.s[2]));
    sim_free(&S);
  }
}

/* Replica churn: a replica joins, works, leaves and is retired, over and over. Values stay
 * right, stale messages from the departed do not count twice, replicas() stays bounded. */
static void churn(int type) {
  enum { LIVE = 3 };
  cnv_crdt *s[LIVE + 1];
  int64_t sum = 0;
  for (int r = 1; r <= LIVE; r++) assert_int_equal(cnv_crdt_create(type, (uint64_t)r, &s[r]), CNV_OK);
  for (uint64_t gen = 0; gen < 40; gen++) {
    uint64_t id = 100 + gen;
    cnv_crdt *nw, *stale, *d;
    assert_int_equal(cnv_crdt_clone(s[1], id, &nw), CNV_OK);
    assert_int_equal(cnv_crdt_create(type, 0, &stale), CNV_OK);
    assert_int_equal(cnv_crdt_create(type, 0, &d), CNV_OK);
    char e[3] = {'n', (char)('a' + gen % 26), 0};
    for (int k = 0; k < 3; k++) {
      if (type == CNV_CRDT_ORSET) {
        assert_int_equal(cnv_crdt_orset_add(nw, e, 2, stale), CNV_OK);
      } else {
        assert_int_equal(cnv_crdt_gcounter_inc(nw, 2, stale), CNV_OK);
        sum += 2;
      }
      int r = 1 + (int)rnd(LIVE);
      if (type == CNV_CRDT_ORSET) {
        assert_int_equal(cnv_crdt_orset_add(s[r], names[rnd(8)], 2, NULL), CNV_OK);
        if (rnd(2)) assert_int_equal(cnv_crdt_orset_remove(s[r], names[rnd(8)], 2, NULL), CNV_OK);
      } else {
        assert_int_equal(cnv_crdt_gcounter_inc(s[r], 1, NULL), CNV_OK);
        sum += 1;
      }
    }
    /* It leaves: every live replica has its last state, then replica 1 retires it. */
    for (int r = 1; r <= LIVE; r++) assert_int_equal(cnv_crdt_merge(s[r], nw), CNV_OK);
    for (int r = 1; r <= LIVE; r++)
      for (int k = 1; k <= LIVE; k++)
        if (k != r) assert_int_equal(cnv_crdt_merge(s[r], s[k]), CNV_OK);
    size_t before = cnv_crdt_orset_size(s[1]);
    assert_int_equal(cnv_crdt_retire(s[1], id, d), CNV_OK);
    for (int r = 2; r <= LIVE; r++) assert_int_equal(cnv_crdt_merge(s[r], d), CNV_OK);
    for (int r = 1; r <= LIVE; r++) {
      assert_int_equal(cnv_crdt_merge(s[r], stale), CNV_OK); /* a late message of the departed */
      assert_int_equal(cnv_crdt_merge(s[r], nw), CNV_OK);    /* and its old full state */
      assert_true(cnv_crdt_replicas(s[r]) <= LIVE);
      assert_true(cnv_crdt_equal(s[r], s[1]));
      if (type == CNV_CRDT_ORSET) {
        assert_int_equal(cnv_crdt_orset_size(s[r]), before);
        assert_true(cnv_crdt_orset_contains(s[r], e, 2));
      } else {
        int64_t v;
        assert_int_equal(cnv_crdt_counter_value(s[r], &v), CNV_OK);
        assert_int_equal(v, sum);
      }
    }
    if (type == CNV_CRDT_ORSET) {
      /* The departed's element can still be removed, and stays removed. */
      assert_int_equal(cnv_crdt_orset_remove(s[2], e, 2, NULL), CNV_OK);
      for (int r = 1; r <= LIVE; r++) {
        assert_int_equal(cnv_crdt_merge(s[r], s[2]), CNV_OK);
        assert_int_equal(cnv_crdt_merge(s[r], stale), CNV_OK);
        assert_false(cnv_crdt_orset_contains(s[r], e, 2));
      }
    }
    cnv_crdt_destroy(nw);
    cnv_crdt_destroy(stale);
    cnv_crdt_destroy(d);
  }
  for (int r = 1; r <= LIVE; r++) cnv_crdt_destroy(s[r]);
}

static void test_retire_churn(void **state) {
  (void)state;
  churn(CNV_CRDT_GCOUNTER);
  churn(CNV_CRDT_ORSET);
}

int main(void) {
  const char *env = getenv("CNV_CRDT_SEED");
  g_seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
  g_rng = g_seed;
  printf("CNV_CRDT_SEED=%llu\n", (unsigned long long)g_seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_converge),
      cmocka_unit_test(test_merge_laws),
      cmocka_unit_test(test_codec),
      cmocka_unit_test(test_orset_no_tombstones),
      cmocka_unit_test(test_retire_churn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
