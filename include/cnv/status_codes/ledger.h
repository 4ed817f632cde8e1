/* Status codes of the ledger module (the governance ledger, Merkle proofs, receipts):
 * -1500 .. -1599. Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_LEDGER_H
#define CNV_STATUS_CODES_LEDGER_H
#define CNV_STATUS_LEDGER(X)                                                                     \
  X(ELEDGER_CORRUPT, -1500, "ledger: a record or segment is damaged (bad frame, hash or chain)") \
  X(ELEDGER_TORN, -1501, "ledger: the log ends in a torn (partly written) record")               \
  X(ELEDGER_SIGNATURE, -1502, "ledger: a checkpoint's signature or root does not verify")        \
  X(ELEDGER_PROOF, -1503, "ledger: the Merkle proof does not verify")                            \
  X(ELEDGER_NOT_COVERED, -1504, "ledger: no checkpoint covers this record yet")                  \
  X(ELEDGER_KEY, -1505, "ledger: the log belongs to another key")                                \
  X(ELEDGER_KIND, -1506, "ledger: the record is not of the kind this call needs")
#endif
