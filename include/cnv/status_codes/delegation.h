/* Status codes of the delegation module (token chains, revocation, cache): -500 .. -599.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_DELEGATION_H
#define CNV_STATUS_CODES_DELEGATION_H
#define CNV_STATUS_DELEGATION(X)
#endif
