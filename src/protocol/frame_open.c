/* cnv_frame_open: the payload of a decoded frame, decompressed into the caller's scratch
 * buffer when the frame's flags say it is compressed. */
#include "compress.h"
#include "frame.h"

cnv_status cnv_frame_open(const cnv_frame_config *cfg, const cnv_frame *frame, void *scratch,
                          size_t cap, const uint8_t **data, size_t *len) {
  if (!cnv__frame_config_ok(cfg) || !frame || !data || !len ||
      (!frame->payload && frame->payload_len))
    return CNV_EINVAL;
  unsigned comp = (frame->flags & CNV_FRAME_FLAG_COMPRESS_MASK) >> 1;
  if (comp == CNV_COMPRESS_NONE) {
    *data = frame->payload;
    *len = frame->payload_len;
    return CNV_OK;
  }
  size_t raw = 0;
  cnv_status st = cnv__decompress(comp, frame->payload, frame->payload_len, cfg->max_payload,
                                  scratch, cap, &raw);
  if (st != CNV_OK) return st;
  *data = scratch;
  *len = raw;
  return CNV_OK;
}
