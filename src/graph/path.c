/* A path out of a parent array (from cnv_graph_bfs or cnv_graph_dijkstra). */
#include <cnv/graph.h>

cnv_status cnv_graph_path(const uint32_t *parent, uint32_t nodes, uint32_t src, uint32_t dst, uint32_t *path,
                          size_t cap, size_t *len) {
  if (!parent || !len || (!path && cap)) return CNV_EINVAL;
  if (src >= nodes || dst >= nodes) return CNV_ERANGE;
  /* walk back from dst; a parent chain longer than the node count is a cycle: bad input */
  size_t n = 1;
  uint32_t v = dst;
  while (v != src) {
    v = parent[v];
    if (v == CNV_GRAPH_NONE || v >= nodes) return CNV_ENOTFOUND;
    if (++n > nodes) return CNV_EINVAL;
  }
  *len = n;
  if (n > cap) return CNV_EFULL;
  v = dst;
  for (size_t i = n; i-- > 0;) {
    path[i] = v;
    v = parent[v];
  }
  return CNV_OK;
}
