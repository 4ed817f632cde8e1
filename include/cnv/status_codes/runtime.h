/* Status codes of the runtime module (runtime and cnv tool): -800 .. -899.
 * Append new codes with the next free value in this range; never renumber.
 * ERT_DENY_* are denials of one invocation (cnv_runtime_submit); each is counted by reason
 * in cnv_runtime_stats.denied[]. The others are errors of runtime set-up calls. */
#ifndef CNV_STATUS_CODES_RUNTIME_H
#define CNV_STATUS_CODES_RUNTIME_H
#define CNV_STATUS_RUNTIME(X)                                                              \
  X(ERT_DENY_PHASE, -800, "denied: the swarm's phase does not admit work")                 \
  X(ERT_DENY_MALFORMED, -801, "denied: the invocation line does not parse")                \
  X(ERT_DENY_UNKNOWN_AGENT, -802, "denied: no such agent")                                 \
  X(ERT_DENY_UNKNOWN_CAPABILITY, -803, "denied: no handler for this capability")           \
  X(ERT_DENY_EXPIRED, -804, "denied: the agent's token is expired or not yet valid")       \
  X(ERT_DENY_REVOKED, -805, "denied: the agent's token (or an ancestor) is revoked")       \
  X(ERT_DENY_WIDENED, -806, "denied: the token chain widens its parent (invalid chain)")   \
  X(ERT_DENY_FORGED, -807, "denied: a token signature does not verify")                    \
  X(ERT_DENY_NOT_ALLOWED, -808, "denied: the token does not allow this capability")        \
  X(ERT_DENY_EFFECTS, -809, "denied: the capability's effects exceed the token's ceiling") \
  X(ERT_DENY_USES, -810, "denied: the token has no uses left")                             \
  X(ERT_DENY_UNTRUSTED, -811, "denied: token malformed, untrusted, or not this agent's")   \
  X(ERT_DENY_TOO_LONG, -812, "denied: the line does not fit a queue record")               \
  X(ERT_AGENTS_FULL, -813, "agent table is full (max_agents)")                             \
  X(ERT_HANDLERS_FULL, -814, "handler table is full (max_handlers)")                       \
  X(ERT_CONFIG, -815, "invalid runtime or scenario configuration")                         \
  X(ERT_THREAD, -816, "a worker or monitor thread could not be started")                   \
  X(ERT_EXPIRED, -817, "the invocation's deadline passed before it completed")             \
  X(ERT_CANCELLED, -818, "the invocation was cancelled before it ran")                     \
  X(ERT_STOPPED, -819, "the runtime stopped before the invocation could run")              \
  X(ERT_ABANDONED, -820, "the handler was still running at stop's timeout")                \
  X(ERT_RESULT_TOO_LARGE, -821, "the result does not fit the runtime's max_result")        \
  X(ERT_DENY_RATE, -822, "denied: the agent's rate limit is exceeded")                     \
  X(ERT_DENY_SHED, -823, "denied: low-priority work is shed while the swarm is degraded")  \
  X(ERT_STUCK, -824, "stopped, but some workers are still inside a handler")               \
  X(ERT_DENY_ARGUMENTS, -825, "denied: the arguments do not fit the capability's schema")
#endif
