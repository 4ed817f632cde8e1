/* Internals shared by the frame encoder, decoder and payload codecs. */
#ifndef CNV_PROTOCOL_FRAME_H
#define CNV_PROTOCOL_FRAME_H

#include <cnv/protocol.h>

/* Valid config: max_payload 1..CNV_FRAME_MAX_PAYLOAD, known compression, checksum 0/1. */
bool cnv__frame_config_ok(const cnv_frame_config *cfg);

/* Compresses src into dst (prefix + data); CNV_OK only when the result, prefix included, is
 * smaller than src_len and fits dst_cap: otherwise the caller sends the payload plain. */
cnv_status cnv__compress(uint8_t compression, const uint8_t *src, size_t src_len, uint8_t *dst,
                         size_t dst_cap, size_t *out_len);

#endif
