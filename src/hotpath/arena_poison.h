/* ASan poisoning helpers for the arenas: no-ops unless built with AddressSanitizer
 * (CNV_ARENA_POISONING from cnv/hotpath.h). Internal, never installed. */
#ifndef CNV__ARENA_POISON_H
#define CNV__ARENA_POISON_H

#include <cnv/hotpath.h>

#if CNV_ARENA_POISONING
#include <sanitizer/asan_interface.h>
#define cnv__poison(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define cnv__unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define cnv__poison(p, n) ((void)(p), (void)(n))
#define cnv__unpoison(p, n) ((void)(p), (void)(n))
#endif

#endif
