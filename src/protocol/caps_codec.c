/* Payload codecs for the capabilities / negotiation messages (docs/wire-format.md §3):
 * one canonical little-endian layout each, decoded by exact length. */
#include <cnv/protocol.h>
#include <string.h>

#include "le.h"

static size_t caps_size(uint8_t n_versions, uint8_t n_compression) {
  return 1u + 6u * n_versions + 12u + 1u + 1u + n_compression;
}

cnv_status cnv_capabilities_encode(const cnv_capabilities *caps, void *out, size_t cap,
                                   size_t *written) {
  if (!caps || !out || !written) return CNV_EINVAL;
  cnv_status st = cnv_capabilities_check(caps);
  if (st != CNV_OK) return st;
  size_t need = caps_size(caps->n_versions, caps->n_compression);
  if (cap < need) return CNV_ERANGE;
  uint8_t *p = out;
  *p++ = caps->n_versions;
  for (unsigned i = 0; i < caps->n_versions; i++, p += 6) {
    cnv__put16(p, caps->versions[i].major);
    cnv__put16(p + 2, caps->versions[i].minor);
    cnv__put16(p + 4, caps->versions[i].patch);
  }
  cnv__put32(p, caps->features);
  cnv__put32(p + 4, caps->max_message_size);
  cnv__put32(p + 8, caps->max_concurrent_calls);
  p += 12;
  *p++ = caps->checksum;
  *p++ = caps->n_compression;
  memcpy(p, caps->compression, caps->n_compression);
  *written = need;
  return CNV_OK;
}

cnv_status cnv_capabilities_decode(const void *in, size_t len, cnv_capabilities *out) {
  if (!out || (!in && len)) return CNV_EINVAL;
  const uint8_t *p = in;
  if (len < 1 || p[0] == 0 || p[0] > CNV_PROTO_MAX_VERSIONS) return CNV_EPROTO_MALFORMED;
  cnv_capabilities c;
  memset(&c, 0, sizeof c);
  c.n_versions = p[0];
  size_t fixed = caps_size(c.n_versions, 0);
  if (len < fixed) return CNV_EPROTO_MALFORMED;
  c.n_compression = p[fixed - 1];
  if (c.n_compression == 0 || c.n_compression > CNV_PROTO_MAX_COMPRESSIONS ||
      len != caps_size(c.n_versions, c.n_compression))
    return CNV_EPROTO_MALFORMED;
  p++;
  for (unsigned i = 0; i < c.n_versions; i++, p += 6) {
    c.versions[i].major = cnv__le16(p);
    c.versions[i].minor = cnv__le16(p + 2);
    c.versions[i].patch = cnv__le16(p + 4);
  }
  c.features = cnv__le32(p);
  c.max_message_size = cnv__le32(p + 4);
  c.max_concurrent_calls = cnv__le32(p + 8);
  c.checksum = p[12];
  memcpy(c.compression, p + 14, c.n_compression);
  cnv_status st = cnv_capabilities_check(&c);
  if (st != CNV_OK) return st;
  *out = c;
  return CNV_OK;
}

cnv_status cnv_negotiated_encode(const cnv_negotiated *neg, void *out, size_t cap,
                                 size_t *written) {
  if (!neg || !out || !written) return CNV_EINVAL;
  if (cap < CNV_NEGOTIATED_ENCODED) return CNV_ERANGE;
  uint8_t *p = out;
  cnv__put16(p, neg->version.major);
  cnv__put16(p + 2, neg->version.minor);
  cnv__put16(p + 4, neg->version.patch);
  cnv__put32(p + 6, neg->features);
  cnv__put32(p + 10, neg->max_message_size);
  cnv__put32(p + 14, neg->max_concurrent_calls);
  p[18] = neg->compression;
  p[19] = neg->checksum;
  *written = CNV_NEGOTIATED_ENCODED;
  return CNV_OK;
}

cnv_status cnv_negotiated_decode(const void *in, size_t len, cnv_negotiated *out) {
  if (!out || (!in && len)) return CNV_EINVAL;
  if (len != CNV_NEGOTIATED_ENCODED) return CNV_EPROTO_MALFORMED;
  const uint8_t *p = in;
  cnv_negotiated n;
  n.version.major = cnv__le16(p);
  n.version.minor = cnv__le16(p + 2);
  n.version.patch = cnv__le16(p + 4);
  n.features = cnv__le32(p + 6);
  n.max_message_size = cnv__le32(p + 10);
  n.max_concurrent_calls = cnv__le32(p + 14);
  n.compression = p[18];
  n.checksum = p[19];
  if (n.compression > CNV_COMPRESS_ZSTD || n.checksum > 1 || n.max_message_size == 0 ||
      n.max_message_size > CNV_FRAME_MAX_PAYLOAD || n.max_concurrent_calls == 0 ||
      (n.features & ~CNV_FEAT_IMPLEMENTED) != 0)
    return CNV_EPROTO_MALFORMED;
  *out = n;
  return CNV_OK;
}
