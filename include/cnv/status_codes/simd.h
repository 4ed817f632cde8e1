/* Status codes of the simd module (kernels and dispatch): -600 .. -699.
 * Append new codes with the next free value in this range; never renumber. */
/* Retired (the generic code replaces them; the values are never reused): ESIMD_NULL -600,
 * ESIMD_UNSUPPORTED -602, ESIMD_BAD_PATH -603, ESIMD_MASK_SMALL -604, ESIMD_BATCH_TOO_LARGE
 * -606, ESIMD_SCRATCH_SMALL -607, ESIMD_HLL_PRECISION -608. */
#ifndef CNV_STATUS_CODES_SIMD_H
#define CNV_STATUS_CODES_SIMD_H
#define CNV_STATUS_SIMD(X)                                                               \
  X(ESIMD_UNKNOWN_PATH, -601, "simd: unknown path name (scalar|sse42|avx2|avx512|neon)") \
  X(ESIMD_UNSORTED, -605, "simd: id set must be strictly ascending")
#endif
