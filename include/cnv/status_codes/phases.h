/* Status codes of the phases module (phase machine, breaker, coordinator, observer): -300 .. -399.
 * Append new codes with the next free value in this range; never renumber. */
/* Retired (the generic code replaces them; the values are never reused): EPHASE_CLOCK -305. */
#ifndef CNV_STATUS_CODES_PHASES_H
#define CNV_STATUS_CODES_PHASES_H
#define CNV_STATUS_PHASES(X)                                                                \
  X(EPHASE_UNKNOWN, -300, "unknown phase value")                                            \
  X(EPHASE_ILLEGAL, -301, "illegal phase transition: the state machine forbids this move")  \
  X(EPHASE_STALE, -302, "stale transition: the swarm is no longer in the expected phase")   \
  X(EPHASE_FINAL, -303, "the swarm is shut down: Shutdown is final")                        \
  X(EPHASE_ALREADY_EMERGENCY, -304, "algedonic signal counted: swarm already in Emergency") \
  X(EPHASE_AGENTS_UNDERFLOW, -306, "agent left a swarm with no active agents")              \
  X(EBREAKER_CONFIG, -307, "breaker config: need 0 <= lower < upper <= 1, window, buckets") \
  X(EBREAKER_BUSY, -308, "breaker evaluation already running on another thread")            \
  X(ECOORD_NO_SWARM, -309, "no swarm with this id in the coordinator")                      \
  X(ECOORD_DUPLICATE, -310, "a swarm with this id is already in the coordinator")           \
  X(EOBS_CAPACITY, -311, "observer capacity must be a power of two within limits")          \
  X(EOBS_FULL, -312, "observer channel full: event refused and counted as dropped")         \
  X(EOBS_RULE, -313, "invalid alert rule (kind, phase, threshold or window)")               \
  X(EOBS_RULES_FULL, -314, "observer rule table full")                                      \
  X(EOBS_CONSUMER_BUSY, -315, "another thread is already draining this observer")
#endif
