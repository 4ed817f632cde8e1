/* The graph builder (node table with label dedupe, edge list) and freezing it into CSR. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

uint64_t cnv__graph_label_hash(int kind, const char *label, size_t len) {
  /* FNV-1a over the bytes, seeded by the kind, then a final avalanche (splitmix64) so the
   * low bits used as slot index depend on every byte */
  uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(unsigned)kind;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)label[i];
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

static int node_is(const cnv__graph_nodes *t, uint32_t v, int kind, const char *label, size_t len) {
  return t->kinds[v] == (uint8_t)kind && t->label_len[v] == len &&
         (len == 0 || memcmp(t->labels + t->label_off[v], label, len) == 0);
}

uint32_t cnv__graph_nodes_lookup(const cnv__graph_nodes *t, int kind, const char *label, size_t len) {
  if (!t->slots) return CNV_GRAPH_NONE;
  size_t i = (size_t)cnv__graph_label_hash(kind, label, len) & t->slot_mask;
  for (;; i = (i + 1) & t->slot_mask) {
    uint32_t s = t->slots[i];
    if (s == 0) return CNV_GRAPH_NONE;
    if (node_is(t, s - 1, kind, label, len)) return s - 1;
  }
}

static void nodes_free(cnv__graph_nodes *t) {
  free(t->kinds);
  free(t->label_len);
  free(t->label_off);
  free(t->labels);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

static void slot_put(uint32_t *slots, size_t mask, uint64_t h, uint32_t v) {
  size_t i = (size_t)h & mask;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = v + 1;
}

/* Doubles the slot table (keeps it at most half full). */
static cnv_status slots_grow(cnv__graph_nodes *t) {
  size_t cap = t->slots ? (t->slot_mask + 1) * 2 : 64;
  uint32_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return CNV_ENOMEM;
  if (t->slots) {
    for (size_t i = 0; i <= t->slot_mask; i++) {
      uint32_t s = t->slots[i];
      if (!s) continue;
      const uint32_t v = s - 1;
      slot_put(slots, cap - 1, cnv__graph_label_hash(t->kinds[v], t->labels + t->label_off[v], t->label_len[v]),
               v);
    }
    free(t->slots);
  }
  t->slots = slots;
  t->slot_mask = cap - 1;
  return CNV_OK;
}

static cnv_status nodes_reserve(cnv__graph_nodes *t) {
  if (t->count < t->cap) return CNV_OK;
  uint32_t cap = t->cap ? t->cap * 2 : 16;
  if (cap > CNV_GRAPH_MAX_NODES) cap = CNV_GRAPH_MAX_NODES;
  uint8_t *kinds = realloc(t->kinds, cap);
  if (!kinds) return CNV_ENOMEM;
  t->kinds = kinds;
  uint8_t *lens = realloc(t->label_len, cap);
  if (!lens) return CNV_ENOMEM;
  t->label_len = lens;
  uint64_t *offs = realloc(t->label_off, (size_t)cap * sizeof *offs);
  if (!offs) return CNV_ENOMEM;
  t->label_off = offs;
  t->cap = cap;
  return CNV_OK;
}

cnv_status cnv_graph_builder_create(cnv_graph_builder **out) {
  if (!out) return CNV_EINVAL;
  cnv_graph_builder *b = calloc(1, sizeof *b);
  if (!b) return CNV_ENOMEM;
  *out = b;
  return CNV_OK;
}

void cnv_graph_builder_destroy(cnv_graph_builder *b) {
  if (!b) return;
  nodes_free(&b->nodes);
  free(b->edges);
  free(b);
}

cnv_status cnv_graph_builder_node(cnv_graph_builder *b, int kind, const char *label, size_t len, uint32_t *node) {
  if (!b || !node || (!label && len) || kind < CNV_GRAPH_ISSUER || kind > CNV_GRAPH_OTHER) return CNV_EINVAL;
  if (len > CNV__GRAPH_LABEL_MAX) return CNV_ERANGE;
  cnv__graph_nodes *t = &b->nodes;
  if (label) {
    uint32_t v = cnv__graph_nodes_lookup(t, kind, label, len);
    if (v != CNV_GRAPH_NONE) {
      *node = v;
      return CNV_OK;
    }
  }
  if (t->count >= CNV_GRAPH_MAX_NODES) return CNV_ERANGE;
  cnv_status st = nodes_reserve(t);
  if (st != CNV_OK) return st;
  if (label && (t->labelled + 1) * 2 > (t->slots ? t->slot_mask + 1 : 0)) {
    st = slots_grow(t);
    if (st != CNV_OK) return st;
  }
  if (t->labels_len + len > t->labels_cap) {
    size_t cap = t->labels_cap ? t->labels_cap * 2 : 256;
    while (cap < t->labels_len + len) cap *= 2;
    char *labels = realloc(t->labels, cap);
    if (!labels) return CNV_ENOMEM;
    t->labels = labels;
    t->labels_cap = cap;
  }
  const uint32_t v = t->count++;
  t->kinds[v] = (uint8_t)kind;
  t->label_len[v] = (uint8_t)len;
  t->label_off[v] = t->labels_len;
  if (len) memcpy(t->labels + t->labels_len, label, len);
  t->labels_len += len;
  if (label) {
    slot_put(t->slots, t->slot_mask, cnv__graph_label_hash(kind, label, len), v);
    t->labelled++;
  }
  *node = v;
  return CNV_OK;
}

cnv_status cnv_graph_builder_edge(cnv_graph_builder *b, uint32_t from, uint32_t to, uint32_t w) {
  if (!b) return CNV_EINVAL;
  if (from >= b->nodes.count || to >= b->nodes.count) return CNV_ERANGE;
  if (b->edge_count == b->edge_cap) {
    size_t cap = b->edge_cap ? b->edge_cap * 2 : 64;
    cnv__graph_edge *e = realloc(b->edges, cap * sizeof *e);
    if (!e) return CNV_ENOMEM;
    b->edges = e;
    b->edge_cap = cap;
  }
  b->edges[b->edge_count++] = (cnv__graph_edge){from, to, w};
  return CNV_OK;
}

cnv_status cnv_graph_builder_capability(cnv_graph_builder *b, const char *path, size_t len, uint32_t *node) {
  if (!path) return CNV_EINVAL;
  return cnv_graph_builder_node(b, CNV_GRAPH_CAPABILITY, path, len, node);
}

/* Copies the node table (exact sizes). */
static cnv_status nodes_copy(cnv__graph_nodes *dst, const cnv__graph_nodes *src) {
  memset(dst, 0, sizeof *dst);
  const size_t n = src->count;
  dst->count = src->count;
  dst->cap = src->count;
  dst->kinds = malloc(n ? n : 1);
  dst->label_len = malloc(n ? n : 1);
  dst->label_off = malloc((n ? n : 1) * sizeof *dst->label_off);
  dst->labels = malloc(src->labels_len ? src->labels_len : 1);
  if (src->slots) dst->slots = malloc((src->slot_mask + 1) * sizeof *dst->slots);
  if (!dst->kinds || !dst->label_len || !dst->label_off || !dst->labels || (src->slots && !dst->slots)) {
    nodes_free(dst);
    return CNV_ENOMEM;
  }
  if (n) {
    memcpy(dst->kinds, src->kinds, n);
    memcpy(dst->label_len, src->label_len, n);
    memcpy(dst->label_off, src->label_off, n * sizeof *dst->label_off);
  }
  if (src->labels_len) memcpy(dst->labels, src->labels, src->labels_len);
  dst->labels_len = dst->labels_cap = src->labels_len;
  if (src->slots) memcpy(dst->slots, src->slots, (src->slot_mask + 1) * sizeof *dst->slots);
  dst->slot_mask = src->slot_mask;
  dst->labelled = src->labelled;
  return CNV_OK;
}

void cnv_graph_destroy(cnv_graph *g) {
  if (!g) return;
  nodes_free(&g->nodes);
  free(g->offsets);
  free(g->targets);
  free(g->weights);
  free(g);
}

cnv_status cnv_graph_freeze(const cnv_graph_builder *b, cnv_graph **out) {
  if (!b || !out) return CNV_EINVAL;
  const uint32_t n = b->nodes.count;
  const size_t m = b->edge_count;
  cnv_graph *g = calloc(1, sizeof *g);
  if (!g) return CNV_ENOMEM;
  cnv_status st = nodes_copy(&g->nodes, &b->nodes);
  if (st != CNV_OK) {
    free(g);
    return st;
  }
  g->n = n;
  /* two stable counting sorts (by target, then by source) order the edges by (from, to);
   * counts in size_t since raw edges (duplicates included) may pass 2^32 */
  size_t *count = calloc((size_t)n + 1, sizeof *count);
  cnv__graph_edge *tmp = malloc((m ? m : 1) * sizeof *tmp);
  cnv__graph_edge *sorted = malloc((m ? m : 1) * sizeof *sorted);
  g->offsets = malloc(((size_t)n + 1) * sizeof *g->offsets);
  if (!count || !tmp || !sorted || !g->offsets) {
    st = CNV_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < m; i++) count[b->edges[i].to + 1]++;
  for (uint32_t v = 0; v < n; v++) count[v + 1] += count[v];
  for (size_t i = 0; i < m; i++) tmp[count[b->edges[i].to]++] = b->edges[i];
  memset(count, 0, ((size_t)n + 1) * sizeof *count);
  for (size_t i = 0; i < m; i++) count[tmp[i].from + 1]++;
  for (uint32_t v = 0; v < n; v++) count[v + 1] += count[v];
  for (size_t i = 0; i < m; i++) sorted[count[tmp[i].from]++] = tmp[i];
  /* dedupe in place: keep the lightest of each (from, to) run */
  size_t k = 0;
  for (size_t i = 0; i < m; i++) {
    if (k && sorted[k - 1].from == sorted[i].from && sorted[k - 1].to == sorted[i].to) {
      if (sorted[i].w < sorted[k - 1].w) sorted[k - 1].w = sorted[i].w;
    } else {
      sorted[k++] = sorted[i];
    }
  }
  if (k > UINT32_MAX) {
    st = CNV_ERANGE;
    goto fail;
  }
  g->m = (uint32_t)k;
  g->targets = malloc((k ? k : 1) * sizeof *g->targets);
  g->weights = malloc((k ? k : 1) * sizeof *g->weights);
  if (!g->targets || !g->weights) {
    st = CNV_ENOMEM;
    goto fail;
  }
  size_t e = 0;
  for (uint32_t v = 0; v < n; v++) {
    g->offsets[v] = (uint32_t)e;
    while (e < k && sorted[e].from == v) {
      g->targets[e] = sorted[e].to;
      g->weights[e] = sorted[e].w;
      e++;
    }
  }
  g->offsets[n] = (uint32_t)e;
  free(count);
  free(tmp);
  free(sorted);
  *out = g;
  return CNV_OK;
fail:
  free(count);
  free(tmp);
  free(sorted);
  cnv_graph_destroy(g);
  return st;
}

uint32_t cnv_graph_nodes(const cnv_graph *g) { return g ? g->n : 0; }

uint64_t cnv_graph_edges(const cnv_graph *g) { return g ? g->m : 0; }

cnv_status cnv_graph_node_info(const cnv_graph *g, uint32_t node, int *kind, const char **label, size_t *len) {
  if (!g) return CNV_EINVAL;
  if (node >= g->n) return CNV_ERANGE;
  if (kind) *kind = g->nodes.kinds[node];
  if (label) *label = g->nodes.labels + g->nodes.label_off[node];
  if (len) *len = g->nodes.label_len[node];
  return CNV_OK;
}

cnv_status cnv_graph_find(const cnv_graph *g, int kind, const char *label, size_t len, uint32_t *node) {
  if (!g || !node || (!label && len)) return CNV_EINVAL;
  if (len > CNV__GRAPH_LABEL_MAX) return CNV_ENOTFOUND;
  uint32_t v = cnv__graph_nodes_lookup(&g->nodes, kind, label, len);
  if (v == CNV_GRAPH_NONE) return CNV_ENOTFOUND;
  *node = v;
  return CNV_OK;
}

cnv_status cnv_graph_out(const cnv_graph *g, uint32_t node, const uint32_t **targets, const uint32_t **weights,
                         uint32_t *count) {
  if (!g || !count) return CNV_EINVAL;
  if (node >= g->n) return CNV_ERANGE;
  const uint32_t a = g->offsets[node];
  if (targets) *targets = g->targets + a;
  if (weights) *weights = g->weights + a;
  *count = g->offsets[node + 1] - a;
  return CNV_OK;
}
