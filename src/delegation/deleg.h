/* Delegation internals shared by the files of src/delegation. Never installed. */
#ifndef CNV__DELEG_H
#define CNV__DELEG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu/urcu-bp.h>
#include <urcu/rculfhash.h>

#include <cnv/delegation.h>

/* Domain separation: an Ed25519 signature over a link is over DOMAIN || body, so it can
 * never be replayed as a signature of another libcnv message (or another protocol's). */
#define CNV__DELEG_SIGN_DOMAIN "libcnv/delegation/link/1"
#define CNV__DELEG_SIGN_DOMAIN_BYTES 24
/* BLAKE2b personalization of link hashes (exactly 16 bytes). */
#define CNV__DELEG_HASH_PERSONAL "cnv-deleg-hash-1"
#define CNV__DELEG_MAGIC "CNVT"

/* ---- pattern.c: paths, patterns, caveat rules --------------------------------------- */

/* Capability id of a validated path. The contract's id is XXH3-64 of the canonical path bytes;
 * the protocol module's cnv_capability_id computes the same and replaces this at merge.
 * Also returns the id of the first segment and the segment count.
 * Errors: CNV_EDELEG_BAD_PATH. */
CNV_NODISCARD cnv_status cnv__deleg_path_id(const char *path, size_t len, uint64_t *id, uint64_t *noun,
                                            uint8_t *segments);
/* Total order on patterns: (kind, id); canonical sets are strictly ascending in it. */
int cnv__deleg_pattern_cmp(const cnv_deleg_pattern *a, const cnv_deleg_pattern *b);
/* Canonical-form check of one link's caveats (counts, order, kinds, window). */
CNV_NODISCARD cnv_status cnv__deleg_caveats_check(const cnv_deleg_caveats *c);
/* CNV_OK when child only narrows parent, else the first widening rule's code. */
CNV_NODISCARD cnv_status cnv__deleg_narrows(const cnv_deleg_caveats *parent, const cnv_deleg_caveats *child);
/* Capability check against one link's sets: forbidden wins over allowed. */
CNV_NODISCARD cnv_status cnv__deleg_cap_check(const cnv_deleg_caveats *c, const cnv_deleg_cap *cap);

/* ---- codec.c: bytes ------------------------------------------------------------------ */

/* Where link i lies in the encoded token: body at off (body_len bytes, the signed part),
 * the signature right after it. */
typedef struct cnv__deleg_span {
  uint32_t off;
  uint32_t body_len;
} cnv__deleg_span;

CNV_NODISCARD cnv_status cnv__deleg_parse(const uint8_t *buf, size_t len, cnv_deleg_token *out,
                                          cnv__deleg_span spans[CNV_DELEG_MAX_LINKS], cnv_deleg_error *err);
/* Encoded size of a link body (signature excluded). */
size_t cnv__deleg_body_size(const cnv_deleg_caveats *c);
/* Writes the body of l (cnv__deleg_body_size bytes) to out. */
void cnv__deleg_body_encode(const cnv_deleg_link *l, uint8_t *out);
/* BLAKE2b-256 (personalized) of an encoded link: body and signature. */
void cnv__deleg_hash_link(const uint8_t *link, size_t len, uint8_t out[CNV_DELEG_HASH_BYTES]);
/* Cheap public-key check applied to every key of a decoded token: canonical encoding and not
 * one of the eight small-order points (the rule crypto_sign_verify_detached applies to keys). */
bool cnv__deleg_key_plausible(const uint8_t pk[CNV_DELEG_KEY_BYTES]);
/* Full check for keys entering by mint, attenuate and trust_add: the above and in the
 * prime-order subgroup (crypto_core_ed25519_is_valid_point; costs a scalar multiplication). */
bool cnv__deleg_key_valid(const uint8_t pk[CNV_DELEG_KEY_BYTES]);
/* Ed25519 over DOMAIN || body. verify returns true when the signature is valid. */
void cnv__deleg_sign_body(const uint8_t *body, size_t len, const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                          uint8_t sig[CNV_DELEG_SIG_BYTES]);
bool cnv__deleg_verify_body(const uint8_t *body, size_t len, const uint8_t sig[CNV_DELEG_SIG_BYTES],
                            const uint8_t pk[CNV_DELEG_KEY_BYTES]);

/* ---- verifier internals -------------------------------------------------------------- */

/* `used` / `live` value of a counter or delegate node that was reclaimed: no use can be
 * taken from it or charged to it any more; it is being unlinked and freed after a grace period. */
#define CNV__DELEG_DEAD UINT32_MAX

/* A principal counters are charged to: the audience of a chain's root link (the key the
 * trusted root delegated to; everything below it is under its control). */
typedef struct cnv__deleg_delegate {
  struct cds_lfht_node node;
  struct rcu_head rcu;
  atomic_uint published; /* release-stored 1 after init */
  atomic_uint live;      /* live counters charged to it, or CNV__DELEG_DEAD */
  uint8_t key[CNV_DELEG_KEY_BYTES];
} cnv__deleg_delegate;

/* One use counter per use-limited link, keyed by link hash. Created by a successful
 * authorize with its first use taken; reclaimed when its link expired or was revoked, or
 * when the authorize that created it gives its use back. */
typedef struct cnv__deleg_counter {
  /* Contended by every authorizing thread of the link: alone on its cache line. */
  CNV_ALIGNED(CNV_CACHELINE)
  atomic_uint used; /* uses taken (and in-flight reservations), or CNV__DELEG_DEAD */
  CNV_ALIGNED(CNV_CACHELINE)
  struct cds_lfht_node node;
  atomic_uint published; /* release-stored 1 after init: orders init before any reader */
  struct rcu_head rcu;   /* deferred free after reclaim or at verifier destruction */
  uint32_t max;
  uint8_t n_hashes;                                        /* the link's index + 1 */
  uint64_t expiry;                                         /* the link's expiry (its descendants' are not later) */
  cnv__deleg_delegate *delegate;                           /* charged; holds one of its `live` while alive */
  uint8_t hash[CNV_DELEG_MAX_LINKS][CNV_DELEG_HASH_BYTES]; /* root .. the link (the key) */
} cnv__deleg_counter;

/* What static verification learns about a chain: everything later checks need. */
typedef struct cnv__deleg_chain {
  uint8_t n_links;
  uint64_t not_before[CNV_DELEG_MAX_LINKS];
  uint64_t expiry[CNV_DELEG_MAX_LINKS];
  uint64_t swarm[CNV_DELEG_MAX_LINKS];
  uint8_t hash[CNV_DELEG_MAX_LINKS][CNV_DELEG_HASH_BYTES];
  uint8_t root[CNV_DELEG_KEY_BYTES];
  uint8_t holder[CNV_DELEG_KEY_BYTES];
  uint8_t delegate[CNV_DELEG_KEY_BYTES];  /* audience of the root link: pays for counters */
  uint32_t max_uses[CNV_DELEG_MAX_LINKS]; /* CNV_DELEG_UNLIMITED_USES: no counter */
  cnv_deleg_caveats leaf;
} cnv__deleg_chain;

/* Node of the trust store and of the revocation set. */
typedef struct cnv__deleg_key_node {
  struct cds_lfht_node node;
  struct rcu_head rcu;
  atomic_uint published; /* release-stored 1 after init */
  uint8_t key[CNV_DELEG_HASH_BYTES];
} cnv__deleg_key_node;

/* A verified chain in the cache, keyed by the token's bytes (hash: seeded XXH3-64). */
typedef struct cnv__deleg_entry {
  struct cds_lfht_node node;
  struct rcu_head rcu;
  atomic_uint published;  /* release-stored 1 after init */
  atomic_uint in_table;   /* release-stored 1 once linked: only then may CLOCK evict it */
  atomic_uint ref;        /* CLOCK reference bit: set by hits, cleared by the sweeping hand */
  _Atomic uint64_t epoch; /* policy epoch at which trust and revocation were last checked */
  uint32_t slot;          /* index in the CLOCK ring (written before publication) */
  uint32_t share;         /* share bucket of the holder */
  uint32_t size;          /* bytes charged: allocation size */
  uint32_t len;
  cnv__deleg_chain chain;
  uint8_t bytes[];
} cnv__deleg_entry;

/* Negative cache: a fixed array of 2-way sets of seqlocked records (cache.c). */
#define CNV__DELEG_NEG_WORDS 36
typedef struct cnv__deleg_neg_slot {
  _Atomic uint64_t seq; /* odd while a writer fills the slot */
  _Atomic uint64_t w[CNV__DELEG_NEG_WORDS];
} cnv__deleg_neg_slot;

/* Striped statistics (one stripe per thread, by a thread-local index). */
#define CNV__DELEG_STRIPES 16
typedef struct cnv__deleg_stripe {
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t hits;
  _Atomic uint64_t misses;
  _Atomic uint64_t negative_hits;
  _Atomic uint64_t evictions;
} cnv__deleg_stripe;

struct cnv_deleg_verifier {
  /* Bumped (release) by every revocation, trust addition and trust removal after the
   * change is visible. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t epoch;
  CNV_ALIGNED(CNV_CACHELINE)
  atomic_size_t cache_count;
  atomic_size_t counter_count;
  /* Counter reclamation: the highest `now` given to cnv_deleg_counters_purge (links expired
   * by it never get a new counter), and what the last sweep saw (a full table sweeps again
   * only when one of them moved); `sweeping` lets one thread sweep at a time. */
  _Atomic uint64_t reclaim_now;
  _Atomic uint64_t swept_now;
  _Atomic uint64_t swept_epoch;
  atomic_uint sweeping;
  _Atomic uint64_t cache_bytes; /* bytes charged by live positive entries */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t hand;      /* CLOCK hand (ever increasing; slot = hand % ring_slots) */
  _Atomic uint64_t neg_stamp; /* negative-cache insertion clock (replacement order) */
  CNV_ALIGNED(CNV_CACHELINE)
  struct cds_lfht *cache;
  struct cds_lfht *revoked;
  struct cds_lfht *trust;
  struct cds_lfht *counters;
  struct cds_lfht *delegates;
  cnv_deleg_config cfg;
  uint64_t seed;                                 /* random per verifier: cache hashing resists chosen collisions */
  uint8_t neg_secret[192];                       /* random per verifier: XXH3-128 secret of negative keys */
  uint32_t ring_slots;                           /* CLOCK ring size (cache_capacity) */
  uint32_t neg_sets;                             /* negative sets (power of two; 0: off) */
  uint64_t share_max;                            /* bytes one share bucket may hold */
  _Atomic(cnv__deleg_entry *) *ring;             /* CLOCK ring: the entry owning each slot */
  _Atomic uint64_t *shares;                      /* bytes per share bucket */
  cnv__deleg_neg_slot *neg;                      /* neg_sets * 2 slots */
  cnv__deleg_stripe stripes[CNV__DELEG_STRIPES]; /* statistics */
};

#define CNV__DELEG_SHARE_BUCKETS 4096u

/* verifier.c: key sets (trust, revocation). Lookups need the RCU read lock. */
bool cnv__deleg_key_present(const cnv_deleg_verifier *v, struct cds_lfht *t, const uint8_t key[32]);
/* chain.c: hashes and summary of a parsed token (no signature checked yet). */
void cnv__deleg_chain_summary(const cnv_deleg_token *tok, const uint8_t *buf, const cnv__deleg_span *spans,
                              cnv__deleg_chain *c);
/* chain.c: the expensive static pass over a summarized token: principals, parent hashes,
 * signatures, narrowing (link by link from the root). */
CNV_NODISCARD cnv_status cnv__deleg_chain_static(const cnv_deleg_token *tok, const cnv__deleg_span *spans,
                                                 const uint8_t *buf, const cnv__deleg_chain *c,
                                                 cnv_deleg_error *err);
/* chain.c: trust and revocation still hold (RCU read lock held). */
CNV_NODISCARD cnv_status cnv__deleg_chain_policy(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_deleg_error *err);
/* chain.c: the time windows (with skew) of links 0..n-1, in link order: the first failing link. */
CNV_NODISCARD cnv_status cnv__deleg_check_time(uint64_t skew, uint8_t n_links, const uint64_t *not_before,
                                               const uint64_t *expiry, uint64_t now, cnv_deleg_error *err);
/* chain.c: the swarm of every link, then the holder (what a request binds, besides time). */
CNV_NODISCARD cnv_status cnv__deleg_check_bind(uint8_t n_links, const uint64_t *swarm,
                                               const uint8_t holder[CNV_DELEG_KEY_BYTES], uint64_t req_swarm,
                                               const uint8_t req_holder[CNV_DELEG_KEY_BYTES], cnv_deleg_error *err);
/* chain.c: the cheap per-request checks: time windows, swarm, holder (in that order):
 * cnv__deleg_check_time, then cnv__deleg_check_bind. */
CNV_NODISCARD cnv_status cnv__deleg_check_window(uint64_t skew, uint8_t n_links, const uint64_t *not_before,
                                                 const uint64_t *expiry, const uint64_t *swarm,
                                                 const uint8_t holder[CNV_DELEG_KEY_BYTES],
                                                 const cnv_deleg_request *req, cnv_deleg_error *err);
/* chain.c: the leaf checks of a request: capability, effects. */
CNV_NODISCARD cnv_status cnv__deleg_chain_leaf(const cnv__deleg_chain *c, const cnv_deleg_request *req,
                                               cnv_deleg_error *err);
/* chain.c: window checks, then leaf checks. */
CNV_NODISCARD cnv_status cnv__deleg_chain_request(const cnv_deleg_verifier *v, const cnv__deleg_chain *c,
                                                  const cnv_deleg_request *req, cnv_deleg_error *err);
/* counters.c: takes one use of every limited link of c, all or none. Called only when every
 * other check passed; a counter is created only with its first use taken, and a call that
 * fails leaves no counter it created (a failing request must not fill the counter table). */
CNV_NODISCARD cnv_status cnv__deleg_counters_take(cnv_deleg_verifier *v, const cnv__deleg_chain *c, cnv_deleg_error *err);

/* What a verification learned about its chain, for prepared tokens (prepared.c). */
typedef struct cnv__deleg_learned {
  bool valid;     /* the chain is well formed and signed, and trust and revocation held at epoch */
  uint64_t epoch; /* policy epoch read (acquire) before that trust and revocation check */
  cnv__deleg_chain chain;
} cnv__deleg_learned;

/* cache.c: cnv_deleg_verify (take false) or cnv_deleg_authorize (take true), the same path
 * and answer, also filling *learn (learn->valid false when the answer came from the negative
 * cache, or the chain failed before its static pass completed or its policy check). */
CNV_NODISCARD cnv_status cnv__deleg_verify_learn(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                                                 const cnv_deleg_request *req, bool take,
                                                 cnv_deleg_caveats *effective, cnv_deleg_error *err,
                                                 cnv__deleg_learned *learn);

#endif
