/* igraph, the graph cases' peer: a bench_graph as an igraph_t (bench/graph). */
#ifndef BENCH_GRAPH_IGRAPH_H
#define BENCH_GRAPH_IGRAPH_H

#include <igraph.h>

#include "graph_gen.h"

/* Makes *out (directed, bg's nodes and edges in bg's order) and, when weights is not NULL,
 * *weights (bg's weights as igraph's reals, one per edge in the same order). The caller
 * destroys both. Aborts on failure. */
void bench_graph_to_igraph(const bench_graph *bg, igraph_t *out, igraph_vector_t *weights);
/* An igraph call must succeed: aborts naming what failed and igraph's message otherwise. */
void bench_igraph_ok(igraph_error_t e, const char *what);

#endif
