/* A map from 64-bit keys to non-zero 32-bit values: open addressing with linear probing,
 * kept at most half full. Keys come from a log (agent handles, capability ids), so the
 * table grows with what the log names, never with the size of the key space. */
#include <stdlib.h>

#include "audit_internal.h"

/* Fibonacci hashing: the top bits of key * 2^64 / phi (a full 64-bit mix of the key). */
static size_t slot_of(uint64_t key, size_t cap) {
  uint64_t h = key * UINT64_C(0x9E3779B97F4A7C15);
  h ^= h >> 29;
  return (size_t)(h & (cap - 1));
}

/* The slot holding key, or the empty slot where it would go. cap > 0, never full. */
static size_t find(const cnv__audit_map *m, uint64_t key) {
  size_t i = slot_of(key, m->cap);
  while (m->vals[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  return i;
}

static cnv_status grow(cnv__audit_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  cnv__audit_map g = {.keys = malloc(cap * sizeof *g.keys), .vals = calloc(cap, sizeof *g.vals), .cap = cap};
  if (!g.keys || !g.vals) {
    free(g.keys);
    free(g.vals);
    return CNV_ENOMEM;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->vals[i]) continue;
    size_t j = find(&g, m->keys[i]);
    g.keys[j] = m->keys[i];
    g.vals[j] = m->vals[i];
    g.n++;
  }
  cnv__audit_map_free(m);
  *m = g;
  return CNV_OK;
}

cnv_status cnv__audit_map_put(cnv__audit_map *m, uint64_t key, uint32_t val) {
  if ((m->n + 1) * 2 > m->cap) {
    cnv_status st = grow(m);
    if (st != CNV_OK) return st;
  }
  size_t i = find(m, key);
  if (!m->vals[i]) m->n++;
  m->keys[i] = key;
  m->vals[i] = val;
  return CNV_OK;
}

uint32_t cnv__audit_map_get(const cnv__audit_map *m, uint64_t key) {
  if (!m->cap) return 0;
  return m->vals[find(m, key)];
}

void cnv__audit_map_free(cnv__audit_map *m) {
  free(m->keys);
  free(m->vals);
  *m = (cnv__audit_map){0};
}
