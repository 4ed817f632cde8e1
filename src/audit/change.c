/* What-if changes: their validation. */
#include <cnv/phases.h>

#include "audit_internal.h"

cnv_status cnv__audit_changes_check(const cnv_audit_change *changes, size_t n) {
  if (!changes && n) return CNV_EINVAL;
  for (size_t i = 0; i < n; i++) {
    switch (changes[i].kind) {
      case CNV_AUDIT_REVOKE_ADD:
      case CNV_AUDIT_REVOKE_REMOVE:
      case CNV_AUDIT_TRUST_REMOVE:
        break;
      case CNV_AUDIT_PHASE_FORCE:
        if (changes[i].phase < 0 || changes[i].phase >= CNV_PHASE_COUNT) return CNV_ERANGE;
        break;
      default:
        return CNV_EINVAL;
    }
  }
  return CNV_OK;
}
