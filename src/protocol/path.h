/* Capability path validation shared by the parser and the id functions (SPEC §0). */
#ifndef CNV_PROTOCOL_PATH_H
#define CNV_PROTOCOL_PATH_H

#include <stddef.h>

#include <cnv/status.h>

/* Validates path[0..len): CNV_OK, or the first error in byte order with *err_offset set.
 * Fast word-at-a-time accept path; exact byte scan only once something is wrong. */
cnv_status cnv__path_check(const char *path, size_t len, size_t *err_offset);

#endif
