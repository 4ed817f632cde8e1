/* Concurrent tally of a stream of ids: a fixed open-addressed table of (id, count) filled by
 * any number of threads without locks, read into exact variety and entropy. */
#include <math.h>
#include <stdlib.h>

#include <cnv/variety.h>

#include "core/atomic.h"

/* Slots an observe probes before its id counts as overflow: bounds every observe. */
#define TALLY_PROBES 64u
#define TALLY_MAX_CAPACITY (1u << 24)

/* One slot; id 0 marks it empty (id 0 itself is counted in `zero`). */
typedef struct tally_slot {
  _Atomic uint64_t id;
  _Atomic uint64_t count;
} tally_slot;

struct cnv_variety_tally {
  tally_slot *slots;
  uint32_t mask;
  uint32_t shift;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t zero;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t overflow;
};

cnv_status cnv_variety_tally_create(uint32_t capacity, cnv_variety_tally **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (capacity == 0 || capacity > TALLY_MAX_CAPACITY) return CNV_ERANGE;
  uint32_t slots = 2, bits = 1;
  while (slots < 2 * capacity) {
    slots <<= 1;
    bits++;
  }
  cnv_variety_tally *t = aligned_alloc(CNV_CACHELINE, sizeof *t);
  if (!t) return CNV_ENOMEM;
  t->slots = calloc(slots, sizeof *t->slots);
  if (!t->slots) {
    free(t);
    return CNV_ENOMEM;
  }
  t->mask = slots - 1;
  t->shift = 64u - bits;
  atomic_init(&t->zero, 0);
  atomic_init(&t->overflow, 0);
  *out = t;
  return CNV_OK;
}

void cnv_variety_tally_destroy(cnv_variety_tally *t) {
  if (!t) return;
  free(t->slots);
  free(t);
}

cnv_status cnv_variety_tally_observe(cnv_variety_tally *t, uint64_t id) {
  if (CNV__UNLIKELY(!t)) return CNV_EINVAL;
  /* Relaxed throughout: an id and its count are the only data of a slot and publish
   * nothing else; a reader wants whole values, not an order (a claimed slot whose count is
   * still 0 is skipped). */
  if (id == 0) {
    cnv__fetch_add_relaxed(&t->zero, 1u);
    return CNV_OK;
  }
  uint32_t i = (uint32_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
  for (uint32_t n = 0; n < TALLY_PROBES; n++, i = (i + 1) & t->mask) {
    tally_slot *s = &t->slots[i];
    uint64_t cur = cnv__load_relaxed(&s->id);
    if (cur == 0) {
      uint64_t expect = 0;
      cur = cnv__cas_strong(&s->id, &expect, id, memory_order_relaxed, memory_order_relaxed)
                ? id
                : expect;
    }
    if (cur == id) {
      cnv__fetch_add_relaxed(&s->count, 1u);
      return CNV_OK;
    }
  }
  cnv__fetch_add_relaxed(&t->overflow, 1u);
  return CNV_OK;
}

/* Adds one id's count c to the running figures. */
static void tally_one(uint64_t c, uint64_t *total, double *sum_clogc, uint32_t *distinct) {
  if (c == 0) return;
  (*distinct)++;
  *total += c;
  *sum_clogc += (double)c * log2((double)c);
}

cnv_status cnv_variety_tally_read(const cnv_variety_tally *t, cnv_variety_tally_stats *out) {
  if (!t || !out) return CNV_EINVAL;
  uint64_t total = 0;
  double sum_clogc = 0;
  uint32_t distinct = 0;
  /* Relaxed: a snapshot; each cell is a whole value, the set is not one instant. */
  tally_one(cnv__load_relaxed(&t->zero), &total, &sum_clogc, &distinct);
  for (uint32_t i = 0; i <= t->mask; i++) {
    if (cnv__load_relaxed(&t->slots[i].id) == 0) continue;
    tally_one(cnv__load_relaxed(&t->slots[i].count), &total, &sum_clogc, &distinct);
  }
  out->overflow = cnv__load_relaxed(&t->overflow);
  out->observations = total + out->overflow;
  out->distinct = distinct;
  out->bits = cnv_variety_bits(distinct);
  double h = total ? log2((double)total) - sum_clogc / (double)total : 0;
  out->entropy = h > 0 ? h : 0;
  return CNV_OK;
}
