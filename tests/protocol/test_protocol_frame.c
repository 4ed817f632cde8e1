/* Frames: decode(encode(x)) == x for every type and configuration, compression really shrinks
 * compressible payloads, the incremental decoder yields the same frames for every split point
 * of a multi-frame stream, and every kind of bad input gets its own code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include <cnv/protocol.h>

#include "cnv_test_util.h"

#define MAXP 8192u

static void fill(uint8_t *p, size_t n, uint64_t seed, bool compressible) {
  for (size_t i = 0; i < n; i++)
    p[i] =
        compressible ? (uint8_t)("swarm agent invocation "[i % 23]) : (uint8_t)cnv_test_rand(&seed);
}

static void round_trip(const cnv_frame_config *cfg, uint8_t type, const uint8_t *payload, size_t n,
                       size_t *wire_len) {
  static uint8_t wire[MAXP + 64], scratch[MAXP];
  size_t written = 0, used = 0, bound = 0, len = 0;
  cnv_frame f;
  const uint8_t *data;
  assert_int_equal(cnv_frame_encoded_bound(cfg, n, &bound), CNV_OK);
  assert_int_equal(
      cnv_frame_encode(cfg, type, 0x1122334455667788ull + n, payload, n, wire, bound, &written),
      CNV_OK);
  assert_true(written <= bound);
  assert_int_equal(cnv_frame_decode(cfg, wire, written, &f, &used), CNV_OK);
  assert_int_equal(used, written);
  assert_int_equal(f.type, type);
  assert_int_equal(f.correlation_id, 0x1122334455667788ull + n);
  assert_true(f.payload >= wire && f.payload + f.payload_len <= wire + written);
  assert_int_equal(cnv_frame_open(cfg, &f, scratch, sizeof scratch, &data, &len), CNV_OK);
  assert_int_equal(len, n);
  if (n) assert_memory_equal(data, payload, n);
  *wire_len = written;
}

static void test_round_trip_all_configs(void **state) {
  (void)state;
  static uint8_t payload[MAXP];
  static const size_t sizes[] = {0, 1, 5, 6, 64, 1000, 4096, MAXP};
  for (uint8_t comp = 0; comp <= CNV_COMPRESS_ZSTD; comp++) {
    for (uint8_t ck = 0; ck <= 1; ck++) {
      cnv_frame_config cfg = {MAXP, comp, ck};
      for (uint8_t type = CNV_MSG_CAPABILITIES; type <= CNV_MSG_SHUTDOWN; type++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
          size_t wire;
          fill(payload, sizes[s], type + s, s % 2);
          round_trip(&cfg, type, payload, sizes[s], &wire);
        }
      }
    }
  }
}

static void test_compression_shrinks(void **state) {
  (void)state;
  static uint8_t payload[4096];
  fill(payload, sizeof payload, 1, true);
  for (uint8_t comp = CNV_COMPRESS_LZ4; comp <= CNV_COMPRESS_ZSTD; comp++) {
    cnv_frame_config cfg = {MAXP, comp, 0};
    size_t wire;
    round_trip(&cfg, CNV_MSG_INVOCATION, payload, sizeof payload, &wire);
    assert_true(wire < CNV_FRAME_HEADER_SIZE + sizeof payload / 4);
  }
  /* random bytes do not shrink: sent plain, never larger than the bound */
  fill(payload, sizeof payload, 9, false);
  cnv_frame_config cfg = {MAXP, CNV_COMPRESS_LZ4, 0};
  size_t wire;
  round_trip(&cfg, CNV_MSG_INVOCATION, payload, sizeof payload, &wire);
  assert_int_equal(wire, CNV_FRAME_HEADER_SIZE + sizeof payload);
}

/* A stream of frames of assorted sizes, types and compressions, all under one config. */
static size_t make_stream(const cnv_frame_config *cfg, uint8_t *out, size_t cap, size_t *ends,
                          int n) {
  uint8_t payload[700];
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    size_t len = (size_t)(i * 97) % sizeof payload, w = 0;
    fill(payload, len, (uint64_t)i, i % 2);
    cnv_frame_config c = *cfg;
    c.compression = (uint8_t)(i % 3);
    assert_int_equal(cnv_frame_encode(&c, (uint8_t)(1 + i % 8), (uint64_t)i, payload, len, out + at,
                                      cap - at, &w),
                     CNV_OK);
    at += w;
    ends[i] = at;
  }
  return at;
}

/* Feeds stream in the given chunks; checks each frame's bytes equal the stream's frame. */
static void feed_chunks(const cnv_frame_config *cfg, const uint8_t *stream, size_t total,
                        const size_t *ends, int nframes, const size_t *cuts, int ncuts) {
  static uint8_t buf[CNV_FRAME_HEADER_SIZE + 1024 + CNV_FRAME_TRAILER_SIZE];
  cnv_frame_decoder dec;
  assert_int_equal(cnv_frame_decoder_init(&dec, cfg, buf, sizeof buf), CNV_OK);
  int got = 0;
  size_t prev = 0;
  for (int c = 0; c <= ncuts; c++) {
    size_t end = c < ncuts ? cuts[c] : total;
    while (prev < end) {
      size_t used = 0;
      cnv_frame f;
      cnv_status st = cnv_frame_decoder_feed(&dec, stream + prev, end - prev, &used, &f);
      prev += used;
      if (st == CNV_EAGAIN) {
        assert_int_equal(prev, end);
        break;
      }
      assert_int_equal(st, CNV_OK);
      assert_true(got < nframes);
      size_t start = got ? ends[got - 1] : 0;
      assert_int_equal(f.correlation_id, (uint64_t)got);
      assert_int_equal(f.type, 1 + got % 8);
      assert_memory_equal(f.payload, stream + start + CNV_FRAME_HEADER_SIZE, f.payload_len);
      got++;
    }
  }
  assert_int_equal(got, nframes);
  assert_int_equal(dec.have, 0);
}

static void test_incremental_every_split(void **state) {
  (void)state;
  static uint8_t stream[8 * 1024];
  size_t ends[8];
  cnv_frame_config cfg = {1024, CNV_COMPRESS_NONE, 1};
  size_t total = make_stream(&cfg, stream, sizeof stream, ends, 8);
  for (size_t s = 0; s <= total; s++) feed_chunks(&cfg, stream, total, ends, 8, &s, 1);
  for (size_t s = 0; s + 7 <= total; s += 7) {
    size_t cuts[2] = {s, s + 7};
    feed_chunks(&cfg, stream, total, ends, 8, cuts, 2);
  }
  size_t *bytewise = malloc(total * sizeof *bytewise);
  assert_non_null(bytewise);
  for (size_t i = 0; i < total; i++) bytewise[i] = i;
  feed_chunks(&cfg, stream, total, ends, 8, bytewise, (int)total);
  free(bytewise);
}

/* The byte layout of docs/wire-format.md, example included. */
static void test_header_layout(void **state) {
  (void)state;
  cnv_frame_config cfg = {100, CNV_COMPRESS_NONE, 1};
  uint8_t out[64];
  size_t w = 0;
  static const uint8_t want[20] = {0xCB, 0x14, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'p', 'i', 'n', 'g'};
  assert_int_equal(cnv_frame_encode(&cfg, CNV_MSG_INVOCATION, 5, "ping", 4, out, sizeof out, &w),
                   CNV_OK);
  assert_int_equal(w, 28);
  assert_memory_equal(out, want, sizeof want);
  uint64_t sum = XXH3_64bits(want, sizeof want);
  for (int i = 0; i < 8; i++) assert_int_equal(out[20 + i], (uint8_t)(sum >> (8 * i)));
}

static uint8_t good_frame[64];
static size_t good_len;

static void make_good(const cnv_frame_config *cfg) {
  assert_int_equal(cnv_frame_encode(cfg, CNV_MSG_HEARTBEAT, 5, "ping-pong", 9, good_frame,
                                    sizeof good_frame, &good_len),
                   CNV_OK);
}

static cnv_status decode_mutated(const cnv_frame_config *cfg, size_t at, uint8_t value,
                                 size_t len) {
  uint8_t copy[64];
  memcpy(copy, good_frame, good_len);
  copy[at] = value;
  cnv_frame f;
  size_t used;
  return cnv_frame_decode(cfg, copy, len, &f, &used);
}

static void test_decode_errors(void **state) {
  (void)state;
  cnv_frame_config ck = {100, CNV_COMPRESS_NONE, 1};
  make_good(&ck);
  assert_int_equal(decode_mutated(&ck, 0, 0xCA, 1), CNV_EFRAME_MAGIC);
  assert_int_equal(decode_mutated(&ck, 1, 0x26, 2), CNV_EFRAME_VERSION);
  assert_int_equal(decode_mutated(&ck, 1, 0x10, 2), CNV_EFRAME_TYPE);
  assert_int_equal(decode_mutated(&ck, 1, 0x19, 2), CNV_EFRAME_TYPE);
  assert_int_equal(decode_mutated(&ck, 2, 0x09, 4), CNV_EFRAME_FLAGS);
  assert_int_equal(decode_mutated(&ck, 2, 0x07, 4), CNV_EFRAME_FLAGS);
  assert_int_equal(decode_mutated(&ck, 2, 0x00, 4), CNV_EFRAME_NO_CHECKSUM);
  assert_int_equal(decode_mutated(&ck, 5, 0x01, 8), CNV_EFRAME_OVERSIZE);
  assert_int_equal(decode_mutated(&ck, 17, 'X', good_len), CNV_EFRAME_CHECKSUM);
  assert_int_equal(decode_mutated(&ck, good_len - 1, 0, good_len), CNV_EFRAME_CHECKSUM);
  assert_int_equal(decode_mutated(&ck, 0, CNV_FRAME_MAGIC, good_len - 1), CNV_EFRAME_TRUNCATED);
  assert_int_equal(decode_mutated(&ck, 0, CNV_FRAME_MAGIC, 3), CNV_EFRAME_TRUNCATED);
  cnv_frame f;
  size_t used;
  assert_int_equal(cnv_frame_decode(&ck, good_frame, good_len, &f, &used), CNV_OK);
  assert_int_equal(cnv_frame_decode(&ck, good_frame, 20, &f, &used), CNV_EFRAME_TRUNCATED);
  assert_int_equal(used, good_len);
  assert_int_equal(cnv_frame_decode(&ck, NULL, 0, &f, &used), CNV_EFRAME_TRUNCATED);
  assert_int_equal(cnv_frame_decode(NULL, good_frame, good_len, &f, &used), CNV_EINVAL);
}

static void test_decoder_errors_are_sticky(void **state) {
  (void)state;
  cnv_frame_config cfg = {100, CNV_COMPRESS_NONE, 1};
  make_good(&cfg);
  static uint8_t buf[256];
  cnv_frame_decoder dec;
  assert_int_equal(cnv_frame_decoder_init(&dec, &cfg, buf, 16), CNV_ERANGE);
  assert_int_equal(cnv_frame_decoder_init(&dec, &cfg, buf, sizeof buf), CNV_OK);
  cnv_frame f;
  size_t used;
  assert_int_equal(cnv_frame_decoder_feed(&dec, good_frame, 3, &used, &f), CNV_EAGAIN);
  assert_int_equal(cnv_frame_decoder_feed(&dec, "\xff", 1, &used, &f), CNV_EFRAME_FLAGS);
  assert_int_equal(cnv_frame_decoder_feed(&dec, good_frame, good_len, &used, &f), CNV_EFRAME_FLAGS);
  assert_int_equal(used, 0);
  cnv_frame_decoder_reset(&dec);
  assert_int_equal(cnv_frame_decoder_feed(&dec, "garbage", 7, &used, &f), CNV_EFRAME_MAGIC);
  cnv_frame_decoder_reset(&dec);
  assert_int_equal(cnv_frame_decoder_feed(&dec, good_frame, good_len, &used, &f), CNV_OK);
  assert_int_equal(used, good_len);
}

static void test_encode_errors(void **state) {
  (void)state;
  cnv_frame_config cfg = {16, CNV_COMPRESS_NONE, 0}, bad = {0, 0, 0};
  uint8_t out[64], p[32] = {0};
  size_t w;
  assert_int_equal(cnv_frame_encode(&cfg, 0, 1, p, 4, out, sizeof out, &w), CNV_EFRAME_TYPE);
  assert_int_equal(cnv_frame_encode(&cfg, 9, 1, p, 4, out, sizeof out, &w), CNV_EFRAME_TYPE);
  assert_int_equal(cnv_frame_encode(&cfg, 4, 1, p, 17, out, sizeof out, &w), CNV_EFRAME_OVERSIZE);
  assert_int_equal(cnv_frame_encode(&cfg, 4, 1, p, 16, out, 31, &w), CNV_ERANGE);
  assert_int_equal(cnv_frame_encode(&bad, 4, 1, p, 1, out, sizeof out, &w), CNV_EINVAL);
  assert_int_equal(cnv_frame_encoded_bound(&cfg, 17, &w), CNV_EFRAME_OVERSIZE);
}

/* Hand-made compressed frame: prefix declares `raw`, data is `data`. */
static void compressed_frame(uint8_t *wire, size_t *len, uint8_t comp, uint32_t raw,
                             const uint8_t *data, size_t n) {
  wire[0] = CNV_FRAME_MAGIC;
  wire[1] = (uint8_t)((CNV_FRAME_WIRE_VERSION << 4) | CNV_MSG_RESPONSE);
  wire[2] = (uint8_t)(comp << 1);
  wire[3] = 0;
  uint32_t plen = (uint32_t)(n + 4);
  for (int i = 0; i < 4; i++) wire[4 + i] = (uint8_t)(plen >> (8 * i));
  memset(wire + 8, 0, 8);
  for (int i = 0; i < 4; i++) wire[16 + i] = (uint8_t)(raw >> (8 * i));
  memcpy(wire + 20, data, n);
  *len = 20 + n;
}

static void test_bombs_and_corruption(void **state) {
  (void)state;
  cnv_frame_config big = {1 << 20, CNV_COMPRESS_ZSTD, 0}, small = {1000, CNV_COMPRESS_NONE, 0};
  static uint8_t zeros[1 << 20], wire[1 << 16], scratch[4096];
  size_t w, used, len;
  cnv_frame f;
  const uint8_t *data;
  /* a 1 MiB zstd frame of zeros is tiny on the wire; a peer with a 1000-byte bound refuses it */
  assert_int_equal(
      cnv_frame_encode(&big, CNV_MSG_RESPONSE, 1, zeros, sizeof zeros, wire, sizeof wire, &w),
      CNV_OK);
  assert_true(w < 1000);
  assert_int_equal(cnv_frame_decode(&small, wire, w, &f, &used), CNV_OK);
  assert_int_equal(cnv_frame_open(&small, &f, scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_BOMB);
  /* the same with the size prefix lying low: zstd's own header still says 1 MiB */
  wire[16] = 100, wire[17] = 0, wire[18] = 0, wire[19] = 0;
  assert_int_equal(cnv_frame_decode(&small, wire, w, &f, &used), CNV_OK);
  assert_int_equal(cnv_frame_open(&small, &f, scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_BOMB);
  /* LZ4 with a lying prefix: the output bound stops it */
  cnv_frame_config lz = {1 << 20, CNV_COMPRESS_LZ4, 0};
  assert_int_equal(cnv_frame_encode(&lz, CNV_MSG_RESPONSE, 1, zeros, 60000, wire, sizeof wire, &w),
                   CNV_OK);
  assert_int_equal(cnv_frame_open(&small, &(cnv_frame){wire + 16, (uint32_t)(w - 16), 2, 5, 0, 1},
                                  scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_BOMB);
  wire[16] = 100, wire[17] = 0;
  assert_int_equal(cnv_frame_decode(&small, wire, w, &f, &used), CNV_OK);
  assert_int_equal(cnv_frame_open(&small, &f, scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_DECOMPRESS);
  /* garbage compressed data, short payloads, small scratch */
  compressed_frame(wire, &w, CNV_COMPRESS_LZ4, 50, (const uint8_t *)"\xff\xff\xff", 3);
  assert_int_equal(cnv_frame_decode(&small, wire, w, &f, &used), CNV_OK);
  assert_int_equal(cnv_frame_open(&small, &f, scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_DECOMPRESS);
  assert_int_equal(cnv_frame_open(&small, &f, scratch, 10, &data, &len), CNV_ERANGE);
  compressed_frame(wire, &w, CNV_COMPRESS_ZSTD, 50, (const uint8_t *)"abcdefgh", 8);
  assert_int_equal(cnv_frame_decode(&small, wire, w, &f, &used), CNV_OK);
  assert_int_equal(cnv_frame_open(&small, &f, scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_DECOMPRESS);
  f.payload_len = 3;
  assert_int_equal(cnv_frame_open(&small, &f, scratch, sizeof scratch, &data, &len),
                   CNV_EFRAME_DECOMPRESS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_layout),
      cmocka_unit_test(test_round_trip_all_configs),
      cmocka_unit_test(test_compression_shrinks),
      cmocka_unit_test(test_incremental_every_split),
      cmocka_unit_test(test_decode_errors),
      cmocka_unit_test(test_decoder_errors_are_sticky),
      cmocka_unit_test(test_encode_errors),
      cmocka_unit_test(test_bombs_and_corruption),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
