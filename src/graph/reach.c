/* Reachability: the reachable set of one node (BFS into a bitset) and the transitive closure
 * (Tarjan's SCCs, iteratively; each component's row is built when Tarjan emits it, which is
 * after every component it reaches, as the union of those rows with cnv_simd_bits_or). */
#include <stdlib.h>
#include <string.h>

#include <cnv/simd.h>

#include "graph_internal.h"

static inline void bit_set(uint64_t *w, uint32_t i) { w[i >> 6] |= 1ull << (i & 63); }
static inline bool bit_get(const uint64_t *w, uint32_t i) { return (w[i >> 6] >> (i & 63)) & 1; }

cnv_status cnv_graph_reach(const cnv_graph *g, uint32_t src, uint64_t *words) {
  if (!g || !words) return CNV_EINVAL;
  if (src >= g->n) return CNV_ERANGE;
  uint32_t *queue = malloc((size_t)g->n * sizeof *queue);
  if (!queue) return CNV_ENOMEM;
  memset(words, 0, (((size_t)g->n + 63) / 64) * sizeof *words);
  const uint32_t *off = g->offsets, *tgt = g->targets;
  size_t head = 0, tail = 0;
  queue[tail++] = src;
  bit_set(words, src);
  while (head < tail) {
    const uint32_t u = queue[head++];
    for (uint32_t e = off[u], end = off[u + 1]; e < end; e++) {
      const uint32_t v = tgt[e];
      const uint64_t m = 1ull << (v & 63);
      if (words[v >> 6] & m) continue;
      words[v >> 6] |= m;
      queue[tail++] = v;
    }
  }
  free(queue);
  return CNV_OK;
}

/* Tarjan's scratch: five arrays of n entries in one allocation. */
typedef struct closure_scratch {
  uint32_t *index; /* DFS number, CNV_GRAPH_NONE = not visited */
  uint32_t *low;
  uint32_t *rep;   /* the component's root node once emitted, CNV_GRAPH_NONE before */
  uint32_t *stack; /* Tarjan's stack of open nodes */
  uint32_t *call;  /* the DFS path (nodes); the next edge of each is in edge[] */
  uint32_t *edge;
} closure_scratch;

/* The rows of the component rooted at root, members stack[first .. sp): the members' bits,
 * then the union of the rows of the components they have edges into. */
static void emit_component(const cnv_graph *g, const closure_scratch *s, size_t first, size_t sp, uint32_t root,
                           const cnv_simd_kernels *k, uint64_t *rows, size_t wpr) {
  uint64_t *row = rows + (size_t)root * wpr;
  for (size_t i = first; i < sp; i++) {
    s->rep[s->stack[i]] = root;
    bit_set(row, s->stack[i]);
  }
  for (size_t i = first; i < sp; i++) {
    const uint32_t u = s->stack[i];
    for (uint32_t e = g->offsets[u], end = g->offsets[u + 1]; e < end; e++) {
      const uint32_t v = g->targets[e];
      /* a bit already set came with the row of a node that reaches v, which holds v's row */
      if (bit_get(row, v)) continue;
      k->bits_or(row, rows + (size_t)v * wpr, wpr); /* v's component is done: its rows are all filled */
    }
  }
  for (size_t i = first; i < sp; i++)
    if (s->stack[i] != root) memcpy(rows + (size_t)s->stack[i] * wpr, row, wpr * sizeof *row);
}

cnv_status cnv_graph_closure_build(const cnv_graph *g, size_t max_bytes, cnv_graph_closure *out) {
  if (!out) return CNV_EINVAL;
  memset(out, 0, sizeof *out); /* what every failure leaves */
  if (!g) return CNV_EINVAL;
  const uint32_t n = g->n;
  const uint64_t wpr = ((uint64_t)n + 63) / 64;
  const uint64_t bytes = (uint64_t)n * wpr * sizeof(uint64_t); /* n <= 2^28: no overflow */
  if (bytes > max_bytes || bytes > SIZE_MAX) return CNV_ERANGE;
  if (n == 0) return CNV_OK;
  const cnv_simd_kernels *k = NULL;
  cnv_status st = cnv_simd_kernels_get(cnv_simd_active_path(), &k);
  if (st != CNV_OK) return st;
  uint64_t *rows = calloc((size_t)bytes, 1);
  uint32_t *mem = malloc((size_t)n * 6 * sizeof *mem);
  if (!rows || !mem) {
    free(rows);
    free(mem);
    return CNV_ENOMEM;
  }
  closure_scratch s = {mem, mem + n, mem + 2 * (size_t)n, mem + 3 * (size_t)n, mem + 4 * (size_t)n,
                       mem + 5 * (size_t)n};
  memset(s.index, 0xFF, (size_t)n * sizeof *mem);
  memset(s.rep, 0xFF, (size_t)n * sizeof *mem);
  uint32_t next = 0;
  size_t sp = 0;
  for (uint32_t r = 0; r < n; r++) {
    if (s.index[r] != CNV_GRAPH_NONE) continue;
    size_t depth = 0;
    s.index[r] = s.low[r] = next++;
    s.stack[sp++] = r;
    s.call[depth] = r;
    s.edge[depth++] = g->offsets[r];
    while (depth) {
      const uint32_t u = s.call[depth - 1];
      const uint32_t e = s.edge[depth - 1];
      if (e < g->offsets[u + 1]) {
        s.edge[depth - 1] = e + 1;
        const uint32_t v = g->targets[e];
        if (s.index[v] == CNV_GRAPH_NONE) {
          s.index[v] = s.low[v] = next++;
          s.stack[sp++] = v;
          s.call[depth] = v;
          s.edge[depth++] = g->offsets[v];
        } else if (s.rep[v] == CNV_GRAPH_NONE && s.index[v] < s.low[u]) {
          s.low[u] = s.index[v]; /* v is open: on Tarjan's stack */
        }
        continue;
      }
      depth--;
      if (depth && s.low[u] < s.low[s.call[depth - 1]]) s.low[s.call[depth - 1]] = s.low[u];
      if (s.low[u] != s.index[u]) continue;
      size_t first = sp;
      while (s.stack[first - 1] != u) first--;
      first--;
      emit_component(g, &s, first, sp, u, k, rows, (size_t)wpr);
      sp = first;
    }
  }
  free(mem);
  out->nodes = n;
  out->words_per_row = (uint32_t)wpr;
  out->rows = rows;
  return CNV_OK;
}

void cnv_graph_closure_destroy(cnv_graph_closure *c) {
  if (!c) return;
  free(c->rows);
  c->rows = NULL;
  c->nodes = 0;
  c->words_per_row = 0;
}

bool cnv_graph_closure_reaches(const cnv_graph_closure *c, uint32_t from, uint32_t to) {
  if (!c || !c->rows || from >= c->nodes || to >= c->nodes) return false;
  return bit_get(c->rows + (size_t)from * c->words_per_row, to);
}
