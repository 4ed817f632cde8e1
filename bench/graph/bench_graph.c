/* The graph cases (issue 19): reachability, weighted shortest paths and dominators on the same
 * seeded random digraphs (graph_gen.h), libcnv's graph module against igraph, at 10^3 and
 * 10^5 nodes (`<case>/<impl>/<nodes>`), on BENCH_GRAPH_UNIFORM graphs; and
 * graph_dominators_deep, the dominators on BENCH_GRAPH_BLOCKS graphs, whose dominator tree is
 * deep. Building either graph is set-up, not timed; each iteration is one query; the figure
 * is nodes of the graph per second over the queries (every query processes every node: all
 * are reachable), the same unit for both. Before timing, each cnv case checks its answers
 * against igraph's on the same graph. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnv/graph.h"
#include "cnv_bench.h"
#include "graph_gen.h"
#include "graph_igraph.h"

#define SIZE_SMALL 1000
#define SIZE_LARGE 100000
/* A case's argument: the graph's shape (bench_graph_shape) and its number of nodes. */
#define GRAPH_ARG(shape, nodes) ((int64_t)(shape) << 32 | (nodes))

static const bench_graph *graph_of(cnv_bench_state *st) {
  int64_t arg = cnv_bench_arg(st);
  return bench_graph_get((int)(arg >> 32), (uint32_t)arg);
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    fprintf(stderr, "cnv_bench: out of memory\n");
    abort();
  }
  return p;
}

static cnv_graph *cnv_from(const bench_graph *bg) {
  cnv_graph_builder *b = NULL;
  CNV_BENCH_OK(cnv_graph_builder_create(&b));
  for (uint32_t v = 0; v < bg->nodes; v++) {
    char label[16];
    int len = snprintf(label, sizeof label, "v%" PRIu32, v);
    uint32_t node = 0;
    CNV_BENCH_OK(cnv_graph_builder_node(b, CNV_GRAPH_OTHER, label, (size_t)len, &node));
    if (node != v) {
      fprintf(stderr, "cnv_bench: graph node %" PRIu32 " numbered %" PRIu32 "\n", v, node);
      abort();
    }
  }
  for (uint32_t i = 0; i < bg->edges; i++) CNV_BENCH_OK(cnv_graph_builder_edge(b, bg->from[i], bg->to[i], bg->w[i]));
  cnv_graph *g = NULL;
  CNV_BENCH_OK(cnv_graph_freeze(b, &g));
  cnv_graph_builder_destroy(b);
  if (cnv_graph_nodes(g) != bg->nodes || cnv_graph_edges(g) != bg->edges) {
    fprintf(stderr, "cnv_bench: graph has %" PRIu32 " nodes, %" PRIu64 " edges; made %" PRIu32 ", %" PRIu32 "\n",
            cnv_graph_nodes(g), cnv_graph_edges(g), bg->nodes, bg->edges);
    abort();
  }
  return g;
}

/* The answers agree with igraph's for every source (reach, shortest) or the root
 * (dominators); 0 when they do (the case then runs), else the case fails with a message. */
static int check_reach(cnv_bench_state *st, const bench_graph *bg, const cnv_graph *g) {
  igraph_t ig;
  bench_graph_to_igraph(bg, &ig, NULL);
  igraph_vector_int_t res;
  bench_igraph_ok(igraph_vector_int_init(&res, 0), "igraph_vector_int_init");
  uint64_t *words = xcalloc((bg->nodes + 63) / 64, sizeof *words);
  int bad = 0;
  for (uint32_t s = 0; s < BENCH_GRAPH_SOURCES && !bad; s++) {
    CNV_BENCH_OK(cnv_graph_reach(g, bg->sources[s], words));
    bench_igraph_ok(igraph_subcomponent(&ig, &res, bg->sources[s], IGRAPH_OUT), "igraph_subcomponent");
    uint64_t count = 0;
    for (uint32_t i = 0; i < (bg->nodes + 63) / 64; i++) count += (uint64_t)__builtin_popcountll(words[i]);
    bad = count != (uint64_t)igraph_vector_int_size(&res);
    for (igraph_integer_t i = 0; i < igraph_vector_int_size(&res) && !bad; i++) {
      uint32_t v = (uint32_t)VECTOR(res)[i];
      bad = !(words[v / 64] >> (v % 64) & 1);
    }
  }
  free(words);
  igraph_vector_int_destroy(&res);
  igraph_destroy(&ig);
  if (bad) cnv_bench_skip_with_error(st, "cnv_graph_reach disagrees with igraph_subcomponent");
  return bad;
}

static int check_shortest(cnv_bench_state *st, const bench_graph *bg, const cnv_graph *g) {
  igraph_t ig;
  igraph_vector_t weights;
  bench_graph_to_igraph(bg, &ig, &weights);
  igraph_matrix_t res;
  bench_igraph_ok(igraph_matrix_init(&res, 1, bg->nodes), "igraph_matrix_init");
  uint64_t *dist = xcalloc(bg->nodes, sizeof *dist);
  int bad = 0;
  for (uint32_t s = 0; s < BENCH_GRAPH_SOURCES && !bad; s++) {
    CNV_BENCH_OK(cnv_graph_dijkstra(g, bg->sources[s], dist, NULL));
    bench_igraph_ok(igraph_distances_dijkstra(&ig, &res, igraph_vss_1(bg->sources[s]), igraph_vss_all(), &weights,
                                              IGRAPH_OUT),
                    "igraph_distances_dijkstra");
    for (uint32_t v = 0; v < bg->nodes && !bad; v++) {
      double d = MATRIX(res, 0, v);
      bad = dist[v] == CNV_GRAPH_INF ? d != IGRAPH_INFINITY : d != (double)dist[v];
    }
  }
  free(dist);
  igraph_matrix_destroy(&res);
  igraph_vector_destroy(&weights);
  igraph_destroy(&ig);
  if (bad) cnv_bench_skip_with_error(st, "cnv_graph_dijkstra disagrees with igraph_distances_dijkstra");
  return bad;
}

static int check_dominators(cnv_bench_state *st, const bench_graph *bg, const cnv_graph *g) {
  igraph_t ig;
  bench_graph_to_igraph(bg, &ig, NULL);
  igraph_vector_int_t dom;
  bench_igraph_ok(igraph_vector_int_init(&dom, 0), "igraph_vector_int_init");
  uint32_t *idom = xcalloc(bg->nodes, sizeof *idom);
  CNV_BENCH_OK(cnv_graph_dominators(g, 0, idom));
  bench_igraph_ok(igraph_dominator_tree(&ig, 0, &dom, NULL, NULL, IGRAPH_OUT), "igraph_dominator_tree");
  /* igraph: the root's entry is itself or negative, an unreachable node's negative. */
  int bad = idom[0] != 0;
  for (uint32_t v = 1; v < bg->nodes && !bad; v++) {
    igraph_integer_t d = VECTOR(dom)[v];
    bad = d < 0 ? idom[v] != CNV_GRAPH_NONE : idom[v] != (uint32_t)d;
  }
  free(idom);
  igraph_vector_int_destroy(&dom);
  igraph_destroy(&ig);
  if (bad) cnv_bench_skip_with_error(st, "cnv_graph_dominators disagrees with igraph_dominator_tree");
  return bad;
}

static void report_nodes(cnv_bench_state *st, const bench_graph *bg) {
  cnv_bench_set_items_processed(st, (int64_t)(cnv_bench_iterations(st) * bg->nodes));
}

static void reach_cnv(cnv_bench_state *st) {
  const bench_graph *bg = graph_of(st);
  cnv_graph *g = cnv_from(bg);
  if (check_reach(st, bg, g)) {
    cnv_graph_destroy(g);
    return;
  }
  uint64_t *words = xcalloc((bg->nodes + 63) / 64, sizeof *words);
  uint32_t i = 0;
  while (cnv_bench_keep_running(st)) {
    CNV_BENCH_OK(cnv_graph_reach(g, bg->sources[i++ % BENCH_GRAPH_SOURCES], words));
    cnv_bench_do_not_optimize(words);
  }
  report_nodes(st, bg);
  free(words);
  cnv_graph_destroy(g);
}

static void reach_igraph(cnv_bench_state *st) {
  const bench_graph *bg = graph_of(st);
  igraph_t ig;
  bench_graph_to_igraph(bg, &ig, NULL);
  igraph_vector_int_t res;
  bench_igraph_ok(igraph_vector_int_init(&res, 0), "igraph_vector_int_init");
  uint32_t i = 0;
  while (cnv_bench_keep_running(st)) {
    bench_igraph_ok(igraph_subcomponent(&ig, &res, bg->sources[i++ % BENCH_GRAPH_SOURCES], IGRAPH_OUT),
                    "igraph_subcomponent");
    cnv_bench_do_not_optimize(VECTOR(res));
  }
  report_nodes(st, bg);
  igraph_vector_int_destroy(&res);
  igraph_destroy(&ig);
}

static void shortest_cnv(cnv_bench_state *st) {
  const bench_graph *bg = graph_of(st);
  cnv_graph *g = cnv_from(bg);
  if (check_shortest(st, bg, g)) {
    cnv_graph_destroy(g);
    return;
  }
  uint64_t *dist = xcalloc(bg->nodes, sizeof *dist);
  uint32_t i = 0;
  while (cnv_bench_keep_running(st)) {
    CNV_BENCH_OK(cnv_graph_dijkstra(g, bg->sources[i++ % BENCH_GRAPH_SOURCES], dist, NULL));
    cnv_bench_do_not_optimize(dist);
  }
  report_nodes(st, bg);
  free(dist);
  cnv_graph_destroy(g);
}

static void shortest_igraph(cnv_bench_state *st) {
  const bench_graph *bg = graph_of(st);
  igraph_t ig;
  igraph_vector_t weights;
  bench_graph_to_igraph(bg, &ig, &weights);
  igraph_matrix_t res;
  bench_igraph_ok(igraph_matrix_init(&res, 1, bg->nodes), "igraph_matrix_init");
  uint32_t i = 0;
  while (cnv_bench_keep_running(st)) {
    bench_igraph_ok(igraph_distances_dijkstra(&ig, &res, igraph_vss_1(bg->sources[i++ % BENCH_GRAPH_SOURCES]),
                                              igraph_vss_all(), &weights, IGRAPH_OUT),
                    "igraph_distances_dijkstra");
    cnv_bench_do_not_optimize(&MATRIX(res, 0, 0));
  }
  report_nodes(st, bg);
  igraph_matrix_destroy(&res);
  igraph_vector_destroy(&weights);
  igraph_destroy(&ig);
}

static void dominators_cnv(cnv_bench_state *st) {
  const bench_graph *bg = graph_of(st);
  cnv_graph *g = cnv_from(bg);
  if (check_dominators(st, bg, g)) {
    cnv_graph_destroy(g);
    return;
  }
  uint32_t *idom = xcalloc(bg->nodes, sizeof *idom);
  while (cnv_bench_keep_running(st)) {
    CNV_BENCH_OK(cnv_graph_dominators(g, 0, idom));
    cnv_bench_do_not_optimize(idom);
  }
  report_nodes(st, bg);
  free(idom);
  cnv_graph_destroy(g);
}

static void dominators_igraph(cnv_bench_state *st) {
  const bench_graph *bg = graph_of(st);
  igraph_t ig;
  bench_graph_to_igraph(bg, &ig, NULL);
  igraph_vector_int_t dom;
  bench_igraph_ok(igraph_vector_int_init(&dom, 0), "igraph_vector_int_init");
  while (cnv_bench_keep_running(st)) {
    bench_igraph_ok(igraph_dominator_tree(&ig, 0, &dom, NULL, NULL, IGRAPH_OUT), "igraph_dominator_tree");
    cnv_bench_do_not_optimize(VECTOR(dom));
  }
  report_nodes(st, bg);
  igraph_vector_int_destroy(&dom);
  igraph_destroy(&ig);
}

CNV_BENCH(reach_cnv, "graph_reach/cnv/1000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_SMALL))
CNV_BENCH(reach_igraph, "graph_reach/igraph/1000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_SMALL))
CNV_BENCH(reach_cnv, "graph_reach/cnv/100000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_LARGE))
CNV_BENCH(reach_igraph, "graph_reach/igraph/100000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_LARGE))
CNV_BENCH(shortest_cnv, "graph_shortest/cnv/1000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_SMALL))
CNV_BENCH(shortest_igraph, "graph_shortest/igraph/1000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_SMALL))
CNV_BENCH(shortest_cnv, "graph_shortest/cnv/100000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_LARGE))
CNV_BENCH(shortest_igraph, "graph_shortest/igraph/100000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_LARGE))
CNV_BENCH(dominators_cnv, "graph_dominators/cnv/1000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_SMALL))
CNV_BENCH(dominators_igraph, "graph_dominators/igraph/1000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_SMALL))
CNV_BENCH(dominators_cnv, "graph_dominators/cnv/100000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_LARGE))
CNV_BENCH(dominators_igraph, "graph_dominators/igraph/100000", 1, GRAPH_ARG(BENCH_GRAPH_UNIFORM, SIZE_LARGE))
CNV_BENCH(dominators_cnv, "graph_dominators_deep/cnv/1000", 1, GRAPH_ARG(BENCH_GRAPH_BLOCKS, SIZE_SMALL))
CNV_BENCH(dominators_igraph, "graph_dominators_deep/igraph/1000", 1, GRAPH_ARG(BENCH_GRAPH_BLOCKS, SIZE_SMALL))
CNV_BENCH(dominators_cnv, "graph_dominators_deep/cnv/100000", 1, GRAPH_ARG(BENCH_GRAPH_BLOCKS, SIZE_LARGE))
CNV_BENCH(dominators_igraph, "graph_dominators_deep/igraph/100000", 1, GRAPH_ARG(BENCH_GRAPH_BLOCKS, SIZE_LARGE))
