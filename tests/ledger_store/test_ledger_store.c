/* The segment store: append, sync, read back, reopen; rotation past segment_bytes (each new
 * segment chained to the last); max_bytes refused with nothing written; a torn tail cut back
 * and reported at every cut of the last segment; damage elsewhere refused. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lfix.h"

static uint8_t body[CNV__LBODY_MAX], pay[CNV_LEDGER_MAX_PAYLOAD];

/* Appends n records (payload sizes varying) through the store, chain c. */
static void append_n(cnv__lstore *s, lfix_chain *c, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    cnv_ledger_entry e;
    lfix_entry(&e, CNV_LREC_APP, (uint32_t)((c->next * 53) % 300), pay, c->next);
    uint8_t leaf[32];
    size_t len = lfix_next(c, &e, body, leaf);
    assert_true(len > 0);
    assert_int_equal(cnv__lstore_append(s, c->next - 1, body, len, leaf), CNV_OK);
  }
}

/* Record i's body as the chain built it: rebuilt from scratch. */
static size_t expect_body(uint64_t index, uint8_t *out) {
  lfix_chain c = {0};
  size_t len = 0;
  uint8_t leaf[32];
  for (uint64_t i = 0; i <= index; i++) {
    cnv_ledger_entry e;
    lfix_entry(&e, CNV_LREC_APP, (uint32_t)((c.next * 53) % 300), pay, c.next);
    len = lfix_next(&c, &e, out, leaf);
  }
  return len;
}

typedef struct collect {
  uint64_t n;
  uint8_t last[32];
} collect;

static int on_rec(void *ctx, const cnv__lscan_rec *r) {
  collect *c = ctx;
  if (r->index != c->n) return 1;
  c->n++;
  memcpy(c->last, r->leaf, 32);
  return 0;
}

static uint64_t file_size(const char *dir, uint64_t first) {
  char name[CNV__LSEG_NAME_MAX], p[1024];
  cnv__lseg_name(name, first);
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat sb;
  if (stat(p, &sb) != 0) return UINT64_MAX;
  return (uint64_t)sb.st_size;
}

static void append_read_reopen(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  assert_non_null(dir);
  cnv__lstore *s = NULL;
  cnv_ledger_recovery rec;
  assert_int_equal(cnv__lstore_open(dir, 0, 0, NULL, NULL, &s, &rec), CNV_OK);
  assert_int_equal(rec.records, 0);
  assert_int_equal(rec.segments, 0);
  lfix_chain c = {0};
  append_n(s, &c, 20);
  uint8_t got[CNV__LBODY_MAX], want[CNV__LBODY_MAX];
  size_t n = 0;
  /* not readable before sync */
  assert_int_equal(cnv__lstore_read(s, 0, got, sizeof got, &n), CNV_ERANGE);
  assert_int_equal(cnv__lstore_sync(s, 1), CNV_OK);
  for (uint64_t i = 0; i < 20; i++) {
    assert_int_equal(cnv__lstore_read(s, i, got, sizeof got, &n), CNV_OK);
    size_t wl = expect_body(i, want);
    assert_int_equal(n, wl);
    assert_memory_equal(got, want, wl);
  }
  assert_int_equal(cnv__lstore_read(s, 20, got, sizeof got, &n), CNV_ERANGE);
  assert_int_equal(cnv__lstore_read(s, 3, got, 10, &n), CNV_EFULL);
  /* out of order or malformed appends */
  assert_int_equal(cnv__lstore_append(s, 5, body, 204, body), CNV_EINVAL);
  assert_int_equal(cnv__lstore_append(s, 20, body, 203, body), CNV_ERANGE);
  uint64_t bytes = cnv__lstore_bytes(s);
  assert_int_equal(cnv__lstore_segments(s), 1);
  cnv__lstore_close(s);
  assert_int_equal(file_size(dir, 0), bytes);

  collect col = {0};
  assert_int_equal(cnv__lstore_open(dir, 0, 0, on_rec, &col, &s, &rec), CNV_OK);
  assert_int_equal(rec.records, 20);
  assert_int_equal(rec.segments, 1);
  assert_int_equal(rec.torn_bytes, 0);
  assert_int_equal(col.n, 20);
  assert_memory_equal(col.last, c.prev, 32);
  assert_int_equal(cnv__lstore_bytes(s), bytes);
  append_n(s, &c, 5);
  assert_int_equal(cnv__lstore_sync(s, 2), CNV_OK);
  assert_int_equal(cnv__lstore_read(s, 24, got, sizeof got, &n), CNV_OK);
  size_t wl = expect_body(24, want);
  assert_int_equal(n, wl);
  assert_memory_equal(got, want, wl);
  cnv__lstore_close(s);
  col.n = 0;
  assert_int_equal(cnv__lstore_open(dir, 0, 0, on_rec, &col, &s, &rec), CNV_OK);
  assert_int_equal(rec.records, 25);
  cnv__lstore_close(s);
  lfix_rmdir(dir);
  free(dir);
}

static void rotation(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  cnv__lstore *s = NULL;
  cnv_ledger_recovery rec;
  assert_int_equal(cnv__lstore_open(dir, 2000, 0, NULL, NULL, &s, &rec), CNV_OK);
  lfix_chain c = {0};
  for (int b = 0; b < 10; b++) {
    append_n(s, &c, 7);
    assert_int_equal(cnv__lstore_sync(s, 1), CNV_OK);
  }
  uint64_t segs = cnv__lstore_segments(s);
  assert_true(segs > 5);
  uint8_t got[CNV__LBODY_MAX], want[CNV__LBODY_MAX];
  size_t n = 0;
  for (uint64_t i = 0; i < 70; i++) {
    assert_int_equal(cnv__lstore_read(s, i, got, sizeof got, &n), CNV_OK);
    size_t wl = expect_body(i, want);
    assert_int_equal(n, wl);
    assert_memory_equal(got, want, wl);
  }
  uint64_t bytes = cnv__lstore_bytes(s);
  cnv__lstore_close(s);
  /* each segment passed 2000 bytes by less than one frame before the next began */
  collect col = {0};
  cnv__lstore_found f;
  assert_int_equal(cnv__lstore_open_ex(dir, true, 0, 0, on_rec, &col, NULL, &f), CNV_OK);
  assert_int_equal(f.records, 70);
  assert_int_equal(f.segments, segs);
  assert_int_equal(f.bytes, bytes);
  uint64_t total = 0, first = 0;
  for (uint64_t k = 0; k < segs; k++) {
    /* find the segment starting at first: its size, then the next first index */
    uint64_t sz = file_size(dir, first);
    assert_true(sz != UINT64_MAX);
    if (k + 1 < segs) {
      assert_true(sz >= 2000);
      assert_true(sz < 2000 + CNV__LFRAME_OVERHEAD + CNV__LBODY_MAX);
    }
    total += sz;
    uint64_t nx = first + 1;
    while (file_size(dir, nx) == UINT64_MAX && nx < 70) nx++;
    first = nx;
  }
  assert_int_equal(total, bytes);
  /* reopened for writing, it goes on in the last segment */
  assert_int_equal(cnv__lstore_open(dir, 2000, 0, NULL, NULL, &s, &rec), CNV_OK);
  assert_int_equal(rec.segments, segs);
  append_n(s, &c, 30);
  assert_int_equal(cnv__lstore_sync(s, 1), CNV_OK);
  assert_true(cnv__lstore_segments(s) > segs);
  cnv__lstore_close(s);
  col.n = 0;
  assert_int_equal(cnv__lstore_open_ex(dir, true, 0, 0, on_rec, &col, NULL, &f), CNV_OK);
  assert_int_equal(col.n, 100);
  assert_memory_equal(col.last, c.prev, 32);
  lfix_rmdir(dir);
  free(dir);
}

static void max_bytes(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  cnv__lstore *s = NULL;
  /* room for the header and a few frames of at most 4 + 504 + 32 bytes */
  const uint64_t cap = 3000;
  assert_int_equal(cnv__lstore_open(dir, 0, cap, NULL, NULL, &s, NULL), CNV_OK);
  lfix_chain c = {0};
  uint64_t ok = 0;
  cnv_status st = CNV_OK;
  uint8_t leaf[32];
  size_t len = 0;
  for (;;) {
    cnv_ledger_entry e;
    lfix_entry(&e, CNV_LREC_APP, (uint32_t)((c.next * 53) % 300), pay, c.next);
    lfix_chain save = c;
    len = lfix_next(&c, &e, body, leaf);
    uint64_t before = cnv__lstore_bytes(s);
    st = cnv__lstore_append(s, c.next - 1, body, len, leaf);
    if (st != CNV_OK) {
      c = save;
      assert_int_equal(cnv__lstore_bytes(s), before);
      assert_true(before + CNV__LFRAME_OVERHEAD + len > cap);
      break;
    }
    ok++;
  }
  assert_int_equal(st, CNV_EFULL);
  assert_true(ok >= 3);
  assert_int_equal(cnv__lstore_sync(s, 1), CNV_OK);
  assert_true(cnv__lstore_bytes(s) <= cap);
  /* refused again; a smaller record may still fit */
  assert_int_equal(cnv__lstore_append(s, c.next, body, len, leaf), CNV_EFULL);
  uint64_t bytes = cnv__lstore_bytes(s);
  cnv__lstore_close(s);
  assert_int_equal(file_size(dir, 0), bytes);
  cnv_ledger_recovery rec;
  assert_int_equal(cnv__lstore_open(dir, 0, cap, NULL, NULL, &s, &rec), CNV_OK);
  assert_int_equal(rec.records, ok);
  cnv__lstore_close(s);
  lfix_rmdir(dir);
  free(dir);
}

static void reopen_after_every_cut(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  cnv__lstore *s = NULL;
  assert_int_equal(cnv__lstore_open(dir, 1500, 0, NULL, NULL, &s, NULL), CNV_OK);
  lfix_chain c = {0};
  append_n(s, &c, 12);
  assert_int_equal(cnv__lstore_sync(s, 1), CNV_OK);
  uint64_t segs = cnv__lstore_segments(s);
  assert_true(segs >= 2);
  cnv__lstore_close(s);
  /* the last segment's first index and contents */
  uint64_t last_first = 11;
  while (file_size(dir, last_first) == UINT64_MAX) last_first--;
  char name[CNV__LSEG_NAME_MAX], p[1024];
  cnv__lseg_name(name, last_first);
  snprintf(p, sizeof p, "%s/%s", dir, name);
  uint64_t full = file_size(dir, last_first);
  static uint8_t orig[1 << 16];
  assert_true(full <= sizeof orig);
  FILE *fp = fopen(p, "rb");
  assert_int_equal(fread(orig, 1, full, fp), full);
  fclose(fp);
  /* frame ends in the last segment */
  uint64_t ends[64], ne = 0;
  for (uint64_t off = CNV__LSEG_HEADER; off < full;) {
    off += 4 + cnv__lget32(orig + off) + 32;
    ends[ne++] = off;
  }
  for (uint64_t cut = 0; cut < full; cut++) {
    fp = fopen(p, "wb");
    assert_int_equal(fwrite(orig, 1, cut, fp), cut);
    fclose(fp);
    uint64_t keep = 0;
    while (keep < ne && ends[keep] <= cut) keep++;
    cnv_ledger_recovery rec;
    collect col = {0};
    assert_int_equal(cnv__lstore_open(dir, 1500, 0, on_rec, &col, &s, &rec), CNV_OK);
    assert_int_equal(rec.records, last_first + keep);
    assert_int_equal(col.n, last_first + keep);
    uint64_t good = cut < CNV__LSEG_HEADER ? 0 : (keep ? ends[keep - 1] : CNV__LSEG_HEADER);
    assert_int_equal(rec.torn_bytes, cut - good);
    cnv__lstore_close(s);
    /* the tail was cut back (a torn header: the file is gone) */
    assert_int_equal(file_size(dir, last_first), good ? good : UINT64_MAX);
    assert_int_equal(rec.segments, good ? segs : segs - 1);
  }
  /* cut inside the last segment's header, then inside its first frame: the next append goes
     on from the segment before (a new segment, or the same one), chained to it */
  lfix_chain base = {.next = last_first};
  uint8_t prevbody[CNV__LBODY_MAX];
  assert_int_equal(cnv_ledger_leaf_hash(prevbody, expect_body(last_first - 1, prevbody), base.prev), CNV_OK);
  for (int k = 0; k < 2; k++) {
    uint64_t cut = k == 0 ? 10 : CNV__LSEG_HEADER + 100;
    fp = fopen(p, "wb");
    assert_int_equal(fwrite(orig, 1, cut, fp), cut);
    fclose(fp);
    cnv_ledger_recovery rec;
    assert_int_equal(cnv__lstore_open(dir, 1500, 0, NULL, NULL, &s, &rec), CNV_OK);
    assert_int_equal(rec.records, last_first);
    lfix_chain c2 = base;
    append_n(s, &c2, 3);
    cnv__lstore_close(s);
    collect col = {0};
    cnv__lstore_found f;
    assert_int_equal(cnv__lstore_open_ex(dir, true, 0, 0, on_rec, &col, NULL, &f), CNV_OK);
    assert_int_equal(f.records, last_first + 3);
    assert_memory_equal(col.last, c2.prev, 32);
    assert_int_equal(f.torn_bytes, 0);
  }
  /* restore, then damage a complete frame of an earlier segment: refused, named */
  fp = fopen(p, "wb");
  assert_int_equal(fwrite(orig, 1, full, fp), full);
  fclose(fp);
  cnv__lseg_name(name, 0);
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_RDWR);
  uint8_t b;
  assert_int_equal(pread(fd, &b, 1, CNV__LSEG_HEADER + 100), 1);
  b ^= 0x10;
  assert_int_equal(pwrite(fd, &b, 1, CNV__LSEG_HEADER + 100), 1);
  cnv__lstore_found f;
  assert_int_equal(cnv__lstore_open_ex(dir, false, 1500, 0, NULL, NULL, &s, &f), CNV_ELEDGER_CORRUPT);
  assert_int_equal(f.bad_index, 0);
  assert_null(s);
  /* a torn frame in a segment that is not the last: damage, not a tail */
  b ^= 0x10;
  assert_int_equal(pwrite(fd, &b, 1, CNV__LSEG_HEADER + 100), 1);
  struct stat sb;
  assert_int_equal(fstat(fd, &sb), 0);
  assert_int_equal(ftruncate(fd, sb.st_size - 1), 0);
  close(fd);
  assert_int_equal(cnv__lstore_open_ex(dir, false, 1500, 0, NULL, NULL, &s, &f), CNV_ELEDGER_CORRUPT);
  assert_true(f.bad_index < last_first);
  lfix_rmdir(dir);
  free(dir);
}

static void readonly_open(void **state) {
  (void)state;
  char *dir = lfix_tmpdir();
  cnv__lstore_found f;
  cnv__lstore *s = NULL;
  assert_int_equal(cnv__lstore_open_ex(dir, true, 0, 0, NULL, NULL, &s, &f), CNV_ENOTFOUND);
  char p[1024];
  snprintf(p, sizeof p, "%s/absent", dir);
  assert_int_equal(cnv__lstore_open_ex(p, true, 0, 0, NULL, NULL, &s, &f), CNV_ENOTFOUND);
  /* a stray file that is not a segment is ignored; a segment not starting at 0 is a gap */
  snprintf(p, sizeof p, "%s/seg-0000000000000003.log", dir);
  FILE *fp = fopen(p, "wb");
  uint8_t h[CNV__LSEG_HEADER];
  uint8_t z[32] = {0};
  cnv__lseg_header(h, 3, z);
  fwrite(h, 1, sizeof h, fp);
  fclose(fp);
  assert_int_equal(cnv__lstore_open_ex(dir, true, 0, 0, NULL, NULL, &s, &f), CNV_ELEDGER_CORRUPT);
  assert_int_equal(f.bad_index, 0);
  unlink(p);
  lfix_rmdir(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(append_read_reopen),
      cmocka_unit_test(rotation),
      cmocka_unit_test(max_bytes),
      cmocka_unit_test(reopen_after_every_cut),
      cmocka_unit_test(readonly_open),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
