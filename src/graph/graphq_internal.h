/* Shared by the graph module's dominator, SCC and DOT code: a node's out-edges without a
 * status to thread through inner loops. */
#ifndef CNV_GRAPHQ_INTERNAL_H
#define CNV_GRAPHQ_INTERNAL_H

#include <cnv/graph.h>

#include "core/ignore.h"

/* *t and *cnt of node v (v < cnv_graph_nodes(g)); *cnt = 0 on a failure, which only an
 * out-of-range v can cause. */
static inline void cnv__graph_out_of(const cnv_graph *g, uint32_t v, const uint32_t **t, uint32_t *cnt) {
  *t = NULL;
  *cnt = 0;
  /* v is in range at every call site: cnv_graph_out cannot fail */
  cnv__ignore_status(cnv_graph_out(g, v, t, NULL, cnt));
}

#endif
