/* Negotiation: highest shared version within a major, feature intersection (implemented bits
 * only: reserved and unknown bits are carried in offers, never agreed), smaller limits, first
 * shared compression by local preference, coded failures; payload codecs round-trip and
 * reject every malformed length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/protocol.h>

#include "cnv_test_util.h"

static cnv_capabilities caps(void) {
  cnv_capabilities c;
  memset(&c, 0, sizeof c);
  c.versions[0] = (cnv_proto_version){1, 2, 0};
  c.versions[1] = (cnv_proto_version){2, 0, 5};
  c.n_versions = 2;
  c.compression[0] = CNV_COMPRESS_ZSTD;
  c.compression[1] = CNV_COMPRESS_LZ4;
  c.compression[2] = CNV_COMPRESS_NONE;
  c.n_compression = 3;
  c.features = CNV_FEAT_STREAMING | CNV_FEAT_TRACING | CNV_FEAT_TELEMETRY;
  c.max_message_size = 1 << 20;
  c.max_concurrent_calls = 64;
  return c;
}

static void test_negotiate_picks_best(void **state) {
  (void)state;
  cnv_capabilities a = caps(), b = caps();
  b.versions[0] = (cnv_proto_version){1, 9, 9};
  b.versions[1] = (cnv_proto_version){2, 0, 3};
  b.n_versions = 2;
  b.compression[0] = CNV_COMPRESS_NONE;
  b.compression[1] = CNV_COMPRESS_LZ4;
  b.n_compression = 2;
  b.features = CNV_FEAT_TRACING | CNV_FEAT_TELEMETRY | CNV_FEAT_SIMD | (UINT32_C(1) << 20);
  b.max_message_size = 4096;
  b.max_concurrent_calls = 128;
  b.checksum = 1;
  cnv_negotiated n;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_OK);
  assert_int_equal(n.version.major, 2);
  assert_int_equal(n.version.minor, 0);
  assert_int_equal(n.version.patch, 3);
  assert_int_equal(n.features, CNV_FEAT_TRACING | CNV_FEAT_TELEMETRY);
  assert_int_equal(n.max_message_size, 4096);
  assert_int_equal(n.max_concurrent_calls, 64);
  assert_int_equal(n.compression, CNV_COMPRESS_LZ4);
  assert_int_equal(n.checksum, 1);
  assert_int_equal(cnv_negotiated_check(&a, &n), CNV_OK);
  assert_int_equal(cnv_negotiated_check(&b, &n), CNV_OK);
  assert_int_equal(cnv_negotiate(&b, &a, &n), CNV_OK);
  assert_int_equal(n.compression, CNV_COMPRESS_NONE);
}

static void test_negotiate_failures(void **state) {
  (void)state;
  cnv_capabilities a = caps(), b = caps();
  cnv_negotiated n;
  b.versions[0] = (cnv_proto_version){3, 0, 0};
  b.n_versions = 1;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_NO_COMMON_VERSION);
  b = caps();
  a.compression[0] = CNV_COMPRESS_ZSTD;
  a.n_compression = 1;
  b.compression[0] = CNV_COMPRESS_LZ4;
  b.n_compression = 1;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_NO_COMMON_COMPRESSION);
  b = caps();
  b.n_versions = 0;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_VERSION_LIST);
  b.n_versions = 9;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_VERSION_LIST);
  b = caps();
  b.compression[1] = CNV_COMPRESS_ZSTD;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_COMPRESSION_LIST);
  b.compression[1] = 7;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_COMPRESSION_LIST);
  b = caps();
  b.max_message_size = 0;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_LIMIT);
  b.max_message_size = CNV_FRAME_MAX_PAYLOAD + 1;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_LIMIT);
  b = caps();
  b.max_concurrent_calls = 0;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_EPROTO_LIMIT);
  assert_int_equal(cnv_negotiate(NULL, &b, &n), CNV_EINVAL);
}

static void test_negotiated_check_rejects_widening(void **state) {
  (void)state;
  cnv_capabilities a = caps();
  cnv_negotiated n;
  assert_int_equal(cnv_negotiate(&a, &a, &n), CNV_OK);
  assert_int_equal(cnv_negotiated_check(&a, &n), CNV_OK);
  cnv_negotiated w = n;
  w.version.minor = 7;
  assert_int_equal(cnv_negotiated_check(&a, &w), CNV_EPROTO_REJECTED);
  w = n;
  w.features |= CNV_FEAT_POLICY;
  assert_int_equal(cnv_negotiated_check(&a, &w), CNV_EPROTO_REJECTED);
  w = n;
  w.max_message_size++;
  assert_int_equal(cnv_negotiated_check(&a, &w), CNV_EPROTO_REJECTED);
  a.checksum = 1;
  assert_int_equal(cnv_negotiated_check(&a, &n), CNV_EPROTO_REJECTED);
}

/* Reserved bits keep their values, and no negotiation agrees to one. */
static void test_feature_bits_implemented_only(void **state) {
  (void)state;
  assert_int_equal(CNV_FEAT_IMPLEMENTED, CNV_FEAT_TRACING | CNV_FEAT_DELEGATION | CNV_FEAT_SIMD | CNV_FEAT_PHASES |
                                             CNV_FEAT_ASYNC_RUNTIME | CNV_FEAT_TELEMETRY);
  assert_int_equal(CNV_FEAT_RESERVED, CNV_FEAT_STREAMING | CNV_FEAT_CERTIFICATES | CNV_FEAT_POLICY |
                                          CNV_FEAT_COMPOSITION | CNV_FEAT_VERIFICATION);
  assert_int_equal(CNV_FEAT_IMPLEMENTED & CNV_FEAT_RESERVED, 0);
  assert_int_equal(CNV_FEAT_IMPLEMENTED | CNV_FEAT_RESERVED, CNV_FEAT_ALL);
  /* The wire values never move (docs/wire-format.md). */
  assert_int_equal(CNV_FEAT_STREAMING, 1u << 0);
  assert_int_equal(CNV_FEAT_CERTIFICATES, 1u << 2);
  assert_int_equal(CNV_FEAT_POLICY, 1u << 4);
  assert_int_equal(CNV_FEAT_COMPOSITION, 1u << 5);
  assert_int_equal(CNV_FEAT_VERIFICATION, 1u << 9);
  assert_int_equal(CNV_FEAT_ALL, 0x7FFu);
  assert_int_equal(CNV_FEAT_IMPLEMENTED, 0x5CAu); /* the value docs/wire-format.md gives */

  /* Both sides offer every assigned bit and some unknown ones: only implemented bits agree. */
  cnv_capabilities a = caps(), b = caps();
  a.features = CNV_FEAT_ALL | (UINT32_C(1) << 20);
  b.features = UINT32_MAX;
  cnv_negotiated n;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_OK);
  assert_int_equal(n.features, CNV_FEAT_IMPLEMENTED);
  assert_int_equal(cnv_negotiated_check(&a, &n), CNV_OK);
  /* One reserved bit alone, offered by both: nothing agreed, and no error. */
  a.features = b.features = CNV_FEAT_STREAMING;
  assert_int_equal(cnv_negotiate(&a, &b, &n), CNV_OK);
  assert_int_equal(n.features, 0);

  /* A result naming a reserved bit is refused even by a side that offered it. */
  a.features = CNV_FEAT_ALL;
  assert_int_equal(cnv_negotiate(&a, &a, &n), CNV_OK);
  for (uint32_t bit = 0; bit < 32; bit++) {
    cnv_negotiated w = n;
    w.features |= UINT32_C(1) << bit;
    bool implemented = (CNV_FEAT_IMPLEMENTED >> bit) & 1;
    assert_int_equal(cnv_negotiated_check(&a, &w), implemented ? CNV_OK : CNV_EPROTO_REJECTED);
    /* ... and its payload is malformed: no negotiation could have produced it. */
    uint8_t buf[CNV_NEGOTIATED_ENCODED];
    size_t len = 0;
    cnv_negotiated back;
    assert_int_equal(cnv_negotiated_encode(&w, buf, sizeof buf, &len), CNV_OK);
    assert_int_equal(cnv_negotiated_decode(buf, len, &back), implemented ? CNV_OK : CNV_EPROTO_MALFORMED);
  }

  /* Offers carry reserved and unknown bits unchanged (a newer peer's offer round-trips). */
  uint8_t cbuf[CNV_CAPS_MAX_ENCODED];
  size_t clen = 0;
  cnv_capabilities d;
  a.features = CNV_FEAT_RESERVED | (UINT32_C(1) << 31);
  assert_int_equal(cnv_capabilities_check(&a), CNV_OK);
  assert_int_equal(cnv_capabilities_encode(&a, cbuf, sizeof cbuf, &clen), CNV_OK);
  assert_int_equal(cnv_capabilities_decode(cbuf, clen, &d), CNV_OK);
  assert_int_equal(d.features, a.features);
}

static void test_caps_codec_round_trip(void **state) {
  (void)state;
  uint64_t rng = 7;
  uint8_t buf[CNV_CAPS_MAX_ENCODED];
  for (int it = 0; it < 2000; it++) {
    cnv_capabilities c = caps(), d;
    memset(c.versions, 0, sizeof c.versions);
    c.n_versions = (uint8_t)(1 + cnv_test_rand(&rng) % CNV_PROTO_MAX_VERSIONS);
    for (unsigned i = 0; i < c.n_versions; i++)
      c.versions[i] =
          (cnv_proto_version){(uint16_t)cnv_test_rand(&rng), (uint16_t)cnv_test_rand(&rng),
                              (uint16_t)cnv_test_rand(&rng)};
    c.n_compression = (uint8_t)(1 + cnv_test_rand(&rng) % 3);
    for (unsigned i = c.n_compression; i < CNV_PROTO_MAX_COMPRESSIONS; i++) c.compression[i] = 0;
    c.features = (uint32_t)cnv_test_rand(&rng);
    c.checksum = (uint8_t)(cnv_test_rand(&rng) & 1);
    size_t n = 0;
    assert_int_equal(cnv_capabilities_encode(&c, buf, sizeof buf, &n), CNV_OK);
    assert_int_equal(cnv_capabilities_decode(buf, n, &d), CNV_OK);
    assert_memory_equal(&c, &d, sizeof c);
    assert_int_equal(cnv_capabilities_decode(buf, n - 1, &d), CNV_EPROTO_MALFORMED);
    assert_int_equal(cnv_capabilities_encode(&c, buf, n - 1, &n), CNV_ERANGE);
  }
}

static void test_negotiated_codec_round_trip(void **state) {
  (void)state;
  cnv_capabilities a = caps();
  cnv_negotiated n, m;
  uint8_t buf[CNV_NEGOTIATED_ENCODED + 1];
  size_t len = 0;
  assert_int_equal(cnv_negotiate(&a, &a, &n), CNV_OK);
  assert_int_equal(cnv_negotiated_encode(&n, buf, sizeof buf, &len), CNV_OK);
  assert_int_equal(len, CNV_NEGOTIATED_ENCODED);
  assert_int_equal(cnv_negotiated_decode(buf, len, &m), CNV_OK);
  assert_memory_equal(&n, &m, sizeof n);
  assert_int_equal(cnv_negotiated_decode(buf, len + 1, &m), CNV_EPROTO_MALFORMED);
  buf[18] = 3;
  assert_int_equal(cnv_negotiated_decode(buf, len, &m), CNV_EPROTO_MALFORMED);
  assert_int_equal(cnv_negotiated_encode(&n, buf, len - 1, &len), CNV_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_negotiate_picks_best),
      cmocka_unit_test(test_negotiate_failures),
      cmocka_unit_test(test_negotiated_check_rejects_widening),
      cmocka_unit_test(test_feature_bits_implemented_only),
      cmocka_unit_test(test_caps_codec_round_trip),
      cmocka_unit_test(test_negotiated_codec_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
