/* Reservoir sampling, Li's Algorithm L: after the first k items, jump straight to the next
 * item to keep (geometric skips), so most offers cost one compare. */
#include <math.h>
#include <stdlib.h>

#include "tel_internal.h"

#define CNV__RESERVOIR_MAX (UINT32_C(1) << 24)

struct cnv_reservoir {
  uint64_t *items;
  uint32_t cap;
  uint64_t seen; /* items offered */
  uint64_t next; /* 0-based index of the next item to keep once full */
  double w;
  uint64_t rng;
};

static uint64_t cnv__splitmix(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in (0, 1): 53 random bits, never 0. */
static double cnv__unit(uint64_t *s) {
  return ((double)(cnv__splitmix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void cnv__reservoir_skip(struct cnv_reservoir *r) {
  double skip = floor(log(cnv__unit(&r->rng)) / log1p(-r->w));
  r->next += (skip >= 1e18 ? UINT64_C(1000000000000000000) : (uint64_t)skip) + 1u;
  r->w *= exp(log(cnv__unit(&r->rng)) / (double)r->cap);
}

CNV_API cnv_status cnv_reservoir_create(uint32_t capacity, uint64_t seed, cnv_reservoir **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (capacity == 0 || capacity > CNV__RESERVOIR_MAX) return CNV_ERANGE;
  struct cnv_reservoir *r = calloc(1, sizeof *r);
  if (!r) return CNV_ENOMEM;
  r->items = calloc(capacity, sizeof *r->items);
  if (!r->items) {
    free(r);
    return CNV_ENOMEM;
  }
  r->cap = capacity;
  r->rng = seed;
  r->w = exp(log(cnv__unit(&r->rng)) / (double)capacity);
  r->next = capacity - 1u;
  cnv__reservoir_skip(r);
  *out = r;
  return CNV_OK;
}

CNV_API void cnv_reservoir_destroy(cnv_reservoir *r) {
  if (!r) return;
  free(r->items);
  free(r);
}

CNV_API cnv_status cnv_reservoir_offer(cnv_reservoir *r, uint64_t item) {
  if (!r) return CNV_EINVAL;
  uint64_t i = r->seen++;
  if (i < r->cap) {
    r->items[i] = item;
  } else if (i == r->next) {
    r->items[cnv__splitmix(&r->rng) % r->cap] = item;
    cnv__reservoir_skip(r);
  }
  return CNV_OK;
}

CNV_API const uint64_t *cnv_reservoir_items(const cnv_reservoir *r, size_t *count, uint64_t *seen) {
  if (!r) return NULL;
  if (count) *count = r->seen < r->cap ? (size_t)r->seen : r->cap;
  if (seen) *seen = r->seen;
  return r->items;
}
