/* Immediate dominators by Semi-NCA (Georgiadis and Tarjan; "Finding Dominators in Practice",
 * 2004): Lengauer and Tarjan's semidominators, then each idom as a nearest common ancestor in
 * the tree built so far, which is Cooper, Harvey and Kennedy's "intersect" on a graph whose
 * only edges into w come from its DFS parent and its semidominator: that graph has the same
 * dominators, and in preorder each of w's two predecessors is final before w, so one pass
 * suffices. Plain Cooper-Harvey-Kennedy iterates over every predecessor until nothing changes,
 * and each intersect walks the depth of the tree: on a deep dominator tree (a chain of loops
 * entered once each) that is O(n * depth) per pass; here the semidominators cost
 * O(m log n) (path compression) and the idom walks stay short.
 *
 * Everything works on preorder numbers 0 .. k-1 of the k nodes root reaches (the root is 0):
 * one iterative DFS numbers them, the predecessor lists are built once from the CSR in those
 * numbers, and path compression runs on an explicit stack. Scratch: one allocation of
 * 9 n + 1 + m' words (m' = edges out of reachable nodes). */
#include <stdlib.h>

#include "graphq_internal.h"

#define UNDEF UINT32_MAX

/* Lengauer-Tarjan's compress, iteratively: along the ancestor chain of v (through linked
 * nodes), label[x] becomes the node of smallest semidominator on the path and ancestor[x]
 * the chain's last linked node. path: scratch of k entries. */
static void compress(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi, uint32_t *path) {
  uint32_t top = 0;
  while (ancestor[ancestor[v]] != UNDEF) {
    path[top++] = v;
    v = ancestor[v];
  }
  while (top) {
    uint32_t x = path[--top], a = ancestor[x];
    if (semi[label[a]] < semi[label[x]]) label[x] = label[a];
    ancestor[x] = ancestor[a];
  }
}

cnv_status cnv_graph_dominators(const cnv_graph *g, uint32_t root, uint32_t *idom) {
  if (!g || !idom) return CNV_EINVAL;
  const uint32_t n = cnv_graph_nodes(g);
  if (root >= n) return CNV_ERANGE;
  uint64_t m = cnv_graph_edges(g);
  if (m > SIZE_MAX / sizeof(uint32_t) - 9 * (uint64_t)n - 1) return CNV_ENOMEM;
  uint32_t *mem = malloc(((size_t)9 * n + 1 + (size_t)m) * sizeof *mem);
  if (!mem) return CNV_ENOMEM;
  /* pre[v]: preorder number or UNDEF; vertex[i]: node numbered i; parent[i]: DFS parent;
   * stack_v/stack_e: the DFS (then the compress path and the idoms); poff (k + 1) and pred:
   * predecessors by number */
  uint32_t *pre = mem, *vertex = pre + n, *parent = vertex + n, *semi = parent + n, *label = semi + n,
           *ancestor = label + n, *stack_v = ancestor + n, *stack_e = stack_v + n, *poff = stack_e + n;
  for (uint32_t v = 0; v < n; v++) pre[v] = UNDEF;

  uint32_t k = 0, sp = 0;
  pre[root] = k;
  vertex[k] = root;
  parent[k++] = UNDEF;
  stack_v[sp] = root;
  stack_e[sp++] = 0;
  while (sp) {
    uint32_t v = stack_v[sp - 1];
    const uint32_t *t;
    uint32_t cnt;
    cnv__graph_out_of(g, v, &t, &cnt);
    uint32_t e = stack_e[sp - 1];
    while (e < cnt && pre[t[e]] != UNDEF) e++;
    if (e == cnt) {
      sp--;
      continue;
    }
    stack_e[sp - 1] = e + 1;
    uint32_t w = t[e];
    pre[w] = k;
    vertex[k] = w;
    parent[k++] = pre[v];
    stack_v[sp] = w;
    stack_e[sp++] = 0;
  }

  /* predecessors of reachable nodes from reachable nodes: counted, then placed (stack_e is
   * the fill cursor) */
  for (uint32_t i = 0; i <= k; i++) poff[i] = 0;
  for (uint32_t i = 0; i < k; i++) {
    const uint32_t *t;
    uint32_t cnt;
    cnv__graph_out_of(g, vertex[i], &t, &cnt);
    for (uint32_t e = 0; e < cnt; e++) poff[pre[t[e]] + 1]++;
  }
  for (uint32_t i = 0; i < k; i++) poff[i + 1] += poff[i];
  uint32_t *pred = poff + k + 1, *cur = stack_e;
  for (uint32_t i = 0; i < k; i++) cur[i] = poff[i];
  for (uint32_t i = 0; i < k; i++) {
    const uint32_t *t;
    uint32_t cnt;
    cnv__graph_out_of(g, vertex[i], &t, &cnt);
    for (uint32_t e = 0; e < cnt; e++) pred[cur[pre[t[e]]]++] = i;
  }

  /* semidominators in reverse preorder; a node is linked to its parent once done. A
   * predecessor numbered above w is a descendant's or a cross edge's: eval gives the smallest
   * semidominator on its linked chain; one numbered below is its own semidominator. */
  for (uint32_t i = 0; i < k; i++) {
    semi[i] = label[i] = i;
    ancestor[i] = UNDEF;
  }
  for (uint32_t w = k; w-- > 1;) {
    uint32_t s = semi[w];
    for (uint32_t j = poff[w]; j < poff[w + 1]; j++) {
      uint32_t v = pred[j], u = v;
      if (ancestor[v] != UNDEF) {
        compress(v, ancestor, label, semi, stack_v);
        u = label[v];
      }
      if (semi[u] < s) s = semi[u];
    }
    semi[w] = s;
    ancestor[w] = parent[w];
  }

  /* idoms in preorder: from the parent up the tree built so far to the first node numbered
   * at most the semidominator (the two predecessors' nearest common ancestor) */
  uint32_t *dom = stack_e;
  dom[0] = 0;
  for (uint32_t w = 1; w < k; w++) {
    uint32_t d = parent[w];
    while (d > semi[w]) d = dom[d];
    dom[w] = d;
  }
  for (uint32_t v = 0; v < n; v++) idom[v] = pre[v] == UNDEF ? CNV_GRAPH_NONE : vertex[dom[pre[v]]];
  free(mem);
  return CNV_OK;
}
