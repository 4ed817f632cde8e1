/* Frame internals shared by the encoder and one-shot decoder (frame.c), the incremental
 * decoder (frame_decoder.c) and cnv_frame_open (frame_open.c). */
#ifndef CNV_PROTOCOL_FRAME_H
#define CNV_PROTOCOL_FRAME_H

#include <cnv/protocol.h>

/* Valid config: max_payload 1..CNV_FRAME_MAX_PAYLOAD, known compression, checksum 0/1. */
bool cnv__frame_config_ok(const cnv_frame_config *cfg);

#endif
