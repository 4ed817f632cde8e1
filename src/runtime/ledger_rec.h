/* The runtime's records in its governance ledger (runtime.h, "Ledger"; the kind table in
 * ledger.h): each function builds one cnv_ledger_entry and appends it. Callers call them
 * only when cfg.ledger is set, so a runtime without a ledger pays one predictable branch per
 * hook. A record the ledger refuses is counted (ledger_failed) unless it is a drop of
 * CNV_LEDGER_FULL_DROP (the ledger counts those); the call that made it goes on either way.
 * Never installed. */
#ifndef CNV__RT_LEDGER_REC_H
#define CNV__RT_LEDGER_REC_H

#include <stdint.h>

#include <cnv/ledger.h>
#include "core/atomic.h"
#include "rt_internal.h"

/* What an ADMIT record says of one submit's decision; filled by submit as the pipeline goes. */
typedef struct cnv__rt_decision {
  uint64_t epoch;      /* the policy epoch, loaded before the decision */
  uint64_t capability; /* the line's capability id; 0 until it parsed */
  uint64_t token_time; /* the token clock the decision used, when have_time */
  int have_time;       /* 0: the decision ended before the token check read the clock */
} cnv__rt_decision;

/* The policy epoch. acquire: pairs with the release increment of a policy record, so a
 * decision made after this load sees every change whose record carries this epoch or an
 * earlier one. Wait-free. */
static inline uint64_t cnv__rt_lrec_epoch(const cnv_runtime *rt) {
  return cnv__load_acquire(&((cnv_runtime *)rt)->epoch);
}

/* Sets up the ledger part of a new runtime (epoch 1, the mutex). Before any other call here. */
void cnv__rt_lrec_init(cnv_runtime *rt);
/* Frees what init set up (destroy). */
void cnv__rt_lrec_fini(cnv_runtime *rt);

/* CONFIG: the runtime's settings after defaults (create). */
void cnv__rt_lrec_config(cnv_runtime *rt);
/* TRUST: a root trusted (a policy record). */
void cnv__rt_lrec_trust(cnv_runtime *rt, const uint8_t pk[CNV_LEDGER_KEY_BYTES]);
/* REVOKE: a link hash revoked (a policy record). */
void cnv__rt_lrec_revoke(cnv_runtime *rt, const uint8_t hash[CNV_LEDGER_HASH_BYTES]);
/* AGENT: agent n added with token t (removed: detail 1, no payload). */
void cnv__rt_lrec_agent(cnv_runtime *rt, uint32_t n, const cnv__rt_token *t, int removed);
/* REGISTER: handler h registered, or (unregistered) capability h's id removed (a policy
 * record). */
void cnv__rt_lrec_register(cnv_runtime *rt, const cnv__rt_handler *h, int unregistered);
/* PHASE: the swarm moved from -> to; why: 0 for an explicit move, else the algedonic reason
 * or CNV_RT_PHASE_BREAKER (a policy record). The caller holds phase_lock, so PHASE records
 * are in the order of the moves. */
void cnv__rt_lrec_phase(cnv_runtime *rt, int from, int to, uint32_t why);

/* ADMIT of an accepted submit: fills s's ledger fields (epoch, start_ms, the agent's key and
 * chain hash) and appends the record with s's ticket. Before the record's push, so the
 * ADMIT precedes its COMPLETE in the log. */
void cnv__rt_lrec_accept(cnv_runtime *rt, cnv__rt_slot *s, const cnv__rt_agent *a, const cnv__rt_decision *d,
                         int low);
/* ADMIT of a submit denied (a CNV_ERT_DENY_* status) or refused for room (CNV_EFULL). */
void cnv__rt_lrec_deny(cnv_runtime *rt, uint32_t agent, cnv__rt_decision *d, cnv_status st, int low);
/* COMPLETE of the slot's invocation with completion c: returns the record's index, or
 * CNV_LEDGER_NONE when it was refused. */
uint64_t cnv__rt_lrec_complete(cnv_runtime *rt, const cnv__rt_slot *s, const cnv_runtime_completion *c);

#endif
