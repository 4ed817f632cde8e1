/* The graph cases' random digraphs (graph_gen.h). */
#include "graph_gen.h"

#include <stdio.h>
#include <stdlib.h>

#include "cnv_bench.h"

#define GEN_CACHE 4
#define GEN_PER_NODE 5u

static bench_graph gen_cache[GEN_CACHE];

static void *gen_alloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    fprintf(stderr, "cnv_bench: out of memory making a graph\n");
    abort();
  }
  return p;
}

/* Adds v -> t unless t is v or already a target of v (its targets so far: to[first .. edges-1]). */
static void gen_edge(bench_graph *g, uint32_t first, uint32_t v, uint32_t t, uint64_t *rng) {
  if (t == v) return;
  for (uint32_t i = first; i < g->edges; i++)
    if (g->to[i] == t) return;
  g->from[g->edges] = v;
  g->to[g->edges] = t;
  g->w[g->edges] = 1 + (uint32_t)(cnv_bench_rand(rng) % 100);
  g->edges++;
}

static void gen_make(bench_graph *g, int shape, uint32_t n) {
  uint64_t rng = 0x19c0ffee00000000ull ^ ((uint64_t)shape << 32) ^ n;
  size_t cap = (size_t)n * GEN_PER_NODE;
  g->shape = shape;
  g->nodes = n;
  g->edges = 0;
  g->from = gen_alloc(cap, sizeof *g->from);
  g->to = gen_alloc(cap, sizeof *g->to);
  g->w = gen_alloc(cap, sizeof *g->w);
  for (uint32_t v = 0; v < n; v++) {
    uint32_t first = g->edges;
    if (v + 1 < n) gen_edge(g, first, v, v + 1, &rng);
    if (shape == BENCH_GRAPH_UNIFORM) {
      for (int k = 0; k < 4; k++) gen_edge(g, first, v, (uint32_t)(cnv_bench_rand(&rng) % n), &rng);
      continue;
    }
    uint32_t block = v - v % BENCH_GRAPH_BLOCK;
    uint32_t block_len = n - block < BENCH_GRAPH_BLOCK ? n - block : BENCH_GRAPH_BLOCK;
    for (int k = 0; k < 3; k++) gen_edge(g, first, v, block + (uint32_t)(cnv_bench_rand(&rng) % block_len), &rng);
    if (v > 0) gen_edge(g, first, v, (uint32_t)(cnv_bench_rand(&rng) % v), &rng);
  }
  for (uint32_t i = 0; i < BENCH_GRAPH_SOURCES; i++) g->sources[i] = (uint32_t)(cnv_bench_rand(&rng) % n);
}

const bench_graph *bench_graph_get(int shape, uint32_t nodes) {
  for (int i = 0; i < GEN_CACHE; i++) {
    if (gen_cache[i].shape == shape && gen_cache[i].nodes == nodes) return &gen_cache[i];
    if (gen_cache[i].nodes == 0) {
      gen_make(&gen_cache[i], shape, nodes);
      return &gen_cache[i];
    }
  }
  fprintf(stderr, "cnv_bench: more than %d graphs\n", GEN_CACHE);
  abort();
}
