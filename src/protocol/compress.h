/* Payload compression behind the u32 LE decompressed-size prefix (docs/wire-format.md):
 * the API of compress.c, used by the frame encoder (frame.c) and cnv_frame_open
 * (frame_open.c). Depends on nothing else in protocol. */
#ifndef CNV_PROTOCOL_COMPRESS_H
#define CNV_PROTOCOL_COMPRESS_H

#include <cnv/protocol.h>

/* Compresses src into dst (prefix + data); CNV_OK only when the result, prefix included, is
 * smaller than src_len and fits dst_cap: otherwise the caller sends the payload plain.
 * `compression` is CNV_COMPRESS_LZ4 or CNV_COMPRESS_ZSTD. */
CNV_NODISCARD cnv_status cnv__compress(uint8_t compression, const uint8_t *src, size_t src_len, uint8_t *dst,
                                       size_t dst_cap, size_t *out_len);

/* Decompresses src (prefix + data) into dst; *out_len gets the decompressed size.
 * CNV_EFRAME_DECOMPRESS (unknown compression, short or corrupt input), CNV_EFRAME_BOMB (the
 * declared size exceeds `bound`), CNV_ERANGE (it exceeds dst_cap, or dst is NULL). */
CNV_NODISCARD cnv_status cnv__decompress(unsigned compression, const uint8_t *src, size_t src_len,
                                         uint32_t bound, uint8_t *dst, size_t dst_cap, size_t *out_len);

#endif
