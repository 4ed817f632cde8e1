/* Immediate dominators: Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm"
 * (2001). One iterative DFS numbers the nodes reachable from root in postorder; the
 * predecessor lists are built once, in postorder numbers, from the CSR; then the fixed-point
 * iteration runs over reverse postorder with idoms as postorder numbers, where "intersect"
 * walks two fingers up the tree by comparing numbers. Scratch: one allocation of
 * 5 n + m' + 1 words (m' = edges out of reachable nodes). */
#include <stdlib.h>

#include "graphq_internal.h"

#define UNDEF UINT32_MAX

static uint32_t intersect(const uint32_t *doms, uint32_t a, uint32_t b) {
  while (a != b) {
    while (a < b) a = doms[a];
    while (b < a) b = doms[b];
  }
  return a;
}

cnv_status cnv_graph_dominators(const cnv_graph *g, uint32_t root, uint32_t *idom) {
  if (!g || !idom) return CNV_EINVAL;
  const uint32_t n = cnv_graph_nodes(g);
  if (root >= n) return CNV_ERANGE;
  uint64_t m = cnv_graph_edges(g);
  if (m > SIZE_MAX / sizeof(uint32_t) - 5 * (uint64_t)n - 1) return CNV_ENOMEM;
  /* po[v]: postorder number or UNDEF; order[i]: node numbered i; stack_v/stack_e: the DFS;
   * poff (k + 1) and pred (m'): predecessors in postorder numbers; doms: idoms by number. */
  uint32_t *mem = malloc(((size_t)5 * n + 1 + (size_t)m) * sizeof *mem);
  if (!mem) return CNV_ENOMEM;
  uint32_t *po = mem, *order = po + n, *stack_v = order + n, *stack_e = stack_v + n, *poff = stack_e + n;
  for (uint32_t v = 0; v < n; v++) po[v] = UNDEF;

  /* iterative DFS: po[v] = UNDEF - 1 marks "on the path / visited, not yet numbered" */
  const uint32_t seen = UNDEF - 1;
  uint32_t k = 0, sp = 0;
  po[root] = seen;
  stack_v[sp] = root;
  stack_e[sp++] = 0;
  while (sp) {
    uint32_t v = stack_v[sp - 1];
    const uint32_t *t;
    uint32_t cnt;
    cnv__graph_out_of(g, v, &t, &cnt);
    uint32_t e = stack_e[sp - 1];
    while (e < cnt && po[t[e]] != UNDEF) e++;
    if (e < cnt) {
      stack_e[sp - 1] = e + 1;
      uint32_t w = t[e];
      po[w] = seen;
      stack_v[sp] = w;
      stack_e[sp++] = 0;
    } else {
      sp--;
      order[k] = v;
      po[v] = k++;
    }
  }

  /* predecessors of reachable nodes from reachable nodes, counted then placed; stack_e is
   * reused as the fill cursor */
  for (uint32_t i = 0; i <= k; i++) poff[i] = 0;
  for (uint32_t i = 0; i < k; i++) {
    const uint32_t *t;
    uint32_t cnt;
    cnv__graph_out_of(g, order[i], &t, &cnt);
    for (uint32_t e = 0; e < cnt; e++) poff[po[t[e]] + 1]++;
  }
  for (uint32_t i = 0; i < k; i++) poff[i + 1] += poff[i];
  uint32_t *pred = poff + k + 1, *cur = stack_e, *doms = stack_v;
  for (uint32_t i = 0; i < k; i++) cur[i] = poff[i];
  for (uint32_t i = 0; i < k; i++) {
    const uint32_t *t;
    uint32_t cnt;
    cnv__graph_out_of(g, order[i], &t, &cnt);
    for (uint32_t e = 0; e < cnt; e++) pred[cur[po[t[e]]]++] = i;
  }

  /* the fixed point; the root is number k - 1 */
  for (uint32_t i = 0; i < k; i++) doms[i] = UNDEF;
  doms[k - 1] = k - 1;
  bool changed = true;
  while (changed) {
    changed = false;
    for (uint32_t b = k - 1; b-- > 0;) {
      uint32_t nd = UNDEF;
      for (uint32_t j = poff[b]; j < poff[b + 1]; j++) {
        uint32_t p = pred[j];
        if (doms[p] == UNDEF) continue;
        nd = nd == UNDEF ? p : intersect(doms, p, nd);
      }
      if (doms[b] != nd) {
        doms[b] = nd;
        changed = true;
      }
    }
  }
  for (uint32_t v = 0; v < n; v++) idom[v] = po[v] == UNDEF ? CNV_GRAPH_NONE : order[doms[po[v]]];
  free(mem);
  return CNV_OK;
}
