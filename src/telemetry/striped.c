/* Striped counters: shared by every thread without attaching. Each thread adds to one of
 * CNV__TEL_STRIPES cache-line-separated stripes (an atomic fetch-add, so threads that share a
 * stripe lose nothing); a read sums the stripes. */
#include "tel_internal.h"

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
  /* seq_cst, documented in the header: a caller may use the count as an entry/exit tally
   * (the runtime's stop does). On x86 every locked RMW is a full barrier, so this costs the
   * same as relaxed; the RMW keeps adds of threads sharing the stripe from being lost. */
  atomic_fetch_add_explicit(cell, n, memory_order_seq_cst);
  return CNV_OK;
}

uint64_t cnv__tel_striped_sum(const struct cnv_telemetry *t, uint32_t j) {
  uint64_t sum = 0;
  for (uint32_t k = 0; k < CNV__TEL_STRIPES; k++) {
    /* seq_cst (a plain load on x86): pairs with the adds' seq_cst RMWs, see striped_add.
     * The sum is not one instant while adds run. */
    sum += atomic_load_explicit(&t->stripe_cells[k * t->stripe_words + j], memory_order_seq_cst);
  }
  return sum;
}
