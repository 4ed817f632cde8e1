/* Positive control for test_forbidden_include: the includes a module may use compile with a
 * module's include flags (own private header, atomics layer, public and generated headers). */
#include <stdatomic.h>

#include <cnv/delegation.h>
#include <cnv/version.h>

#include "core/atomic.h"
#include "probe.h"

uint32_t cnv_probe_bump(void) {
  static _Atomic uint32_t n;
  /* relaxed: a lone counter, nothing is published through it. */
  return cnv__fetch_add_relaxed(&n, 1u) + (uint32_t)CNV_VERSION_MAJOR;
}
