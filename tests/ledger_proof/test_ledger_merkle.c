/* The Merkle tree (cnv_merkle_* over a leaf array and the in-memory cnv__mtree) against an
 * independent RFC 9162 checker (tests/support/rfc9162_check.c): roots and every proof equal
 * the checker's for every size up to 300 and for random large trees; verification accepts
 * them and agrees with a reference verifier (written from the proofs' recursive definitions)
 * on every other leaf, index, size and root, and fails for every flipped bit, dropped or
 * added hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/ledger.h>

#include "cnv_test_util.h"
#include "ledger/ledger_internal.h"
#include "support/rfc9162_check.h"

#define HB CNV_LEDGER_HASH_BYTES
#define SMALL 300
#define PMAX 130

typedef uint8_t hash_t[HB];
/* the library takes const arrays of hashes: C11 wants the qualifier added by a cast */
#define CP(x) ((const uint8_t(*)[HB])(x))

static hash_t *random_leaves(uint64_t n, uint64_t *seed) {
  hash_t *d = malloc((size_t)(n ? n : 1) * HB);
  assert_non_null(d);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t x = cnv_test_rand(seed);
    rfc9162_leaf((const uint8_t *)&x, sizeof x, d[i]);
  }
  return d;
}

static void build_mtree(cnv__mtree *t, hash_t *d, uint64_t n) {
  cnv__mtree_init(t);
  for (uint64_t i = 0; i < n; i++) assert_int_equal(cnv__mtree_push(t, d[i]), CNV_OK);
  assert_int_equal(t->size, n);
}

/* ---- reference verifiers: rebuild the root(s) by walking the definitions top-down, taking
 * the proof's hashes from its end (its top), and require every hash used ---------------- */

static uint64_t pow2_below(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/* root of D[0:n] from PATH(m, D[0:n]) = proof[0 .. *top-1]; 0 when the proof runs out */
static int ref_incl(const uint8_t leaf[HB], uint64_t m, uint64_t n, hash_t *proof, size_t *top,
                    uint8_t out[HB]) {
  if (n == 1) {
    memcpy(out, leaf, HB);
    return 1;
  }
  if (*top == 0) return 0;
  const uint8_t *last = proof[--*top];
  uint64_t k = pow2_below(n);
  uint8_t sub[HB];
  if (m < k) {
    if (!ref_incl(leaf, m, k, proof, top, sub)) return 0;
    rfc9162_node(sub, last, out);
  } else {
    if (!ref_incl(leaf, m - k, n - k, proof, top, sub)) return 0;
    rfc9162_node(last, sub, out);
  }
  return 1;
}

static int ref_verify_incl(const uint8_t leaf[HB], uint64_t m, uint64_t n, hash_t *proof, size_t len,
                           const uint8_t root[HB]) {
  if (m >= n) return 0;
  size_t top = len;
  uint8_t r[HB];
  if (!ref_incl(leaf, m, n, proof, &top, r)) return 0;
  return top == 0 && memcmp(r, root, HB) == 0;
}

/* old and new roots of SUBPROOF(m, D[0:n], b) */
static int ref_cons(uint64_t m, uint64_t n, int b, const uint8_t root1[HB], hash_t *proof, size_t *top,
                    uint8_t old[HB], uint8_t neu[HB]) {
  if (m == n) {
    if (b) {
      memcpy(old, root1, HB);
      memcpy(neu, root1, HB);
      return 1;
    }
    if (*top == 0) return 0;
    memcpy(old, proof[--*top], HB);
    memcpy(neu, old, HB);
    return 1;
  }
  if (*top == 0) return 0;
  const uint8_t *last = proof[--*top];
  uint64_t k = pow2_below(n);
  uint8_t o[HB], w[HB];
  if (m <= k) {
    if (!ref_cons(m, k, b, root1, proof, top, o, w)) return 0;
    memcpy(old, o, HB);
    rfc9162_node(w, last, neu);
  } else {
    if (!ref_cons(m - k, n - k, 0, root1, proof, top, o, w)) return 0;
    rfc9162_node(last, o, old);
    rfc9162_node(last, w, neu);
  }
  return 1;
}

static int ref_verify_cons(uint64_t m, uint64_t n, const uint8_t r1[HB], const uint8_t r2[HB], hash_t *proof,
                           size_t len) {
  if (m == 0 || m > n) return 0;
  size_t top = len;
  uint8_t o[HB], w[HB];
  if (!ref_cons(m, n, 1, r1, proof, &top, o, w)) return 0;
  return top == 0 && memcmp(o, r1, HB) == 0 && memcmp(w, r2, HB) == 0;
}

/* ---- checks of one proof -------------------------------------------------------------- */

static int lib_incl_ok(const uint8_t leaf[HB], uint64_t m, uint64_t n, hash_t *p, size_t len,
                       const uint8_t root[HB]) {
  cnv_status st = cnv_merkle_verify_inclusion(leaf, m, n, CP(p), len, root);
  assert_true(st == CNV_OK || st == CNV_ELEDGER_PROOF);
  return st == CNV_OK;
}

static int lib_cons_ok(uint64_t m, uint64_t n, const uint8_t r1[HB], const uint8_t r2[HB], hash_t *p,
                       size_t len) {
  cnv_status st = cnv_merkle_verify_consistency(m, n, r1, r2, CP(p), len);
  assert_true(st == CNV_OK || st == CNV_ELEDGER_PROOF);
  return st == CNV_OK;
}

/* every bit of every hash (all_bits) or one random bit of each; each hash dropped; a
 * random hash added at each position */
static void tamper_incl(hash_t *d, uint64_t m, uint64_t n, hash_t *proof, size_t len,
                        const uint8_t root[HB], int all_bits, uint64_t *seed) {
  hash_t p[PMAX];
  for (size_t i = 0; i < len; i++) {
    for (unsigned bit = 0; bit < HB * 8; bit++) {
      if (!all_bits && bit != cnv_test_rand(seed) % (HB * 8)) continue;
      memcpy(p, proof, len * HB);
      p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_false(lib_incl_ok(d[m], m, n, p, len, root));
      if (!all_bits) break;
    }
  }
  for (size_t i = 0; i < len; i++) {
    memcpy(p, proof, i * HB);
    memcpy(p + i, proof + i + 1, (len - i - 1) * HB);
    assert_false(lib_incl_ok(d[m], m, n, p, len - 1, root));
  }
  for (size_t i = 0; i <= len; i++) {
    memcpy(p, proof, i * HB);
    uint64_t x = cnv_test_rand(seed);
    rfc9162_leaf((const uint8_t *)&x, sizeof x, p[i]);
    memcpy(p + i + 1, proof + i, (len - i) * HB);
    assert_false(lib_incl_ok(d[m], m, n, p, len + 1, root));
  }
}

static void tamper_cons(uint64_t m, uint64_t n, const uint8_t r1[HB], const uint8_t r2[HB], hash_t *proof,
                        size_t len, int all_bits, uint64_t *seed) {
  hash_t p[PMAX];
  for (size_t i = 0; i < len; i++) {
    for (unsigned bit = 0; bit < HB * 8; bit++) {
      if (!all_bits && bit != cnv_test_rand(seed) % (HB * 8)) continue;
      memcpy(p, proof, len * HB);
      p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_false(lib_cons_ok(m, n, r1, r2, p, len));
      if (!all_bits) break;
    }
  }
  for (size_t i = 0; i < len; i++) {
    memcpy(p, proof, i * HB);
    memcpy(p + i, proof + i + 1, (len - i - 1) * HB);
    assert_false(lib_cons_ok(m, n, r1, r2, p, len - 1));
  }
  for (size_t i = 0; i <= len; i++) {
    memcpy(p, proof, i * HB);
    uint64_t x = cnv_test_rand(seed);
    rfc9162_leaf((const uint8_t *)&x, sizeof x, p[i]);
    memcpy(p + i + 1, proof + i, (len - i) * HB);
    assert_false(lib_cons_ok(m, n, r1, r2, p, len + 1));
  }
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_hashes(void **state) {
  (void)state;
  /* BLAKE2b-256("") */
  static const uint8_t empty[HB] = {0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e,
                                    0xb0, 0x60, 0x99, 0xda, 0xa1, 0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f,
                                    0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd, 0xf1, 0x2f, 0xe3, 0xa8};
  uint8_t out[HB], want[HB];
  assert_int_equal(cnv_merkle_root(NULL, 0, out), CNV_OK);
  assert_memory_equal(out, empty, HB);
  cnv__mtree t;
  cnv__mtree_init(&t);
  assert_int_equal(cnv__mtree_root(&t, 0, out), CNV_OK);
  assert_memory_equal(out, empty, HB);
  assert_int_equal(cnv__mtree_root(&t, 1, out), CNV_ERANGE);
  cnv__mtree_free(&t);

  /* leaf = H(0x00 || x), node = H(0x01 || l || r), spelled out */
  const uint8_t msg[3] = {'a', 'b', 'c'};
  uint8_t buf[1 + 2 * HB] = {0x00, 'a', 'b', 'c'};
  assert_int_equal(crypto_generichash(want, HB, buf, 4, NULL, 0), 0);
  assert_int_equal(cnv_merkle_leaf_hash(msg, sizeof msg, out), CNV_OK);
  assert_memory_equal(out, want, HB);
  buf[0] = 0x00;
  assert_int_equal(crypto_generichash(want, HB, buf, 1, NULL, 0), 0);
  assert_int_equal(cnv_merkle_leaf_hash(NULL, 0, out), CNV_OK);
  assert_memory_equal(out, want, HB);
  assert_int_equal(cnv_merkle_leaf_hash(NULL, 1, out), CNV_EINVAL);
  assert_int_equal(cnv_merkle_leaf_hash(msg, 3, NULL), CNV_EINVAL);

  uint8_t l[HB], r[HB];
  memset(l, 0x11, HB);
  memset(r, 0x22, HB);
  buf[0] = 0x01;
  memcpy(buf + 1, l, HB);
  memcpy(buf + 1 + HB, r, HB);
  assert_int_equal(crypto_generichash(want, HB, buf, sizeof buf, NULL, 0), 0);
  cnv_merkle_node_hash(l, r, out);
  assert_memory_equal(out, want, HB);
  cnv_merkle_node_hash(l, r, l); /* out may alias an input */
  assert_memory_equal(l, want, HB);
}

static void test_roots(void **state) {
  (void)state;
  uint64_t seed = 1;
  hash_t *d = random_leaves(SMALL, &seed);
  cnv__mtree t;
  build_mtree(&t, d, SMALL);
  for (uint64_t n = 0; n <= SMALL; n++) {
    uint8_t want[HB], got[HB];
    rfc9162_mth(CP(d), n, want);
    assert_int_equal(cnv_merkle_root(CP(d), n, got), CNV_OK);
    assert_memory_equal(got, want, HB);
    assert_int_equal(cnv__mtree_root(&t, n, got), CNV_OK);
    assert_memory_equal(got, want, HB);
  }
  uint8_t out[HB];
  assert_int_equal(cnv__mtree_root(&t, SMALL + 1, out), CNV_ERANGE);
  assert_int_equal(cnv_merkle_root(NULL, 1, out), CNV_EINVAL);
  assert_int_equal(cnv_merkle_root(CP(d), 1, NULL), CNV_EINVAL);
  cnv__mtree_free(&t);
  free(d);
}

/* A proof the library made equals the reference's, hash for hash. */
static void assert_same_proof(const void *want, size_t wl, const void *got, size_t gl) {
  assert_int_equal(gl, wl);
  assert_memory_equal(got, want, wl * HB);
}

static void check_inclusion(hash_t *d, const cnv__mtree *t, uint64_t m, uint64_t n, const uint8_t root[HB],
                            int tamper, int all_bits, uint64_t *seed) {
  hash_t want[PMAX], got[CNV_LEDGER_MAX_PROOF], got2[CNV_LEDGER_MAX_PROOF];
  size_t wl = 0, gl = 0, gl2 = 0;
  rfc9162_path(m, CP(d), n, want, &wl);
  assert_int_equal(cnv_merkle_inclusion_proof(CP(d), n, m, got, &gl), CNV_OK);
  assert_int_equal(cnv__mtree_inclusion(t, m, n, got2, &gl2), CNV_OK);
  assert_same_proof(want, wl, got, gl);
  assert_same_proof(want, wl, got2, gl2);
  assert_true(lib_incl_ok(d[m], m, n, want, wl, root));
  assert_true(ref_verify_incl(d[m], m, n, want, wl, root));
  if (!tamper) return;
  /* another leaf: every other leaf of the tree, and the leaf with one bit flipped */
  for (uint64_t j = 0; j < n; j++)
    if (memcmp(d[j], d[m], HB) != 0) assert_false(lib_incl_ok(d[j], m, n, want, wl, root));
  uint8_t leaf[HB];
  memcpy(leaf, d[m], HB);
  leaf[cnv_test_rand(seed) % HB] ^= (uint8_t)(1u << (cnv_test_rand(seed) % 8));
  assert_false(lib_incl_ok(leaf, m, n, want, wl, root));
  /* another index: never */
  for (uint64_t j = 0; j <= n; j++)
    if (j != m) assert_false(lib_incl_ok(d[m], j, n, want, wl, root));
  assert_false(lib_incl_ok(d[m], UINT64_MAX, n, want, wl, root));
  /* another size: exactly when the reference verifier accepts (a size that gives the proof
   * the same shape reaches the same root: the size is authenticated by the signed tree
   * head, not by the proof) */
  for (uint64_t s = 0; s <= n + 2; s++) {
    if (s == n) continue;
    assert_int_equal(lib_incl_ok(d[m], m, s, want, wl, root), ref_verify_incl(d[m], m, s, want, wl, root));
  }
  /* another root */
  memcpy(leaf, root, HB);
  leaf[cnv_test_rand(seed) % HB] ^= (uint8_t)(1u << (cnv_test_rand(seed) % 8));
  assert_false(lib_incl_ok(d[m], m, n, want, wl, leaf));
  tamper_incl(d, m, n, want, wl, root, all_bits, seed);
}

static void test_inclusion_small(void **state) {
  (void)state;
  uint64_t seed = 2;
  hash_t *d = random_leaves(SMALL, &seed);
  cnv__mtree t;
  build_mtree(&t, d, SMALL);
  uint64_t top = cnv_test_iters(SMALL);
  for (uint64_t n = 1; n <= top; n++) {
    uint8_t root[HB];
    rfc9162_mth(CP(d), n, root);
    for (uint64_t m = 0; m < n; m++) {
      /* every proof is compared; the tampering runs on all of the small trees and a sample
       * of the larger ones */
      int tamper = n <= 40 || m == 0 || m == n - 1 || cnv_test_rand(&seed) % 16 == 0;
      check_inclusion(d, &t, m, n, root, tamper, n <= 12, &seed);
    }
  }
  cnv__mtree_free(&t);
  free(d);
}

static void check_consistency(hash_t *d, const cnv__mtree *t, uint64_t m, uint64_t n, const uint8_t r1[HB],
                              const uint8_t r2[HB], int tamper, int all_bits, uint64_t *seed) {
  hash_t want[PMAX], got[CNV_LEDGER_MAX_PROOF], got2[CNV_LEDGER_MAX_PROOF];
  size_t wl = 0, gl = 0, gl2 = 0;
  rfc9162_proof(m, CP(d), n, want, &wl);
  assert_int_equal(cnv_merkle_consistency_proof(CP(d), m, n, got, &gl), CNV_OK);
  assert_int_equal(cnv__mtree_consistency(t, m, n, got2, &gl2), CNV_OK);
  assert_same_proof(want, wl, got, gl);
  assert_same_proof(want, wl, got2, gl2);
  assert_true(lib_cons_ok(m, n, r1, r2, want, wl));
  assert_true(ref_verify_cons(m, n, r1, r2, want, wl));
  if (!tamper) return;
  uint8_t x[HB];
  memcpy(x, r1, HB);
  x[cnv_test_rand(seed) % HB] ^= 0x80;
  assert_false(lib_cons_ok(m, n, x, r2, want, wl));
  memcpy(x, r2, HB);
  x[cnv_test_rand(seed) % HB] ^= 0x01;
  assert_false(lib_cons_ok(m, n, r1, x, want, wl));
  if (m != n) assert_false(lib_cons_ok(m, n, r2, r1, want, wl));
  /* other sizes: exactly when the reference verifier accepts */
  for (uint64_t a = (m > 2 ? m - 2 : 0); a <= m + 2; a++)
    for (uint64_t b = (n > 2 ? n - 2 : 0); b <= n + 2; b++) {
      if (a == m && b == n) continue;
      assert_int_equal(lib_cons_ok(a, b, r1, r2, want, wl), ref_verify_cons(a, b, r1, r2, want, wl));
    }
  if (wl > 0) tamper_cons(m, n, r1, r2, want, wl, all_bits, seed);
}

static void test_consistency_small(void **state) {
  (void)state;
  uint64_t seed = 3;
  enum { N = 72 };
  hash_t *d = random_leaves(N, &seed);
  cnv__mtree t;
  build_mtree(&t, d, N);
  hash_t roots[N + 1];
  for (uint64_t n = 0; n <= N; n++) rfc9162_mth(CP(d), n, roots[n]);
  uint64_t top = cnv_test_iters(N) < 24 ? 24 : cnv_test_iters(N);
  for (uint64_t n = 1; n <= top; n++)
    for (uint64_t m = 1; m <= n; m++) check_consistency(d, &t, m, n, roots[m], roots[n], 1, n <= 16, &seed);
  cnv__mtree_free(&t);
  free(d);
}

static void test_large(void **state) {
  (void)state;
  uint64_t seed = 4;
  const uint64_t N = cnv_test_iters(100000) < 20000 ? 20000 : cnv_test_iters(100000);
  hash_t *d = random_leaves(N, &seed);
  cnv__mtree t;
  build_mtree(&t, d, N);
  uint64_t p2 = 1;
  while (p2 * 2 <= N) p2 *= 2;
  for (int round = 0; round < 12; round++) {
    uint64_t n = round == 0 ? N : 1 + cnv_test_rand(&seed) % N;
    if (round == 1) n = p2; /* a perfect tree */
    if (round == 2) n = p2 + 1 <= N ? p2 + 1 : N;
    uint8_t want[HB], got[HB], g2[HB];
    rfc9162_mth(CP(d), n, want);
    assert_int_equal(cnv_merkle_root(CP(d), n, got), CNV_OK);
    assert_memory_equal(got, want, HB);
    assert_int_equal(cnv__mtree_root(&t, n, g2), CNV_OK);
    assert_memory_equal(g2, want, HB);
    for (int k = 0; k < 3; k++) {
      uint64_t m = k == 0 ? n - 1 : cnv_test_rand(&seed) % n;
      check_inclusion(d, &t, m, n, want, 0, 0, &seed);
      hash_t p[CNV_LEDGER_MAX_PROOF];
      size_t len = 0;
      assert_int_equal(cnv__mtree_inclusion(&t, m, n, p, &len), CNV_OK);
      tamper_incl(d, m, n, p, len, want, 0, &seed);
    }
    uint64_t m = 1 + cnv_test_rand(&seed) % n;
    uint8_t r1[HB];
    rfc9162_mth(CP(d), m, r1);
    check_consistency(d, &t, m, n, r1, want, 0, 0, &seed);
    hash_t p[CNV_LEDGER_MAX_PROOF];
    size_t len = 0;
    assert_int_equal(cnv__mtree_consistency(&t, m, n, p, &len), CNV_OK);
    if (len > 0) tamper_cons(m, n, r1, want, p, len, 0, &seed);
  }
  /* mtree alone (fast) against the public functions at many more sizes */
  for (int round = 0; round < 200; round++) {
    uint64_t n = 1 + cnv_test_rand(&seed) % N, m = cnv_test_rand(&seed) % n;
    hash_t a[CNV_LEDGER_MAX_PROOF], b[CNV_LEDGER_MAX_PROOF];
    size_t la = 0, lb = 0;
    assert_int_equal(cnv__mtree_inclusion(&t, m, n, a, &la), CNV_OK);
    uint8_t root[HB];
    assert_int_equal(cnv__mtree_root(&t, n, root), CNV_OK);
    assert_true(lib_incl_ok(d[m], m, n, a, la, root));
    uint64_t s1 = 1 + cnv_test_rand(&seed) % n;
    assert_int_equal(cnv__mtree_consistency(&t, s1, n, b, &lb), CNV_OK);
    uint8_t r1[HB];
    assert_int_equal(cnv__mtree_root(&t, s1, r1), CNV_OK);
    assert_true(lib_cons_ok(s1, n, r1, root, b, lb));
  }
  cnv__mtree_free(&t);
  free(d);
}

static void test_ranges(void **state) {
  (void)state;
  uint64_t seed = 5;
  hash_t *d = random_leaves(8, &seed);
  const uint8_t(*cd)[HB] = CP(d);
  cnv__mtree t;
  build_mtree(&t, d, 8);
  hash_t p[CNV_LEDGER_MAX_PROOF];
  size_t n = 0;
  uint8_t root[HB];
  assert_int_equal(cnv_merkle_inclusion_proof(cd, 8, 8, p, &n), CNV_ERANGE);
  assert_int_equal(cnv_merkle_inclusion_proof(cd, 0, 0, p, &n), CNV_ERANGE);
  assert_int_equal(cnv_merkle_inclusion_proof(NULL, 8, 0, p, &n), CNV_EINVAL);
  assert_int_equal(cnv_merkle_inclusion_proof(cd, 8, 0, NULL, &n), CNV_EINVAL);
  assert_int_equal(cnv_merkle_inclusion_proof(cd, 8, 0, p, NULL), CNV_EINVAL);
  assert_int_equal(cnv__mtree_inclusion(&t, 8, 8, p, &n), CNV_ERANGE);
  assert_int_equal(cnv__mtree_inclusion(&t, 0, 9, p, &n), CNV_ERANGE);
  assert_int_equal(cnv_merkle_consistency_proof(cd, 0, 8, p, &n), CNV_ERANGE);
  assert_int_equal(cnv_merkle_consistency_proof(cd, 5, 4, p, &n), CNV_ERANGE);
  assert_int_equal(cnv_merkle_consistency_proof(NULL, 1, 4, p, &n), CNV_EINVAL);
  assert_int_equal(cnv__mtree_consistency(&t, 0, 8, p, &n), CNV_ERANGE);
  assert_int_equal(cnv__mtree_consistency(&t, 3, 2, p, &n), CNV_ERANGE);
  assert_int_equal(cnv__mtree_consistency(&t, 3, 9, p, &n), CNV_ERANGE);
  assert_int_equal(cnv__mtree_root(&t, 8, root), CNV_OK);
  assert_int_equal(cnv_merkle_verify_inclusion(NULL, 0, 8, CP(p), 0, root), CNV_EINVAL);
  assert_int_equal(cnv_merkle_verify_inclusion(d[0], 0, 8, NULL, 3, root), CNV_EINVAL);
  assert_int_equal(cnv_merkle_verify_inclusion(d[0], 0, 8, CP(p), 0, NULL), CNV_EINVAL);
  assert_int_equal(cnv_merkle_verify_consistency(1, 2, NULL, root, CP(p), 0), CNV_EINVAL);
  assert_int_equal(cnv_merkle_verify_consistency(0, 2, root, root, CP(p), 0), CNV_ELEDGER_PROOF);
  /* a tree of one leaf: its root is the leaf, with an empty proof */
  assert_int_equal(cnv_merkle_verify_inclusion(d[0], 0, 1, CP(p), 0, d[0]), CNV_OK);
  /* equal sizes: empty proof, equal roots */
  assert_int_equal(cnv_merkle_consistency_proof(cd, 8, 8, p, &n), CNV_OK);
  assert_int_equal(n, 0);
  assert_int_equal(cnv_merkle_verify_consistency(8, 8, root, root, CP(p), 0), CNV_OK);
  assert_int_equal(cnv_merkle_verify_consistency(8, 8, root, d[0], CP(p), 0), CNV_ELEDGER_PROOF);
  assert_int_equal(cnv_merkle_verify_consistency(8, 8, root, root, CP(d), 1), CNV_ELEDGER_PROOF);
  cnv__mtree_free(&t);
  cnv__mtree_free(NULL);
  free(d);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hashes),
      cmocka_unit_test(test_roots),
      cmocka_unit_test(test_inclusion_small),
      cmocka_unit_test(test_consistency_small),
      cmocka_unit_test(test_large),
      cmocka_unit_test(test_ranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
