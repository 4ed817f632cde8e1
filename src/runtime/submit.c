/* The submit side of the pipeline: parse -> capability id -> handler (and the line against
 * its schema, where it declares typed arguments) -> phase -> lane ->
 * rate -> slot (and completion-queue room) -> token -> record -> queue -> wake. Runs on the
 * submitter's thread; no allocation once the token is cached. Every submit ends in exactly
 * one outcome counter (accepted, full, refused, invalid or a denial). */
#include <string.h>
#include <urcu/urcu-bp.h>

#include <cnv/protocol.h>

#include "clock.h"
#include "core/atomic.h"
#include "core/ignore.h"
#include "ledger_rec.h"
#include "rt_internal.h"

/* Arguments one line may carry; more is a malformed line. */
#define SUBMIT_MAX_ARGS 32u

/* What submit needs of the handler, copied inside the read-side section. */
typedef struct target {
  cnv_deleg_cap cap;
  cnv_effects effects;
  int32_t cls;
} target;

/* A denial: its status, and its counter in *outcome. */
static cnv_status deny(int reason, int *outcome) {
  *outcome = CNV__RT_C_DENIED0 + reason;
  return cnv_runtime_denial_status(reason);
}

/* Parses the line again with the schema (its boolean flags) into inv and checks it; 1 when
 * it fits. */
static int args_fit(const cnv_parse_schema *schema, const char *line, size_t len, cnv_invocation *inv) {
  return cnv_parse_invocation(line, len, NULL, schema, inv) == CNV_OK &&
         cnv_schema_check(schema, inv, NULL) == CNV_OK;
}

/* What handler_copy found. */
enum { FOUND_NONE = 0,
       FOUND = 1,
       FOUND_ARGS_UNFIT = 2 };

/* Finds the handler and copies what submit needs: FOUND, FOUND_NONE, or FOUND_ARGS_UNFIT
 * when the line does not fit its schema. The schema check runs inside the read-side section:
 * the schema is the registrant's, valid only until unregister returns, which waits for this
 * section to end. */
static int handler_copy(cnv_runtime *rt, uint64_t id, const char *line, size_t len, cnv_invocation *inv,
                        target *t) {
  int found = FOUND_NONE;
  urcu_bp_read_lock();
  const cnv__rt_handler *h = cnv__rt_table_find(cnv__rt_table_get(rt), id);
  if (h) {
    *t = (target){.cap = h->cap, .effects = h->effects, .cls = h->cls};
    found = FOUND;
    /* a capability without typed arguments pays this one test */
    if (h->check && !args_fit(h->check, line, len, inv)) found = FOUND_ARGS_UNFIT;
  }
  CNV__HB_RELEASE(&rt->table);
  urcu_bp_read_unlock();
  return found;
}

static int phase_admits(cnv_phase p) {
  return p == CNV_PHASE_OPERATIONAL || p == CNV_PHASE_DEGRADED || p == CNV_PHASE_RECOVERY;
}

/* The agent's token check for the target at token time now_s; CNV_OK or a denial status
 * (not yet counted). */
static cnv_status token_check(cnv_runtime *rt, const cnv__rt_agent *a, const target *t, uint64_t now_s) {
  cnv_status st = cnv_deleg_prepared_authorize(rt->verifier, a->prepared, now_s, &t->cap, t->effects, NULL, NULL);
  return st == CNV_OK ? CNV_OK : cnv_runtime_map_deleg(st);
}

/* The deadline of an invocation of class cls accepted at now; CNV_ERANGE past the limit. */
static cnv_status deadline_of(int32_t cls, const cnv_runtime_submit_opts *o, uint64_t now,
                              uint64_t *deadline) {
  uint64_t limit;
  /* the class was checked at register: the lookup cannot fail */
  cnv__ignore_status(cnv_duration_class_limits(cls, NULL, &limit));
  uint64_t timeout = o && o->timeout_ns ? o->timeout_ns : limit;
  if (timeout > limit) return CNV_ERANGE;
  *deadline = now + timeout;
  return CNV_OK;
}

static void slot_fill(cnv__rt_slot *s, uint32_t agent, uint64_t id,
                      const target *t, const cnv_runtime_submit_opts *o) {
  s->agent = agent;
  s->capability = id;
  s->cls = t->cls;
  s->worker = -1;
  s->start_ns = 0;
  s->correlation = o ? o->correlation : 0;
  s->on_done = o ? o->on_done : NULL;
  s->done_ctx = o ? o->done_ctx : NULL;
  s->cq = o ? o->cq : NULL;
  /* A copy of a zero trace, not a memset: GCC -O3 made the 27-byte memset here a byte loop
   * (rep stosb, 27 instructions by callgrind's count); the copy is two 16-byte moves. */
  static const cnv_trace no_trace;
  s->trace = o && o->trace ? *o->trace : no_trace;
  s->on_progress = o ? o->on_progress : NULL;
  s->progress_ctx = o ? o->progress_ctx : NULL;
}

static cnv_status enqueue(cnv_runtime *rt, cnv__rt_slot *s, const char *line, size_t len,
                          const cnv_invocation *inv, int lane, int wake) {
  cnv__rt_rec_buf buf;
  cnv__rt_rec_head head = {.slot = (uint32_t)(s - rt->slots), .line_len = (uint16_t)len, .path_off = (uint16_t)(inv->path.ptr - line)};
  memcpy(buf.words, &head, sizeof head);
  memcpy((char *)buf.words + CNV__RT_RECORD_HEADER, line, len);
  /* Each lane holds as many records as there are slots, and every record holds a slot: the
   * push cannot find the lane full; and the line fits (max_line): only header and line are
   * copied (the rest of the slot stays put, its lines on whichever core had them). */
  cnv__ignore_status(cnv_queue_try_push_mpmc_prefix(rt->lane[lane], buf.words, CNV__RT_RECORD_HEADER + len));
  if (wake) cnv__rt_park_wake_one(rt); /* deferred: the submitter's cnv_runtime_wake */
  return CNV_OK;
}

void cnv_runtime_wake(cnv_runtime *rt) {
  /* the wake's seq_cst fence orders every push made before this call (the deferred ones)
   * before its looks at the parked and spinning workers, as a submit's own wake does */
  if (rt) cnv__rt_park_wake_one(rt);
}

/* From the slot on: room, token, deadline, record. Gives the slot back on any failure. */
static cnv_status admit(cnv_runtime *rt, cnv__rt_agent *a, uint32_t agent, uint64_t id,
                        const target *t, const cnv_invocation *inv, const char *line, size_t len,
                        const cnv_runtime_submit_opts *o, uint64_t now, uint64_t *ticket,
                        int *outcome, cnv__rt_decision *d) {
  cnv__rt_slot *s = cnv__rt_slot_take(rt);
  if (!s) {
    *outcome = CNV__RT_C_FULL;
    return CNV_EFULL;
  }
  cnv_status st = CNV_OK;
  if (o && o->cq && cnv__rt_cq_reserve(o->cq) != CNV_OK) {
    *outcome = CNV__RT_C_FULL;
    st = CNV_EFULL;
  }
  if (st == CNV_OK) {
    st = deadline_of(t->cls, o, now, &s->deadline_ns);
    if (st != CNV_OK) *outcome = CNV__RT_C_INVALID;
  }
  if (st == CNV_OK) {
    d->token_time = cnv__rt_token_now(rt);
    d->have_time = 1;
    st = token_check(rt, a, t, d->token_time);
    if (st != CNV_OK) *outcome = CNV__RT_C_DENIED0 + cnv_runtime_denial_of(st);
  }
  if (st != CNV_OK) {
    if (st != CNV_EFULL && o && o->cq) cnv__rt_cq_unreserve(o->cq);
    cnv__rt_slot_give(s);
    return st;
  }
  s->accept_ns = now;
  slot_fill(s, agent, id, t, o);
  if (ticket) *ticket = s->ticket;
  *outcome = CNV__RT_C_ACCEPTED;
  int lane = o && o->low_priority ? 1 : 0;
  /* before the push: the ADMIT precedes its COMPLETE in the log */
  if (CNV__UNLIKELY(rt->cfg.ledger != NULL)) cnv__rt_lrec_accept(rt, s, a, d, lane);
  return enqueue(rt, s, line, len, inv, lane, !(o && o->defer_wake));
}

static cnv_status pipeline(cnv_runtime *rt, uint32_t agent, const char *line, size_t len,
                           const cnv_runtime_submit_opts *o, uint64_t *ticket, int *outcome,
                           cnv__rt_decision *d) {
  if (len > rt->cfg.max_line) return deny(CNV_RT_DENY_TOO_LONG, outcome);
  cnv_arg args[SUBMIT_MAX_ARGS];
  cnv_invocation inv;
  /* args is a local array of SUBMIT_MAX_ARGS > 0 slots: the init cannot fail */
  cnv__ignore_status(cnv_invocation_init(&inv, args, SUBMIT_MAX_ARGS));
  uint64_t id;
  if (cnv_parse_invocation(line, len, NULL, NULL, &inv) != CNV_OK ||
      cnv_invocation_id(&inv, &id) != CNV_OK) {
    return deny(CNV_RT_DENY_MALFORMED, outcome);
  }
  d->capability = id;
  /* rt->capabilities is not NULL after create, so the observe cannot fail */
  cnv__ignore_status(cnv_variety_tally_observe(rt->capabilities, id));
  target t;
  int found = handler_copy(rt, id, line, len, &inv, &t);
  if (found != FOUND) {
    return deny(found == FOUND_NONE ? CNV_RT_DENY_UNKNOWN_CAPABILITY : CNV_RT_DENY_ARGUMENTS, outcome);
  }
  cnv_phase phase = cnv_swarm_phase(&rt->swarm);
  if (!phase_admits(phase)) return deny(CNV_RT_DENY_PHASE, outcome);
  if (o && o->low_priority && phase == CNV_PHASE_DEGRADED) return deny(CNV_RT_DENY_SHED, outcome);
  cnv__rt_agent *a = cnv__rt_agent_get(rt, agent);
  if (!a) return deny(CNV_RT_DENY_UNKNOWN_AGENT, outcome);
  uint64_t now = o && o->now_ns ? o->now_ns : cnv__rt_now_ns();
  if (!cnv__rt_rate_allow(a, now)) return deny(CNV_RT_DENY_RATE, outcome);
  return admit(rt, a, agent, id, &t, &inv, line, len, o, now, ticket, outcome, d);
}

static int opts_valid(const cnv_runtime *rt, const cnv_runtime_submit_opts *o) {
  if (!o) return 1;
  if (o->on_done && o->cq) return 0;
  return !o->cq || cnv__rt_cq_owner(o->cq) == rt;
}

cnv_status cnv_runtime_submit_ex(cnv_runtime *rt, uint32_t agent, const char *line, size_t len,
                                 const cnv_runtime_submit_opts *opts, uint64_t *ticket) {
  if (!rt || (!line && len)) return CNV_EINVAL;
  /* Entry, a seq_cst RMW (cnv_tel_striped_add), then a seq_cst state load: with stop's seq_cst
   * STOPPING store and seq_cst counter reads, either this load sees STOPPING or stop's reads
   * see this entry (cnv__rt_wait_submits). */
  cnv__rt_count(rt, CNV__RT_C_SUBMITTED, 1u);
  int outcome = CNV__RT_C_REFUSED;
  cnv_status st = CNV_ESTATE;
  if (!opts_valid(rt, opts)) {
    outcome = CNV__RT_C_INVALID;
    st = CNV_EINVAL;
    /* seq_cst (see above; also acquire, pairing with start's seq_cst store of RUNNING, so the
     * tables and the threads are ready) */
  } else if (atomic_load_explicit(&rt->state, memory_order_seq_cst) == CNV__RT_RUNNING) {
    cnv__rt_decision d = {.epoch = 1u};
    if (CNV__UNLIKELY(rt->cfg.ledger != NULL)) d.epoch = cnv__rt_lrec_epoch(rt); /* before deciding */
    st = pipeline(rt, agent, line, len, opts, ticket, &outcome, &d);
    /* a decision other than an acceptance (recorded by admit): a denial or no room */
    if (CNV__UNLIKELY(rt->cfg.ledger != NULL) && outcome != CNV__RT_C_ACCEPTED && outcome != CNV__RT_C_INVALID) {
      cnv__rt_lrec_deny(rt, agent, &d, st, opts && opts->low_priority ? 1 : 0);
    }
  }
  /* Exit: the outcome's seq_cst RMW releases the queue push above to stop, whose read of the
   * outcome counters acquires it. */
  cnv__rt_count(rt, outcome, 1u);
  return st;
}

cnv_status cnv_runtime_submit(cnv_runtime *rt, uint32_t agent, const char *line, size_t len) {
  return cnv_runtime_submit_ex(rt, agent, line, len, NULL, NULL);
}
