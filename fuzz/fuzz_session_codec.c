/* Fuzz the session payload codecs. Byte 0 picks INVOCATION or RESPONSE; the rest is decoded.
 * Properties (abort on violation): a decoded payload re-encodes to the same bytes, and its
 * slices lie inside the input. */
#include <stdlib.h>
#include <string.h>

#include <cnv/session.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  static uint8_t again[1u << 20];
  size_t w = 0;
  if (n > sizeof again) return 0;
  if (data[0] & 1u) {
    cnv_session_response r;
    if (cnv_session_response_decode(p, n, &r) != CNV_OK) return 0;
    if (r.result < p || r.result + r.result_len != p + n) abort();
    if (cnv_session_response_encode(&r, again, sizeof again, &w) != CNV_OK) abort();
  } else {
    cnv_session_invoke v;
    if (cnv_session_invoke_decode(p, n, &v) != CNV_OK) return 0;
    if ((const uint8_t *)v.line + v.line_len != p + n) abort();
    if (cnv_session_invoke_encode(&v, again, sizeof again, &w) != CNV_OK) abort();
  }
  if (w != n || memcmp(again, p, n) != 0) abort();
  return 0;
}
