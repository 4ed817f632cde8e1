/* Payload compression (LZ4 block, Zstd frame) behind a u32 LE decompressed-size prefix, and
 * the bounded decompression that turns a compression bomb into an error. Knows payload bytes
 * only; the frame code (frame.c, frame_open.c) decides when to call it. */
#include <lz4.h>
#include <string.h>
#include <zstd.h>

#include "compress.h"
#include "le.h"

/* Zstd level for payloads: libzstd's default (3), a speed/ratio middle ground. */
#define CNV_ZSTD_LEVEL 3

cnv_status cnv__compress(uint8_t compression, const uint8_t *src, size_t src_len, uint8_t *dst,
                         size_t dst_cap, size_t *out_len) {
  if (src_len <= CNV_FRAME_RAW_SIZE_PREFIX + 1 || dst_cap <= CNV_FRAME_RAW_SIZE_PREFIX)
    return CNV_EFRAME_COMPRESS;
  size_t room = src_len - CNV_FRAME_RAW_SIZE_PREFIX - 1; /* strictly smaller than plain */
  if (room > dst_cap - CNV_FRAME_RAW_SIZE_PREFIX) room = dst_cap - CNV_FRAME_RAW_SIZE_PREFIX;
  uint8_t *data = dst + CNV_FRAME_RAW_SIZE_PREFIX;
  size_t n = 0;
  if (compression == CNV_COMPRESS_LZ4) {
    int r = LZ4_compress_default((const char *)src, (char *)data, (int)src_len, (int)room);
    if (r <= 0) return CNV_EFRAME_COMPRESS;
    n = (size_t)r;
  } else {
    size_t r = ZSTD_compress(data, room, src, src_len, CNV_ZSTD_LEVEL);
    if (ZSTD_isError(r)) return CNV_EFRAME_COMPRESS;
    n = r;
  }
  cnv__put32(dst, (uint32_t)src_len);
  *out_len = CNV_FRAME_RAW_SIZE_PREFIX + n;
  return CNV_OK;
}

static cnv_status lz4_open(const uint8_t *src, size_t n, uint8_t *dst, uint32_t raw) {
  int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)raw);
  return r >= 0 && (uint32_t)r == raw ? CNV_OK : CNV_EFRAME_DECOMPRESS;
}

static cnv_status zstd_open(const uint8_t *src, size_t n, uint8_t *dst, uint32_t raw,
                            uint32_t bound) {
  unsigned long long declared = ZSTD_getFrameContentSize(src, n);
  if (declared == ZSTD_CONTENTSIZE_ERROR) return CNV_EFRAME_DECOMPRESS;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > bound) return CNV_EFRAME_BOMB;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw) return CNV_EFRAME_DECOMPRESS;
  size_t r = ZSTD_decompress(dst, raw, src, n);
  return !ZSTD_isError(r) && r == raw ? CNV_OK : CNV_EFRAME_DECOMPRESS;
}

cnv_status cnv__decompress(unsigned compression, const uint8_t *src, size_t src_len,
                           uint32_t bound, uint8_t *dst, size_t dst_cap, size_t *out_len) {
  if (compression != CNV_COMPRESS_LZ4 && compression != CNV_COMPRESS_ZSTD)
    return CNV_EFRAME_DECOMPRESS;
  if (src_len < CNV_FRAME_RAW_SIZE_PREFIX) return CNV_EFRAME_DECOMPRESS;
  uint32_t raw = cnv__le32(src);
  if (raw > bound) return CNV_EFRAME_BOMB;
  if (raw > dst_cap || (!dst && raw)) return CNV_ERANGE;
  const uint8_t *data = src + CNV_FRAME_RAW_SIZE_PREFIX;
  size_t n = src_len - CNV_FRAME_RAW_SIZE_PREFIX;
  cnv_status st = compression == CNV_COMPRESS_LZ4 ? lz4_open(data, n, dst, raw)
                                                  : zstd_open(data, n, dst, raw, bound);
  if (st == CNV_OK) *out_len = raw;
  return st;
}
