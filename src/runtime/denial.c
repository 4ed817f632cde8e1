/* Denial reasons: names, status codes, and the mapping of delegation's rule codes. */
#include <cnv/runtime.h>

static const char *const denial_names[CNV_RT_DENY_COUNT] = {
    "phase", "malformed", "unknown_agent", "unknown_capability", "expired",
    "revoked", "widened", "forged", "not_allowed", "effects",
    "uses", "untrusted", "too_long", "rate", "shed",
    "arguments"};

static const cnv_status denial_codes[CNV_RT_DENY_COUNT] = {
    CNV_ERT_DENY_PHASE, CNV_ERT_DENY_MALFORMED, CNV_ERT_DENY_UNKNOWN_AGENT,
    CNV_ERT_DENY_UNKNOWN_CAPABILITY, CNV_ERT_DENY_EXPIRED, CNV_ERT_DENY_REVOKED,
    CNV_ERT_DENY_WIDENED, CNV_ERT_DENY_FORGED, CNV_ERT_DENY_NOT_ALLOWED,
    CNV_ERT_DENY_EFFECTS, CNV_ERT_DENY_USES, CNV_ERT_DENY_UNTRUSTED,
    CNV_ERT_DENY_TOO_LONG, CNV_ERT_DENY_RATE, CNV_ERT_DENY_SHED,
    CNV_ERT_DENY_ARGUMENTS};

const char *cnv_runtime_denial_name(int reason) {
  if (reason < 0 || reason >= CNV_RT_DENY_COUNT) return "unknown";
  return denial_names[reason];
}

cnv_status cnv_runtime_denial_status(int reason) {
  if (reason < 0 || reason >= CNV_RT_DENY_COUNT) return CNV_EINVAL;
  return denial_codes[reason];
}

int cnv_runtime_denial_of(cnv_status st) {
  for (int i = 0; i < CNV_RT_DENY_COUNT; i++) {
    if (denial_codes[i] == st) return i;
  }
  return -1;
}

cnv_status cnv_runtime_map_deleg(cnv_status st) {
  switch (st) {
    case CNV_EDELEG_EXPIRED:
    case CNV_EDELEG_NOT_YET_VALID:
      return CNV_ERT_DENY_EXPIRED;
    case CNV_EDELEG_REVOKED:
      return CNV_ERT_DENY_REVOKED;
    case CNV_EDELEG_WIDENED_ALLOW:
    case CNV_EDELEG_DROPPED_FORBIDDEN:
    case CNV_EDELEG_WIDENED_EFFECTS:
    case CNV_EDELEG_WIDENED_WINDOW:
    case CNV_EDELEG_WIDENED_USES:
    case CNV_EDELEG_WIDENED_SWARM:
    case CNV_EDELEG_DEPTH:
    case CNV_EDELEG_MISALIGNED:
    case CNV_EDELEG_PARENT_HASH:
      return CNV_ERT_DENY_WIDENED;
    case CNV_EDELEG_BAD_SIGNATURE:
      return CNV_ERT_DENY_FORGED;
    case CNV_EDELEG_NOT_ALLOWED:
    case CNV_EDELEG_FORBIDDEN:
      return CNV_ERT_DENY_NOT_ALLOWED;
    case CNV_EDELEG_EFFECTS_EXCEEDED:
      return CNV_ERT_DENY_EFFECTS;
    case CNV_EDELEG_USES_EXHAUSTED:
      return CNV_ERT_DENY_USES;
    default:
      return CNV_ERT_DENY_UNTRUSTED;
  }
}
