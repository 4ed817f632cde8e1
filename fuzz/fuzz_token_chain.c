/* fuzz_token_chain: structure-aware delegation chains judged by an independent model.
 *
 * The input is a program, not token bytes: a chain of 1..8 links among ten fixed test keys
 * (seeds of 32 copies of 0x41..0x4A; keys 0 and 1 are trusted roots), each link's caveats
 * taken from a small vocabulary (deleg_model.h) and derived from its parent so that, unless
 * the input asks for a widening or a fault, the link narrows it. Every link is minted with
 * cnv_deleg_mint_root (canonical caveats), re-parented and signed with libsodium over the
 * signing input of docs/delegation.md (so widened, misaligned and mis-signed chains exist
 * too); where the link has no fault, cnv_deleg_attenuate must produce the identical bytes
 * when the model says the link narrows and refuse it with a broken narrowing rule when it
 * does not. Each link hash is recomputed here (BLAKE2b, docs) and must equal
 * cnv_deleg_link_hash. Then up to three requests (time, swarm, holder, capability, effects)
 * are verified on a caching verifier (twice: cold, then cached) and on one with no cache and
 * no skew; every answer must agree with deleg_model.h's judgement: accept exactly when no
 * rule is broken, else report a broken rule at its link.
 *
 * CNV_FUZZ_STATS=1 in the environment prints, at exit, how many inputs reached an accepted
 * multi-link chain and how many a widened chain that was rejected for its widening. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/core.h>
#include <cnv/delegation.h>

#include "deleg_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_KEYS 10
#define TRUSTED 0x3u /* keys 0 and 1 */
#define T0 UINT64_C(1000000)
#define RECYCLE 2048 /* verifications on the caching verifier before it is made afresh */

static const char sign_domain[] = "libcnv/delegation/link/1"; /* docs: signing input */
static const char hash_personal[] = "cnv-deleg-hash-1";       /* docs: link hash */
#define SIGN_DOMAIN_BYTES (sizeof sign_domain - 1)

static struct {
  bool ready;
  uint8_t pk[N_KEYS][CNV_DELEG_KEY_BYTES];
  uint8_t sk[N_KEYS][CNV_DELEG_SECRET_BYTES];
  cnv_deleg_pattern pat[DM_N_PATS];
  cnv_deleg_cap cap[DM_N_CAPS];
  cnv_deleg_verifier *cached, *cold; /* skew 30 with a cache; skew 0 without */
  unsigned uses_of_cached;
  unsigned long inputs, accepted_multi, accepted_8, widened_rejected, faulty_rejected;
} F;

static void die(const char *what, cnv_status st, int32_t link) {
  fprintf(stderr, "fuzz_token_chain: %s (status %d %s, link %d)\n", what, (int)st, cnv_strerror(st), (int)link);
  abort();
}

static void print_stats(void) {
  fprintf(stderr,
          "fuzz_token_chain: %lu inputs, %lu reached an accepted chain of 2+ links (%lu of 8 links), "
          "%lu a widened chain rejected for its widening, %lu a faulty chain rejected\n",
          F.inputs, F.accepted_multi, F.accepted_8, F.widened_rejected, F.faulty_rejected);
}

static cnv_deleg_verifier *make_verifier(uint64_t skew, uint32_t cache) {
  cnv_deleg_config cfg;
  cnv_deleg_config_default(&cfg);
  cfg.skew = skew;
  cfg.cache_capacity = cache;
  cnv_deleg_verifier *v = NULL;
  if (cnv_deleg_verifier_create(&cfg, &v) != CNV_OK) die("verifier_create", CNV_OK, -1);
  for (int k = 0; k < N_KEYS; k++) {
    if ((TRUSTED >> k & 1u) && cnv_deleg_trust_add(v, F.pk[k]) != CNV_OK) die("trust_add", CNV_OK, -1);
  }
  return v;
}

static void init(void) {
  if (F.ready) return;
  if (sodium_init() < 0) abort();
  dm_keys(F.pk, F.sk, N_KEYS, 0x41);
  for (int i = 0; i < DM_N_PATS; i++) {
    const dm_pat *p = &dm_pats[i];
    char text[64];
    snprintf(text, sizeof text, p->prefix ? "%s.*" : "%s", p->path);
    if (cnv_deleg_pattern_parse(text, strlen(text), &F.pat[i]) != CNV_OK) die("pattern_parse", CNV_OK, i);
    if (!p->prefix && strcmp(p->noun, p->path) != 0) { /* the noun field as the model says */
      cnv_deleg_cap noun;
      if (cnv_deleg_cap_from_path(p->noun, strlen(p->noun), &noun) != CNV_OK) die("cap noun", CNV_OK, i);
      F.pat[i].noun = noun.id;
    }
  }
  for (int i = 0; i < DM_N_CAPS; i++) {
    if (cnv_deleg_cap_from_path(dm_caps[i], strlen(dm_caps[i]), &F.cap[i]) != CNV_OK) die("cap", CNV_OK, i);
  }
  F.cached = make_verifier(30, 512);
  F.cold = make_verifier(0, 0);
  F.ready = true;
  const char *stats = getenv("CNV_FUZZ_STATS");
  if (stats && stats[0] == '1') atexit(print_stats);
}

/* ---- caveats from the input ---- */
static const uint64_t nb_vocab[8] = {0, T0 - 1000, T0 - 100, T0, T0 + 100, T0 + 5000, UINT64_MAX - 5, 1};
static const uint64_t exp_vocab[10] = {T0 - 1000, T0 - 31, T0 - 30, T0, T0 + 29,
                                       T0 + 100, T0 + 10000, UINT64_MAX - 10, CNV_DELEG_NO_EXPIRY, 0};
static const uint32_t uses_vocab[5] = {CNV_DELEG_UNLIMITED_USES, 1, 5, 100, 0};
static const uint64_t swarm_vocab[3] = {CNV_DELEG_ANY_SWARM, 7, 8};
static const uint64_t now_vocab[10] = {T0, T0 - 1000, T0 + 30, T0 + 31, T0 - 130, T0 + 10000, UINT64_MAX, 0, T0 + 100, T0 - 70};

/* The bytes one link consumes (fixed count, so that mutations stay local). */
typedef struct link_bytes {
  uint8_t aud, nonce, fault, fault_arg, widen, widen_arg, nb, exp, uses, depth, swarm, eff1, eff2, allow1,
      allow2, forbid1, forbid2;
} link_bytes;

static void read_link(dm_in *in, link_bytes *b) {
  uint8_t *f = &b->aud;
  for (size_t i = 0; i < sizeof *b; i++) f[i] = dm_u8(in);
}

static void add_pat(uint8_t *set, uint8_t *n, uint8_t p) {
  if (!dm_set_has(set, *n, p) && *n < CNV_DELEG_MAX_PATTERNS) set[(*n)++] = p;
}

static void root_cav(const link_bytes *b, dm_cav *c) {
  memset(c, 0, sizeof *c);
  c->nb = nb_vocab[b->nb % 8];
  c->exp = exp_vocab[b->exp % 10];
  if (c->nb > c->exp) {
    uint64_t t = c->nb;
    c->nb = c->exp;
    c->exp = t;
  }
  c->uses = uses_vocab[b->uses % 5];
  c->depth = b->depth >= 250 ? 255 : (uint8_t)(b->depth % 9);
  c->swarm = swarm_vocab[b->swarm % 3];
  c->eff = b->eff1 % 4 == 0 ? CNV_EFFECTS_ALL : (uint16_t)(b->eff1 << 8 | b->eff2);
  for (int k = 0; k < b->allow1 % 5; k++) add_pat(c->allow, &c->n_allow, (uint8_t)((b->allow2 + 3 * k) % DM_N_PATS));
  for (int k = 0; k < b->forbid1 % 3; k++) add_pat(c->forbid, &c->n_forbid, (uint8_t)((b->forbid2 + 7 * k) % DM_N_PATS));
}

/* A child of p that narrows it (by the model's own coverage), shaped by the bytes. */
static void narrow_cav(const dm_cav *p, const link_bytes *b, dm_cav *c) {
  memset(c, 0, sizeof *c);
  uint64_t nb = nb_vocab[b->nb % 8], exp = exp_vocab[b->exp % 10];
  c->nb = nb > p->nb ? nb : p->nb;
  c->exp = exp < p->exp ? exp : p->exp;
  if (c->nb > c->exp) {
    c->nb = p->nb;
    c->exp = p->exp;
  }
  uint32_t uses = uses_vocab[b->uses % 5];
  c->uses = uses < p->uses ? uses : p->uses;
  c->depth = p->depth == 0 ? 0 : (uint8_t)(p->depth - 1 - (b->depth % 3 < p->depth ? b->depth % 3 : 0));
  c->swarm = p->swarm != CNV_DELEG_ANY_SWARM ? p->swarm : swarm_vocab[b->swarm % 3];
  c->eff = b->eff1 % 2 ? p->eff : (uint16_t)(p->eff & (b->eff1 << 8 | b->eff2));
  /* allowed: a subset of the vocabulary patterns the parent's set covers */
  unsigned mask = (unsigned)b->allow1 << 8 | b->allow2, bit = 0;
  for (uint8_t j = 0; j < DM_N_PATS; j++) {
    if (!dm_set_covers(p->allow, p->n_allow, j)) continue;
    if (mask >> (bit++ % 16) & 1u) add_pat(c->allow, &c->n_allow, j);
  }
  /* forbidden: for every parent pattern one that covers it, plus perhaps one more */
  for (int k = 0; k < p->n_forbid; k++) {
    uint8_t cands[DM_N_PATS], n = 0;
    for (uint8_t j = 0; j < DM_N_PATS; j++)
      if (dm_covers(&dm_pats[j], &dm_pats[p->forbid[k]])) cands[n++] = j;
    add_pat(c->forbid, &c->n_forbid, cands[(b->forbid1 + k) % n]); /* n >= 1: it covers itself */
  }
  if (b->forbid2 % 4 == 0) add_pat(c->forbid, &c->n_forbid, (uint8_t)(b->forbid2 / 4 % DM_N_PATS));
}

/* One widening (it may turn out not to widen: the model decides). */
static void widen_cav(const dm_cav *p, uint8_t op, uint8_t arg, dm_cav *c) {
  switch (op % 7) {
    case 0:
      for (int k = 0; k < DM_N_PATS; k++) {
        uint8_t j = (uint8_t)((arg + k) % DM_N_PATS);
        if (!dm_set_covers(p->allow, p->n_allow, j)) {
          add_pat(c->allow, &c->n_allow, j);
          break;
        }
      }
      break;
    case 1:
      if (c->n_forbid > 0) {
        int k = arg % c->n_forbid;
        c->forbid[k] = c->forbid[--c->n_forbid];
      }
      break;
    case 2:
      c->eff = (uint16_t)(c->eff | 1u << (arg % 16));
      break;
    case 3:
      if (arg & 1 && p->nb > 0) {
        c->nb = p->nb - 1;
      } else if (p->exp < UINT64_MAX) {
        c->exp = p->exp + 1;
      }
      if (c->nb > c->exp) c->nb = c->exp;
      break;
    case 4:
      c->uses = arg & 1 || p->uses == CNV_DELEG_UNLIMITED_USES ? CNV_DELEG_UNLIMITED_USES : p->uses + 1;
      break;
    case 5:
      c->depth = (uint8_t)(p->depth + (arg & 1));
      break;
    default:
      c->swarm = arg & 1 ? CNV_DELEG_ANY_SWARM : (p->swarm == 7 ? 8 : 7);
      break;
  }
}

static void to_caveats(const dm_cav *m, cnv_deleg_caveats *c) {
  dm_cav_fields(m, c);
  c->n_allow = m->n_allow;
  c->n_forbid = m->n_forbid;
  for (int k = 0; k < m->n_allow; k++) c->allow[k] = F.pat[m->allow[k]];
  for (int k = 0; k < m->n_forbid; k++) c->forbid[k] = F.pat[m->forbid[k]];
}

/* ---- building the bytes ---- */
static struct {
  dm_link l[CNV_DELEG_MAX_LINKS];
  int n;
  cnv_deleg_token tok, one;
  uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES], att[CNV_DELEG_MAX_TOKEN_BYTES], tmp[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len, end[CNV_DELEG_MAX_LINKS]; /* end[i]: encoded size of links 0..i */
  uint8_t hash[CNV_DELEG_MAX_LINKS][CNV_DELEG_HASH_BYTES];
} B;

/* Appends link i (B.l[i]) to the chain in B.buf: minted for canonical caveats, re-parented
 * and signed here. */
static void forge_link(int i, const uint8_t nonce[CNV_DELEG_NONCE_BYTES], bool flip, int signer) {
  const dm_link *m = &B.l[i];
  cnv_deleg_caveats cav;
  to_caveats(&m->cav, &cav);
  size_t n = 0;
  cnv_status st = cnv_deleg_mint_root(F.sk[m->issuer], F.pk[m->audience], &cav, nonce, B.tmp, sizeof B.tmp, &n);
  if (st != CNV_OK) die("mint_root of a canonical link", st, i);
  if ((st = cnv_deleg_token_decode(B.tmp, n, &B.one, NULL)) != CNV_OK) die("decode of a minted link", st, i);
  B.tok.version = CNV_DELEG_VERSION;
  B.tok.links[i] = B.one.links[0];
  if (i > 0) memcpy(B.tok.links[i].parent, B.hash[i - 1], CNV_DELEG_HASH_BYTES);
  if (m->bad_parent) B.tok.links[i].parent[0] ^= 0x5A;
  B.tok.n_links = (uint8_t)(i + 1);
  if ((st = cnv_deleg_token_encode(&B.tok, B.buf, sizeof B.buf, &B.len)) != CNV_OK) die("encode", st, i);
  size_t start = i > 0 ? B.end[i - 1] : CNV_DELEG_HEADER_BYTES;
  size_t body = B.len - start - CNV_DELEG_SIG_BYTES;
  uint8_t msg[SIGN_DOMAIN_BYTES + CNV_DELEG_LINK_MAX_BYTES];
  memcpy(msg, sign_domain, SIGN_DOMAIN_BYTES);
  memcpy(msg + SIGN_DOMAIN_BYTES, B.buf + start, body);
  uint8_t *sig = B.buf + start + body;
  crypto_sign_detached(sig, NULL, msg, SIGN_DOMAIN_BYTES + body, F.sk[signer]);
  if (flip) sig[nonce[0] % CNV_DELEG_SIG_BYTES] ^= (uint8_t)(1u << (nonce[1] % 8));
  memcpy(B.tok.links[i].signature, sig, CNV_DELEG_SIG_BYTES);
  B.end[i] = B.len;
  /* the link hash, as docs/delegation.md defines it, must be the library's */
  static const uint8_t salt[crypto_generichash_blake2b_SALTBYTES] = {0};
  uint8_t mine[CNV_DELEG_HASH_BYTES];
  crypto_generichash_blake2b_salt_personal(mine, sizeof mine, B.buf + start, body + CNV_DELEG_SIG_BYTES, NULL, 0,
                                           salt, (const uint8_t *)hash_personal);
  if ((st = cnv_deleg_link_hash(B.buf, B.len, (uint32_t)i, B.hash[i])) != CNV_OK) die("link_hash", st, i);
  if (memcmp(mine, B.hash[i], sizeof mine) != 0) die("link hash differs from docs/delegation.md", CNV_OK, i);
}

/* Where link i has no fault of its own, cnv_deleg_attenuate of the chain so far must agree
 * with the model's narrowing judgement (and produce the same bytes when it narrows). */
static void check_attenuate(int i, const uint8_t nonce[CNV_DELEG_NONCE_BYTES]) {
  const dm_link *m = &B.l[i];
  dm_viol v = {0};
  dm_narrowing(&B.l[i - 1].cav, &m->cav, i, &v);
  cnv_deleg_caveats cav;
  to_caveats(&m->cav, &cav);
  memcpy(B.tmp, B.buf, B.end[i - 1]); /* the chain before link i: its header counts i links */
  B.tmp[CNV_DELEG_HEADER_BYTES - 1] = (uint8_t)i;
  size_t n = 0;
  cnv_status st = cnv_deleg_attenuate(B.tmp, B.end[i - 1], F.sk[m->issuer], F.pk[m->audience], &cav, nonce, B.att,
                                      sizeof B.att, &n);
  if (st == CNV_OK) {
    if (v.n != 0) die("attenuate accepted a widening", v.code[0], i);
    if (n != B.end[i] || memcmp(B.att, B.buf, n) != 0) die("attenuate differs from the forged link", st, i);
  } else if (!dm_agrees(&v, i + 1, st, i)) {
    die("attenuate refused a narrowing or for the wrong rule", st, i);
  }
}

static bool is_narrowing_rule(cnv_status st) {
  return st == CNV_EDELEG_WIDENED_ALLOW || st == CNV_EDELEG_DROPPED_FORBIDDEN || st == CNV_EDELEG_WIDENED_EFFECTS ||
         st == CNV_EDELEG_WIDENED_WINDOW || st == CNV_EDELEG_WIDENED_USES || st == CNV_EDELEG_DEPTH ||
         st == CNV_EDELEG_WIDENED_SWARM;
}

static bool is_fault_rule(cnv_status st) {
  return st == CNV_EDELEG_MISALIGNED || st == CNV_EDELEG_PARENT_HASH || st == CNV_EDELEG_BAD_SIGNATURE;
}

/* The chain's window (intersection of its links'), and request parts that the chain allows,
 * so that accepting chains are common: a time inside every window (when they meet), the
 * swarm the chain is bound to (`none` when it names none), a capability the leaf allows (by
 * the model's matching; -1, no check, when it allows none). */
static void window_of(uint64_t *lo, uint64_t *hi) {
  for (int i = 0; i < B.n; i++) {
    if (B.l[i].cav.nb > *lo) *lo = B.l[i].cav.nb;
    if (B.l[i].cav.exp < *hi) *hi = B.l[i].cav.exp;
  }
}

static uint64_t inside_now(void) {
  uint64_t lo = 0, hi = UINT64_MAX;
  window_of(&lo, &hi);
  return lo <= hi ? lo + (hi - lo) / 2 : T0;
}

static uint64_t bound_swarm(uint64_t none) {
  for (int i = 0; i < B.n; i++)
    if (B.l[i].cav.swarm != CNV_DELEG_ANY_SWARM) return B.l[i].cav.swarm;
  return none;
}

/* Verifies the chain for r `passes` times on v (a second pass answers from the cache) and
 * checks every answer against the model. */
static void judge(cnv_deleg_verifier *v, uint64_t skew, int passes, const dm_req *r, bool *accepted, bool *widened,
                  bool *faulty) {
  dm_world w = {.trusted = TRUSTED, .skew = skew};
  dm_viol viol;
  dm_judge(B.l, B.n, &w, r, &viol);
  cnv_deleg_request req = {.now = r->now,
                           .swarm = r->swarm,
                           .holder = r->holder >= 0 ? F.pk[r->holder] : NULL,
                           .cap = r->cap >= 0 ? &F.cap[r->cap] : NULL,
                           .effects = r->eff};
  for (int pass = 0; pass < passes; pass++) {
    cnv_deleg_error err = {.link = -2};
    cnv_deleg_caveats eff;
    cnv_status st = cnv_deleg_verify(v, B.buf, B.len, &req, &eff, &err);
    if (!dm_agrees(&viol, B.n, st, err.link)) {
      fprintf(stderr, "fuzz_token_chain: %d links, model lists %d broken rules:", B.n, viol.n);
      for (int k = 0; k < viol.n; k++) fprintf(stderr, " %s@%d", cnv_strerror(viol.code[k]), (int)viol.link[k]);
      fprintf(stderr, "\n");
      die(pass ? "verify (second call) disagrees with the model" : "verify disagrees with the model", st, err.link);
    }
    if (st == CNV_OK) {
      const dm_cav *leaf = &B.l[B.n - 1].cav;
      uint64_t lo = 0, hi = UINT64_MAX;
      window_of(&lo, &hi);
      if (eff.effects != leaf->eff || eff.max_uses != leaf->uses || eff.depth != leaf->depth ||
          eff.n_allow != leaf->n_allow || eff.n_forbid != leaf->n_forbid || eff.not_before != lo ||
          eff.expiry != hi || eff.swarm != bound_swarm(CNV_DELEG_ANY_SWARM)) {
        die("effective constraint is not the leaf's caveats", st, B.n - 1);
      }
      *accepted = true;
    }
    *widened |= is_narrowing_rule(st);
    *faulty |= is_fault_rule(st);
  }
}

static int allowed_cap(uint8_t start) {
  const dm_cav *leaf = &B.l[B.n - 1].cav;
  for (int k = 0; k < DM_N_CAPS; k++) {
    int c = (start + k) % DM_N_CAPS;
    for (int j = 0; j < leaf->n_allow; j++)
      if (dm_matches(&dm_pats[leaf->allow[j]], dm_caps[c])) return c;
  }
  return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  F.inputs++;
  dm_in in = {data, size};
  B.n = 1 + dm_u8(&in) % CNV_DELEG_MAX_LINKS;
  int root = dm_u8(&in) % 3; /* key 2: an untrusted root */
  for (int i = 0; i < B.n; i++) {
    link_bytes b;
    read_link(&in, &b);
    dm_link *m = &B.l[i];
    memset(m, 0, sizeof *m);
    m->issuer = i == 0 ? root : B.l[i - 1].audience;
    m->audience = b.aud % N_KEYS;
    if (i == 0) {
      root_cav(&b, &m->cav);
    } else {
      narrow_cav(&B.l[i - 1].cav, &b, &m->cav);
      if (b.widen >= 0xC0) widen_cav(&B.l[i - 1].cav, b.widen, b.widen_arg, &m->cav);
    }
    int signer = m->issuer;
    bool flip = false;
    switch (b.fault % 64) {
      case 1:
        if (i > 0) m->issuer = (m->issuer + 1 + b.fault_arg % (N_KEYS - 1)) % N_KEYS;
        signer = m->issuer;
        break;
      case 2:
        m->bad_parent = true;
        break;
      case 3:
        flip = m->bad_sig = true;
        break;
      case 4:
        signer = (m->issuer + 1 + b.fault_arg % (N_KEYS - 1)) % N_KEYS;
        m->bad_sig = true;
        break;
      default:
        break;
    }
    uint8_t nonce[CNV_DELEG_NONCE_BYTES];
    memset(nonce, b.nonce, sizeof nonce);
    nonce[1] = b.fault_arg;
    forge_link(i, nonce, flip, signer);
    if (i > 0 && m->issuer == B.l[i - 1].audience && !m->bad_parent && !m->bad_sig) check_attenuate(i, nonce);
  }
  bool accepted = false, widened = false, faulty = false;
  int n_req = 1 + dm_u8(&in) % 3;
  for (int k = 0; k < n_req; k++) {
    uint8_t hb = dm_u8(&in), nowb = dm_u8(&in), swb = dm_u8(&in), capb = dm_u8(&in), effb = dm_u8(&in);
    dm_req r = {.now = nowb < 0x80 ? inside_now() : now_vocab[nowb % 10],
                .swarm = swb < 0x80 ? bound_swarm(7) : swarm_vocab[swb % 3],
                .holder = hb < 0xE0 ? B.l[B.n - 1].audience : hb == 0xFF ? -1
                                                                         : hb % N_KEYS,
                .cap = capb < 0x80 ? allowed_cap(capb) : capb % (DM_N_CAPS + 1) == DM_N_CAPS ? -1
                                                                                             : capb % (DM_N_CAPS + 1),
                .eff = effb < 0x80 ? 0 : (uint16_t)(1u << (effb % 16))};
    judge(F.cached, 30, 2, &r, &accepted, &widened, &faulty);
    judge(F.cold, 0, 1, &r, &accepted, &widened, &faulty);
  }
  F.accepted_multi += accepted && B.n > 1;
  F.accepted_8 += accepted && B.n == CNV_DELEG_MAX_LINKS;
  F.widened_rejected += widened;
  F.faulty_rejected += faulty;
  if (++F.uses_of_cached == RECYCLE) { /* keep memory flat over a long run */
    cnv_deleg_verifier_destroy(F.cached);
    F.cached = make_verifier(30, 512);
    F.uses_of_cached = 0;
  }
  return 0;
}
