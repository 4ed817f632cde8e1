/* Shortest paths from one node: BFS (hops) with a plain array queue, and Dijkstra with an
 * indexed binary heap (decrease-key in place, so each node is in the heap at most once). */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

cnv_status cnv_graph_bfs(const cnv_graph *g, uint32_t src, uint64_t *dist, uint32_t *parent) {
  if (!g) return CNV_EINVAL;
  const uint32_t n = g->n;
  if (src >= n) return CNV_ERANGE;
  if (!dist && !parent) return CNV_OK;
  const size_t wpr = ((size_t)n + 63) / 64;
  /* one allocation: the visited bitset, then the queue */
  uint64_t *seen = malloc(wpr * sizeof *seen + (size_t)n * sizeof(uint32_t));
  if (!seen) return CNV_ENOMEM;
  uint32_t *queue = (uint32_t *)(void *)(seen + wpr);
  memset(seen, 0, wpr * sizeof *seen);
  if (dist)
    for (uint32_t v = 0; v < n; v++) dist[v] = CNV_GRAPH_INF;
  if (parent) memset(parent, 0xFF, (size_t)n * sizeof *parent);
  const uint32_t *off = g->offsets, *tgt = g->targets;
  size_t head = 0, tail = 0;
  queue[tail++] = src;
  seen[src >> 6] |= 1ull << (src & 63);
  if (dist) dist[src] = 0;
  for (uint64_t level = 1; head < tail; level++) {
    const size_t level_end = tail;
    for (; head < level_end; head++) {
      const uint32_t u = queue[head];
      for (uint32_t e = off[u], end = off[u + 1]; e < end; e++) {
        const uint32_t v = tgt[e];
        const uint64_t m = 1ull << (v & 63);
        if (seen[v >> 6] & m) continue;
        seen[v >> 6] |= m;
        if (dist) dist[v] = level;
        if (parent) parent[v] = u;
        queue[tail++] = v;
      }
    }
  }
  free(seen);
  return CNV_OK;
}

typedef struct heap_entry {
  uint64_t key;
  uint32_t node;
} heap_entry;

#define NOT_IN_HEAP UINT32_MAX

/* Moves heap[i] up to its place, keeping pos[] in step. */
static void sift_up(heap_entry *h, uint32_t *pos, uint32_t i) {
  const heap_entry x = h[i];
  while (i > 0) {
    const uint32_t p = (i - 1) / 2;
    if (h[p].key <= x.key) break;
    h[i] = h[p];
    pos[h[i].node] = i;
    i = p;
  }
  h[i] = x;
  pos[x.node] = i;
}

static void sift_down(heap_entry *h, uint32_t *pos, uint32_t size, uint32_t i) {
  const heap_entry x = h[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && h[c + 1].key < h[c].key) c++;
    if (x.key <= h[c].key) break;
    h[i] = h[c];
    pos[h[i].node] = i;
    i = c;
  }
  h[i] = x;
  pos[x.node] = i;
}

cnv_status cnv_graph_dijkstra(const cnv_graph *g, uint32_t src, uint64_t *dist, uint32_t *parent) {
  if (!g) return CNV_EINVAL;
  const uint32_t n = g->n;
  if (src >= n) return CNV_ERANGE;
  if (!dist && !parent) return CNV_OK;
  /* one allocation: the heap, the positions, and the distances when the caller gave none */
  size_t bytes = (size_t)n * (sizeof(heap_entry) + sizeof(uint32_t)) + (dist ? 0 : (size_t)n * sizeof(uint64_t));
  char *mem = malloc(bytes);
  if (!mem) return CNV_ENOMEM;
  heap_entry *heap = (heap_entry *)(void *)mem;
  uint64_t *d = dist ? dist : (uint64_t *)(void *)(mem + (size_t)n * sizeof(heap_entry));
  uint32_t *pos = (uint32_t *)(void *)(mem + (size_t)n * sizeof(heap_entry) + (dist ? 0 : (size_t)n * sizeof(uint64_t)));
  for (uint32_t v = 0; v < n; v++) d[v] = CNV_GRAPH_INF;
  memset(pos, 0xFF, (size_t)n * sizeof *pos);
  if (parent) memset(parent, 0xFF, (size_t)n * sizeof *parent);
  const uint32_t *off = g->offsets, *tgt = g->targets, *wt = g->weights;
  uint32_t size = 1;
  d[src] = 0;
  heap[0] = (heap_entry){0, src};
  pos[src] = 0;
  while (size) {
    const uint32_t u = heap[0].node;
    const uint64_t du = heap[0].key;
    pos[u] = NOT_IN_HEAP; /* settled: no later edge can lower d[u] (weights are >= 0) */
    if (--size) {
      heap[0] = heap[size];
      sift_down(heap, pos, size, 0);
    }
    for (uint32_t e = off[u], end = off[u + 1]; e < end; e++) {
      const uint32_t v = tgt[e];
      const uint64_t nd = du + wt[e];
      if (nd >= d[v]) continue;
      d[v] = nd;
      if (parent) parent[v] = u;
      uint32_t i = pos[v];
      if (i == NOT_IN_HEAP) i = size++;
      heap[i] = (heap_entry){nd, v};
      sift_up(heap, pos, i);
    }
  }
  free(mem);
  return CNV_OK;
}
