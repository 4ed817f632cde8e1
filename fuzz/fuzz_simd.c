/* Differential fuzzer: every SIMD path this machine can run against the scalar twins, on ids,
 * sets and effect flags taken from the input. Aborts on any difference. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/simd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 512u

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Sorted, duplicate-free copy of the first n ids (small values so batches hit the sets). */
static size_t make_set(const uint64_t *src, size_t n, uint64_t *set) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) set[i] = src[i] & 0xFF;
  qsort(set, n, sizeof *set, cmp_u64);
  for (size_t i = 0; i < n; i++)
    if (k == 0 || set[k - 1] != set[i]) set[k++] = set[i];
  return k;
}

static void compare(const cnv_simd_kernels *ref, const cnv_simd_kernels *k, const uint64_t *ids,
                    size_t n, const cnv_simd_idset *allow, const cnv_simd_idset *deny) {
  static uint64_t a[MAXN], b[MAXN], scratch[CNV_SIMD_VARIETY_SCRATCH_MAX / 8];
  static uint8_t ra[1u << 12], rb[1u << 12];
  const uint16_t *e = (const uint16_t *)(const void *)ids;
  ref->hash64(ids, n, n, a);
  k->hash64(ids, n, n, b);
  if (memcmp(a, b, n * 8)) abort();
  ref->capcheck(ids, n, allow, deny, a);
  k->capcheck(ids, n, allow, deny, b);
  if (memcmp(a, b, (n + 63) / 64 * 8)) abort();
  if (ref->effects_join(e, 4 * n) != k->effects_join(e, 4 * n)) abort();
  ref->effects_subset(e, 4 * n, e[0], a);
  k->effects_subset(e, 4 * n, e[0], b);
  if (memcmp(a, b, (4 * n + 63) / 64 * 8)) abort();
  uint32_t da, db;
  uint64_t ca, cb;
  ref->variety_count(ids, n, scratch, &da, &ca);
  k->variety_count(ids, n, scratch, &db, &cb);
  if (da != db || ca != cb) abort();
  memset(ra, 0, sizeof ra);
  memset(rb, 0, sizeof rb);
  ref->hll_update(ra, 12, ids, n, 1);
  k->hll_update(rb, 12, ids, n, 1);
  if (memcmp(ra, rb, sizeof ra)) abort();
  /* bits_or: the second half of the ids into the first, at the input's (unaligned) offset */
  size_t half = n / 2, off = n ? ids[0] % 4 : 0, words = half > off ? half - off : 0;
  memcpy(a, ids, n * 8);
  memcpy(b, ids, n * 8);
  if (ref->bits_or(a + off, ids + half, words) != k->bits_or(b + off, ids + half, words)) abort();
  if (memcmp(a, b, n * 8)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint64_t ids[MAXN], allow_ids[64], deny_ids[64];
  const cnv_simd_kernels *ref, *k;
  if (size < 2) return 0;
  size_t na = data[0] % 64, nd = data[1] % 64, n = (size - 2) / 8;
  n = n > MAXN ? MAXN : n;
  memcpy(ids, data + 2, n * 8);
  for (size_t i = 0; i < n; i++) ids[i] = (ids[i] & 1) ? ids[i] & 0xFF : ids[i];
  cnv_simd_idset allow = {allow_ids, make_set(ids, na < n ? na : n, allow_ids)};
  cnv_simd_idset deny = {deny_ids,
                         make_set(ids + n / 2, nd < n - n / 2 ? nd : n - n / 2, deny_ids)};
  if (cnv_simd_kernels_get(CNV_SIMD_SCALAR, &ref) != CNV_OK) abort();
  for (unsigned p = 1; p < CNV_SIMD_PATH_COUNT; p++)
    if (cnv_simd_kernels_get((cnv_simd_path)p, &k) == CNV_OK)
      compare(ref, k, ids, n, &allow, &deny);
  return 0;
}
