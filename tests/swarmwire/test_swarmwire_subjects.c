/* Subjects, record key names, the hash and the node status body: the exact strings, paths
 * accepted and refused, swarm 0, every cap too small, the status codec's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/swarmwire.h>

static const uint8_t sid[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
#define SIDHEX "00112233445566778899aabbccddeeff"

static void test_cap_subjects(void **state) {
  (void)state;
  char out[CNV_SW_SUBJECT_MAX];
  size_t w = 0;
  assert_int_equal(cnv_sw_subject_cap(7, "demo.echo", 9, out, sizeof out, &w), CNV_OK);
  assert_string_equal(out, "cnv.7.cap.demo.echo");
  assert_int_equal(w, strlen(out));
  /* the length given counts, not the NUL */
  assert_int_equal(cnv_sw_subject_cap(UINT64_MAX, "demo.echo.more", 9, out, sizeof out, &w), CNV_OK);
  assert_string_equal(out, "cnv.18446744073709551615.cap.demo.echo");
  static const char *const good[] = {"a", "a-b_c.0", "a.b.c.d.e.f.g.h", "x9.y-z"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    assert_int_equal(cnv_sw_subject_cap(1, good[i], strlen(good[i]), out, sizeof out, &w), CNV_OK);
  }
  static const char *const bad[] = {"", ".", "a.", ".a", "a..b", "A.b", "a.b*", "a.>", "a b",
                                    "a.b.c.d.e.f.g.h.i", "a/b", "a\tb", "é", "a.b\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(cnv_sw_subject_cap(1, bad[i], strlen(bad[i]), out, sizeof out, &w), CNV_ESW_SUBJECT);
  }
  /* a path of 255 bytes is the longest, and fits CNV_SW_SUBJECT_MAX with the largest swarm */
  char longest[256];
  memset(longest, 'a', sizeof longest);
  for (size_t i = 31; i < 255; i += 32) longest[i] = '.';
  assert_int_equal(cnv_sw_subject_cap(UINT64_MAX, longest, 255, out, sizeof out, &w), CNV_OK);
  assert_int_equal(cnv_sw_subject_cap(UINT64_MAX, longest, 256, out, sizeof out, &w), CNV_ESW_SUBJECT);
  /* swarm 0, NULLs, every cap too small */
  assert_int_equal(cnv_sw_subject_cap(0, "demo.echo", 9, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_subject_cap(7, NULL, 9, out, sizeof out, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_subject_cap(7, "demo.echo", 9, NULL, sizeof out, &w), CNV_EINVAL);
  for (size_t cap = 0; cap <= strlen("cnv.7.cap.demo.echo"); cap++) {
    assert_int_equal(cnv_sw_subject_cap(7, "demo.echo", 9, out, cap, &w), CNV_ERANGE);
  }
  assert_int_equal(cnv_sw_subject_cap(7, "demo.echo", 9, out, strlen("cnv.7.cap.demo.echo") + 1, NULL), CNV_OK);
}

static void test_swarm_subjects(void **state) {
  (void)state;
  static const struct {
    cnv_sw_subject_kind kind;
    const char *want;
  } cases[] = {
      {CNV_SW_SUBJ_HANDSHAKE, "cnv.42.hs"},
      {CNV_SW_SUBJ_QUEUE, "cnv.42"},
      {CNV_SW_SUBJ_CLAIMS, "cnv.42.claim.>"},
      {CNV_SW_SUBJ_DONE_ALL, "cnv.42.s.*.d.*"},
      {CNV_SW_SUBJ_STREAM, "CNV_42_ONCE"},
      {CNV_SW_SUBJ_BUCKET, "cnv_42"},
      {CNV_SW_SUBJ_CRDT, "cnv.42.crdt"},
  };
  char out[CNV_SW_SUBJECT_MAX];
  size_t w = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_int_equal(cnv_sw_subject_swarm(cases[i].kind, 42, out, sizeof out, &w), CNV_OK);
    assert_string_equal(out, cases[i].want);
    assert_int_equal(w, strlen(cases[i].want));
    for (size_t cap = 0; cap <= w; cap++) {
      assert_int_equal(cnv_sw_subject_swarm(cases[i].kind, 42, out, cap, &w), CNV_ERANGE);
    }
    assert_int_equal(cnv_sw_subject_swarm(cases[i].kind, 0, out, sizeof out, &w), CNV_ERANGE);
  }
  assert_int_equal(cnv_sw_subject_swarm((cnv_sw_subject_kind)0, 42, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_subject_swarm((cnv_sw_subject_kind)8, 42, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, 42, NULL, sizeof out, &w), CNV_EINVAL);
}

static void test_session_subjects(void **state) {
  (void)state;
  static const struct {
    cnv_sw_session_subject kind;
    uint64_t reqid;
    const char *want;
  } cases[] = {
      {CNV_SW_SESS_REPLY, 5, "cnv.3.s." SIDHEX ".r.5"},
      {CNV_SW_SESS_DONE, 18446744073709551614ull, "cnv.3.s." SIDHEX ".d.18446744073709551614"},
      {CNV_SW_SESS_CLAIM, 0, "cnv.3.claim." SIDHEX ".0"},
      {CNV_SW_SESS_REPLY, CNV_SW_ANY_REQUEST, "cnv.3.s." SIDHEX ".r.*"},
      {CNV_SW_SESS_DONE, CNV_SW_ANY_REQUEST, "cnv.3.s." SIDHEX ".d.*"},
      {CNV_SW_SESS_CLAIM, CNV_SW_ANY_REQUEST, "cnv.3.claim." SIDHEX ".*"},
      {CNV_SW_SESS_ALL, 9, "cnv.3.s." SIDHEX ".>"},
  };
  char out[CNV_SW_SUBJECT_MAX];
  size_t w = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_int_equal(cnv_sw_subject_session(cases[i].kind, 3, sid, cases[i].reqid, out, sizeof out, &w), CNV_OK);
    assert_string_equal(out, cases[i].want);
    assert_int_equal(w, strlen(cases[i].want));
    for (size_t cap = 0; cap <= w; cap++) {
      assert_int_equal(cnv_sw_subject_session(cases[i].kind, 3, sid, cases[i].reqid, out, cap, &w), CNV_ERANGE);
    }
  }
  /* the longest one fits CNV_SW_SUBJECT_MAX */
  assert_int_equal(
      cnv_sw_subject_session(CNV_SW_SESS_DONE, UINT64_MAX, sid, UINT64_MAX - 1, out, sizeof out, &w), CNV_OK);
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, 0, sid, 1, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_subject_session((cnv_sw_session_subject)0, 3, sid, 1, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_subject_session((cnv_sw_session_subject)5, 3, sid, 1, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, 3, NULL, 1, out, sizeof out, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, 3, sid, 1, NULL, sizeof out, &w), CNV_EINVAL);
}

static void test_record_keys(void **state) {
  (void)state;
  uint8_t id[32];
  for (int i = 0; i < 32; i++) id[i] = (uint8_t)(i * 8);
  static const char *const prefix[] = {"trust.", "revoke.", "grant.", "join.", "node."};
  char out[CNV_SW_KV_KEY_MAX], want[CNV_SW_KV_KEY_MAX];
  size_t w = 0;
  for (int k = 1; k <= CNV_SW_REC_KIND_MAX; k++) {
    assert_int_equal(cnv_sw_record_key((cnv_sw_record_kind)k, id, out, sizeof out, &w), CNV_OK);
    strcpy(want, prefix[k - 1]);
    strcat(want, "0008101820283038404850586068707880889098a0a8b0b8c0c8d0d8e0e8f0f8");
    assert_string_equal(out, want);
    assert_int_equal(w, strlen(want));
    for (size_t cap = 0; cap <= w; cap++) {
      assert_int_equal(cnv_sw_record_key((cnv_sw_record_kind)k, id, out, cap, &w), CNV_ERANGE);
    }
  }
  assert_int_equal(cnv_sw_record_key((cnv_sw_record_kind)0, id, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_record_key((cnv_sw_record_kind)6, id, out, sizeof out, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_NODE, NULL, out, sizeof out, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_NODE, id, NULL, sizeof out, &w), CNV_EINVAL);
}

/* A claim's message id: "SIDHEX.R[.tSEQ].MAC", the MAC keyed by the session's key (another key,
 * request or takeover sequence gives another id). */
static void test_claim_id(void **state) {
  (void)state;
  uint8_t key[CNV_SW_SYM_BYTES], other[CNV_SW_SYM_BYTES], csid[CNV_SW_SID_BYTES];
  memset(key, 1, sizeof key);
  memset(other, 2, sizeof other);
  for (size_t i = 0; i < sizeof csid; i++) csid[i] = (uint8_t)(0xa0 + i);
  char a[CNV_SW_CLAIM_ID_MAX], b[CNV_SW_CLAIM_ID_MAX], c[CNV_SW_CLAIM_ID_MAX], d[CNV_SW_CLAIM_ID_MAX];
  size_t n = 0;
  assert_int_equal(cnv_sw_claim_id(key, csid, 7, 0, a, sizeof a, &n), CNV_OK);
  assert_int_equal(n, strlen(a));
  assert_int_equal(n, 32 + 1 + 1 + 1 + 32);
  assert_memory_equal(a, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf.7.", 35);
  assert_int_equal(cnv_sw_claim_id(key, csid, 7, 0, b, sizeof b, NULL), CNV_OK);
  assert_string_equal(a, b); /* deterministic: every node names the same id */
  assert_int_equal(cnv_sw_claim_id(other, csid, 7, 0, b, sizeof b, NULL), CNV_OK);
  assert_string_not_equal(a, b);
  assert_int_equal(cnv_sw_claim_id(key, csid, 8, 0, c, sizeof c, NULL), CNV_OK);
  assert_string_not_equal(a, c);
  assert_int_equal(cnv_sw_claim_id(key, csid, 7, 42, d, sizeof d, NULL), CNV_OK);
  assert_memory_equal(d, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf.7.t42.", 39);
  assert_int_equal(cnv_sw_claim_id(key, csid, UINT64_MAX, UINT64_MAX, d, sizeof d, &n), CNV_OK);
  assert_true(n < CNV_SW_CLAIM_ID_MAX);
  assert_int_equal(cnv_sw_claim_id(key, csid, 7, 0, d, 40, NULL), CNV_ERANGE);
  assert_int_equal(cnv_sw_claim_id(NULL, csid, 7, 0, d, sizeof d, NULL), CNV_EINVAL);
  assert_int_equal(cnv_sw_claim_id(key, NULL, 7, 0, d, sizeof d, NULL), CNV_EINVAL);
  assert_int_equal(cnv_sw_claim_id(key, csid, 7, 0, NULL, sizeof d, NULL), CNV_EINVAL);
}

static void test_hash(void **state) {
  (void)state;
  /* the known BLAKE2b-256 digest of "abc" */
  static const uint8_t want[32] = {0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef,
                                   0x3f, 0xee, 0x98, 0x57, 0x9b, 0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb,
                                   0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19};
  uint8_t out[32];
  assert_int_equal(cnv_sw_hash("abc", 3, out), CNV_OK);
  assert_memory_equal(out, want, 32);
  assert_int_equal(cnv_sw_hash(NULL, 0, out), CNV_OK);
  assert_int_equal(cnv_sw_hash(NULL, 1, out), CNV_EINVAL);
  assert_int_equal(cnv_sw_hash("abc", 3, NULL), CNV_EINVAL);
}

static void test_node_status(void **state) {
  (void)state;
  cnv_sw_node_status s = {.phase = 3,
                          .breaker = 1,
                          .capabilities = 0x01020304u,
                          .in_flight = 0x0a0b0c0du,
                          .interval_ms = 2000,
                          .completed = 0x1122334455667788ull,
                          .started_ms = 1700000000000ull},
                     out;
  uint8_t b[40];
  assert_int_equal(cnv_sw_node_status_encode(&s, b, sizeof b), CNV_OK);
  static const uint8_t want[32] = {3, 1, 0, 0, 4, 3, 2, 1, 0x0d, 0x0c, 0x0b,
                                   0x0a, 0xd0, 0x07, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
                                   0x22, 0x11, 0x00, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0, 0};
  assert_memory_equal(b, want, 32);
  assert_int_equal(cnv_sw_node_status_decode(b, 32, &out), CNV_OK);
  assert_int_equal(out.phase, 3);
  assert_int_equal(out.breaker, 1);
  assert_int_equal(out.capabilities, s.capabilities);
  assert_int_equal(out.in_flight, s.in_flight);
  assert_int_equal(out.interval_ms, 2000);
  assert_int_equal(out.completed, s.completed);
  assert_int_equal(out.started_ms, s.started_ms);
  for (size_t l = 0; l < 40; l++) {
    if (l != 32) assert_int_equal(cnv_sw_node_status_decode(b, l, &out), CNV_ESW_MALFORMED);
  }
  b[1] = 2; /* breaker neither closed nor open */
  assert_int_equal(cnv_sw_node_status_decode(b, 32, &out), CNV_ESW_MALFORMED);
  b[1] = 0;
  b[2] = 1; /* reserved */
  assert_int_equal(cnv_sw_node_status_decode(b, 32, &out), CNV_ESW_MALFORMED);
  b[2] = 0;
  b[3] = 0x80;
  assert_int_equal(cnv_sw_node_status_decode(b, 32, &out), CNV_ESW_MALFORMED);
  b[3] = 0;
  assert_int_equal(cnv_sw_node_status_decode(b, 32, &out), CNV_OK);
  assert_int_equal(out.breaker, 0);
  assert_int_equal(cnv_sw_node_status_encode(&s, b, 31), CNV_ERANGE);
  assert_int_equal(cnv_sw_node_status_encode(NULL, b, 32), CNV_EINVAL);
  assert_int_equal(cnv_sw_node_status_encode(&s, NULL, 32), CNV_EINVAL);
  assert_int_equal(cnv_sw_node_status_decode(NULL, 32, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_node_status_decode(b, 32, NULL), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cap_subjects),
      cmocka_unit_test(test_swarm_subjects),
      cmocka_unit_test(test_session_subjects),
      cmocka_unit_test(test_record_keys),
      cmocka_unit_test(test_claim_id),
      cmocka_unit_test(test_hash),
      cmocka_unit_test(test_node_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
