/* Paths, patterns, matching rules and the canonical encoding (decode/encode round trip,
 * every non-canonical form rejected with its own code). */
#include "cnv_test_util.h"
#include "deleg_fixture.h"

static void test_paths(void **state) {
  (void)state;
  static const char *good[] = {"user", "user.create", "fleet.node.drain", "a-b_c.0.9", "a.b.c.d.e.f.g.h"};
  static const char *bad[] = {"", ".", "user.", ".user", "user..x", "User.create", "user.cre ate",
                              "a.b.c.d.e.f.g.h.i", "user/x"};
  cnv_deleg_cap c;
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    assert_int_equal(cnv_deleg_cap_from_path(good[i], strlen(good[i]), &c), CNV_OK);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(cnv_deleg_cap_from_path(bad[i], strlen(bad[i]), &c), CNV_EDELEG_BAD_PATH);
  }
  char longp[257];
  memset(longp, 'a', sizeof longp);
  assert_int_equal(cnv_deleg_cap_from_path(longp, 255, &c), CNV_OK);
  assert_int_equal(cnv_deleg_cap_from_path(longp, 256, &c), CNV_EDELEG_BAD_PATH);
  assert_int_equal(cnv_deleg_cap_from_path(NULL, 1, &c), CNV_EINVAL);
  /* ids are XXH3-64 of the bytes: fixed forever by the vectors; here, consistency */
  cnv_deleg_cap a = cap_of("user.create"), u = cap_of("user");
  assert_int_equal(a.noun, u.id);
  assert_int_equal(a.segments, 2);
  assert_int_equal(u.segments, 1);
}

static void test_patterns(void **state) {
  (void)state;
  cnv_deleg_pattern p;
  assert_int_equal(cnv_deleg_pattern_parse("user.*", 6, &p), CNV_OK);
  assert_int_equal(p.kind, CNV_DELEG_PREFIX);
  assert_int_equal(p.id, p.noun);
  assert_int_equal(cnv_deleg_pattern_parse("a.b.*", 5, &p), CNV_EDELEG_BAD_PATH);
  assert_int_equal(cnv_deleg_pattern_parse("*", 1, &p), CNV_EDELEG_BAD_PATH);
  assert_int_equal(cnv_deleg_pattern_parse(".*", 2, &p), CNV_EDELEG_BAD_PATH);
  cnv_deleg_pattern pre = pat("user.*"), ex = pat("user.create"), one = pat("user");
  cnv_deleg_cap create = cap_of("user.create"), user = cap_of("user"), deep = cap_of("user.a.b");
  cnv_deleg_cap other = cap_of("users.create");
  assert_true(cnv_deleg_pattern_matches(&pre, &create));
  assert_true(cnv_deleg_pattern_matches(&pre, &deep));
  assert_false(cnv_deleg_pattern_matches(&pre, &user)); /* noun.* needs a second segment */
  assert_false(cnv_deleg_pattern_matches(&pre, &other));
  assert_true(cnv_deleg_pattern_matches(&ex, &create));
  assert_false(cnv_deleg_pattern_matches(&ex, &deep));
  assert_true(cnv_deleg_pattern_matches(&one, &user));
  assert_false(cnv_deleg_pattern_matches(&one, &create));
  /* an exact pattern whose noun lies about its path matches nothing */
  cnv_deleg_pattern liar = ex;
  liar.noun = pat("admin.*").noun;
  assert_false(cnv_deleg_pattern_matches(&liar, &create));
}

static void test_narrowing_rules(void **state) {
  (void)state;
  cnv_deleg_caveats parent, child;
  cav_init(&parent);
  cav_allow(&parent, "user.*");
  cav_forbid(&parent, "user.delete");
  child = parent;
  child.depth = 6;
  assert_int_equal(cnv__deleg_narrows(&parent, &child), CNV_OK);
  /* user.* covers user.create, not the single-segment path user */
  child.allow[0] = pat("user.create");
  assert_int_equal(cnv__deleg_narrows(&parent, &child), CNV_OK);
  child.allow[0] = pat("user");
  assert_int_equal(cnv__deleg_narrows(&parent, &child), CNV_EDELEG_WIDENED_ALLOW);
  /* forbidding more (a prefix covering the parent's exact) is narrowing */
  child.allow[0] = pat("user.create");
  child.forbid[0] = pat("user.*");
  assert_int_equal(cnv__deleg_narrows(&parent, &child), CNV_OK);
  child.forbid[0] = pat("user.update");
  assert_int_equal(cnv__deleg_narrows(&parent, &child), CNV_EDELEG_DROPPED_FORBIDDEN);
  /* forbidden wins */
  cnv_deleg_cap del = cap_of("user.delete"), cr = cap_of("user.create"), fl = cap_of("fleet.x");
  assert_int_equal(cnv__deleg_cap_check(&parent, &del), CNV_EDELEG_FORBIDDEN);
  assert_int_equal(cnv__deleg_cap_check(&parent, &cr), CNV_OK);
  assert_int_equal(cnv__deleg_cap_check(&parent, &fl), CNV_EDELEG_NOT_ALLOWED);
}

/* A random set of distinct patterns drawn from `pool`. */
static void random_set(uint64_t *rng, const cnv_deleg_pattern *pool, size_t n_pool, cnv_deleg_pattern *set,
                       uint8_t *n) {
  *n = 0;
  for (size_t i = 0; i < n_pool && *n < CNV_DELEG_MAX_PATTERNS; i++) {
    if (cnv_test_rand(rng) % 3 == 0) set[(*n)++] = pool[i];
  }
}

/* Soundness of attenuation on ids alone: whenever narrows() accepts a child, every
 * capability the child admits (forbidden wins) is admitted by the parent. */
static void test_narrowing_sound(void **state) {
  (void)state;
  static const char *pats[] = {"user.*", "fleet.*", "admin.*", "user", "fleet", "user.create", "user.delete",
                               "user.read", "fleet.drain", "fleet.node.drain", "admin.create", "user.a.b"};
  static const char *caps[] = {"user", "fleet", "admin", "user.create", "user.delete", "user.read", "user.x",
                               "fleet.drain", "fleet.node.drain", "admin.create", "user.a.b", "other.x"};
  enum { NP = sizeof pats / sizeof *pats,
         NC = sizeof caps / sizeof *caps };
  cnv_deleg_pattern pool[NP];
  cnv_deleg_cap cs[NC];
  for (size_t i = 0; i < NP; i++) pool[i] = pat(pats[i]);
  for (size_t i = 0; i < NC; i++) cs[i] = cap_of(caps[i]);
  uint64_t rng = 42;
  int accepted = 0;
  for (int iter = 0; iter < 20000; iter++) {
    cnv_deleg_caveats p, c;
    cav_init(&p);
    cav_init(&c);
    c.depth = 1;
    random_set(&rng, pool, NP, p.allow, &p.n_allow);
    random_set(&rng, pool, NP, p.forbid, &p.n_forbid);
    random_set(&rng, pool, NP, c.allow, &c.n_allow);
    random_set(&rng, pool, NP, c.forbid, &c.n_forbid);
    if (cnv__deleg_narrows(&p, &c) != CNV_OK) continue;
    accepted++;
    for (size_t k = 0; k < NC; k++) {
      if (cnv__deleg_cap_check(&c, &cs[k]) == CNV_OK) assert_int_equal(cnv__deleg_cap_check(&p, &cs[k]), CNV_OK);
    }
  }
  assert_true(accepted > 100);
}

static size_t std_token(uint8_t *buf) {
  fixture f;
  tkey_make(&f.r, 1);
  tkey_make(&f.a, 2);
  tkey_make(&f.b, 3);
  tkey_make(&f.c, 4);
  std_chain(&f, 0x10);
  memcpy(buf, f.tok, f.len);
  return f.len;
}

static void test_round_trip(void **state) {
  (void)state;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES], out[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = std_token(buf), n;
  cnv_deleg_token tok;
  assert_int_equal(cnv_deleg_token_decode(buf, len, &tok, NULL), CNV_OK);
  assert_int_equal(tok.n_links, 3);
  assert_int_equal(cnv_deleg_token_encode(&tok, out, sizeof out, &n), CNV_OK);
  assert_int_equal(n, len);
  assert_memory_equal(out, buf, len);
  assert_int_equal(cnv_deleg_token_encode(&tok, out, len - 1, &n), CNV_ERANGE);
  assert_int_equal(n, len);
  assert_int_equal(cnv_deleg_token_encode(&tok, NULL, 0, &n), CNV_ERANGE);
  tok.version = 2;
  assert_int_equal(cnv_deleg_token_encode(&tok, out, sizeof out, &n), CNV_ETOKEN_VERSION);
}

/* Decodes buf after mutate() and expects `want` at link `link`. */
static void expect_decode(const uint8_t *buf, size_t len, cnv_status want, int32_t link) {
  cnv_deleg_token tok;
  cnv_deleg_error err = {.link = -9};
  assert_string_equal(cnv_status_name(cnv_deleg_token_decode(buf, len, &tok, &err)), cnv_status_name(want));
  assert_int_equal(err.link, link);
}

static void test_non_canonical(void **state) {
  (void)state;
  uint8_t good[CNV_DELEG_MAX_TOKEN_BYTES], buf[CNV_DELEG_MAX_TOKEN_BYTES + 1];
  size_t len = std_token(good);
  const size_t allow0 = CNV_DELEG_HEADER_BYTES + CNV_DELEG_LINK_FIXED_BYTES - 1; /* first pattern */
#define RESET() memcpy(buf, good, len)
  RESET();
  buf[0] = 'X';
  expect_decode(buf, len, CNV_ETOKEN_MAGIC, -1);
  RESET();
  buf[4] = 2;
  expect_decode(buf, len, CNV_ETOKEN_VERSION, -1);
  RESET();
  buf[4] = 0;
  expect_decode(buf, len, CNV_ETOKEN_VERSION, -1);
  RESET();
  buf[5] = 0;
  expect_decode(buf, len, CNV_ETOKEN_LINK_COUNT, -1);
  RESET();
  buf[5] = 200;
  expect_decode(buf, len, CNV_ETOKEN_LINK_COUNT, -1);
  RESET();
  buf[len] = 0;
  expect_decode(buf, len + 1, CNV_ETOKEN_TRAILING, -1);
  RESET();
  expect_decode(buf, 3, CNV_ETOKEN_TRUNCATED, -1);
  RESET();
  expect_decode(buf, len - 1, CNV_ETOKEN_TRUNCATED, 2);
  /* swap link 0's two allowed patterns: unsorted; copy one over the other: duplicate */
  RESET();
  memcpy(buf + allow0, good + allow0 + 17, 17);
  memcpy(buf + allow0 + 17, good + allow0, 17);
  expect_decode(buf, len, CNV_ETOKEN_UNSORTED, 0);
  RESET();
  memcpy(buf + allow0 + 17, good + allow0, 17);
  expect_decode(buf, len, CNV_ETOKEN_DUPLICATE, 0);
  RESET();
  buf[allow0] = 3;
  expect_decode(buf, len, CNV_ETOKEN_BAD_PATTERN, 0);
  RESET();
  buf[allow0] = 0;
  expect_decode(buf, len, CNV_ETOKEN_BAD_PATTERN, 0);
  /* link 0's allow set is {exact fleet.node.drain, prefix user}: corrupt the prefix's id */
  RESET();
  buf[allow0 + 17 + 1] ^= 1;
  expect_decode(buf, len, CNV_ETOKEN_BAD_PATTERN, 0);
  /* not_before after expiry */
  RESET();
  memset(buf + CNV_DELEG_HEADER_BYTES + 112, 0xff, 8);
  expect_decode(buf, len, CNV_ETOKEN_BAD_WINDOW, 0);
  RESET();
  buf[allow0 - 1] = 17;
  expect_decode(buf, len, CNV_ETOKEN_PATTERN_COUNT, 0);
#undef RESET
}

static void test_mint_errors(void **state) {
  (void)state;
  tkey r, a;
  tkey_make(&r, 1);
  tkey_make(&a, 2);
  cnv_deleg_caveats c;
  cav_init(&c);
  cav_allow(&c, "user.b");
  cav_allow(&c, "user.a");
  uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, sizeof out, &n), CNV_OK); /* sorted by mint */
  cnv_deleg_token tok;
  assert_int_equal(cnv_deleg_token_decode(out, n, &tok, NULL), CNV_OK);
  assert_true(cnv__deleg_pattern_cmp(&tok.links[0].caveats.allow[0], &tok.links[0].caveats.allow[1]) < 0);
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, 10, &n), CNV_ERANGE);
  cav_allow(&c, "user.a");
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, sizeof out, &n), CNV_ETOKEN_DUPLICATE);
  c.n_allow = 17;
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, sizeof out, &n), CNV_ETOKEN_PATTERN_COUNT);
  cav_init(&c);
  c.not_before = 10;
  c.expiry = 9;
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, sizeof out, &n), CNV_ETOKEN_BAD_WINDOW);
  cav_init(&c);
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, sizeof out, &n), CNV_OK);
  uint8_t out2[CNV_DELEG_MAX_TOKEN_BYTES];
  c.depth = 1;
  /* only the audience (a) may attenuate */
  assert_int_equal(cnv_deleg_attenuate(out, n, r.sk, a.pk, &c, NULL, out2, sizeof out2, &n), CNV_EDELEG_WRONG_KEY);
  assert_int_equal(cnv_deleg_mint_root(NULL, a.pk, &c, NULL, out, sizeof out, &n), CNV_EINVAL);
  /* attenuate: output too small (the size needed is still reported), then a fit */
  assert_int_equal(cnv_deleg_mint_root(r.sk, a.pk, &c, NULL, out, sizeof out, &n), CNV_OK);
  size_t m = 0;
  c.depth = 0; /* the root minted just above has depth 1 */
  assert_int_equal(cnv_deleg_attenuate(out, n, a.sk, r.pk, &c, NULL, out2, n, &m), CNV_ERANGE);
  assert_int_equal(m, n + CNV_DELEG_LINK_FIXED_BYTES + CNV_DELEG_SIG_BYTES);
  assert_int_equal(cnv_deleg_attenuate(out, n, a.sk, r.pk, &c, NULL, out2, m, &m), CNV_OK);
  assert_int_equal(cnv_deleg_attenuate(out, n - 1, a.sk, r.pk, &c, NULL, out2, sizeof out2, &m),
                   CNV_ETOKEN_TRUNCATED);
  assert_int_equal(cnv_deleg_attenuate(NULL, n, a.sk, r.pk, &c, NULL, out2, sizeof out2, &m), CNV_EINVAL);
}

int main(void) {
  assert_true(sodium_init() >= 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_patterns),
      cmocka_unit_test(test_narrowing_rules),
      cmocka_unit_test(test_narrowing_sound),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_non_canonical),
      cmocka_unit_test(test_mint_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
