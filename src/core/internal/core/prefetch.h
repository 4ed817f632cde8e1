/* Prefetching a cache line for writing, ahead of the stores that will need it. Internal,
 * never installed.
 *
 * Where a ring is handed between cores (a queue's cells, the runtime's in-flight slots), the
 * line a producer writes next was last written by a consumer on another core. The store then
 * waits for the line's ownership, and the producer's next locked instruction waits for that
 * store: one core-to-core transfer per record, paid in sequence. Asking for the line with
 * write intent a few records ahead overlaps those transfers with the producer's work. Where
 * a transfer is slow (cores on different dies, a hypervisor's vCPUs far apart) that is the
 * difference between a producer bound by the transfer latency and one bound by its own work
 * (docs/benchmarks.md, "Core-to-core latency"). */
#ifndef CNV__PREFETCH_H
#define CNV__PREFETCH_H

#include <stdatomic.h>

/* x86-64: 1 when the CPU has PREFETCHW (CPUID 0x80000001, ECX bit 8), set once when the
 * library is loaded (prefetch.c). Elsewhere always 0, and unused. */
extern _Atomic int cnv__have_prefetchw;

/* Asks for the line holding p in a writable state. A hint: no fault, no effect on what
 * memory holds, nothing when the CPU has no such instruction. */
static inline void cnv__prefetch_for_write(const void *p) {
#if defined(__x86_64__)
  /* GCC and Clang emit PREFETCHW for __builtin_prefetch(p, 1) only when the whole build
   * targets it (-mprfchw); otherwise they emit PREFETCHT0, which fetches a shared copy and
   * leaves the store to ask for ownership again. So the instruction is named here, behind
   * the CPUID check (old Intel cores lack it). The flag's load is relaxed: it is written
   * once, when the library is loaded, and a thread that read 0 before would only skip the
   * hint. */
  if (atomic_load_explicit(&cnv__have_prefetchw, memory_order_relaxed))
    __asm__ volatile("prefetchw %0"
                     :
                     : "m"(*(const char *)p));
#else
  __builtin_prefetch(p, 1, 3); /* aarch64: PRFM PSTL1KEEP */
#endif
}

#endif
