/* Dispatch (once-selection, CNV_SIMD override and its fallbacks) and the public entry points'
 * argument checks. ctest runs this binary once per pinned CNV_SIMD value as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cnv_test_util.h"
#include "simd/simd_internal.h"

static cnv_simd_path best_of(unsigned runnable) {
  return (cnv_simd_path)(31 - __builtin_clz(runnable));
}

static void test_env_choice(void **state) {
  (void)state;
  const char *env = getenv("CNV_SIMD");
  unsigned runnable = cnv_simd_runnable();
  cnv_simd_path want;
  assert_true(runnable & 1u);
  if (env == NULL || env[0] == '\0') {
    assert_int_equal(cnv_simd_dispatch_status(), CNV_OK);
    assert_int_equal(cnv_simd_active_path(), best_of(runnable));
  } else if (cnv_simd_path_parse(env, &want) != CNV_OK) {
    assert_int_equal(cnv_simd_dispatch_status(), CNV_ESIMD_UNKNOWN_PATH);
    assert_int_equal(cnv_simd_active_path(), best_of(runnable));
  } else if (runnable & (1u << want)) {
    assert_int_equal(cnv_simd_dispatch_status(), CNV_OK);
    assert_int_equal(cnv_simd_active_path(), want);
  } else {
    assert_int_equal(cnv_simd_dispatch_status(), CNV_ENOTSUP);
    assert_int_equal(cnv_simd_active_path(), best_of(runnable));
  }
}

static void test_choose(void **state) {
  (void)state;
  cnv_status why;
  unsigned x86 = 0xFu, arm = 0x11u;
  assert_int_equal(cnv__simd_choose(NULL, x86, &why), CNV_SIMD_AVX512);
  assert_int_equal(why, CNV_OK);
  assert_int_equal(cnv__simd_choose("", arm, &why), CNV_SIMD_NEON);
  assert_int_equal(cnv__simd_choose("sse42", x86, &why), CNV_SIMD_SSE42);
  assert_int_equal(why, CNV_OK);
  assert_int_equal(cnv__simd_choose("neon", x86, &why), CNV_SIMD_AVX512);
  assert_int_equal(why, CNV_ENOTSUP);
  assert_int_equal(cnv__simd_choose("AVX2", 0x7u, &why), CNV_SIMD_AVX2);
  assert_int_equal(why, CNV_ESIMD_UNKNOWN_PATH);
  assert_int_equal(cnv__simd_choose("avx512", 0x1u, &why), CNV_SIMD_SCALAR);
  assert_int_equal(why, CNV_ENOTSUP);
}

static void test_names(void **state) {
  (void)state;
  cnv_simd_path p;
  for (unsigned i = 0; i < CNV_SIMD_PATH_COUNT; i++) {
    assert_int_equal(cnv_simd_path_parse(cnv_simd_path_name((cnv_simd_path)i), &p), CNV_OK);
    assert_int_equal(p, i);
  }
  assert_string_equal(cnv_simd_path_name((cnv_simd_path)99), "invalid");
  assert_int_equal(cnv_simd_path_parse("avx", &p), CNV_ESIMD_UNKNOWN_PATH);
  assert_int_equal(cnv_simd_path_parse(NULL, &p), CNV_EINVAL);
  assert_int_equal(cnv_simd_path_parse("scalar", NULL), CNV_EINVAL);
  const cnv_simd_kernels *k = NULL;
  assert_int_equal(cnv_simd_kernels_get((cnv_simd_path)5, &k), CNV_ERANGE);
  assert_int_equal(cnv_simd_kernels_get(CNV_SIMD_SCALAR, NULL), CNV_EINVAL);
  assert_null(k);
}

static void test_errors(void **state) {
  (void)state;
  uint64_t ids[4] = {1, 2, 3, 4}, mask[1], sorted[3] = {1, 2, 2};
  cnv_effects e[2] = {1, 2}, j;
  uint8_t regs[16] = {0};
  static _Alignas(8) unsigned char scratch[CNV_SIMD_VARIETY_SCRATCH_BYTES(4) + 8];
  uint32_t d;
  uint64_t c;
  cnv_simd_idset s, empty = {NULL, 0}, broken = {NULL, 3};
  cnv_simd_hll_sums sums;
  assert_int_equal(cnv_simd_hash64(NULL, 1, 0, ids), CNV_EINVAL);
  assert_int_equal(cnv_simd_hash64(NULL, 0, 0, NULL), CNV_OK);
  assert_int_equal(cnv_simd_idset_init(&s, sorted, 3), CNV_ESIMD_UNSORTED);
  assert_int_equal(cnv_simd_idset_init(&s, NULL, 2), CNV_EINVAL);
  assert_int_equal(cnv_simd_idset_init(&s, sorted, 2), CNV_OK);
  assert_int_equal(cnv_simd_capcheck(ids, 65, &s, &empty, mask, 1), CNV_ERANGE);
  assert_int_equal(cnv_simd_capcheck(ids, 4, &broken, &empty, mask, 1), CNV_EINVAL);
  assert_int_equal(cnv_simd_capcheck(ids, 4, &s, NULL, mask, 1), CNV_EINVAL);
  assert_int_equal(cnv_simd_capcheck(ids, 4, &s, &empty, mask, 1), CNV_OK);
  assert_int_equal(mask[0], 0x3u);
  assert_int_equal(cnv_simd_effects_join(NULL, 2, &j), CNV_EINVAL);
  assert_int_equal(cnv_simd_effects_join(e, 2, NULL), CNV_EINVAL);
  assert_int_equal(cnv_simd_effects_subset(e, 65, 1, mask, 1), CNV_ERANGE);
  assert_int_equal(cnv_simd_effects_subset(e, 2, 1, mask, 1), CNV_OK);
  assert_int_equal(mask[0], 0x1u);
  assert_int_equal(cnv_simd_variety_count(ids, 4, scratch, 8, &d, &c), CNV_ERANGE);
  assert_int_equal(cnv_simd_variety_count(ids, 4, scratch + 1, sizeof scratch - 1, &d, &c),
                   CNV_ERANGE);
  assert_int_equal(cnv_simd_variety_count(ids, 4097, scratch, sizeof scratch, &d, &c),
                   CNV_ERANGE);
  assert_int_equal(cnv_simd_variety_count(ids, 4, NULL, 0, &d, &c), CNV_EINVAL);
  assert_int_equal(cnv_simd_variety_count(ids, 4, scratch, sizeof scratch, &d, &c), CNV_OK);
  assert_int_equal(d, 4);
  assert_int_equal(c, 0);
  assert_int_equal(cnv_simd_hll_update(regs, 3, ids, 4, 0), CNV_ERANGE);
  assert_int_equal(cnv_simd_hll_update(regs, 17, ids, 4, 0), CNV_ERANGE);
  assert_int_equal(cnv_simd_hll_update(NULL, 4, ids, 4, 0), CNV_EINVAL);
  assert_int_equal(cnv_simd_hll_update(regs, 4, ids, 4, 0), CNV_OK);
  assert_int_equal(cnv_simd_hll_sums_get(regs, 4, NULL), CNV_EINVAL);
  assert_int_equal(cnv_simd_hll_sums_get(regs, 2, &sums), CNV_ERANGE);
  assert_int_equal(cnv_simd_hll_sums_get(regs, 4, &sums), CNV_OK);
  assert_true(sums.zeros >= 12);
  bool changed = true;
  assert_int_equal(cnv_simd_bits_or(NULL, ids, 1, &changed), CNV_EINVAL);
  assert_int_equal(cnv_simd_bits_or(mask, NULL, 1, &changed), CNV_EINVAL);
  assert_int_equal(cnv_simd_bits_or(NULL, NULL, 0, &changed), CNV_OK);
  assert_false(changed);
  mask[0] = 1;
  assert_int_equal(cnv_simd_bits_or(mask, ids + 1, 1, NULL), CNV_OK);
  assert_int_equal(mask[0], 3);
}

/* The dispatched entry points return what the scalar twins return. */
static void test_dispatched_match_scalar(void **state) {
  (void)state;
  enum { N = 333 };
  static uint64_t ids[N], ha[N], hb[N], ma[6], mb[6], allow_ids[40], deny_ids[3];
  static cnv_effects e[N];
  static uint8_t ra[1 << 12], rb[1 << 12];
  const cnv_simd_kernels *ref;
  uint64_t rng = 9;
  assert_int_equal(cnv_simd_kernels_get(CNV_SIMD_SCALAR, &ref), CNV_OK);
  for (int i = 0; i < 40; i++) allow_ids[i] = (uint64_t)i * 3 + 1;
  for (int i = 0; i < 3; i++) deny_ids[i] = (uint64_t)i * 9 + 1;
  for (int i = 0; i < N; i++)
    ids[i] = cnv_test_rand(&rng) % 150, e[i] = (cnv_effects)cnv_test_rand(&rng);
  cnv_simd_idset allow = {allow_ids, 40}, deny = {deny_ids, 3};
  assert_int_equal(cnv_simd_hash64(ids, N, 77, ha), CNV_OK);
  ref->hash64(ids, N, 77, hb);
  assert_memory_equal(ha, hb, sizeof ha);
  assert_int_equal(cnv_simd_hash64_one(ids[5], 77), hb[5]);
  assert_int_equal(cnv_simd_capcheck(ids, N, &allow, &deny, ma, 6), CNV_OK);
  ref->capcheck(ids, N, &allow, &deny, mb);
  assert_memory_equal(ma, mb, sizeof ma);
  cnv_effects j;
  assert_int_equal(cnv_simd_effects_join(e, N, &j), CNV_OK);
  assert_int_equal(j, ref->effects_join(e, N));
  assert_int_equal(cnv_simd_effects_subset(e, N, 0x0F0F, ma, 6), CNV_OK);
  ref->effects_subset(e, N, 0x0F0F, mb);
  assert_memory_equal(ma, mb, sizeof ma);
  assert_int_equal(cnv_simd_hll_update(ra, 12, ids, N, 3), CNV_OK);
  ref->hll_update(rb, 12, ids, N, 3);
  assert_memory_equal(ra, rb, sizeof ra);
  unsigned char z[100];
  memset(z, 1, sizeof z);
  cnv_simd_zero(z + 3, 90);
  assert_int_equal(z[2] + z[93], 2);
  for (int i = 3; i < 93; i++) assert_int_equal(z[i], 0);
  cnv_simd_zero(NULL, 0);
  /* bits_or: the dispatched union and flag equal the scalar ones */
  memcpy(ha, ids, sizeof ha);
  memcpy(hb, ids, sizeof hb);
  bool changed = false;
  assert_int_equal(cnv_simd_bits_or(ha + 1, ids + 7, N - 8, &changed), CNV_OK);
  assert_int_equal(changed, ref->bits_or(hb + 1, ids + 7, N - 8));
  assert_true(changed);
  assert_memory_equal(ha, hb, sizeof ha);
  assert_int_equal(cnv_simd_bits_or(ha + 1, ids + 7, N - 8, &changed), CNV_OK);
  assert_false(changed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_env_choice),
      cmocka_unit_test(test_choose),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_dispatched_match_scalar),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
