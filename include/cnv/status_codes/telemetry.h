/* Status codes of the telemetry module (counters, gauges, histograms, export): -400 .. -499.
 * Append new codes with the next free value in this range; never renumber. */
#ifndef CNV_STATUS_CODES_TELEMETRY_H
#define CNV_STATUS_CODES_TELEMETRY_H
#define CNV_STATUS_TELEMETRY(X)
#endif
