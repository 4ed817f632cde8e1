/* Progress reports (cnv_runtime_call_progress): a running handler tells its submitter how
 * far it got. The submitter's callback and the last report's progress live in the run's
 * record on the worker's stack (cnv__rt_run), touched by the handler's thread only. */
#include <math.h>

#include "rt_internal.h"

/* A progress or total a report may carry: a finite number, not negative. */
static int amount_valid(double x) { return isfinite(x) && x >= 0.0; }

cnv_status cnv_runtime_call_progress(const cnv_runtime_call *call, double progress, double total,
                                     const char *message, size_t len) {
  if (!call || (!message && len > 0) || !amount_valid(progress) || !amount_valid(total)) {
    return CNV_EINVAL;
  }
  if (len > CNV_RT_PROGRESS_MESSAGE_MAX) return CNV_ERANGE;
  if (!call->internal) return CNV_OK; /* not a call of the runtime: nothing to deliver */
  /* the handler's own run record: internal is const only to keep it opaque to handlers */
  cnv__rt_run *run = (cnv__rt_run *)call->internal;
  if (progress <= run->progress_last) return CNV_ERANGE;
  run->progress_last = progress;
  if (!run->on_progress) return CNV_OK;
  /* While the handler runs its slot stays RUNNING (the worker marks it DONE after the
   * return); anything else, or a new generation, means stop abandoned the run and delivered
   * its completion: nothing more is delivered. acquire: pairs with stop's exchange. */
  uint64_t st = cnv__load_acquire(&run->slot->state);
  if ((st & CNV__RT_S_PHASE) != CNV__RT_S_RUNNING || CNV__RT_S_GEN(st) != (uint32_t)(call->ticket >> 32)) {
    return CNV_OK;
  }
  cnv_runtime_progress p = {.ticket = call->ticket, .correlation = call->correlation, .progress = progress, .total = total, .message = message, .message_len = len};
  run->on_progress(run->progress_ctx, &p);
  return CNV_OK;
}
