/* cnv_graph_dominators and cnv_graph_scc on random graphs (cycles, self-loops, parallel
 * edges, unreachable parts), each compared with a slow, obvious definition computed here:
 * - v dominates w iff w is reachable from root and removing v makes it unreachable (or v is
 *   w); idom[w] is the strict dominator of w that every other strict dominator dominates;
 * - u and v are in one component iff each reaches the other (BFS from every node), and the
 *   components are numbered in order of their smallest node.
 * The seed is printed; CNV_GRAPH_SEED=<n> repeats one run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <cnv/graph.h>

#include "cnv_test_util.h"

#define MAXN 48

static uint64_t seed;

typedef struct rgraph {
  uint32_t n;
  bool adj[MAXN][MAXN];
  cnv_graph *g;
} rgraph;

/* A random graph: a few dense clusters with sparse links between them, so there are cycles,
 * strongly connected parts and nodes no root reaches. */
static void make_graph(rgraph *r, uint64_t *rng) {
  memset(r, 0, sizeof *r);
  r->n = 1 + (uint32_t)(cnv_test_rand(rng) % MAXN);
  uint32_t clusters = 1 + (uint32_t)(cnv_test_rand(rng) % 4);
  uint32_t dense = 5 + (uint32_t)(cnv_test_rand(rng) % 30), sparse = (uint32_t)(cnv_test_rand(rng) % 6);
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  for (uint32_t v = 0; v < r->n; v++) {
    char label[16];
    int len = snprintf(label, sizeof label, "v%u", v);
    uint32_t id = 0;
    assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, label, (size_t)len, &id), CNV_OK);
    assert_int_equal(id, v);
  }
  uint32_t edges = (uint32_t)(cnv_test_rand(rng) % (3 * r->n + 1));
  for (uint32_t e = 0; e < edges; e++) {
    uint32_t u = (uint32_t)(cnv_test_rand(rng) % r->n), v = (uint32_t)(cnv_test_rand(rng) % r->n);
    bool same = u % clusters == v % clusters;
    if (cnv_test_rand(rng) % 100 >= (same ? dense : sparse)) continue;
    r->adj[u][v] = true;
    uint32_t w = (uint32_t)(cnv_test_rand(rng) % 10);
    assert_int_equal(cnv_graph_builder_edge(b, u, v, w), CNV_OK);
    if (cnv_test_rand(rng) % 4 == 0) assert_int_equal(cnv_graph_builder_edge(b, u, v, w + 1), CNV_OK);
  }
  assert_int_equal(cnv_graph_freeze(b, &r->g), CNV_OK);
  cnv_graph_builder_destroy(b);
  assert_int_equal(cnv_graph_nodes(r->g), r->n);
}

/* Nodes reachable from src without passing through `removed` (MAXN: none removed). */
static void reach_without(const rgraph *r, uint32_t src, uint32_t removed, bool *seen) {
  uint32_t queue[MAXN], head = 0, tail = 0;
  memset(seen, 0, MAXN * sizeof *seen);
  if (src == removed) return;
  seen[src] = true;
  queue[tail++] = src;
  while (head < tail) {
    uint32_t u = queue[head++];
    for (uint32_t v = 0; v < r->n; v++) {
      if (r->adj[u][v] && v != removed && !seen[v]) {
        seen[v] = true;
        queue[tail++] = v;
      }
    }
  }
}

static void check_dominators(const rgraph *r, uint32_t root) {
  static bool dom[MAXN][MAXN]; /* dom[v][w]: v dominates w */
  bool reach[MAXN], without[MAXN];
  reach_without(r, root, MAXN, reach);
  memset(dom, 0, sizeof dom);
  for (uint32_t v = 0; v < r->n; v++) {
    reach_without(r, root, v, without);
    for (uint32_t w = 0; w < r->n; w++) dom[v][w] = reach[w] && (v == w || !without[w]);
  }
  uint32_t idom[MAXN];
  assert_int_equal(cnv_graph_dominators(r->g, root, idom), CNV_OK);
  for (uint32_t w = 0; w < r->n; w++) {
    if (!reach[w]) {
      assert_int_equal(idom[w], CNV_GRAPH_NONE);
      continue;
    }
    if (w == root) {
      assert_int_equal(idom[w], root);
      continue;
    }
    uint32_t d = idom[w];
    assert_true(d < r->n);
    assert_true(d != w && dom[d][w]);
    for (uint32_t v = 0; v < r->n; v++) {
      if (v != w && dom[v][w]) assert_true(dom[v][d]);
    }
  }
}

static void check_scc(const rgraph *r) {
  static bool reach[MAXN][MAXN];
  for (uint32_t u = 0; u < r->n; u++) reach_without(r, u, MAXN, reach[u]);
  uint32_t comp[MAXN], count = 0;
  assert_int_equal(cnv_graph_scc(r->g, comp, &count), CNV_OK);
  uint32_t next = 0;
  for (uint32_t v = 0; v < r->n; v++) {
    assert_true(comp[v] < count);
    if (comp[v] == next)
      next++;
    else
      assert_true(comp[v] < next); /* numbered by smallest node */
    for (uint32_t u = 0; u < r->n; u++) {
      assert_int_equal(comp[u] == comp[v], reach[u][v] && reach[v][u]);
    }
  }
  assert_int_equal(next, count);
}

static void random_graphs(void **state) {
  (void)state;
  uint64_t rng = seed;
  uint64_t rounds = cnv_test_iters(2000);
  for (uint64_t i = 0; i < rounds; i++) {
    static rgraph r;
    make_graph(&r, &rng);
    check_scc(&r);
    for (uint32_t k = 0; k < 3; k++) check_dominators(&r, (uint32_t)(cnv_test_rand(&rng) % r.n));
    cnv_graph_destroy(r.g);
  }
}

/* A long chain and a long cycle: deep DFS without recursion. */
static void deep(void **state) {
  (void)state;
  const uint32_t n = 200000;
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  for (uint32_t v = 0; v < n; v++) {
    uint32_t id = 0;
    assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &id), CNV_OK);
  }
  for (uint32_t v = 0; v + 1 < n; v++) assert_int_equal(cnv_graph_builder_edge(b, v, v + 1, 1), CNV_OK);
  cnv_graph *chain = NULL, *cycle = NULL;
  assert_int_equal(cnv_graph_freeze(b, &chain), CNV_OK);
  assert_int_equal(cnv_graph_builder_edge(b, n - 1, 0, 1), CNV_OK);
  assert_int_equal(cnv_graph_freeze(b, &cycle), CNV_OK);
  cnv_graph_builder_destroy(b);
  uint32_t *idom = malloc(n * sizeof *idom), *comp = malloc(n * sizeof *comp), count = 0;
  assert_non_null(idom);
  assert_non_null(comp);
  assert_int_equal(cnv_graph_dominators(chain, 0, idom), CNV_OK);
  assert_int_equal(idom[0], 0);
  for (uint32_t v = 1; v < n; v++) assert_int_equal(idom[v], v - 1);
  assert_int_equal(cnv_graph_dominators(chain, 7, idom), CNV_OK);
  for (uint32_t v = 0; v < 7; v++) assert_int_equal(idom[v], CNV_GRAPH_NONE);
  assert_int_equal(cnv_graph_scc(chain, comp, &count), CNV_OK);
  assert_int_equal(count, n);
  for (uint32_t v = 0; v < n; v++) assert_int_equal(comp[v], v);
  assert_int_equal(cnv_graph_dominators(cycle, 5, idom), CNV_OK);
  assert_int_equal(idom[4], 3);
  assert_int_equal(idom[0], n - 1);
  assert_int_equal(cnv_graph_scc(cycle, comp, &count), CNV_OK);
  assert_int_equal(count, 1);
  for (uint32_t v = 0; v < n; v++) assert_int_equal(comp[v], 0);
  free(idom);
  free(comp);
  cnv_graph_destroy(chain);
  cnv_graph_destroy(cycle);
}

static void errors(void **state) {
  (void)state;
  cnv_graph_builder *b = NULL;
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  uint32_t idom[1], comp[1], count = 7;
  assert_int_equal(cnv_graph_dominators(g, 0, idom), CNV_ERANGE);
  assert_int_equal(cnv_graph_dominators(NULL, 0, idom), CNV_EINVAL);
  assert_int_equal(cnv_graph_dominators(g, 0, NULL), CNV_EINVAL);
  assert_int_equal(cnv_graph_scc(g, comp, &count), CNV_OK);
  assert_int_equal(count, 0);
  assert_int_equal(cnv_graph_scc(NULL, comp, &count), CNV_EINVAL);
  assert_int_equal(cnv_graph_scc(g, NULL, &count), CNV_EINVAL);
  assert_int_equal(cnv_graph_scc(g, comp, NULL), CNV_EINVAL);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

int main(void) {
  const char *env = getenv("CNV_GRAPH_SEED");
  seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
  printf("graph property: seed %llu (CNV_GRAPH_SEED=%llu repeats it)\n", (unsigned long long)seed,
         (unsigned long long)seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_graphs),
      cmocka_unit_test(deep),
      cmocka_unit_test(errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
