/* INVOCATION and RESPONSE payload codecs (docs/session.md "Payloads"): pure, allocation-free,
 * the decoders zero-copy. */
#include "session_internal.h"

#define INVOKE_FIXED 5u         /* deadline_ms u32, flags u8 */
#define INVOKE_FLAG_TRACE 0x01u /* a traceparent follows the fixed part */
#define RESPONSE_FIXED 8u       /* status i32, done u8, result_type u8, reserved u16 */

static bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* W3C traceparent, version 00: "00-" 32 hex "-" 16 hex "-" 2 hex, lowercase; the trace id and
 * the parent id not all zeros. */
static bool traceparent_ok(const char *t) {
  static const uint8_t dash[] = {2, 35, 52};
  bool zero_trace = true, zero_parent = true;
  if (t[0] != '0' || t[1] != '0') return false;
  for (size_t i = 0; i < CNV_SESSION_TRACEPARENT_LEN; i++) {
    bool want_dash = i == dash[0] || i == dash[1] || i == dash[2];
    if (want_dash ? t[i] != '-' : !is_lower_hex(t[i])) return false;
    if (i > 2 && i < 35 && t[i] != '0') zero_trace = false;
    if (i > 35 && i < 52 && t[i] != '0') zero_parent = false;
  }
  return !zero_trace && !zero_parent;
}

cnv_status cnv_session_invoke_encode(const cnv_session_invoke *in, void *out, size_t cap, size_t *written) {
  if (!in || !out || !written || (!in->line && in->line_len)) return CNV_EINVAL;
  if (in->traceparent && !traceparent_ok(in->traceparent)) return CNV_EINVAL;
  size_t trace = in->traceparent ? CNV_SESSION_TRACEPARENT_LEN : 0;
  if (in->line_len > SIZE_MAX - INVOKE_FIXED - trace) return CNV_ERANGE;
  size_t need = INVOKE_FIXED + trace + in->line_len;
  if (cap < need) return CNV_ERANGE;
  uint8_t *o = out;
  cnv__sess_put32(o, in->deadline_ms);
  o[4] = in->traceparent ? INVOKE_FLAG_TRACE : 0;
  if (trace) memcpy(o + INVOKE_FIXED, in->traceparent, trace);
  if (in->line_len) memcpy(o + INVOKE_FIXED + trace, in->line, in->line_len);
  *written = need;
  return CNV_OK;
}

cnv_status cnv_session_invoke_decode(const void *in, size_t len, cnv_session_invoke *out) {
  if (!out || (!in && len)) return CNV_EINVAL;
  const uint8_t *p = in;
  if (len < INVOKE_FIXED || (p[4] & ~INVOKE_FLAG_TRACE)) return CNV_ESESSION_MALFORMED;
  size_t trace = (p[4] & INVOKE_FLAG_TRACE) ? CNV_SESSION_TRACEPARENT_LEN : 0;
  if (len - INVOKE_FIXED < trace) return CNV_ESESSION_MALFORMED;
  const char *t = trace ? (const char *)p + INVOKE_FIXED : NULL;
  if (t && !traceparent_ok(t)) return CNV_ESESSION_MALFORMED;
  out->deadline_ms = cnv__sess_le32(p);
  out->traceparent = t;
  out->line = (const char *)p + INVOKE_FIXED + trace;
  out->line_len = len - INVOKE_FIXED - trace;
  return CNV_OK;
}

cnv_status cnv_session_response_encode(const cnv_session_response *in, void *out, size_t cap, size_t *written) {
  if (!in || !out || !written || (!in->result && in->result_len) || in->status > 0) return CNV_EINVAL;
  if (in->result_len > SIZE_MAX - RESPONSE_FIXED) return CNV_ERANGE;
  size_t need = RESPONSE_FIXED + in->result_len;
  if (cap < need) return CNV_ERANGE;
  uint8_t *o = out;
  cnv__sess_put32(o, (uint32_t)in->status);
  o[4] = in->done;
  o[5] = in->result_type;
  o[6] = o[7] = 0;
  if (in->result_len) memcpy(o + RESPONSE_FIXED, in->result, in->result_len);
  *written = need;
  return CNV_OK;
}

cnv_status cnv_session_response_decode(const void *in, size_t len, cnv_session_response *out) {
  if (!out || (!in && len)) return CNV_EINVAL;
  const uint8_t *p = in;
  if (len < RESPONSE_FIXED || p[6] || p[7]) return CNV_ESESSION_MALFORMED;
  int32_t status = (int32_t)cnv__sess_le32(p);
  if (status > 0) return CNV_ESESSION_MALFORMED;
  if ((p[4] > CNV_SESSION_DONE_MAX && p[4] != CNV_SESSION_DONE_REFUSED) || p[5] > CNV_SESSION_RESULT_TYPE_MAX)
    return CNV_ESESSION_MALFORMED;
  out->status = status;
  out->done = p[4];
  out->result_type = p[5];
  out->result = p + RESPONSE_FIXED;
  out->result_len = len - RESPONSE_FIXED;
  return CNV_OK;
}
