/* SPSC ring, single thread: argument checks, FULL/EMPTY leave caller buffers untouched,
 * batch prefix semantics across the wrap point, and many wraparounds against a model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/hotpath.h>

#include "cnv_test_util.h"

#define REC 8u

static void test_size_and_init_checks(void **state) {
  (void)state;
  size_t bytes = 0;
  cnv_spsc r;
  assert_int_equal(cnv_spsc_memory_size(0, REC, &bytes), CNV_ECAPACITY);
  assert_int_equal(cnv_spsc_memory_size(12, REC, &bytes), CNV_ECAPACITY);
  assert_int_equal(cnv_spsc_memory_size(CNV_HOTPATH_MAX_CAPACITY * 2u, REC, &bytes), CNV_ECAPACITY);
  assert_int_equal(cnv_spsc_memory_size(8, 4, &bytes), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_spsc_memory_size(8, CNV_HOTPATH_MAX_RECORD + 8, &bytes), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_spsc_memory_size(8, REC, NULL), CNV_EINVAL);
  assert_int_equal(cnv_spsc_memory_size(8, REC, &bytes), CNV_OK);
  assert_int_equal(bytes, 8 * REC);
  assert_int_equal(cnv_spsc_memory_size(1, REC, &bytes), CNV_OK); /* one slot is enough here */
  assert_int_equal(cnv_spsc_memory_size(8, REC, &bytes), CNV_OK);
  unsigned char *mem = aligned_alloc(CNV_CACHELINE, 2 * CNV_CACHELINE);
  assert_non_null(mem);
  assert_int_equal(cnv_spsc_init(NULL, mem, bytes, 8, REC), CNV_EINVAL);
  assert_int_equal(cnv_spsc_init(&r, NULL, bytes, 8, REC), CNV_EINVAL);
  assert_int_equal(cnv_spsc_init(&r, mem, bytes, 7, REC), CNV_ECAPACITY);
  assert_int_equal(cnv_spsc_init(&r, mem, bytes, 8, 9), CNV_ERECORD_SIZE);
  assert_int_equal(cnv_spsc_init(&r, mem + 16, bytes, 8, REC), CNV_EALIGN);
  assert_int_equal(cnv_spsc_init(&r, mem, bytes - 8, 8, REC), CNV_ERANGE);
  assert_int_equal(cnv_spsc_init(&r, mem, bytes, 8, REC), CNV_OK);
  cnv_spsc_fini(&r);
  free(mem);
  cnv_spsc *p = NULL;
  assert_int_equal(cnv_spsc_create(3, REC, &p), CNV_ECAPACITY);
  assert_int_equal(cnv_spsc_create(4, REC, NULL), CNV_EINVAL);
  assert_int_equal(cnv_spsc_create(4, REC, &p), CNV_OK);
  uint64_t v = 1;
  size_t n;
  assert_int_equal(cnv_spsc_try_push(NULL, &v), CNV_EINVAL);
  assert_int_equal(cnv_spsc_try_push(p, NULL), CNV_EINVAL);
  assert_int_equal(cnv_spsc_try_pop(p, NULL), CNV_EINVAL);
  assert_int_equal(cnv_spsc_try_push_batch(p, NULL, 1, &n), CNV_EINVAL);
  assert_int_equal(cnv_spsc_try_pop_batch(p, &v, 0, &n), CNV_EINVAL);
  cnv_spsc_destroy(p);
  cnv_spsc_destroy(NULL);
}

static void test_full_and_empty_untouched(void **state) {
  (void)state;
  cnv_spsc *r;
  assert_int_equal(cnv_spsc_create(4, REC, &r), CNV_OK);
  uint64_t v = 0xDEAD;
  assert_int_equal(cnv_spsc_try_pop(r, &v), CNV_EEMPTY);
  assert_int_equal(v, 0xDEAD);
  for (uint64_t i = 0; i < 4; i++) assert_int_equal(cnv_spsc_try_push(r, &i), CNV_OK);
  v = 77;
  assert_int_equal(cnv_spsc_try_push(r, &v), CNV_EFULL);
  assert_int_equal(v, 77);
  for (uint64_t i = 0; i < 4; i++) {
    assert_int_equal(cnv_spsc_try_pop(r, &v), CNV_OK);
    assert_int_equal(v, i);
  }
  assert_int_equal(cnv_spsc_try_pop(r, &v), CNV_EEMPTY);
  cnv_spsc_destroy(r);
}

static void test_batch_prefix_across_wrap(void **state) {
  (void)state;
  cnv_spsc *r;
  uint64_t in[8] = {10, 11, 12, 13, 14, 15, 16, 17}, out[8];
  size_t n;
  assert_int_equal(cnv_spsc_create(8, REC, &r), CNV_OK);
  assert_int_equal(cnv_spsc_try_push_batch(r, in, 6, &n), CNV_OK);
  assert_int_equal(n, 6);
  assert_int_equal(cnv_spsc_try_pop_batch(r, out, 5, &n), CNV_OK);
  assert_int_equal(n, 5);
  assert_int_equal(cnv_spsc_try_push_batch(r, in, 8, &n), CNV_EFULL); /* 7 fit, wrapping */
  assert_int_equal(n, 7);
  memset(out, 0, sizeof out);
  assert_int_equal(cnv_spsc_try_pop_batch(r, out, 8, &n), CNV_OK);
  assert_int_equal(n, 8);
  assert_int_equal(out[0], 15);
  for (int i = 1; i < 8; i++) assert_int_equal(out[i], in[i - 1]);
  assert_int_equal(cnv_spsc_try_pop_batch(r, out, 8, &n), CNV_EEMPTY);
  assert_int_equal(n, 0);
  cnv_spsc_destroy(r);
}

static void test_wraparound_model(void **state) {
  (void)state;
  enum { CAP = 8,
         STEPS = 100000 };
  cnv_spsc *r;
  uint64_t next_in = 0, next_out = 0, rng = 7;
  assert_int_equal(cnv_spsc_create(CAP, REC, &r), CNV_OK);
  for (int step = 0; step < STEPS; step++) {
    uint64_t buf[11];
    size_t k = 1 + cnv_test_rand(&rng) % 11, got = 0;
    uint64_t len = next_in - next_out;
    if (cnv_test_rand(&rng) & 1) {
      for (size_t i = 0; i < k; i++) buf[i] = next_in + i;
      cnv_status st = cnv_spsc_try_push_batch(r, buf, k, &got);
      size_t fit = k < CAP - len ? k : (size_t)(CAP - len);
      assert_int_equal(got, fit);
      assert_int_equal(st, fit == k ? CNV_OK : CNV_EFULL);
      next_in += got;
    } else {
      cnv_status st = cnv_spsc_try_pop_batch(r, buf, k, &got);
      size_t avail = k < len ? k : (size_t)len;
      assert_int_equal(got, avail);
      assert_int_equal(st, avail ? CNV_OK : CNV_EEMPTY);
      for (size_t i = 0; i < got; i++) assert_int_equal(buf[i], next_out++);
    }
  }
  assert_true(next_out > 1000 * CAP);
  cnv_spsc_destroy(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_size_and_init_checks),
      cmocka_unit_test(test_full_and_empty_untouched),
      cmocka_unit_test(test_batch_prefix_across_wrap),
      cmocka_unit_test(test_wraparound_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
