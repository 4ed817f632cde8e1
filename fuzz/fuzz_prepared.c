/* fuzz_prepared: cnv_deleg_prepared_authorize against cnv_deleg_authorize, differentially.
 *
 * Two verifiers of the same configuration (the first byte picks a cache of 64, 0 or 2 chains;
 * skew 10 s) go through the same program: one answers every request with cnv_deleg_authorize,
 * the other with a prepared token for the same bytes, holder and swarm (made on first use and
 * kept, so most calls after the first are answered from its snapshot). Their answers must be
 * identical: status, failing link, byte offset, the effective constraint on success, and the
 * number of live use counters after each call. The rest of the input is 3-byte operations:
 *   mint a root token (root 0 or 1, audience, use limit 0..3 or none, window, swarm, effects,
 *   a forbidden pattern or not), attenuate one (narrower uses, window, swarm, effects, allow
 *   set), copy a token with one byte changed (encoding errors, bad signatures),
 *   present a token (holder mostly right, a swarm, a capability, effects, a time around the
 *   current one: window edges and skew), revoke one of a token's links, add or remove trust
 *   in a root, move the clock forward or back, purge the caches and the counters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/core.h>
#include <cnv/delegation.h>

#include "deleg_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_KEYS 6
#define N_ROOTS 2
#define MAX_TOKENS 16
#define MAX_OPS 160
#define N_SWARMS 3
#define N_CAPS 5
#define SKEW 10

static struct {
  bool ready;
  uint8_t pk[N_KEYS][CNV_DELEG_KEY_BYTES];
  uint8_t sk[N_KEYS][CNV_DELEG_SECRET_BYTES];
  cnv_deleg_pattern user_any, user_read, user_delete;
  cnv_deleg_cap caps[N_CAPS];
} K;

static const char *const cap_paths[N_CAPS] = {"user.read", "user.create", "user.delete", "admin.halt", "user"};
static const uint64_t swarms[N_SWARMS] = {7, 8, CNV_DELEG_ANY_SWARM};
static const uint32_t uses_vocab[5] = {1, 2, 3, CNV_DELEG_UNLIMITED_USES, 0};
static const uint64_t life_vocab[4] = {5, 30, 300, 0}; /* 0: no expiry */
static const int64_t time_vocab[16] = {-11, -10, -9, -1, 0, 1, 4, 5, 6, 9, 10, 11, 15, 16, 40, 310};

typedef struct token {
  int n_links;
  int leaf_audience;
  cnv_deleg_caveats leaf;
  size_t len;
  uint8_t bytes[CNV_DELEG_MAX_TOKEN_BYTES];
} token;

static struct {
  cnv_deleg_verifier *va, *vb;
  uint64_t now, base;
  uint32_t trusted;
  int n_tokens;
  token t[MAX_TOKENS];
  cnv_deleg_prepared *p[MAX_TOKENS][N_KEYS][N_SWARMS];
} M;

static void die(const char *what, cnv_status a, cnv_status b) {
  fprintf(stderr, "fuzz_prepared: %s (authorize %s, prepared %s, now %llu)\n", what, cnv_status_name(a),
          cnv_status_name(b), (unsigned long long)M.now);
  abort();
}

static void init(void) {
  if (K.ready) return;
  if (sodium_init() < 0) abort();
  dm_keys(K.pk, K.sk, N_KEYS, 0x91);
  if (cnv_deleg_pattern_parse("user.*", 6, &K.user_any) != CNV_OK ||
      cnv_deleg_pattern_parse("user.read", 9, &K.user_read) != CNV_OK ||
      cnv_deleg_pattern_parse("user.delete", 11, &K.user_delete) != CNV_OK) {
    abort();
  }
  for (int c = 0; c < N_CAPS; c++) {
    if (cnv_deleg_cap_from_path(cap_paths[c], strlen(cap_paths[c]), &K.caps[c]) != CNV_OK) abort();
  }
  K.ready = true;
}

/* A nonce no other link of this process has. */
static void nonce_for(uint8_t nonce[CNV_DELEG_NONCE_BYTES]) {
  static uint64_t next;
  uint64_t n = ++next;
  memset(nonce, 0x5C, CNV_DELEG_NONCE_BYTES);
  memcpy(nonce, &n, sizeof n);
}

static void op_mint(uint8_t a, uint8_t b) {
  if (M.n_tokens == MAX_TOKENS) return;
  int root = a % N_ROOTS, audience = N_ROOTS + (a >> 1) % (N_KEYS - N_ROOTS);
  cnv_deleg_caveats c;
  memset(&c, 0, sizeof c);
  c.not_before = b & 0x80 ? M.now + 20 : (M.now > 3 ? M.now - 3 : 0);
  uint64_t life = life_vocab[(b >> 3) % 4];
  c.expiry = life ? c.not_before + life : CNV_DELEG_NO_EXPIRY;
  c.max_uses = uses_vocab[b % 5];
  c.swarm = swarms[(b >> 5) % N_SWARMS];
  c.effects = a & 0x40 ? CNV_EFFECT_READ_ONLY : CNV_EFFECTS_ALL;
  c.depth = 7;
  c.allow[c.n_allow++] = K.user_any;
  if (a & 0x80) c.forbid[c.n_forbid++] = K.user_delete;
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  nonce_for(nonce);
  token *t = &M.t[M.n_tokens];
  if (cnv_deleg_mint_root(K.sk[root], K.pk[audience], &c, nonce, t->bytes, sizeof t->bytes, &t->len) != CNV_OK) {
    die("mint_root refused good caveats", CNV_OK, CNV_OK);
  }
  t->n_links = 1;
  t->leaf_audience = audience;
  t->leaf = c;
  M.n_tokens++;
}

static void op_attenuate(uint8_t a, uint8_t b) {
  if (M.n_tokens == 0 || M.n_tokens == MAX_TOKENS) return;
  const token *p = &M.t[a % M.n_tokens];
  token *t = &M.t[M.n_tokens];
  if (b & 0x80) { /* a copy with one byte changed: decode errors, bad signatures, wrong hashes */
    *t = *p;
    if (t->len == 0) return;
    t->bytes[(size_t)a * 131 % t->len] ^= (uint8_t)(1u << (b & 7));
    t->n_links = 0; /* not a chain to attenuate or revoke links of any more */
    M.n_tokens++;
    return;
  }
  if (p->n_links == 0 || p->n_links == CNV_DELEG_MAX_LINKS || p->leaf.depth == 0) return;
  cnv_deleg_caveats c = p->leaf;
  uint32_t uses = uses_vocab[b % 5];
  if (uses < c.max_uses) c.max_uses = uses;
  uint64_t life = life_vocab[(b >> 3) % 4];
  if (life && M.now + life < c.expiry) c.expiry = M.now + life;
  if (c.expiry < c.not_before) c.expiry = c.not_before;
  if (c.swarm == CNV_DELEG_ANY_SWARM) c.swarm = swarms[(b >> 5) % N_SWARMS];
  if (a & 0x40) c.effects &= CNV_EFFECT_READ_ONLY;
  if ((b & 0x04) && c.n_allow == 1 && c.allow[0].kind == CNV_DELEG_PREFIX) c.allow[0] = K.user_read;
  c.depth = (uint8_t)(c.depth - 1);
  int audience = N_ROOTS + (a >> 3) % (N_KEYS - N_ROOTS);
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  nonce_for(nonce);
  if (cnv_deleg_attenuate(p->bytes, p->len, K.sk[p->leaf_audience], K.pk[audience], &c, nonce, t->bytes,
                          sizeof t->bytes, &t->len) != CNV_OK) {
    die("attenuate refused a narrowing", CNV_OK, CNV_OK);
  }
  t->n_links = p->n_links + 1;
  t->leaf_audience = audience;
  t->leaf = c;
  M.n_tokens++;
}

static bool caveats_equal(const cnv_deleg_caveats *x, const cnv_deleg_caveats *y) {
  if (x->not_before != y->not_before || x->expiry != y->expiry || x->swarm != y->swarm ||
      x->max_uses != y->max_uses || x->effects != y->effects || x->depth != y->depth || x->n_allow != y->n_allow ||
      x->n_forbid != y->n_forbid || x->n_allow > CNV_DELEG_MAX_PATTERNS || x->n_forbid > CNV_DELEG_MAX_PATTERNS) {
    return false;
  }
  for (int i = 0; i < x->n_allow; i++) {
    if (x->allow[i].kind != y->allow[i].kind || x->allow[i].id != y->allow[i].id) return false;
  }
  for (int i = 0; i < x->n_forbid; i++) {
    if (x->forbid[i].kind != y->forbid[i].kind || x->forbid[i].id != y->forbid[i].id) return false;
  }
  return true;
}

static void op_present(uint8_t a, uint8_t b) {
  if (M.n_tokens == 0) return;
  int ti = a % M.n_tokens;
  const token *t = &M.t[ti];
  int holder = b >= 0xE0 ? b % N_KEYS : t->leaf_audience; /* mostly the right one */
  int si = (a >> 4) % 4 == 3 ? (b >> 2) % N_SWARMS : 0;
  if (si == 0 && t->leaf.swarm != CNV_DELEG_ANY_SWARM) si = t->leaf.swarm == 8 ? 1 : 0;
  int ci = b % 8 < N_CAPS ? b % 8 : 0;
  cnv_effects eff = b & 0x10 ? CNV_EFFECT_NETWORK : CNV_EFFECT_READ_ONLY;
  int64_t d = time_vocab[(a >> 2) % 16];
  uint64_t now = d < 0 && (uint64_t)(-d) > M.now ? 0 : (uint64_t)((int64_t)M.now + d);
  cnv_deleg_prepared **pp = &M.p[ti][holder][si];
  if (!*pp && cnv_deleg_prepare(M.vb, t->bytes, t->len, K.pk[holder], swarms[si], pp) != CNV_OK) {
    die("prepare", CNV_OK, CNV_OK);
  }
  cnv_deleg_request req = {.now = now, .swarm = swarms[si], .holder = K.pk[holder], .cap = &K.caps[ci], .effects = eff};
  cnv_deleg_caveats ea, eb;
  memset(&ea, 0, sizeof ea);
  memset(&eb, 0, sizeof eb);
  cnv_deleg_error xa = {.link = -9, .offset = 9}, xb = {.link = -9, .offset = 9};
  cnv_status sa = cnv_deleg_authorize(M.va, t->bytes, t->len, &req, &ea, &xa);
  cnv_status sb = cnv_deleg_prepared_authorize(M.vb, *pp, now, &K.caps[ci], eff, &eb, &xb);
  if (sa != sb) die("the statuses differ", sa, sb);
  if (xa.link != xb.link || xa.offset != xb.offset) die("the failing link or offset differs", sa, sb);
  if (sa == CNV_OK && !caveats_equal(&ea, &eb)) die("the effective constraints differ", sa, sb);
  if (cnv_deleg_counter_count(M.va) != cnv_deleg_counter_count(M.vb)) die("the use counters differ", sa, sb);
}

static void op_revoke(uint8_t a, uint8_t b) {
  if (M.n_tokens == 0) return;
  const token *t = &M.t[a % M.n_tokens];
  uint8_t h[CNV_DELEG_HASH_BYTES];
  if (t->n_links == 0 || cnv_deleg_link_hash(t->bytes, t->len, (uint32_t)(b % t->n_links), h) != CNV_OK) {
    memset(h, b, sizeof h); /* a changed copy may not decode: revoke a hash of nothing */
  }
  if (cnv_deleg_revoke(M.va, h) != CNV_OK || cnv_deleg_revoke(M.vb, h) != CNV_OK) die("revoke", CNV_OK, CNV_OK);
}

static void op_trust(uint8_t a) {
  int k = a % N_ROOTS;
  cnv_status sa, sb;
  if (a & 0x80) {
    sa = cnv_deleg_trust_remove(M.va, K.pk[k]);
    sb = cnv_deleg_trust_remove(M.vb, K.pk[k]);
  } else {
    sa = cnv_deleg_trust_add(M.va, K.pk[k]);
    sb = cnv_deleg_trust_add(M.vb, K.pk[k]);
  }
  if (sa != sb) die("trust changes differ", sa, sb);
}

/* Retired verifiers, destroyed 64 at a time (dm_retire). */
static dm_grave grave = {.cap = 64};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  dm_in in = {data, size};
  uint8_t mode = dm_u8(&in);
  static const uint32_t caches[3] = {64, 0, 2};
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.skew = SKEW;
  cfg.cache_capacity = caches[mode % 3];
  if (cnv_deleg_verifier_create(&cfg, &M.va) != CNV_OK || cnv_deleg_verifier_create(&cfg, &M.vb) != CNV_OK ||
      cnv_deleg_trust_add(M.va, K.pk[0]) != CNV_OK || cnv_deleg_trust_add(M.vb, K.pk[0]) != CNV_OK) {
    die("setup", CNV_OK, CNV_OK);
  }
  M.n_tokens = 0;
  M.now = M.base = 1000000;
  memset(M.p, 0, sizeof M.p);
  for (int ops = 0; ops < MAX_OPS && in.n > 0; ops++) {
    uint8_t op = dm_u8(&in), a = dm_u8(&in), b = dm_u8(&in);
    switch (op % 10) {
      case 0:
        op_mint(a, b);
        break;
      case 1:
        op_attenuate(a, b);
        break;
      case 2:
      case 3:
      case 4:
        op_present(a, b);
        break;
      case 5:
        op_revoke(a, b);
        break;
      case 6:
        op_trust(a);
        break;
      case 7: /* the clock moves, mostly forward; back a little now and then */
        M.now = b & 0x80 && M.now > M.base + a % 32 ? M.now - a % 32 : M.now + a % 64;
        break;
      case 8:
        (void)cnv_deleg_cache_purge(M.va, M.now); /* how many each drops is its cache's business */
        (void)cnv_deleg_cache_purge(M.vb, M.now);
        break;
      default:
        if (cnv_deleg_counters_purge(M.va, M.now) != cnv_deleg_counters_purge(M.vb, M.now)) {
          die("counter purges differ", CNV_OK, CNV_OK);
        }
        break;
    }
  }
  for (int i = 0; i < MAX_TOKENS; i++)
    for (int h = 0; h < N_KEYS; h++)
      for (int s = 0; s < N_SWARMS; s++) cnv_deleg_prepared_destroy(M.p[i][h][s]);
  dm_retire(&grave, M.va);
  dm_retire(&grave, M.vb);
  return 0;
}
