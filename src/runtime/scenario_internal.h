/* Internals shared by the scenario's files. */
#ifndef CNV__RT_SCENARIO_INTERNAL_H
#define CNV__RT_SCENARIO_INTERNAL_H

#include <stdint.h>

#include <cnv/runtime.h>

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

/* Uses granted to the use-limited agents. */
#define CNV__SC_USES_GRANTED 3u

/* splitmix64 step: the scenario's PRNG and key-seed generator. */
uint64_t cnv__sc_next(uint64_t *state);

/* Token kind of agent i. */
int cnv__sc_kind(uint32_t i);

/* Creates the root key from the seed, trusts it, and adds `agents` agents whose tokens are
 * of kind cnv__sc_kind(i), revoking the REVOKED ones. now_s: the token clock's time. */
cnv_status cnv__sc_agents_add(cnv_runtime *rt, uint64_t seed, uint32_t agents, uint64_t swarm,
                              uint64_t now_s);

#endif
