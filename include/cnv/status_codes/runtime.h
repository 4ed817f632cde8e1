/* Status codes of the runtime module (runtime and cnv tool): -800 .. -899.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_RUNTIME_H
#define CNV_STATUS_CODES_RUNTIME_H
#define CNV_STATUS_RUNTIME(X)
#endif
