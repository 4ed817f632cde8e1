/* Status codes of the delegation module (token chains, revocation, cache): -500 .. -599.
 * Append new codes with the next free value in this range; never renumber.
 * ETOKEN_* are encoding errors (the bytes are not one canonical token); EDELEG_* are rule
 * violations of a well-formed token. Verification also reports the failing link index. */
#ifndef CNV_STATUS_CODES_DELEGATION_H
#define CNV_STATUS_CODES_DELEGATION_H
#define CNV_STATUS_DELEGATION(X)                                                         \
  X(ETOKEN_TRUNCATED, -500, "token truncated: a field or length runs past the end")      \
  X(ETOKEN_MAGIC, -501, "not a delegation token: bad magic")                             \
  X(ETOKEN_VERSION, -502, "unknown delegation token version")                            \
  X(ETOKEN_LINK_COUNT, -503, "token link count is 0 or above CNV_DELEG_MAX_LINKS")       \
  X(ETOKEN_TRAILING, -504, "trailing bytes after the last link")                         \
  X(ETOKEN_PATTERN_COUNT, -505, "pattern set larger than CNV_DELEG_MAX_PATTERNS")        \
  X(ETOKEN_UNSORTED, -506, "pattern set not in ascending canonical order")               \
  X(ETOKEN_DUPLICATE, -507, "pattern set holds the same pattern twice")                  \
  X(ETOKEN_BAD_PATTERN, -508, "unknown pattern kind or inconsistent prefix pattern")     \
  X(ETOKEN_BAD_WINDOW, -509, "link not-before is after its expiry")                      \
  X(EDELEG_BAD_SIGNATURE, -510, "link signature does not verify (Ed25519)")              \
  X(EDELEG_UNTRUSTED_ROOT, -511, "root issuer is not in the verifier's trust store")     \
  X(EDELEG_MISALIGNED, -512, "link issuer is not the audience of the previous link")     \
  X(EDELEG_PARENT_HASH, -513, "parent hash does not name the previous link")             \
  X(EDELEG_WIDENED_ALLOW, -514, "link allows a capability its parent does not")          \
  X(EDELEG_DROPPED_FORBIDDEN, -515, "link drops a pattern its parent forbids")           \
  X(EDELEG_WIDENED_EFFECTS, -516, "link effect ceiling exceeds its parent's")            \
  X(EDELEG_WIDENED_WINDOW, -517, "link validity window is not inside its parent's")      \
  X(EDELEG_WIDENED_USES, -518, "link max uses exceeds its parent's")                     \
  X(EDELEG_DEPTH, -519, "delegation depth exhausted or not strictly decreasing")         \
  X(EDELEG_WIDENED_SWARM, -520, "link widens or changes its parent's audience swarm")    \
  X(EDELEG_REVOKED, -521, "link (or an ancestor) has been revoked")                      \
  X(EDELEG_EXPIRED, -522, "link expired (beyond the skew allowance)")                    \
  X(EDELEG_NOT_YET_VALID, -523, "link not yet valid (before not-before minus skew)")     \
  X(EDELEG_WRONG_SWARM, -524, "token is bound to another swarm")                         \
  X(EDELEG_WRONG_HOLDER, -525, "presenter is not the audience of the last link")         \
  X(EDELEG_NOT_ALLOWED, -526, "capability matches no allowed pattern")                   \
  X(EDELEG_FORBIDDEN, -527, "capability matches a forbidden pattern")                    \
  X(EDELEG_EFFECTS_EXCEEDED, -528, "requested effects exceed the token's ceiling")       \
  X(EDELEG_USES_EXHAUSTED, -529, "link has no uses left")                                \
  X(EDELEG_BAD_PATH, -530, "capability path or pattern is not valid")                    \
  X(EDELEG_COUNTERS_FULL, -531, "use-counter table is full")                             \
  X(EDELEG_WRONG_KEY, -532, "signing key does not match the link issuer")                \
  X(EDELEG_NO_HOLDER, -533, "request names no holder: the presenter's key is mandatory") \
  X(EDELEG_BAD_KEY, -534, "small-order or non-canonical key, or mismatched secret key")
#endif
