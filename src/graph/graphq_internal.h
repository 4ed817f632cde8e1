/* Shared by the graph module's dominator and SCC code: a node's out-edges read straight
 * from the CSR arrays (graph_internal.h), with nothing to check in inner loops. */
#ifndef CNV_GRAPHQ_INTERNAL_H
#define CNV_GRAPHQ_INTERNAL_H

#include "graph_internal.h"

/* *t and *cnt of node v (v < g->n, unchecked). */
static inline void cnv__graph_out_of(const cnv_graph *g, uint32_t v, const uint32_t **t, uint32_t *cnt) {
  *cnt = g->offsets[v + 1] - g->offsets[v];
  *t = *cnt ? g->targets + g->offsets[v] : NULL;
}

#endif
