/* Status codes of the variety module (exact variety, HLL, requisite variety): -700 .. -799.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_VARIETY_H
#define CNV_STATUS_CODES_VARIETY_H
#define CNV_STATUS_VARIETY(X)                                                             \
  X(EVARIETY_NULL, -700, "variety: NULL pointer where data or output is required")        \
  X(EVARIETY_BATCH_TOO_LARGE, -701, "variety: batch larger than CNV_VARIETY_BATCH_MAX")   \
  X(EVARIETY_NEED_SCRATCH, -702, "variety: batch above CNV_VARIETY_STACK_MAX needs scratch") \
  X(EVARIETY_PRECISION, -703, "variety: HLL precision outside CNV_HLL_P_MIN..CNV_HLL_P_MAX") \
  X(EVARIETY_HLL_MISMATCH, -704, "variety: HLL sketches differ in precision or seed")     \
  X(EVARIETY_BAD_VALUE, -705, "variety: variety or threshold is negative, NaN or infinite")
#endif
