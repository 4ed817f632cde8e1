/* libcnv graph: the capability graph, stored compressed (CSR), and its queries.
 *
 * Nodes are numbered 0 .. n-1; each has a kind (an issuer key, an agent key, a capability)
 * and a label. Edges are directed with a non-negative weight. A graph is built with a
 * builder (nodes and edges in any order, duplicates allowed: the lightest of parallel edges
 * is kept), then frozen into CSR (offsets and targets arrays), immutable afterwards.
 *
 * From delegation: cnv_graph_builder_add_token adds a token chain's links (issuer ->
 * audience, weight 1 per link) and edges from its holder to each capability node whose path
 * the token allows (cnv_deleg_cap_from_path and the token's patterns), so "which agent can
 * reach which capability through which chain" is reachability and paths in this graph.
 *
 * Queries on a frozen graph: reachability (a bitset transitive closure whose row unions use
 * the simd module's cnv_simd_bits_or; and the reachable set of one node), BFS shortest path,
 * weighted shortest path (Dijkstra), the dominator tree from a root (Semi-NCA: Lengauer and
 * Tarjan's semidominators, then Cooper, Harvey and Kennedy's intersect over them, in one pass;
 * docs/graph.md says why not their plain iteration), strongly connected components as
 * equivalence classes, and DOT export.
 *
 * Thread-safety: a builder is used by one thread at a time; a frozen graph is immutable:
 * any threads may query it at once (each query's scratch is its own or the caller's).
 * Queries are blocking computations; they allocate only their outputs and scratch, and fail
 * with CNV_ENOMEM cleanly. */
#ifndef CNV_GRAPH_H
#define CNV_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNV_GRAPH_MAX_NODES (1u << 28)
#define CNV_GRAPH_NONE UINT32_MAX /* no node (unreachable, no parent, no dominator) */
#define CNV_GRAPH_INF UINT64_MAX  /* distance of an unreachable node */

typedef enum cnv_graph_node_kind {
  CNV_GRAPH_ISSUER = 1,     /* a key that signs links (a trust root or a delegator) */
  CNV_GRAPH_AGENT = 2,      /* a token's holder */
  CNV_GRAPH_CAPABILITY = 3, /* a registered capability path */
  CNV_GRAPH_OTHER = 4
} cnv_graph_node_kind;

typedef struct cnv_graph_builder cnv_graph_builder;
typedef struct cnv_graph cnv_graph;

/* Errors: CNV_EINVAL, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_builder_create(cnv_graph_builder **out);
/* Frees b and everything it holds (graphs frozen from it are independent); NULL is a no-op. */
CNV_API void cnv_graph_builder_destroy(cnv_graph_builder *b);
/* Adds a node (label copied, up to 255 bytes) and returns its number; a label already added
 * with the same kind returns the existing node. A NULL label (len 0) adds an anonymous node:
 * a new node every time, label empty, not found by cnv_graph_find. Errors: CNV_EINVAL (NULL
 * b or node, NULL label with len > 0, kind not a cnv_graph_node_kind), CNV_ERANGE (label too
 * long, CNV_GRAPH_MAX_NODES reached), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_builder_node(cnv_graph_builder *b, int kind, const char *label, size_t len,
                                                        uint32_t *node);
/* Adds an edge from -> to of weight w. Errors: CNV_EINVAL, CNV_ERANGE (no such node),
 * CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_builder_edge(cnv_graph_builder *b, uint32_t from, uint32_t to, uint32_t w);
/* Adds a capability node for path (label = the path) unless present: cnv_graph_builder_node
 * with kind CNV_GRAPH_CAPABILITY. Errors: CNV_EINVAL (NULL path), as cnv_graph_builder_node. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_builder_capability(cnv_graph_builder *b, const char *path, size_t len,
                                                              uint32_t *node);
/* Adds a token chain (cnv_deleg token bytes, not verified here: decode only): a node per
 * distinct key (labels: hex of the key; a key already present as an agent or an issuer is
 * that node, else it is added as an issuer for the root's issuer and an agent for an
 * audience), an edge per link (weight 1), and holder -> capability edges (weight 1) for every
 * capability node already added whose path every link allows and no link forbids (for a
 * chain that verifies: what its last link allows). Errors: CNV_EINVAL, the delegation decode
 * errors (nothing added), CNV_ENOMEM (part of the token may have been added). */
CNV_API CNV_NODISCARD cnv_status cnv_graph_builder_add_token(cnv_graph_builder *b, const uint8_t *token, size_t len);
/* Freezes into CSR; the builder stays usable (freeze again for a later graph). Parallel
 * edges become one (the lightest); out-edges are sorted by target. Errors: CNV_EINVAL,
 * CNV_ERANGE (more than UINT32_MAX distinct edges), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_freeze(const cnv_graph_builder *b, cnv_graph **out);
/* Frees g; NULL is a no-op. No query may be running on g. */
CNV_API void cnv_graph_destroy(cnv_graph *g);

/* The node count n and the edge count (parallel edges counted once); 0 for NULL g. */
CNV_API uint32_t cnv_graph_nodes(const cnv_graph *g);
CNV_API uint64_t cnv_graph_edges(const cnv_graph *g);
/* A node's kind and label (pointer into g, not NUL-terminated); any output may be NULL.
 * Errors: CNV_EINVAL (NULL g), CNV_ERANGE (no such node). */
CNV_API CNV_NODISCARD cnv_status cnv_graph_node_info(const cnv_graph *g, uint32_t node, int *kind, const char **label,
                                                     size_t *len);
/* Finds a labelled node by kind and label. Errors: CNV_EINVAL, CNV_ENOTFOUND. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_find(const cnv_graph *g, int kind, const char *label, size_t len,
                                                uint32_t *node);
/* A node's out-edges: *targets and *weights (may be NULL) point into g's CSR arrays, sorted
 * by target. Errors: CNV_EINVAL, CNV_ERANGE (no such node). */
CNV_API CNV_NODISCARD cnv_status cnv_graph_out(const cnv_graph *g, uint32_t node, const uint32_t **targets,
                                               const uint32_t **weights, uint32_t *count);

/* The nodes reachable from src (src included) as a bitset of cnv_graph_nodes bits in
 * words[(n + 63) / 64], caller's (bits past n written 0). Errors: CNV_EINVAL, CNV_ERANGE
 * (no such src), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_reach(const cnv_graph *g, uint32_t src, uint64_t *words);

/* The transitive closure: row i (words_per_row = (n + 63) / 64 words) is the set reachable
 * from i (i included); bits past n in a row are 0. Built per strongly connected component
 * in one pass (cycles included), row unions by cnv_simd_bits_or. n * words_per_row * 8
 * bytes: CNV_ERANGE when that passes max_bytes. The rows are owned by the caller
 * (cnv_graph_closure_destroy, which also takes a zeroed or failed *out). Errors: CNV_EINVAL,
 * CNV_ERANGE, CNV_ENOMEM (on any error out->rows is NULL). */
typedef struct cnv_graph_closure {
  uint32_t nodes;
  uint32_t words_per_row;
  uint64_t *rows;
} cnv_graph_closure;
CNV_API CNV_NODISCARD cnv_status cnv_graph_closure_build(const cnv_graph *g, size_t max_bytes, cnv_graph_closure *out);
/* Frees c's rows and zeroes c; NULL is a no-op. */
CNV_API void cnv_graph_closure_destroy(cnv_graph_closure *c);
/* Whether from reaches to; false for a NULL or empty closure or a node out of range. Reads
 * only: any threads may ask at once. */
CNV_API bool cnv_graph_closure_reaches(const cnv_graph_closure *c, uint32_t from, uint32_t to);

/* Unweighted shortest paths from src: dist[v] (hops, CNV_GRAPH_INF unreachable) and parent[v]
 * (CNV_GRAPH_NONE for src and unreachable), arrays of cnv_graph_nodes entries, caller's;
 * either may be NULL. Ties: the parent reached first in CSR order. Errors: CNV_EINVAL,
 * CNV_ERANGE (no such src), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_bfs(const cnv_graph *g, uint32_t src, uint64_t *dist, uint32_t *parent);
/* Weighted shortest paths (Dijkstra with an indexed binary heap), same outputs with weight
 * sums (64-bit: no overflow); ties between equal-length paths are broken arbitrarily.
 * Errors: as cnv_graph_bfs. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_dijkstra(const cnv_graph *g, uint32_t src, uint64_t *dist,
                                                    uint32_t *parent);
/* The path src .. dst from a parent array (nodes entries) into path (cap entries, caller's),
 * *len nodes (set on CNV_EFULL too). Errors: CNV_EINVAL (NULL parent or len, NULL path with
 * cap > 0, a parent chain that loops), CNV_ERANGE (src or dst not below nodes),
 * CNV_ENOTFOUND (unreachable), CNV_EFULL (cap too small). */
CNV_API CNV_NODISCARD cnv_status cnv_graph_path(const uint32_t *parent, uint32_t nodes, uint32_t src, uint32_t dst,
                                                uint32_t *path, size_t cap, size_t *len);

/* Immediate dominators from root: idom[v] (idom[root] = root; CNV_GRAPH_NONE for nodes not
 * reachable from root), cnv_graph_nodes entries, caller's. O(m log n); scratch 9n + m + 1
 * words. Errors: CNV_EINVAL (NULL), CNV_ERANGE (root not a node), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_dominators(const cnv_graph *g, uint32_t root, uint32_t *idom);

/* Strongly connected components: comp[v] in 0 .. *count-1, numbered in order of each
 * component's smallest node, so equal inputs give equal numbers. Iterative Tarjan, O(n + m);
 * scratch 5n words. Errors: CNV_EINVAL (NULL), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_graph_scc(const cnv_graph *g, uint32_t *comp, uint32_t *count);

/* Writes the graph in Graphviz DOT to f: a node nV [label="...", shape=S] each (S by kind:
 * diamond issuer, ellipse agent, box capability, octagon other), an edge nU -> nV
 * [label="W"] each; in labels '"' and '\' are escaped, newline is \n, other bytes outside
 * printable ASCII \\xNN. Flushes f. Errors: CNV_EINVAL, CNV_EIO (a write or the flush
 * failed). */
CNV_API CNV_NODISCARD cnv_status cnv_graph_dot(const cnv_graph *g, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
