/* One admission decision re-run, in the order src/runtime/submit.c decides:
 *   line too long / malformed (load: as recorded) -> capability registered -> the line fits
 *   its schema (as recorded) -> phase admits work -> low priority shed while Degraded ->
 *   agent known -> rate limit, room, deadline (load: as recorded) -> the agent's token.
 * A recorded outcome that depends on load is kept only while every policy check before its
 * place passes; the first policy check that now denies decides instead. */
#include <cnv/phases.h>
#include <cnv/runtime.h>

#include "audit_internal.h"

/* ADMIT's flags bit 0: the submit asked for the low-priority lane. */
#define ADMIT_LOW_PRIORITY 1u

static bool phase_admits(int phase) {
  return phase == CNV_PHASE_OPERATIONAL || phase == CNV_PHASE_DEGRADED || phase == CNV_PHASE_RECOVERY;
}

/* True for the statuses a policy check gives (the capability, the phase, shedding, the
 * agent, and every denial the token check maps to); false for the outcomes of load. */
static bool is_policy(cnv_status st) {
  switch (st) {
    case CNV_OK:
    case CNV_ERT_DENY_UNKNOWN_CAPABILITY:
    case CNV_ERT_DENY_PHASE:
    case CNV_ERT_DENY_SHED:
    case CNV_ERT_DENY_UNKNOWN_AGENT:
    case CNV_ERT_DENY_EXPIRED:
    case CNV_ERT_DENY_REVOKED:
    case CNV_ERT_DENY_WIDENED:
    case CNV_ERT_DENY_FORGED:
    case CNV_ERT_DENY_NOT_ALLOWED:
    case CNV_ERT_DENY_EFFECTS:
    case CNV_ERT_DENY_USES:
    case CNV_ERT_DENY_UNTRUSTED:
      return true;
    default:
      return false;
  }
}

/* The phase step in phase ph: CNV_ERT_DENY_PHASE, CNV_ERT_DENY_SHED, or CNV_OK (it passes). */
static cnv_status phase_step(int ph, bool low) {
  if (!phase_admits(ph)) return CNV_ERT_DENY_PHASE;
  if (low && ph == CNV_PHASE_DEGRADED) return CNV_ERT_DENY_SHED;
  return CNV_OK;
}

/* The phase after the first c moves of the log (c >= move_first: this runtime's). */
static int phase_after(const cnv__audit_policy *p, size_t c) {
  return c == p->move_first ? CNV_PHASE_BOOTSTRAP : p->moves[c - 1].to;
}

/* The phase step of ADMIT e. Submit loads the epoch E before it reads the phase, and phase
 * moves are made, given their epoch and appended one at a time under the runtime's phase
 * mutex: the phase it read is the one after the last move of epoch <= E or after a later
 * move, no later than the first move whose record comes after the ADMIT record (the next
 * move cannot start before that one is appended). The record's outcome stands when one of
 * these phases gives it; a phase that passes lets the decision go on; otherwise the log
 * order's phase decides. A forced phase is the only one. */
static cnv_status phase_check(const cnv__audit_policy *p, const cnv_ledger_entry *e) {
  bool low = (e->flags & ADMIT_LOW_PRIORITY) != 0;
  if (p->forced_phase >= 0) return phase_step(p->forced_phase, low);
  /* moves of epoch <= E: the runtime's epochs grow along its moves (binary search) */
  size_t lo = p->move_first, hi = p->move_end;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (p->moves[mid].epoch <= e->epoch) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  size_t c_epoch = lo;
  size_t c_log = p->moves_seen;
  size_t c_last = c_log < p->move_end ? c_log + 1 : c_log;
  if (c_last < c_epoch) c_last = c_epoch;
  size_t c_pref = c_log >= c_epoch ? c_log : c_epoch;
  /* a record that is no phase-step denial needs only one phase that passes */
  bool wants_denial = e->status == CNV_ERT_DENY_PHASE || e->status == CNV_ERT_DENY_SHED;
  bool passes = false;
  for (size_t c = c_epoch; c <= c_last && !(passes && !wants_denial); c++) {
    cnv_status st = phase_step(phase_after(p, c), low);
    if (st == CNV_OK) {
      passes = true;
    } else if (st == e->status) {
      return st;
    }
  }
  return passes ? CNV_OK : phase_step(phase_after(p, c_pref), low);
}

cnv_status cnv__audit_decide(cnv__audit_policy *p, const cnv_ledger_entry *e, cnv_status *out) {
  cnv_status rec = e->status;
  /* before the capability is known: the line's length and syntax, not the policy */
  if (rec == CNV_ERT_DENY_TOO_LONG || rec == CNV_ERT_DENY_MALFORMED) {
    *out = rec;
    return CNV_OK;
  }
  const cnv__audit_cap *cap = cnv__audit_policy_cap(p, e->capability);
  if (!cap) {
    *out = CNV_ERT_DENY_UNKNOWN_CAPABILITY;
    return CNV_OK;
  }
  if (rec == CNV_ERT_DENY_ARGUMENTS) {
    *out = rec;
    return CNV_OK;
  }
  cnv_status ph = phase_check(p, e);
  if (ph != CNV_OK) {
    *out = ph;
    return CNV_OK;
  }
  const cnv__audit_agent *a = cnv__audit_policy_agent(p, e->agent);
  if (!a) {
    *out = CNV_ERT_DENY_UNKNOWN_AGENT;
    return CNV_OK;
  }
  /* the rate limit, the in-flight slot and completion-queue room, the deadline: load; and
   * a token the log does not hold (too long for a record) cannot be checked again */
  if (!is_policy(rec) || !a->token) {
    *out = rec;
    return CNV_OK;
  }
  cnv_deleg_request req = {.now = e->token_time, .swarm = p->swarm, .holder = a->key, .cap = &cap->cap, .effects = cap->effects};
  cnv_status st = cnv_deleg_authorize(p->v, a->token, a->token_len, &req, NULL, NULL);
  if (st == CNV_ENOMEM) return st;
  *out = st == CNV_OK ? CNV_OK : cnv_runtime_map_deleg(st);
  return CNV_OK;
}
