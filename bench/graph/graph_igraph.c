/* igraph graphs from bench_graph (graph_igraph.h). */
#include "graph_igraph.h"

#include <stdio.h>
#include <stdlib.h>

void bench_igraph_ok(igraph_error_t e, const char *what) {
  if (e != IGRAPH_SUCCESS) {
    fprintf(stderr, "cnv_bench: %s failed: %s\n", what, igraph_strerror(e));
    abort();
  }
}

void bench_graph_to_igraph(const bench_graph *bg, igraph_t *out, igraph_vector_t *weights) {
  igraph_vector_int_t edges;
  bench_igraph_ok(igraph_vector_int_init(&edges, 2 * (igraph_integer_t)bg->edges), "igraph_vector_int_init");
  for (uint32_t i = 0; i < bg->edges; i++) {
    VECTOR(edges)
    [2 * (igraph_integer_t) i] = bg->from[i];
    VECTOR(edges)
    [2 * (igraph_integer_t)i + 1] = bg->to[i];
  }
  bench_igraph_ok(igraph_create(out, &edges, bg->nodes, IGRAPH_DIRECTED), "igraph_create");
  igraph_vector_int_destroy(&edges);
  if (!weights) return;
  bench_igraph_ok(igraph_vector_init(weights, bg->edges), "igraph_vector_init");
  for (uint32_t i = 0; i < bg->edges; i++) VECTOR(*weights)
  [i] = bg->w[i];
}
