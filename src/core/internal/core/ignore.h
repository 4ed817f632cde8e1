/* Dropping a status on purpose. Internal (cnv__ prefix), never installed.
 * Every cnv_status function is CNV_NODISCARD, and GCC does not let a (void) cast silence
 * that, so a call whose failure is harmless passes its status here instead, with a comment
 * at the call saying why the failure cannot happen or does not matter. */
#ifndef CNV__IGNORE_H
#define CNV__IGNORE_H

#include <cnv/status.h>

static inline void cnv__ignore_status(cnv_status st) { (void)st; }

#endif
