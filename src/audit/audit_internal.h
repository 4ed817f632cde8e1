/* Internals of the audit module shared by its files: change validation (change.c), the
 * policy a replay rebuilds from a runtime's records (policy.c, with the maps of map.c) and
 * the re-run of one admission decision (decide.c). */
#ifndef CNV_AUDIT_INTERNAL_H
#define CNV_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/audit.h>
#include <cnv/delegation.h>

/* Checks n what-if changes: CNV_OK, CNV_EINVAL (changes NULL with n > 0, an unknown kind),
 * CNV_ERANGE (a forced phase that is not a cnv_phase). */
CNV_NODISCARD cnv_status cnv__audit_changes_check(const cnv_audit_change *changes, size_t n);

/* ---- a map from a 64-bit key to a non-zero 32-bit value (open addressing) ------------- */

typedef struct cnv__audit_map {
  uint64_t *keys;
  uint32_t *vals; /* 0: empty slot */
  size_t cap;     /* slots: 0 or a power of two */
  size_t n;       /* used slots (at most cap / 2) */
} cnv__audit_map;

/* Sets key's value (val != 0), adding the key when absent. Errors: CNV_ENOMEM (the map is
 * unchanged). */
CNV_NODISCARD cnv_status cnv__audit_map_put(cnv__audit_map *m, uint64_t key, uint32_t val);
/* key's value, 0 when absent. */
uint32_t cnv__audit_map_get(const cnv__audit_map *m, uint64_t key);
/* Frees the slots (the map is then empty and reusable). */
void cnv__audit_map_free(cnv__audit_map *m);

/* ---- the rebuilt policy ---------------------------------------------------------------- */

/* An agent as its AGENT records left it. */
typedef struct cnv__audit_agent {
  bool present;
  uint8_t key[CNV_DELEG_KEY_BYTES];
  uint8_t *token; /* owned copy of the token bytes; NULL when the record omitted them
                     (CNV_RT_AGENT_TOKEN_OMITTED: a token over CNV_LEDGER_MAX_PAYLOAD) */
  size_t token_len;
} cnv__audit_agent;

/* A capability as its REGISTER records left it. */
typedef struct cnv__audit_cap {
  bool present;
  cnv_deleg_cap cap;
  cnv_effects effects;
} cnv__audit_cap;

/* A phase move as the log has it. They are collected before the replay: a decision may have
 * seen a move whose record the log holds after its own (runtime.h, "Ledger"). */
typedef struct cnv__audit_move {
  uint64_t index;   /* the PHASE record */
  uint64_t epoch;   /* the epoch it opened */
  uint64_t runtime; /* CONFIG records before it (which runtime moved) */
  int to;           /* the phase entered */
} cnv__audit_move;

/* The policy of one runtime (from its CONFIG record on) under a list of what-if changes. */
typedef struct cnv__audit_policy {
  const cnv_audit_change *changes; /* the what-if changes (n == 0 for a replay) */
  size_t n_changes;
  int forced_phase;             /* CNV_AUDIT_PHASE_FORCE's phase (the last one), -1: none */
  bool configured;              /* a CONFIG record was read */
  uint64_t swarm;               /* the runtime's swarm id (CONFIG's ticket) */
  cnv_deleg_verifier *v;        /* trust roots, revocations and use counters */
  const cnv__audit_move *moves; /* every PHASE record of the log, in log order */
  size_t n_moves;
  size_t moves_seen;           /* PHASE records applied so far */
  size_t move_first, move_end; /* the current runtime's moves: moves[move_first .. move_end) */
  uint64_t runtimes;           /* CONFIG records applied so far */
  cnv__audit_map agent_index;  /* handle -> 1 + index into agents */
  cnv__audit_agent *agents;
  size_t n_agents, cap_agents;
  cnv__audit_map cap_index; /* capability id -> 1 + index into caps */
  cnv__audit_cap *caps;
  size_t n_caps, cap_caps;
} cnv__audit_policy;

/* An empty policy (no CONFIG yet) under changes[0 .. n) (already checked; kept by pointer),
 * with the log's phase moves moves[0 .. n_moves) (kept by pointer). */
void cnv__audit_policy_init(cnv__audit_policy *p, const cnv_audit_change *changes, size_t n,
                            const cnv__audit_move *moves, size_t n_moves);
/* Applies one record: CONFIG (a new runtime: everything before is dropped), TRUST, REVOKE,
 * AGENT, REGISTER, PHASE; every other kind, and a policy record before the first CONFIG,
 * changes nothing. Errors: CNV_ELEDGER_CORRUPT (a runtime record whose fields the runtime
 * cannot have written: a CONFIG payload not 16 bytes, a bad path or key, a phase that is
 * not a cnv_phase), CNV_ENOMEM, CNV_ENOTSUP (libsodium). */
CNV_NODISCARD cnv_status cnv__audit_policy_apply(cnv__audit_policy *p, const cnv_ledger_entry *e);
/* The agent with this handle, NULL when it is not present. */
const cnv__audit_agent *cnv__audit_policy_agent(const cnv__audit_policy *p, uint32_t handle);
/* The registered capability with this id, NULL when it is not registered. */
const cnv__audit_cap *cnv__audit_policy_cap(const cnv__audit_policy *p, uint64_t id);
/* Frees everything the policy holds. */
void cnv__audit_policy_free(cnv__audit_policy *p);

/* Re-runs the decision of ADMIT record e under p (configured) into *out, charging a use of
 * each use-limited link of the agent's token when it accepts. The phase step considers every
 * phase the decision may have read (from the moves its epoch says it saw to the first move
 * the log records after it) and keeps the record's outcome when one of them gives it.
 * Errors: CNV_ENOMEM (the verifier's). */
CNV_NODISCARD cnv_status cnv__audit_decide(cnv__audit_policy *p, const cnv_ledger_entry *e, cnv_status *out);

#endif
