/* Prepared tokens: cnv_deleg_prepared_authorize gives exactly what cnv_deleg_authorize gives
 * for the same token, holder and swarm (status, failing link, effective constraint, uses
 * taken), over random requests at the window edges and random policy changes between calls;
 * answers from its snapshot without touching the caches while the policy epoch stays put; and
 * sees every revocation and trust removal that returned before it started. */
#include "cnv_test_util.h"
#include "deleg_fixture.h"

static cnv_deleg_verifier *verifier(uint32_t cache_capacity, const tkey *root) {
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.cache_capacity = cache_capacity;
  cnv_deleg_verifier *v = NULL;
  assert_int_equal(cnv_deleg_verifier_create(&cfg, &v), CNV_OK);
  assert_int_equal(cnv_deleg_trust_add(v, root->pk), CNV_OK);
  return v;
}

static uint64_t lookups(cnv_deleg_verifier *v) {
  cnv_deleg_cache_stats s;
  assert_int_equal(cnv_deleg_cache_stats_get(v, &s), CNV_OK);
  return s.hits + s.misses + s.negative_hits;
}

static void test_null_arguments(void **state) {
  fixture *f = *state;
  cnv_deleg_prepared *p = (cnv_deleg_prepared *)(uintptr_t)1;
  assert_int_equal(cnv_deleg_prepare(NULL, f->tok, f->len, f->c.pk, 7, &p), CNV_EINVAL);
  assert_null(p);
  assert_int_equal(cnv_deleg_prepare(f->v, NULL, f->len, f->c.pk, 7, &p), CNV_EINVAL);
  assert_int_equal(cnv_deleg_prepare(f->v, f->tok, f->len, NULL, 7, &p), CNV_EINVAL);
  assert_int_equal(cnv_deleg_prepare(f->v, f->tok, f->len, f->c.pk, 7, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_prepare(f->v, f->tok, f->len, f->c.pk, 7, &p), CNV_OK);
  cnv_deleg_cap cap = cap_of("user.read");
  assert_int_equal(cnv_deleg_prepared_authorize(NULL, p, 5000, &cap, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, NULL, 5000, &cap, CNV_EFFECT_READ_ONLY, NULL, NULL),
                   CNV_EINVAL);
  cnv_deleg_verifier *other = verifier(16, &f->r);
  assert_int_equal(cnv_deleg_prepared_authorize(other, p, 5000, &cap, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_EINVAL);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &cap, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_OK);
  cnv_deleg_prepared_destroy(p);
  cnv_deleg_prepared_destroy(NULL);
  cnv_deleg_verifier_destroy(other);
  assert_int_equal(cnv_deleg_policy_epoch(NULL), 0);
}

static void test_epoch_moves_with_policy(void **state) {
  fixture *f = *state;
  uint64_t e0 = cnv_deleg_policy_epoch(f->v);
  assert_int_equal(cnv_deleg_trust_add(f->v, f->u.pk), CNV_OK);
  uint64_t e1 = cnv_deleg_policy_epoch(f->v);
  assert_true(e1 > e0);
  uint8_t h[CNV_DELEG_HASH_BYTES];
  memset(h, 0x5A, sizeof h);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK);
  uint64_t e2 = cnv_deleg_policy_epoch(f->v);
  assert_true(e2 > e1);
  assert_int_equal(cnv_deleg_trust_remove(f->v, f->u.pk), CNV_OK);
  uint64_t e3 = cnv_deleg_policy_epoch(f->v);
  assert_true(e3 > e2);
  assert_int_equal(cnv_deleg_trust_remove(f->v, f->u.pk), CNV_ENOTFOUND); /* no change: no move */
  assert_int_equal(cnv_deleg_policy_epoch(f->v), e3);
  /* verifications do not move it */
  cnv_deleg_cap cap = cap_of("user.read");
  cnv_deleg_request req = std_request(&cap);
  assert_int_equal(cnv_deleg_authorize(f->v, f->tok, f->len, &req, NULL, NULL), CNV_OK);
  assert_int_equal(cnv_deleg_policy_epoch(f->v), e3);
}

/* While the epoch stays put a prepared call neither hashes nor looks up the token: the cache
 * statistics (every authorize counts a hit, a miss or a negative hit) do not move. */
static void test_snapshot_skips_the_caches(void **state) {
  fixture *f = *state;
  cnv_deleg_prepared *p;
  assert_int_equal(cnv_deleg_prepare(f->v, f->tok, f->len, f->c.pk, 7, &p), CNV_OK);
  cnv_deleg_cap read = cap_of("user.read"), del = cap_of("user.delete");
  uint64_t before = lookups(f->v);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_OK);
  uint64_t after_first = lookups(f->v);
  assert_int_equal(after_first, before + 1); /* the first call verifies through the normal path */
  cnv_deleg_caveats eff;
  cnv_deleg_error err;
  for (int i = 0; i < 100; i++) {
    memset(&eff, 0, sizeof eff);
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000 + (uint64_t)i, &read, CNV_EFFECT_READ_ONLY, &eff, &err),
                     CNV_OK);
    assert_int_equal(err.link, -1);
    assert_int_equal(eff.n_allow, 2);
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &del, CNV_EFFECT_READ_ONLY, NULL, &err),
                     CNV_EDELEG_FORBIDDEN);
    assert_int_equal(err.link, 2);
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_NETWORK, NULL, &err),
                     CNV_EDELEG_EFFECTS_EXCEEDED);
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 98500, &read, CNV_EFFECT_READ_ONLY, NULL, &err),
                     CNV_EDELEG_EXPIRED);
    assert_int_equal(err.link, 2); /* only the leaf's window ended (98000 + 30 s skew) */
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 999999, &read, CNV_EFFECT_READ_ONLY, NULL, &err),
                     CNV_EDELEG_EXPIRED);
    assert_int_equal(err.link, 0); /* every window ended: the first link is reported */
  }
  assert_int_equal(lookups(f->v), after_first);
  /* a policy change moves the epoch: the next call takes the normal path again */
  uint8_t unrelated[CNV_DELEG_HASH_BYTES];
  memset(unrelated, 0x33, sizeof unrelated);
  assert_int_equal(cnv_deleg_revoke(f->v, unrelated), CNV_OK);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_OK);
  assert_int_equal(lookups(f->v), after_first + 1);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, NULL), CNV_OK);
  assert_int_equal(lookups(f->v), after_first + 1);
  cnv_deleg_prepared_destroy(p);
}

/* Revocation and trust removal are seen by the very next call; trust given back restores it. */
static void test_policy_changes_seen(void **state) {
  fixture *f = *state;
  cnv_deleg_prepared *p;
  assert_int_equal(cnv_deleg_prepare(f->v, f->tok, f->len, f->c.pk, 7, &p), CNV_OK);
  cnv_deleg_cap read = cap_of("user.read");
  cnv_deleg_error err;
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err), CNV_OK);
  assert_int_equal(cnv_deleg_trust_remove(f->v, f->r.pk), CNV_OK);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err),
                   CNV_EDELEG_UNTRUSTED_ROOT);
  assert_int_equal(err.link, 0);
  assert_int_equal(cnv_deleg_trust_add(f->v, f->r.pk), CNV_OK);
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err), CNV_OK);
  uint8_t h[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(f->tok, f->len, 1, h), CNV_OK);
  assert_int_equal(cnv_deleg_revoke(f->v, h), CNV_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err),
                     CNV_EDELEG_REVOKED);
    assert_int_equal(err.link, 1);
  }
  cnv_deleg_prepared_destroy(p);
}

/* A bad token prepares fine and is refused with authorize's status, every time. */
static void test_bad_tokens(void **state) {
  fixture *f = *state;
  uint8_t bad[CNV_DELEG_MAX_TOKEN_BYTES];
  memcpy(bad, f->tok, f->len);
  bad[f->len - 1] ^= 1; /* the leaf's signature */
  const uint8_t *toks[3] = {bad, f->tok, (const uint8_t *)"CNVT"};
  size_t lens[3] = {f->len, f->len - 1, 4};
  cnv_deleg_cap read = cap_of("user.read");
  cnv_deleg_request req = std_request(&read);
  for (int t = 0; t < 3; t++) {
    cnv_deleg_prepared *p;
    assert_int_equal(cnv_deleg_prepare(f->v, toks[t], lens[t], f->c.pk, 7, &p), CNV_OK);
    for (int i = 0; i < 3; i++) {
      cnv_deleg_error e1 = {.link = -7}, e2 = {.link = -7};
      cnv_status want = cnv_deleg_authorize(f->v, toks[t], lens[t], &req, NULL, &e1);
      assert_int_not_equal(want, CNV_OK);
      cnv_status got = cnv_deleg_prepared_authorize(f->v, p, req.now, &read, req.effects, NULL, &e2);
      assert_string_equal(cnv_status_name(got), cnv_status_name(want));
      assert_int_equal(e2.link, e1.link);
      assert_int_equal(e2.offset, e1.offset);
    }
    cnv_deleg_prepared_destroy(p);
  }
}

/* Use limits: exactly K successes, shared ancestors counted across tokens, through the
 * prepared path alone. */
static void test_exact_uses(void **state) {
  fixture *f = *state;
  fspec s[3];
  std_specs(f, s, 0x40);
  s[0].cav.max_uses = 6;
  s[1].cav.max_uses = 6;
  s[2].cav.max_uses = 4;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES], tok2[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = forge(s, 3, tok), len2 = forge(s, 2, tok2);
  cnv_deleg_prepared *p, *p2;
  assert_int_equal(cnv_deleg_prepare(f->v, tok, len, f->c.pk, 7, &p), CNV_OK);
  assert_int_equal(cnv_deleg_prepare(f->v, tok2, len2, f->b.pk, 7, &p2), CNV_OK);
  cnv_deleg_cap read = cap_of("user.read");
  cnv_deleg_error err;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err), CNV_OK);
  }
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err),
                   CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 2);
  /* a failing request takes no use */
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p2, 5000, &read, CNV_EFFECT_NETWORK, NULL, &err),
                   CNV_EDELEG_EFFECTS_EXCEEDED);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(cnv_deleg_prepared_authorize(f->v, p2, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err), CNV_OK);
  }
  assert_int_equal(cnv_deleg_prepared_authorize(f->v, p2, 5000, &read, CNV_EFFECT_READ_ONLY, NULL, &err),
                   CNV_EDELEG_USES_EXHAUSTED);
  assert_int_equal(err.link, 1);
  /* the plain path sees the same counters */
  cnv_deleg_request req = std_request(&read);
  req.holder = f->b.pk;
  assert_int_equal(cnv_deleg_authorize(f->v, tok2, len2, &req, NULL, &err), CNV_EDELEG_USES_EXHAUSTED);
  cnv_deleg_prepared_destroy(p);
  cnv_deleg_prepared_destroy(p2);
}

/* ---- equivalence over random requests and policy changes ------------------------------- */

#define N_TOKENS 5
#define N_HOLDERS 3
#define N_SWARMS 3

typedef struct world {
  uint8_t tok[N_TOKENS][CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len[N_TOKENS];
  int links[N_TOKENS];
  uint64_t times[64];
  int n_times;
} world;

static void add_edges(world *w, uint64_t t, uint64_t skew) {
  static const int64_t off[] = {-1, 0, 1};
  for (int s = -1; s <= 1; s++) {
    for (size_t k = 0; k < 3; k++) {
      int64_t d = s * (int64_t)skew + off[k];
      if (d < 0 && (uint64_t)(-d) > t) continue;
      if (w->n_times < 64) w->times[w->n_times++] = (uint64_t)((int64_t)t + d);
    }
  }
}

/* Tokens: the standard chain and its 2-link prefix; a use-limited chain (limits on two links);
 * a narrow-window chain; a chain with a bad leaf signature. */
static void build_world(fixture *f, world *w, uint8_t nonce) {
  memset(w, 0, sizeof *w);
  memcpy(w->tok[0], f->tok, f->len);
  w->len[0] = f->len;
  w->links[0] = 3;
  memcpy(w->tok[1], f->tok2, f->len2);
  w->len[1] = f->len2;
  w->links[1] = 2;
  fspec s[3];
  std_specs(f, s, nonce);
  s[0].cav.max_uses = 40;
  s[1].cav.max_uses = 40;
  s[2].cav.max_uses = 25;
  w->len[2] = forge(s, 3, w->tok[2]);
  w->links[2] = 3;
  std_specs(f, s, (uint8_t)(nonce + 3));
  s[1].cav.not_before = 2000;
  s[1].cav.expiry = 3000;
  s[2].cav.not_before = 2500;
  s[2].cav.expiry = 2600;
  s[2].cav.swarm = 7;
  w->len[3] = forge(s, 3, w->tok[3]);
  w->links[3] = 3;
  std_specs(f, s, (uint8_t)(nonce + 6));
  w->len[4] = forge(s, 3, w->tok[4]);
  w->tok[4][w->len[4] - 5] ^= 0x10;
  w->links[4] = 3;
  uint64_t edges[] = {0, 1000, 1010, 1020, 2000, 2500, 2600, 3000, 5000, 98000, 99000, 100000};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) add_edges(w, edges[i], 30);
  if (w->n_times < 64) w->times[w->n_times++] = UINT64_MAX;
}

static const char *const cap_vocab[] = {"user.read", "user.create", "user.delete", "fleet.node.drain", "admin.halt",
                                        "user"};

typedef struct tally {
  long ok, exhausted, revoked, untrusted, expired, not_yet, swarm, holder, forbidden, not_allowed, effects, other;
} tally;

static void count(tally *t, cnv_status st) {
  switch (st) {
    case CNV_OK:
      t->ok++;
      break;
    case CNV_EDELEG_USES_EXHAUSTED:
      t->exhausted++;
      break;
    case CNV_EDELEG_REVOKED:
      t->revoked++;
      break;
    case CNV_EDELEG_UNTRUSTED_ROOT:
      t->untrusted++;
      break;
    case CNV_EDELEG_EXPIRED:
      t->expired++;
      break;
    case CNV_EDELEG_NOT_YET_VALID:
      t->not_yet++;
      break;
    case CNV_EDELEG_WRONG_SWARM:
      t->swarm++;
      break;
    case CNV_EDELEG_WRONG_HOLDER:
      t->holder++;
      break;
    case CNV_EDELEG_FORBIDDEN:
      t->forbidden++;
      break;
    case CNV_EDELEG_NOT_ALLOWED:
      t->not_allowed++;
      break;
    case CNV_EDELEG_EFFECTS_EXCEEDED:
      t->effects++;
      break;
    default:
      t->other++;
      break;
  }
}

static void pattern_equal(const cnv_deleg_pattern *a, const cnv_deleg_pattern *b) {
  assert_int_equal(a->kind, b->kind);
  assert_int_equal(a->id, b->id);
  assert_int_equal(a->noun, b->noun);
}

/* Field by field: the pattern slots past n_allow / n_forbid carry no meaning. */
static void caveats_equal(const cnv_deleg_caveats *a, const cnv_deleg_caveats *b) {
  assert_int_equal(a->not_before, b->not_before);
  assert_int_equal(a->expiry, b->expiry);
  assert_int_equal(a->swarm, b->swarm);
  assert_int_equal(a->max_uses, b->max_uses);
  assert_int_equal(a->effects, b->effects);
  assert_int_equal(a->depth, b->depth);
  assert_int_equal(a->n_allow, b->n_allow);
  assert_int_equal(a->n_forbid, b->n_forbid);
  for (uint8_t i = 0; i < a->n_allow && i < CNV_DELEG_MAX_PATTERNS; i++) pattern_equal(&a->allow[i], &b->allow[i]);
  for (uint8_t i = 0; i < a->n_forbid && i < CNV_DELEG_MAX_PATTERNS; i++) pattern_equal(&a->forbid[i], &b->forbid[i]);
}

static void equivalence_round(fixture *f, uint32_t cache, uint64_t seed, long requests, tally *t) {
  world *w = malloc(sizeof *w);
  assert_non_null(w);
  build_world(f, w, (uint8_t)(0x60 + seed % 64 * 3));
  cnv_deleg_verifier *va = verifier(cache, &f->r), *vb = verifier(cache, &f->r);
  const tkey *holders[N_HOLDERS] = {&f->c, &f->b, &f->u};
  static const uint64_t swarms[N_SWARMS] = {7, 8, CNV_DELEG_ANY_SWARM};
  cnv_deleg_prepared *p[N_TOKENS][N_HOLDERS][N_SWARMS];
  for (int i = 0; i < N_TOKENS; i++)
    for (int h = 0; h < N_HOLDERS; h++)
      for (int s = 0; s < N_SWARMS; s++)
        assert_int_equal(cnv_deleg_prepare(vb, w->tok[i], w->len[i], holders[h]->pk, swarms[s], &p[i][h][s]), CNV_OK);
  cnv_deleg_cap caps[6];
  for (int c = 0; c < 6; c++) caps[c] = cap_of(cap_vocab[c]);
  bool trusted = true;
  uint64_t rng = seed;
  for (long n = 0; n < requests; n++) {
    uint64_t r = cnv_test_rand(&rng);
    uint32_t op = (uint32_t)(r % 1000);
    if (op < 1) { /* revoke a link of a token (both verifiers) */
      int i = (int)((r >> 10) % N_TOKENS);
      uint8_t h[CNV_DELEG_HASH_BYTES];
      assert_int_equal(cnv_deleg_link_hash(w->tok[i], w->len[i], (uint32_t)((r >> 20) % (uint64_t)w->links[i]), h),
                       CNV_OK);
      assert_int_equal(cnv_deleg_revoke(va, h), CNV_OK);
      assert_int_equal(cnv_deleg_revoke(vb, h), CNV_OK);
      continue;
    }
    if (trusted ? op < 4 : op < 100) { /* toggle trust in the root (short untrusted spells) */
      cnv_status sa = trusted ? cnv_deleg_trust_remove(va, f->r.pk) : cnv_deleg_trust_add(va, f->r.pk);
      cnv_status sb = trusted ? cnv_deleg_trust_remove(vb, f->r.pk) : cnv_deleg_trust_add(vb, f->r.pk);
      assert_int_equal(sa, CNV_OK);
      assert_int_equal(sb, CNV_OK);
      trusted = !trusted;
      continue;
    }
    uint64_t now = (r >> 8) % 2 ? 5000 : w->times[(r >> 10) % (uint64_t)w->n_times];
    if (op < 14) { /* purges take the same `now` on both */
      (void)cnv_deleg_counters_purge(va, now);
      (void)cnv_deleg_counters_purge(vb, now);
      (void)cnv_deleg_cache_purge(va, now);
      (void)cnv_deleg_cache_purge(vb, now);
      continue;
    }
    int i = (int)((r >> 16) % N_TOKENS);
    int h = (r >> 20) % 8 == 0 ? (int)((r >> 24) % N_HOLDERS) : (i == 1 ? 1 : 0); /* mostly the right holder */
    int s = (r >> 28) % 8 == 0 ? (int)((r >> 32) % N_SWARMS) : 0;
    int c = (int)((r >> 36) % 7);
    cnv_effects eff = (r >> 40) % 4 == 0 ? (cnv_effects)((r >> 44) & 0xF) : CNV_EFFECT_READ_ONLY;
    cnv_deleg_request req = {.now = now, .swarm = swarms[s], .holder = holders[h]->pk, .cap = c < 6 ? &caps[c] : NULL, .effects = eff};
    cnv_deleg_caveats ea, eb;
    memset(&ea, 0xEE, sizeof ea);
    memset(&eb, 0xEE, sizeof eb);
    cnv_deleg_error erra = {.link = -7, .offset = 7}, errb = {.link = -7, .offset = 7};
    cnv_status sa = cnv_deleg_authorize(va, w->tok[i], w->len[i], &req, &ea, &erra);
    cnv_status sb = cnv_deleg_prepared_authorize(vb, p[i][h][s], now, req.cap, eff, &eb, &errb);
    if (sa != sb || erra.link != errb.link || erra.offset != errb.offset) {
      print_error("token %d holder %d swarm %d cap %d eff %u now %llu: authorize %s@%d, prepared %s@%d\n", i, h, s, c,
                  (unsigned)eff, (unsigned long long)now, cnv_status_name(sa), (int)erra.link, cnv_status_name(sb),
                  (int)errb.link);
      fail();
    }
    caveats_equal(&ea, &eb); /* untouched on failure, the leaf on success */
    assert_int_equal(cnv_deleg_counter_count(va), cnv_deleg_counter_count(vb));
    count(t, sa);
  }
  for (int i = 0; i < N_TOKENS; i++)
    for (int h = 0; h < N_HOLDERS; h++)
      for (int s = 0; s < N_SWARMS; s++) cnv_deleg_prepared_destroy(p[i][h][s]);
  cnv_deleg_verifier_destroy(va);
  cnv_deleg_verifier_destroy(vb);
  free(w);
}

static void test_equivalence_random(void **state) {
  fixture *f = *state;
  tally t = {0};
  static const uint32_t caches[] = {1024, 0, 2};
  uint64_t rounds = cnv_test_iters(30);
  for (uint64_t round = 0; round < rounds; round++) {
    equivalence_round(f, caches[round % 3], 0xC0FFEE + round * 7919, 3000, &t);
  }
  print_message(
      "ok %ld exhausted %ld revoked %ld untrusted %ld expired %ld not-yet %ld swarm %ld holder %ld "
      "forbidden %ld not-allowed %ld effects %ld other %ld\n",
      t.ok, t.exhausted, t.revoked, t.untrusted, t.expired, t.not_yet, t.swarm, t.holder, t.forbidden,
      t.not_allowed, t.effects, t.other);
  /* the rounds reached every kind of answer (a generator that never did would prove nothing) */
  assert_true(t.ok > 100);
  assert_true(t.exhausted > 0);
  assert_true(t.revoked > 0);
  assert_true(t.untrusted > 0);
  assert_true(t.expired > 0);
  assert_true(t.not_yet > 0);
  assert_true(t.swarm > 0);
  assert_true(t.holder > 0);
  assert_true(t.forbidden > 0);
  assert_true(t.not_allowed > 0);
  assert_true(t.effects > 0);
  assert_true(t.other > 0); /* the bad signature */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_null_arguments, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_epoch_moves_with_policy, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_snapshot_skips_the_caches, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_policy_changes_seen, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_bad_tokens, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_exact_uses, fixture_setup_1024, fixture_teardown_free),
      cmocka_unit_test_setup_teardown(test_equivalence_random, fixture_setup_1024, fixture_teardown_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
