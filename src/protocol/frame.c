/* Frame encode and one-shot decode (docs/wire-format.md): 16-byte LE header, payload,
 * optional XXH3-64 trailer over header and payload. Decode is zero-copy. */
#include <string.h>
#include <xxhash.h>

#include "frame.h"
#include "le.h"

#define FLAG_KNOWN (CNV_FRAME_FLAG_CHECKSUM | CNV_FRAME_FLAG_COMPRESS_MASK)

bool cnv__frame_config_ok(const cnv_frame_config *cfg) {
  return cfg && cfg->max_payload >= 1 && cfg->max_payload <= CNV_FRAME_MAX_PAYLOAD &&
         cfg->compression <= CNV_COMPRESS_ZSTD && cfg->checksum <= 1;
}

cnv_frame_config cnv_frame_config_default(void) {
  cnv_frame_config c = {64u * 1024u, CNV_COMPRESS_NONE, 0};
  return c;
}

cnv_frame_config cnv_frame_config_from(const cnv_negotiated *neg) {
  cnv_frame_config c = {neg->max_message_size, neg->compression, neg->checksum};
  return c;
}

cnv_status cnv_frame_encoded_bound(const cnv_frame_config *cfg, size_t payload_len, size_t *out) {
  if (!cnv__frame_config_ok(cfg) || !out) return CNV_EINVAL;
  if (payload_len > cfg->max_payload) return CNV_EFRAME_OVERSIZE;
  *out = CNV_FRAME_HEADER_SIZE + payload_len + (cfg->checksum ? CNV_FRAME_TRAILER_SIZE : 0);
  return CNV_OK;
}

static void put_header(uint8_t *h, uint8_t type, uint16_t flags, uint32_t len, uint64_t corr) {
  h[0] = CNV_FRAME_MAGIC;
  h[1] = (uint8_t)((CNV_FRAME_WIRE_VERSION << 4) | type);
  cnv__put16(h + 2, flags);
  cnv__put32(h + 4, len);
  cnv__put64(h + 8, corr);
}

/* Writes the payload (compressed when that saves bytes); returns flags and wire length. */
static cnv_status put_payload(const cnv_frame_config *cfg, const uint8_t *src, size_t len,
                              uint8_t *dst, size_t room, uint16_t *flags, size_t *wire_len) {
  if (cfg->compression != CNV_COMPRESS_NONE &&
      cnv__compress(cfg->compression, src, len, dst, room, wire_len) == CNV_OK) {
    *flags = (uint16_t)(*flags | (cfg->compression << 1));
    return CNV_OK;
  }
  if (room < len) return CNV_EFRAME_BUFFER;
  if (len) memcpy(dst, src, len);
  *wire_len = len;
  return CNV_OK;
}

cnv_status cnv_frame_encode(const cnv_frame_config *cfg, uint8_t type, uint64_t correlation_id,
                            const void *payload, size_t payload_len, void *out, size_t cap,
                            size_t *written) {
  if (!cnv__frame_config_ok(cfg) || !out || !written || (!payload && payload_len))
    return CNV_EINVAL;
  if (type < CNV_MSG_CAPABILITIES || type > CNV_MSG_SHUTDOWN) return CNV_EFRAME_TYPE;
  if (payload_len > cfg->max_payload) return CNV_EFRAME_OVERSIZE;
  size_t trailer = cfg->checksum ? CNV_FRAME_TRAILER_SIZE : 0;
  if (cap < CNV_FRAME_HEADER_SIZE + trailer) return CNV_EFRAME_BUFFER;
  uint8_t *o = out;
  uint16_t flags = cfg->checksum ? CNV_FRAME_FLAG_CHECKSUM : 0;
  size_t wire = 0;
  cnv_status st = put_payload(cfg, payload, payload_len, o + CNV_FRAME_HEADER_SIZE,
                              cap - CNV_FRAME_HEADER_SIZE - trailer, &flags, &wire);
  if (st != CNV_OK) return st;
  put_header(o, type, flags, (uint32_t)wire, correlation_id);
  size_t total = CNV_FRAME_HEADER_SIZE + wire;
  if (trailer) {
    cnv__put64(o + total, XXH3_64bits(o, total));
    total += trailer;
  }
  *written = total;
  return CNV_OK;
}

/* Checks the header fields that lie within the first `have` bytes (garbage is rejected as
 * soon as its first byte arrives). */
static cnv_status header_check(const cnv_frame_config *cfg, const uint8_t *h, size_t have) {
  if (have >= 1 && h[0] != CNV_FRAME_MAGIC) return CNV_EFRAME_MAGIC;
  if (have >= 2) {
    unsigned type = h[1] & 0x0Fu;
    if ((h[1] >> 4) != CNV_FRAME_WIRE_VERSION) return CNV_EFRAME_VERSION;
    if (type < CNV_MSG_CAPABILITIES || type > CNV_MSG_SHUTDOWN) return CNV_EFRAME_TYPE;
  }
  if (have >= 4) {
    uint16_t flags = cnv__le16(h + 2);
    if ((flags & ~FLAG_KNOWN) || ((flags & CNV_FRAME_FLAG_COMPRESS_MASK) >> 1) > CNV_COMPRESS_ZSTD)
      return CNV_EFRAME_FLAGS;
    if (cfg->checksum && !(flags & CNV_FRAME_FLAG_CHECKSUM)) return CNV_EFRAME_NO_CHECKSUM;
  }
  if (have >= 8 && cnv__le32(h + 4) > cfg->max_payload) return CNV_EFRAME_OVERSIZE;
  return CNV_OK;
}

cnv_status cnv_frame_decode(const cnv_frame_config *cfg, const void *buf, size_t len,
                            cnv_frame *out, size_t *consumed) {
  if (!cnv__frame_config_ok(cfg) || !out || !consumed || (!buf && len)) return CNV_EINVAL;
  const uint8_t *h = buf;
  *consumed = 0;
  cnv_status st = header_check(cfg, h, len < CNV_FRAME_HEADER_SIZE ? len : CNV_FRAME_HEADER_SIZE);
  if (st != CNV_OK) return st;
  if (len < CNV_FRAME_HEADER_SIZE) {
    *consumed = CNV_FRAME_HEADER_SIZE;
    return CNV_EFRAME_TRUNCATED;
  }
  uint16_t flags = cnv__le16(h + 2);
  uint32_t plen = cnv__le32(h + 4);
  size_t body = CNV_FRAME_HEADER_SIZE + (size_t)plen;
  size_t total = body + ((flags & CNV_FRAME_FLAG_CHECKSUM) ? CNV_FRAME_TRAILER_SIZE : 0);
  if (len < total) {
    *consumed = total;
    return CNV_EFRAME_TRUNCATED;
  }
  if (total != body && cnv__le64(h + body) != XXH3_64bits(h, body)) return CNV_EFRAME_CHECKSUM;
  out->payload = h + CNV_FRAME_HEADER_SIZE;
  out->payload_len = plen;
  out->flags = flags;
  out->type = h[1] & 0x0Fu;
  out->reserved = 0;
  out->correlation_id = cnv__le64(h + 8);
  *consumed = total;
  return CNV_OK;
}
