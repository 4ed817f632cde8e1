/* Status codes of the simd module (kernels and dispatch): -600 .. -699.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_SIMD_H
#define CNV_STATUS_CODES_SIMD_H
#define CNV_STATUS_SIMD(X)
#endif
