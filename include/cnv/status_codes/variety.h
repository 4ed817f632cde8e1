/* Status codes of the variety module (exact variety, HLL, requisite variety): -700 .. -799.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_VARIETY_H
#define CNV_STATUS_CODES_VARIETY_H
#define CNV_STATUS_VARIETY(X)
#endif
