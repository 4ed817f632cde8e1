/* The eight phases and the legal moves of docs/phases.md, as one bit table. */
#include "phases_internal.h"

#define B(p) (1u << (p))

/* Row `from`: bit `to` set when from -> to is legal. Any phase but Shutdown and Emergency
 * may go to Emergency; Shutdown has no way out. */
static const uint8_t cnv__moves[CNV_PHASE_COUNT] = {
    [CNV_PHASE_BOOTSTRAP] = B(CNV_PHASE_NEGOTIATION) | B(CNV_PHASE_EMERGENCY),
    [CNV_PHASE_NEGOTIATION] = B(CNV_PHASE_ACTIVATION) | B(CNV_PHASE_EMERGENCY),
    [CNV_PHASE_ACTIVATION] = B(CNV_PHASE_OPERATIONAL) | B(CNV_PHASE_EMERGENCY),
    [CNV_PHASE_OPERATIONAL] = B(CNV_PHASE_DEGRADED) | B(CNV_PHASE_SHUTDOWN) | B(CNV_PHASE_EMERGENCY),
    [CNV_PHASE_DEGRADED] = B(CNV_PHASE_RECOVERY) | B(CNV_PHASE_SHUTDOWN) | B(CNV_PHASE_EMERGENCY),
    [CNV_PHASE_RECOVERY] = B(CNV_PHASE_OPERATIONAL) | B(CNV_PHASE_SHUTDOWN) | B(CNV_PHASE_EMERGENCY),
    [CNV_PHASE_EMERGENCY] = B(CNV_PHASE_RECOVERY) | B(CNV_PHASE_SHUTDOWN),
    [CNV_PHASE_SHUTDOWN] = 0,
};

static const char *const cnv__phase_names[CNV_PHASE_COUNT] = {
    "bootstrap",
    "negotiation",
    "activation",
    "operational",
    "degraded",
    "recovery",
    "emergency",
    "shutdown",
};

static int cnv__phase_valid(int p) { return p >= 0 && p < CNV_PHASE_COUNT; }

int cnv__phase_move_legal(int from, int to) { return (cnv__moves[from] >> to) & 1u; }

CNV_API const char *cnv_phase_name(int phase) {
  return cnv__phase_valid(phase) ? cnv__phase_names[phase] : "unknown";
}

CNV_API cnv_status cnv_phase_check_move(int from, int to) {
  if (!cnv__phase_valid(from) || !cnv__phase_valid(to)) return CNV_EPHASE_UNKNOWN;
  if (from == CNV_PHASE_SHUTDOWN) return CNV_EPHASE_FINAL;
  return cnv__phase_move_legal(from, to) ? CNV_OK : CNV_EPHASE_ILLEGAL;
}
