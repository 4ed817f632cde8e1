/* Status codes of the audit module (replay and what-if over a ledger): -1600 .. -1699.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_AUDIT_H
#define CNV_STATUS_CODES_AUDIT_H
#define CNV_STATUS_AUDIT(X)                                                        \
  X(EAUDIT_MISMATCH, -1600, "audit: replay did not reproduce a recorded decision") \
  X(EAUDIT_NO_CONFIG, -1601, "audit: the log has no runtime CONFIG record before a decision")
#endif
