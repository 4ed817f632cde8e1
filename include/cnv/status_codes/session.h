/* Status codes of the session module (handshake, sealed frames, session payloads): -900 .. -999.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_SESSION_H
#define CNV_STATUS_CODES_SESSION_H
#define CNV_STATUS_SESSION(X)                                                                                          \
  X(ESESSION_HANDSHAKE, -900, "session: malformed or unexpected handshake message")                                    \
  X(ESESSION_SERVER_KEY, -901, "session: the server's key is not the pinned one or its proof is bad")                  \
  X(ESESSION_HOLDER_PROOF, -902, "session: the agent did not prove it holds its token's key")                          \
  X(ESESSION_OPEN, -903, "session: a sealed frame failed authentication (modified, replayed, reordered or truncated)") \
  X(ESESSION_MALFORMED, -904, "session: malformed session message payload")                                            \
  X(ESESSION_CREDIT, -905, "session: the peer exceeded its in-flight credit")                                          \
  X(ESESSION_CLOSED, -906, "session: the session is closed")                                                           \
  X(ESESSION_NONCE_EXHAUSTED, -907, "session: the frame counter of a key ran out")                                     \
  X(ESESSION_PEER_ERROR, -908, "session: the peer ended the session with an error")                                    \
  X(ESESSION_GOING_AWAY, -909, "session: the peer is going away")                                                      \
  X(ESESSION_UNEXPECTED, -910, "session: a message not allowed in this state or direction")
#endif
