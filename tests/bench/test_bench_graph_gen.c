/* The graph benchmarks' inputs (bench/graph/graph_gen.c): each shape has the edges
 * docs/benchmarks.md describes, the same call gives the same graph, and in the blocks shape
 * every block's first node dominates every later node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../bench/graph/graph_gen.h"

/* Nodes reachable from 0 without passing through `avoid` (UINT32_MAX: none), into seen. */
static uint32_t reach_avoiding(const bench_graph *g, const uint32_t *first, uint32_t avoid, uint8_t *seen) {
  uint32_t *queue = malloc(g->nodes * sizeof *queue);
  assert_non_null(queue);
  for (uint32_t v = 0; v < g->nodes; v++) seen[v] = 0;
  uint32_t head = 0, tail = 0;
  seen[0] = 1;
  queue[tail++] = 0;
  while (head < tail) {
    uint32_t v = queue[head++];
    for (uint32_t e = first[v]; e < first[v + 1]; e++) {
      uint32_t t = g->to[e];
      if (t == avoid || seen[t]) continue;
      seen[t] = 1;
      queue[tail++] = t;
    }
  }
  free(queue);
  return tail;
}

/* Checks what both shapes share and returns the CSR offsets of g (first[v] .. first[v+1]). */
static uint32_t *check_common(const bench_graph *g, uint32_t n) {
  assert_int_equal(g->nodes, n);
  assert_true(g->edges >= 4 * (uint64_t)n && g->edges <= 5 * (uint64_t)n);
  uint32_t *first = calloc((size_t)n + 1, sizeof *first);
  assert_non_null(first);
  for (uint32_t e = 0; e < g->edges; e++) {
    assert_true(g->from[e] < n && g->to[e] < n);
    assert_int_not_equal(g->from[e], g->to[e]);
    assert_true(g->w[e] >= 1 && g->w[e] <= 100);
    if (e > 0) assert_true(g->from[e - 1] <= g->from[e]);
    first[g->from[e] + 1]++;
  }
  for (uint32_t v = 0; v < n; v++) first[v + 1] += first[v];
  for (uint32_t v = 0; v < n; v++) {
    int path = 0;
    for (uint32_t e = first[v]; e < first[v + 1]; e++) {
      path |= g->to[e] == v + 1;
      for (uint32_t f = first[v]; f < e; f++) assert_int_not_equal(g->to[f], g->to[e]);
    }
    assert_true(path || v + 1 == n);
  }
  for (uint32_t i = 0; i < BENCH_GRAPH_SOURCES; i++) assert_true(g->sources[i] < n);
  assert_ptr_equal(bench_graph_get(g->shape, n), g);
  return first;
}

static void uniform(void **state) {
  (void)state;
  const uint32_t sizes[] = {1000, 100000};
  for (size_t s = 0; s < 2; s++) {
    const bench_graph *g = bench_graph_get(BENCH_GRAPH_UNIFORM, sizes[s]);
    uint32_t *first = check_common(g, sizes[s]);
    uint8_t *seen = malloc(g->nodes);
    assert_non_null(seen);
    assert_int_equal(reach_avoiding(g, first, UINT32_MAX, seen), g->nodes);
    /* Edges other than the path's go anywhere: some go back across most of the graph. */
    uint32_t far_back = 0;
    for (uint32_t e = 0; e < g->edges; e++) far_back += g->from[e] > g->to[e] + g->nodes / 2;
    assert_true(far_back > g->nodes / 4);
    free(seen);
    free(first);
  }
}

static void blocks(void **state) {
  (void)state;
  const uint32_t n = 2000; /* 32 blocks, the last one short */
  const bench_graph *g = bench_graph_get(BENCH_GRAPH_BLOCKS, n);
  uint32_t *first = check_common(g, n);
  for (uint32_t e = 0; e < g->edges; e++) {
    uint32_t v = g->from[e], t = g->to[e];
    assert_true(t == v + 1 || t < v || t / BENCH_GRAPH_BLOCK == v / BENCH_GRAPH_BLOCK);
  }
  uint8_t *seen = malloc(n);
  assert_non_null(seen);
  assert_int_equal(reach_avoiding(g, first, UINT32_MAX, seen), n);
  for (uint32_t entry = BENCH_GRAPH_BLOCK; entry < n; entry += BENCH_GRAPH_BLOCK) {
    assert_int_equal(reach_avoiding(g, first, entry, seen), entry);
    for (uint32_t v = 0; v < n; v++) assert_int_equal(seen[v], v < entry);
  }
  free(seen);
  free(first);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(uniform),
      cmocka_unit_test(blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
