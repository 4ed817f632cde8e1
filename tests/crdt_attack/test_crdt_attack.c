/* Attacks on the replicator's receive path: a message may hold at most one record of each
 * kind per local value, so one message costs at most one merge and one state hash per value
 * (docs/crdt.md "Replication"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/crdt.h>

#include "crdt/repl_wire.h"

static cnv_status drop(void *ctx, uint64_t to, const uint8_t *msg, size_t len) {
  (void)ctx;
  (void)to;
  (void)msg;
  (void)len;
  return CNV_OK;
}

static cnv_crdt_repl *receiver(void) {
  cnv_crdt_repl_config cfg = {.replica = 2, .transport = {.send = drop}};
  cnv_crdt_repl *r = NULL;
  assert_int_equal(cnv_crdt_repl_create(&cfg, &r), CNV_OK);
  assert_int_equal(cnv_crdt_repl_add(r, "set", CNV_CRDT_ORSET), CNV_OK);
  return r;
}

/* The encoding of an OR-Set of replica 1 holding elem. */
static size_t orset_with(const char *elem, uint8_t *out, size_t cap) {
  cnv_crdt *c = NULL;
  size_t len = 0;
  assert_int_equal(cnv_crdt_create(CNV_CRDT_ORSET, 1, &c), CNV_OK);
  assert_int_equal(cnv_crdt_orset_add(c, elem, strlen(elem), NULL), CNV_OK);
  assert_int_equal(cnv_crdt_encode(c, out, cap, &len), CNV_OK);
  cnv_crdt_destroy(c);
  return len;
}

static void put_full_delta(repl_buf *b, const char *name, const uint8_t *enc, size_t len) {
  assert_int_equal(repl_buf_reserve(b, 24 + strlen(name) + len), CNV_OK);
  repl_put_u8(b, REPL_DELTA);
  repl_put_u8(b, (uint8_t)strlen(name));
  repl_put_bytes(b, name, strlen(name));
  repl_put_u8(b, CNV_CRDT_ORSET);
  repl_put_u8(b, 1);
  repl_put_u64(b, 0);
  repl_put_u64(b, 1);
  repl_put_u32(b, (uint32_t)len);
  repl_put_bytes(b, enc, len);
  b->count++;
}

static void put_digest(repl_buf *b, const char *name, uint64_t hash) {
  assert_int_equal(repl_buf_reserve(b, 19 + strlen(name)), CNV_OK);
  repl_put_u8(b, REPL_DIGEST);
  repl_put_u8(b, (uint8_t)strlen(name));
  repl_put_bytes(b, name, strlen(name));
  repl_put_u8(b, CNV_CRDT_ORSET);
  repl_put_u64(b, 0);
  repl_put_u64(b, hash);
  b->count++;
}

static cnv_status contains_fn(void *ctx, const cnv_crdt *state) {
  const char *elem = ctx;
  return cnv_crdt_orset_contains(state, elem, strlen(elem)) ? CNV_OK : CNV_ENOTFOUND;
}

static bool holds(cnv_crdt_repl *r, const char *elem) {
  return cnv_crdt_repl_read(r, "set", contains_fn, (void *)elem) == CNV_OK;
}

/* Two DELTA records for one value: refused whole, nothing merged, counted. */
static void test_repeated_delta_refused(void **state) {
  (void)state;
  cnv_crdt_repl *r = receiver();
  uint8_t x[64], y[64];
  size_t xl = orset_with("x", x, sizeof x), yl = orset_with("y", y, sizeof y);
  repl_buf b = {0};
  assert_int_equal(repl_begin(&b, 7, 0, 0), CNV_OK);
  put_full_delta(&b, "set", x, xl);
  put_full_delta(&b, "set", y, yl);
  repl_finish(&b);
  assert_int_equal(cnv_crdt_repl_receive(r, 1, b.p, b.len), CNV_ECRDT_MALFORMED);
  assert_false(holds(r, "x"));
  assert_false(holds(r, "y"));
  cnv_crdt_repl_stats st;
  cnv_crdt_repl_stats_get(r, &st);
  assert_int_equal(st.malformed, 1);
  /* one record per value is merged; repeats of a name the receiver does not share are
   * skipped unread */
  assert_int_equal(repl_begin(&b, 7, 0, 0), CNV_OK);
  put_full_delta(&b, "set", x, xl);
  put_full_delta(&b, "other", y, yl);
  put_full_delta(&b, "other", y, yl);
  repl_finish(&b);
  assert_int_equal(cnv_crdt_repl_receive(r, 1, b.p, b.len), CNV_OK);
  assert_true(holds(r, "x"));
  free(b.p);
  cnv_crdt_repl_destroy(r);
}

/* Two DIGEST records for one value: refused; a DELTA and a DIGEST for one value: accepted. */
static void test_repeated_digest_refused(void **state) {
  (void)state;
  cnv_crdt_repl *r = receiver();
  uint8_t x[64];
  size_t xl = orset_with("x", x, sizeof x);
  repl_buf b = {0};
  assert_int_equal(repl_begin(&b, 7, 0, 0), CNV_OK);
  put_digest(&b, "set", 1);
  put_digest(&b, "set", 2);
  repl_finish(&b);
  assert_int_equal(cnv_crdt_repl_receive(r, 1, b.p, b.len), CNV_ECRDT_MALFORMED);
  assert_int_equal(repl_begin(&b, 7, 0, 0), CNV_OK);
  put_full_delta(&b, "set", x, xl);
  put_digest(&b, "set", 2);
  repl_finish(&b);
  assert_int_equal(cnv_crdt_repl_receive(r, 1, b.p, b.len), CNV_OK);
  assert_true(holds(r, "x"));
  free(b.p);
  cnv_crdt_repl_destroy(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_repeated_delta_refused),
      cmocka_unit_test(test_repeated_digest_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
