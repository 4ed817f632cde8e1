/* Receipts from a real log: cnv_ledger_receipt on an open ledger (not covered before a
 * checkpoint, the latest covering checkpoint after, only COMPLETE records, verified offline
 * and through the encoding) and cnv_ledger_reader_receipt on the closed log (the same
 * receipts, byte for byte; proofs equal to the RFC 9162 checker's over the reader's leaves). */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/ledger.h>

#include "support/rfc9162_check.h"

#define HB CNV_LEDGER_HASH_BYTES
#define RECORDS 40

static uint8_t pk[32], sk[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static cnv_ledger_entry entry(uint16_t kind, uint64_t i) {
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = kind;
  e.ticket = i + 1;
  e.agent = (uint32_t)(i % 5);
  e.capability = i * 3;
  e.epoch = 1;
  e.time_ms = 1700000000000ull + i;
  e.start_ms = 1700000000000ull;
  e.status = (int32_t)(i % 3) - 1;
  memset(e.key, (int)i, HB);
  memset(e.result, (int)(i * 7), HB);
  return e;
}

static uint16_t kind_of(uint64_t i) { return i % 3 == 2 ? CNV_LREC_ADMIT : CNV_LREC_COMPLETE; }

static void verified(const cnv_receipt *r) {
  int s = CNV_CERT_UNCHECKED;
  assert_int_equal(cnv_receipt_verify(r, pk, &s), CNV_OK);
  assert_int_equal(s, CNV_CERT_VERIFIED);
  uint8_t buf[CNV_RECEIPT_MAX_BYTES];
  size_t len = 0;
  assert_int_equal(cnv_receipt_encode(r, buf, sizeof buf, &len), CNV_OK);
  cnv_receipt d;
  assert_int_equal(cnv_receipt_decode(buf, len, &d), CNV_OK);
  s = CNV_CERT_UNCHECKED;
  assert_int_equal(cnv_receipt_verify(&d, pk, &s), CNV_OK);
}

static void test_live_and_reader(void **state) {
  (void)state;
  char dir[512];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/cnv-receipt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));

  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = dir;
  cfg.secret_key = sk;
  cfg.checkpoint_interval_ms = UINT32_MAX; /* checkpoints only when asked (and at close) */
  cnv_ledger *l = NULL;
  assert_int_equal(cnv_ledger_open(&cfg, &l, NULL), CNV_OK);

  uint64_t idx[RECORDS];
  for (uint64_t i = 0; i < RECORDS; i++) {
    cnv_ledger_entry e = entry(kind_of(i), i);
    assert_int_equal(cnv_ledger_append(l, &e, &idx[i]), CNV_OK);
  }
  assert_int_equal(cnv_ledger_wait_durable(l, idx[RECORDS - 1], UINT64_MAX), CNV_OK);
  cnv_receipt r;
  assert_int_equal(cnv_ledger_receipt(l, idx[0], &r), CNV_ELEDGER_NOT_COVERED);
  assert_int_equal(cnv_ledger_receipt(l, cnv_ledger_durable(l), &r), CNV_ERANGE);
  assert_int_equal(cnv_ledger_receipt(NULL, 0, &r), CNV_EINVAL);
  assert_int_equal(cnv_ledger_receipt(l, 0, NULL), CNV_EINVAL);

  cnv_checkpoint cp1;
  assert_int_equal(cnv_ledger_checkpoint(l, &cp1), CNV_OK);
  assert_true(cp1.tree_size > idx[RECORDS - 1]);
  for (uint64_t i = 0; i < RECORDS; i++) {
    if (kind_of(i) != CNV_LREC_COMPLETE) {
      assert_int_equal(cnv_ledger_receipt(l, idx[i], &r), CNV_ELEDGER_KIND);
      continue;
    }
    assert_int_equal(cnv_ledger_receipt(l, idx[i], &r), CNV_OK);
    assert_int_equal(r.index, idx[i]);
    assert_int_equal(r.entry.ticket, i + 1);
    assert_int_equal(r.checkpoint.tree_size, cp1.tree_size);
    assert_memory_equal(r.checkpoint.root, cp1.root, HB);
    verified(&r);
  }
  assert_int_equal(cnv_ledger_receipt(l, 0, &r), CNV_ELEDGER_KIND); /* GENESIS */

  /* more records and a second checkpoint: the latest covering one is used */
  uint64_t more[RECORDS];
  for (uint64_t i = 0; i < RECORDS; i++) {
    cnv_ledger_entry e = entry(CNV_LREC_COMPLETE, 100 + i);
    assert_int_equal(cnv_ledger_append(l, &e, &more[i]), CNV_OK);
  }
  cnv_checkpoint cp2;
  assert_int_equal(cnv_ledger_checkpoint(l, &cp2), CNV_OK);
  assert_true(cp2.tree_size > more[RECORDS - 1]);
  static cnv_receipt live[2 * RECORDS];
  for (uint64_t i = 0; i < RECORDS; i++) {
    if (kind_of(i) == CNV_LREC_COMPLETE) {
      assert_int_equal(cnv_ledger_receipt(l, idx[i], &live[i]), CNV_OK);
      assert_int_equal(live[i].checkpoint.tree_size, cp2.tree_size);
      verified(&live[i]);
    }
    assert_int_equal(cnv_ledger_receipt(l, more[i], &live[RECORDS + i]), CNV_OK);
    verified(&live[RECORDS + i]);
  }
  cnv_ledger_close(l);

  /* the closed log: the same receipts from a reader */
  cnv_ledger_reader *rd = NULL;
  assert_int_equal(cnv_ledger_reader_open(dir, &rd, NULL), CNV_OK);
  uint64_t size = cnv_ledger_reader_size(rd);
  assert_int_equal(size, cp2.tree_size + 1); /* nothing after the last checkpoint */
  const uint8_t(*leaves)[HB] = cnv_ledger_reader_leaves(rd);
  for (uint64_t j = 0; j < 2 * RECORDS; j++) {
    uint64_t at = j < RECORDS ? idx[j] : more[j - RECORDS];
    if (j < RECORDS && kind_of(j) != CNV_LREC_COMPLETE) {
      assert_int_equal(cnv_ledger_reader_receipt(rd, at, &r), CNV_ELEDGER_KIND);
      continue;
    }
    assert_int_equal(cnv_ledger_reader_receipt(rd, at, &r), CNV_OK);
    verified(&r);
    uint8_t a[CNV_RECEIPT_MAX_BYTES], b[CNV_RECEIPT_MAX_BYTES];
    size_t la = 0, lb = 0;
    assert_int_equal(cnv_receipt_encode(&r, a, sizeof a, &la), CNV_OK);
    assert_int_equal(cnv_receipt_encode(&live[j], b, sizeof b, &lb), CNV_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    uint8_t want[RFC9162_MAX_PROOF][HB];
    size_t wl = 0;
    rfc9162_path(at, leaves, r.checkpoint.tree_size, want, &wl);
    assert_int_equal(r.proof_len, wl);
    assert_memory_equal(r.proof, want, wl * HB);
    uint8_t root[HB];
    rfc9162_mth(leaves, r.checkpoint.tree_size, root);
    assert_memory_equal(root, r.checkpoint.root, HB);
  }
  assert_int_equal(cnv_ledger_reader_receipt(rd, size - 1, &r), CNV_ELEDGER_NOT_COVERED);
  assert_int_equal(cnv_ledger_reader_receipt(rd, size, &r), CNV_ERANGE);
  assert_int_equal(cnv_ledger_reader_receipt(rd, 0, &r), CNV_ELEDGER_KIND);
  assert_int_equal(cnv_ledger_reader_receipt(NULL, 0, &r), CNV_EINVAL);
  assert_int_equal(cnv_ledger_reader_receipt(rd, 0, NULL), CNV_EINVAL);
  cnv_ledger_reader_close(rd);
  assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  static const uint8_t seed[32] = {9};
  if (crypto_sign_seed_keypair(pk, sk, seed) != 0) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_live_and_reader)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
