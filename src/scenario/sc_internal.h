/* Internals shared by the scenario's files. */
#ifndef CNV__SC_INTERNAL_H
#define CNV__SC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/delegation.h>
#include <cnv/runtime.h>

#include "scenario.h"

/* Kinds of agent token in the scenario; agent i gets kind i % CNV__SC_KINDS. */
enum {
  CNV__SC_VALID = 0,
  CNV__SC_EXPIRED = 3,
  CNV__SC_REVOKED = 4,
  CNV__SC_WIDENED = 5,
  CNV__SC_FORGED = 6,
  CNV__SC_USES = 7,
  CNV__SC_UNTRUSTED = 8,
  CNV__SC_KINDS = 10
};

/* An Ed25519 key pair (libsodium layout). */
typedef struct cnv__sc_key {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  uint8_t sk[CNV_DELEG_SECRET_BYTES];
} cnv__sc_key;

/* Uses granted to the use-limited agents. */
#define CNV__SC_USES_GRANTED 3u

/* Monotonic clock, ns. */
uint64_t cnv__sc_now_ns(void);

/* splitmix64 step: the scenario's PRNG and key-seed generator. */
uint64_t cnv__sc_next(uint64_t *state);

/* Token kind of agent i. */
int cnv__sc_kind(uint32_t i);

/* Called before each agent is added with the number of agents added so far; non-zero stops
 * the setup there. */
typedef int (*cnv__sc_tick_fn)(void *ctx, uint32_t ready);

/* The rate-limited agent's limit (token bucket: CNV__SC_RATE_PER_S a second, bursts of
 * CNV__SC_RATE_BURST) and how many lines it sends in a row. */
#define CNV__SC_RATE_PER_S 1u
#define CNV__SC_RATE_BURST 8u
#define CNV__SC_RATE_LINES 40u

/* Creates the root key from the seed, trusts it, and adds `agents` agents whose tokens are
 * of kind cnv__sc_kind(i), revoking the REVOKED ones, while tick(ctx, i) returns 0; once all
 * are added, one more agent with a valid token and the rate limit above, whose handle goes
 * to *throttled. now_s: the token clock's time. *ready gets the number of agents added (the
 * rate-limited one not counted). */
CNV_NODISCARD cnv_status cnv__sc_agents_add(cnv_runtime *rt, uint64_t seed, uint32_t agents,
                                            uint64_t swarm, uint64_t now_s,
                                            cnv__sc_tick_fn tick, void *ctx,
                                            uint32_t *ready, uint32_t *throttled);

/* The caveats of a valid agent token at time now (seconds) in swarm. */
CNV_NODISCARD cnv_status cnv__sc_caveats_valid(cnv_deleg_caveats *c, uint64_t swarm, uint64_t now);

/* A two-link chain root -> mid -> agent whose second link widens the first (root grants
 * user.* only, mid passes on user.* and data.*), every signature valid, into out
 * (CNV_DELEG_MAX_TOKEN_BYTES); *len gets its size. Errors: those of the delegation codec and
 * minting. */
CNV_NODISCARD cnv_status cnv__sc_widened_token(const cnv__sc_key *root, const cnv__sc_key *mid,
                                               const uint8_t agent[CNV_DELEG_KEY_BYTES], uint64_t swarm,
                                               uint64_t now, uint8_t *out, size_t *len);

/* The report writers' output: each put appends one formatted piece through fn until one
 * fails; st keeps the first error (CNV_ERANGE: a piece over 511 bytes; CNV_ETEL_WRITE: fn
 * returned non-zero). */
typedef struct cnv__sc_out {
  cnv_tel_write_fn fn;
  void *ctx;
  cnv_status st;
} cnv__sc_out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void
cnv__sc_put(cnv__sc_out *o, const char *fmt, ...);

/* x, or 0 when x is not finite (JSON numbers must be finite). */
double cnv__sc_finite(double x);

#endif
