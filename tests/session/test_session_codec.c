/* INVOCATION and RESPONSE payload codecs: round trips, exact sizes, every truncation and the
 * malformed cases refused with CNV_ESESSION_MALFORMED, argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/session.h>

static const char trace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static void test_invoke_round_trip(void **state) {
  (void)state;
  _Static_assert(sizeof trace - 1 == CNV_SESSION_TRACEPARENT_LEN, "traceparent length");
  uint8_t buf[256];
  size_t w = 0;
  cnv_session_invoke in = {1500, trace, "demo.echo --text hi", 19}, out;
  assert_int_equal(cnv_session_invoke_encode(&in, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 5 + 55 + 19);
  assert_int_equal(cnv_session_invoke_decode(buf, w, &out), CNV_OK);
  assert_int_equal(out.deadline_ms, 1500);
  assert_memory_equal(out.traceparent, trace, 55);
  assert_int_equal(out.line_len, 19);
  assert_memory_equal(out.line, "demo.echo --text hi", 19);
  assert_ptr_equal(out.line, (const char *)buf + 60); /* zero-copy */
  /* without a traceparent, and an empty line */
  cnv_session_invoke bare = {0, NULL, "x", 1};
  assert_int_equal(cnv_session_invoke_encode(&bare, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 6);
  assert_int_equal(cnv_session_invoke_decode(buf, w, &out), CNV_OK);
  assert_null(out.traceparent);
  assert_int_equal(out.line_len, 1);
  cnv_session_invoke empty = {0, NULL, NULL, 0};
  assert_int_equal(cnv_session_invoke_encode(&empty, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_session_invoke_decode(buf, w, &out), CNV_OK);
  assert_int_equal(out.line_len, 0);
}

static void test_invoke_errors(void **state) {
  (void)state;
  uint8_t buf[256];
  size_t w = 0;
  cnv_session_invoke in = {1, trace, "demo.echo", 9}, out;
  /* cap one short: nothing written */
  memset(buf, 0xEE, sizeof buf);
  assert_int_equal(cnv_session_invoke_encode(&in, buf, 5 + 55 + 8, &w), CNV_ERANGE);
  assert_int_equal(buf[0], 0xEE);
  assert_int_equal(cnv_session_invoke_encode(NULL, buf, sizeof buf, &w), CNV_EINVAL);
  cnv_session_invoke bad = {1, NULL, NULL, 3};
  assert_int_equal(cnv_session_invoke_encode(&bad, buf, sizeof buf, &w), CNV_EINVAL);
  char t[56];
  memcpy(t, trace, sizeof t);
  t[10] = 'G'; /* not lowercase hex */
  bad = (cnv_session_invoke){1, t, "x", 1};
  assert_int_equal(cnv_session_invoke_encode(&bad, buf, sizeof buf, &w), CNV_EINVAL);
  /* all-zero trace id */
  memcpy(t, "00-00000000000000000000000000000000-00f067aa0ba902b7-01", 56);
  assert_int_equal(cnv_session_invoke_encode(&bad, buf, sizeof buf, &w), CNV_EINVAL);
  /* decode: every length short of the fixed part and the traceparent */
  assert_int_equal(cnv_session_invoke_encode(&in, buf, sizeof buf, &w), CNV_OK);
  for (size_t n = 0; n < 60; n++) assert_int_equal(cnv_session_invoke_decode(buf, n, &out), CNV_ESESSION_MALFORMED);
  assert_int_equal(cnv_session_invoke_decode(buf, 60, &out), CNV_OK); /* empty line */
  buf[4] = 0x03;                                                      /* unknown flag bit */
  assert_int_equal(cnv_session_invoke_decode(buf, w, &out), CNV_ESESSION_MALFORMED);
  buf[4] = 0x01;
  buf[5 + 2] = '+'; /* a dash replaced */
  assert_int_equal(cnv_session_invoke_decode(buf, w, &out), CNV_ESESSION_MALFORMED);
  assert_int_equal(cnv_session_invoke_decode(NULL, 4, &out), CNV_EINVAL);
  assert_int_equal(cnv_session_invoke_decode(buf, w, NULL), CNV_EINVAL);
}

static void test_response_round_trip(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t w = 0;
  cnv_session_response in = {-1234, 2, 1, (const uint8_t *)"result", 6}, out;
  assert_int_equal(cnv_session_response_encode(&in, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 14);
  assert_int_equal(cnv_session_response_decode(buf, w, &out), CNV_OK);
  assert_int_equal(out.status, -1234);
  assert_int_equal(out.done, 2);
  assert_int_equal(out.result_type, 1);
  assert_int_equal(out.result_len, 6);
  assert_ptr_equal(out.result, buf + 8);
  cnv_session_response ok = {0, 1, 0, NULL, 0};
  assert_int_equal(cnv_session_response_encode(&ok, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 8);
  assert_int_equal(cnv_session_response_decode(buf, w, &out), CNV_OK);
  assert_int_equal(out.status, 0);
  assert_int_equal(out.result_len, 0);
}

static void test_response_errors(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t w = 0;
  cnv_session_response in = {-5, 1, 1, (const uint8_t *)"abc", 3}, out;
  assert_int_equal(cnv_session_response_encode(&in, buf, 10, &w), CNV_ERANGE);
  cnv_session_response pos = {5, 1, 1, NULL, 0};
  assert_int_equal(cnv_session_response_encode(&pos, buf, sizeof buf, &w), CNV_EINVAL);
  cnv_session_response nul = {-5, 1, 1, NULL, 2};
  assert_int_equal(cnv_session_response_encode(&nul, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_session_response_encode(&in, buf, sizeof buf, &w), CNV_OK);
  for (size_t n = 0; n < 8; n++) assert_int_equal(cnv_session_response_decode(buf, n, &out), CNV_ESESSION_MALFORMED);
  buf[7] = 1; /* reserved */
  assert_int_equal(cnv_session_response_decode(buf, w, &out), CNV_ESESSION_MALFORMED);
  buf[7] = 0;
  buf[0] = 1; /* a positive status */
  buf[1] = buf[2] = buf[3] = 0;
  assert_int_equal(cnv_session_response_decode(buf, w, &out), CNV_ESESSION_MALFORMED);
  assert_int_equal(cnv_session_response_decode(NULL, 3, &out), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_invoke_round_trip),
      cmocka_unit_test(test_invoke_errors),
      cmocka_unit_test(test_response_round_trip),
      cmocka_unit_test(test_response_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
