/* RFC 9162 Merkle trees over an array of leaf hashes, with BLAKE2b-256: roots, inclusion
 * and consistency proofs and their verification (sections 2.1.1 to 2.1.4). Pure: nothing is
 * allocated; the recursion is O(log n) deep. */
#include <string.h>

#include <sodium.h>

#include <cnv/ledger.h>

#define HB CNV_LEDGER_HASH_BYTES

typedef const uint8_t (*leaves_t)[HB];

cnv_status cnv_merkle_leaf_hash(const uint8_t *bytes, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  if ((!bytes && len > 0) || !out) return CNV_EINVAL;
  static const uint8_t tag = 0x00;
  crypto_generichash_state st;
  /* BLAKE2b with a 32-byte output and no key cannot fail */
  (void)crypto_generichash_init(&st, NULL, 0, HB);
  (void)crypto_generichash_update(&st, &tag, 1);
  if (len) (void)crypto_generichash_update(&st, bytes, len);
  (void)crypto_generichash_final(&st, out, HB);
  return CNV_OK;
}

void cnv_merkle_node_hash(const uint8_t l[CNV_LEDGER_HASH_BYTES], const uint8_t r[CNV_LEDGER_HASH_BYTES],
                          uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  uint8_t buf[1 + 2 * HB];
  buf[0] = 0x01;
  memcpy(buf + 1, l, HB);
  memcpy(buf + 1 + HB, r, HB); /* copied first: out may alias l or r */
  (void)crypto_generichash(out, HB, buf, sizeof buf, NULL, 0);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split(uint64_t n) { return UINT64_C(1) << (63u - (unsigned)__builtin_clzll(n - 1)); }

/* MTH(leaves[0 .. n-1]), n >= 1. */
static void mth(leaves_t d, uint64_t n, uint8_t out[HB]) {
  if (n == 1) {
    memcpy(out, d[0], HB);
    return;
  }
  uint64_t k = split(n);
  uint8_t l[HB], r[HB];
  mth(d, k, l);
  mth(d + k, n - k, r);
  cnv_merkle_node_hash(l, r, out);
}

cnv_status cnv_merkle_root(const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES], uint64_t n,
                           uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  if ((!leaves && n > 0) || !out) return CNV_EINVAL;
  if (n == 0) {
    (void)crypto_generichash(out, HB, NULL, 0, NULL, 0);
    return CNV_OK;
  }
  mth(leaves, n, out);
  return CNV_OK;
}

/* PATH(m, d[0 .. n-1]), deepest hash first. */
static void path(leaves_t d, uint64_t m, uint64_t n, uint8_t proof[][HB], size_t *len) {
  if (n <= 1) return;
  uint64_t k = split(n);
  if (m < k) {
    path(d, m, k, proof, len);
    mth(d + k, n - k, proof[(*len)++]);
  } else {
    path(d + k, m - k, n - k, proof, len);
    mth(d, k, proof[(*len)++]);
  }
}

cnv_status cnv_merkle_inclusion_proof(const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES], uint64_t size, uint64_t index,
                                      uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n) {
  if (!leaves || !proof || !n) return CNV_EINVAL;
  if (index >= size) return CNV_ERANGE;
  *n = 0;
  path(leaves, index, size, proof, n); /* at most 64 hashes for any size */
  return CNV_OK;
}

cnv_status cnv_merkle_verify_inclusion(const uint8_t leaf[CNV_LEDGER_HASH_BYTES], uint64_t index, uint64_t size,
                                       const uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t n,
                                       const uint8_t root[CNV_LEDGER_HASH_BYTES]) {
  if (!leaf || !root || (!proof && n > 0)) return CNV_EINVAL;
  /* RFC 9162 2.1.3.2, step by step */
  if (index >= size) return CNV_ELEDGER_PROOF;
  uint64_t fn = index, sn = size - 1;
  uint8_t r[HB];
  memcpy(r, leaf, HB);
  for (size_t i = 0; i < n; i++) {
    if (sn == 0) return CNV_ELEDGER_PROOF;
    if ((fn & 1) || fn == sn) {
      cnv_merkle_node_hash(proof[i], r, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      cnv_merkle_node_hash(r, proof[i], r);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || sodium_memcmp(r, root, HB) != 0) return CNV_ELEDGER_PROOF;
  return CNV_OK;
}

/* SUBPROOF(m, d[0 .. n-1], b), deepest hash first. */
static void subproof(leaves_t d, uint64_t m, uint64_t n, int b, uint8_t proof[][HB], size_t *len) {
  if (m == n) {
    if (!b) mth(d, n, proof[(*len)++]);
    return;
  }
  uint64_t k = split(n);
  if (m <= k) {
    subproof(d, m, k, b, proof, len);
    mth(d + k, n - k, proof[(*len)++]);
  } else {
    subproof(d + k, m - k, n - k, 0, proof, len);
    mth(d, k, proof[(*len)++]);
  }
}

cnv_status cnv_merkle_consistency_proof(const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES], uint64_t size1, uint64_t size2,
                                        uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n) {
  if (!leaves || !proof || !n) return CNV_EINVAL;
  /* one hash per level of size2's tree plus at most one: at most 64 up to 2^63 leaves */
  if (size1 == 0 || size1 > size2 || size2 > (UINT64_C(1) << 63)) return CNV_ERANGE;
  *n = 0;
  subproof(leaves, size1, size2, 1, proof, n);
  return CNV_OK;
}

cnv_status cnv_merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[CNV_LEDGER_HASH_BYTES],
                                         const uint8_t root2[CNV_LEDGER_HASH_BYTES],
                                         const uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t n) {
  if (!root1 || !root2 || (!proof && n > 0)) return CNV_EINVAL;
  if (size1 == 0 || size1 > size2) return CNV_ELEDGER_PROOF;
  /* equal sizes: the proof is empty (SUBPROOF(m, D[m], true)) and the roots must match */
  if (size1 == size2) return (n == 0 && sodium_memcmp(root1, root2, HB) == 0) ? CNV_OK : CNV_ELEDGER_PROOF;
  /* RFC 9162 2.1.4.2, step by step */
  if (n == 0) return CNV_ELEDGER_PROOF;
  size_t i = 0;
  const uint8_t *first;
  if ((size1 & (size1 - 1)) == 0) {
    first = root1; /* size1 a power of two: first_hash is prepended to the path */
  } else {
    first = proof[0];
    i = 1;
  }
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  uint8_t fr[HB], sr[HB];
  memcpy(fr, first, HB);
  memcpy(sr, first, HB);
  for (; i < n; i++) {
    if (sn == 0) return CNV_ELEDGER_PROOF;
    if ((fn & 1) || fn == sn) {
      cnv_merkle_node_hash(proof[i], fr, fr);
      cnv_merkle_node_hash(proof[i], sr, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      cnv_merkle_node_hash(sr, proof[i], sr);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || sodium_memcmp(fr, root1, HB) != 0 || sodium_memcmp(sr, root2, HB) != 0) return CNV_ELEDGER_PROOF;
  return CNV_OK;
}
