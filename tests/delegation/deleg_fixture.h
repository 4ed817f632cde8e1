/* Shared fixture of the delegation tests: fixed keys, caveat builders, a standard 3-link
 * chain R -> A -> B -> C, and a forger that signs links without the narrowing checks (to
 * build the invalid tokens mint refuses to make). Header-only; each test includes it once. */
#ifndef CNV_TEST_DELEG_FIXTURE_H
#define CNV_TEST_DELEG_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include <cnv/delegation.h>

#include "delegation/deleg.h"

typedef struct tkey {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  uint8_t sk[CNV_DELEG_SECRET_BYTES];
} tkey;

/* Key pair from a seed of 32 copies of one byte. */
static inline void tkey_make(tkey *k, uint8_t seed_byte) {
  uint8_t seed[crypto_sign_SEEDBYTES];
  memset(seed, seed_byte, sizeof seed);
  crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static inline cnv_deleg_pattern pat(const char *text) {
  cnv_deleg_pattern p;
  assert_int_equal(cnv_deleg_pattern_parse(text, strlen(text), &p), CNV_OK);
  return p;
}

static inline cnv_deleg_cap cap_of(const char *path) {
  cnv_deleg_cap c;
  assert_int_equal(cnv_deleg_cap_from_path(path, strlen(path), &c), CNV_OK);
  return c;
}

/* Everything allowed-shaped but empty sets, all effects, no limits. */
static inline void cav_init(cnv_deleg_caveats *c) {
  memset(c, 0, sizeof *c);
  c->expiry = CNV_DELEG_NO_EXPIRY;
  c->max_uses = CNV_DELEG_UNLIMITED_USES;
  c->effects = CNV_EFFECTS_ALL;
  c->depth = 7;
}
static inline void cav_allow(cnv_deleg_caveats *c, const char *t) { c->allow[c->n_allow++] = pat(t); }
static inline void cav_forbid(cnv_deleg_caveats *c, const char *t) { c->forbid[c->n_forbid++] = pat(t); }

/* The standard chain's caveats, link by link. */
static inline void std_caveats(int i, cnv_deleg_caveats *c) {
  cav_init(c);
  c->swarm = 7;
  c->not_before = 1000 + (uint64_t)i * 10;
  c->expiry = 100000 - (uint64_t)i * 1000;
  c->depth = (uint8_t)(5 - i);
  cav_forbid(c, "user.delete");
  if (i == 0) {
    cav_allow(c, "user.*");
    cav_allow(c, "fleet.node.drain");
    c->effects = CNV_EFFECT_READ_ONLY | CNV_EFFECT_MUTATE_STATE | CNV_EFFECT_NETWORK;
  } else if (i == 1) {
    cav_allow(c, "user.*");
    c->effects = CNV_EFFECT_READ_ONLY | CNV_EFFECT_MUTATE_STATE;
  } else {
    cav_allow(c, "user.create");
    cav_allow(c, "user.read");
    c->effects = CNV_EFFECT_READ_ONLY;
  }
}

typedef struct fixture {
  tkey r, a, b, c, u; /* r: trusted root; u: an untrusted stranger */
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len;
  uint8_t tok1[CNV_DELEG_MAX_TOKEN_BYTES]; /* R->A: the token A attenuated */
  uint8_t tok2[CNV_DELEG_MAX_TOKEN_BYTES]; /* R->A->B */
  size_t len1, len2;                       /* their lengths: also where links 1 and 2 start in tok */
  cnv_deleg_verifier *v;
} fixture;

static inline void nonce_of(uint8_t n[CNV_DELEG_NONCE_BYTES], uint8_t b) { memset(n, b, CNV_DELEG_NONCE_BYTES); }

/* Builds R->A->B->C with mint and attenuate; nonce bytes 0x10+i. */
static inline void std_chain(fixture *f, uint8_t nonce_base) {
  cnv_deleg_caveats cav;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  uint8_t *t1 = f->tok1, *t2 = f->tok2;
  std_caveats(0, &cav);
  nonce_of(nonce, nonce_base);
  assert_int_equal(cnv_deleg_mint_root(f->r.sk, f->a.pk, &cav, nonce, t1, CNV_DELEG_MAX_TOKEN_BYTES, &f->len1), CNV_OK);
  std_caveats(1, &cav);
  nonce_of(nonce, (uint8_t)(nonce_base + 1));
  assert_int_equal(cnv_deleg_attenuate(t1, f->len1, f->a.sk, f->b.pk, &cav, nonce, t2, CNV_DELEG_MAX_TOKEN_BYTES, &f->len2), CNV_OK);
  std_caveats(2, &cav);
  nonce_of(nonce, (uint8_t)(nonce_base + 2));
  assert_int_equal(cnv_deleg_attenuate(t2, f->len2, f->b.sk, f->c.pk, &cav, nonce, f->tok, sizeof f->tok, &f->len),
                   CNV_OK);
}

static inline void fixture_setup(fixture *f, uint32_t cache_capacity) {
  assert_true(sodium_init() >= 0);
  tkey_make(&f->r, 1);
  tkey_make(&f->a, 2);
  tkey_make(&f->b, 3);
  tkey_make(&f->c, 4);
  tkey_make(&f->u, 5);
  std_chain(f, 0x10);
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = cache_capacity;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &f->v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(f->v, f->r.pk), CNV_OK);
}

static inline void fixture_teardown(fixture *f) { cnv_deleg_verifier_destroy(f->v); }

/* cmocka group setup and teardown: a fixture whose verifier caches 1024 chains. */
static inline int fixture_setup_1024(void **state) {
  fixture *f = calloc(1, sizeof *f);
  fixture_setup(f, 1024);
  *state = f;
  return 0;
}

static inline int fixture_teardown_free(void **state) {
  fixture_teardown(*state);
  free(*state);
  return 0;
}

/* The request the standard chain satisfies: presented by its holder C (seed 4). */
static inline cnv_deleg_request std_request(const cnv_deleg_cap *cap) {
  static tkey c;
  if (!c.pk[0] && !c.pk[1]) tkey_make(&c, 4);
  return (cnv_deleg_request){.now = 5000, .swarm = 7, .holder = c.pk, .cap = cap, .effects = CNV_EFFECT_READ_ONLY};
}

/* One link for the forger. */
typedef struct fspec {
  const uint8_t *issuer_sk;
  const uint8_t *audience;
  cnv_deleg_caveats cav;
  uint8_t nonce;
} fspec;

static inline int fixture_pat_cmp(const void *a, const void *b) {
  return cnv__deleg_pattern_cmp((const cnv_deleg_pattern *)a, (const cnv_deleg_pattern *)b);
}

/* Encodes and signs the links of s in order (parent hashes chained, no rule checks).
 * Returns the token length. */
static inline size_t forge(const fspec *s, int n, uint8_t *out) {
  memcpy(out, CNV__DELEG_MAGIC, 4);
  out[4] = CNV_DELEG_VERSION;
  out[5] = (uint8_t)n;
  size_t pos = CNV_DELEG_HEADER_BYTES;
  uint8_t parent[CNV_DELEG_HASH_BYTES] = {0};
  for (int i = 0; i < n; i++) {
    cnv_deleg_link l;
    memset(&l, 0, sizeof l);
    memcpy(l.issuer, s[i].issuer_sk + 32, 32);
    memcpy(l.audience, s[i].audience, 32);
    memcpy(l.parent, parent, 32);
    nonce_of(l.nonce, s[i].nonce);
    l.caveats = s[i].cav;
    qsort(l.caveats.allow, l.caveats.n_allow, sizeof(cnv_deleg_pattern), fixture_pat_cmp);
    qsort(l.caveats.forbid, l.caveats.n_forbid, sizeof(cnv_deleg_pattern), fixture_pat_cmp);
    size_t body = cnv__deleg_body_size(&l.caveats);
    cnv__deleg_body_encode(&l, out + pos);
    cnv__deleg_sign_body(out + pos, body, s[i].issuer_sk, out + pos + body);
    cnv__deleg_hash_link(out + pos, body + CNV_DELEG_SIG_BYTES, parent);
    pos += body + CNV_DELEG_SIG_BYTES;
  }
  return pos;
}

/* The standard chain's specs (forge(std_specs) equals std_chain's token). */
static inline void std_specs(const fixture *f, fspec s[3], uint8_t nonce_base) {
  const tkey *iss[3] = {&f->r, &f->a, &f->b};
  const tkey *aud[3] = {&f->a, &f->b, &f->c};
  for (int i = 0; i < 3; i++) {
    s[i].issuer_sk = iss[i]->sk;
    s[i].audience = aud[i]->pk;
    std_caveats(i, &s[i].cav);
    s[i].nonce = (uint8_t)(nonce_base + i);
  }
}

/* Verifies and checks status and failing link. */
#define expect_verify(v, tok, len, req, want_st, want_link)                 \
  do {                                                                      \
    cnv_deleg_error e_ = {.link = -7, .offset = 0};                         \
    cnv_status st_ = cnv_deleg_verify((v), (tok), (len), (req), NULL, &e_); \
    assert_string_equal(cnv_status_name(st_), cnv_status_name(want_st));    \
    assert_int_equal(e_.link, (want_link));                                 \
  } while (0)

#endif
