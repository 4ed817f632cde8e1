/* Effect flags: the lattice laws over every pair and triple of a 64-value sample (0, all,
 * each single bit, their complements, random sets), and name/parse/format round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/effects.h>

#include "cnv_test_util.h"

enum { N = 64 };
static cnv_effects sample[N];

static int build_sample(void **state) {
  (void)state;
  int n = 0;
  sample[n++] = CNV_EFFECTS_NONE;
  sample[n++] = CNV_EFFECTS_ALL;
  for (unsigned b = 0; b < 16; b++) sample[n++] = (cnv_effects)(1u << b);
  for (unsigned b = 0; b < 16; b++) sample[n++] = (cnv_effects) ~(1u << b);
  uint64_t rng = 0xEFFEC7;
  while (n < N) sample[n++] = (cnv_effects)cnv_test_rand(&rng);
  return 0;
}

/* The reference order: a <= b iff every bit of a is in b, computed bit by bit. */
static int le(cnv_effects a, cnv_effects b) {
  for (unsigned bit = 0; bit < 16; bit++)
    if ((a >> bit & 1u) && !(b >> bit & 1u)) return 0;
  return 1;
}

static void test_pair_laws(void **state) {
  (void)state;
  for (int i = 0; i < N; i++) {
    cnv_effects a = sample[i];
    assert_int_equal(cnv_effects_join(a, a), a); /* idempotence */
    assert_int_equal(cnv_effects_meet(a, a), a);
    assert_int_equal(cnv_effects_join(a, CNV_EFFECTS_NONE), a); /* bottom */
    assert_int_equal(cnv_effects_meet(a, CNV_EFFECTS_NONE), CNV_EFFECTS_NONE);
    assert_int_equal(cnv_effects_join(a, CNV_EFFECTS_ALL), CNV_EFFECTS_ALL); /* top */
    assert_int_equal(cnv_effects_meet(a, CNV_EFFECTS_ALL), a);
    assert_true(cnv_effects_subset(CNV_EFFECTS_NONE, a));
    assert_true(cnv_effects_subset(a, CNV_EFFECTS_ALL));
    assert_true(cnv_effects_subset(a, a)); /* reflexive */
    for (int j = 0; j < N; j++) {
      cnv_effects b = sample[j];
      cnv_effects jn = cnv_effects_join(a, b), mt = cnv_effects_meet(a, b);
      assert_int_equal(jn, cnv_effects_join(b, a)); /* commutativity */
      assert_int_equal(mt, cnv_effects_meet(b, a));
      assert_int_equal(cnv_effects_join(a, mt), a); /* absorption */
      assert_int_equal(cnv_effects_meet(a, jn), a);
      assert_int_equal(cnv_effects_subset(a, b), le(a, b)); /* order is subset */
      /* join/meet consistent with the order: a <= b iff a v b = b iff a ^ b = a */
      assert_int_equal(cnv_effects_subset(a, b), jn == b);
      assert_int_equal(cnv_effects_subset(a, b), mt == a);
      assert_true(cnv_effects_subset(a, jn) && cnv_effects_subset(b, jn)); /* upper bound */
      assert_true(cnv_effects_subset(mt, a) && cnv_effects_subset(mt, b)); /* lower bound */
      if (cnv_effects_subset(a, b) && cnv_effects_subset(b, a)) assert_int_equal(a, b);
    }
  }
}

static void test_triple_laws(void **state) {
  (void)state;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      for (int k = 0; k < N; k++) {
        cnv_effects a = sample[i], b = sample[j], c = sample[k];
        assert_int_equal(cnv_effects_join(cnv_effects_join(a, b), c),
                         cnv_effects_join(a, cnv_effects_join(b, c))); /* associativity */
        assert_int_equal(cnv_effects_meet(cnv_effects_meet(a, b), c),
                         cnv_effects_meet(a, cnv_effects_meet(b, c)));
        /* least upper bound: any c above a and b is above a v b (dually for meet) */
        if (cnv_effects_subset(a, c) && cnv_effects_subset(b, c))
          assert_true(cnv_effects_subset(cnv_effects_join(a, b), c));
        if (cnv_effects_subset(c, a) && cnv_effects_subset(c, b))
          assert_true(cnv_effects_subset(c, cnv_effects_meet(a, b)));
        if (cnv_effects_subset(a, b) && cnv_effects_subset(b, c))
          assert_true(cnv_effects_subset(a, c)); /* transitive */
        /* distributivity (a powerset lattice) */
        assert_int_equal(cnv_effects_meet(a, cnv_effects_join(b, c)),
                         cnv_effects_join(cnv_effects_meet(a, b), cnv_effects_meet(a, c)));
      }
}

static void test_names_round_trip(void **state) {
  (void)state;
  static const char *const expected[16] = {
      "read_only", "mutate_state", "mutate_config", "network", "storage",
      "privileged", "idempotent", "async_capable", "filesystem", "spawn_process",
      "external_call", "destructive", "crypto", "user_visible", "time_sensitive",
      "billable"};
  for (unsigned bit = 0; bit < 16; bit++) {
    cnv_effects f = (cnv_effects)(1u << bit), back = 0;
    const char *name = cnv_effect_name(f);
    assert_non_null(name);
    assert_string_equal(name, expected[bit]);
    assert_int_equal(cnv_effect_parse(name, strlen(name), &back), CNV_OK);
    assert_int_equal(back, f);
    char buf[32];
    size_t need = 0;
    assert_int_equal(cnv_effects_format(f, buf, sizeof buf, &need), CNV_OK);
    assert_string_equal(buf, name);
    assert_int_equal(need, strlen(name));
  }
  assert_int_equal(CNV_EFFECT_NETWORK, 1u << 3);
  assert_int_equal(CNV_EFFECT_BILLABLE, 1u << 15);
  assert_null(cnv_effect_name(0));
  assert_null(cnv_effect_name(3));
  assert_null(cnv_effect_name(CNV_EFFECTS_ALL));
}

static void test_parse_rejects_unknown(void **state) {
  (void)state;
  cnv_effects out = 0x1234;
  const char *bad[] = {"", "Network", "networks", "netw", "read-only", "none", "network|storage",
                       " network"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(cnv_effect_parse(bad[i], strlen(bad[i]), &out), CNV_EUNKNOWN_FLAG);
  assert_int_equal(out, 0x1234);
  /* Length is honoured: a prefix of a longer buffer parses, not the whole buffer. */
  assert_int_equal(cnv_effect_parse("storagexyz", 7, &out), CNV_OK);
  assert_int_equal(out, CNV_EFFECT_STORAGE);
  assert_int_equal(cnv_effect_parse(NULL, 3, &out), CNV_EINVAL);
  assert_int_equal(cnv_effect_parse("crypto", 6, NULL), CNV_EINVAL);
}

/* Formats every sample set and parses it back name by name. */
static void test_format_round_trip(void **state) {
  (void)state;
  for (int i = 0; i < N; i++) {
    char buf[300];
    size_t need = 0;
    assert_int_equal(cnv_effects_format(sample[i], buf, sizeof buf, &need), CNV_OK);
    assert_int_equal(strlen(buf), need);
    if (sample[i] == 0) {
      assert_string_equal(buf, "none");
      continue;
    }
    cnv_effects back = 0;
    for (const char *s = buf;;) {
      const char *bar = strchr(s, '|');
      size_t len = bar ? (size_t)(bar - s) : strlen(s);
      cnv_effects f;
      assert_int_equal(cnv_effect_parse(s, len, &f), CNV_OK);
      assert_false(back & f); /* each flag once */
      back = cnv_effects_join(back, f);
      if (!bar) break;
      s = bar + 1;
    }
    assert_int_equal(back, sample[i]);
  }
}

static void test_format_too_small(void **state) {
  (void)state;
  char buf[300];
  size_t need = 0;
  assert_int_equal(cnv_effects_format(CNV_EFFECTS_ALL, buf, sizeof buf, &need), CNV_OK);
  size_t full = need;
  for (size_t cap = 0; cap <= full; cap++) {
    memset(buf, 'x', sizeof buf);
    need = 0;
    assert_int_equal(cnv_effects_format(CNV_EFFECTS_ALL, cap ? buf : NULL, cap, &need), CNV_ERANGE);
    assert_int_equal(need, full);
    if (cap) assert_int_equal(buf[0], '\0'); /* nothing partial */
    if (cap > 1) assert_int_equal(buf[1], 'x');
  }
  assert_int_equal(cnv_effects_format(0, buf, 4, &need), CNV_ERANGE); /* "none" needs 5 */
  assert_int_equal(cnv_effects_format(0, buf, 5, &need), CNV_OK);
  assert_int_equal(cnv_effects_format(0, NULL, 8, &need), CNV_EINVAL);
  assert_int_equal(cnv_effects_format(0, buf, 8, NULL), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pair_laws),
      cmocka_unit_test(test_triple_laws),
      cmocka_unit_test(test_names_round_trip),
      cmocka_unit_test(test_parse_rejects_unknown),
      cmocka_unit_test(test_format_round_trip),
      cmocka_unit_test(test_format_too_small),
  };
  return cmocka_run_group_tests(tests, build_sample, NULL);
}
