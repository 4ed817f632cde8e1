/* Capability path validation shared by the parser and the id functions (SPEC §0). */
#ifndef CNV_PROTOCOL_PATH_H
#define CNV_PROTOCOL_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include <cnv/status.h>

/* Validates path[0..len): CNV_OK, or the first error in byte order with *err_offset set.
 * Fast accept path (cnv__path_span); the exact scan runs only once something is wrong. */
cnv_status cnv__path_check(const char *path, size_t len, size_t *err_offset);

/* Length of the leading run of path bytes ([a-z0-9_.-]) in path[0..len); *valid says whether
 * that run is a valid path (1-255 bytes, 1-8 non-empty segments). Eight bytes per step. */
size_t cnv__path_span(const char *path, size_t len, bool *valid);

#endif
