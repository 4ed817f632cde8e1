/* The record body codec and the segment scan: every kind and payload size round-trips; every
 * malformed body is refused; a segment cut at every length scans as its complete records
 * plus a torn tail, never as damage; damage before the tail is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "lfix.h"

static uint8_t body[CNV__LBODY_MAX + 8], pay[CNV_LEDGER_MAX_PAYLOAD + 1];
static uint8_t seg[1 << 16];

static void roundtrip_every_kind_and_size(void **state) {
  (void)state;
  uint8_t prev[32];
  for (int i = 0; i < 32; i++) prev[i] = (uint8_t)(0xa0 + i);
  for (uint16_t kind = CNV_LREC_GENESIS; kind <= CNV_LREC_APP; kind++) {
    for (uint32_t plen = 0; plen <= CNV_LEDGER_MAX_PAYLOAD; plen++) {
      cnv_ledger_entry e, d;
      lfix_entry(&e, kind, plen, pay, plen * 17 + kind);
      size_t len = 0;
      assert_int_equal(cnv_ledger_entry_encode(&e, 1000 + plen, prev, body, sizeof body, &len), CNV_OK);
      assert_int_equal(len, CNV_LEDGER_BODY_FIXED + plen);
      uint64_t idx = 0;
      uint8_t p2[32];
      assert_int_equal(cnv_ledger_entry_decode(body, len, &d, &idx, p2), CNV_OK);
      assert_int_equal(idx, 1000 + plen);
      assert_memory_equal(p2, prev, 32);
      assert_int_equal(d.kind, e.kind);
      assert_int_equal(d.detail, e.detail);
      assert_int_equal(d.status, e.status);
      assert_int_equal(d.agent, e.agent);
      assert_int_equal(d.flags, e.flags);
      assert_int_equal(d.time_ms, e.time_ms);
      assert_int_equal(d.start_ms, e.start_ms);
      assert_int_equal(d.token_time, e.token_time);
      assert_int_equal(d.ticket, e.ticket);
      assert_int_equal(d.capability, e.capability);
      assert_int_equal(d.epoch, e.epoch);
      assert_memory_equal(d.key, e.key, 32);
      assert_memory_equal(d.digest, e.digest, 32);
      assert_memory_equal(d.result, e.result, 32);
      assert_int_equal(d.payload_len, plen);
      if (plen) {
        assert_ptr_equal(d.payload, body + CNV_LEDGER_BODY_FIXED);
        assert_memory_equal(d.payload, pay, plen);
      }
      /* the decoded entry encodes back to the same bytes */
      static uint8_t again[CNV__LBODY_MAX];
      size_t len2 = 0;
      assert_int_equal(cnv_ledger_entry_encode(&d, idx, p2, again, sizeof again, &len2), CNV_OK);
      assert_int_equal(len2, len);
      assert_memory_equal(again, body, len);
    }
  }
}

static void fixed_layout(void **state) {
  (void)state;
  /* the documented offsets: a field set alone lands at its place, little-endian */
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_ADMIT;
  e.ticket = 0x0102030405060708ull;
  e.status = -2;
  uint8_t prev[32] = {0};
  prev[0] = 0xee;
  size_t len = 0;
  assert_int_equal(cnv_ledger_entry_encode(&e, 0x1122334455667788ull, prev, body, sizeof body, &len), CNV_OK);
  assert_int_equal(len, 204);
  assert_int_equal(body[0], 0xee);
  assert_int_equal(body[32], 0x88);
  assert_int_equal(body[39], 0x11);
  assert_int_equal(body[40], CNV_LREC_ADMIT);
  assert_int_equal(body[44], 0xfe);
  assert_int_equal(body[47], 0xff);
  assert_int_equal(body[80], 0x08);
  assert_int_equal(body[87], 0x01);
  assert_int_equal(cnv__lget32(body + 200), 0);
}

static void encode_rejects(void **state) {
  (void)state;
  cnv_ledger_entry e;
  uint8_t prev[32] = {0};
  size_t len = 0;
  lfix_entry(&e, CNV_LREC_APP, 10, pay, 1);
  assert_int_equal(cnv_ledger_entry_encode(NULL, 0, prev, body, sizeof body, &len), CNV_EINVAL);
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, NULL, body, sizeof body, &len), CNV_EINVAL);
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, NULL, sizeof body, &len), CNV_EINVAL);
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, sizeof body, NULL), CNV_EINVAL);
  e.kind = 0;
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, sizeof body, &len), CNV_EINVAL);
  e.kind = CNV_LREC_APP + 1;
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, sizeof body, &len), CNV_EINVAL);
  e.kind = CNV_LREC_APP;
  e.payload = NULL;
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, sizeof body, &len), CNV_EINVAL);
  e.payload = pay;
  e.payload_len = CNV_LEDGER_MAX_PAYLOAD + 1;
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, sizeof body, &len), CNV_ERANGE);
  e.payload_len = 10;
  memset(body, 0x77, sizeof body);
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, CNV_LEDGER_BODY_FIXED + 9, &len), CNV_EFULL);
  assert_int_equal(body[0], 0x77); /* nothing written */
  assert_int_equal(cnv_ledger_entry_encode(&e, 0, prev, body, CNV_LEDGER_BODY_FIXED + 10, &len), CNV_OK);
}

static void decode_rejects(void **state) {
  (void)state;
  cnv_ledger_entry e;
  uint8_t prev[32] = {0};
  size_t len = 0;
  lfix_entry(&e, CNV_LREC_COMPLETE, 40, pay, 3);
  assert_int_equal(cnv_ledger_entry_encode(&e, 9, prev, body, sizeof body, &len), CNV_OK);
  cnv_ledger_entry d;
  assert_int_equal(cnv_ledger_entry_decode(NULL, len, &d, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_ledger_entry_decode(body, len, NULL, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_ledger_entry_decode(body, len, &d, NULL, NULL), CNV_OK);
  /* every shorter or longer length */
  for (size_t n = 0; n < len + 8; n++) {
    if (n == len) continue;
    assert_int_equal(cnv_ledger_entry_decode(body, n, &d, NULL, NULL), CNV_ELEDGER_CORRUPT);
  }
  /* payload length disagreeing with the body, or over the limit */
  uint8_t save[4];
  memcpy(save, body + 200, 4);
  cnv__lput32(body + 200, 41);
  assert_int_equal(cnv_ledger_entry_decode(body, len, &d, NULL, NULL), CNV_ELEDGER_CORRUPT);
  cnv__lput32(body + 200, 39);
  assert_int_equal(cnv_ledger_entry_decode(body, len, &d, NULL, NULL), CNV_ELEDGER_CORRUPT);
  cnv__lput32(body + 200, CNV_LEDGER_MAX_PAYLOAD + 1);
  assert_int_equal(cnv_ledger_entry_decode(body, CNV_LEDGER_BODY_FIXED + CNV_LEDGER_MAX_PAYLOAD + 1, &d, NULL, NULL),
                   CNV_ELEDGER_CORRUPT);
  cnv__lput32(body + 200, 0xffffffffu);
  assert_int_equal(cnv_ledger_entry_decode(body, len, &d, NULL, NULL), CNV_ELEDGER_CORRUPT);
  memcpy(body + 200, save, 4);
  /* unknown kinds */
  for (uint32_t k = 0; k < 0x10000; k++) {
    cnv__lput16(body + 40, (uint16_t)k);
    cnv_status want = (k >= CNV_LREC_GENESIS && k <= CNV_LREC_APP) ? CNV_OK : CNV_ELEDGER_CORRUPT;
    assert_int_equal(cnv_ledger_entry_decode(body, len, &d, NULL, NULL), want);
  }
}

static void token_hash(void **state) {
  (void)state;
  uint8_t a[32], b[32];
  const uint8_t t[] = "token bytes";
  assert_int_equal(cnv_ledger_token_hash(t, sizeof t - 1, a), CNV_OK);
  assert_int_equal(cnv_ledger_token_hash(t, sizeof t - 2, b), CNV_OK);
  assert_memory_not_equal(a, b, 32);
  assert_int_equal(cnv_ledger_token_hash(NULL, 0, b), CNV_OK);
  assert_int_equal(cnv_ledger_token_hash(NULL, 1, b), CNV_EINVAL);
  assert_int_equal(cnv_ledger_token_hash(t, 1, NULL), CNV_EINVAL);
}

/* The leaf is H(0x00 || body[0 .. 88) || H(body[88 ..])), computed here by hand; the
 * appender's content hash (from the entry) agrees with the one from the encoded body; every
 * body byte changes the leaf. */
static void leaf_hash_two_levels(void **state) {
  (void)state;
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_APP;
  e.detail = 7;
  e.status = -3;
  e.ticket = 99;
  memset(e.key, 0x11, 32);
  memset(e.result, 0x22, 32);
  uint8_t payload[40];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
  e.payload = payload;
  e.payload_len = sizeof payload;
  uint8_t prev[32];
  memset(prev, 0xA5, sizeof prev);
  size_t len = 0;
  assert_int_equal(cnv_ledger_entry_encode(&e, 12345, prev, body, sizeof body, &len), CNV_OK);
  uint8_t content[32], in[121], want[32], got[32];
  assert_int_equal(crypto_generichash(content, 32, body + 88, len - 88, NULL, 0), 0);
  in[0] = 0x00;
  memcpy(in + 1, body, 88);
  memcpy(in + 89, content, 32);
  assert_int_equal(crypto_generichash(want, 32, in, sizeof in, NULL, 0), 0);
  assert_int_equal(cnv_ledger_leaf_hash(body, len, got), CNV_OK);
  assert_memory_equal(got, want, 32);
  uint8_t c2[32], viaentry[32];
  cnv__lcontent_entry(&e, c2);
  assert_memory_equal(c2, content, 32);
  cnv__lleaf_head(body, c2, viaentry);
  assert_memory_equal(viaentry, want, 32);
  for (size_t i = 0; i < len; i++) {
    body[i] ^= 0x01;
    assert_int_equal(cnv_ledger_leaf_hash(body, len, got), CNV_OK);
    assert_memory_not_equal(got, want, 32);
    body[i] ^= 0x01;
  }
  assert_int_equal(cnv_ledger_leaf_hash(body, len - 1, got), CNV_OK);
  assert_memory_not_equal(got, want, 32);
  /* the appender's content hash agrees with the body's for any payload size */
  static const uint32_t sizes[] = {0, 1, 12, 13, 64, 200, CNV_LEDGER_MAX_PAYLOAD};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    e.payload = pay;
    e.payload_len = sizes[k];
    assert_int_equal(cnv_ledger_entry_encode(&e, k, prev, body, sizeof body, &len), CNV_OK);
    assert_int_equal(crypto_generichash(content, 32, body + 88, len - 88, NULL, 0), 0);
    cnv__lcontent_entry(&e, c2);
    assert_memory_equal(c2, content, 32);
  }
  assert_int_equal(cnv_ledger_leaf_hash(body, CNV_LEDGER_BODY_FIXED - 1, got), CNV_ERANGE);
  assert_int_equal(cnv_ledger_leaf_hash(NULL, len, got), CNV_EINVAL);
  assert_int_equal(cnv_ledger_leaf_hash(body, len, NULL), CNV_EINVAL);
}

typedef struct seen {
  uint64_t n, first;
} seen;

static int count_rec(void *ctx, const cnv__lscan_rec *r) {
  seen *s = ctx;
  if (r->index != s->first + s->n) return 1;
  s->n++;
  return 0;
}

static void scan_whole_and_every_cut(void **state) {
  (void)state;
  lfix_chain c = {.next = 5};
  memset(c.prev, 0x42, 32);
  uint8_t start_prev[32];
  memcpy(start_prev, c.prev, 32);
  /* frame ends, to know how many records a cut keeps */
  size_t ends[8];
  size_t len = CNV__LSEG_HEADER;
  for (int i = 0; i < 8; i++) {
    lfix_chain cc = {.next = 5};
    memcpy(cc.prev, start_prev, 32);
    ends[i] = lfix_segment(&cc, (uint64_t)i + 1, seg);
  }
  len = lfix_segment(&c, 8, seg);
  assert_int_equal(len, ends[7]);
  cnv__lscan_result res;
  seen s = {.first = 5};
  assert_int_equal(cnv__lseg_scan(seg, len, count_rec, &s, &res), CNV_OK);
  assert_int_equal(res.records, 8);
  assert_int_equal(s.n, 8);
  assert_int_equal(res.good_bytes, len);
  assert_int_equal(res.torn_bytes, 0);
  assert_memory_equal(res.last, c.prev, 32);
  for (size_t cut = 0; cut <= len; cut++) {
    uint64_t want = 0;
    while (want < 8 && ends[want] <= cut) want++;
    assert_int_equal(cnv__lseg_scan(seg, cut, NULL, NULL, &res), CNV_OK);
    assert_int_equal(res.records, want);
    assert_int_equal(res.good_bytes + res.torn_bytes, cut);
    if (cut >= CNV__LSEG_HEADER) {
      assert_int_equal(res.good_bytes, want ? ends[want - 1] : CNV__LSEG_HEADER);
    } else {
      assert_int_equal(res.good_bytes, 0);
    }
    assert_int_equal(res.bad_index, CNV_LEDGER_NONE);
  }
  /* a stop from the callback ends the scan there */
  s.n = 0;
  s.first = 6; /* the first record (5) does not match: stops at once */
  assert_int_equal(cnv__lseg_scan(seg, len, count_rec, &s, &res), CNV_OK);
  assert_int_equal(res.records, 1);
}

static void scan_names_damage(void **state) {
  (void)state;
  lfix_chain c = {.next = 0};
  size_t len = lfix_segment(&c, 4, seg);
  cnv__lscan_result res;
  /* every byte of the segment: flipping it is damage (never a torn tail), named */
  for (size_t i = 0; i < len; i++) {
    seg[i] ^= 0x01;
    cnv_status st = cnv__lseg_scan(seg, len, NULL, NULL, &res);
    seg[i] ^= 0x01;
    if (i >= 16 && i < 24) {
      /* the header's first index: the scan reads records from another index, all unlinked */
      assert_int_equal(st, CNV_ELEDGER_CORRUPT);
      continue;
    }
    assert_int_equal(st, CNV_ELEDGER_CORRUPT);
    uint64_t want = 0;
    size_t off = CNV__LSEG_HEADER;
    while (off + 4 + cnv__lget32(seg + off) + 32 <= i) {
      off += 4 + cnv__lget32(seg + off) + 32;
      want++;
    }
    assert_int_equal(res.bad_index, i < CNV__LSEG_HEADER ? 0 : want);
  }
  /* garbage that does not start like a header */
  assert_int_equal(cnv__lseg_scan((const uint8_t *)"XNV", 3, NULL, NULL, &res), CNV_ELEDGER_CORRUPT);
  assert_int_equal(cnv__lseg_scan(NULL, 0, NULL, NULL, &res), CNV_OK);
  assert_int_equal(cnv__lseg_scan(NULL, 1, NULL, NULL, &res), CNV_EINVAL);
  assert_int_equal(cnv__lseg_scan(seg, len, NULL, NULL, NULL), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(roundtrip_every_kind_and_size),
      cmocka_unit_test(fixed_layout),
      cmocka_unit_test(encode_rejects),
      cmocka_unit_test(decode_rejects),
      cmocka_unit_test(token_hash),
      cmocka_unit_test(leaf_hash_two_levels),
      cmocka_unit_test(scan_whole_and_every_cut),
      cmocka_unit_test(scan_names_damage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
