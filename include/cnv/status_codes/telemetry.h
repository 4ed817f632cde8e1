/* Status codes of the telemetry module (counters, gauges, histograms, export): -400 .. -499.
 * Append new codes with the next free value in this range; never renumber. */
/* Retired (the generic code replaces them; the values are never reused): ETEL_SAMPLE_RATE
 * -408, ETEL_QUANTILE -410, ETEL_RESERVOIR_SIZE -411, ETEL_SCALE -413. */
#ifndef CNV_STATUS_CODES_TELEMETRY_H
#define CNV_STATUS_CODES_TELEMETRY_H
#define CNV_STATUS_TELEMETRY(X)                                                              \
  X(ETEL_NAME, -400, "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, at most 127 bytes")   \
  X(ETEL_COUNTER_SUFFIX, -401, "counter names must end in _total; others must not")          \
  X(ETEL_LABEL, -402, "bad label: name [a-zA-Z_][a-zA-Z0-9_]*, not __*, not le, <= 4")       \
  X(ETEL_TYPE_CONFLICT, -403, "metric family already registered with another type or help")  \
  X(ETEL_SEALED, -404, "registry sealed: metrics are registered before any thread attaches") \
  X(ETEL_TOO_MANY, -405, "registry full for this metric kind")                               \
  X(ETEL_BAD_ID, -406, "metric id out of range or of another kind")                          \
  X(ETEL_NO_SHARD, -407, "every thread shard is attached: raise max_threads")                \
  X(ETEL_WRITE, -409, "the caller's write callback reported an error")                       \
  X(ETEL_HELP, -412, "help text must be non-empty, at most 255 bytes")
#endif
