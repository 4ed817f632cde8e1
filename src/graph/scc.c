/* Strongly connected components: Tarjan's algorithm with an explicit call stack (no
 * recursion), then the components renumbered in order of their smallest node. A node is on
 * Tarjan's stack exactly while it is visited and has no component yet, so no separate flag is
 * kept. Scratch: one allocation of 5 n words. O(n + m). */
#include <stdlib.h>

#include "graphq_internal.h"

#define UNDEF UINT32_MAX

cnv_status cnv_graph_scc(const cnv_graph *g, uint32_t *comp, uint32_t *count) {
  if (!g || !comp || !count) return CNV_EINVAL;
  const uint32_t n = cnv_graph_nodes(g);
  *count = 0;
  if (n == 0) return CNV_OK;
  /* idx: DFS discovery index; low: lowlink; stk: Tarjan's stack; cs_v/cs_e: the DFS. map
   * (component found -> final number) reuses idx once the search is over. */
  uint32_t *mem = malloc((size_t)5 * n * sizeof *mem);
  if (!mem) return CNV_ENOMEM;
  uint32_t *idx = mem, *low = idx + n, *stk = low + n, *cs_v = stk + n, *cs_e = cs_v + n;
  for (uint32_t v = 0; v < n; v++) {
    idx[v] = UNDEF;
    comp[v] = UNDEF;
  }
  uint32_t next = 0, found = 0, top = 0;
  for (uint32_t s = 0; s < n; s++) {
    if (idx[s] != UNDEF) continue;
    uint32_t sp = 0;
    idx[s] = low[s] = next++;
    stk[top++] = s;
    cs_v[sp] = s;
    cs_e[sp++] = 0;
    while (sp) {
      uint32_t v = cs_v[sp - 1];
      const uint32_t *t;
      uint32_t cnt;
      cnv__graph_out_of(g, v, &t, &cnt);
      uint32_t e = cs_e[sp - 1];
      for (; e < cnt; e++) {
        uint32_t w = t[e];
        if (idx[w] == UNDEF) break;
        if (comp[w] == UNDEF && idx[w] < low[v]) low[v] = idx[w]; /* w on the stack */
      }
      if (e < cnt) {
        cs_e[sp - 1] = e + 1;
        uint32_t w = t[e];
        idx[w] = low[w] = next++;
        stk[top++] = w;
        cs_v[sp] = w;
        cs_e[sp++] = 0;
        continue;
      }
      sp--;
      if (low[v] == idx[v]) {
        uint32_t w;
        do {
          w = stk[--top];
          comp[w] = found;
        } while (w != v);
        found++;
      }
      if (sp) {
        uint32_t u = cs_v[sp - 1];
        if (low[v] < low[u]) low[u] = low[v];
      }
    }
  }
  uint32_t *map = idx, c = 0;
  for (uint32_t i = 0; i < found; i++) map[i] = UNDEF;
  for (uint32_t v = 0; v < n; v++) {
    if (map[comp[v]] == UNDEF) map[comp[v]] = c++;
    comp[v] = map[comp[v]];
  }
  *count = c;
  free(mem);
  return CNV_OK;
}
