/* Status codes of the swarmwire module (the swarm's NATS messages and records): -1300 ..
 * -1399. Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_SWARMWIRE_H
#define CNV_STATUS_CODES_SWARMWIRE_H
#define CNV_STATUS_SWARMWIRE(X)                                                                          \
  X(ESW_MALFORMED, -1300, "swarmwire: malformed message or record (length, version, kind, field)")       \
  X(ESW_SUBJECT, -1301, "swarmwire: not a capability path that maps to a subject")                       \
  X(ESW_PROOF, -1302, "swarmwire: signature does not verify (not the key holder, or altered)")           \
  X(ESW_HANDSHAKE, -1303, "swarmwire: handshake key agreement failed (low-order key)")                   \
  X(ESW_TICKET, -1304, "swarmwire: ticket does not open under the swarm key (forged or altered)")        \
  X(ESW_TICKET_EXPIRED, -1305, "swarmwire: ticket expired or its key epoch is unknown: handshake again") \
  X(ESW_OPEN, -1306, "swarmwire: sealed message does not authenticate (altered, wrong key or subject)")  \
  X(ESW_NO_SESSION, -1307, "swarmwire: this node holds no session for the request: send it again with the ticket")
#endif
