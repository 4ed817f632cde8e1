/* Capability path validation: 1-8 non-empty segments of [a-z0-9_-] joined by '.', at most
 * 255 bytes. The accept path is the simd module's path kernel (chosen by its lazy dispatch);
 * the exact byte scan runs only for a path that fails, to name the first offending byte. */
#include "path.h"

#include <cnv/protocol.h>
#include <cnv/simd.h>

_Static_assert(CNV_SIMD_PATH_MAX_LEN == CNV_PATH_MAX_LEN, "simd checks protocol's limit");
_Static_assert(CNV_SIMD_PATH_MAX_SEGMENTS == CNV_PATH_MAX_SEGMENTS,
               "simd checks protocol's limit");

static bool segment_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Exact scan: the first error in byte order (CNV_OK for a valid path). */
static cnv_status path_slow(const unsigned char *p, size_t len, size_t *off) {
  size_t seg_len = 0;
  unsigned segments = 1;
  for (size_t i = 0; i < len; i++) {
    *off = i;
    if (i == CNV_PATH_MAX_LEN) return CNV_EPARSE_PATH_LONG;
    if (p[i] == '.') {
      if (seg_len == 0) return CNV_EPARSE_PATH_SEGMENT;
      if (++segments > CNV_PATH_MAX_SEGMENTS) return CNV_EPARSE_PATH_DEPTH;
      seg_len = 0;
    } else if (!segment_byte(p[i])) {
      return CNV_EPARSE_PATH_CHAR;
    } else {
      seg_len++;
    }
  }
  *off = len - 1;
  return seg_len == 0 ? CNV_EPARSE_PATH_SEGMENT : CNV_OK;
}

cnv_status cnv__path_check(const char *path, size_t len, size_t *err_offset) {
  size_t off = 0;
  cnv_status st;
  if (len == 0) {
    st = CNV_EPARSE_EMPTY_PATH;
  } else if (cnv_simd_path_accept(path, len)) {
    return CNV_OK;
  } else {
    st = path_slow((const unsigned char *)path, len, &off);
  }
  if (err_offset) *err_offset = off;
  return st;
}
