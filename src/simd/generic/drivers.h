/* Loop drivers shared by the fixed-width vector paths (SSE4.2, AVX2, NEON), written once and
 * compiled per target, as simdjson does with its generic/ folder: each kernels_<isa>.c
 * defines the primitives below and then includes this file, so the drivers are compiled with
 * that file's target flags and named after its path. The AVX-512 path uses masked tails
 * instead and keeps its own drivers. Include only from a kernels_<isa>.c file.
 *
 * The including file defines:
 *   CNV__G_PATH              the path's name suffix (sse42, avx2, neon)
 *   cnv__g_v64, cnv__g_v16   one vector of 64-bit lanes, one of 16-bit lanes
 *   CNV__G_L64, CNV__G_L16   lanes per vector
 *   g_load64(p), g_load16(p) unaligned loads; g_or64, g_or16; g_zero64(), g_zero16()
 *   g_splat64(x), g_eq64(a, b), g_bits64(v)   broadcast, lane compare, lane bits (bit i = lane i)
 *   g_fold16(v)              OR of the vector's 64-bit words, as a uint64_t
 *   g_splat16(x), CNV__G_SUBSET_STEP, g_subset(e, notc)
 *                            subset bits of CNV__G_SUBSET_STEP effect sets: 1 where (e & notc) == 0
 * and, for the batch hash, CNV__G_HASH with g_store64(p, v) and g_hash(v, seed_vector). */
#ifndef CNV__G_PATH
#error "define the primitives of src/simd/generic/drivers.h before including it"
#endif

#define CNV__G_CAT_(a, b) a##_##b
#define CNV__G_CAT(a, b) CNV__G_CAT_(a, b)
#define CNV__G_NAME(fn) CNV__G_CAT(fn, CNV__G_PATH)

/* Ids per membership block: four vectors. */
#define CNV__G_MEMBER_STEP (4 * CNV__G_L64)

#ifdef CNV__G_HASH
void CNV__G_NAME(cnv_simd_hash64)(const uint64_t *ids, size_t n, uint64_t seed, uint64_t *out) {
  const cnv__g_v64 sd = g_splat64(seed ^ CNV__SIMD_HASH_KEY);
  size_t i = 0;
  for (; i + 2 * CNV__G_L64 <= n; i += 2 * CNV__G_L64) {
    cnv__g_v64 a = g_hash(g_load64(ids + i), sd);
    cnv__g_v64 b = g_hash(g_load64(ids + i + CNV__G_L64), sd);
    g_store64(out + i, a);
    g_store64(out + i + CNV__G_L64, b);
  }
  for (; i < n; i++) out[i] = cnv__simd_hash(ids[i], seed);
}
#endif

/* Membership bits of ids[0..CNV__G_MEMBER_STEP) in s (at most CNV__SIMD_SCAN_MAX ids):
 * broadcast compares. */
static uint64_t g_member(const uint64_t *ids, const cnv_simd_idset *s) {
  cnv__g_v64 x0 = g_load64(ids), x1 = g_load64(ids + CNV__G_L64);
  cnv__g_v64 x2 = g_load64(ids + 2 * CNV__G_L64), x3 = g_load64(ids + 3 * CNV__G_L64);
  cnv__g_v64 a0 = g_zero64(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t k = 0; k < s->count; k++) {
    cnv__g_v64 b = g_splat64(s->ids[k]);
    a0 = g_or64(a0, g_eq64(x0, b));
    a1 = g_or64(a1, g_eq64(x1, b));
    a2 = g_or64(a2, g_eq64(x2, b));
    a3 = g_or64(a3, g_eq64(x3, b));
  }
  return g_bits64(a0) | g_bits64(a1) << CNV__G_L64 | g_bits64(a2) << (2 * CNV__G_L64) |
         g_bits64(a3) << (3 * CNV__G_L64);
}

void CNV__G_NAME(cnv_simd_capcheck)(const uint64_t *ids, size_t n, const cnv_simd_idset *allow,
                                    const cnv_simd_idset *deny, uint64_t *mask) {
  uint64_t only[CNV__SIMD_SCAN_MAX];
  cnv_simd_idset eff = {only, 0};
  int scan = allow->count <= CNV__SIMD_SCAN_MAX;
  if (scan) eff.count = cnv__simd_allowed_only(allow, deny, only);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const uint64_t *x = ids + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + CNV__G_MEMBER_STEP <= end; j += CNV__G_MEMBER_STEP) {
      word |= (scan ? g_member(x + j, &eff)
                    : cnv__simd_cap_bits(allow, deny, x + j, CNV__G_MEMBER_STEP))
              << j;
    }
    if (j < end) word |= cnv__simd_cap_bits(allow, deny, x + j, end - j) << j;
    mask[w] = word;
  }
}

cnv_effects CNV__G_NAME(cnv_simd_effects_join)(const cnv_effects *e, size_t n) {
  cnv__g_v16 a0 = g_zero16(), a1 = a0;
  size_t i = 0;
  for (; i + 2 * CNV__G_L16 <= n; i += 2 * CNV__G_L16) {
    a0 = g_or16(a0, g_load16(e + i));
    a1 = g_or16(a1, g_load16(e + i + CNV__G_L16));
  }
  uint64_t x = g_fold16(g_or16(a0, a1));
  x |= x >> 32;
  x |= x >> 16;
  cnv_effects acc = (cnv_effects)x;
  for (; i < n; i++) acc = (cnv_effects)(acc | e[i]);
  return acc;
}

void CNV__G_NAME(cnv_simd_effects_subset)(const cnv_effects *e, size_t n, cnv_effects ceiling,
                                          uint64_t *mask) {
  const cnv__g_v16 notc = g_splat16((cnv_effects)~ceiling);
  for (size_t w = 0; w < cnv__simd_mask_words(n); w++) {
    const cnv_effects *x = e + 64 * w;
    size_t end = n - 64 * w < 64 ? n - 64 * w : 64, j = 0;
    uint64_t word = 0;
    for (; j + CNV__G_SUBSET_STEP <= end; j += CNV__G_SUBSET_STEP)
      word |= g_subset(x + j, notc) << j;
    for (; j < end; j++) word |= (uint64_t)((x[j] & (cnv_effects)~ceiling) == 0) << j;
    mask[w] = word;
  }
}

#undef CNV__G_MEMBER_STEP
#undef CNV__G_NAME
#undef CNV__G_CAT
#undef CNV__G_CAT_
