/* The reader and cnv_ledger_verify_dir over logs built record by record through the store
 * (GENESIS, application records, CHECKPOINT records signed with cnv_checkpoint_sign), and the
 * tamper test: every byte of every closed segment flipped in turn, verify fails and names
 * the record holding that byte (a segment header's byte: the segment's first record). */
#include <sodium.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lfix.h"

static uint8_t pk[32], sk[64], pk2[32], sk2[64];
static uint8_t body[CNV__LBODY_MAX], pay[CNV_LEDGER_MAX_PAYLOAD];
static uint8_t leaves[256][32];

/* How build_log spoils the log it writes. */
enum { SPOIL_NONE,
       SPOIL_ROOT,
       SPOIL_KEY,
       SPOIL_SIZE,
       SPOIL_NO_GENESIS,
       SPOIL_GENESIS_AGAIN };

/* A log of n records in dir: record 0 GENESIS (key pk), then APP records with a CHECKPOINT
 * every ckpt-th record (covering every record before it), a final CHECKPOINT. The spoiled
 * checkpoint (or record) is the first one; returns its index. */
static uint64_t build_log(const char *dir, uint64_t seg_bytes, uint64_t n, uint64_t ckpt, int spoil) {
  cnv__lstore *s = NULL;
  assert_int_equal(cnv__lstore_open(dir, seg_bytes, 0, NULL, NULL, &s, NULL), CNV_OK);
  lfix_chain c = {0};
  uint64_t spoiled = CNV_LEDGER_NONE;
  for (uint64_t i = 0; i < n; i++) {
    cnv_ledger_entry e;
    uint8_t cp[CNV_CHECKPOINT_BYTES];
    bool last = i + 1 == n;
    if (i == 0 && spoil != SPOIL_NO_GENESIS) {
      memset(&e, 0, sizeof e);
      e.kind = CNV_LREC_GENESIS;
      e.time_ms = 1700000000000ull;
      memcpy(e.key, pk, 32);
    } else if (i > 0 && (i % ckpt == 0 || last)) {
      cnv_checkpoint k;
      memset(&k, 0, sizeof k);
      k.tree_size = i;
      k.time_ms = 1700000000000ull + i;
      assert_int_equal(cnv_merkle_root((const uint8_t(*)[32])leaves, i, k.root), CNV_OK);
      bool first_spoil = spoiled == CNV_LEDGER_NONE && spoil >= SPOIL_ROOT && spoil <= SPOIL_SIZE;
      if (first_spoil) {
        spoiled = i;
        if (spoil == SPOIL_ROOT) k.root[5] ^= 1;
        if (spoil == SPOIL_SIZE) k.tree_size = i - 1;
      }
      assert_int_equal(cnv_checkpoint_sign(&k, first_spoil && spoil == SPOIL_KEY ? sk2 : sk), CNV_OK);
      assert_int_equal(cnv_checkpoint_encode(&k, cp), CNV_OK);
      memset(&e, 0, sizeof e);
      e.kind = CNV_LREC_CHECKPOINT;
      e.time_ms = k.time_ms;
      e.payload = cp;
      e.payload_len = CNV_CHECKPOINT_BYTES;
    } else {
      uint16_t kind = spoil == SPOIL_GENESIS_AGAIN && i == 2 ? CNV_LREC_GENESIS : CNV_LREC_APP;
      if (kind == CNV_LREC_GENESIS) spoiled = i;
      lfix_entry(&e, kind, (uint32_t)((i * 29) % 120), pay, i);
    }
    if (i == 0 && spoil == SPOIL_NO_GENESIS) spoiled = 0;
    uint8_t leaf[32];
    size_t len = lfix_next(&c, &e, body, leaf);
    assert_true(len > 0);
    memcpy(leaves[i], leaf, 32);
    assert_int_equal(cnv__lstore_append(s, i, body, len, leaf), CNV_OK);
  }
  assert_int_equal(cnv__lstore_sync(s, 1), CNV_OK);
  cnv__lstore_close(s);
  return spoiled;
}

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  crypto_sign_keypair(pk, sk);
  crypto_sign_keypair(pk2, sk2);
  return 0;
}

static void verify_intact_and_reader(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  build_log(dir, 1200, 40, 7, SPOIL_NONE);
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(dir, NULL, &rep), CNV_OK);
  assert_int_equal(rep.records, 40);
  assert_true(rep.segments > 3);
  assert_int_equal(rep.checkpoints, 6); /* 7, 14, 21, 28, 35 and the last (39) */
  assert_int_equal(rep.bad_index, CNV_LEDGER_NONE);
  assert_int_equal(rep.torn_bytes, 0);
  assert_int_equal(cnv_ledger_verify_dir(dir, pk, &rep), CNV_OK);
  assert_int_equal(cnv_ledger_verify_dir(dir, pk2, &rep), CNV_ELEDGER_KEY);
  assert_int_equal(rep.bad_index, 0);
  assert_int_equal(rep.bad_status, CNV_ELEDGER_KEY);
  assert_int_equal(cnv_ledger_verify_dir(NULL, pk, &rep), CNV_EINVAL);

  cnv_ledger_reader *r = NULL;
  uint64_t bad = 0;
  assert_int_equal(cnv_ledger_reader_open(dir, &r, &bad), CNV_OK);
  assert_int_equal(bad, CNV_LEDGER_NONE);
  assert_int_equal(cnv_ledger_reader_size(r), 40);
  assert_int_equal(cnv_ledger_reader_torn(r), 0);
  const uint8_t(*lv)[32] = cnv_ledger_reader_leaves(r);
  assert_memory_equal(lv, leaves, 40 * 32);
  for (uint64_t i = 0; i < 40; i++) {
    cnv_ledger_entry e;
    uint8_t leaf[32];
    assert_int_equal(cnv_ledger_reader_get(r, i, &e, leaf), CNV_OK);
    assert_memory_equal(leaf, leaves[i], 32);
    if (i == 0) {
      assert_int_equal(e.kind, CNV_LREC_GENESIS);
      assert_memory_equal(e.key, pk, 32);
    } else if (i % 7 == 0 || i == 39) {
      assert_int_equal(e.kind, CNV_LREC_CHECKPOINT);
      cnv_checkpoint k;
      assert_int_equal(cnv_checkpoint_decode(e.payload, e.payload_len, &k), CNV_OK);
      assert_int_equal(k.tree_size, i);
    } else {
      cnv_ledger_entry want;
      lfix_entry(&want, CNV_LREC_APP, (uint32_t)((i * 29) % 120), pay, i);
      assert_int_equal(e.ticket, want.ticket);
      assert_int_equal(e.payload_len, want.payload_len);
      if (want.payload_len) assert_memory_equal(e.payload, want.payload, want.payload_len);
    }
  }
  cnv_ledger_entry e;
  assert_int_equal(cnv_ledger_reader_get(r, 40, &e, NULL), CNV_ERANGE);
  assert_int_equal(cnv_ledger_reader_get(r, 0, NULL, NULL), CNV_EINVAL);
  cnv_ledger_reader_close(r);

  /* a torn tail: the reader ends before it; verify says TORN and names the record */
  char p[1024];
  uint64_t last_first = 39;
  char name[CNV__LSEG_NAME_MAX];
  struct stat sb;
  for (;; last_first--) {
    cnv__lseg_name(name, last_first);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (stat(p, &sb) == 0) break;
  }
  assert_int_equal(truncate(p, sb.st_size - 3), 0);
  assert_int_equal(cnv_ledger_verify_dir(dir, pk, &rep), CNV_ELEDGER_TORN);
  assert_int_equal(rep.bad_index, 39);
  assert_int_equal(rep.bad_status, CNV_ELEDGER_TORN);
  assert_int_equal(rep.torn_bytes, (uint64_t)sb.st_size - 3 - (uint64_t)(sb.st_size - (off_t)(4 + 204 + 176 + 32)));
  assert_int_equal(cnv_ledger_reader_open(dir, &r, &bad), CNV_OK);
  assert_int_equal(cnv_ledger_reader_size(r), 39);
  assert_true(cnv_ledger_reader_torn(r) > 0);
  cnv_ledger_reader_close(r);
  lfix_rmdir(dir);
  /* no ledger at all */
  assert_int_equal(cnv_ledger_verify_dir(dir, pk, &rep), CNV_ENOTFOUND);
  assert_int_equal(cnv_ledger_reader_open(dir, &r, &bad), CNV_ENOTFOUND);
  free(dir);
}

static void verify_spoiled_logs(void **state) {
  (void)state;
  static const struct {
    int spoil;
    cnv_status want;
  } cases[] = {
      {SPOIL_ROOT, CNV_ELEDGER_SIGNATURE},
      {SPOIL_KEY, CNV_ELEDGER_KEY},
      {SPOIL_SIZE, CNV_ELEDGER_CORRUPT},
      {SPOIL_NO_GENESIS, CNV_ELEDGER_CORRUPT},
      {SPOIL_GENESIS_AGAIN, CNV_ELEDGER_CORRUPT},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char *dir = lfix_tmpdir();
    uint64_t at = build_log(dir, 1000, 20, 6, cases[k].spoil);
    cnv_ledger_verify_report rep;
    assert_int_equal(cnv_ledger_verify_dir(dir, NULL, &rep), cases[k].want);
    assert_int_equal(rep.bad_index, at);
    assert_int_equal(rep.bad_status, cases[k].want);
    /* the frames themselves are intact: the reader opens it */
    cnv_ledger_reader *r = NULL;
    assert_int_equal(cnv_ledger_reader_open(dir, &r, NULL), CNV_OK);
    assert_int_equal(cnv_ledger_reader_size(r), 20);
    cnv_ledger_reader_close(r);
    lfix_rmdir(dir);
    free(dir);
  }
}

/* Every byte of every segment: flipped, verify fails with CNV_ELEDGER_CORRUPT and names the
 * record whose frame holds the byte, or the segment's first record for a header byte; the
 * reader refuses with the same record. */
static void tamper_every_byte(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  build_log(dir, 900, 24, 5, SPOIL_NONE);
  cnv_ledger_verify_report rep;
  assert_int_equal(cnv_ledger_verify_dir(dir, pk, &rep), CNV_OK);
  uint64_t segs = rep.segments, flips = 0;
  assert_true(segs >= 3);
  for (uint64_t first = 0; first < 24; first++) {
    char name[CNV__LSEG_NAME_MAX], p[1024];
    cnv__lseg_name(name, first);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "r+b");
    if (!fp) continue;
    static uint8_t img[1 << 14];
    size_t len = fread(img, 1, sizeof img, fp);
    assert_true(len > CNV__LSEG_HEADER && len < sizeof img);
    for (size_t at = 0; at < len; at++) {
      /* the record holding byte at */
      uint64_t want = first;
      for (size_t off = CNV__LSEG_HEADER; off + 4 + cnv__lget32(img + off) + 32 <= at; want++) {
        off += 4 + cnv__lget32(img + off) + 32;
      }
      for (int bit = 0; bit < 8; bit += 7) {
        uint8_t b = (uint8_t)(img[at] ^ (1u << bit));
        assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
        assert_int_equal(fwrite(&b, 1, 1, fp), 1);
        assert_int_equal(fflush(fp), 0);
        cnv_status st = cnv_ledger_verify_dir(dir, pk, &rep);
        if (st != CNV_ELEDGER_CORRUPT || rep.bad_index != want) {
          print_error("segment %llu byte %zu bit %d: status %d bad %llu want %llu\n", (unsigned long long)first, at,
                      bit, (int)st, (unsigned long long)rep.bad_index, (unsigned long long)want);
        }
        assert_int_equal(st, CNV_ELEDGER_CORRUPT);
        assert_int_equal(rep.bad_index, want);
        assert_int_equal(rep.bad_status, CNV_ELEDGER_CORRUPT);
        cnv_ledger_reader *r = NULL;
        uint64_t bad = 0;
        assert_int_equal(cnv_ledger_reader_open(dir, &r, &bad), CNV_ELEDGER_CORRUPT);
        assert_int_equal(bad, want);
        assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
        assert_int_equal(fwrite(&img[at], 1, 1, fp), 1);
        assert_int_equal(fflush(fp), 0);
        flips++;
      }
    }
    fclose(fp);
  }
  assert_true(flips > 2 * 2000);
  assert_int_equal(cnv_ledger_verify_dir(dir, pk, &rep), CNV_OK);
  lfix_rmdir(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(verify_intact_and_reader),
      cmocka_unit_test(verify_spoiled_logs),
      cmocka_unit_test(tamper_every_byte),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
