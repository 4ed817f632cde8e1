/* libcnv audit: replay and what-if over a governance ledger (<cnv/ledger.h>).
 *
 * Replay reads a closed log with a cnv_ledger_reader and rebuilds, record by record, the
 * policy the runtime decided with: the configuration (swarm id, verifier settings), trust
 * roots, revocations, agents and their tokens, registered capabilities and the phase. For
 * each ADMIT record it re-runs the decision submit made, in submit's order (capability
 * registered -> phase admits work -> low priority shed while Degraded -> agent known ->
 * token verification at the record's token_time with the agent's key, the swarm, the
 * capability and its registered effects, mapped to a denial as the runtime maps it
 * (cnv_runtime_map_deleg)), with time taken only from the records. Use-limited tokens are
 * charged in log order by each accepted decision. Decisions that depend on load, not policy
 * (CNV_EFULL, CNV_ERT_DENY_RATE, CNV_ERT_DENY_TOO_LONG, CNV_ERT_DENY_MALFORMED,
 * CNV_ERT_DENY_ARGUMENTS), are taken as recorded unless an earlier policy check now denies.
 *
 * What-if replays the same log under changes to the policy (a revocation added or removed,
 * a trust root removed, a phase forced) and reports each decision that comes out different.
 *
 * Thread-safety: every call is independent (no shared state); one thread per call.
 * Blocking (file reads). Allocates (the rebuilt policy). */
#ifndef CNV_AUDIT_H
#define CNV_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ledger.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One change to the policy for cnv_audit_whatif. */
typedef enum cnv_audit_change_kind {
  CNV_AUDIT_REVOKE_ADD = 1,    /* hash: a link hash revoked from the start of the log */
  CNV_AUDIT_REVOKE_REMOVE = 2, /* hash: a revocation in the log that is ignored */
  CNV_AUDIT_TRUST_REMOVE = 3,  /* key: a trust root in the log that is ignored */
  CNV_AUDIT_PHASE_FORCE = 4    /* phase: the swarm's phase throughout (cnv_phase) */
} cnv_audit_change_kind;

typedef struct cnv_audit_change {
  int32_t kind;                        /* cnv_audit_change_kind */
  int32_t phase;                       /* CNV_AUDIT_PHASE_FORCE */
  uint8_t hash[CNV_LEDGER_HASH_BYTES]; /* CNV_AUDIT_REVOKE_* */
  uint8_t key[CNV_LEDGER_KEY_BYTES];   /* CNV_AUDIT_TRUST_REMOVE */
} cnv_audit_change;

/* One re-run decision. */
typedef struct cnv_audit_decision {
  uint64_t index; /* the ADMIT record */
  uint64_t ticket;
  uint64_t capability;
  uint32_t agent;
  uint64_t token_time;
  cnv_status recorded; /* the record's status */
  cnv_status replayed; /* the status the re-run gives */
} cnv_audit_decision;

/* Called for each decision whose re-run differs from the record (replay: a mismatch;
 * what-if: a changed decision), in log order. Return 0 to go on, non-zero to stop: the call
 * then returns with the counts so far (cnv_audit_whatif CNV_OK, cnv_audit_replay
 * CNV_EAUDIT_MISMATCH, since a decision differed). */
typedef int (*cnv_audit_decision_fn)(void *ctx, const cnv_audit_decision *d);

typedef struct cnv_audit_summary {
  uint64_t records;   /* records read */
  uint64_t decisions; /* ADMIT records re-run */
  uint64_t same;      /* re-runs equal to the record */
  uint64_t differ;    /* re-runs that differ (each reported to the callback) */
  uint64_t accepted;  /* re-runs that accept */
  uint64_t denied;    /* re-runs that deny */
} cnv_audit_summary;

/* Replays the log in dir. CNV_OK when every decision is reproduced (summary.differ == 0);
 * CNV_EAUDIT_MISMATCH when one is not (each reported to fn, which may be NULL). *out may be
 * NULL; after an error other than CNV_EINVAL it holds the counts up to the record that
 * failed. A CONFIG record starts a new runtime: the policy rebuilt so far (verifier, use
 * counts, agents, capabilities, phase) is dropped (one ledger may hold the records of
 * runtimes created one after another, not of two at once). A decision racing a phase move
 * (the breaker's) is checked against every phase its epoch and the log order allow it to
 * have read; an agent whose token the log omits (CNV_RT_AGENT_TOKEN_OMITTED) has its token
 * checks taken as recorded. Use-limited links are charged in log order, which is the order
 * of their uses when one thread submits for them (docs/audit.md, "Limits").
 * Errors: CNV_EINVAL (NULL dir), those of cnv_ledger_reader_open and cnv_ledger_reader_get
 * (CNV_ENOTFOUND, CNV_EIO, CNV_ELEDGER_CORRUPT, CNV_ENOMEM), CNV_ELEDGER_CORRUPT also for a
 * runtime record whose fields the runtime cannot have written (a CONFIG payload that is not
 * 16 bytes, a REGISTER path that is not a capability path, an AGENT record without token
 * bytes that does not say CNV_RT_AGENT_TOKEN_OMITTED, a trust root that is not a valid key,
 * a PHASE move to a value that is not a cnv_phase), CNV_EAUDIT_NO_CONFIG (the log has no
 * CONFIG record before its first ADMIT record, or none at all: not a runtime's log). */
CNV_API CNV_NODISCARD cnv_status cnv_audit_replay(const char *dir, cnv_audit_decision_fn fn, void *ctx,
                                                  cnv_audit_summary *out);

/* Replays the log under the n changes and reports every decision that comes out different
 * from the record to fn (may be NULL). CNV_OK whatever changed. Errors: those of
 * cnv_audit_replay, CNV_EINVAL (changes NULL with n > 0, an unknown change kind),
 * CNV_ERANGE (a forced phase that is not a cnv_phase). */
CNV_API CNV_NODISCARD cnv_status cnv_audit_whatif(const char *dir, const cnv_audit_change *changes, size_t n,
                                                  cnv_audit_decision_fn fn, void *ctx, cnv_audit_summary *out);

#ifdef __cplusplus
}
#endif

#endif
