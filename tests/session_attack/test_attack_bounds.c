/* Bounded memory and work per byte fed: declared lengths over each state's limit refused as
 * soon as the length arrives, a whole session fed one byte at a time, a flood of tiny frames in
 * one feed, sealed frames shorter than a tag, AUTH sizes at and past their bounds; and the
 * INVOCATION / RESPONSE payload decoders given every truncation, in buffers of exactly that
 * size (so a sanitizer sees any read past the end). */
#include <stdlib.h>

#include <cnv/runtime.h>

#include "attack.h"

/* Feeds the 8 bytes of a header whose length is `declared`, one byte at a time; returns the
 * status of the byte that completed the length (and checks no byte after it was needed). */
static cnv_status feed_header(a_pair *p, cnv_session *to, uint16_t flags, uint32_t declared) {
  uint8_t h[16];
  cnv__sess_header(h, CNV_MSG_HEARTBEAT, flags, declared, 0);
  for (size_t i = 0; i < 16; i++) {
    size_t used = 0;
    cnv_session_event ev;
    cnv_status st = cnv_session_feed(to, h + i, 1, p->now, &used, &ev);
    if (st != CNV_EAGAIN) {
      assert_int_equal(i, 7); /* refused on the last byte of the length */
      return st;
    }
    assert_int_equal(used, 1);
  }
  return CNV_EAGAIN;
}

static void max_small(a_pair *p) {
  p->cc.caps.max_message_size = 1000;
  p->sc.caps.max_message_size = 700;
}

/* Each state's limit: plain before keys, AUTH's bound while the server waits for it, the
 * negotiated size (the smaller offer) plus the tag after; 0xFFFFFFFF everywhere. */
static void test_declared_lengths(void **state) {
  (void)state;
  const uint32_t plain = CNV__SESSION_PLAIN_MAX;
  const uint32_t auth = CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN + CNV_SESSION_TAG_BYTES;
  for (int k = 0; k < 2; k++) {
    uint32_t over = k ? UINT32_MAX : 0;
    a_pair p;
    a_setup(&p, max_small);
    /* server before HELLO, client before HELLO_REPLY */
    assert_int_equal(feed_header(&p, p.s, 0, over ? over : plain + 1), CNV_EFRAME_OVERSIZE);
    assert_int_equal(feed_header(&p, p.c, 0, over ? over : plain + 1), CNV_EFRAME_OVERSIZE);
    a_teardown(&p);
    a_setup(&p, max_small);
    assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
    assert_int_equal(feed_header(&p, p.s, CNV_FRAME_FLAG_SEALED, over ? over : auth + 1), CNV_EFRAME_OVERSIZE);
    a_teardown(&p);
    a_setup(&p, max_small);
    a_handshake(&p);
    assert_int_equal(feed_header(&p, p.s, CNV_FRAME_FLAG_SEALED, over ? over : 700 + 16 + 1), CNV_EFRAME_OVERSIZE);
    /* the client offered 1000 but the negotiated size is 700 */
    assert_int_equal(feed_header(&p, p.c, CNV_FRAME_FLAG_SEALED, over ? over : 700 + 16 + 1), CNV_EFRAME_OVERSIZE);
    a_teardown(&p);
  }
  /* exactly at the limit: accepted, waiting for the bytes */
  a_pair p;
  a_setup(&p, max_small);
  a_handshake(&p);
  assert_int_equal(feed_header(&p, p.s, CNV_FRAME_FLAG_SEALED, 700 + 16), CNV_EAGAIN);
  a_teardown(&p);
}

/* The whole handshake and 40 messages each way, every frame fed one byte at a time. */
static void test_one_byte_at_a_time(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  size_t block = p.s->block_size;
  uint8_t b[A_BUF];
  size_t n = a_pull(p.c, b);
  assert_int_equal(a_feed(&p, p.s, b, n, 1), CNV_OK);
  n = a_pull(p.s, b);
  assert_int_equal(a_feed(&p, p.c, b, n, 1), CNV_OK);
  n = a_pull(p.c, b);
  assert_int_equal(a_feed(&p, p.s, b, n, 1), CNV_OK);
  assert_int_equal(p.last.kind, CNV_SESSION_EV_AUTH);
  assert_int_equal(cnv_session_accept(p.s), CNV_OK);
  n = a_pull(p.s, b);
  assert_int_equal(a_feed(&p, p.c, b, n, 1), CNV_OK);
  assert_int_equal(p.last.kind, CNV_SESSION_EV_READY);
  static const uint8_t resp[8] = {0};
  for (uint64_t id = 1; id <= 40; id++) {
    n = a_seal(&p, p.c, CNV_MSG_INVOCATION, id, "demo.echo --text hi", 19, b, sizeof b);
    assert_int_equal(a_feed(&p, p.s, b, n, 1), CNV_OK);
    assert_int_equal(p.last.type, CNV_MSG_INVOCATION);
    assert_int_equal(p.last.id, id);
    n = a_seal(&p, p.s, CNV_MSG_RESPONSE, id, resp, sizeof resp, b, sizeof b);
    assert_int_equal(a_feed(&p, p.c, b, n, 1), CNV_OK);
    assert_int_equal(p.last.type, CNV_MSG_RESPONSE);
    assert_int_equal(p.last.id, id);
  }
  assert_int_equal(p.s->block_size, block);
  a_teardown(&p);
}

/* 20,000 HEARTBEATs of 32 bytes in one feed: all opened in that one call, nothing reported,
 * nothing grown. */
static void test_tiny_frame_flood(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  enum { N = 20000 };
  uint8_t *b = malloc((size_t)N * 32);
  assert_non_null(b);
  for (size_t i = 0; i < N; i++) assert_int_equal(a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, NULL, 0, b + i * 32, 32), 32);
  cnv_session_stats before, after;
  assert_int_equal(cnv_session_stats_get(p.s, &before), CNV_OK);
  size_t used = 0;
  cnv_session_event ev;
  assert_int_equal(cnv_session_feed(p.s, b, (size_t)N * 32, p.now, &used, &ev), CNV_EAGAIN);
  assert_int_equal(used, (size_t)N * 32);
  assert_int_equal(cnv_session_stats_get(p.s, &after), CNV_OK);
  assert_int_equal(after.opened - before.opened, N);
  free(b);
  a_teardown(&p);
}

/* Sealed frames of every length below a tag (L = 0..15): refused as unauthentic. */
static void test_sealed_shorter_than_tag(void **state) {
  (void)state;
  for (uint32_t l = 0; l < CNV_SESSION_TAG_BYTES; l++) {
    a_pair p;
    a_setup(&p, NULL);
    a_handshake(&p);
    uint8_t f[32] = {0};
    cnv__sess_header(f, CNV_MSG_HEARTBEAT, CNV_FRAME_FLAG_SEALED, l, 0);
    assert_int_equal(a_feed(&p, p.s, f, CNV_FRAME_HEADER_SIZE + l, 0), CNV_ESESSION_OPEN);
    a_teardown(&p);
  }
}

/* AUTH without a token, with the largest token, and with one byte more (refused by its
 * declared length before any of it is awaited). */
static void test_auth_sizes(void **state) {
  (void)state;
  static uint8_t pt[CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN + 1];
  static uint8_t f[sizeof pt + 32];
  const size_t sizes[] = {CNV__SESSION_AUTH_FIXED, CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN,
                          CNV__SESSION_AUTH_FIXED + CNV_SESSION_MAX_TOKEN + 1};
  const cnv_status want[] = {CNV_ESESSION_HANDSHAKE, CNV_OK, CNV_EFRAME_OVERSIZE};
  for (int k = 0; k < 3; k++) {
    a_pair p;
    a_setup(&p, NULL);
    a_until_auth(&p);
    uint8_t m[62];
    a_sig_message(m, "cnv-session/1 holder signature", p.c->transcript);
    memcpy(pt, p.agent_pk, 32);
    assert_int_equal(crypto_sign_ed25519_detached(pt + 32, NULL, m, sizeof m, p.agent_sk), 0);
    memset(pt + CNV__SESSION_AUTH_FIXED, 'T', sizeof pt - CNV__SESSION_AUTH_FIXED);
    size_t n = a_forge_auth(&p, pt, sizes[k], f);
    assert_int_equal(a_feed(&p, p.s, f, n, 0), want[k]);
    if (want[k] == CNV_OK) {
      assert_int_equal(p.last.kind, CNV_SESSION_EV_AUTH);
      assert_int_equal(p.last.len, CNV_SESSION_MAX_TOKEN);
    }
    a_teardown(&p);
  }
}

/* Decodes `len` bytes of src from a heap copy of exactly that size. */
static cnv_status decode_invoke_exact(const uint8_t *src, size_t len, cnv_session_invoke *out, uint8_t **keep) {
  uint8_t *b = malloc(len ? len : 1);
  assert_non_null(b);
  if (len) memcpy(b, src, len);
  cnv_status st = cnv_session_invoke_decode(len ? b : NULL, len, out);
  if (st == CNV_OK) {
    assert_true((const uint8_t *)out->line >= b);
    assert_true((const uint8_t *)out->line + out->line_len == b + len);
  }
  *keep = b;
  return st;
}

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* Every truncation of an INVOCATION with a traceparent, and every malformed traceparent byte. */
static void test_invoke_truncations(void **state) {
  (void)state;
  uint8_t enc[256];
  size_t w = 0;
  cnv_session_invoke in = {5000, TP, "demo.echo", 9}, out;
  assert_int_equal(cnv_session_invoke_encode(&in, enc, sizeof enc, &w), CNV_OK);
  assert_int_equal(w, 5 + 55 + 9);
  for (size_t len = 0; len <= w; len++) {
    uint8_t *keep = NULL;
    cnv_status st = decode_invoke_exact(enc, len, &out, &keep);
    assert_int_equal(st, len < 60 ? CNV_ESESSION_MALFORMED : CNV_OK);
    if (st == CNV_OK) assert_int_equal(out.line_len, len - 60);
    free(keep);
  }
  /* every byte of the traceparent replaced by a wrong one */
  for (size_t i = 0; i < 55; i++) {
    uint8_t bad[256];
    memcpy(bad, enc, w);
    bad[5 + i] = (bad[5 + i] == '-') ? 'a' : (i == 2 || i == 35 || i == 52) ? '0'
                                                                            : 'G';
    uint8_t *keep = NULL;
    assert_int_equal(decode_invoke_exact(bad, w, &out, &keep), CNV_ESESSION_MALFORMED);
    free(keep);
  }
  /* unknown flag bits */
  for (unsigned fl = 2; fl < 256; fl++) {
    uint8_t bad[256];
    memcpy(bad, enc, w);
    bad[4] = (uint8_t)fl;
    uint8_t *keep = NULL;
    assert_int_equal(decode_invoke_exact(bad, w, &out, &keep), CNV_ESESSION_MALFORMED);
    free(keep);
  }
}

/* Every truncation of a RESPONSE, reserved bytes, positive status, the extreme status. */
static void test_response_truncations(void **state) {
  (void)state;
  uint8_t enc[64];
  size_t w = 0;
  cnv_session_response in = {INT32_MIN, CNV_DONE_CANCELLED, 1, (const uint8_t *)"result", 6}, out;
  assert_int_equal(cnv_session_response_encode(&in, enc, sizeof enc, &w), CNV_OK);
  for (size_t len = 0; len <= w; len++) {
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    if (len) memcpy(b, enc, len);
    cnv_status st = cnv_session_response_decode(len ? b : NULL, len, &out);
    assert_int_equal(st, len < 8 ? CNV_ESESSION_MALFORMED : CNV_OK);
    if (st == CNV_OK) {
      assert_int_equal(out.status, INT32_MIN);
      assert_true(out.result + out.result_len == b + len);
    }
    free(b);
  }
  for (int i = 6; i < 8; i++) {
    uint8_t bad[64];
    memcpy(bad, enc, w);
    bad[i] = 1;
    assert_int_equal(cnv_session_response_decode(bad, w, &out), CNV_ESESSION_MALFORMED);
  }
  uint8_t pos[64];
  memcpy(pos, enc, w);
  cnv__sess_put32(pos, 1);
  assert_int_equal(cnv_session_response_decode(pos, w, &out), CNV_ESESSION_MALFORMED);
}

/* The RESPONSE fields documented as enumerations ("done: a cnv_runtime_done_kind value",
 * "result type": a content type) are validated like the rest: a value no side can have sent
 * is malformed, not handed to the client as if it meant something. */
static void test_response_enum_ranges(void **state) {
  (void)state;
  uint8_t enc[16] = {0};
  cnv_session_response out;
  enc[4] = CNV_DONE_COUNT; /* no such done kind */
  assert_int_equal(cnv_session_response_decode(enc, 8, &out), CNV_ESESSION_MALFORMED);
  enc[4] = CNV_SESSION_DONE_REFUSED - 1;
  assert_int_equal(cnv_session_response_decode(enc, 8, &out), CNV_ESESSION_MALFORMED);
  enc[4] = 0;
  enc[5] = CNV_CONTENT_BINARY + 1; /* no such content type */
  assert_int_equal(cnv_session_response_decode(enc, 8, &out), CNV_ESESSION_MALFORMED);
  /* a refusal (never accepted, never ran) and the last done kind both decode */
  enc[5] = CNV_CONTENT_BINARY;
  enc[4] = CNV_SESSION_DONE_REFUSED;
  assert_int_equal(cnv_session_response_decode(enc, 8, &out), CNV_OK);
  assert_int_equal(out.done, CNV_SESSION_DONE_REFUSED);
  enc[4] = CNV_DONE_NOT_RUN;
  assert_int_equal(cnv_session_response_decode(enc, 8, &out), CNV_OK);
  assert_int_equal(out.done, CNV_SESSION_DONE_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_declared_lengths, a_cleanup),
      cmocka_unit_test_teardown(test_one_byte_at_a_time, a_cleanup),
      cmocka_unit_test_teardown(test_tiny_frame_flood, a_cleanup),
      cmocka_unit_test_teardown(test_sealed_shorter_than_tag, a_cleanup),
      cmocka_unit_test_teardown(test_auth_sizes, a_cleanup),
      cmocka_unit_test_teardown(test_invoke_truncations, a_cleanup),
      cmocka_unit_test_teardown(test_response_truncations, a_cleanup),
      cmocka_unit_test_teardown(test_response_enum_ranges, a_cleanup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
