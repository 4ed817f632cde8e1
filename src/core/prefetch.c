/* Detects PREFETCHW once, when the library is loaded (core/prefetch.h). */
#include "core/prefetch.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

int cnv__have_prefetchw;

#if defined(__x86_64__)
/* A constructor, so the hot paths test a plain int that never changes once threads exist. */
__attribute__((constructor)) static void cnv__detect_prefetchw(void) {
  unsigned a, b, c, d;
  /* extended leaf 0x80000001: ECX bit 8 is PREFETCHW (3DNowPrefetch) */
  cnv__have_prefetchw = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8)) != 0;
}
#endif
