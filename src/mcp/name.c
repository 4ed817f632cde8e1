/* Tool names: capability paths written in the characters MCP clients accept (mcp.h). */
#include <string.h>

#include <cnv/mcp.h>
#include <cnv/protocol.h>

cnv_status cnv_mcp_tool_name(const char *path, size_t path_len, char *out, size_t cap, size_t *len) {
  if (!path || !out) return CNV_EINVAL;
  cnv_status st = cnv_capability_path_check(path, path_len, NULL);
  if (st != CNV_OK) return st;
  size_t n = 0;
  for (size_t i = 0; i < path_len; i++) n += path[i] == '_' ? 2u : 1u;
  if (n > CNV_MCP_TOOL_NAME_MAX) return CNV_ERANGE;
  if (cap < n + 1) return CNV_EFULL;
  size_t o = 0;
  for (size_t i = 0; i < path_len; i++) {
    if (path[i] == '.') {
      out[o++] = '_';
    } else if (path[i] == '_') {
      out[o++] = '_';
      out[o++] = 'U';
    } else {
      out[o++] = path[i];
    }
  }
  out[o] = '\0';
  if (len) *len = o;
  return CNV_OK;
}

cnv_status cnv_mcp_tool_path(const char *name, size_t name_len, char *out, size_t cap, size_t *len) {
  if (!name || !out) return CNV_EINVAL;
  if (name_len == 0 || name_len > CNV_MCP_TOOL_NAME_MAX) return CNV_ENOTFOUND;
  char path[CNV_MCP_TOOL_NAME_MAX];
  size_t n = 0;
  for (size_t i = 0; i < name_len; i++) {
    char c = name[i];
    if (c == '_') {
      if (i + 1 < name_len && name[i + 1] == 'U') {
        path[n++] = '_';
        i++;
      } else {
        path[n++] = '.';
      }
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      path[n++] = c;
    } else {
      return CNV_ENOTFOUND; /* capitals (but the U of "_U") and anything else: no path */
    }
  }
  /* The decoded path must be a valid one and encode back to exactly this name: the
   * mapping is then one-to-one ("a__Ub" is "a._b"; "_a", "a__b" are not names). */
  if (cnv_capability_path_check(path, n, NULL) != CNV_OK) return CNV_ENOTFOUND;
  char again[CNV_MCP_TOOL_NAME_MAX + 1];
  size_t again_len = 0;
  if (cnv_mcp_tool_name(path, n, again, sizeof again, &again_len) != CNV_OK || again_len != name_len ||
      memcmp(again, name, name_len) != 0) {
    return CNV_ENOTFOUND;
  }
  if (cap < n + 1) return CNV_EFULL;
  memcpy(out, path, n);
  out[n] = '\0';
  if (len) *len = n;
  return CNV_OK;
}
