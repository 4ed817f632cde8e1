/* Status codes of the nats module (a swarm over NATS: nodes, clients, admin): -1400 .. -1499.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_NATS_H
#define CNV_STATUS_CODES_NATS_H
#define CNV_STATUS_NATS(X)                                                                          \
  X(ENATS_CONNECT, -1400, "nats: could not connect to any NATS server")                             \
  X(ENATS_JETSTREAM, -1401, "nats: JetStream unavailable or refused (stream or bucket)")            \
  X(ENATS_TIMEOUT, -1402, "nats: no answer in time")                                                \
  X(ENATS_NOT_AUTHORIZED, -1403, "nats: the token does not allow swarm.serve in this swarm")        \
  X(ENATS_STALE, -1404, "nats: request time outside the swarm's dedupe window")                     \
  X(ENATS_IN_PROGRESS, -1405, "nats: the request is running on another node (wait for its answer)") \
  X(ENATS_CLOSED, -1406, "nats: the client or node was closed before the answer came")              \
  X(ENATS_OUTCOME_UNKNOWN, -1407,                                                                   \
    "nats: the node running the request stopped before its answer was stored: it ran at most once")
#endif
