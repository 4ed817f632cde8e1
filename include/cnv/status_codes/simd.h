/* Status codes of the simd module (kernels and dispatch): -600 .. -699.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_SIMD_H
#define CNV_STATUS_CODES_SIMD_H
#define CNV_STATUS_SIMD(X)                                                                \
  X(ESIMD_NULL, -600, "simd: NULL pointer where data or output is required")              \
  X(ESIMD_UNKNOWN_PATH, -601, "simd: unknown path name (scalar|sse42|avx2|avx512|neon)")  \
  X(ESIMD_UNSUPPORTED, -602, "simd: path cannot run on this CPU or build")                \
  X(ESIMD_BAD_PATH, -603, "simd: path value out of range")                                \
  X(ESIMD_MASK_SMALL, -604, "simd: bitmask buffer too small for the batch")               \
  X(ESIMD_UNSORTED, -605, "simd: id set must be strictly ascending")                      \
  X(ESIMD_BATCH_TOO_LARGE, -606, "simd: batch larger than the kernel accepts")            \
  X(ESIMD_SCRATCH_SMALL, -607, "simd: scratch buffer too small or not 8-byte aligned")    \
  X(ESIMD_HLL_PRECISION, -608, "simd: HLL precision outside the supported range")
#endif
