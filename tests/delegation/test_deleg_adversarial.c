/* Adversarial suite: every attack on a token chain is rejected with the right rule and link.
 * A token with several faults reports the first in the documented order (docs/delegation.md
 * #rules): encoding, trust, revocation, time, swarm, holder (all cheap), then per link
 * principals, parent hash, signature and narrowing, then capability and effects. */
#include "deleg_fixture.h"

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  fixture_setup(f, 0); /* no cache: every call runs the full verification */
  *state = f;
  return 0;
}

static void test_valid_chain(void **state) {
  fixture *f = *state;
  cnv_deleg_cap cap = cap_of("user.create");
  cnv_deleg_request req = std_request(&cap);
  req.holder = f->c.pk;
  cnv_deleg_caveats eff;
  cnv_deleg_error err;
  assert_int_equal(cnv_deleg_verify(f->v, f->tok, f->len, &req, &eff, &err), CNV_OK);
  assert_int_equal(err.link, -1);
  assert_int_equal(eff.n_allow, 2);
  assert_int_equal(eff.effects, CNV_EFFECT_READ_ONLY);
  assert_int_equal(eff.not_before, 1020);
  assert_int_equal(eff.expiry, 98000);
  assert_int_equal(eff.swarm, 7);
  /* prefixes are valid tokens of their own holders */
  expect_verify(f->v, f->tok1, f->len1, &req, CNV_EDELEG_WRONG_HOLDER, 0);
  req.holder = f->a.pk;
  expect_verify(f->v, f->tok1, f->len1, &req, CNV_OK, -1);
}

/* The holder of C's token cuts links off its end: every prefix still has valid signatures,
 * parent hashes and principals; only the holder check tells B's token from C's cut one. */
static void test_prefix_cut(void **state) {
  fixture *f = *state;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  cnv_deleg_cap cap = cap_of("user.update"); /* the leaf allows only user.create/read */
  cnv_deleg_request req = std_request(&cap);
  req.holder = f->c.pk;
  req.effects = CNV_EFFECT_MUTATE_STATE; /* the leaf's ceiling is READ_ONLY */
  memcpy(buf, f->tok, f->len2);
  buf[5] = 2;
  expect_verify(f->v, buf, f->len2, &req, CNV_EDELEG_WRONG_HOLDER, 1);
  req.holder = NULL;
  expect_verify(f->v, buf, f->len2, &req, CNV_EDELEG_NO_HOLDER, -1);
  assert_int_equal(cnv_deleg_authorize(f->v, buf, f->len2, &req, NULL, NULL), CNV_EDELEG_NO_HOLDER);
  memcpy(buf, f->tok, f->len1);
  buf[5] = 1;
  cap = cap_of("fleet.node.drain");
  req.effects = CNV_EFFECT_NETWORK;
  expect_verify(f->v, buf, f->len1, &req, CNV_EDELEG_NO_HOLDER, -1);
  req.holder = f->c.pk;
  expect_verify(f->v, buf, f->len1, &req, CNV_EDELEG_WRONG_HOLDER, 0);
}

static void test_forge_matches_mint(void **state) {
  fixture *f = *state;
  fspec s[3];
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  std_specs(f, s, 0x10);
  assert_int_equal(forge(s, 3, buf), f->len);
  assert_memory_equal(buf, f->tok, f->len);
}

static void test_capability_and_effects(void **state) {
  fixture *f = *state;
  cnv_deleg_cap cap = cap_of("user.delete");
  cnv_deleg_request req = std_request(&cap);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_FORBIDDEN, 2);
  cap = cap_of("user.update");
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_NOT_ALLOWED, 2);
  cap = cap_of("user.read");
  req.effects = CNV_EFFECT_READ_ONLY | CNV_EFFECT_NETWORK;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_EFFECTS_EXCEEDED, 2);
  /* forbidden wins over an allowing prefix: link 1 allows user.* but forbids user.delete */
  cap = cap_of("user.delete");
  req.effects = CNV_EFFECT_READ_ONLY;
  req.holder = f->b.pk; /* tok2 is B's token */
  expect_verify(f->v, f->tok2, f->len2, &req, CNV_EDELEG_FORBIDDEN, 1);
  cap = cap_of("user.anything");
  expect_verify(f->v, f->tok2, f->len2, &req, CNV_OK, -1);
}

/* Removing links or patterns. */
static void test_caveat_stripping(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  /* drop the middle link */
  size_t l0 = f->len1, l1 = f->len2 - f->len1, l2 = f->len - f->len2;
  memcpy(buf, f->tok, l0);
  memcpy(buf + l0, f->tok + f->len2, l2);
  buf[5] = 2;
  expect_verify(f->v, buf, l0 + l2, &req, CNV_EDELEG_MISALIGNED, 1);
  (void)l1;
  /* drop the leaf: only its audience's holder (B) may present what is left */
  req.holder = f->c.pk;
  memcpy(buf, f->tok, f->len2);
  buf[5] = 2;
  expect_verify(f->v, buf, f->len2, &req, CNV_EDELEG_WRONG_HOLDER, 1);
  req.holder = f->c.pk;
  /* drop a forbidden pattern from link 1 and an allowed one from link 2 */
  cnv_deleg_token tok;
  size_t n;
  for (int link = 1; link <= 2; link++) {
    assert_int_equal(cnv_deleg_token_decode(f->tok, f->len, &tok, NULL), CNV_OK);
    if (link == 1)
      tok.links[1].caveats.n_forbid = 0;
    else
      tok.links[2].caveats.n_allow = 1;
    assert_int_equal(cnv_deleg_token_encode(&tok, buf, sizeof buf, &n), CNV_OK);
    expect_verify(f->v, buf, n, &req, CNV_EDELEG_BAD_SIGNATURE, link);
  }
}

static void test_truncation(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  for (size_t n = 0; n < f->len; n++) {
    cnv_deleg_error err;
    cnv_status st = cnv_deleg_verify(f->v, f->tok, n, &req, NULL, &err);
    assert_int_equal(st, CNV_ETOKEN_TRUNCATED);
  }
  /* trailing bytes */
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES + 1];
  memcpy(buf, f->tok, f->len);
  buf[f->len] = 0;
  expect_verify(f->v, buf, f->len + 1, &req, CNV_ETOKEN_TRAILING, -1);
  /* longer than any token can be: rejected by the parser, never hashed for the cache */
  static uint8_t big[CNV_DELEG_MAX_TOKEN_BYTES + 100];
  memcpy(big, f->tok, f->len);
  expect_verify(f->v, big, sizeof big, &req, CNV_ETOKEN_TRAILING, -1);
}

/* The error every flipped bit must produce, by the region it falls in. */
static void check_flip(const fixture *f, const cnv__deleg_span *spans, size_t off, cnv_status st,
                       const cnv_deleg_error *err) {
  assert_true(st < 0);
  if (off < 4) {
    assert_int_equal(st, CNV_ETOKEN_MAGIC);
    return;
  }
  if (off == 4) {
    assert_int_equal(st, CNV_ETOKEN_VERSION);
    return;
  }
  bool encoding = st <= CNV_ETOKEN_TRUNCATED && st >= CNV_ETOKEN_BAD_WINDOW;
  if (off == 5) {
    assert_true(encoding);
    return;
  }
  int i = 2;
  while (off < spans[i].off) i--;
  size_t rel = off - spans[i].off;
  (void)f;
  if (rel < 32) {
    assert_int_equal(st, i == 0 ? CNV_EDELEG_UNTRUSTED_ROOT : CNV_EDELEG_MISALIGNED);
  } else if (rel < 64 && i == 2) { /* the leaf's audience is the holder: checked before signatures */
    assert_int_equal(st, CNV_EDELEG_WRONG_HOLDER);
  } else if (rel >= 64 && rel < 96) {
    assert_int_equal(st, CNV_EDELEG_PARENT_HASH);
  } else if (rel >= spans[i].body_len) {
    assert_int_equal(st, CNV_EDELEG_BAD_SIGNATURE);
  } else {
    /* a flipped window or swarm is judged by the cheap checks before the signature */
    bool window = rel >= 112 && rel < 128 && (st == CNV_EDELEG_NOT_YET_VALID || st == CNV_EDELEG_EXPIRED);
    bool swarm = rel >= 128 && rel < 136 && st == CNV_EDELEG_WRONG_SWARM;
    assert_true(encoding || window || swarm || st == CNV_EDELEG_BAD_SIGNATURE);
    if (rel < 112) assert_int_equal(st, CNV_EDELEG_BAD_SIGNATURE);
  }
  if (!encoding || rel < 143) assert_int_equal(err->link, i);
}

static void test_every_bit_flip(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  assert_int_equal(cnv__deleg_parse(f->tok, f->len, &tok, spans, NULL), CNV_OK);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  memcpy(buf, f->tok, f->len);
  for (size_t bit = 0; bit < f->len * 8; bit++) {
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cnv_deleg_error err;
    cnv_status st = cnv_deleg_verify(f->v, buf, f->len, &req, NULL, &err);
    check_flip(f, spans, bit / 8, st, &err);
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  expect_verify(f->v, buf, f->len, &req, CNV_OK, -1);
}

static void test_reordered_and_spliced(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t l1 = f->len2 - f->len1, l2 = f->len - f->len2;
  memcpy(buf, f->tok, f->len1);
  memcpy(buf + f->len1, f->tok + f->len2, l2);
  memcpy(buf + f->len1 + l2, f->tok + f->len1, l1);
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_WRONG_HOLDER, 2); /* B's link is last now */
  req.holder = f->b.pk;
  expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_MISALIGNED, 1);
  /* a sibling chain R->A->B with other nonces: its link 1 aligns but names another parent */
  fixture g = *f;
  std_chain(&g, 0x40);
  memcpy(buf, f->tok, f->len1);
  memcpy(buf + f->len1, g.tok + g.len1, g.len2 - g.len1);
  buf[5] = 2;
  expect_verify(f->v, buf, f->len1 + (g.len2 - g.len1), &req, CNV_EDELEG_PARENT_HASH, 1);
  req.holder = f->c.pk;
  expect_verify(f->v, g.tok, g.len, &req, CNV_OK, -1);
}

typedef void (*widen_fn)(cnv_deleg_caveats *c);
static void widen_allow(cnv_deleg_caveats *c) { cav_allow(c, "fleet.node.drain"); }
static void drop_forbidden(cnv_deleg_caveats *c) { c->n_forbid = 0; }
static void widen_effects(cnv_deleg_caveats *c) { c->effects |= CNV_EFFECT_NETWORK; }
static void widen_window(cnv_deleg_caveats *c) { c->expiry = 99500; }
static void widen_start(cnv_deleg_caveats *c) { c->not_before = 1005; }
static void widen_uses(cnv_deleg_caveats *c) { c->max_uses = 10; }
static void same_depth(cnv_deleg_caveats *c) { c->depth = 4; }
static void widen_swarm(cnv_deleg_caveats *c) { c->swarm = CNV_DELEG_ANY_SWARM; }
static void change_swarm(cnv_deleg_caveats *c) { c->swarm = 8; }

/* Each widening of link 2 is refused by attenuate and, forged, by verify at link 2. */
static void test_widening(void **state) {
  fixture *f = *state;
  /* verify: what verification reports. A leaf that names another swarm than its parent can
   * match no request: the swarm check (cheap, before any signature) rejects it first. */
  static const struct {
    widen_fn fn;
    cnv_status want;
    cnv_status verify;
  } cases[] = {
      {widen_allow, CNV_EDELEG_WIDENED_ALLOW, CNV_EDELEG_WIDENED_ALLOW},
      {drop_forbidden, CNV_EDELEG_DROPPED_FORBIDDEN, CNV_EDELEG_DROPPED_FORBIDDEN},
      {widen_effects, CNV_EDELEG_WIDENED_EFFECTS, CNV_EDELEG_WIDENED_EFFECTS},
      {widen_window, CNV_EDELEG_WIDENED_WINDOW, CNV_EDELEG_WIDENED_WINDOW},
      {widen_start, CNV_EDELEG_WIDENED_WINDOW, CNV_EDELEG_WIDENED_WINDOW},
      {widen_uses, CNV_EDELEG_WIDENED_USES, CNV_EDELEG_WIDENED_USES},
      {same_depth, CNV_EDELEG_DEPTH, CNV_EDELEG_DEPTH},
      {widen_swarm, CNV_EDELEG_WIDENED_SWARM, CNV_EDELEG_WIDENED_SWARM},
      {change_swarm, CNV_EDELEG_WIDENED_SWARM, CNV_EDELEG_WRONG_SWARM},
  };
  cnv_deleg_request req = std_request(NULL);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t n;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    fspec s[3];
    std_specs(f, s, 0x10);
    s[1].cav.max_uses = 5; /* so widen_uses has something to widen */
    s[2].cav.max_uses = 5;
    cases[k].fn(&s[2].cav);
    size_t len2 = forge(s, 2, buf);
    uint8_t out[CNV_DELEG_MAX_TOKEN_BYTES];
    assert_int_equal(cnv_deleg_attenuate(buf, len2, f->b.sk, f->c.pk, &s[2].cav, NULL, out, sizeof out, &n),
                     cases[k].want);
    n = forge(s, 3, buf);
    expect_verify(f->v, buf, n, &req, cases[k].verify, 2);
  }
  /* presented in the leaf's swarm, the root's swarm (7) fails first */
  req.swarm = 8;
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_WRONG_SWARM, 0);
}

static void test_time(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  fspec s[3];
  /* expired middle link (the leaf inside it) */
  std_specs(f, s, 0x10);
  s[1].cav.expiry = 4000;
  s[2].cav.expiry = 4000;
  size_t n = forge(s, 3, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_EXPIRED, 1);
  /* not-yet-valid middle link */
  std_specs(f, s, 0x10);
  s[1].cav.not_before = 6000;
  s[2].cav.not_before = 6000;
  n = forge(s, 3, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_NOT_YET_VALID, 1);
  /* skew boundaries (skew 30): leaf window [1020, 98000] */
  req.now = 98030;
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  req.now = 98031;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_EXPIRED, 2);
  req.now = 990; /* 990 + 30 == 1020: link 2 starts exactly now; link 0 and 1 earlier */
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  req.now = 989;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_NOT_YET_VALID, 2);
  req.now = 969;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_NOT_YET_VALID, 0);
}

/* Windows near UINT64_MAX: skew additions saturate instead of wrapping. */
static void test_saturating_skew(void **state) {
  fixture *f = *state;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  fspec s[3];
  std_specs(f, s, 0x10);
  s[0].cav.not_before = UINT64_MAX - 10;
  s[0].cav.expiry = UINT64_MAX - 5;
  size_t n = forge(s, 1, buf);
  cnv_deleg_request req = std_request(NULL);
  req.holder = f->a.pk; /* a root-only token: A holds it */
  req.now = UINT64_MAX; /* UINT64_MAX > (MAX-5)+30 would be false if it wrapped */
  expect_verify(f->v, buf, n, &req, CNV_OK, -1);
  req.now = UINT64_MAX - 1;
  expect_verify(f->v, buf, n, &req, CNV_OK, -1);
  req.now = UINT64_MAX - 40; /* now + skew == not_before */
  expect_verify(f->v, buf, n, &req, CNV_OK, -1);
  req.now = UINT64_MAX - 41;
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_NOT_YET_VALID, 0);
  s[0].cav.not_before = 0;
  s[0].cav.expiry = 10;
  n = forge(s, 1, buf);
  req.now = UINT64_MAX;
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_EXPIRED, 0);
}

static void test_depth(void **state) {
  fixture *f = *state;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES], out[CNV_DELEG_MAX_TOKEN_BYTES];
  cnv_deleg_request req = std_request(NULL);
  fspec s[3];
  std_specs(f, s, 0x10);
  s[1].cav.depth = 0;
  s[2].cav.depth = 0;
  size_t n = forge(s, 2, buf), m;
  req.holder = f->b.pk;
  expect_verify(f->v, buf, n, &req, CNV_OK, -1);
  req.holder = f->c.pk;
  assert_int_equal(cnv_deleg_attenuate(buf, n, f->b.sk, f->c.pk, &s[2].cav, NULL, out, sizeof out, &m),
                   CNV_EDELEG_DEPTH);
  n = forge(s, 3, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_DEPTH, 2);
  /* a chain of CNV_DELEG_MAX_LINKS links cannot grow; a 9-link header is malformed */
  fspec l[CNV_DELEG_MAX_LINKS];
  const tkey *keys[CNV_DELEG_MAX_LINKS + 1] = {&f->r, &f->a, &f->b, &f->c, &f->u, &f->r, &f->a, &f->b, &f->c};
  for (int i = 0; i < CNV_DELEG_MAX_LINKS; i++) {
    l[i].issuer_sk = keys[i]->sk;
    l[i].audience = keys[i + 1]->pk;
    cav_init(&l[i].cav);
    l[i].cav.depth = (uint8_t)(20 - i);
    l[i].nonce = (uint8_t)i;
  }
  n = forge(l, CNV_DELEG_MAX_LINKS, buf);
  expect_verify(f->v, buf, n, &req, CNV_OK, -1);
  assert_int_equal(cnv_deleg_attenuate(buf, n, f->c.sk, f->a.pk, &l[7].cav, NULL, out, sizeof out, &m),
                   CNV_ETOKEN_LINK_COUNT);
  buf[5] = CNV_DELEG_MAX_LINKS + 1;
  expect_verify(f->v, buf, n, &req, CNV_ETOKEN_LINK_COUNT, -1);
}

static void test_length_fields(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t at = CNV_DELEG_HEADER_BYTES + CNV_DELEG_LINK_FIXED_BYTES - 2; /* link 0's n_allow */
  for (unsigned count = 0; count < 256; count++) {
    memcpy(buf, f->tok, f->len);
    if (count == buf[at]) continue;
    buf[at] = (uint8_t)count;
    cnv_deleg_error err;
    cnv_status st = cnv_deleg_verify(f->v, buf, f->len, &req, NULL, &err);
    if (count > CNV_DELEG_MAX_PATTERNS) {
      assert_int_equal(st, CNV_ETOKEN_PATTERN_COUNT);
      assert_int_equal(err.offset, at);
    } else { /* the rest is read at the wrong offsets: an encoding error or, if it still
              * parses, a signature that no longer covers these bytes */
      assert_true((st <= CNV_ETOKEN_TRUNCATED && st >= CNV_ETOKEN_BAD_WINDOW) ||
                  (st == CNV_EDELEG_BAD_SIGNATURE && err.link == 0));
    }
  }
  /* a count that runs past the end of a short token */
  memcpy(buf, f->tok, f->len1);
  buf[at] = CNV_DELEG_MAX_PATTERNS;
  expect_verify(f->v, buf, f->len1, &req, CNV_ETOKEN_TRUNCATED, 0);
}

static void test_revocation(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  fixture g = *f;
  std_chain(&g, 0x40);
  uint8_t h[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(g.tok, g.len, 1, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK); /* unrelated to f's chain */
  expect_verify(f->v, f->tok, f->len, &req, CNV_OK, -1);
  expect_verify(f->v, g.tok, g.len, &req, CNV_EDELEG_REVOKED, 1);
  req.holder = f->a.pk;
  expect_verify(f->v, g.tok1, g.len1, &req, CNV_OK, -1);
  req.holder = f->c.pk;
  assert_int_equal(cnv_deleg_link_hash(f->tok, f->len, 0, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_REVOKED, 0);
  expect_verify(f->v, f->tok2, f->len2, &req, CNV_EDELEG_REVOKED, 0);
  assert_int_equal(cnv_deleg_link_hash(f->tok, f->len, 3, h), CNV_ERANGE);
}

static void test_principals(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  fspec s[3];
  /* link 1 issued by a stranger, parent hash intact */
  std_specs(f, s, 0x10);
  s[1].issuer_sk = f->u.sk;
  size_t n = forge(s, 3, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_MISALIGNED, 1);
  /* untrusted root */
  std_specs(f, s, 0x10);
  s[0].issuer_sk = f->u.sk;
  n = forge(s, 3, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_UNTRUSTED_ROOT, 0);
  /* self-signed root (issuer == audience) by a stranger */
  std_specs(f, s, 0x10);
  s[0].issuer_sk = f->u.sk;
  s[0].audience = f->u.pk;
  n = forge(s, 1, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_UNTRUSTED_ROOT, 0);
  /* a root that claims the trusted key but is signed by the stranger */
  n = forge(s, 1, buf);
  memcpy(buf + CNV_DELEG_HEADER_BYTES, f->r.pk, 32);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_WRONG_HOLDER, 0); /* the holder is checked first */
  req.holder = f->u.pk;
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_BAD_SIGNATURE, 0);
  req.holder = f->c.pk;
  /* trust removal */
  assert_int_equal(cnv_deleg_trust_remove(f->v, f->r.pk), CNV_OK);
  assert_int_equal(cnv_deleg_trust_remove(f->v, f->r.pk), CNV_ENOTFOUND);
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_UNTRUSTED_ROOT, 0);
}

static void test_wrong_swarm(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  req.swarm = 8;
  expect_verify(f->v, f->tok, f->len, &req, CNV_EDELEG_WRONG_SWARM, 0);
  /* a link that binds a swarm below an any-swarm parent */
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  fspec s[3];
  std_specs(f, s, 0x10);
  s[0].cav.swarm = CNV_DELEG_ANY_SWARM;
  s[1].cav.swarm = CNV_DELEG_ANY_SWARM;
  size_t n = forge(s, 3, buf);
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_WRONG_SWARM, 2);
  req.swarm = 7;
  expect_verify(f->v, buf, n, &req, CNV_OK, -1);
}

/* S + L (the group order) is the same scalar mod L: a malleable verifier would accept it. */
static void add_group_order(uint8_t s[32]) {
  static const uint8_t l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
                                0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  unsigned carry = 0;
  for (int i = 0; i < 32; i++) {
    unsigned t = s[i] + l[i] + carry;
    s[i] = (uint8_t)t;
    carry = t >> 8;
  }
}

static void test_malleability(void **state) {
  fixture *f = *state;
  cnv_deleg_request req = std_request(NULL);
  cnv_deleg_token tok;
  cnv__deleg_span spans[CNV_DELEG_MAX_LINKS];
  assert_int_equal(cnv__deleg_parse(f->tok, f->len, &tok, spans, NULL), CNV_OK);
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  for (int i = 0; i < 3; i++) {
    memcpy(buf, f->tok, f->len);
    add_group_order(buf + spans[i].off + spans[i].body_len + 32);
    expect_verify(f->v, buf, f->len, &req, CNV_EDELEG_BAD_SIGNATURE, i);
  }
  /* small-order public key (the identity point) with R = identity, S = 0: the equation
   * [S]B = R + [k]A holds for every message, so only a small-order check rejects it. The
   * decoder refuses the key before any signature is checked, trust_add refuses to trust it,
   * and libsodium's signature check refuses it as well. */
  static const uint8_t identity[32] = {1};
  fspec s[3];
  std_specs(f, s, 0x10);
  s[0].audience = identity;
  size_t n1 = forge(s, 1, buf);
  size_t n = forge(s, 2, buf);
  memcpy(buf + n1, identity, 32);
  uint8_t *sig = buf + n - 64;
  memset(sig, 0, 64);
  sig[0] = 1;
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_BAD_KEY, 0);
  assert_false(cnv__deleg_verify_body(buf + n1, n - n1 - 64, sig, identity));
  assert_int_equal(cnv_deleg_trust_add(f->v, identity), CNV_EDELEG_BAD_KEY);
  n = forge(s, 1, buf);
  memcpy(buf + CNV_DELEG_HEADER_BYTES, identity, 32);
  memset(buf + n - 64, 0, 64);
  buf[n - 64] = 1;
  expect_verify(f->v, buf, n, &req, CNV_EDELEG_BAD_KEY, 0);
  assert_false(cnv__deleg_verify_body(buf + CNV_DELEG_HEADER_BYTES, n - CNV_DELEG_HEADER_BYTES - 64, buf + n - 64,
                                      identity));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_valid_chain, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_prefix_cut, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_forge_matches_mint, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_capability_and_effects, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_caveat_stripping, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_truncation, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_every_bit_flip, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_reordered_and_spliced, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_widening, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_time, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_saturating_skew, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_depth, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_length_fields, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_revocation, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_principals, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_wrong_swarm, setup, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_malleability, setup, fixture_teardown_free),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
