/* The CRDT types one by one: argument checks, counter values, OR-Set add-wins and removal,
 * LWW and MV register semantics, version vector order, the codec's rejections, retirement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cnv/crdt.h>

static cnv_crdt *mk(int type, uint64_t replica) {
  cnv_crdt *c = NULL;
  assert_int_equal(cnv_crdt_create(type, replica, &c), CNV_OK);
  return c;
}

static int64_t value(const cnv_crdt *c) {
  int64_t v = 0;
  assert_int_equal(cnv_crdt_counter_value(c, &v), CNV_OK);
  return v;
}

static size_t enc(const cnv_crdt *c, uint8_t *buf, size_t cap) {
  size_t len = 0;
  assert_int_equal(cnv_crdt_encode(c, buf, cap, &len), CNV_OK);
  return len;
}

static cnv_crdt *roundtrip(const cnv_crdt *c, uint64_t replica) {
  uint8_t buf[4096];
  size_t len = enc(c, buf, sizeof buf);
  cnv_crdt *d = NULL;
  assert_int_equal(cnv_crdt_decode(buf, len, replica, &d), CNV_OK);
  assert_true(cnv_crdt_equal(c, d));
  return d;
}

static void test_args(void **state) {
  (void)state;
  cnv_crdt *c = NULL;
  assert_int_equal(cnv_crdt_create(CNV_CRDT_GCOUNTER, 1, NULL), CNV_EINVAL);
  assert_int_equal(cnv_crdt_create(0, 1, &c), CNV_ERANGE);
  assert_int_equal(cnv_crdt_create(7, 1, &c), CNV_ERANGE);
  assert_null(c);
  cnv_crdt *g = mk(CNV_CRDT_GCOUNTER, 1), *o = mk(CNV_CRDT_ORSET, 1), *z = mk(CNV_CRDT_GCOUNTER, 0);
  assert_int_equal(cnv_crdt_type_of(g), CNV_CRDT_GCOUNTER);
  assert_int_equal(cnv_crdt_type_of(NULL), 0);
  assert_string_equal(cnv_crdt_type_name(cnv_crdt_type_of(o)), "orset");
  assert_int_equal(cnv_crdt_merge(g, o), CNV_EINVAL);
  assert_int_equal(cnv_crdt_merge(NULL, g), CNV_EINVAL);
  assert_int_equal(cnv_crdt_gcounter_inc(z, 1, NULL), CNV_EINVAL);  /* replica 0 */
  assert_int_equal(cnv_crdt_gcounter_inc(g, 1, o), CNV_EINVAL);     /* delta of another type */
  assert_int_equal(cnv_crdt_pncounter_add(g, 1, NULL), CNV_EINVAL); /* wrong type */
  assert_int_equal(cnv_crdt_orset_add(o, "", 0, NULL), CNV_ERANGE);
  uint8_t big[CNV_CRDT_MAX_ELEM + 1] = {0};
  assert_int_equal(cnv_crdt_orset_add(o, big, sizeof big, NULL), CNV_ERANGE);
  assert_int_equal(cnv_crdt_orset_add(o, big, CNV_CRDT_MAX_ELEM, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_retire(g, 9, NULL), CNV_ENOTFOUND);
  assert_int_equal(cnv_crdt_retire(g, 0, NULL), CNV_EINVAL);
  assert_true(cnv_crdt_is_empty(g));
  assert_false(cnv_crdt_is_empty(o));
  cnv_crdt_clear(o);
  assert_true(cnv_crdt_is_empty(o));
  assert_int_equal(cnv_crdt_decode(NULL, 0, 1, &c), CNV_ECRDT_MALFORMED);
  assert_int_equal(cnv_crdt_decode((const uint8_t *)"\x01", 1, 1, NULL), CNV_EINVAL);
  /* A replica whose dots ran out: no dot 0 is ever made. */
  assert_int_equal(cnv_crdt_decode((const uint8_t *)"\x03\x00\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00",
                                   16, 1, &c),
                   CNV_OK);
  assert_int_equal(cnv_crdt_orset_add(c, "x", 1, NULL), CNV_EOVERFLOW);
  assert_int_equal(cnv_crdt_orset_size(c), 0);
  cnv_crdt_destroy(c);
  cnv_crdt_destroy(g);
  cnv_crdt_destroy(o);
  cnv_crdt_destroy(z);
  cnv_crdt_destroy(NULL);
}

static void test_counters(void **state) {
  (void)state;
  cnv_crdt *a = mk(CNV_CRDT_PNCOUNTER, 1), *b = mk(CNV_CRDT_PNCOUNTER, 2), *d = mk(CNV_CRDT_PNCOUNTER, 0);
  assert_int_equal(cnv_crdt_pncounter_add(a, 5, d), CNV_OK);
  assert_int_equal(cnv_crdt_pncounter_add(a, -7, d), CNV_OK);
  assert_int_equal(cnv_crdt_pncounter_add(b, 10, NULL), CNV_OK);
  assert_int_equal(value(a), -2);
  assert_int_equal(cnv_crdt_merge(b, d), CNV_OK);
  assert_int_equal(value(b), 8);
  assert_int_equal(cnv_crdt_merge(b, d), CNV_OK); /* duplicate delivery */
  assert_int_equal(value(b), 8);
  assert_int_equal(cnv_crdt_replicas(b), 2);
  assert_int_equal(cnv_crdt_pncounter_add(a, INT64_MIN, NULL), CNV_EOVERFLOW); /* -2 + MIN */
  assert_int_equal(cnv_crdt_pncounter_add(a, INT64_MIN + 2, NULL), CNV_OK);
  assert_int_equal(value(a), INT64_MIN);
  assert_int_equal(cnv_crdt_pncounter_add(a, -1, NULL), CNV_EOVERFLOW);
  cnv_crdt *g = mk(CNV_CRDT_GCOUNTER, 3);
  assert_int_equal(cnv_crdt_gcounter_inc(g, (uint64_t)INT64_MAX, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_gcounter_inc(g, 1, NULL), CNV_EOVERFLOW);
  assert_int_equal(value(g), INT64_MAX);
  cnv_crdt_destroy(a);
  cnv_crdt_destroy(b);
  cnv_crdt_destroy(d);
  cnv_crdt_destroy(g);
}

static void test_orset_add_wins(void **state) {
  (void)state;
  cnv_crdt *a = mk(CNV_CRDT_ORSET, 1), *b = mk(CNV_CRDT_ORSET, 2);
  cnv_crdt *da = mk(CNV_CRDT_ORSET, 0), *db = mk(CNV_CRDT_ORSET, 0);
  assert_int_equal(cnv_crdt_orset_add(a, "x", 1, da), CNV_OK);
  assert_int_equal(cnv_crdt_merge(b, da), CNV_OK);
  assert_true(cnv_crdt_orset_contains(b, "x", 1));
  cnv_crdt_clear(da);
  /* Concurrent: a adds x again, b removes the x it saw. */
  assert_int_equal(cnv_crdt_orset_add(a, "x", 1, da), CNV_OK);
  assert_int_equal(cnv_crdt_orset_remove(b, "x", 1, db), CNV_OK);
  assert_false(cnv_crdt_orset_contains(b, "x", 1));
  assert_int_equal(cnv_crdt_merge(a, db), CNV_OK);
  assert_int_equal(cnv_crdt_merge(b, da), CNV_OK);
  assert_true(cnv_crdt_orset_contains(a, "x", 1));
  assert_true(cnv_crdt_orset_contains(b, "x", 1));
  assert_true(cnv_crdt_equal(a, b));
  /* A remove after seeing every add removes it everywhere. */
  cnv_crdt_clear(db);
  assert_int_equal(cnv_crdt_orset_remove(b, "x", 1, db), CNV_OK);
  assert_int_equal(cnv_crdt_merge(a, db), CNV_OK);
  assert_false(cnv_crdt_orset_contains(a, "x", 1));
  assert_int_equal(cnv_crdt_orset_size(a), 0);
  /* A late duplicate of the old add does not bring it back. */
  assert_int_equal(cnv_crdt_merge(a, da), CNV_OK);
  assert_false(cnv_crdt_orset_contains(a, "x", 1));
  /* No tombstone: the state is a compact context only. */
  uint8_t buf[256];
  assert_true(enc(a, buf, sizeof buf) <= 12);
  cnv_crdt_destroy(a);
  cnv_crdt_destroy(b);
  cnv_crdt_destroy(da);
  cnv_crdt_destroy(db);
}

static int collect(void *ctx, const void *v, size_t len) {
  char *s = ctx;
  strncat(s, v, len);
  strcat(s, ",");
  return 0;
}

static void test_registers(void **state) {
  (void)state;
  cnv_crdt *a = mk(CNV_CRDT_LWW, 1), *b = mk(CNV_CRDT_LWW, 2);
  const void *v;
  size_t len;
  uint64_t ts;
  assert_int_equal(cnv_crdt_lww_get(a, &v, &len, &ts), CNV_ENOTFOUND);
  assert_int_equal(len, 0);
  assert_int_equal(cnv_crdt_lww_set(a, "old", 3, 10, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_lww_set(b, "new", 3, 10, NULL), CNV_OK); /* same ts: replica 2 wins */
  assert_int_equal(cnv_crdt_merge(a, b), CNV_OK);
  assert_int_equal(cnv_crdt_lww_get(a, &v, &len, &ts), CNV_OK);
  assert_memory_equal(v, "new", 3);
  assert_int_equal(cnv_crdt_lww_set(a, "late", 4, 9, NULL), CNV_OK); /* older timestamp loses */
  assert_int_equal(cnv_crdt_lww_get(a, &v, &len, &ts), CNV_OK);
  assert_int_equal(ts, 10);
  assert_memory_equal(v, "new", 3);
  cnv_crdt_destroy(roundtrip(a, 5));
  cnv_crdt_destroy(a);
  cnv_crdt_destroy(b);

  cnv_crdt *m = mk(CNV_CRDT_MVREG, 1), *n = mk(CNV_CRDT_MVREG, 2);
  char s[64] = "";
  assert_int_equal(cnv_crdt_mvreg_set(m, "a", 1, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_mvreg_set(m, "b", 1, NULL), CNV_OK); /* overwrites a */
  assert_int_equal(cnv_crdt_mvreg_set(n, "c", 1, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_merge(m, n), CNV_OK); /* concurrent: both stay */
  assert_int_equal(cnv_crdt_mvreg_each(m, collect, s), CNV_OK);
  assert_string_equal(s, "b,c,");
  assert_int_equal(cnv_crdt_mvreg_set(m, "d", 1, NULL), CNV_OK); /* saw both: replaces both */
  assert_int_equal(cnv_crdt_merge(n, m), CNV_OK);
  s[0] = '\0';
  assert_int_equal(cnv_crdt_mvreg_each(n, collect, s), CNV_OK);
  assert_string_equal(s, "d,");
  cnv_crdt_destroy(roundtrip(n, 5));
  cnv_crdt_destroy(m);
  cnv_crdt_destroy(n);
}

static void test_vclock(void **state) {
  (void)state;
  cnv_crdt *a = mk(CNV_CRDT_VCLOCK, 1), *b = mk(CNV_CRDT_VCLOCK, 2);
  int o = -1;
  assert_int_equal(cnv_crdt_compare(a, b, &o), CNV_OK);
  assert_int_equal(o, CNV_CRDT_EQUAL);
  assert_int_equal(cnv_crdt_vclock_tick(a, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_compare(a, b, &o), CNV_OK);
  assert_int_equal(o, CNV_CRDT_AFTER);
  assert_int_equal(cnv_crdt_vclock_tick(b, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_compare(a, b, &o), CNV_OK);
  assert_int_equal(o, CNV_CRDT_CONCURRENT);
  assert_int_equal(cnv_crdt_merge(b, a), CNV_OK);
  assert_int_equal(cnv_crdt_compare(a, b, &o), CNV_OK);
  assert_int_equal(o, CNV_CRDT_BEFORE);
  assert_int_equal(cnv_crdt_vclock_get(b, 1), 1);
  assert_int_equal(cnv_crdt_vclock_get(b, 2), 1);
  assert_int_equal(cnv_crdt_vclock_get(b, 3), 0);
  /* Retiring replica 2: its entry goes, it reads as past every tick. */
  assert_int_equal(cnv_crdt_retire(a, 2, NULL), CNV_ENOTFOUND); /* a never saw 2 */
  cnv_crdt *c = NULL;
  assert_int_equal(cnv_crdt_clone(b, 1, &c), CNV_OK);
  assert_int_equal(cnv_crdt_retire(c, 2, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_replicas(c), 1);
  assert_int_equal(cnv_crdt_vclock_get(c, 2), UINT64_MAX);
  assert_int_equal(cnv_crdt_vclock_get(c, 1), 1);
  assert_int_equal(cnv_crdt_compare(c, b, &o), CNV_OK);
  assert_int_equal(o, CNV_CRDT_AFTER);
  assert_int_equal(cnv_crdt_merge(c, b), CNV_OK); /* b still has 2's entry: it stays retired */
  assert_int_equal(cnv_crdt_replicas(c), 1);
  cnv_crdt_destroy(c);
  cnv_crdt *g = mk(CNV_CRDT_GCOUNTER, 1);
  assert_int_equal(cnv_crdt_compare(a, g, &o), CNV_EINVAL);
  cnv_crdt_destroy(g);
  cnv_crdt_destroy(a);
  cnv_crdt_destroy(b);
}

/* Hand-made encodings that are malformed or non-canonical. */
static void test_decode_rejects(void **state) {
  (void)state;
  static const struct {
    const char *b;
    size_t n;
  } bad[] = {
      {"\x07\x00\x00\x00", 4},                                                          /* unknown type */
      {"\x01\x00\x00\x00\x00", 5},                                                      /* trailing byte */
      {"\x01\x00\x00", 3},                                                              /* truncated */
      {"\x01\x00\x80\x00\x00", 5},                                                      /* non-minimal varint */
      {"\x01\x00\x05\x00", 4},                                                          /* base without a retired replica */
      {"\x01\x00\x00\x01\x00\x01", 6},                                                  /* zero replica id */
      {"\x01\x00\x00\x01\x01\x00", 6},                                                  /* zero count */
      {"\x01\x00\x00\x02\x02\x01\x01\x01", 8},                                          /* ids out of order */
      {"\x01\x00\x00\x7f\x01\x01", 6},                                                  /* count past the input */
      {"\x01\x01\x02\x01\x01\x02\x01", 7},                                              /* a retired id with a live entry */
      {"\x03\x00\x00\x01\x01\x01\x00", 7},                                              /* cloud dot that belongs in the vv */
      {"\x03\x00\x00\x00\x01\x00\x01\x01\x01", 9},                                      /* empty OR-Set element */
      {"\x03\x00\x00\x00\x01\x01x\x01\x01\x01", 10},                                    /* element dot the context has not seen */
      {"\x03\x00\x00\x00\x01\x01x\x00", 8},                                             /* element without dots */
      {"\x03\x00\x01\x01\x01\x00\x02\x01x\x01\x01\x01\x01y\x01\x01\x01", 17},           /* one dot on two elements */
      {"\x03\x00\x01\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01\x02\x28\x00", 18}, /* cloud dot under a maximal vv */
      {"\x04\x02", 2},                                                                  /* LWW flag */
      {"\x04\x01\x01\x00\x00", 5},                                                      /* LWW zero replica */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cnv_crdt *c = NULL;
    cnv_status st = cnv_crdt_decode((const uint8_t *)bad[i].b, bad[i].n, 1, &c);
    if (st != CNV_ECRDT_MALFORMED) fail_msg("case %zu decoded: %d", i, (int)st);
    assert_null(c);
  }
  /* And the good twins of a few. */
  static const struct {
    const char *b;
    size_t n;
  } good[] = {{"\x01\x00\x00\x00", 4}, {"\x01\x00\x00\x01\x01\x01", 6}, {"\x04\x00", 2}, {"\x03\x00\x01\x01\x01\x00\x01\x01x\x01\x01\x01", 12}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    cnv_crdt *c = NULL;
    assert_int_equal(cnv_crdt_decode((const uint8_t *)good[i].b, good[i].n, 1, &c), CNV_OK);
    uint8_t buf[32];
    assert_int_equal(enc(c, buf, sizeof buf), good[i].n);
    assert_memory_equal(buf, good[i].b, good[i].n);
    size_t need = 0;
    assert_int_equal(cnv_crdt_encode(c, buf, 1, &need), good[i].n > 1 ? CNV_EFULL : CNV_OK);
    assert_int_equal(need, good[i].n);
    cnv_crdt_destroy(c);
  }
}

static void test_retire(void **state) {
  (void)state;
  cnv_crdt *a = mk(CNV_CRDT_GCOUNTER, 1), *b = mk(CNV_CRDT_GCOUNTER, 2), *d = mk(CNV_CRDT_GCOUNTER, 0);
  cnv_crdt *old = mk(CNV_CRDT_GCOUNTER, 0);
  assert_int_equal(cnv_crdt_gcounter_inc(a, 3, NULL), CNV_OK);
  assert_int_equal(cnv_crdt_gcounter_inc(b, 4, old), CNV_OK); /* b's last delta */
  assert_int_equal(cnv_crdt_merge(a, b), CNV_OK);
  assert_int_equal(cnv_crdt_merge(b, a), CNV_OK);
  assert_int_equal(cnv_crdt_retire(a, 2, d), CNV_OK);
  assert_int_equal(cnv_crdt_retire(a, 2, NULL), CNV_ENOTFOUND);
  assert_int_equal(value(a), 7);
  assert_int_equal(cnv_crdt_replicas(a), 1);
  assert_int_equal(cnv_crdt_merge(a, old), CNV_OK); /* a stale message of the retired replica */
  assert_int_equal(cnv_crdt_merge(a, b), CNV_OK);   /* an old full state */
  assert_int_equal(value(a), 7);
  assert_int_equal(cnv_crdt_replicas(a), 1);
  assert_int_equal(cnv_crdt_merge(b, d), CNV_OK);
  assert_int_equal(cnv_crdt_gcounter_inc(b, 1, NULL), CNV_EINVAL); /* retired: mutates no more */
  cnv_crdt *c = mk(CNV_CRDT_GCOUNTER, 3);
  assert_int_equal(cnv_crdt_merge(c, d), CNV_OK); /* the retire delta */
  assert_int_equal(value(c), 7);
  assert_int_equal(cnv_crdt_gcounter_inc(c, 1, NULL), CNV_OK);
  cnv_crdt *e = roundtrip(a, 1);
  assert_int_equal(value(e), 7);
  cnv_crdt_destroy(e);
  cnv_crdt_destroy(a);
  cnv_crdt_destroy(b);
  cnv_crdt_destroy(c);
  cnv_crdt_destroy(d);
  cnv_crdt_destroy(old);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_args),
      cmocka_unit_test(test_counters),
      cmocka_unit_test(test_orset_add_wins),
      cmocka_unit_test(test_registers),
      cmocka_unit_test(test_vclock),
      cmocka_unit_test(test_decode_rejects),
      cmocka_unit_test(test_retire),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
