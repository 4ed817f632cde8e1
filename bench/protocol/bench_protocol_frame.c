/* frame_roundtrip_64 / _4k: encode + decode of one frame (no compression, no checksum: the
 * defaults before negotiation) vs the same round trip done by memcpy alone: the payload copied
 * into a send buffer and out into a receive buffer, no header, no checks. The payload size is
 * the case argument, a run-time value for both implementations. */
#include <string.h>

#include <cnv/protocol.h>

#include "cnv_bench.h"

static uint8_t payload[4096], wire[4096 + 64], recv_buf[4096];

static void roundtrip_cnv(cnv_bench_state *st) {
  size_t n = (size_t)cnv_bench_arg(st), w = 0, used = 0;
  cnv_frame_config cfg = cnv_frame_config_default();
  cnv_frame f;
  memset(payload, 'p', sizeof payload);
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < 256; i++) {
      cnv_bench_clobber();
      if (cnv_frame_encode(&cfg, CNV_MSG_INVOCATION, (uint64_t)i, payload, n, wire, sizeof wire,
                           &w) != CNV_OK ||
          cnv_frame_decode(&cfg, wire, w, &f, &used) != CNV_OK) {
        cnv_bench_skip_with_error(st, "frame round trip failed");
        return;
      }
      cnv_bench_do_not_optimize(&f);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void roundtrip_memcpy(cnv_bench_state *st) {
  size_t n = (size_t)cnv_bench_arg(st);
  memset(payload, 'p', sizeof payload);
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < 256; i++) {
      cnv_bench_clobber();
      memcpy(wire, payload, n);
      cnv_bench_clobber();
      memcpy(recv_buf, wire, n);
      cnv_bench_do_not_optimize(recv_buf);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

CNV_BENCH(roundtrip_cnv, "frame_roundtrip_64/cnv", 1, 64)
CNV_BENCH(roundtrip_memcpy, "frame_roundtrip_64/memcpy", 1, 64)
CNV_BENCH(roundtrip_cnv, "frame_roundtrip_4k/cnv", 1, 4096)
CNV_BENCH(roundtrip_memcpy, "frame_roundtrip_4k/memcpy", 1, 4096)
