/* graph internals: the builder's and the frozen graph's layouts, shared by the graph
 * module's files. Never installed. */
#ifndef CNV__GRAPH_INTERNAL_H
#define CNV__GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/graph.h>

#define CNV__GRAPH_LABEL_MAX 255u

/* One builder edge (parallel edges and duplicates kept until freeze). */
typedef struct cnv__graph_edge {
  uint32_t from;
  uint32_t to;
  uint32_t w;
} cnv__graph_edge;

/* Node table shared by the builder and the frozen graph: node v has kind kinds[v] and the
 * label labels[label_off[v] .. label_off[v] + label_len[v]). Labelled nodes (label not
 * NULL) are in an open-addressing hash table: slots[i] is node + 1 (0 empty), slot_mask + 1
 * slots (a power of two, at most half full); anonymous nodes (NULL label) are not. */
typedef struct cnv__graph_nodes {
  uint32_t count;
  uint32_t cap;
  uint8_t *kinds;
  uint8_t *label_len;
  uint64_t *label_off;
  char *labels;
  size_t labels_len;
  size_t labels_cap;
  uint32_t *slots;
  size_t slot_mask;
  size_t labelled; /* nodes in slots */
} cnv__graph_nodes;

struct cnv_graph_builder {
  cnv__graph_nodes nodes;
  cnv__graph_edge *edges;
  size_t edge_count;
  size_t edge_cap;
};

/* Frozen CSR: node v's out-edges are targets[offsets[v] .. offsets[v + 1]) with weights at
 * the same indices, sorted by target, one edge per (from, to) pair (the lightest). */
struct cnv_graph {
  cnv__graph_nodes nodes;
  uint32_t n;
  uint32_t m;
  uint32_t *offsets; /* n + 1 entries */
  uint32_t *targets; /* m entries */
  uint32_t *weights; /* m entries */
};

/* Hash of a (kind, label) pair for the node table. */
uint64_t cnv__graph_label_hash(int kind, const char *label, size_t len);
/* The labelled node of this kind and label, or CNV_GRAPH_NONE. */
uint32_t cnv__graph_nodes_lookup(const cnv__graph_nodes *t, int kind, const char *label, size_t len);

#endif
