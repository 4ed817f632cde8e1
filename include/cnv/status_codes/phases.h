/* Status codes of the phases module (phase machine, breaker, coordinator, observer): -300 .. -399.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_PHASES_H
#define CNV_STATUS_CODES_PHASES_H
#define CNV_STATUS_PHASES(X)
#endif
