/* Delivering completions: every accepted invocation reaches exactly one of these calls,
 * made by the thread that owns its end (the worker that popped its record, the worker whose
 * handler finished, or stop). */
#include "clock.h"
#include "core/atomic.h"
#include "ledger_rec.h"
#include "rt_internal.h"

void cnv__rt_complete(cnv_runtime *rt, cnv__rt_slot *s, cnv_runtime_completion *c) {
  c->ticket = s->ticket;
  c->correlation = s->correlation;
  c->capability = s->capability;
  c->seq = s->seq;
  c->agent = s->agent;
  c->cls = s->cls;
  c->trace = s->trace;
  /* recorded before delivery, so the completion carries its record's index */
  c->ledger_index = CNV_LEDGER_NONE;
  if (CNV__UNLIKELY(rt->cfg.ledger != NULL)) c->ledger_index = cnv__rt_lrec_complete(rt, s, c);
  if (s->on_done) {
    s->on_done(s->done_ctx, c);
  } else if (s->cq) {
    cnv__rt_cq_push(s->cq, c);
  }
  /* Counted after delivery: once stop sees every completion counted, every callback has
   * returned (seq_cst RMW, read by stop's seq_cst loads). */
  cnv__rt_count(rt, CNV__RT_C_DONE0 + c->kind, 1u);
  cnv__rt_slot_give(s);
}

void cnv__rt_complete_unrun(cnv_runtime *rt, cnv__rt_slot *s, int kind, cnv_status status) {
  /* DONE before the delivery, so a cancel made after the submitter heard of it finds nothing
   * (CNV_ENOTFOUND). A cancel that lands just before the exchange has its flag replaced: it
   * returned CNV_OK, and the completion says why the invocation did not run. The generation
   * cannot change meanwhile (the slot is ours), so the exchange keeps it. release: pairs with
   * cancel's acquire load. */
  uint64_t gen = CNV__RT_S_GEN(cnv__load_relaxed(&s->state)); /* relaxed: ours */
  atomic_exchange_explicit(&s->state, gen << 8 | CNV__RT_S_DONE, memory_order_release);
  uint64_t now = cnv__rt_now_ns();
  cnv_runtime_completion c = {.kind = kind, .status = status, .worker = -1, .queued_ns = now > s->accept_ns ? now - s->accept_ns : 0};
  cnv__rt_complete(rt, s, &c);
}
