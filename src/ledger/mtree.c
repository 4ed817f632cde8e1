/* The Merkle tree kept in memory (ledger_internal.h): level k holds the hash of every
 * complete, aligned subtree of 2^k leaves, so that the RFC 9162 tree of any size up to
 * t->size is a left-to-right walk over O(log n) stored subtrees. */
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

#define HB CNV_LEDGER_HASH_BYTES

void cnv__mtree_init(cnv__mtree *t) { memset(t, 0, sizeof *t); }

void cnv__mtree_free(cnv__mtree *t) {
  if (!t) return;
  for (size_t k = 0; k < 64; k++) free(t->level[k]);
  memset(t, 0, sizeof *t);
}

/* Makes room for one more hash at level k (which holds count hashes now). */
static cnv_status level_reserve(cnv__mtree *t, unsigned k, uint64_t count) {
  if (count < t->cap[k]) return CNV_OK;
  uint64_t cap = t->cap[k] ? t->cap[k] * 2 : 16;
  if (cap > SIZE_MAX / HB) return CNV_ENOMEM;
  void *p = realloc(t->level[k], (size_t)cap * HB);
  if (!p) return CNV_ENOMEM;
  t->level[k] = p;
  t->cap[k] = cap;
  return CNV_OK;
}

cnv_status cnv__mtree_push(cnv__mtree *t, const uint8_t leaf[CNV_LEDGER_HASH_BYTES]) {
  if (!t || !leaf) return CNV_EINVAL;
  if (t->size == UINT64_MAX) return CNV_ERANGE;
  uint64_t n = t->size + 1;
  /* reserve every level this push completes first, so a failure changes nothing */
  for (unsigned k = 0; k < 64 && ((n >> k) << k) == n && (n >> k) != 0; k++) {
    cnv_status st = level_reserve(t, k, (n >> k) - 1);
    if (st != CNV_OK) return st;
  }
  memcpy(t->level[0][t->size], leaf, HB);
  /* each level whose count becomes even completes one subtree on the level above:
   * amortized one node hash per push */
  for (unsigned k = 0; k + 1 < 64 && ((n >> (k + 1)) << (k + 1)) == n; k++) {
    uint64_t c = n >> k; /* hashes at level k now (even) */
    cnv_merkle_node_hash(t->level[k][c - 2], t->level[k][c - 1], t->level[k + 1][(c >> 1) - 1]);
  }
  t->size = n;
  return CNV_OK;
}

/* Largest power of two strictly below n (n >= 2), as its exponent. */
static unsigned split_log(uint64_t n) {
  unsigned k = 63u - (unsigned)__builtin_clzll(n - 1);
  return k;
}

/* MTH(D[lo : lo+n]) for a node of the RFC 9162 tree (n >= 1): its perfect subtrees are
 * aligned, so each is one stored hash. O(log n) hashes. */
static void mth(const cnv__mtree *t, uint64_t lo, uint64_t n, uint8_t out[HB]) {
  uint8_t acc[HB];
  uint64_t rest = n;
  uint64_t bits[64];
  size_t nb = 0;
  while (rest) {
    unsigned k = 63u - (unsigned)__builtin_clzll(rest);
    bits[nb++] = UINT64_C(1) << k;
    rest &= ~(UINT64_C(1) << k);
  }
  /* the node splits into perfect subtrees left to right, one per set bit of n, largest
   * first (sizes bits[0] > bits[1] > ...), and its hash is node(s0, node(s1, ...)): fold
   * them from the smallest up */
  uint64_t off = lo + n;
  off -= bits[nb - 1];
  unsigned kk = (unsigned)__builtin_ctzll(bits[nb - 1]);
  memcpy(acc, t->level[kk][off >> kk], HB);
  for (size_t i = nb - 1; i-- > 0;) {
    off -= bits[i];
    kk = (unsigned)__builtin_ctzll(bits[i]);
    cnv_merkle_node_hash(t->level[kk][off >> kk], acc, acc);
  }
  memcpy(out, acc, HB);
}

cnv_status cnv__mtree_root(const cnv__mtree *t, uint64_t size, uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  if (!t || !out) return CNV_EINVAL;
  if (size > t->size) return CNV_ERANGE;
  if (size == 0) return cnv_merkle_root(NULL, 0, out);
  mth(t, 0, size, out);
  return CNV_OK;
}

/* PATH(m, D[lo : lo+n]) (RFC 9162 2.1.3.1), deepest hash first. */
static void path(const cnv__mtree *t, uint64_t m, uint64_t lo, uint64_t n, uint8_t proof[][HB], size_t *len) {
  if (n <= 1) return;
  uint64_t k = UINT64_C(1) << split_log(n);
  if (m < k) {
    path(t, m, lo, k, proof, len);
    mth(t, lo + k, n - k, proof[(*len)++]);
  } else {
    path(t, m - k, lo + k, n - k, proof, len);
    mth(t, lo, k, proof[(*len)++]);
  }
}

cnv_status cnv__mtree_inclusion(const cnv__mtree *t, uint64_t index, uint64_t size,
                                uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n) {
  if (!t || !proof || !n) return CNV_EINVAL;
  if (size > t->size || index >= size) return CNV_ERANGE;
  *n = 0;
  /* at most ceil(log2 size) <= 64 hashes: fits CNV_LEDGER_MAX_PROOF */
  path(t, index, 0, size, proof, n);
  return CNV_OK;
}

/* SUBPROOF(m, D[lo : lo+n], b) (RFC 9162 2.1.4.1), deepest hash first. */
static void subproof(const cnv__mtree *t, uint64_t m, uint64_t lo, uint64_t n, int b, uint8_t proof[][HB],
                     size_t *len) {
  if (m == n) {
    if (!b) mth(t, lo, n, proof[(*len)++]);
    return;
  }
  uint64_t k = UINT64_C(1) << split_log(n);
  if (m <= k) {
    subproof(t, m, lo, k, b, proof, len);
    mth(t, lo + k, n - k, proof[(*len)++]);
  } else {
    subproof(t, m - k, lo + k, n - k, 0, proof, len);
    mth(t, lo, k, proof[(*len)++]);
  }
}

cnv_status cnv__mtree_consistency(const cnv__mtree *t, uint64_t size1, uint64_t size2,
                                  uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n) {
  if (!t || !proof || !n) return CNV_EINVAL;
  if (size1 == 0 || size1 > size2 || size2 > t->size) return CNV_ERANGE;
  /* one hash per level of size2's tree plus at most one more: at most 64 for any size2 up
   * to 2^63, far beyond any log */
  if (size2 > (UINT64_C(1) << 63)) return CNV_ERANGE;
  *n = 0;
  subproof(t, size1, 0, size2, 1, proof, n);
  return CNV_OK;
}
