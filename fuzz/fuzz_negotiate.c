/* Fuzz capabilities decoding and negotiation. Input: one length byte, then two capability
 * payloads. Properties (abort on violation): decoded payloads re-encode to the same bytes;
 * a negotiation result is acceptable to both sides, agrees only to implemented feature bits,
 * agrees on everything but compression whichever side runs it, and survives its own
 * encode -> decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool decode_exact(const uint8_t *p, size_t n, cnv_capabilities *c) {
  uint8_t again[CNV_CAPS_MAX_ENCODED];
  size_t w = 0;
  if (cnv_capabilities_decode(p, n, c) != CNV_OK) return false;
  if (cnv_capabilities_encode(c, again, sizeof again, &w) != CNV_OK) abort();
  if (w != n || memcmp(again, p, n) != 0) abort();
  return true;
}

static void check_result(const cnv_capabilities *a, const cnv_capabilities *b,
                         const cnv_negotiated *r) {
  if (cnv_negotiated_check(a, r) != CNV_OK || cnv_negotiated_check(b, r) != CNV_OK) abort();
  if ((r->features & ~CNV_FEAT_IMPLEMENTED) != 0) abort();
  cnv_negotiated back, mirror;
  uint8_t buf[CNV_NEGOTIATED_ENCODED];
  size_t w = 0;
  if (cnv_negotiated_encode(r, buf, sizeof buf, &w) != CNV_OK) abort();
  if (cnv_negotiated_decode(buf, w, &back) != CNV_OK || memcmp(&back, r, sizeof back) != 0) abort();
  if (cnv_negotiate(b, a, &mirror) != CNV_OK) abort();
  if (memcmp(&mirror.version, &r->version, sizeof r->version) != 0 ||
      mirror.features != r->features || mirror.max_message_size != r->max_message_size ||
      mirror.checksum != r->checksum || mirror.max_concurrent_calls != r->max_concurrent_calls)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t first = data[0] < size - 1 ? data[0] : size - 1;
  const uint8_t *pa = data + 1, *pb = data + 1 + first;
  size_t nb = size - 1 - first;
  cnv_negotiated direct;
  if (cnv_negotiated_decode(data + 1, size - 1, &direct) == CNV_OK) {
    uint8_t buf[CNV_NEGOTIATED_ENCODED];
    size_t w = 0;
    if (cnv_negotiated_encode(&direct, buf, sizeof buf, &w) != CNV_OK ||
        memcmp(buf, data + 1, w) != 0)
      abort();
  }
  cnv_capabilities a, b;
  bool ok_a = decode_exact(pa, first, &a), ok_b = decode_exact(pb, nb, &b);
  if (!ok_a || !ok_b) return 0;
  cnv_negotiated r;
  cnv_status st = cnv_negotiate(&a, &b, &r);
  if (st == CNV_OK) {
    check_result(&a, &b, &r);
  } else if (st != CNV_EPROTO_NO_COMMON_VERSION && st != CNV_EPROTO_NO_COMMON_COMPRESSION) {
    abort();
  }
  return 0;
}
