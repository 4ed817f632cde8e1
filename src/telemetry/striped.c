/* Striped counters: shared by every thread without attaching. Each thread adds to one of
 * CNV__TEL_STRIPES cache-line-separated stripes (a relaxed fetch-add, so threads that share a
 * stripe lose nothing); a read sums the stripes. */
#include "telemetry/tel_internal.h"

/* Stripe numbers handed out to threads in order of their first add. */
static _Atomic uint32_t cnv__next_stripe;
static _Thread_local uint32_t cnv__my_stripe = UINT32_MAX;

static uint32_t cnv__stripe_of_thread(void) {
  if (CNV__UNLIKELY(cnv__my_stripe == UINT32_MAX)) {
    /* Relaxed: the number only spreads threads over stripes; every value is correct. */
    cnv__my_stripe = cnv__fetch_add_relaxed(&cnv__next_stripe, 1u) % CNV__TEL_STRIPES;
  }
  return cnv__my_stripe;
}

CNV_API cnv_status cnv_tel_striped_add(cnv_telemetry *t, cnv_metric_id id, uint64_t n) {
  if (CNV__UNLIKELY(!t)) return CNV_EINVAL;
  uint32_t j = id - CNV__ID(CNV__KIND_STRIPED, 0);
  if (CNV__UNLIKELY(j >= t->nstriped)) return CNV_ETEL_BAD_ID;
  _Atomic uint64_t *cell = &t->stripe_cells[cnv__stripe_of_thread() * t->stripe_words + j];
  /* Relaxed: a count orders nothing by itself (callers that need an order fence around it);
   * the RMW keeps adds of threads sharing the stripe from being lost. */
  cnv__fetch_add_relaxed(cell, n);
  return CNV_OK;
}

uint64_t cnv__tel_striped_sum(const struct cnv_telemetry *t, uint32_t j) {
  uint64_t sum = 0;
  for (uint32_t k = 0; k < CNV__TEL_STRIPES; k++) {
    /* Relaxed: each stripe is a whole value; the sum is not one instant while adds run. */
    sum += cnv__load_relaxed(&t->stripe_cells[k * t->stripe_words + j]);
  }
  return sum;
}
