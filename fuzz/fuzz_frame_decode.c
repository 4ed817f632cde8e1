/* Fuzz frame decoding. The first input byte picks the configuration and the chunk sizes; the
 * rest is a byte stream. Properties (abort on violation): the incremental decoder, fed in
 * chunks, yields exactly the frames and the error that one-shot decoding finds; every frame's
 * payload lies inside its buffer; an uncompressed frame re-encodes to its exact bytes;
 * opened payloads survive encode -> decode -> open under every compression. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

#define MAXP 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t scratch[MAXP], wire[MAXP + 64], dec_buf[MAXP + 64], plain2[MAXP];

/* decode(encode(payload)) == payload for each compression. */
static void check_reencode(const cnv_frame_config *cfg, const cnv_frame *f, const uint8_t *p,
                           size_t n) {
  for (uint8_t comp = 0; comp <= CNV_COMPRESS_ZSTD; comp++) {
    cnv_frame_config c = *cfg;
    c.compression = comp;
    size_t w = 0, used = 0, len = 0;
    cnv_frame g;
    const uint8_t *q;
    if (cnv_frame_encode(&c, f->type, f->correlation_id, p, n, wire, sizeof wire, &w) != CNV_OK)
      abort();
    if (cnv_frame_decode(&c, wire, w, &g, &used) != CNV_OK || used != w) abort();
    if (cnv_frame_open(&c, &g, plain2, sizeof plain2, &q, &len) != CNV_OK) abort();
    if (len != n || g.type != f->type || g.correlation_id != f->correlation_id) abort();
    if (n && memcmp(q, p, n) != 0) abort();
  }
}

static void check_frame(const cnv_frame_config *cfg, const cnv_frame *f, const uint8_t *start,
                        size_t frame_len) {
  if (f->payload < start || f->payload + f->payload_len > start + frame_len) abort();
  const uint8_t *p = NULL;
  size_t n = 0;
  if (cnv_frame_open(cfg, f, scratch, sizeof scratch, &p, &n) != CNV_OK) return;
  if ((f->flags & CNV_FRAME_FLAG_COMPRESS_MASK) == 0) {
    cnv_frame_config c = *cfg;
    c.checksum = (f->flags & CNV_FRAME_FLAG_CHECKSUM) ? 1 : 0;
    size_t w = 0;
    if (cnv_frame_encode(&c, f->type, f->correlation_id, p, n, wire, sizeof wire, &w) != CNV_OK)
      abort();
    if (w != frame_len || memcmp(wire, start, w) != 0) abort();
  }
  cnv_frame_config c = *cfg;
  c.checksum = 0;
  check_reencode(&c, f, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  cnv_frame_config cfg = {(data[0] & 2) ? MAXP : 64u, CNV_COMPRESS_NONE, data[0] & 1};
  size_t chunk = 1 + (data[0] >> 2);
  const uint8_t *s = data + 1;
  size_t len = size - 1, off = 0, in = 0;
  cnv_frame_decoder dec;
  if (cnv_frame_decoder_init(&dec, &cfg, dec_buf, sizeof dec_buf) != CNV_OK) abort();
  for (;;) {
    cnv_frame f, g;
    size_t used = 0;
    cnv_status st = cnv_frame_decode(&cfg, s + off, len - off, &f, &used);
    if (st == CNV_OK) check_frame(&cfg, &f, s + off, used);
    cnv_status ist = CNV_EAGAIN;
    while (ist == CNV_EAGAIN && in < len) {
      size_t take = len - in < chunk ? len - in : chunk, u = 0;
      ist = cnv_frame_decoder_feed(&dec, s + in, take, &u, &g);
      in += u;
    }
    if (st == CNV_EFRAME_TRUNCATED) {
      if (ist != CNV_EAGAIN || in != len) abort();
      break;
    }
    if (st != ist) abort();
    if (st != CNV_OK) break;
    if (g.type != f.type || g.correlation_id != f.correlation_id || g.flags != f.flags ||
        g.payload_len != f.payload_len || memcmp(g.payload, f.payload, f.payload_len) != 0)
      abort();
    off += used;
    if (in != off) abort();
  }
  return 0;
}
