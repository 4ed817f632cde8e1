/* libcnv delegation: signed, attenuate-only token chains, revocation, verified-chain cache.
 *
 * A token is a chain of 1..CNV_DELEG_MAX_LINKS links. Link i is signed (Ed25519) by its
 * issuer and names an audience; the audience of link i is the issuer of link i+1, the root
 * issuer must be trusted by the verifier, and every link may only narrow its parent
 * (attenuation). Byte layout, signing input and rules: docs/delegation.md.
 *
 * Synchronization table:
 *   cnv_deleg_verify / cnv_deleg_authorize   any threads at once (no registration: a thread
 *                       joins liburcu's reader registry on its first call, which takes
 *                       liburcu's registry lock once, and leaves it when the thread exits);
 *                       lock-free after that: one hash lookup when cached.
 *   cnv_deleg_revoke / trust_add / trust_remove / cache_purge / counters_purge /
 *   cache_stats_get     any threads, concurrently with verification; a verification that
 *                       starts after one of them returns sees its effect.
 *   cnv_deleg_prepared_authorize   any threads at once, on the same prepared token too; as
 *                       authorize, but hashes nothing while the policy epoch stays put.
 *   verifier_create / verifier_destroy   one thread, no other call on the verifier in flight.
 *   token encode/decode, mint, attenuate, pattern and path helpers   pure; any threads.
 * Times are seconds on the caller's clock, passed in. Nothing here aborts or prints. */
#ifndef CNV_DELEGATION_H
#define CNV_DELEGATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "effects.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNV_DELEG_VERSION 1
#define CNV_DELEG_MAX_LINKS 8
#define CNV_DELEG_MAX_PATTERNS 16
#define CNV_DELEG_KEY_BYTES 32    /* Ed25519 public key */
#define CNV_DELEG_SECRET_BYTES 64 /* libsodium Ed25519 secret key (seed || public key) */
#define CNV_DELEG_SIG_BYTES 64
#define CNV_DELEG_HASH_BYTES 32 /* BLAKE2b-256 link hash */
#define CNV_DELEG_NONCE_BYTES 16
/* Encoded sizes: header, fixed part of a link (signature excluded), one pattern. */
#define CNV_DELEG_HEADER_BYTES 6
#define CNV_DELEG_LINK_FIXED_BYTES 145
#define CNV_DELEG_PATTERN_BYTES 17
#define CNV_DELEG_LINK_MAX_BYTES \
  (CNV_DELEG_LINK_FIXED_BYTES + 2 * CNV_DELEG_MAX_PATTERNS * CNV_DELEG_PATTERN_BYTES + CNV_DELEG_SIG_BYTES)
/* Largest canonical token; a buffer this size always suffices. */
#define CNV_DELEG_MAX_TOKEN_BYTES (CNV_DELEG_HEADER_BYTES + CNV_DELEG_MAX_LINKS * CNV_DELEG_LINK_MAX_BYTES)

#define CNV_DELEG_UNLIMITED_USES UINT32_MAX /* max_uses value: no use counting */
#define CNV_DELEG_ANY_SWARM UINT64_C(0)     /* swarm value: valid in every swarm */
#define CNV_DELEG_NO_EXPIRY UINT64_MAX      /* expiry value: never expires */

/* Pattern kinds. EXACT matches one path (id and first-segment id both equal); PREFIX
 * (`noun.*`) matches every path of two or more segments whose first segment is noun. */
enum cnv_deleg_pattern_kind { CNV_DELEG_EXACT = 1,
                              CNV_DELEG_PREFIX = 2 };

/* A capability pattern. EXACT: id = capability id of the path, noun = id of its first
 * segment. PREFIX: id = noun = id of the noun. Ids are XXH3-64 of the bytes. */
typedef struct cnv_deleg_pattern {
  uint64_t id;
  uint64_t noun;
  uint8_t kind;
} cnv_deleg_pattern;

/* A capability as the check sees it (from cnv_deleg_cap_from_path). */
typedef struct cnv_deleg_cap {
  uint64_t id;      /* capability id of the whole path */
  uint64_t noun;    /* id of the first segment */
  uint8_t segments; /* 1..8 */
} cnv_deleg_cap;

/* The constraints one link carries. Pattern sets need not be sorted when minting (mint
 * sorts them); decoded ones are in canonical order. */
typedef struct cnv_deleg_caveats {
  uint64_t not_before; /* first valid second */
  uint64_t expiry;     /* last valid second; CNV_DELEG_NO_EXPIRY for none */
  uint64_t swarm;      /* audience swarm or CNV_DELEG_ANY_SWARM */
  uint32_t max_uses;   /* uses through this link, or CNV_DELEG_UNLIMITED_USES */
  cnv_effects effects; /* effect ceiling */
  uint8_t depth;       /* further links allowed below this one */
  uint8_t n_allow;
  uint8_t n_forbid;
  cnv_deleg_pattern allow[CNV_DELEG_MAX_PATTERNS];
  cnv_deleg_pattern forbid[CNV_DELEG_MAX_PATTERNS];
} cnv_deleg_caveats;

typedef struct cnv_deleg_link {
  uint8_t issuer[CNV_DELEG_KEY_BYTES];
  uint8_t audience[CNV_DELEG_KEY_BYTES];
  uint8_t parent[CNV_DELEG_HASH_BYTES]; /* all zero for the root link */
  uint8_t nonce[CNV_DELEG_NONCE_BYTES];
  cnv_deleg_caveats caveats;
  uint8_t signature[CNV_DELEG_SIG_BYTES];
} cnv_deleg_link;

/* A decoded token (about 7 KiB: keep it off hot stacks in loops if that matters). */
typedef struct cnv_deleg_token {
  uint8_t version;
  uint8_t n_links;
  cnv_deleg_link links[CNV_DELEG_MAX_LINKS];
} cnv_deleg_token;

/* Where a failure was found: link is the failing link's index (-1 when not tied to one);
 * offset is the byte offset of an encoding error (0 otherwise). */
typedef struct cnv_deleg_error {
  int32_t link;
  uint32_t offset;
} cnv_deleg_error;

/* ------------------------------------------------------------------------------------ */
/* Paths and patterns.                                                                  */

/* Fills cap from a capability path (1-8 segments of [a-z0-9_-], at most 255 bytes; not
 * NUL-terminated needed). Errors: CNV_EDELEG_BAD_PATH, CNV_EINVAL (NULL). Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_cap_from_path(const char *path, size_t len, cnv_deleg_cap *out);

/* Parses "noun.verb..." (EXACT) or "noun.*" (PREFIX) into a pattern.
 * Errors: CNV_EDELEG_BAD_PATH, CNV_EINVAL (NULL). Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_pattern_parse(const char *text, size_t len, cnv_deleg_pattern *out);

/* True when pattern p matches capability c (both non-NULL). Pure; no allocation. */
CNV_API bool cnv_deleg_pattern_matches(const cnv_deleg_pattern *p, const cnv_deleg_cap *c);

/* ------------------------------------------------------------------------------------ */
/* Encoding (one canonical form; anything else is rejected).                             */

/* Decodes a canonical token into *out (no signature or rule checks). Bounded: reads only
 * buf[0..len), allocates nothing. Errors: every CNV_ETOKEN_* (err->offset says where),
 * CNV_EDELEG_BAD_KEY (an issuer or audience is a small-order point or a non-canonical
 * encoding; err->offset is the key's), CNV_EINVAL (NULL). err may be NULL. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_token_decode(const uint8_t *buf, size_t len, cnv_deleg_token *out,
                                                        cnv_deleg_error *err);

/* Encodes *tok canonically into out[0..cap); *out_len is the size. Errors: the encoding
 * errors of cnv_deleg_token_decode (CNV_EDELEG_BAD_KEY included) when tok is not canonical (unsorted sets, bad window,
 * counts), CNV_ERANGE (cap too small; *out_len still says how much is needed), CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_token_encode(const cnv_deleg_token *tok, uint8_t *out, size_t cap,
                                                        size_t *out_len);

/* BLAKE2b-256 hash of link `index` of an encoded token (what revocation and parent hashes
 * name). Errors: decode errors, CNV_ERANGE (index out of range), CNV_EINVAL. Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_link_hash(const uint8_t *buf, size_t len, uint32_t index,
                                                     uint8_t out[CNV_DELEG_HASH_BYTES]);

/* ------------------------------------------------------------------------------------ */
/* Minting.                                                                             */

/* Mints a one-link token: issuer (secret key sk) delegates *cav to audience. nonce may be
 * NULL (then 16 random bytes are drawn). Pattern sets are sorted into canonical order.
 * Keys: audience must be a valid Ed25519 public key (crypto_core_ed25519_is_valid_point:
 * canonical, not of small order, in the prime-order subgroup), and the public half of sk
 * (its last 32 bytes) must be the key its seed (first 32 bytes) derives; else
 * CNV_EDELEG_BAD_KEY (a mismatched sk would sign links that never verify).
 * Errors: CNV_EDELEG_BAD_KEY, CNV_ETOKEN_DUPLICATE, CNV_ETOKEN_PATTERN_COUNT, CNV_ETOKEN_BAD_PATTERN,
 * CNV_ETOKEN_BAD_WINDOW, CNV_ERANGE (cap too small), CNV_EINVAL, CNV_ENOTSUP (libsodium
 * failed to initialize). The caller owns every buffer. Thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_mint_root(const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                                                     const uint8_t audience[CNV_DELEG_KEY_BYTES],
                                                     const cnv_deleg_caveats *cav, const uint8_t *nonce,
                                                     uint8_t *out, size_t cap, size_t *out_len);

/* Appends a link to `token`: the holder (sk, must be the audience of the last link)
 * delegates *cav to audience. The new link must narrow the last one: every widening is
 * refused with the rule's code (CNV_EDELEG_WIDENED_*, CNV_EDELEG_DROPPED_FORBIDDEN,
 * CNV_EDELEG_DEPTH). audience and sk are checked as by cnv_deleg_mint_root
 * (CNV_EDELEG_BAD_KEY). Also: decode errors of token, CNV_EDELEG_WRONG_KEY (sk is not the
 * last audience), CNV_ETOKEN_LINK_COUNT (chain full), the errors of cnv_deleg_mint_root.
 * Earlier signatures are not checked here (the verifier does). out must not overlap token. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_attenuate(const uint8_t *token, size_t len,
                                                     const uint8_t sk[CNV_DELEG_SECRET_BYTES],
                                                     const uint8_t audience[CNV_DELEG_KEY_BYTES],
                                                     const cnv_deleg_caveats *cav, const uint8_t *nonce,
                                                     uint8_t *out, size_t cap, size_t *out_len);

/* ------------------------------------------------------------------------------------ */
/* Verifier: trust store, revocation set, use counters, verified-chain cache.            */

typedef struct cnv_deleg_verifier cnv_deleg_verifier;

typedef struct cnv_deleg_config {
  uint64_t skew;           /* seconds of clock skew allowed at both window ends */
  uint32_t cache_capacity; /* most chains cached at once (slots of the CLOCK ring); 0 disables the cache */
  uint32_t max_counters;   /* links with a use limit tracked at once */
  /* Live use counters one delegate (the audience of a token's root link) may hold; 0 = up to
   * max_counters. Beyond it only that delegate's new use-limited links are refused. */
  uint32_t max_counters_per_delegate;
  /* Most bytes the cached chains may take (each: its token's bytes plus a fixed record of
   * about 1.4 KiB); 0 disables the cache. The bytes of the cached chains never exceed it, not
   * even transiently; an evicted chain's memory is freed after an RCU grace period, so memory
   * in use can run above it by the entries evicted and not yet freed. */
  uint64_t cache_max_bytes;
  /* Percent (1..100) of cache_max_bytes the chains of one holder (the audience of the last
   * link) may take. A chain whose holder is over it is verified but not cached. */
  uint32_t cache_max_share;
  /* Records of the negative cache (recent rejections; rounded down to a power of two); 0 or 1
   * disables it. Fixed size: 296 bytes a record, allocated by create. */
  uint32_t neg_cache_slots;
} cnv_deleg_config;

/* Defaults: skew 30 s, cache 65536 chains and 64 MiB, share 12 % (about 1/8), 4096 negative
 * records, 65536 use counters, 4096 of them per delegate. */
CNV_API void cnv_deleg_config_default(cnv_deleg_config *cfg);

/* Allocates a verifier (cfg NULL = defaults) with its fixed parts: the CLOCK ring
 * (8 bytes a cache slot), the share table (32 KiB) and the negative cache. Errors: CNV_ENOMEM,
 * CNV_ENOTSUP (libsodium), CNV_EINVAL, CNV_ERANGE (cache_max_share not in 1..100 while the cache
 * is on). Destroy with cnv_deleg_verifier_destroy. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_verifier_create(const cnv_deleg_config *cfg, cnv_deleg_verifier **out);

/* Frees the verifier and everything it holds (NULL ignored). No call may be in flight; waits
 * for deferred frees (rcu_barrier). Call outside any RCU
 * read-side section (not from a deferred-free callback). */
CNV_API void cnv_deleg_verifier_destroy(cnv_deleg_verifier *v);

/* Adds a root issuer key to the trust store (idempotent). pk must be a valid Ed25519 public
 * key (as audience in cnv_deleg_mint_root), else CNV_EDELEG_BAD_KEY. Any thread; lock-free
 * apart from the allocation of the new entry. Errors: CNV_EDELEG_BAD_KEY, CNV_ENOMEM,
 * CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_trust_add(cnv_deleg_verifier *v, const uint8_t pk[CNV_DELEG_KEY_BYTES]);

/* Removes a root issuer key; tokens rooted at it fail from the next verification on, cached
 * or not. Any thread; lock-free (the entry is freed after a grace period). Errors: CNV_ENOTFOUND, CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_trust_remove(cnv_deleg_verifier *v, const uint8_t pk[CNV_DELEG_KEY_BYTES]);

/* Revokes a link by its hash (cnv_deleg_link_hash); every token containing that link, i.e.
 * the link and all its descendants, fails with CNV_EDELEG_REVOKED from the next
 * verification on, cached or not. Permanent and idempotent. Any thread; lock-free apart
 * from the allocation of the new entry. Errors: CNV_ENOMEM, CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_revoke(cnv_deleg_verifier *v, const uint8_t hash[CNV_DELEG_HASH_BYTES]);

/* What a verification is asked. */
typedef struct cnv_deleg_request {
  uint64_t now;   /* current time, seconds */
  uint64_t swarm; /* swarm the token is presented in */
  /* Presenter's public key (32 bytes); mandatory. The token carries no proof of possession:
   * the caller must have authenticated the presenter's key (e.g. a signed request or an
   * authenticated channel). Without it any prefix of a chain would verify. */
  const uint8_t *holder;
  const cnv_deleg_cap *cap; /* capability invoked, or NULL: no capability check */
  cnv_effects effects;      /* effects the invocation needs (must be within the ceiling) */
} cnv_deleg_request;

/* Verifies a token for one request, cheapest checks first (docs/delegation.md#rules):
 * encoding, trust, revocation, time windows (with skew), swarm, holder, then per link
 * principals, parent hashes, signatures and attenuation, then capability (forbidden wins)
 * and effects. A token with several faults reports the first in that order.
 * A chain that verified before is found by hash in the cache and only its time, revocation
 * and request checks run; a token rejected before is found in the negative cache and, when
 * its record decides the request exactly as a full verification would, answered from it
 * without a signature (a record is ignored once trust or revocation changed). On success
 * *effective (may be NULL) gets the effective constraint: the leaf's sets, effects, uses and
 * depth, the intersected window and the bound swarm. On failure the status names the rule
 * and *err (may be NULL) the link.
 * Errors: every CNV_ETOKEN_* and CNV_EDELEG_* rule code, CNV_EDELEG_NO_HOLDER (req->holder
 * NULL; err->link -1), CNV_EDELEG_BAD_KEY (a key of the token, the holder included, is
 * small-order or non-canonical: a token for such a holder never verifies), CNV_EINVAL (NULL
 * v, token or req).
 * Cache guarantees: the cached chains never take more than cache_max_bytes, nor one holder's
 * more than its share; room for a new chain is made on insert by a CLOCK hand that evicts
 * only chains not used since its last pass (a hit sets the chain's reference bit), so a chain
 * used at least once per sweep stays cached whatever others insert. A full cache or a holder
 * over its share is not an error: the chain is verified in full each time.
 * Progress: lock-free (see the table above for a thread's first call); the cached and the
 * negative paths allocate nothing; a newly verified chain allocates its cache entry and its
 * insert may run the CLOCK hand over at most two turns of the ring. Creates no use counter. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_verify(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                                                  const cnv_deleg_request *req, cnv_deleg_caveats *effective,
                                                  cnv_deleg_error *err);

/* cnv_deleg_verify, then consumes one use of every link with a use limit, atomically per
 * link: of N racing calls on links with K uses left, exactly K succeed. A failed call
 * consumes nothing and leaves no counter behind: a link's use counter is created only when
 * every check passed and its first use is taken. Each new counter is charged to the token's
 * delegate (the audience of its root link: the key the trusted root delegated to, which can
 * mint any number of keys below itself), at most cfg.max_counters_per_delegate live at once.
 * A full table or share first reclaims the counters of dead links (as cnv_deleg_counters_purge
 * with its last `now`) when something may have died since the last such sweep.
 * Progress: lock-free, as verify (a sweep scans the counter table once; one thread at a time).
 * Extra errors: CNV_EDELEG_USES_EXHAUSTED (err->link names the link),
 * CNV_EDELEG_COUNTERS_FULL (table full, or the delegate's share used up; err->link: the link
 * whose counter could not be made), CNV_EDELEG_EXPIRED for a link whose counter may have been
 * reclaimed (expired as of the latest cnv_deleg_counters_purge `now`), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_authorize(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                                                     const cnv_deleg_request *req, cnv_deleg_caveats *effective,
                                                     cnv_deleg_error *err);

/* ------------------------------------------------------------------------------------ */
/* Prepared tokens: a token bound once to its holder and swarm, checked per call without    */
/* hashing it (what an agent table holds for each agent's token).                           */

typedef struct cnv_deleg_prepared cnv_deleg_prepared;

/* The verifier's policy epoch: moves (by one or more) on every revocation, trust addition and
 * trust removal that changed its table, after the change is visible; never goes back. A call
 * that reads epoch E sees every change counted in E. NULL v: 0. Any thread; wait-free. */
CNV_API uint64_t cnv_deleg_policy_epoch(const cnv_deleg_verifier *v);

/* Binds a copy of token[0..len) to the presenter's key `holder` (copied; authenticated by the
 * caller, as cnv_deleg_request.holder) and the swarm it is presented in, for verifier v.
 * Verifies nothing yet (lazy): the first cnv_deleg_prepared_authorize verifies it, so a bad
 * token is prepared without error and refused by every call, with the status authorize gives.
 * The caller owns *out (destroy with cnv_deleg_prepared_destroy, before v is destroyed); v
 * must outlive it. Any thread; allocates sizeof the object plus len bytes.
 * Errors: CNV_EINVAL (NULL v, token, holder or out; *out is NULL on any error), CNV_ENOMEM,
 * CNV_EOVERFLOW (len too large to allocate). */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_prepare(cnv_deleg_verifier *v, const uint8_t *token, size_t len,
                                                   const uint8_t holder[CNV_DELEG_KEY_BYTES], uint64_t swarm,
                                                   cnv_deleg_prepared **out);

/* Frees p and its snapshot (NULL ignored). No call on p may be in flight; snapshots it
 * replaced earlier are freed by the RCU deferred-free machinery (the verifier's destroy waits
 * for them). */
CNV_API void cnv_deleg_prepared_destroy(cnv_deleg_prepared *p);

/* Authorizes one invocation of capability cap (NULL: no capability check) needing `effects`
 * at time now with the prepared token: the same status, the same err->link, the same
 * *effective and the same use consumption as cnv_deleg_authorize(v, token, len, &req, ...)
 * with req = {now, swarm, holder, cap, effects} of the prepared token.
 * How: the first call, and every call after the policy epoch moved, verifies through
 * cnv_deleg_authorize's own path (its chain cache and negative cache included); when that
 * finds the chain well formed, signed and trusted with no link revoked, it publishes a
 * snapshot of the chain and the epoch its trust and revocation check read. While the epoch
 * still equals the snapshot's, a call answers from it: time windows with skew (the
 * intersected window, one comparison per end), swarm and holder (decided when the snapshot
 * was made), capability (forbidden wins) and effects ceiling against the leaf; no hash of the
 * token, no cache lookup, no allocation. A chain with a use-limited link then also takes one
 * use of each such link through the same counters as authorize (exactly K successes for K
 * uses; the first use of a link allocates its counter, as in authorize). A chain that failed
 * its static or policy checks gets no snapshot: every call takes the normal path (usually
 * answered by the negative cache).
 * Revocation: a cnv_deleg_revoke or cnv_deleg_trust_remove that returned before this call
 * started (happens-before, e.g. through the caller's own synchronization) is seen by it,
 * as by authorize: it moved the epoch, so the call takes the normal path.
 * Thread-safety: any threads at once on the same p and v, concurrently with every verifier
 * call but create/destroy. Progress: lock-free, as authorize; the snapshot path is wait-free
 * apart from the RCU read-side section (and the counting of use-limited links, lock-free as
 * in authorize); a refresh allocates the new snapshot (the old one is freed after a grace
 * period) and, when two refreshes race, keeps the later epoch's.
 * Errors: those of cnv_deleg_authorize; CNV_EINVAL (NULL v or p, or p prepared for another
 * verifier). */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_prepared_authorize(cnv_deleg_verifier *v, cnv_deleg_prepared *p,
                                                              uint64_t now, const cnv_deleg_cap *cap,
                                                              cnv_effects effects, cnv_deleg_caveats *effective,
                                                              cnv_deleg_error *err);

/* Drops cached chains that expired before now (minus skew) or were revoked or lost their
 * trusted root. Returns how many were dropped. Any thread; lock-free. */
CNV_API size_t cnv_deleg_cache_purge(cnv_deleg_verifier *v, uint64_t now);

/* Number of chains in the cache (approximate while other threads insert); wait-free. */
CNV_API size_t cnv_deleg_cache_size(const cnv_deleg_verifier *v);

/* Reclaims use counters that can never count again: a counter goes when its link expired
 * (now > expiry + skew) or it or an ancestor was revoked; delegates with no counter left are
 * dropped too. A reclaimed counter's spent uses cannot come back: now becomes the reclaim
 * clock (it only moves forward), and authorize never creates a counter for, nor keeps a use
 * taken from, a link expired as of it or a revoked one. Pass the current time: a later
 * authorize with an older `now` gets CNV_EDELEG_EXPIRED for a use-limited link that expired by
 * this one. Returns how many counters were reclaimed (NULL v: 0). Any thread, concurrently
 * with everything but create/destroy; lock-free; scans the counter table. */
CNV_API size_t cnv_deleg_counters_purge(cnv_deleg_verifier *v, uint64_t now);

/* Number of live use counters (approximate while other threads authorize); wait-free.
 * NULL v: 0. */
CNV_API size_t cnv_deleg_counter_count(const cnv_deleg_verifier *v);

/* Cache statistics since create. Counters are summed over per-thread stripes: exact when no
 * verification runs, a recent value otherwise. */
typedef struct cnv_deleg_cache_stats {
  uint64_t hits;          /* verifications answered from the verified-chain cache */
  uint64_t misses;        /* verifications run in full (neither cache decided them) */
  uint64_t negative_hits; /* rejections answered from the negative cache */
  uint64_t evictions;     /* cached chains evicted by the CLOCK hand to make room */
  uint64_t bytes;         /* bytes the cached chains take now (<= max_bytes, always) */
  uint64_t entries;       /* chains cached now */
  uint64_t max_bytes;     /* cache_max_bytes */
  uint64_t share_bytes;   /* most bytes one holder's chains may take */
} cnv_deleg_cache_stats;

/* Fills *out. Any thread; wait-free. Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_deleg_cache_stats_get(const cnv_deleg_verifier *v, cnv_deleg_cache_stats *out);

#ifdef __cplusplus
}
#endif

#endif
