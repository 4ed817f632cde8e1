/* fuzz_authorize: a verifier driven through a program of policy changes and requests,
 * against a model of its state (deleg_model.h judges each request).
 *
 * Each input's first byte picks one of four verifiers (skew 10 s; cache of 64, 0 or 2 chains
 * with 4096 use counters, or, for 1 in 16, 64 chains with only 4 counters), which then trusts root key 0
 * of three root keys; the rest is 3-byte operations:
 *   mint a root token (root key, half the time the trusted one; audience, max uses 0..3 or
 *   unlimited, window, swarm),
 *   attenuate a token (narrower uses, expiry, swarm; depth - 1),
 *   authorize / verify a token (right or wrong holder, a swarm),
 *   revoke a link of a token (every token holding it must fail from then on) or a hash of
 *   nothing, purge the cache, purge dead links' use counters, trust_add / trust_remove a
 *   root key, advance the clock (each verifier's clock only moves forward, across inputs too).
 * The model keeps the uses left of every link, the revoked links, the trusted roots and the
 * time; an answer the model does not allow aborts: more successes than a link's uses, a
 * revoked, untrusted, expired, not-yet-valid or wrong-swarm chain accepted, a good one
 * refused, a use taken by a failed call, trust_remove's ENOTFOUND wrong, more live counters
 * (cnv_deleg_counter_count) than successful calls needed, or COUNTERS_FULL while those still
 * fit the table (a failed call must create no counter). The library may reclaim counters it
 * no longer needs, so a success where the model's table is full is allowed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/core.h>
#include <cnv/delegation.h>

#include "deleg_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_KEYS 8
#define N_ROOTS 3
#define MAX_TOKENS 24
#define MAX_LINKS 64
#define MAX_OPS 200
#define SKEW 10
#define SMALL_COUNTERS 4
#define CAP_INDEX 1 /* dm_caps[1] = "user.read", allowed by every token here */

static struct {
  bool ready;
  uint8_t pk[N_KEYS][CNV_DELEG_KEY_BYTES];
  uint8_t sk[N_KEYS][CNV_DELEG_SECRET_BYTES];
  cnv_deleg_pattern user_any;
  cnv_deleg_cap cap;
} K;

/* The model. */
typedef struct mlink {
  dm_link d; /* issuer, audience, caveats */
  uint32_t used;
  bool revoked, counter; /* counter: a successful authorize needed one for this link */
  uint8_t hash[CNV_DELEG_HASH_BYTES];
} mlink;

typedef struct mtoken {
  int n;
  int link[CNV_DELEG_MAX_LINKS];
  size_t len;
  uint8_t bytes[CNV_DELEG_MAX_TOKEN_BYTES];
} mtoken;

/* A verifier kept across inputs (making and destroying one per input waits for RCU grace
 * periods: tens of milliseconds). Every link minted anywhere gets a process-wide unique
 * nonce, so an input never meets an earlier input's links: what it inherits is only cache
 * and counter-table occupancy, which the slot's counter count tracks. */
typedef struct slot {
  cnv_deleg_verifier *v;
  uint32_t cache, max_counters;
  uint32_t trusted; /* bit k: root key k is trusted */
  int n_counters;   /* counters successful authorizes needed (never reclaimed here) */
  int n_authorized; /* authorize calls since the verifier was made */
  unsigned inputs;
  uint64_t now; /* its clock, carried from input to input: time never goes back for it */
} slot;

static slot S[4] = {{.cache = 64, .max_counters = 4096},
                    {.cache = 0, .max_counters = 4096},
                    {.cache = 2, .max_counters = 4096},
                    {.cache = 64, .max_counters = SMALL_COUNTERS}};

typedef struct model {
  slot *s;
  uint64_t now;
  int n_links, n_tokens;
  mlink l[MAX_LINKS];
  mtoken t[MAX_TOKENS];
} model;
static model M;

/* CNV_FUZZ_STATS=1: what the run reached, printed at exit. */
static struct {
  unsigned long inputs, granted, exhausted, revoked, untrusted, expired, full;
} N;

static void print_stats(void) {
  fprintf(stderr,
          "fuzz_authorize: %lu inputs; authorize granted %lu, refused: %lu uses exhausted, %lu revoked, "
          "%lu untrusted root, %lu expired, %lu counters full\n",
          N.inputs, N.granted, N.exhausted, N.revoked, N.untrusted, N.expired, N.full);
}

static void die(const char *what, cnv_status st, int32_t link) {
  fprintf(stderr, "fuzz_authorize: %s (status %d %s, link %d, now %llu)\n", what, (int)st, cnv_strerror(st),
          (int)link, (unsigned long long)M.now);
  abort();
}

static void init(void) {
  if (K.ready) return;
  if (sodium_init() < 0) abort();
  dm_keys(K.pk, K.sk, N_KEYS, 0x61);
  if (cnv_deleg_pattern_parse("user.*", 6, &K.user_any) != CNV_OK) abort();
  if (cnv_deleg_cap_from_path(dm_caps[CAP_INDEX], strlen(dm_caps[CAP_INDEX]), &K.cap) != CNV_OK) abort();
  K.ready = true;
  const char *stats = getenv("CNV_FUZZ_STATS");
  if (stats && stats[0] == '1') atexit(print_stats);
}

static void to_caveats(const dm_cav *m, cnv_deleg_caveats *c) {
  dm_cav_fields(m, c);
  c->n_allow = 1;
  c->allow[0] = K.user_any;
}

/* A nonce no other link of this process has: no two links ever share a hash. */
static void nonce_for(uint8_t nonce[CNV_DELEG_NONCE_BYTES]) {
  static uint64_t next;
  uint64_t n = ++next;
  memset(nonce, 0xA5, CNV_DELEG_NONCE_BYTES);
  memcpy(nonce, &n, sizeof n);
}

/* Records the token just minted into M.t[M.n_tokens] with its new last link. */
static void add_token(const mtoken *parent, const dm_cav *cav, int issuer, int audience) {
  mtoken *t = &M.t[M.n_tokens];
  mlink *l = &M.l[M.n_links];
  memset(l, 0, sizeof *l);
  l->d.issuer = issuer;
  l->d.audience = audience;
  l->d.cav = *cav;
  t->n = parent ? parent->n + 1 : 1;
  if (parent) memcpy(t->link, parent->link, sizeof t->link);
  t->link[t->n - 1] = M.n_links;
  cnv_status st = cnv_deleg_link_hash(t->bytes, t->len, (uint32_t)(t->n - 1), l->hash);
  if (st != CNV_OK) die("link_hash", st, t->n - 1);
  M.n_links++;
  M.n_tokens++;
}

static const uint32_t uses_vocab[5] = {1, 2, 3, CNV_DELEG_UNLIMITED_USES, 0};
static const uint64_t life_vocab[4] = {5, 30, 300, 0}; /* 0: no expiry */
static const uint64_t swarm_vocab[3] = {7, CNV_DELEG_ANY_SWARM, 8};
static const uint64_t step_vocab[8] = {1, 5, 9, 10, 11, 50, 290, 100000};

static void op_mint(uint8_t a, uint8_t b) {
  if (M.n_tokens == MAX_TOKENS || M.n_links == MAX_LINKS) return;
  int root = a % 4 < N_ROOTS ? a % 4 : 0, audience = N_ROOTS + (a >> 2) % (N_KEYS - N_ROOTS);
  dm_cav c = {0};
  c.nb = b & 0x80 ? M.now + 20 : (M.now > 3 ? M.now - 3 : 0); /* sometimes not yet valid */
  uint64_t life = life_vocab[(b >> 3) % 4];
  c.exp = life ? c.nb + life : CNV_DELEG_NO_EXPIRY;
  c.uses = uses_vocab[b % 5];
  c.swarm = swarm_vocab[(b >> 5) % 2];
  c.eff = CNV_EFFECTS_ALL;
  c.depth = 7;
  c.n_allow = 1;
  c.allow[0] = 0; /* user.* */
  cnv_deleg_caveats cav;
  to_caveats(&c, &cav);
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  nonce_for(nonce);
  mtoken *t = &M.t[M.n_tokens];
  cnv_status st = cnv_deleg_mint_root(K.sk[root], K.pk[audience], &cav, nonce, t->bytes, sizeof t->bytes, &t->len);
  if (st != CNV_OK) die("mint_root refused good caveats", st, 0);
  add_token(NULL, &c, root, audience);
}

static void op_attenuate(uint8_t a, uint8_t b) {
  if (M.n_tokens == 0 || M.n_tokens == MAX_TOKENS || M.n_links == MAX_LINKS) return;
  const mtoken *p = &M.t[a % M.n_tokens];
  const mlink *leaf = &M.l[p->link[p->n - 1]];
  if (p->n == CNV_DELEG_MAX_LINKS || leaf->d.cav.depth == 0) return;
  const dm_cav *pc = &leaf->d.cav;
  dm_cav c = *pc;
  int audience = N_ROOTS + (a >> 5) % (N_KEYS - N_ROOTS);
  uint32_t uses = uses_vocab[b % 5];
  if (uses < c.uses) c.uses = uses;
  uint64_t life = life_vocab[(b >> 3) % 4];
  if (life && M.now + life < c.exp) c.exp = M.now + life;
  if (c.exp < c.nb) c.exp = c.nb;
  if (c.swarm == CNV_DELEG_ANY_SWARM) c.swarm = swarm_vocab[(b >> 5) % 3];
  c.depth = (uint8_t)(pc->depth - 1);
  cnv_deleg_caveats cav;
  to_caveats(&c, &cav);
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  nonce_for(nonce);
  mtoken *t = &M.t[M.n_tokens];
  cnv_status st = cnv_deleg_attenuate(p->bytes, p->len, K.sk[leaf->d.audience], K.pk[audience], &cav, nonce,
                                      t->bytes, sizeof t->bytes, &t->len);
  if (st != CNV_OK) die("attenuate refused a narrowing", st, p->n);
  add_token(p, &c, leaf->d.audience, audience);
}

/* Presents token a % n_tokens; authorize takes uses, verify does not. */
static void op_present(uint8_t a, uint8_t b, bool authorize) {
  if (M.n_tokens == 0) return;
  const mtoken *t = &M.t[a % M.n_tokens];
  dm_link links[CNV_DELEG_MAX_LINKS];
  bool revoked[CNV_DELEG_MAX_LINKS], used_up[CNV_DELEG_MAX_LINKS];
  int new_counters = 0;
  for (int i = 0; i < t->n; i++) {
    const mlink *l = &M.l[t->link[i]];
    links[i] = l->d;
    revoked[i] = l->revoked;
    used_up[i] = l->d.cav.uses != CNV_DELEG_UNLIMITED_USES && l->used >= l->d.cav.uses;
    new_counters += l->d.cav.uses != CNV_DELEG_UNLIMITED_USES && !l->counter;
  }
  dm_world w = {.trusted = M.s->trusted, .revoked = revoked, .used_up = authorize ? used_up : NULL, .skew = SKEW};
  int holder = b >= 0xE0 ? b % N_KEYS : links[t->n - 1].audience; /* mostly the right one */
  uint64_t swarm = swarm_vocab[b % 3];
  for (int i = 0; i < t->n && !(b & 0x40); i++) /* mostly the swarm the chain is bound to */
    if (links[i].cav.swarm != CNV_DELEG_ANY_SWARM) swarm = links[i].cav.swarm;
  dm_req r = {.now = M.now, .swarm = swarm, .holder = holder, .cap = CAP_INDEX, .eff = 0};
  dm_viol viol;
  dm_judge(links, t->n, &w, &r, &viol);
  cnv_deleg_request req = {.now = M.now, .swarm = r.swarm, .holder = K.pk[holder], .cap = &K.cap, .effects = 0};
  cnv_deleg_error err = {.link = -2};
  cnv_status st = authorize ? cnv_deleg_authorize(M.s->v, t->bytes, t->len, &req, NULL, &err)
                            : cnv_deleg_verify(M.s->v, t->bytes, t->len, &req, NULL, &err);
  M.s->n_authorized += authorize;
  if (st == CNV_EDELEG_COUNTERS_FULL && authorize) {
    bool only_uses = true;
    for (int k = 0; k < viol.n; k++) only_uses &= viol.code[k] == CNV_EDELEG_USES_EXHAUSTED;
    if (!only_uses || new_counters == 0 || M.s->n_counters + new_counters <= (int)M.s->max_counters) {
      die("COUNTERS_FULL although the counters successful calls need fit", st, err.link);
    }
    N.full++;
    return;
  }
  if (!dm_agrees(&viol, t->n, st, err.link)) {
    fprintf(stderr, "fuzz_authorize: %s of a %d-link token, model lists %d broken rules:",
            authorize ? "authorize" : "verify", t->n, viol.n);
    for (int k = 0; k < viol.n; k++) fprintf(stderr, " %s@%d", cnv_strerror(viol.code[k]), (int)viol.link[k]);
    fprintf(stderr, "\n");
    die("the verifier disagrees with the model", st, err.link);
  }
  if (!authorize) return;
  N.granted += st == CNV_OK;
  N.exhausted += st == CNV_EDELEG_USES_EXHAUSTED;
  N.revoked += st == CNV_EDELEG_REVOKED;
  N.untrusted += st == CNV_EDELEG_UNTRUSTED_ROOT;
  N.expired += st == CNV_EDELEG_EXPIRED;
  for (int i = 0; i < t->n && st == CNV_OK; i++) {
    mlink *l = &M.l[t->link[i]];
    if (l->d.cav.uses == CNV_DELEG_UNLIMITED_USES) continue;
    l->used++;
    M.s->n_counters += !l->counter;
    l->counter = true;
  }
  /* reclaiming may leave fewer, but a counter beyond what successes needed came from a failure */
  if (cnv_deleg_counter_count(M.s->v) > (size_t)M.s->n_counters) die("a failed authorize left a counter", st, -1);
}

static void op_revoke(uint8_t a, uint8_t b) {
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  mlink *l = NULL;
  if (M.n_tokens > 0 && b != 0xFF) {
    const mtoken *t = &M.t[a % M.n_tokens];
    l = &M.l[t->link[b % t->n]];
    memcpy(hash, l->hash, sizeof hash);
  } else {
    memset(hash, a, sizeof hash); /* the hash of no link: changes nothing */
  }
  cnv_status st = cnv_deleg_revoke(M.s->v, hash);
  if (st != CNV_OK) die("revoke", st, -1);
  if (l) l->revoked = true;
}

static void op_trust(uint8_t a) {
  int k = a % N_ROOTS;
  if (a & 0x80) {
    cnv_status st = cnv_deleg_trust_remove(M.s->v, K.pk[k]);
    if (st != ((M.s->trusted >> k & 1u) ? CNV_OK : CNV_ENOTFOUND)) die("trust_remove", st, -1);
    M.s->trusted &= ~(1u << k);
  } else {
    if (cnv_deleg_trust_add(M.s->v, K.pk[k]) != CNV_OK) die("trust_add", CNV_OK, -1);
    M.s->trusted |= 1u << k;
  }
}

/* Retired verifiers, destroyed DM_GRAVE_MAX at a time (dm_retire). */
static dm_grave grave = {.cap = DM_GRAVE_MAX};

/* Readies slot s for an input: a fresh verifier when the old one's counter table may be
 * near full, after many inputs (memory stays flat), and for the small table whenever the
 * last input authorized (so that a COUNTERS_FULL found is the input's own doing and
 * replays from its file alone); then root 0 alone trusted. */
static void take_slot(slot *s) {
  bool small = s->max_counters == SMALL_COUNTERS;
  if (s->v && ((small && s->n_authorized > 0) || s->n_counters + MAX_LINKS > (int)s->max_counters ||
               ++s->inputs == 1024)) {
    dm_retire(&grave, s->v);
    s->v = NULL;
  }
  if (!s->v) {
    cnv_deleg_config cfg;
    cnv_deleg_config_default(&cfg);
    cfg.skew = SKEW;
    cfg.cache_capacity = s->cache;
    cfg.max_counters = s->max_counters;
    if (cnv_deleg_verifier_create(&cfg, &s->v) != CNV_OK) die("verifier_create", CNV_OK, -1);
    s->trusted = 0;
    s->n_counters = 0;
    s->n_authorized = 0;
    s->inputs = 0;
    s->now = 1000000;
  }
  for (int k = 0; k < N_ROOTS; k++) {
    cnv_status st = CNV_OK;
    if (k == 0 && !(s->trusted & 1u)) st = cnv_deleg_trust_add(s->v, K.pk[0]);
    if (k > 0 && (s->trusted >> k & 1u)) st = cnv_deleg_trust_remove(s->v, K.pk[k]);
    if (st != CNV_OK) die("trust reset", st, k);
  }
  s->trusted = 1u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  N.inputs++;
  dm_in in = {data, size};
  uint8_t mode = dm_u8(&in);
  M.s = &S[(mode & 0x0F) == 3 ? 3 : mode % 3]; /* the small table costs a fresh verifier: 1 in 16 */
  M.n_links = M.n_tokens = 0;
  take_slot(M.s);
  M.now = M.s->now;
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
        op_present(a, b, true);
        break;
      case 4:
        op_present(a, b, false);
        break;
      case 5:
        op_revoke(a, b);
        break;
      case 6:
        (void)cnv_deleg_cache_purge(M.s->v, M.now); /* how many it drops is the cache's business */
        break;
      case 7:
        op_trust(a);
        break;
      case 8:
        M.now += step_vocab[a % 8];
        break;
      default:
        (void)cnv_deleg_counters_purge(M.s->v, M.now); /* reclaims dead links' counters: the model's count is an upper bound */
        break;
    }
  }
  M.s->now = M.now;
  return 0;
}
