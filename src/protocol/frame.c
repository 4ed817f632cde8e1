/* Frame encode and one-shot decode (docs/wire-format.md): 16-byte LE header, payload,
 * optional XXH3-64 trailer over header and payload. Decode is zero-copy. */
#include <string.h>
#include <xxhash.h>

#include "compress.h"
#include "frame.h"
#include "le.h"

#define FLAG_KNOWN (CNV_FRAME_FLAG_CHECKSUM | CNV_FRAME_FLAG_COMPRESS_MASK)

bool cnv__frame_config_ok(const cnv_frame_config *cfg) {
  /* non-short-circuit '&': one branch for the common valid case */
  return cfg && ((cfg->max_payload - 1u < CNV_FRAME_MAX_PAYLOAD) &
                 (cfg->compression <= CNV_COMPRESS_ZSTD) & (cfg->checksum <= 1));
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

/* The trailer paths stay out of line so that frames without one run in a leaf function. */
static __attribute__((noinline)) size_t put_trailer(uint8_t *frame, size_t body) {
  cnv__put64(frame + body, XXH3_64bits(frame, body));
  return CNV_FRAME_TRAILER_SIZE;
}

static __attribute__((noinline)) bool checksum_ok(const uint8_t *frame, size_t body) {
  return cnv__le64(frame + body) == XXH3_64bits(frame, body);
}

/* Copies a payload; small ones inline in 16-byte steps (the last step overlaps), which saves
 * the library call that would dominate a small frame. */
static inline void copy_payload(uint8_t *d, const uint8_t *src, size_t n) {
  if (n < 16 || n > 128) {
    if (n) memcpy(d, src, n);
    return;
  }
  for (size_t i = 0; i + 16 < n; i += 16) memcpy(d + i, src + i, 16);
  memcpy(d + n - 16, src + n - 16, 16);
}

/* Header word 0 (bytes 0-7) and word 1 (the correlation id). */
static inline uint64_t header_word0(uint8_t type, uint16_t flags, uint32_t len) {
  return CNV_FRAME_MAGIC | ((uint64_t)((CNV_FRAME_WIRE_VERSION << 4) | type) << 8) |
         ((uint64_t)flags << 16) | ((uint64_t)len << 32);
}

/* Writes a compressed payload when that saves bytes, else leaves *wire_len untouched.
 * Kept out of line so the plain path stays short. */
static __attribute__((noinline)) uint16_t try_compress(const cnv_frame_config *cfg,
                                                       const uint8_t *src, size_t len, uint8_t *dst,
                                                       size_t room, size_t *wire_len) {
  if (cnv__compress(cfg->compression, src, len, dst, room, wire_len) != CNV_OK) return 0;
  return (uint16_t)(cfg->compression << 1);
}

/* Every case: compression, trailer, any size, and all argument errors. */
static __attribute__((noinline)) cnv_status encode_general(const cnv_frame_config *cfg,
                                                           uint8_t type, uint64_t correlation_id,
                                                           const void *payload, size_t payload_len,
                                                           void *out, size_t cap, size_t *written) {
  if (!cnv__frame_config_ok(cfg) || !out || !written || (!payload && payload_len))
    return CNV_EINVAL;
  if ((unsigned)(type - CNV_MSG_CAPABILITIES) > CNV_MSG_SHUTDOWN - CNV_MSG_CAPABILITIES)
    return CNV_EFRAME_TYPE;
  if (payload_len > cfg->max_payload) return CNV_EFRAME_OVERSIZE;
  size_t trailer = cfg->checksum ? CNV_FRAME_TRAILER_SIZE : 0;
  if (cap < CNV_FRAME_HEADER_SIZE + trailer) return CNV_ERANGE;
  uint8_t *o = out;
  size_t room = cap - CNV_FRAME_HEADER_SIZE - trailer, wire = payload_len;
  uint16_t flags = cfg->checksum ? CNV_FRAME_FLAG_CHECKSUM : 0;
  if (cfg->compression != CNV_COMPRESS_NONE)
    flags = (uint16_t)(flags | try_compress(cfg, payload, payload_len, o + CNV_FRAME_HEADER_SIZE,
                                            room, &wire));
  if ((flags & CNV_FRAME_FLAG_COMPRESS_MASK) == 0) {
    if (room < payload_len) return CNV_ERANGE;
    copy_payload(o + CNV_FRAME_HEADER_SIZE, payload, payload_len);
  }
  cnv__put64(o, header_word0(type, flags, (uint32_t)wire));
  cnv__put64(o + 8, correlation_id);
  size_t total = CNV_FRAME_HEADER_SIZE + wire;
  if (trailer) total += put_trailer(o, total);
  *written = total;
  return CNV_OK;
}

/* The common small plain frame runs as a leaf function (no calls, no saved registers); its
 * condition implies every check encode_general makes. Everything else goes there. */
cnv_status cnv_frame_encode(const cnv_frame_config *cfg, uint8_t type, uint64_t correlation_id,
                            const void *payload, size_t payload_len, void *out, size_t cap,
                            size_t *written) {
  if (cfg && out && written && payload && cfg->compression == CNV_COMPRESS_NONE && !cfg->checksum &&
      payload_len >= 16 && payload_len <= 128 && payload_len <= cfg->max_payload &&
      cfg->max_payload <= CNV_FRAME_MAX_PAYLOAD && cap >= CNV_FRAME_HEADER_SIZE + payload_len &&
      (unsigned)(type - CNV_MSG_CAPABILITIES) <= CNV_MSG_SHUTDOWN - CNV_MSG_CAPABILITIES) {
    uint8_t *o = out;
    copy_payload(o + CNV_FRAME_HEADER_SIZE, payload, payload_len);
    cnv__put64(o, header_word0(type, 0, (uint32_t)payload_len));
    cnv__put64(o + 8, correlation_id);
    *written = CNV_FRAME_HEADER_SIZE + payload_len;
    return CNV_OK;
  }
  return encode_general(cfg, type, correlation_id, payload, payload_len, out, cap, written);
}

/* Checks the header fields that lie within the first `have` bytes (garbage is rejected as
 * soon as its first byte arrives). */
static __attribute__((noinline)) cnv_status header_check(const cnv_frame_config *cfg,
                                                         const uint8_t *h, size_t have) {
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

/* One test for a well-formed header under cfg: magic, version, type 1..8, no reserved or
 * unknown flag bits, trailer when required, length within bounds. */
static inline bool header_fast_ok(const cnv_frame_config *cfg, uint64_t w0) {
  unsigned type = (unsigned)(w0 >> 8) & 0x0Fu;
  unsigned flags = (unsigned)(w0 >> 16) & 0xFFFFu;
  bool ok = (w0 & 0xF0FFu) == (CNV_FRAME_MAGIC | (CNV_FRAME_WIRE_VERSION << 12)) &&
            type - 1u < CNV_MSG_SHUTDOWN && (flags & ~FLAG_KNOWN) == 0 &&
            (flags & CNV_FRAME_FLAG_COMPRESS_MASK) != CNV_FRAME_FLAG_COMPRESS_MASK &&
            (w0 >> 32) <= cfg->max_payload;
  return ok && (flags & CNV_FRAME_FLAG_CHECKSUM) >= cfg->checksum;
}

static void fill_frame(cnv_frame *out, const uint8_t *h, uint64_t w0) {
  out->payload = h + CNV_FRAME_HEADER_SIZE;
  out->payload_len = (uint32_t)(w0 >> 32);
  out->flags = (uint16_t)(w0 >> 16);
  out->type = (uint8_t)((w0 >> 8) & 0x0Fu);
  out->reserved = 0;
  out->correlation_id = cnv__le64(h + 8);
}

/* Every case: partial input, errors, trailers, and all argument errors. */
static __attribute__((noinline)) cnv_status decode_general(const cnv_frame_config *cfg,
                                                           const void *buf, size_t len,
                                                           cnv_frame *out, size_t *consumed) {
  if (!cnv__frame_config_ok(cfg) || !out || !consumed || (!buf && len)) return CNV_EINVAL;
  const uint8_t *h = buf;
  *consumed = 0;
  uint64_t w0 = len >= CNV_FRAME_HEADER_SIZE ? cnv__le64(h) : 0;
  if (len < CNV_FRAME_HEADER_SIZE || !header_fast_ok(cfg, w0)) {
    cnv_status st = header_check(cfg, h, len < CNV_FRAME_HEADER_SIZE ? len : CNV_FRAME_HEADER_SIZE);
    if (st != CNV_OK) return st;
    *consumed = CNV_FRAME_HEADER_SIZE;
    return CNV_EFRAME_TRUNCATED;
  }
  uint16_t flags = (uint16_t)(w0 >> 16);
  uint32_t plen = (uint32_t)(w0 >> 32);
  size_t body = CNV_FRAME_HEADER_SIZE + (size_t)plen;
  size_t total = body + ((flags & CNV_FRAME_FLAG_CHECKSUM) ? CNV_FRAME_TRAILER_SIZE : 0);
  if (len < total) {
    *consumed = total;
    return CNV_EFRAME_TRUNCATED;
  }
  if (total != body && !checksum_ok(h, body)) return CNV_EFRAME_CHECKSUM;
  fill_frame(out, h, w0);
  *consumed = total;
  return CNV_OK;
}

/* A whole, well-formed frame without trailer decodes in a leaf function; anything else
 * (partial input, errors, trailers, bad arguments) goes to decode_general. */
cnv_status cnv_frame_decode(const cnv_frame_config *cfg, const void *buf, size_t len,
                            cnv_frame *out, size_t *consumed) {
  if (cfg && out && consumed && buf && len >= CNV_FRAME_HEADER_SIZE && cnv__frame_config_ok(cfg)) {
    const uint8_t *h = buf;
    uint64_t w0 = cnv__le64(h);
    size_t total = CNV_FRAME_HEADER_SIZE + (size_t)(w0 >> 32);
    if (header_fast_ok(cfg, w0) && !(w0 & ((uint64_t)CNV_FRAME_FLAG_CHECKSUM << 16)) &&
        len >= total) {
      fill_frame(out, h, w0);
      *consumed = total;
      return CNV_OK;
    }
  }
  return decode_general(cfg, buf, len, out, consumed);
}
