/* RFC 9162 section 2.1, word for word (see rfc9162_check.h). */
#include "support/rfc9162_check.h"

#include <string.h>

#include <sodium.h>

/* HASH: BLAKE2b-256 of the concatenation of up to three parts. */
static void hash3(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc,
                  uint8_t out[RFC9162_HASH]) {
  crypto_generichash_state st;
  if (crypto_generichash_init(&st, NULL, 0, RFC9162_HASH) != 0) memset(out, 0xEE, RFC9162_HASH);
  if (na && crypto_generichash_update(&st, a, na) != 0) memset(out, 0xEE, RFC9162_HASH);
  if (nb && crypto_generichash_update(&st, b, nb) != 0) memset(out, 0xEE, RFC9162_HASH);
  if (nc && crypto_generichash_update(&st, c, nc) != 0) memset(out, 0xEE, RFC9162_HASH);
  if (crypto_generichash_final(&st, out, RFC9162_HASH) != 0) memset(out, 0xEE, RFC9162_HASH);
}

void rfc9162_leaf(const uint8_t *bytes, size_t len, uint8_t out[RFC9162_HASH]) {
  static const uint8_t zero = 0x00;
  hash3(&zero, 1, bytes, len, NULL, 0, out);
}

void rfc9162_node(const uint8_t l[RFC9162_HASH], const uint8_t r[RFC9162_HASH], uint8_t out[RFC9162_HASH]) {
  static const uint8_t one = 0x01;
  uint8_t tmp[RFC9162_HASH];
  hash3(&one, 1, l, RFC9162_HASH, r, RFC9162_HASH, tmp);
  memcpy(out, tmp, RFC9162_HASH);
}

/* "k be the largest power of two smaller than n (i.e., k < n <= 2k)" */
static uint64_t largest_pow2_below(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/* MTH(D[a:b]) */
static void mth_slice(const uint8_t (*d)[RFC9162_HASH], uint64_t a, uint64_t b, uint8_t out[RFC9162_HASH]) {
  uint64_t n = b - a;
  if (n == 0) {
    hash3(NULL, 0, NULL, 0, NULL, 0, out);
  } else if (n == 1) {
    memcpy(out, d[a], RFC9162_HASH); /* d holds leaf hashes already: MTH({d(0)}) */
  } else {
    uint64_t k = largest_pow2_below(n);
    uint8_t l[RFC9162_HASH], r[RFC9162_HASH];
    mth_slice(d, a, a + k, l);
    mth_slice(d, a + k, b, r);
    rfc9162_node(l, r, out);
  }
}

void rfc9162_mth(const uint8_t (*d)[RFC9162_HASH], uint64_t n, uint8_t out[RFC9162_HASH]) { mth_slice(d, 0, n, out); }

/* PATH(m, D[a:b]): for n > 1,
 *   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])   for m < k
 *   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k */
static void path_slice(uint64_t m, const uint8_t (*d)[RFC9162_HASH], uint64_t a, uint64_t b,
                       uint8_t proof[][RFC9162_HASH], size_t *len) {
  uint64_t n = b - a;
  if (n <= 1) return; /* PATH(0, {d(0)}) = {} */
  uint64_t k = largest_pow2_below(n);
  if (m < k) {
    path_slice(m, d, a, a + k, proof, len);
    mth_slice(d, a + k, b, proof[(*len)++]);
  } else {
    path_slice(m - k, d, a + k, b, proof, len);
    mth_slice(d, a, a + k, proof[(*len)++]);
  }
}

void rfc9162_path(uint64_t m, const uint8_t (*d)[RFC9162_HASH], uint64_t n, uint8_t proof[][RFC9162_HASH],
                  size_t *len) {
  *len = 0;
  path_slice(m, d, 0, n, proof, len);
}

/* SUBPROOF(m, D[a:b], bflag):
 *   m == n: {} when b is true, else {MTH(D[m])}
 *   m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
 *   m > k:  SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) */
static void subproof_slice(uint64_t m, const uint8_t (*d)[RFC9162_HASH], uint64_t a, uint64_t b, int bflag,
                           uint8_t proof[][RFC9162_HASH], size_t *len) {
  uint64_t n = b - a;
  if (m == n) {
    if (!bflag) mth_slice(d, a, b, proof[(*len)++]);
    return;
  }
  uint64_t k = largest_pow2_below(n);
  if (m <= k) {
    subproof_slice(m, d, a, a + k, bflag, proof, len);
    mth_slice(d, a + k, b, proof[(*len)++]);
  } else {
    subproof_slice(m - k, d, a + k, b, 0, proof, len);
    mth_slice(d, a, a + k, proof[(*len)++]);
  }
}

void rfc9162_proof(uint64_t m, const uint8_t (*d)[RFC9162_HASH], uint64_t n, uint8_t proof[][RFC9162_HASH],
                   size_t *len) {
  *len = 0;
  subproof_slice(m, d, 0, n, 1, proof, len);
}
