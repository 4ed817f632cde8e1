/* An independent RFC 9162 checker for the tests: the Merkle Tree Hash, PATH and
 * PROOF/SUBPROOF of sections 2.1.1, 2.1.3.1 and 2.1.4.1 transcribed literally (slow, recursive,
 * over explicit slices D[a:b]), with BLAKE2b-256 called directly. It shares no code with
 * src/ledger, so the library's roots and proofs can be compared against it. */
#ifndef CNV_TEST_RFC9162_CHECK_H
#define CNV_TEST_RFC9162_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define RFC9162_HASH 32
#define RFC9162_MAX_PROOF 130

/* HASH(0x00 || bytes). */
void rfc9162_leaf(const uint8_t *bytes, size_t len, uint8_t out[RFC9162_HASH]);
/* HASH(0x01 || l || r). */
void rfc9162_node(const uint8_t l[RFC9162_HASH], const uint8_t r[RFC9162_HASH], uint8_t out[RFC9162_HASH]);
/* MTH(D[0:n]) where d holds the n leaf hashes (MTH({}) = HASH()). */
void rfc9162_mth(const uint8_t (*d)[RFC9162_HASH], uint64_t n, uint8_t out[RFC9162_HASH]);
/* PATH(m, D[0:n]) into proof, *len hashes (0 <= m < n). */
void rfc9162_path(uint64_t m, const uint8_t (*d)[RFC9162_HASH], uint64_t n, uint8_t proof[][RFC9162_HASH],
                  size_t *len);
/* PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) into proof (0 < m <= n). */
void rfc9162_proof(uint64_t m, const uint8_t (*d)[RFC9162_HASH], uint64_t n, uint8_t proof[][RFC9162_HASH],
                   size_t *len);

#endif
