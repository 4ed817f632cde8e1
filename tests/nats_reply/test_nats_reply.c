/* src/nats/reply.c: the client's REPLY subject is cnv_sw_subject_session's, byte for byte, for
 * every kind of request id; the node reads back the session id from exactly that subject and
 * from nothing else (another id, another swarm, uppercase or short hex, a leading zero, a
 * wildcard, anything after it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cnv/swarmwire.h>

#include "nats/reply.h"

static const uint64_t ids[] = {1, 9, 10, 99, 100, 12345, 1000000007ull, UINT64_MAX - 1};

/* The prefixes as the client ("cnv.S.s.SID.") and the node ("cnv.S.s.") cut them. */
static void prefixes(uint64_t swarm, const uint8_t sid[CNV_SW_SID_BYTES], char *sess, size_t *sess_len, char *swp,
                     size_t *swp_len) {
  size_t n = 0;
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_ALL, swarm, sid, 0, sess, CNV_SW_SUBJECT_MAX, &n), CNV_OK);
  *sess_len = n - 1; /* without '>' */
  sess[*sess_len] = '\0';
  *swp_len = *sess_len - 2u * CNV_SW_SID_BYTES - 1u; /* without "SID." */
  memcpy(swp, sess, *swp_len);
  swp[*swp_len] = '\0';
}

static void written_as_the_mapping(void **state) {
  (void)state;
  uint8_t sid[CNV_SW_SID_BYTES];
  for (size_t i = 0; i < sizeof sid; i++) sid[i] = (uint8_t)(0xa7u * i + 0x3cu);
  const uint64_t swarms[] = {1, 42, UINT64_MAX};
  for (size_t w = 0; w < sizeof swarms / sizeof swarms[0]; w++) {
    char sess[CNV_SW_SUBJECT_MAX], swp[CNV_SW_SUBJECT_MAX];
    size_t sess_len, swp_len;
    prefixes(swarms[w], sid, sess, &sess_len, swp, &swp_len);
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
      char want[CNV_SW_SUBJECT_MAX], got[CNV_SW_SUBJECT_MAX];
      assert_int_equal(
          cnv_sw_subject_session(CNV_SW_SESS_REPLY, swarms[w], sid, ids[k], want, sizeof want, NULL), CNV_OK);
      assert_true(natsn_reply_write(sess, sess_len, ids[k], got, sizeof got));
      assert_string_equal(got, want);
      uint8_t back[CNV_SW_SID_BYTES] = {0};
      assert_true(natsn_reply_read(swp, swp_len, want, ids[k], back));
      assert_memory_equal(back, sid, sizeof sid);
    }
    char small[8];
    assert_false(natsn_reply_write(sess, sess_len, 5, small, sizeof small));
    char any[CNV_SW_SUBJECT_MAX];
    assert_false(natsn_reply_write(sess, sess_len, CNV_SW_ANY_REQUEST, any, sizeof any));
  }
}

static void read_refuses_the_rest(void **state) {
  (void)state;
  uint8_t sid[CNV_SW_SID_BYTES];
  for (size_t i = 0; i < sizeof sid; i++) sid[i] = (uint8_t)(0xabu + i);
  char sess[CNV_SW_SUBJECT_MAX], swp[CNV_SW_SUBJECT_MAX], good[CNV_SW_SUBJECT_MAX], bad[CNV_SW_SUBJECT_MAX + 8];
  size_t sess_len, swp_len;
  prefixes(7, sid, sess, &sess_len, swp, &swp_len);
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, 7, sid, 120, good, sizeof good, NULL), CNV_OK);
  uint8_t out[CNV_SW_SID_BYTES];
  assert_true(natsn_reply_read(swp, swp_len, good, 120, out));
  assert_false(natsn_reply_read(swp, swp_len, good, 12, out));   /* another request */
  assert_false(natsn_reply_read(swp, swp_len, good, 1200, out)); /* another request */
  snprintf(bad, sizeof bad, "%s0", good);                        /* a digit more */
  assert_false(natsn_reply_read(swp, swp_len, bad, 120, out));
  snprintf(bad, sizeof bad, "%s.x", good); /* a token more */
  assert_false(natsn_reply_read(swp, swp_len, bad, 120, out));
  snprintf(bad, sizeof bad, "%sr.0120", sess); /* a leading zero */
  assert_false(natsn_reply_read(swp, swp_len, bad, 120, out));
  snprintf(bad, sizeof bad, "%sd.120", sess); /* the DONE subject */
  assert_false(natsn_reply_read(swp, swp_len, bad, 120, out));
  snprintf(bad, sizeof bad, "%sr.*", sess); /* a wildcard */
  assert_false(natsn_reply_read(swp, swp_len, bad, CNV_SW_ANY_REQUEST, out));
  memcpy(bad, good, sizeof good); /* uppercase hex */
  bad[swp_len] = 'A';
  assert_false(natsn_reply_read(swp, swp_len, bad, 120, out));
  memcpy(bad, good, sizeof good); /* a short session id */
  memmove(bad + swp_len, bad + swp_len + 2, strlen(bad + swp_len + 2) + 1);
  assert_false(natsn_reply_read(swp, swp_len, bad, 120, out));
  assert_false(natsn_reply_read(swp, swp_len, swp, 120, out)); /* the prefix alone */
  assert_false(natsn_reply_read(swp, swp_len, "cnv.7", 120, out));
  char other[CNV_SW_SUBJECT_MAX]; /* another swarm */
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, 77, sid, 120, other, sizeof other, NULL), CNV_OK);
  assert_false(natsn_reply_read(swp, swp_len, other, 120, out));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(written_as_the_mapping),
      cmocka_unit_test(read_refuses_the_rest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
