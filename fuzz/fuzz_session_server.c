/* Fuzz a server session with bytes from a hostile client: raw, after a real HELLO (valid
 * prefix), after a full handshake, or as a script of sealed traffic with flipped bytes.
 * Modes and properties: session_fuzz.h. */
#include "session_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fz_run(CNV_SESSION_SERVER, data, size); }
