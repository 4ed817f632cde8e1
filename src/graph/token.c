/* cnv_graph_builder_add_token: a delegation chain into the builder. Decode only (no
 * signature, trust or narrowing check): the graph says what a chain claims; verification is
 * the delegation module's. A key is one node whatever its role: looked up as an agent, then
 * as an issuer, and added with the role it first plays (the root's issuer: CNV_GRAPH_ISSUER;
 * an audience: CNV_GRAPH_AGENT). A capability is granted when every link allows it and no
 * link forbids it: for a chain that verifies this is the last link's sets (narrowing makes
 * them imply every ancestor's), and for one that does not it grants no more than any link. */
#include <string.h>

#include <cnv/delegation.h>

#include "graph_internal.h"

static cnv_status key_node(cnv_graph_builder *b, const uint8_t key[CNV_DELEG_KEY_BYTES], int kind, uint32_t *node) {
  static const char hex[] = "0123456789abcdef";
  char label[2 * CNV_DELEG_KEY_BYTES];
  for (size_t i = 0; i < CNV_DELEG_KEY_BYTES; i++) {
    label[2 * i] = hex[key[i] >> 4];
    label[2 * i + 1] = hex[key[i] & 15];
  }
  uint32_t v = cnv__graph_nodes_lookup(&b->nodes, CNV_GRAPH_AGENT, label, sizeof label);
  if (v == CNV_GRAPH_NONE) v = cnv__graph_nodes_lookup(&b->nodes, CNV_GRAPH_ISSUER, label, sizeof label);
  if (v != CNV_GRAPH_NONE) {
    *node = v;
    return CNV_OK;
  }
  return cnv_graph_builder_node(b, kind, label, sizeof label, node);
}

static bool chain_grants(const cnv_deleg_token *tok, const cnv_deleg_cap *cap) {
  for (uint8_t i = 0; i < tok->n_links; i++) {
    const cnv_deleg_caveats *c = &tok->links[i].caveats;
    for (uint8_t j = 0; j < c->n_forbid; j++) {
      if (cnv_deleg_pattern_matches(&c->forbid[j], cap)) return false;
    }
  }
  for (uint8_t i = 0; i < tok->n_links; i++) {
    const cnv_deleg_caveats *c = &tok->links[i].caveats;
    bool allowed = false;
    for (uint8_t j = 0; j < c->n_allow && !allowed; j++) allowed = cnv_deleg_pattern_matches(&c->allow[j], cap);
    if (!allowed) return false;
  }
  return true;
}

cnv_status cnv_graph_builder_add_token(cnv_graph_builder *b, const uint8_t *token, size_t len) {
  if (!b || !token) return CNV_EINVAL;
  cnv_deleg_token tok;
  cnv_status st = cnv_deleg_token_decode(token, len, &tok, NULL);
  if (st != CNV_OK) return st;
  uint32_t from = 0, to = 0;
  st = key_node(b, tok.links[0].issuer, CNV_GRAPH_ISSUER, &from);
  for (uint8_t i = 0; st == CNV_OK && i < tok.n_links; i++) {
    /* link i's issuer is link i-1's audience in a well-formed chain; a misaligned one
     * still gets its own issuer's node */
    if (i > 0 && memcmp(tok.links[i].issuer, tok.links[i - 1].audience, CNV_DELEG_KEY_BYTES) != 0) {
      st = key_node(b, tok.links[i].issuer, CNV_GRAPH_ISSUER, &from);
      if (st != CNV_OK) break;
    }
    st = key_node(b, tok.links[i].audience, CNV_GRAPH_AGENT, &to);
    if (st == CNV_OK) st = cnv_graph_builder_edge(b, from, to, 1);
    from = to;
  }
  /* from: the holder (last audience); the capability nodes present now */
  const uint32_t count = b->nodes.count;
  for (uint32_t v = 0; st == CNV_OK && v < count; v++) {
    if (b->nodes.kinds[v] != CNV_GRAPH_CAPABILITY) continue;
    cnv_deleg_cap cap;
    if (b->nodes.label_len[v] == 0) continue;
    const char *path = b->nodes.labels + b->nodes.label_off[v];
    /* a capability node whose label is no valid path matches no pattern: skipped */
    if (cnv_deleg_cap_from_path(path, b->nodes.label_len[v], &cap) != CNV_OK) continue;
    if (chain_grants(&tok, &cap)) st = cnv_graph_builder_edge(b, from, v, 1);
  }
  return st;
}
