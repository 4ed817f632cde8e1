/* An outsider's inputs to the ledger's readers: crafted ledger directories (huge frame
 * lengths, gaps and mismatches in first indexes, odd names, a directory where a segment
 * should be, checkpoints whose tree size lies), receipts with every byte changed, proofs of
 * extreme sizes, and replays of logs whose records contradict each other. Each must give a
 * clear error (or be ignored where the format says so), never a crash or a wrong "intact". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <cnv/audit.h>
#include <cnv/phases.h>
#include <cnv/protocol.h>
#include <cnv/runtime.h>

#include "attack_fixture.h"

static afix_log g;
static char *dir;

static int setup(void **state) {
  (void)state;
  dir = lfix_tmpdir();
  return dir ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  lfix_rmdir(dir);
  free(dir);
  return 0;
}

/* The reader and the verifier both refuse the log with want, the verifier naming bad. */
static void expect_bad(cnv_status want, uint64_t bad) {
  cnv_ledger_reader *r = NULL;
  uint64_t rbad = 0;
  cnv_status st = cnv_ledger_reader_open(dir, &r, &rbad);
  if (st == CNV_OK) cnv_ledger_reader_close(r);
  assert_int_equal(st, want);
  if (want == CNV_ELEDGER_CORRUPT) assert_int_equal(rbad, bad);
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(dir, NULL, &rep), want);
  if (want == CNV_ELEDGER_CORRUPT) assert_int_equal(rep.bad_index, bad);
}

static void app_records(unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    cnv_ledger_entry e = afix_entry(CNV_LREC_APP, (uint16_t)i, 0, NULL, 0);
    assert_true(afix_add(&g, &e));
  }
}

static void test_intact_baseline(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(3);
  assert_true(afix_checkpoint(&g, 4, 4));
  assert_true(afix_save(&g, dir));
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(dir, g.pk, &rep), CNV_OK);
  assert_int_equal(rep.records, 5);
  assert_int_equal(rep.checkpoints, 1);
}

/* A frame whose length is 2^32-1 (and one just past the largest body). */
static void test_huge_frame_length(void **state) {
  (void)state;
  static const uint32_t lens[] = {UINT32_MAX, CNV__LBODY_MAX + 1, CNV_LEDGER_BODY_FIXED - 1, 0};
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    afix_begin(&g);
    app_records(1);
    size_t at = g.len;
    cnv__lput32(g.seg + at, lens[k]);
    memset(g.seg + at + 4, 0xAB, 300);
    g.len += 304;
    assert_true(afix_save(&g, dir));
    expect_bad(CNV_ELEDGER_CORRUPT, 2);
  }
}

/* A second segment whose first index skips one, repeats one, or whose header disagrees with
 * its name. */
static void test_first_index_gaps(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(2); /* records 0..2 */
  assert_true(afix_save(&g, dir));
  uint8_t seg[CNV__LSEG_HEADER + 4096];
  lfix_chain c = g.chain;
  size_t len = lfix_segment(&c, 2, seg);
  /* skips record 3 */
  assert_true(afix_write(dir, "seg-0000000000000004.log", seg, len));
  expect_bad(CNV_ELEDGER_CORRUPT, 3);
  /* named 3 but its header says it starts at 4 */
  char p[1024];
  snprintf(p, sizeof p, "%s/seg-0000000000000004.log", dir);
  assert_int_equal(unlink(p), 0);
  cnv__lput64(seg + 16, 4);
  assert_true(afix_write(dir, "seg-0000000000000003.log", seg, len));
  expect_bad(CNV_ELEDGER_CORRUPT, 3);
  /* starts at 2: record 2 twice */
  snprintf(p, sizeof p, "%s/seg-0000000000000003.log", dir);
  assert_int_equal(unlink(p), 0);
  assert_true(afix_write(dir, "seg-0000000000000002.log", seg, len));
  expect_bad(CNV_ELEDGER_CORRUPT, 3);
}

/* Many header-only segments: each continues at the same index, so all but one is a gap. */
static void test_many_tiny_segments(void **state) {
  (void)state;
  afix_begin(&g);
  assert_true(afix_save(&g, dir));
  for (uint64_t i = 1; i < 200; i++) {
    uint8_t h[CNV__LSEG_HEADER];
    cnv__lseg_header(h, i, g.chain.prev);
    char name[CNV__LSEG_NAME_MAX];
    cnv__lseg_name(name, i);
    assert_true(afix_write(dir, name, h, sizeof h));
  }
  expect_bad(CNV_ELEDGER_CORRUPT, 1);
}

/* Names that are not segments are ignored (uppercase hex, other suffixes, a temporary name);
 * the log is read as if they were not there. */
static void test_odd_names_ignored(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(2);
  assert_true(afix_checkpoint(&g, 3, 3));
  assert_true(afix_save(&g, dir));
  static const char *const names[] = {"seg-000000000000000A.log", "seg-0000000000000004.log.bak",
                                      "seg-0000000000000004.LOG", ".seg-0000000000000004.log.tmp",
                                      "seg-000000000000004.log", "seg-+000000000000004.log"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    assert_true(afix_write(dir, names[i], (const uint8_t *)"garbage", 7));
  }
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(dir, g.pk, &rep), CNV_OK);
  assert_int_equal(rep.records, 4);
  assert_int_equal(rep.segments, 1);
}

/* A directory or a FIFO where the next segment should be: damage naming that segment's first
 * record, never a crash, a hang (a FIFO blocks a plain open) nor "intact". */
static void test_directory_as_segment(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(1);
  assert_true(afix_save(&g, dir));
  char p[1024];
  snprintf(p, sizeof p, "%s/seg-0000000000000002.log", dir);
  assert_int_equal(mkdir(p, 0700), 0);
  expect_bad(CNV_ELEDGER_CORRUPT, 2);
  assert_int_equal(rmdir(p), 0);
  assert_int_equal(mkfifo(p, 0600), 0);
  expect_bad(CNV_ELEDGER_CORRUPT, 2);
  assert_int_equal(unlink(p), 0);
}

/* A symbolic link where a segment should be is not followed (a write-mode open could otherwise
 * cut a file outside the directory): damage naming that segment. */
static void test_symlink_segment(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(1);
  char *other = lfix_tmpdir();
  assert_non_null(other);
  assert_true(afix_save(&g, other)); /* another log's segment 0 */
  afix_begin(&g);
  app_records(1);
  assert_true(afix_save(&g, dir));
  char target[1024], link[1024];
  snprintf(target, sizeof target, "%s/seg-0000000000000000.log", other);
  snprintf(link, sizeof link, "%s/seg-0000000000000002.log", dir);
  assert_int_equal(symlink(target, link), 0);
  expect_bad(CNV_ELEDGER_CORRUPT, 2);
  lfix_rmdir(other);
  free(other);
}

/* The segment changes under an open reader: grows (records keep reading), is cut short or
 * rewritten (the reader says CNV_EIO, never hands out other bytes as the record). */
static void test_segment_changes_after_open(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(3);
  assert_true(afix_save(&g, dir));
  cnv_ledger_reader *r = NULL;
  assert_int_equal(cnv_ledger_reader_open(dir, &r, NULL), CNV_OK);
  assert_int_equal(cnv_ledger_reader_size(r), 4);
  size_t full = g.len;
  app_records(2); /* grows: two more records on disk than the reader saw */
  assert_true(afix_save(&g, dir));
  cnv_ledger_entry e;
  for (uint64_t i = 0; i < 4; i++) assert_int_equal(cnv_ledger_reader_get(r, i, &e, NULL), CNV_OK);
  assert_int_equal(cnv_ledger_reader_get(r, 4, &e, NULL), CNV_ERANGE);
  /* rewritten: record 3's payload-free body changed in place */
  g.seg[full - 40] ^= 0x01;
  assert_true(afix_save(&g, dir));
  assert_int_equal(cnv_ledger_reader_get(r, 3, &e, NULL), CNV_EIO);
  /* cut short inside record 2 */
  assert_true(afix_write(dir, "seg-0000000000000000.log", g.seg, full - 300));
  assert_int_equal(cnv_ledger_reader_get(r, 3, &e, NULL), CNV_EIO);
  cnv_ledger_reader_close(r);
}

/* An empty directory, and one with only a lock file: no ledger. */
static void test_no_segments(void **state) {
  (void)state;
  cnv_ledger_reader *r = NULL;
  assert_int_equal(cnv_ledger_reader_open(dir, &r, NULL), CNV_ENOTFOUND);
  assert_true(afix_write(dir, "lock", (const uint8_t *)"", 0));
  assert_int_equal(cnv_ledger_verify_dir(dir, NULL, NULL), CNV_ENOTFOUND);
  /* a segment file that is empty: no GENESIS, never intact */
  assert_true(afix_write(dir, "seg-0000000000000000.log", (const uint8_t *)"", 0));
  assert_int_not_equal(cnv_ledger_verify_dir(dir, NULL, NULL), CNV_OK);
}

/* Checkpoints whose tree size is not their own index: verify names them; a receipt from the
 * reader refuses them. */
static void test_lying_checkpoint(void **state) {
  (void)state;
  static const uint64_t lies[] = {UINT64_MAX, UINT64_MAX - 1, 3, 1, 0};
  for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++) {
    afix_begin(&g);
    cnv_ledger_entry e = afix_entry(CNV_LREC_COMPLETE, 0, 0, NULL, 0);
    assert_true(afix_add(&g, &e));                /* record 1 */
    assert_true(afix_checkpoint(&g, lies[k], 2)); /* record 2, claims lies[k] */
    assert_true(afix_save(&g, dir));
    cnv_ledger_verify_report rep;
    assert_int_equal(cnv_ledger_verify_dir(dir, NULL, &rep), CNV_ELEDGER_CORRUPT);
    assert_int_equal(rep.bad_index, 2);
    cnv_ledger_reader *r = NULL;
    assert_int_equal(cnv_ledger_reader_open(dir, &r, NULL), CNV_OK);
    static cnv_receipt rc;
    assert_int_equal(cnv_ledger_reader_receipt(r, 1, &rc), CNV_ELEDGER_CORRUPT);
    cnv_ledger_reader_close(r);
  }
}

/* A checkpoint whose root is of another tree: verify says signature/root. */
static void test_checkpoint_wrong_root(void **state) {
  (void)state;
  afix_begin(&g);
  app_records(2);
  assert_true(afix_checkpoint(&g, 3, 2)); /* claims 3, root of 2 */
  assert_true(afix_save(&g, dir));
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(dir, NULL, &rep), CNV_ELEDGER_SIGNATURE);
  assert_int_equal(rep.bad_index, 3);
  /* and no receipt is built on it (it could never verify) */
  afix_begin(&g);
  cnv_ledger_entry e = afix_entry(CNV_LREC_COMPLETE, 0, 0, NULL, 0);
  assert_true(afix_add(&g, &e));
  assert_true(afix_checkpoint(&g, 2, 1)); /* claims 2, root of 1 */
  assert_true(afix_save(&g, dir));
  cnv_ledger_reader *r = NULL;
  assert_int_equal(cnv_ledger_reader_open(dir, &r, NULL), CNV_OK);
  static cnv_receipt rc;
  assert_int_equal(cnv_ledger_reader_receipt(r, 1, &rc), CNV_ELEDGER_CORRUPT);
  cnv_ledger_reader_close(r);
}

/* ---- receipts ---- */

static size_t good_receipt(uint8_t *buf, cnv_receipt *rc) {
  afix_begin(&g);
  app_records(2);
  cnv_ledger_entry e = afix_entry(CNV_LREC_COMPLETE, 1, 0, NULL, 0);
  e.ticket = 77;
  e.agent = 3;
  e.capability = 0x1234;
  e.epoch = 5;
  memset(e.result, 0x5C, sizeof e.result);
  assert_true(afix_add(&g, &e)); /* record 3 */
  app_records(2);
  assert_true(afix_checkpoint(&g, 6, 6));
  assert_true(afix_save(&g, dir));
  cnv_ledger_reader *r = NULL;
  assert_int_equal(cnv_ledger_reader_open(dir, &r, NULL), CNV_OK);
  assert_int_equal(cnv_ledger_reader_receipt(r, 3, rc), CNV_OK);
  cnv_ledger_reader_close(r);
  size_t len = 0;
  assert_int_equal(cnv_receipt_encode(rc, buf, CNV_RECEIPT_MAX_BYTES, &len), CNV_OK);
  return len;
}

/* Every byte of a good receipt changed, every length cut or extended: never VERIFIED. */
static void test_receipt_every_byte(void **state) {
  (void)state;
  static uint8_t buf[CNV_RECEIPT_MAX_BYTES + 64], bad[CNV_RECEIPT_MAX_BYTES + 64];
  static cnv_receipt rc, out;
  size_t len = good_receipt(buf, &rc);
  int s = CNV_CERT_UNCHECKED;
  assert_int_equal(cnv_receipt_decode(buf, len, &out), CNV_OK);
  assert_int_equal(cnv_receipt_verify(&out, g.pk, &s), CNV_OK);
  assert_int_equal(s, CNV_CERT_VERIFIED);
  for (size_t i = 0; i < len; i++) {
    for (unsigned bit = 0; bit < 8; bit += 7) {
      memcpy(bad, buf, len);
      bad[i] ^= (uint8_t)(1u << bit);
      cnv_status st = cnv_receipt_decode(bad, len, &out);
      if (st != CNV_OK) {
        assert_int_equal(st, CNV_ELEDGER_CORRUPT);
        continue;
      }
      s = CNV_CERT_UNCHECKED;
      st = cnv_receipt_verify(&out, g.pk, &s);
      if (st == CNV_OK) fail_msg("byte %zu bit %u changed: still verified", i, bit);
      assert_true(s < CNV_CERT_VERIFIED);
    }
  }
  for (size_t n = 0; n < len + 64; n++) {
    if (n == len) continue;
    memset(bad, 0, sizeof bad);
    memcpy(bad, buf, n < len ? n : len);
    assert_int_equal(cnv_receipt_decode(bad, n, &out), CNV_ELEDGER_CORRUPT);
  }
}

/* proof_len fields that lie: 64 hashes (right total length), 2^32-1, one more than there. */
static void test_receipt_proof_len(void **state) {
  (void)state;
  static uint8_t buf[CNV_RECEIPT_MAX_BYTES + 64];
  static cnv_receipt rc, out;
  size_t len = good_receipt(buf, &rc);
  size_t at = len - 4 - (size_t)rc.proof_len * 32; /* the proof_len field */
  static const uint32_t lens[] = {UINT32_MAX, CNV_LEDGER_MAX_PROOF + 1, 0};
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    cnv__lput32(buf + at, lens[k]);
    assert_int_equal(cnv_receipt_decode(buf, len, &out), CNV_ELEDGER_CORRUPT);
  }
  /* 64 hashes, all present: decodes, never verifies */
  memset(buf + at + 4, 0x11, CNV_LEDGER_MAX_PROOF * 32);
  cnv__lput32(buf + at, CNV_LEDGER_MAX_PROOF);
  assert_int_equal(cnv_receipt_decode(buf, at + 4 + CNV_LEDGER_MAX_PROOF * 32, &out), CNV_OK);
  int s = CNV_CERT_UNCHECKED;
  assert_int_equal(cnv_receipt_verify(&out, g.pk, &s), CNV_ELEDGER_PROOF);
  assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
  /* a struct with proof_len past the array: refused, not read */
  out.proof_len = UINT32_MAX;
  s = CNV_CERT_UNCHECKED;
  assert_int_equal(cnv_receipt_verify(&out, g.pk, &s), CNV_ELEDGER_PROOF);
  size_t n = 0;
  assert_int_equal(cnv_receipt_encode(&out, buf, sizeof buf, &n), CNV_ERANGE);
}

/* A signed checkpoint of tree size 2^64-1 and a record index near it, with a 64-hash proof:
 * the signature and fields pass, the proof does not. */
static void test_receipt_extreme_sizes(void **state) {
  (void)state;
  static uint8_t buf[CNV_RECEIPT_MAX_BYTES + 64];
  static cnv_receipt rc;
  (void)good_receipt(buf, &rc);
  static const uint64_t idx[] = {UINT64_MAX - 1, UINT64_MAX, 0, UINT64_MAX / 2};
  for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
    for (uint32_t plen = 0; plen <= CNV_LEDGER_MAX_PROOF; plen += 16) {
      static cnv_receipt r;
      r = rc;
      r.index = idx[k];
      uint8_t body[CNV_LEDGER_BODY_FIXED];
      size_t blen = 0;
      cnv_ledger_entry e = r.entry;
      assert_int_equal(cnv_ledger_entry_encode(&e, r.index, r.prev, body, sizeof body, &blen), CNV_OK);
      assert_int_equal(cnv_ledger_leaf_hash(body, blen, r.leaf), CNV_OK);
      r.checkpoint.tree_size = UINT64_MAX;
      assert_int_equal(cnv_checkpoint_sign(&r.checkpoint, g.sk), CNV_OK);
      r.proof_len = plen;
      memset(r.proof, 0x22, sizeof r.proof);
      int s = CNV_CERT_UNCHECKED;
      assert_int_equal(cnv_receipt_verify(&r, g.pk, &s), CNV_ELEDGER_PROOF);
      assert_int_equal(s, CNV_CERT_CAPABILITY_CHECKED);
      /* and through the encoding */
      size_t n = 0;
      static cnv_receipt back;
      assert_int_equal(cnv_receipt_encode(&r, buf, sizeof buf, &n), CNV_OK);
      assert_int_equal(cnv_receipt_decode(buf, n, &back), CNV_OK);
      s = CNV_CERT_UNCHECKED;
      assert_int_equal(cnv_receipt_verify(&back, g.pk, &s), CNV_ELEDGER_PROOF);
    }
  }
}

static void test_merkle_extreme(void **state) {
  (void)state;
  static uint8_t proof[CNV_LEDGER_MAX_PROOF][32];
  uint8_t leaf[32] = {1}, root[32] = {2};
  memset(proof, 0x33, sizeof proof);
  static const uint64_t sizes[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63, 1};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    uint64_t size = sizes[k];
    for (size_t n = 0; n <= CNV_LEDGER_MAX_PROOF; n++) {
      assert_int_equal(cnv_merkle_verify_inclusion(leaf, size - 1, size, (const uint8_t(*)[32])proof, n, root),
                       CNV_ELEDGER_PROOF);
      assert_int_equal(cnv_merkle_verify_inclusion(leaf, size, size, (const uint8_t(*)[32])proof, n, root),
                       CNV_ELEDGER_PROOF);
      assert_int_equal(cnv_merkle_verify_consistency(1, size, leaf, root, (const uint8_t(*)[32])proof, n),
                       CNV_ELEDGER_PROOF);
      assert_int_equal(cnv_merkle_verify_consistency(size, UINT64_MAX, leaf, root, (const uint8_t(*)[32])proof, n),
                       CNV_ELEDGER_PROOF);
    }
  }
  /* a proof can never be generated past 2^63 leaves (the consistency bound) */
  assert_int_equal(cnv_merkle_consistency_proof((const uint8_t(*)[32])proof, 1, UINT64_MAX, proof, &(size_t){0}),
                   CNV_ERANGE);
}

/* ---- replay on logs whose records contradict each other ---- */

static void config(uint64_t skew, uint32_t maxc, uint32_t maxd) {
  static uint8_t pay[16];
  cnv__lput64(pay, skew);
  cnv__lput32(pay + 8, maxc);
  cnv__lput32(pay + 12, maxd);
  cnv_ledger_entry e = afix_entry(CNV_LREC_CONFIG, 0, 0, pay, sizeof pay);
  assert_true(afix_add(&g, &e));
}

static void add(uint16_t kind, uint16_t detail, int32_t status, const void *pay, uint32_t len, uint32_t agent,
                uint64_t cap, uint32_t flags) {
  cnv_ledger_entry e = afix_entry(kind, detail, status, pay, len);
  e.agent = agent;
  e.capability = cap;
  e.flags = flags;
  assert_true(afix_add(&g, &e));
}

static cnv_status replay(cnv_audit_summary *sum) {
  assert_true(afix_save(&g, dir));
  return cnv_audit_replay(dir, NULL, NULL, sum);
}

static void test_replay_phase_out_of_range(void **state) {
  (void)state;
  cnv_audit_summary sum;
  static const uint16_t details[] = {CNV_PHASE_COUNT, 0x00FF, 0xFFFF, (3u << 8) | CNV_PHASE_COUNT,
                                     (CNV_PHASE_COUNT << 8) | 3u};
  for (size_t k = 0; k < sizeof details / sizeof details[0]; k++) {
    afix_begin(&g);
    config(30, 1024, 64);
    add(CNV_LREC_PHASE, details[k], 0, NULL, 0, 0, 0, 0);
    assert_int_equal(replay(&sum), CNV_ELEDGER_CORRUPT);
  }
}

static void test_replay_bad_config(void **state) {
  (void)state;
  cnv_audit_summary sum;
  afix_begin(&g);
  add(CNV_LREC_CONFIG, 0, 0, "abc", 3, 0, 0, 0);
  assert_int_equal(replay(&sum), CNV_ELEDGER_CORRUPT);
  /* a decision before any CONFIG */
  afix_begin(&g);
  add(CNV_LREC_ADMIT, 0, CNV_OK, NULL, 0, 1, 1, 0);
  config(30, 1024, 64);
  assert_int_equal(replay(&sum), CNV_EAUDIT_NO_CONFIG);
  /* no CONFIG at all, no decision either */
  afix_begin(&g);
  app_records(2);
  assert_int_equal(replay(&sum), CNV_EAUDIT_NO_CONFIG);
  /* extreme settings: read, never a hang or a huge allocation */
  afix_begin(&g);
  config(UINT64_MAX, UINT32_MAX, UINT32_MAX);
  add(CNV_LREC_ADMIT, 0, CNV_ERT_DENY_UNKNOWN_CAPABILITY, NULL, 0, 1, 1, 0);
  cnv_status st = replay(&sum);
  assert_true(st == CNV_OK || st == CNV_ELEDGER_CORRUPT);
}

/* The capability id of demo.echo, which a REGISTER record of that path must carry. */
static uint64_t echo_id(void) {
  uint64_t id = 0;
  assert_int_equal(cnv_capability_id("demo.echo", 9, &id), CNV_OK);
  return id;
}

/* A second CONFIG is a new runtime: what the first registered is gone. */
static void test_replay_config_twice(void **state) {
  (void)state;
  cnv_audit_summary sum;
  afix_begin(&g);
  config(30, 1024, 64);
  add(CNV_LREC_REGISTER, 0, 0, "demo.echo", 9, 0, echo_id(), 0);
  config(30, 1024, 64);
  add(CNV_LREC_ADMIT, 0, CNV_ERT_DENY_UNKNOWN_CAPABILITY, NULL, 0, 1, echo_id(), 0);
  assert_int_equal(replay(&sum), CNV_OK);
  assert_int_equal(sum.decisions, 1);
  assert_int_equal(sum.same, 1);
}

static void test_replay_register_garbage(void **state) {
  (void)state;
  cnv_audit_summary sum;
  static const char *const paths[] = {"", "\xff\xfe", "a..b", ".", "demo.echo\0x"};
  static const uint32_t lens[] = {0, 2, 4, 1, 11};
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
    afix_begin(&g);
    config(30, 1024, 64);
    add(CNV_LREC_REGISTER, 0, 0, paths[k], lens[k], 0, 7, 0);
    assert_int_equal(replay(&sum), CNV_ELEDGER_CORRUPT);
  }
  /* a good path under another capability's id */
  afix_begin(&g);
  config(30, 1024, 64);
  add(CNV_LREC_REGISTER, 0, 0, "demo.echo", 9, 0, echo_id() + 1, 0);
  assert_int_equal(replay(&sum), CNV_ELEDGER_CORRUPT);
}

/* One agent handle added, removed, added again with a token the log does not hold, and
 * garbage token bytes: decisions replay without a crash; a recorded accept under Bootstrap
 * is a mismatch. */
static void test_replay_agent_reused(void **state) {
  (void)state;
  cnv_audit_summary sum;
  afix_begin(&g);
  config(30, 1024, 64);
  add(CNV_LREC_REGISTER, 0, 0, "demo.echo", 9, 0, echo_id(), 0);
  add(CNV_LREC_AGENT, 0, 0, "xyz", 3, 5, 0, 0);
  add(CNV_LREC_AGENT, 1, 0, NULL, 0, 5, 0, 0);
  add(CNV_LREC_AGENT, 1, 0, NULL, 0, 5, 0, 0);
  add(CNV_LREC_AGENT, 0, 0, NULL, 0, 5, 0, CNV_RT_AGENT_TOKEN_OMITTED);
  add(CNV_LREC_AGENT, 0, 0, "garbage-token", 13, 5, 0, 0);
  add(CNV_LREC_PHASE, (CNV_PHASE_BOOTSTRAP << 8) | CNV_PHASE_OPERATIONAL, 0, NULL, 0, 0, 0, 0);
  add(CNV_LREC_ADMIT, 0, CNV_OK, NULL, 0, 5, echo_id(), 0);
  assert_int_equal(replay(&sum), CNV_EAUDIT_MISMATCH);
  assert_int_equal(sum.decisions, 1);
  assert_int_equal(sum.differ, 1);
  /* the token flag and the payload disagreeing is damage */
  afix_begin(&g);
  config(30, 1024, 64);
  add(CNV_LREC_AGENT, 0, 0, "xyz", 3, 5, 0, CNV_RT_AGENT_TOKEN_OMITTED);
  assert_int_equal(replay(&sum), CNV_ELEDGER_CORRUPT);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_intact_baseline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_huge_frame_length, setup, teardown),
      cmocka_unit_test_setup_teardown(test_first_index_gaps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_tiny_segments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_odd_names_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_directory_as_segment, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_segment, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_segments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_segment_changes_after_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lying_checkpoint, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checkpoint_wrong_root, setup, teardown),
      cmocka_unit_test_setup_teardown(test_receipt_every_byte, setup, teardown),
      cmocka_unit_test_setup_teardown(test_receipt_proof_len, setup, teardown),
      cmocka_unit_test_setup_teardown(test_receipt_extreme_sizes, setup, teardown),
      cmocka_unit_test(test_merkle_extreme),
      cmocka_unit_test_setup_teardown(test_replay_phase_out_of_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay_bad_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay_config_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay_register_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay_agent_reused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
