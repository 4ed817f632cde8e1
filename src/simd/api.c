/* The public kernel entry points: validate arguments, then call the active path's kernel. */
#include "simd_internal.h"

#define CHECK(cond, code)       \
  do {                          \
    if (!(cond)) return (code); \
  } while (0)

uint64_t cnv_simd_hash64_one(uint64_t id, uint64_t seed) { return cnv__simd_hash(id, seed); }

cnv_status cnv_simd_hash64(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  CHECK(n == 0 || (ids && out), CNV_EINVAL);
  cnv__simd_active()->hash64(ids, n, seed, out);
  return CNV_OK;
}

cnv_status cnv_simd_idset_init(cnv_simd_idset *set, const uint64_t *ids, size_t count) {
  CHECK(set && (count == 0 || ids), CNV_EINVAL);
  for (size_t i = 1; i < count; i++) CHECK(ids[i - 1] < ids[i], CNV_ESIMD_UNSORTED);
  set->ids = ids;
  set->count = count;
  return CNV_OK;
}

cnv_status cnv_simd_capcheck(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                             const cnv_simd_idset *deny, uint64_t *mask, size_t mask_words) {
  CHECK(allow && deny && (allow->count == 0 || allow->ids) && (deny->count == 0 || deny->ids),
        CNV_EINVAL);
  CHECK(n == 0 || (ids && mask), CNV_EINVAL);
  CHECK(mask_words >= cnv__simd_mask_words(n), CNV_ERANGE);
  cnv__simd_active()->capcheck(ids, n, allow, deny, mask);
  return CNV_OK;
}

cnv_status cnv_simd_effects_join(const cnv_effects *e, size_t n, cnv_effects *out) {
  CHECK(out && (n == 0 || e), CNV_EINVAL);
  *out = cnv__simd_active()->effects_join(e, n);
  return CNV_OK;
}

cnv_status cnv_simd_effects_subset(const cnv_effects *e, size_t n, cnv_effects ceiling, uint64_t *mask,
                                   size_t mask_words) {
  CHECK(n == 0 || (e && mask), CNV_EINVAL);
  CHECK(mask_words >= cnv__simd_mask_words(n), CNV_ERANGE);
  cnv__simd_active()->effects_subset(e, n, ceiling, mask);
  return CNV_OK;
}

void cnv_simd_zero(void *p, size_t n) {
  if (n) cnv__simd_active()->zero(p, n);
}

cnv_status cnv_simd_bits_or(uint64_t *dst, const uint64_t *src, size_t words, bool *changed) {
  CHECK(words == 0 || (dst && src), CNV_EINVAL);
  bool c = words != 0 && cnv__simd_active()->bits_or(dst, src, words);
  if (changed) *changed = c;
  return CNV_OK;
}

cnv_status cnv_simd_variety_count(const uint64_t *ids, size_t n, void *scratch,
                                  size_t scratch_bytes, uint32_t *distinct, uint64_t *clogc) {
  CHECK(distinct && clogc && (n == 0 || (ids && scratch)), CNV_EINVAL);
  CHECK(n <= CNV_SIMD_VARIETY_MAX, CNV_ERANGE);
  if (n == 0) {
    *distinct = 0;
    *clogc = 0;
    return CNV_OK;
  }
  CHECK(((uintptr_t)scratch & 7u) == 0 && scratch_bytes >= CNV_SIMD_VARIETY_SCRATCH_BYTES(n),
        CNV_ERANGE);
  cnv__simd_active()->variety_count(ids, n, scratch, distinct, clogc);
  return CNV_OK;
}

cnv_status cnv_simd_hll_update(uint8_t *regs, unsigned p, const uint64_t *ids, size_t n,
                               uint64_t seed) {
  CHECK(regs && (n == 0 || ids), CNV_EINVAL);
  CHECK(p >= CNV_SIMD_HLL_P_MIN && p <= CNV_SIMD_HLL_P_MAX, CNV_ERANGE);
  cnv__simd_active()->hll_update(regs, p, ids, n, seed);
  return CNV_OK;
}

cnv_status cnv_simd_hll_sums_get(const uint8_t *regs, unsigned p, cnv_simd_hll_sums *out) {
  CHECK(regs && out, CNV_EINVAL);
  CHECK(p >= CNV_SIMD_HLL_P_MIN && p <= CNV_SIMD_HLL_P_MAX, CNV_ERANGE);
  cnv__simd_active()->hll_sums(regs, p, out);
  return CNV_OK;
}
