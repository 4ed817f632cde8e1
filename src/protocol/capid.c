/* Capability ids: XXH3 (libxxhash's public API) of the validated path bytes (docs/protocol.md),
 * plain and versioned. Validation is path.c's (the
 * simd module's dispatched path kernel); no per-CPU code here. */
#include <cnv/protocol.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cnv/simd.h>

#include "path.h"

cnv_status cnv_capability_path_check(const char *path, size_t len, size_t *err_offset) {
  if (!path && len) return CNV_EINVAL;
  return cnv__path_check(path, len, err_offset);
}

/* Out of line: everything the accept kernel does not take (errors are named here). */
static __attribute__((noinline)) cnv_status capability_id_slow(const char *path, size_t len,
                                                               uint64_t *out) {
  if (!out || (!path && len)) return CNV_EINVAL;
  cnv_status st = cnv__path_check(path, len, NULL);
  if (st != CNV_OK) return st;
  *out = XXH3_64bits(path, len);
  return CNV_OK;
}

cnv_status cnv_capability_id(const char *path, size_t len, uint64_t *out) {
  /* The accept kernel directly (it takes a NULL path as invalid), so a valid path costs one
   * dispatched kernel call and the hash. */
  if (__builtin_expect(!cnv_simd_path_accept(path, len) || out == NULL, 0))
    return capability_id_slow(path, len, out);
  *out = XXH3_64bits(path, len);
  return CNV_OK;
}

cnv_status cnv_invocation_id(const cnv_invocation *inv, uint64_t *out) {
  if (!inv || !out || !inv->path.ptr || inv->path.len == 0) return CNV_EINVAL;
  *out = XXH3_64bits(inv->path.ptr, inv->path.len);
  return CNV_OK;
}

/* XXH3-128 of bytes already validated, split into the public struct. */
static cnv_status id128_of(const char *bytes, size_t len, cnv_id128 *out) {
  XXH128_hash_t h = XXH3_128bits(bytes, len);
  out->low64 = h.low64;
  out->high64 = h.high64;
  return CNV_OK;
}

cnv_status cnv_capability_id128(const char *path, size_t len, cnv_id128 *out) {
  if (!out || (!path && len)) return CNV_EINVAL;
  cnv_status st = cnv__path_check(path, len, NULL);
  return st != CNV_OK ? st : id128_of(path, len, out);
}

/* One canonical decimal 0..65535 from s[*i..len), ending at `stop` (or the end when stop is
 * 0). No sign, no leading zero unless the number is 0. */
static bool version_number(const char *s, size_t len, size_t *i, char stop) {
  size_t start = *i;
  uint32_t v = 0;
  while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10u + (uint32_t)(s[*i] - '0');
    if (v > UINT16_MAX) return false;
    (*i)++;
  }
  size_t digits = *i - start;
  if (digits == 0 || (digits > 1 && s[start] == '0')) return false;
  if (stop == 0) return *i == len;
  if (*i >= len || s[*i] != stop) return false;
  (*i)++;
  return true;
}

/* Validates "path@M.m.p" (canonical spelling). */
static cnv_status versioned_check(const char *text, size_t len) {
  const char *at = text ? memchr(text, '@', len) : NULL;
  size_t path_len = at ? (size_t)(at - text) : len;
  cnv_status st = cnv__path_check(text, path_len, NULL);
  if (st != CNV_OK) return st;
  if (!at) return CNV_EPARSE_VERSION;
  size_t i = path_len + 1;
  bool ok = version_number(text, len, &i, '.') && version_number(text, len, &i, '.') &&
            version_number(text, len, &i, 0);
  return ok ? CNV_OK : CNV_EPARSE_VERSION;
}

cnv_status cnv_capability_id_versioned(const char *text, size_t len, uint64_t *out) {
  if (!out || (!text && len)) return CNV_EINVAL;
  cnv_status st = versioned_check(text, len);
  if (st != CNV_OK) return st;
  *out = XXH3_64bits(text, len);
  return CNV_OK;
}

cnv_status cnv_capability_id128_versioned(const char *text, size_t len, cnv_id128 *out) {
  if (!out || (!text && len)) return CNV_EINVAL;
  cnv_status st = versioned_check(text, len);
  return st != CNV_OK ? st : id128_of(text, len, out);
}
