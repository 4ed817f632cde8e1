/* Capability path validation shared by the parser and the id functions (docs/protocol.md). */
#ifndef CNV_PROTOCOL_PATH_H
#define CNV_PROTOCOL_PATH_H

#include <stddef.h>

#include <cnv/status.h>

/* Validates path[0..len) (path non-NULL when len > 0): CNV_OK, or the first error in byte
 * order with *err_offset set (err_offset may be NULL). The accept path is the simd module's
 * dispatched path kernel; the exact scan runs only once something is wrong. */
CNV_NODISCARD cnv_status cnv__path_check(const char *path, size_t len, size_t *err_offset);

#endif
