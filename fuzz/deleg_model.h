/* An independent model of the delegation rules (docs/delegation.md, "Rules"), shared by
 * fuzz_token_chain.c and fuzz_authorize.c, and the harness pieces the delegation targets
 * share (fuzz_prepared.c too: key pairs, the batch of retired verifiers). It works on a small symbolic vocabulary of
 * capability paths and patterns (strings, never ids) and on link descriptions, and lists
 * EVERY rule a chain breaks for a request, each with its link, without any order between
 * the rules: a verifier may report any of them first, but must report one of them, and must
 * accept exactly when the list is empty. Nothing here calls the library's rule code; the
 * fuzzers use the library only to build and verify the bytes. Header only (static inline),
 * so that each fuzz target stays one source file. Pure and single-threaded. */
#ifndef CNV_FUZZ_DELEG_MODEL_H
#define CNV_FUZZ_DELEG_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include <cnv/delegation.h>

/* ---- input reader: bytes past the end read as 0, so every input is a full program ---- */
typedef struct dm_in {
  const uint8_t *p;
  size_t n;
} dm_in;

static inline uint8_t dm_u8(dm_in *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

/* ---- vocabulary ---- */
/* A pattern: PREFIX `noun.*`, or EXACT whose path is `path` and whose noun field names the
 * segment `noun` (an honest EXACT has noun = first segment of path; the "lie" does not). */
typedef struct dm_pat {
  const char *text; /* for reports only */
  bool prefix;
  const char *path; /* EXACT: the path; PREFIX: the noun */
  const char *noun; /* the noun field */
} dm_pat;

#define DM_N_PATS 10
static const dm_pat dm_pats[DM_N_PATS] = {
    {"user.*", true, "user", "user"},
    {"user.read", false, "user.read", "user"},
    {"user.delete", false, "user.delete", "user"},
    {"fs.*", true, "fs", "fs"},
    {"fs.read", false, "fs.read", "fs"},
    {"fs.delete", false, "fs.delete", "fs"},
    {"user", false, "user", "user"},                  /* one segment: user.* does not match it */
    {"fs.delete.all", false, "fs.delete.all", "fs"},  /* three segments */
    {"lie:user.admin/fs", false, "user.admin", "fs"}, /* EXACT whose noun lies: matches nothing */
    {"net.*", true, "net", "net"},
};

#define DM_N_CAPS 10
static const char *const dm_caps[DM_N_CAPS] = {"user", "user.read", "user.delete", "user.admin",
                                               "fs.read", "fs.delete", "fs.delete.all", "fs.write",
                                               "fs", "net.connect"};

/* First segment of a path into seg (NUL-terminated); returns the number of segments. */
static inline int dm_split(const char *path, char seg[64]) {
  size_t i = 0;
  while (path[i] && path[i] != '.' && i < 63) {
    seg[i] = path[i];
    i++;
  }
  seg[i] = 0;
  int n = 1;
  for (const char *c = path; *c; c++) n += *c == '.';
  return n;
}

/* Does pattern p match capability path cap? PREFIX: two or more segments, first = noun.
 * EXACT: same path and the noun field names its first segment. */
static inline bool dm_matches(const dm_pat *p, const char *cap) {
  char first[64];
  int segs = dm_split(cap, first);
  if (p->prefix) return segs >= 2 && strcmp(first, p->noun) == 0;
  return strcmp(p->path, cap) == 0 && strcmp(p->noun, first) == 0;
}

/* Does wide cover narrow (docs: PREFIX(n) covers PREFIX(n) and every EXACT with noun n that
 * is not the one-segment path n; EXACT covers only the identical EXACT)? */
static inline bool dm_covers(const dm_pat *wide, const dm_pat *narrow) {
  if (wide->prefix) {
    if (narrow->prefix) return strcmp(wide->noun, narrow->noun) == 0;
    return strcmp(narrow->noun, wide->noun) == 0 && strcmp(narrow->path, wide->noun) != 0;
  }
  return !narrow->prefix && strcmp(wide->path, narrow->path) == 0 && strcmp(wide->noun, narrow->noun) == 0;
}

/* ---- links ---- */
typedef struct dm_cav {
  uint64_t nb, exp, swarm;
  uint32_t uses;
  uint16_t eff;
  uint8_t depth;
  uint8_t n_allow, n_forbid;
  uint8_t allow[CNV_DELEG_MAX_PATTERNS], forbid[CNV_DELEG_MAX_PATTERNS]; /* dm_pats indices */
} dm_cav;

/* The library's caveats for a model caveat: every scalar field; the caller adds the patterns
 * (each target keeps its own parsed pattern table). */
static inline void dm_cav_fields(const dm_cav *m, cnv_deleg_caveats *c) {
  memset(c, 0, sizeof *c);
  c->not_before = m->nb;
  c->expiry = m->exp;
  c->swarm = m->swarm;
  c->max_uses = m->uses;
  c->effects = m->eff;
  c->depth = m->depth;
}

typedef struct dm_link {
  int issuer, audience; /* key indices */
  bool bad_sig;         /* signature does not verify (wrong signer or a flipped bit) */
  bool bad_parent;      /* parent field is not the previous link's hash */
  dm_cav cav;
} dm_link;

static inline bool dm_set_has(const uint8_t *set, int n, uint8_t p) {
  for (int i = 0; i < n; i++)
    if (set[i] == p) return true;
  return false;
}

/* Any pattern of set[0..n) covers p? */
static inline bool dm_set_covers(const uint8_t *set, int n, uint8_t p) {
  for (int i = 0; i < n; i++)
    if (dm_covers(&dm_pats[set[i]], &dm_pats[p])) return true;
  return false;
}

/* ---- violations ---- */
#define DM_MAX_VIOL 128
typedef struct dm_viol {
  int n;
  cnv_status code[DM_MAX_VIOL];
  int32_t link[DM_MAX_VIOL]; /* -1: request-level (holder, capability, effects) */
} dm_viol;

static inline void dm_add(dm_viol *v, cnv_status code, int32_t link) {
  if (v->n < DM_MAX_VIOL) {
    v->code[v->n] = code;
    v->link[v->n] = link;
    v->n++;
  }
}

/* The narrowing rules of child against parent, each broken one added at link i. */
static inline void dm_narrowing(const dm_cav *p, const dm_cav *c, int32_t i, dm_viol *v) {
  for (int k = 0; k < c->n_allow; k++) {
    if (!dm_set_covers(p->allow, p->n_allow, c->allow[k])) {
      dm_add(v, CNV_EDELEG_WIDENED_ALLOW, i);
      break;
    }
  }
  for (int k = 0; k < p->n_forbid; k++) {
    if (!dm_set_covers(c->forbid, c->n_forbid, p->forbid[k])) {
      dm_add(v, CNV_EDELEG_DROPPED_FORBIDDEN, i);
      break;
    }
  }
  if ((c->eff & ~p->eff) != 0) dm_add(v, CNV_EDELEG_WIDENED_EFFECTS, i);
  if (c->nb < p->nb || c->exp > p->exp) dm_add(v, CNV_EDELEG_WIDENED_WINDOW, i);
  if (c->uses > p->uses) dm_add(v, CNV_EDELEG_WIDENED_USES, i);
  if (p->depth == 0 || c->depth >= p->depth) dm_add(v, CNV_EDELEG_DEPTH, i);
  if (p->swarm != CNV_DELEG_ANY_SWARM && c->swarm != p->swarm) dm_add(v, CNV_EDELEG_WIDENED_SWARM, i);
}

/* What a verifier knows besides the token. */
typedef struct dm_world {
  uint32_t trusted;    /* bit k: key k is a trusted root */
  const bool *revoked; /* per link of the chain, or NULL: none */
  const bool *used_up; /* per link: no use left (authorize only), or NULL */
  uint64_t skew;
} dm_world;

typedef struct dm_req {
  uint64_t now, swarm;
  int holder; /* key index; -1: no holder given */
  int cap;    /* dm_caps index; -1: no capability check */
  uint16_t eff;
} dm_req;

static inline uint64_t dm_sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Every rule links[0..n) break for request r in world w. */
static inline void dm_judge(const dm_link *l, int n, const dm_world *w, const dm_req *r, dm_viol *v) {
  v->n = 0;
  if (r->holder < 0) dm_add(v, CNV_EDELEG_NO_HOLDER, -1);
  if (!(w->trusted >> l[0].issuer & 1u)) dm_add(v, CNV_EDELEG_UNTRUSTED_ROOT, 0);
  for (int32_t i = 0; i < n; i++) {
    const dm_cav *c = &l[i].cav;
    if (i > 0 && l[i].issuer != l[i - 1].audience) dm_add(v, CNV_EDELEG_MISALIGNED, i);
    if (l[i].bad_parent) dm_add(v, CNV_EDELEG_PARENT_HASH, i);
    if (l[i].bad_sig) dm_add(v, CNV_EDELEG_BAD_SIGNATURE, i);
    if (i > 0) dm_narrowing(&l[i - 1].cav, c, i, v);
    if (w->revoked && w->revoked[i]) dm_add(v, CNV_EDELEG_REVOKED, i);
    if (dm_sat_add(r->now, w->skew) < c->nb) dm_add(v, CNV_EDELEG_NOT_YET_VALID, i);
    if (r->now > dm_sat_add(c->exp, w->skew)) dm_add(v, CNV_EDELEG_EXPIRED, i);
    if (c->swarm != CNV_DELEG_ANY_SWARM && c->swarm != r->swarm) dm_add(v, CNV_EDELEG_WRONG_SWARM, i);
    if (w->used_up && w->used_up[i]) dm_add(v, CNV_EDELEG_USES_EXHAUSTED, i);
  }
  const dm_cav *leaf = &l[n - 1].cav;
  if (r->holder >= 0 && r->holder != l[n - 1].audience) dm_add(v, CNV_EDELEG_WRONG_HOLDER, -1);
  if (r->cap >= 0) {
    bool forbidden = false, allowed = false;
    for (int k = 0; k < leaf->n_forbid; k++) forbidden |= dm_matches(&dm_pats[leaf->forbid[k]], dm_caps[r->cap]);
    for (int k = 0; k < leaf->n_allow; k++) allowed |= dm_matches(&dm_pats[leaf->allow[k]], dm_caps[r->cap]);
    if (forbidden) dm_add(v, CNV_EDELEG_FORBIDDEN, -1);
    if (!allowed) dm_add(v, CNV_EDELEG_NOT_ALLOWED, -1);
  }
  if ((r->eff & ~leaf->eff) != 0) dm_add(v, CNV_EDELEG_EFFECTS_EXCEEDED, -1);
}

/* Does the verifier's answer (st, err_link) agree with the model? OK iff no violation; a
 * failure must be one of the listed rules, at its link (request-level rules: the leaf or
 * -1). Forbidden wins: when both FORBIDDEN and NOT_ALLOWED hold, NOT_ALLOWED is wrong. */
static inline bool dm_agrees(const dm_viol *v, int n_links, cnv_status st, int32_t err_link) {
  if (st == CNV_OK) return v->n == 0;
  bool forbidden = false;
  for (int k = 0; k < v->n; k++) forbidden |= v->code[k] == CNV_EDELEG_FORBIDDEN;
  if (forbidden && st == CNV_EDELEG_NOT_ALLOWED) return false;
  for (int k = 0; k < v->n; k++) {
    if (v->code[k] != st) continue;
    if (v->link[k] >= 0 ? err_link == v->link[k] : (err_link == -1 || err_link == n_links - 1)) return true;
  }
  return false;
}

static inline bool dm_has(const dm_viol *v, cnv_status code) {
  for (int k = 0; k < v->n; k++)
    if (v->code[k] == code) return true;
  return false;
}

/* ---- harness pieces (these use libsodium and the library, not the model) ---- */

/* Key pairs 0..n-1, pair k from a seed of 32 bytes first + k (libsodium initialized). */
static inline void dm_keys(uint8_t (*pk)[CNV_DELEG_KEY_BYTES], uint8_t (*sk)[CNV_DELEG_SECRET_BYTES], int n,
                           uint8_t first) {
  for (int k = 0; k < n; k++) {
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, first + k, sizeof seed);
    crypto_sign_seed_keypair(pk[k], sk[k], seed);
  }
}

/* Retired verifiers, destroyed in batches of cap (at most DM_GRAVE_MAX): a destroy waits
 * for an RCU grace period (about 10 ms) when deferred frees are pending, and one wait serves
 * the whole batch. */
#define DM_GRAVE_MAX 256
typedef struct dm_grave {
  int cap, n;
  cnv_deleg_verifier *v[DM_GRAVE_MAX];
} dm_grave;

static inline void dm_retire(dm_grave *g, cnv_deleg_verifier *v) {
  if (g->n == g->cap) {
    while (g->n > 0) cnv_deleg_verifier_destroy(g->v[--g->n]);
  }
  g->v[g->n++] = v;
}

#endif
