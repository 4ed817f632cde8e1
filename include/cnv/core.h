/* libcnv core: export macro, cache-line size, library version.
 * Every other public header includes this one; it includes only <cnv/version.h>. */
#ifndef CNV_CORE_H
#define CNV_CORE_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/version.h> /* generated: CNV_VERSION_MAJOR/MINOR/PATCH, CNV_VERSION_STRING */

#if defined(CNV_BUILDING_LIBRARY) && defined(__GNUC__)
#define CNV_API __attribute__((visibility("default")))
#else
#define CNV_API
#endif

/* Marks a function whose result must not be ignored: every function returning cnv_status
 * carries it, so a dropped status is a compiler warning. */
#if defined(__cplusplus) && __cplusplus >= 201703L
#define CNV_NODISCARD [[nodiscard]]
#elif defined(__GNUC__)
#define CNV_NODISCARD __attribute__((warn_unused_result))
#else
#define CNV_NODISCARD
#endif

/* Size of a destructive-interference unit; shared mutable fields are padded to it. */
#define CNV_CACHELINE 64

#if defined(__cplusplus)
#define CNV_ALIGNED(n) alignas(n)
#else
#define CNV_ALIGNED(n) _Alignas(n)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Library version as "MAJOR.MINOR.PATCH"; a static string, never NULL. Thread-safe. */
CNV_API const char *cnv_version(void);

#ifdef __cplusplus
}
#endif

#endif
