/* Status codes of the variety module (exact variety, HLL, requisite variety): -700 .. -799.
 * Append new codes with the next free value in this range; never renumber. */
/* Retired (the generic code replaces them; the values are never reused): EVARIETY_NULL -700,
 * EVARIETY_BATCH_TOO_LARGE -701, EVARIETY_PRECISION -703, EVARIETY_BAD_VALUE -705. */
#ifndef CNV_STATUS_CODES_VARIETY_H
#define CNV_STATUS_CODES_VARIETY_H
#define CNV_STATUS_VARIETY(X)                                                                \
  X(EVARIETY_NEED_SCRATCH, -702, "variety: batch above CNV_VARIETY_STACK_MAX needs scratch") \
  X(EVARIETY_HLL_MISMATCH, -704, "variety: HLL sketches differ in precision or seed")
#endif
