/* A frozen graph queried by several threads at once (reach, closure, BFS, Dijkstra): every
 * thread's answers equal the single-threaded ones (run under TSan by the tsan preset). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cnv/graph.h>

#include "cnv_test_util.h"

#define N 1500u
#define SOURCES 8u
#define THREADS 4

static cnv_graph *graph;
static uint64_t want_dist[SOURCES][N], want_wdist[SOURCES][N], want_reach[SOURCES][(N + 63) / 64];
static cnv_graph_closure want_closure;

typedef struct worker {
  unsigned id;
  unsigned mismatches;
  unsigned failures;
} worker;

static void *run(void *arg) {
  worker *w = arg;
  uint64_t dist[N], words[(N + 63) / 64];
  uint32_t parent[N];
  for (unsigned round = 0; round < (unsigned)cnv_test_iters(6); round++) {
    for (unsigned k = 0; k < SOURCES; k++) {
      const unsigned s = (k + w->id) % SOURCES;
      if (cnv_graph_bfs(graph, s * 97u, dist, parent) != CNV_OK) w->failures++;
      w->mismatches += memcmp(dist, want_dist[s], sizeof dist) != 0;
      if (cnv_graph_dijkstra(graph, s * 97u, dist, parent) != CNV_OK) w->failures++;
      w->mismatches += memcmp(dist, want_wdist[s], sizeof dist) != 0;
      if (cnv_graph_reach(graph, s * 97u, words) != CNV_OK) w->failures++;
      w->mismatches += memcmp(words, want_reach[s], sizeof words) != 0;
    }
    cnv_graph_closure c;
    if (cnv_graph_closure_build(graph, (size_t)1 << 20, &c) != CNV_OK) {
      w->failures++;
      continue;
    }
    w->mismatches += memcmp(c.rows, want_closure.rows, (size_t)N * c.words_per_row * 8) != 0;
    cnv_graph_closure_destroy(&c);
  }
  return NULL;
}

static void test_concurrent_queries(void **state) {
  (void)state;
  uint64_t rng = 19;
  cnv_graph_builder *b = NULL;
  assert_int_equal(cnv_graph_builder_create(&b), CNV_OK);
  for (unsigned i = 0; i < N; i++) {
    uint32_t v;
    assert_int_equal(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, NULL, 0, &v), CNV_OK);
  }
  for (unsigned i = 0; i < 3 * N; i++)
    assert_int_equal(cnv_graph_builder_edge(b, (uint32_t)(cnv_test_rand(&rng) % N),
                                            (uint32_t)(cnv_test_rand(&rng) % N), (uint32_t)(cnv_test_rand(&rng) % 50)),
                     CNV_OK);
  assert_int_equal(cnv_graph_freeze(b, &graph), CNV_OK);
  cnv_graph_builder_destroy(b);
  for (unsigned s = 0; s < SOURCES; s++) {
    assert_int_equal(cnv_graph_bfs(graph, s * 97u, want_dist[s], NULL), CNV_OK);
    assert_int_equal(cnv_graph_dijkstra(graph, s * 97u, want_wdist[s], NULL), CNV_OK);
    assert_int_equal(cnv_graph_reach(graph, s * 97u, want_reach[s]), CNV_OK);
  }
  assert_int_equal(cnv_graph_closure_build(graph, (size_t)1 << 20, &want_closure), CNV_OK);
  pthread_t t[THREADS];
  worker w[THREADS];
  for (unsigned i = 0; i < THREADS; i++) {
    w[i] = (worker){i, 0, 0};
    assert_int_equal(pthread_create(&t[i], NULL, run, &w[i]), 0);
  }
  for (unsigned i = 0; i < THREADS; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(w[i].failures, 0);
    assert_int_equal(w[i].mismatches, 0);
  }
  cnv_graph_closure_destroy(&want_closure);
  cnv_graph_destroy(graph);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_queries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
