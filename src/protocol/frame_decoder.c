/* Incremental frame decoder: accepts a byte stream in any split. A frame wholly inside one
 * fed chunk is decoded in place; a split frame is reassembled in the caller's buffer. */
#include <string.h>

#include "frame.h"

cnv_status cnv_frame_decoder_buffer_size(const cnv_frame_config *cfg, size_t *out) {
  if (!cnv__frame_config_ok(cfg) || !out) return CNV_EINVAL;
  *out = CNV_FRAME_HEADER_SIZE + (size_t)cfg->max_payload + CNV_FRAME_TRAILER_SIZE;
  return CNV_OK;
}

cnv_status cnv_frame_decoder_init(cnv_frame_decoder *dec, const cnv_frame_config *cfg, void *buf,
                                  size_t cap) {
  size_t need = 0;
  if (!dec || !buf || cnv_frame_decoder_buffer_size(cfg, &need) != CNV_OK) return CNV_EINVAL;
  if (cap < need) return CNV_ERANGE;
  dec->cfg = *cfg;
  dec->buf = buf;
  dec->cap = cap;
  dec->have = 0;
  dec->error = CNV_OK;
  return CNV_OK;
}

void cnv_frame_decoder_reset(cnv_frame_decoder *dec) {
  if (!dec) return;
  dec->have = 0;
  dec->error = CNV_OK;
}

static cnv_status stick(cnv_frame_decoder *dec, cnv_status st) {
  dec->error = st;
  return st;
}

/* Tops up the reassembly buffer one step at a time until a frame is whole or data runs out. */
static cnv_status feed_buffered(cnv_frame_decoder *dec, const uint8_t *data, size_t len,
                                size_t *used, cnv_frame *frame) {
  for (;;) {
    size_t target = 0;
    cnv_status st = cnv_frame_decode(&dec->cfg, dec->buf, dec->have, frame, &target);
    if (st == CNV_OK) {
      dec->have = 0;
      return CNV_OK;
    }
    if (st != CNV_EFRAME_TRUNCATED) return stick(dec, st);
    size_t take = target - dec->have;
    if (take > len - *used) take = len - *used;
    if (take == 0) return CNV_EAGAIN;
    memcpy(dec->buf + dec->have, data + *used, take);
    dec->have += take;
    *used += take;
  }
}

cnv_status cnv_frame_decoder_feed(cnv_frame_decoder *dec, const void *data, size_t len,
                                  size_t *consumed, cnv_frame *frame) {
  if (!dec || !consumed || !frame || (!data && len)) return CNV_EINVAL;
  *consumed = 0;
  if (dec->error != CNV_OK) return dec->error;
  if (len == 0) return CNV_EAGAIN;
  if (dec->have == 0) {
    cnv_status st = cnv_frame_decode(&dec->cfg, data, len, frame, consumed);
    if (st == CNV_OK) return CNV_OK;
    *consumed = 0;
    if (st != CNV_EFRAME_TRUNCATED) return stick(dec, st);
  }
  return feed_buffered(dec, data, len, consumed, frame);
}
