/* Internals of the audit module shared by its files. */
#ifndef CNV_AUDIT_INTERNAL_H
#define CNV_AUDIT_INTERNAL_H

#include <stddef.h>

#include <cnv/audit.h>

/* Checks n what-if changes: CNV_OK, CNV_EINVAL (changes NULL with n > 0, an unknown kind),
 * CNV_ERANGE (a forced phase that is not a cnv_phase). */
CNV_NODISCARD cnv_status cnv__audit_changes_check(const cnv_audit_change *changes, size_t n);

#endif
