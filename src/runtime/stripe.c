/* Striped counters: each thread adds to its own stripe; readers sum. */
#include "core/atomic.h"
#include "rt_internal.h"

static _Atomic uint32_t next_stripe;
static _Thread_local uint32_t my_stripe = UINT32_MAX;

cnv__rt_stripe *cnv__rt_stripe_of(cnv_runtime *rt) {
  if (CNV__UNLIKELY(my_stripe == UINT32_MAX)) {
    /* relaxed: only spreads threads over stripes; any value is correct */
    my_stripe = cnv__fetch_add_relaxed(&next_stripe, 1u) % CNV__RT_STRIPES;
  }
  return &rt->stripes[my_stripe];
}

uint64_t cnv__rt_counter(const cnv_runtime *rt, int which) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < CNV__RT_STRIPES; i++) {
    /* relaxed: each counter is exact on its own; a snapshot is not one instant */
    sum += cnv__load_relaxed(&rt->stripes[i].c[which]);
  }
  return sum;
}
