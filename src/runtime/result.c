/* The result writer handlers get: appends into the running worker's buffer. */
#include <string.h>

#include "rt_internal.h"

cnv_status cnv_runtime_result_write(cnv_runtime_result *r, const void *bytes, size_t len) {
  if (!r || (!bytes && len)) return CNV_EINVAL;
  if (r->refused || len > r->cap - r->len) {
    r->refused = 1;
    return CNV_ERT_RESULT_TOO_LARGE;
  }
  if (len) memcpy(r->buf + r->len, bytes, len);
  r->len += (uint32_t)len;
  return CNV_OK;
}

cnv_status cnv_runtime_result_set_type(cnv_runtime_result *r, int type) {
  if (!r) return CNV_EINVAL;
  if (type < CNV_CONTENT_TEXT || type > CNV_CONTENT_BINARY) return CNV_ERANGE;
  r->type = type;
  return CNV_OK;
}

size_t cnv_runtime_result_len(const cnv_runtime_result *r) { return r ? r->len : 0; }
