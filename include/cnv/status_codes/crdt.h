/* Status codes of the crdt module (replicated data types and their replication):
 * -1700 .. -1799. Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_CRDT_H
#define CNV_STATUS_CODES_CRDT_H
#define CNV_STATUS_CRDT(X) \
  X(ECRDT_MALFORMED, -1700, "crdt: malformed encoding or replication message")
#endif
