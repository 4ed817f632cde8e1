/* Status codes of the protocol module (parser, capability ids, negotiation, frames): -200 .. -299.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_PROTOCOL_H
#define CNV_STATUS_CODES_PROTOCOL_H
#define CNV_STATUS_PROTOCOL(X)
#endif
