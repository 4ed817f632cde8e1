/* libcnv core: export macro, cache-line size, library version.
 * Every other public header includes this one; it includes nothing of libcnv. */
#ifndef CNV_CORE_H
#define CNV_CORE_H

#include <stddef.h>
#include <stdint.h>

#if defined(CNV_BUILDING_LIBRARY) && defined(__GNUC__)
#define CNV_API __attribute__((visibility("default")))
#else
#define CNV_API
#endif

/* Size of a destructive-interference unit; shared mutable fields are padded to it. */
#define CNV_CACHELINE 64

#if defined(__cplusplus)
#define CNV_ALIGNED(n) alignas(n)
#else
#define CNV_ALIGNED(n) _Alignas(n)
#endif

#define CNV_VERSION_MAJOR 0
#define CNV_VERSION_MINOR 1
#define CNV_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* Library version as "MAJOR.MINOR.PATCH"; a static string, never NULL. Thread-safe. */
CNV_API const char *cnv_version(void);

#ifdef __cplusplus
}
#endif

#endif
