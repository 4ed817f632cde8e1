/* Detects PREFETCHW once, when the library is loaded (core/prefetch.h). */
#include "core/prefetch.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

_Atomic int cnv__have_prefetchw;

#if defined(__x86_64__)
/* A constructor: the hot paths then test a flag that does not change while they run. */
__attribute__((constructor)) static void cnv__detect_prefetchw(void) {
  unsigned a, b, c, d;
  /* extended leaf 0x80000001: ECX bit 8 is PREFETCHW (3DNowPrefetch) */
  int have = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8)) != 0;
  atomic_store_explicit(&cnv__have_prefetchw, have, memory_order_relaxed); /* relaxed: a hint */
}
#endif
