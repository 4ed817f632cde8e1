/* Edge cases of the graph queries: an empty graph, a source out of range, self loops, the
 * largest weight sums Dijkstra can meet, a parent array that loops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <cnv/graph.h>

static cnv_graph *freeze(cnv_graph_builder *b) {
  cnv_graph *g = NULL;
  assert_int_equal(cnv_graph_freeze(b, &g), CNV_OK);
  return g;
}

static void test_empty_graph(void **state) {
  (void)state;
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  cnv_graph *g = freeze(b);
  assert_int_equal(cnv_graph_nodes(g), 0);
  assert_int_equal(cnv_graph_edges(g), 0);
  uint64_t d[1] = {7}, w[1] = {7};
  uint32_t p[1] = {7}, c = 7;
  assert_int_equal(cnv_graph_bfs(g, 0, d, p), CNV_ERANGE);
  assert_int_equal(cnv_graph_dijkstra(g, 0, d, p), CNV_ERANGE);
  assert_int_equal(cnv_graph_reach(g, 0, w), CNV_ERANGE);
  assert_int_equal(cnv_graph_dominators(g, 0, p), CNV_ERANGE);
  assert_int_equal(cnv_graph_scc(g, p, &c), CNV_OK);
  assert_int_equal(c, 0);
  assert_int_equal(cnv_graph_out(g, 0, NULL, NULL, &c), CNV_ERANGE);
  cnv_graph_closure cl;
  assert_int_equal(cnv_graph_closure_build(g, 0, &cl), CNV_OK);
  assert_false(cnv_graph_closure_reaches(&cl, 0, 0));
  cnv_graph_closure_destroy(&cl);
  size_t len = 9;
  assert_int_equal(cnv_graph_path(p, 0, 0, 0, p, 1, &len), CNV_ERANGE);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

/* A chain 0 -> 1 -> ... -> 5 of UINT32_MAX weights, with a self loop on every node: the sums
 * reach 5 * UINT32_MAX exactly, self loops change nothing. */
static void test_self_loops_and_heavy_weights(void **state) {
  (void)state;
  enum { N = 6 };
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  uint32_t v[N];
  for (int i = 0; i < N; i++) assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &v[i]), CNV_OK);
  for (int i = 0; i < N; i++) {
    assert_int_equal(cnv_graph_builder_edge(b, v[i], v[i], 0), CNV_OK);
    if (i + 1 < N) assert_int_equal(cnv_graph_builder_edge(b, v[i], v[i + 1], UINT32_MAX), CNV_OK);
  }
  cnv_graph *g = freeze(b);
  uint64_t d[N];
  uint32_t p[N], path[N];
  assert_int_equal(cnv_graph_dijkstra(g, 0, d, p), CNV_OK);
  for (int i = 0; i < N; i++) assert_true(d[i] == (uint64_t)i * UINT32_MAX);
  assert_int_equal(p[0], CNV_GRAPH_NONE);
  size_t len = 0;
  assert_int_equal(cnv_graph_path(p, N, 0, N - 1, path, N, &len), CNV_OK);
  assert_int_equal(len, N);
  assert_int_equal(cnv_graph_bfs(g, N - 1, d, p), CNV_OK);
  assert_true(d[N - 1] == 0 && d[0] == CNV_GRAPH_INF);
  assert_int_equal(cnv_graph_path(p, N, N - 1, 0, path, N, &len), CNV_ENOTFOUND);
  assert_int_equal(cnv_graph_bfs(g, N, d, p), CNV_ERANGE);
  assert_int_equal(cnv_graph_dijkstra(g, UINT32_MAX, d, p), CNV_ERANGE);
  uint32_t comp[N], count = 0;
  assert_int_equal(cnv_graph_scc(g, comp, &count), CNV_OK);
  assert_int_equal(count, N); /* a self loop alone makes no larger component */
  cnv_graph_closure cl;
  assert_int_equal(cnv_graph_closure_build(g, 1u << 20, &cl), CNV_OK);
  assert_true(cnv_graph_closure_reaches(&cl, 0, N - 1) && cnv_graph_closure_reaches(&cl, 3, 3));
  assert_false(cnv_graph_closure_reaches(&cl, N - 1, 0));
  assert_false(cnv_graph_closure_reaches(&cl, 0, N));
  cnv_graph_closure_destroy(&cl);
  /* the closure refuses past max_bytes: N rows of one word */
  assert_int_equal(cnv_graph_closure_build(g, N * 8 - 1, &cl), CNV_ERANGE);
  assert_null(cl.rows);
  cnv_graph_destroy(g);
  cnv_graph_builder_destroy(b);
}

/* A parent array that loops (not from bfs or dijkstra): refused, no endless walk. */
static void test_looping_parents(void **state) {
  (void)state;
  const uint32_t parent[3] = {CNV_GRAPH_NONE, 2, 1};
  uint32_t path[3];
  size_t len = 0;
  assert_int_equal(cnv_graph_path(parent, 3, 0, 2, path, 3, &len), CNV_EINVAL);
  const uint32_t wild[2] = {CNV_GRAPH_NONE, 77};
  assert_int_equal(cnv_graph_path(wild, 2, 0, 1, path, 3, &len), CNV_ENOTFOUND);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_graph),
      cmocka_unit_test(test_self_loops_and_heavy_weights),
      cmocka_unit_test(test_looping_parents),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
