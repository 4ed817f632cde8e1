/* Graph queries on random graphs (seeded; CNV_GRAPH_SEED repeats one) with cycles, self
 * loops, parallel edges and unreachable parts, 0..500 nodes, against slow obvious references
 * written here: Warshall's closure for reach and the closure, repeated relaxation
 * (Bellman-Ford) over the raw edge list for BFS and Dijkstra distances, and the CSR checked
 * against a matrix of the lightest raw edge per pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cnv/graph.h>

#include "cnv_test_util.h"

typedef struct raw_edge {
  uint32_t from, to, w;
} raw_edge;

typedef struct rgraph {
  uint32_t n;
  size_t m;
  raw_edge *e;
  cnv_graph *g;
} rgraph;

static uint64_t rnd(uint64_t *s, uint64_t bound) { return bound ? cnv_test_rand(s) % bound : 0; }

/* A random graph of one of several shapes; every shape mixes in self loops, parallel edges
 * and a tail of nodes no edge enters. */
static rgraph make_graph(uint64_t *s, uint32_t n) {
  rgraph r = {n, 0, NULL, NULL};
  int shape = (int)rnd(s, 4);
  size_t cap = (size_t)n * 6 + 16;
  r.e = malloc(cap * sizeof *r.e);
  assert_non_null(r.e);
  bool heavy = rnd(s, 3) == 0;                     /* 32-bit weights (sums past 2^32) or small ones (ties, 0) */
  uint32_t live = n - (uint32_t)rnd(s, n / 8 + 1); /* nodes >= live get no in-edges */
  size_t want = n ? (size_t)rnd(s, (uint64_t)n * 4 + 1) : 0;
  for (uint32_t i = 0; n && i < live && shape == 1; i++) /* a ring through the live nodes */
    r.e[r.m++] = (raw_edge){i, (i + 1) % live, 1};
  while (r.m < want && n) {
    uint32_t a = (uint32_t)rnd(s, n), b = (uint32_t)rnd(s, live);
    if (shape == 2 && a > b && rnd(s, 10)) { /* mostly a DAG, a few back edges */
      uint32_t t = a;
      a = b;
      b = t;
    }
    if (shape == 3 && (a < n / 2) != (b < n / 2) && rnd(s, 20)) continue; /* two halves */
    uint32_t w = heavy ? (uint32_t)cnv_test_rand(s) : (uint32_t)rnd(s, 10);
    r.e[r.m++] = (raw_edge){a, b, w};
    uint64_t x = rnd(s, 20);
    if (x == 0 && r.m < cap) r.e[r.m++] = (raw_edge){a, a, w};                      /* self loop */
    if (x == 1 && r.m < cap) r.e[r.m++] = (raw_edge){a, b, (uint32_t)rnd(s, 1000)}; /* parallel */
  }
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t v;
    char label[16];
    int len = snprintf(label, sizeof label, "n%u", i);
    assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, label, (size_t)len, &v), CNV_OK);
    assert_int_equal(v, i);
  }
  for (size_t i = 0; i < r.m; i++) assert_int_equal(cnv_graph_builder_edge(b, r.e[i].from, r.e[i].to, r.e[i].w), CNV_OK);
  assert_int_equal(cnv_graph_freeze(b, &r.g), CNV_OK);
  cnv_graph_builder_destroy(b);
  return r;
}

static void free_graph(rgraph *r) {
  cnv_graph_destroy(r->g);
  free(r->e);
}

/* CSR: per node, targets strictly ascending, exactly the pairs of the raw list, each with the
 * lightest raw weight. */
static void check_csr(const rgraph *r) {
  const uint32_t n = r->n;
  uint64_t *minw = malloc(((size_t)n * n + 1) * sizeof *minw);
  assert_non_null(minw);
  for (size_t i = 0; i < (size_t)n * n; i++) minw[i] = UINT64_MAX;
  size_t pairs = 0;
  for (size_t i = 0; i < r->m; i++) {
    uint64_t *c = &minw[(size_t)r->e[i].from * n + r->e[i].to];
    if (*c == UINT64_MAX) pairs++;
    if (r->e[i].w < *c) *c = r->e[i].w;
  }
  assert_int_equal(cnv_graph_nodes(r->g), n);
  assert_int_equal(cnv_graph_edges(r->g), pairs);
  for (uint32_t u = 0; u < n; u++) {
    const uint32_t *t, *w;
    uint32_t cnt, k = 0;
    assert_int_equal(cnv_graph_out(r->g, u, &t, &w, &cnt), CNV_OK);
    for (uint32_t v = 0; v < n; v++) {
      if (minw[(size_t)u * n + v] == UINT64_MAX) continue;
      assert_true(k < cnt);
      assert_int_equal(t[k], v);
      assert_int_equal(w[k], minw[(size_t)u * n + v]);
      k++;
    }
    assert_int_equal(k, cnt);
  }
  free(minw);
}

/* Warshall over the raw edges: reach[i * n + j] (every node reaches itself). */
static uint8_t *warshall(const rgraph *r) {
  const size_t n = r->n;
  uint8_t *R = calloc(n * n + 1, 1);
  assert_non_null(R);
  for (size_t i = 0; i < n; i++) R[i * n + i] = 1;
  for (size_t i = 0; i < r->m; i++) R[(size_t)r->e[i].from * n + r->e[i].to] = 1;
  for (size_t k = 0; k < n; k++)
    for (size_t i = 0; i < n; i++)
      if (R[i * n + k])
        for (size_t j = 0; j < n; j++) R[i * n + j] |= R[k * n + j];
  return R;
}

static bool has_bit(const uint64_t *w, uint32_t i) { return (w[i / 64] >> (i % 64)) & 1; }

static void check_reach_and_closure(const rgraph *r) {
  const uint32_t n = r->n;
  uint8_t *R = warshall(r);
  const size_t wpr = ((size_t)n + 63) / 64;
  uint64_t *words = malloc((wpr + 1) * sizeof *words);
  assert_non_null(words);
  for (uint32_t s = 0; s < n; s++) {
    words[wpr] = 0xABCDu; /* nothing past the row */
    assert_int_equal(cnv_graph_reach(r->g, s, words), CNV_OK);
    assert_int_equal(words[wpr], 0xABCDu);
    for (uint32_t v = 0; v < n; v++) assert_int_equal(has_bit(words, v), R[(size_t)s * n + v]);
    for (uint32_t v = n; v < wpr * 64; v++) assert_false(has_bit(words, v));
  }
  assert_int_equal(cnv_graph_reach(r->g, n, words), CNV_ERANGE);
  cnv_graph_closure c;
  const size_t need = (size_t)n * wpr * 8;
  if (need) {
    memset(&c, 0xA5, sizeof c);
    assert_int_equal(cnv_graph_closure_build(r->g, need - 1, &c), CNV_ERANGE);
    assert_null(c.rows);
    assert_int_equal(c.nodes, 0);
    cnv_graph_closure_destroy(&c);
  }
  assert_int_equal(cnv_graph_closure_build(r->g, need, &c), CNV_OK);
  assert_int_equal(c.nodes, n);
  assert_int_equal(c.words_per_row, wpr);
  for (uint32_t s = 0; s < n; s++) {
    const uint64_t *row = c.rows + (size_t)s * wpr;
    for (uint32_t v = 0; v < n; v++) {
      assert_int_equal(has_bit(row, v), R[(size_t)s * n + v]);
      assert_int_equal(cnv_graph_closure_reaches(&c, s, v), R[(size_t)s * n + v]);
    }
    for (uint32_t v = n; v < wpr * 64; v++) assert_false(has_bit(row, v));
  }
  assert_false(cnv_graph_closure_reaches(&c, n, 0));
  assert_false(cnv_graph_closure_reaches(&c, 0, n));
  cnv_graph_closure_destroy(&c);
  assert_null(c.rows);
  assert_false(cnv_graph_closure_reaches(&c, 0, 0));
  free(words);
  free(R);
}

/* Repeated relaxation over the raw edges (unit weights when hops). */
static void relax_reference(const rgraph *r, uint32_t src, bool hops, uint64_t *d) {
  for (uint32_t v = 0; v < r->n; v++) d[v] = CNV_GRAPH_INF;
  d[src] = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < r->m; i++) {
      const raw_edge *e = &r->e[i];
      if (d[e->from] == CNV_GRAPH_INF) continue;
      uint64_t nd = d[e->from] + (hops ? 1 : e->w);
      if (nd < d[e->to]) {
        d[e->to] = nd;
        changed = true;
      }
    }
  }
}

/* The weight of edge u -> v in the frozen graph, or UINT64_MAX. */
static uint64_t edge_weight(const cnv_graph *g, uint32_t u, uint32_t v) {
  const uint32_t *t, *w;
  uint32_t cnt;
  assert_int_equal(cnv_graph_out(g, u, &t, &w, &cnt), CNV_OK);
  for (uint32_t i = 0; i < cnt; i++)
    if (t[i] == v) return w[i];
  return UINT64_MAX;
}

/* dist equals the reference; parents are edges on shortest paths back to src. */
static void check_paths(const rgraph *r, uint32_t src, bool hops, const uint64_t *dist, const uint32_t *parent,
                        const uint64_t *want) {
  const uint32_t n = r->n;
  uint32_t *path = malloc(((size_t)n + 1) * sizeof *path);
  assert_non_null(path);
  for (uint32_t v = 0; v < n; v++) {
    assert_int_equal(dist[v], want[v]);
    size_t len = 0;
    if (v == src) {
      assert_int_equal(parent[v], CNV_GRAPH_NONE);
    } else if (want[v] == CNV_GRAPH_INF) {
      assert_int_equal(parent[v], CNV_GRAPH_NONE);
      assert_int_equal(cnv_graph_path(parent, n, src, v, path, n, &len), CNV_ENOTFOUND);
      continue;
    } else {
      const uint32_t p = parent[v];
      assert_true(p < n);
      uint64_t w = edge_weight(r->g, p, v);
      assert_true(w != UINT64_MAX);
      assert_int_equal(dist[p] + (hops ? 1 : w), dist[v]);
    }
    assert_int_equal(cnv_graph_path(parent, n, src, v, path, n, &len), CNV_OK);
    assert_int_equal(path[0], src);
    assert_int_equal(path[len - 1], v);
    if (hops) assert_int_equal(len, dist[v] + 1);
    uint64_t sum = 0;
    for (size_t i = 1; i < len; i++) sum += hops ? 1 : edge_weight(r->g, path[i - 1], path[i]);
    assert_int_equal(sum, dist[v]);
  }
  free(path);
}

typedef cnv_status (*sssp_fn)(const cnv_graph *g, uint32_t src, uint64_t *dist, uint32_t *parent);

/* One query (BFS: hops; Dijkstra: weights) from src against the reference, and either output
 * alone gives the same values. */
static void check_query(const rgraph *r, uint32_t src, bool hops, sssp_fn fn, uint64_t *want, uint64_t *dist,
                        uint32_t *parent, uint64_t *dist2, uint32_t *parent2) {
  const size_t n = r->n;
  relax_reference(r, src, hops, want);
  assert_int_equal(fn(r->g, src, dist, parent), CNV_OK);
  check_paths(r, src, hops, dist, parent, want);
  assert_int_equal(fn(r->g, src, dist2, NULL), CNV_OK);
  assert_memory_equal(dist, dist2, n * sizeof *dist);
  assert_int_equal(fn(r->g, src, NULL, parent2), CNV_OK);
  assert_memory_equal(parent, parent2, n * sizeof *parent);
}

static void check_shortest(const rgraph *r, uint64_t *s) {
  const uint32_t n = r->n;
  uint64_t *dist = malloc(((size_t)n + 1) * sizeof *dist), *want = malloc(((size_t)n + 1) * sizeof *want);
  uint64_t *dist2 = malloc(((size_t)n + 1) * sizeof *dist2);
  uint32_t *parent = malloc(((size_t)n + 1) * sizeof *parent), *parent2 = malloc(((size_t)n + 1) * sizeof *parent2);
  assert_true(dist && want && parent && dist2 && parent2);
  uint32_t sources = n < 12 ? n : 12;
  for (uint32_t k = 0; k < sources; k++) {
    const uint32_t src = k < 2 ? k : (uint32_t)rnd(s, n);
    check_query(r, src, true, cnv_graph_bfs, want, dist, parent, dist2, parent2);
    check_query(r, src, false, cnv_graph_dijkstra, want, dist, parent, dist2, parent2);
  }
  assert_int_equal(cnv_graph_bfs(r->g, n, dist, parent), CNV_ERANGE);
  assert_int_equal(cnv_graph_dijkstra(r->g, n, dist, parent), CNV_ERANGE);
  free(dist);
  free(dist2);
  free(want);
  free(parent);
  free(parent2);
}

static void test_random_graphs(void **state) {
  (void)state;
  const char *env = getenv("CNV_GRAPH_SEED");
  const uint64_t base = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
  const uint64_t runs = env && *env ? 1 : cnv_test_iters(60);
  for (uint64_t k = 0; k < runs; k++) {
    uint64_t seed = base + k, s = seed;
    printf("graph property: seed %llu (CNV_GRAPH_SEED=%llu repeats it)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    const uint64_t pick = rnd(&s, 10);
    const uint32_t n = pick == 0  ? (uint32_t)rnd(&s, 3)
                       : pick < 5 ? (uint32_t)rnd(&s, 40)
                       : pick < 8 ? (uint32_t)rnd(&s, 150)
                                  : 300 + (uint32_t)rnd(&s, 201);
    rgraph r = make_graph(&s, n);
    check_csr(&r);
    check_reach_and_closure(&r);
    check_shortest(&r, &s);
    free_graph(&r);
  }
}

/* Fixed graphs with known answers: a cycle feeding a chain, a self loop, parallel edges. */
static void test_known(void **state) {
  (void)state;
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  uint32_t v;
  for (int i = 0; i < 7; i++) assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &v), CNV_OK);
  /* 0 -> 1 -> 2 -> 0 (a cycle), 2 -> 3 -> 4, 4 -> 4, 0 -> 4 heavy, 5 -> 0; 6 alone */
  static const uint32_t E[][3] = {{0, 1, 1}, {1, 2, 1}, {2, 0, 1}, {2, 3, 2}, {3, 4, 2}, {4, 4, 0}, {0, 4, 9}, {0, 4, 7}, {5, 0, 1}};
  for (size_t i = 0; i < sizeof E / sizeof E[0]; i++)
    assert_int_equal(cnv_graph_builder_edge(b, E[i][0], E[i][1], E[i][2]), CNV_OK);
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  uint64_t words[1];
  assert_int_equal(cnv_graph_reach(g, 1, words), CNV_OK);
  assert_int_equal(words[0], 0x1Fu);
  assert_int_equal(cnv_graph_reach(g, 6, words), CNV_OK);
  assert_int_equal(words[0], 0x40u);
  cnv_graph_closure c;
  assert_int_equal(cnv_graph_closure_build(g, 7 * 8, &c), CNV_OK);
  static const uint64_t rows[7] = {0x1F, 0x1F, 0x1F, 0x18, 0x10, 0x3F, 0x40};
  for (int i = 0; i < 7; i++) assert_int_equal(c.rows[i], rows[i]);
  cnv_graph_closure_destroy(&c);
  cnv_graph_closure_destroy(NULL);
  uint64_t d[7];
  uint32_t p[7];
  assert_int_equal(cnv_graph_bfs(g, 0, d, p), CNV_OK);
  static const uint64_t hops[7] = {0, 1, 2, 3, 1, CNV_GRAPH_INF, CNV_GRAPH_INF};
  assert_memory_equal(d, hops, sizeof d);
  assert_int_equal(p[4], 0);
  assert_int_equal(p[3], 2);
  assert_int_equal(cnv_graph_dijkstra(g, 0, d, p), CNV_OK);
  static const uint64_t wd[7] = {0, 1, 2, 4, 6, CNV_GRAPH_INF, CNV_GRAPH_INF};
  assert_memory_equal(d, wd, sizeof d);
  assert_int_equal(p[4], 3); /* 0 -> 1 -> 2 -> 3 -> 4 (6) beats the direct edge (7) */
  assert_int_equal(p[0], CNV_GRAPH_NONE);
  assert_int_equal(p[5], CNV_GRAPH_NONE);
  assert_int_equal(cnv_graph_bfs(NULL, 0, d, p), CNV_EINVAL);
  assert_int_equal(cnv_graph_dijkstra(NULL, 0, d, p), CNV_EINVAL);
  assert_int_equal(cnv_graph_reach(NULL, 0, words), CNV_EINVAL);
  assert_int_equal(cnv_graph_reach(g, 0, NULL), CNV_EINVAL);
  assert_int_equal(cnv_graph_closure_build(NULL, 100, &c), CNV_EINVAL);
  assert_int_equal(cnv_graph_closure_build(g, 100, NULL), CNV_EINVAL);
  cnv_graph_destroy(g);
  /* the empty graph */
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  cnv_graph_builder_destroy(b);
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  cnv_graph_destroy(g);
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  assert_int_equal(cnv_graph_closure_build(g, 0, &c), CNV_OK);
  assert_int_equal(c.nodes, 0);
  assert_false(cnv_graph_closure_reaches(&c, 0, 0));
  cnv_graph_closure_destroy(&c);
  assert_int_equal(cnv_graph_bfs(g, 0, d, p), CNV_ERANGE);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known),

      cmocka_unit_test(test_random_graphs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
