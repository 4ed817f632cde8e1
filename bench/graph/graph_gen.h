/* The graph cases' inputs (bench/graph): seeded random digraphs, the same edges for every
 * implementation (docs/benchmarks.md, "The graph cases"). Two shapes, both about 5 edges
 * per node with no self-loops and no parallel edges, weights 1 .. 100, and an edge v -> v + 1
 * for every v (a path from node 0, the root, through every node, so all are reachable):
 *
 * - BENCH_GRAPH_UNIFORM: 4 more edges per node to uniformly random nodes. Every node is
 *   reachable from almost every other; the dominator tree from node 0 is shallow (a node
 *   whose only in-edge is the path's is dominated by its predecessor, the rest by the root).
 * - BENCH_GRAPH_BLOCKS: nodes fall in blocks of BENCH_GRAPH_BLOCK consecutive nodes; 3 more
 *   edges per node to random nodes of its own block and 1 back to a random earlier node.
 *   Going forward, a block is entered only through its first node, which so dominates every
 *   later node: the dominator tree is a chain of n / BENCH_GRAPH_BLOCK block entries, deep. */
#ifndef BENCH_GRAPH_GEN_H
#define BENCH_GRAPH_GEN_H

#include <stdint.h>

#define BENCH_GRAPH_BLOCK 64u
#define BENCH_GRAPH_SOURCES 16u

typedef enum bench_graph_shape { BENCH_GRAPH_UNIFORM = 1,
                                 BENCH_GRAPH_BLOCKS = 2 } bench_graph_shape;

typedef struct bench_graph {
  int shape;
  uint32_t nodes;
  uint32_t edges;
  /* Edge i is from[i] -> to[i] of weight w[i]; sorted by from. */
  uint32_t *from, *to, *w;
  /* Sources the reach and shortest-path queries take in turn (seeded, the same for every
   * implementation). */
  uint32_t sources[BENCH_GRAPH_SOURCES];
} bench_graph;

/* The graph of `shape` with `nodes` nodes (>= 2), made on the first call from a seed derived
 * from both and kept for the process: the same call returns the same graph. Aborts when out
 * of memory. Not thread-safe (cases call it from their one thread). */
const bench_graph *bench_graph_get(int shape, uint32_t nodes);

#endif
