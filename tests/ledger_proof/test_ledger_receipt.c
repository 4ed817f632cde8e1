/* Receipts built by hand over a tree of random leaves: the encoding (layout, round trip,
 * every truncation, trailing bytes, garbage, single-byte changes), and cnv_receipt_verify's
 * states for a good receipt and for each kind of tampering (signature, key, field, kind,
 * leaf, proof), which must stop exactly where the failing step is. cnv_cert_advance moves
 * only forward by one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/ledger.h>

#include "cnv_test_util.h"
#include "support/rfc9162_check.h"

#define HB CNV_LEDGER_HASH_BYTES
#define TREE 37
#define AT 21

static uint8_t pk[32], sk[64], pk2[32], sk2[64];

static cnv_ledger_entry complete_entry(void) {
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_COMPLETE;
  e.detail = 1;
  e.status = -7;
  e.agent = 42;
  e.time_ms = 1700000001000ull;
  e.start_ms = 1700000000000ull;
  e.ticket = 99;
  e.capability = 5;
  e.epoch = 3;
  memset(e.key, 0x11, HB);
  memset(e.digest, 0x22, HB);
  memset(e.result, 0x33, HB);
  return e;
}

/* A record body's leaf (docs/ledger.md, "Hashes"): the independent checker's RFC 9162 leaf
 * hash of the body's first 88 bytes || BLAKE2b-256(the rest of the body). */
static void body_leaf(const uint8_t *body, size_t len, uint8_t out[RFC9162_HASH]) {
  uint8_t in[88 + 32];
  memcpy(in, body, 88);
  assert_int_equal(crypto_generichash(in + 88, 32, body + 88, len - 88, NULL, 0), 0);
  rfc9162_leaf(in, sizeof in, out);
}

/* A receipt for record `at` (kind from e) in a tree of `size` random leaves, signed by sk. */
static cnv_receipt make_receipt(const cnv_ledger_entry *e, uint64_t at, uint64_t size, const uint8_t *key) {
  uint8_t leaves[TREE + 8][HB];
  uint64_t seed = 77;
  for (uint64_t i = 0; i < size; i++) {
    uint64_t x = cnv_test_rand(&seed);
    rfc9162_leaf((const uint8_t *)&x, sizeof x, leaves[i]);
  }
  cnv_receipt r;
  memset(&r, 0, sizeof r);
  r.index = at;
  memcpy(r.prev, leaves[at - 1], HB);
  r.entry = *e;
  uint8_t body[CNV_LEDGER_BODY_FIXED];
  size_t blen = 0;
  assert_int_equal(cnv_ledger_entry_encode(e, at, r.prev, body, sizeof body, &blen), CNV_OK);
  assert_int_equal(blen, CNV_LEDGER_BODY_FIXED);
  body_leaf(body, blen, leaves[at]);
  memcpy(r.leaf, leaves[at], HB);
  r.checkpoint.tree_size = size;
  r.checkpoint.time_ms = 1700000002000ull;
  rfc9162_mth((const uint8_t(*)[HB])leaves, size, r.checkpoint.root);
  assert_int_equal(cnv_checkpoint_sign(&r.checkpoint, key), CNV_OK);
  size_t n = 0;
  assert_int_equal(cnv_merkle_inclusion_proof((const uint8_t(*)[HB])leaves, size, at, r.proof, &n), CNV_OK);
  uint8_t want[RFC9162_MAX_PROOF][HB];
  size_t wl = 0;
  rfc9162_path(at, (const uint8_t(*)[HB])leaves, size, want, &wl);
  assert_int_equal(n, wl);
  assert_memory_equal(r.proof, want, wl * HB);
  r.proof_len = (uint32_t)n;
  return r;
}

static cnv_receipt good(void) {
  cnv_ledger_entry e = complete_entry();
  return make_receipt(&e, AT, TREE, sk);
}

/* verify from UNCHECKED; returns the status, *state where it stopped */
static cnv_status check(const cnv_receipt *r, const uint8_t *key, int *state) {
  *state = CNV_CERT_UNCHECKED;
  return cnv_receipt_verify(r, key, state);
}

static void test_verify_good(void **state) {
  (void)state;
  cnv_receipt r = good();
  int s = -1;
  assert_int_equal(check(&r, pk, &s), CNV_OK);
  assert_int_equal(s, CNV_CERT_VERIFIED);
  /* only from UNCHECKED */
  for (int from = CNV_CERT_POLICY_CHECKED; from <= CNV_CERT_VERIFIED; from++) {
    s = from;
    assert_int_equal(cnv_receipt_verify(&r, pk, &s), CNV_ESTATE);
    assert_int_equal(s, from);
  }
  s = CNV_CERT_UNCHECKED;
  assert_int_equal(cnv_receipt_verify(NULL, pk, &s), CNV_EINVAL);
  assert_int_equal(cnv_receipt_verify(&r, NULL, &s), CNV_EINVAL);
  assert_int_equal(cnv_receipt_verify(&r, pk, NULL), CNV_EINVAL);
  assert_int_equal(s, CNV_CERT_UNCHECKED);
  /* the last record of the tree */
  cnv_ledger_entry e = complete_entry();
  cnv_receipt last = make_receipt(&e, TREE - 1, TREE, sk);
  assert_int_equal(check(&last, pk, &s), CNV_OK);
  assert_int_equal(s, CNV_CERT_VERIFIED);
}

static void test_verify_policy(void **state) {
  (void)state;
  cnv_receipt g = good(), r;
  int s;
  /* another node's key */
  assert_int_equal(check(&g, pk2, &s), CNV_ELEDGER_SIGNATURE);
  assert_int_equal(s, CNV_CERT_UNCHECKED);
  /* signed by another key, that key in the checkpoint */
  cnv_ledger_entry e = complete_entry();
  r = make_receipt(&e, AT, TREE, sk2);
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_SIGNATURE);
  assert_int_equal(s, CNV_CERT_UNCHECKED);
  assert_int_equal(check(&r, pk2, &s), CNV_OK);
  /* any bit of the signature, the root, the size or the time */
  for (unsigned bit = 0; bit < 512; bit += 7) {
    r = g;
    r.checkpoint.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_SIGNATURE);
    assert_int_equal(s, CNV_CERT_UNCHECKED);
  }
  r = g;
  r.checkpoint.root[0] ^= 1;
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_SIGNATURE);
  assert_int_equal(s, CNV_CERT_UNCHECKED);
  r = g;
  r.checkpoint.tree_size++;
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_SIGNATURE);
  r = g;
  r.checkpoint.time_ms--;
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_SIGNATURE);
  r = g;
  memcpy(r.checkpoint.key, pk2, 32);
  assert_int_equal(check(&r, pk2, &s), CNV_ELEDGER_SIGNATURE);
  assert_int_equal(s, CNV_CERT_UNCHECKED);
}

static void test_verify_capability(void **state) {
  (void)state;
  cnv_receipt g = good(), r;
  int s;
  /* each field the leaf covers, changed */
  for (int f = 0; f < 17; f++) {
    r = g;
    cnv_ledger_entry *e = &r.entry;
    switch (f) {
      case 0:
        e->detail ^= 1;
        break;
      case 1:
        e->status++;
        break;
      case 2:
        e->agent++;
        break;
      case 3:
        e->flags ^= 1;
        break;
      case 4:
        e->time_ms++;
        break;
      case 5:
        e->start_ms++;
        break;
      case 6:
        e->token_time++;
        break;
      case 7:
        e->ticket++;
        break;
      case 8:
        e->capability++;
        break;
      case 9:
        e->epoch++;
        break;
      case 10:
        e->key[31] ^= 0x80;
        break;
      case 11:
        e->digest[0] ^= 1;
        break;
      case 12:
        e->result[17] ^= 4;
        break;
      case 13:
        r.prev[5] ^= 1;
        break;
      case 14:
        r.leaf[0] ^= 1;
        break;
      case 15:
        r.leaf[31] ^= 0x40;
        break;
      default:
        r.index++;
        break; /* the index is in the body: the leaf no longer matches */
    }
    assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_CORRUPT);
    assert_int_equal(s, CNV_CERT_POLICY_CHECKED);
  }
  /* a payload length in the entry does not enter the receipt's body */
  r = g;
  r.entry.payload_len = 3;
  assert_int_equal(check(&r, pk, &s), CNV_OK);
  /* the kind changed: not a COMPLETE record any more */
  r = g;
  r.entry.kind = CNV_LREC_ADMIT;
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_KIND);
  assert_int_equal(s, CNV_CERT_POLICY_CHECKED);
  /* a consistent, signed, proven receipt of another kind of record is refused too */
  cnv_ledger_entry e = complete_entry();
  e.kind = CNV_LREC_ADMIT;
  r = make_receipt(&e, AT, TREE, sk);
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_KIND);
  assert_int_equal(s, CNV_CERT_POLICY_CHECKED);
  r.entry.kind = 77; /* not a kind at all */
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_KIND);
}

static void test_verify_proof(void **state) {
  (void)state;
  cnv_receipt g = good(), r;
  int s;
  assert_true(g.proof_len > 2);
  for (uint32_t i = 0; i < g.proof_len; i++)
    for (unsigned bit = 0; bit < 256; bit += 13) {
      r = g;
      r.proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_PROOF);
      assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
    }
  for (uint32_t i = 0; i < g.proof_len; i++) { /* a hash dropped */
    r = g;
    memmove(r.proof[i], r.proof[i + 1], (size_t)(g.proof_len - i - 1) * HB);
    r.proof_len--;
    assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_PROOF);
    assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
  }
  for (uint32_t i = 0; i <= g.proof_len; i++) { /* a hash added */
    r = g;
    memmove(r.proof[i + 1], r.proof[i], (size_t)(g.proof_len - i) * HB);
    memset(r.proof[i], 0x5A, HB);
    r.proof_len++;
    assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_PROOF);
    assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
  }
  r = g;
  r.proof_len = CNV_LEDGER_MAX_PROOF + 1;
  assert_int_equal(check(&r, pk, &s), CNV_ELEDGER_PROOF);
  assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
  /* a genuine record proven against a tree that does not hold it (signed all the same) */
  cnv_ledger_entry e = complete_entry();
  cnv_receipt other = make_receipt(&e, AT, TREE, sk);
  other.checkpoint.root[3] ^= 1;
  assert_int_equal(cnv_checkpoint_sign(&other.checkpoint, sk), CNV_OK);
  assert_int_equal(check(&other, pk, &s), CNV_ELEDGER_PROOF);
  assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
  /* a signed tree too small to hold the index */
  other = make_receipt(&e, AT, TREE, sk);
  other.checkpoint.tree_size = AT;
  assert_int_equal(cnv_checkpoint_sign(&other.checkpoint, sk), CNV_OK);
  assert_int_equal(check(&other, pk, &s), CNV_ELEDGER_PROOF);
  assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
}

static void test_encoding(void **state) {
  (void)state;
  cnv_receipt r = good();
  uint8_t buf[CNV_RECEIPT_MAX_BYTES];
  size_t len = 0;
  assert_int_equal(cnv_receipt_encode(&r, buf, sizeof buf, &len), CNV_OK);
  assert_int_equal(len, 16 + CNV_LEDGER_BODY_FIXED + HB + CNV_CHECKPOINT_BYTES + 4 + r.proof_len * HB);
  /* "CNVRCPT1" | index | body | leaf | checkpoint | proof_len | proof */
  assert_memory_equal(buf, "CNVRCPT1", 8);
  assert_int_equal(buf[8], AT);
  uint8_t body[CNV_LEDGER_BODY_FIXED];
  size_t blen = 0;
  assert_int_equal(cnv_ledger_entry_encode(&r.entry, AT, r.prev, body, sizeof body, &blen), CNV_OK);
  assert_memory_equal(buf + 16, body, blen);
  assert_memory_equal(buf + 220, r.leaf, HB);
  uint8_t cp[CNV_CHECKPOINT_BYTES];
  assert_int_equal(cnv_checkpoint_encode(&r.checkpoint, cp), CNV_OK);
  assert_memory_equal(buf + 252, cp, sizeof cp);
  assert_int_equal(buf[428], r.proof_len);
  assert_memory_equal(buf + 432, r.proof, r.proof_len * HB);

  cnv_receipt d;
  assert_int_equal(cnv_receipt_decode(buf, len, &d), CNV_OK);
  int s;
  assert_int_equal(check(&d, pk, &s), CNV_OK);
  assert_int_equal(s, CNV_CERT_VERIFIED);
  uint8_t again[CNV_RECEIPT_MAX_BYTES];
  size_t alen = 0;
  assert_int_equal(cnv_receipt_encode(&d, again, sizeof again, &alen), CNV_OK);
  assert_int_equal(alen, len);
  assert_memory_equal(again, buf, len);
  assert_int_equal(d.index, r.index);
  assert_int_equal(d.proof_len, r.proof_len);
  assert_memory_equal(d.leaf, r.leaf, HB);
  assert_memory_equal(d.prev, r.prev, HB);
  assert_int_equal(d.entry.ticket, r.entry.ticket);
  assert_null(d.entry.payload);
  assert_int_equal(d.entry.payload_len, 0);

  /* every cap too small; a bad proof length; NULLs */
  for (size_t cap = 0; cap < len; cap++) assert_int_equal(cnv_receipt_encode(&r, again, cap, &alen), CNV_EFULL);
  cnv_receipt big = r;
  big.proof_len = CNV_LEDGER_MAX_PROOF + 1;
  assert_int_equal(cnv_receipt_encode(&big, again, sizeof again, &alen), CNV_ERANGE);
  big = r;
  big.entry.kind = 0;
  assert_int_equal(cnv_receipt_encode(&big, again, sizeof again, &alen), CNV_EINVAL);
  assert_int_equal(cnv_receipt_encode(NULL, again, sizeof again, &alen), CNV_EINVAL);
  assert_int_equal(cnv_receipt_encode(&r, NULL, sizeof again, &alen), CNV_EINVAL);
  assert_int_equal(cnv_receipt_encode(&r, again, sizeof again, NULL), CNV_EINVAL);
  assert_int_equal(cnv_receipt_decode(NULL, len, &d), CNV_EINVAL);
  assert_int_equal(cnv_receipt_decode(buf, len, NULL), CNV_EINVAL);
  /* the largest receipt fits CNV_RECEIPT_MAX_BYTES */
  big = r;
  big.proof_len = CNV_LEDGER_MAX_PROOF;
  assert_int_equal(cnv_receipt_encode(&big, again, sizeof again, &alen), CNV_OK);
  assert_int_equal(alen, CNV_RECEIPT_MAX_BYTES);
  assert_int_equal(cnv_receipt_decode(again, alen, &d), CNV_OK);
  assert_int_equal(d.proof_len, CNV_LEDGER_MAX_PROOF);
  /* no proof at all */
  big = r;
  big.proof_len = 0;
  assert_int_equal(cnv_receipt_encode(&big, again, sizeof again, &alen), CNV_OK);
  assert_int_equal(cnv_receipt_decode(again, alen, &d), CNV_OK);
  assert_int_equal(d.proof_len, 0);
}

static void test_decode_strict(void **state) {
  (void)state;
  cnv_receipt r = good(), d;
  uint8_t buf[CNV_RECEIPT_MAX_BYTES + 8], m[CNV_RECEIPT_MAX_BYTES + 8];
  size_t len = 0;
  assert_int_equal(cnv_receipt_encode(&r, buf, sizeof buf, &len), CNV_OK);
  for (size_t cut = 0; cut < len; cut++) assert_int_equal(cnv_receipt_decode(buf, cut, &d), CNV_ELEDGER_CORRUPT);
  for (size_t extra = 1; extra <= 8; extra++) {
    memcpy(m, buf, len);
    memset(m + len, 0, extra);
    assert_int_equal(cnv_receipt_decode(m, len + extra, &d), CNV_ELEDGER_CORRUPT);
  }
  /* a proof length that disagrees with the bytes, or over the maximum */
  const uint32_t lens[] = {r.proof_len - 1, r.proof_len + 1, CNV_LEDGER_MAX_PROOF + 1, UINT32_MAX};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    memcpy(m, buf, len);
    for (unsigned b = 0; b < 4; b++) m[428 + b] = (uint8_t)(lens[i] >> (8 * b));
    assert_int_equal(cnv_receipt_decode(m, len, &d), CNV_ELEDGER_CORRUPT);
  }
  /* named defects: magic, the two indexes disagreeing, a payload length, an unknown kind,
   * the checkpoint's reserved bytes */
  const size_t at[] = {0, 7, 8, 16 + 32, 16 + 200, 16 + 40, 16 + 41, 252 + 150, 252 + 175};
  for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
    memcpy(m, buf, len);
    m[at[i]] ^= 0x40;
    assert_int_equal(cnv_receipt_decode(m, len, &d), CNV_ELEDGER_CORRUPT);
  }
  /* any single byte changed: refused, or decoded to a receipt that encodes to exactly those
   * bytes and no longer verifies */
  uint64_t seed = 9;
  for (size_t pos = 0; pos < len; pos++) {
    memcpy(m, buf, len);
    m[pos] ^= (uint8_t)(1u + cnv_test_rand(&seed) % 255);
    cnv_status st = cnv_receipt_decode(m, len, &d);
    if (st == CNV_ELEDGER_CORRUPT) continue;
    assert_int_equal(st, CNV_OK);
    uint8_t again[CNV_RECEIPT_MAX_BYTES];
    size_t alen = 0;
    assert_int_equal(cnv_receipt_encode(&d, again, sizeof again, &alen), CNV_OK);
    assert_int_equal(alen, len);
    assert_memory_equal(again, m, len);
    int s;
    assert_int_not_equal(check(&d, pk, &s), CNV_OK);
    assert_int_not_equal(s, CNV_CERT_VERIFIED);
  }
  /* garbage */
  for (int i = 0; i < 2000; i++) {
    size_t n = (size_t)(cnv_test_rand(&seed) % sizeof m);
    for (size_t j = 0; j < n; j++) m[j] = (uint8_t)cnv_test_rand(&seed);
    if (i % 2) memcpy(m, "CNVRCPT1", n < 8 ? n : 8);
    assert_int_equal(cnv_receipt_decode(m, n, &d), CNV_ELEDGER_CORRUPT);
  }
}

static void test_cert_advance(void **state) {
  (void)state;
  for (int from = -2; from <= 5; from++)
    for (int next = -2; next <= 5; next++) {
      int s = from;
      cnv_status st = cnv_cert_advance(&s, next);
      int ok = from >= CNV_CERT_UNCHECKED && from < CNV_CERT_VERIFIED && next == from + 1;
      assert_int_equal(st, ok ? CNV_OK : CNV_ESTATE);
      assert_int_equal(s, ok ? next : from);
    }
  assert_int_equal(cnv_cert_advance(NULL, 1), CNV_EINVAL);
  assert_string_equal(cnv_cert_state_name(CNV_CERT_UNCHECKED), "unchecked");
  assert_string_equal(cnv_cert_state_name(CNV_CERT_POLICY_CHECKED), "policy_checked");
  assert_string_equal(cnv_cert_state_name(CNV_CERT_CAPABILITY_CHECKED), "capability_checked");
  assert_string_equal(cnv_cert_state_name(CNV_CERT_VERIFIED), "verified");
  assert_string_equal(cnv_cert_state_name(9), "unknown");
}

int main(void) {
  if (sodium_init() < 0) return 1;
  static const uint8_t s1[32] = {7}, s2[32] = {8};
  if (crypto_sign_seed_keypair(pk, sk, s1) != 0 || crypto_sign_seed_keypair(pk2, sk2, s2) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_verify_good),
      cmocka_unit_test(test_verify_policy),
      cmocka_unit_test(test_verify_capability),
      cmocka_unit_test(test_verify_proof),
      cmocka_unit_test(test_encoding),
      cmocka_unit_test(test_decode_strict),
      cmocka_unit_test(test_cert_advance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
