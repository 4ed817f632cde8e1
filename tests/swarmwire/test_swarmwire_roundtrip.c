/* Each swarmwire message written and read back, and refused after one flipped byte: the
 * handshake (HELLO, WELCOME, session keys), the ticket, requests, responses, refusals,
 * records and grants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static fixture fx;

static int setup(void **state) {
  (void)state;
  return fixture_init(&fx);
}

static void test_session_keys_agree(void **state) {
  (void)state;
  uint8_t a_pk[32], a_sk[32], n_pk[32], n_sk[32], hh[32];
  assert_int_equal(cnv_sw_eph_keypair(a_pk, a_sk), CNV_OK);
  assert_int_equal(cnv_sw_eph_keypair(n_pk, n_sk), CNV_OK);
  assert_int_equal(cnv_sw_hash("hello", 5, hh), CNV_OK);
  uint8_t ac2s[32], as2c[32], nc2s[32], ns2c[32];
  assert_int_equal(cnv_sw_session_keys(a_sk, n_pk, hh, fx.node_pk, n_pk, ac2s, as2c), CNV_OK);
  assert_int_equal(cnv_sw_session_keys(n_sk, a_pk, hh, fx.node_pk, n_pk, nc2s, ns2c), CNV_OK);
  assert_memory_equal(ac2s, nc2s, 32);
  assert_memory_equal(as2c, ns2c, 32);
  assert_memory_not_equal(ac2s, as2c, 32);
  /* another HELLO hash gives other keys */
  hh[0] ^= 1;
  assert_int_equal(cnv_sw_session_keys(n_sk, a_pk, hh, fx.node_pk, n_pk, nc2s, ns2c), CNV_OK);
  assert_memory_not_equal(ac2s, nc2s, 32);
  /* a low-order (all-zero) peer key */
  uint8_t zero[32] = {0};
  assert_int_equal(cnv_sw_session_keys(n_sk, zero, hh, fx.node_pk, n_pk, nc2s, ns2c), CNV_ESW_HANDSHAKE);
}

static void test_hello_round_trip(void **state) {
  (void)state;
  cnv_sw_hello h = {.ts_ms = 123456789, .token = fx.token, .token_len = sizeof fx.token}, out;
  memcpy(h.agent_pk, fx.agent_pk, 32);
  memset(h.eph_pk, 9, 32);
  uint8_t buf[512];
  size_t w = 0;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_OK);
  assert_memory_equal(out.agent_pk, fx.agent_pk, 32);
  assert_memory_equal(out.eph_pk, h.eph_pk, 32);
  assert_int_equal(out.ts_ms, 123456789);
  assert_int_equal(out.token_len, sizeof fx.token);
  assert_memory_equal(out.token, fx.token, sizeof fx.token);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM + 1, buf, w, &out), CNV_ESW_PROOF);
  for (size_t i = 0; i < w; i++) {
    buf[i] ^= 0x20;
    assert_int_not_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_OK);
    buf[i] ^= 0x20;
  }
  /* the secret must belong to the key named */
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.node_sk, &h, buf, sizeof buf, &w), CNV_EINVAL);
}

static void test_welcome_round_trip(void **state) {
  (void)state;
  uint8_t hh[32];
  assert_int_equal(cnv_sw_hash("the hello", 9, hh), CNV_OK);
  cnv_sw_welcome wl = {.status = 0,
                       .expires_ms = 99,
                       .node_token = fx.token,
                       .node_token_len = sizeof fx.token,
                       .ticket = fx.ticket,
                       .ticket_len = fx.ticket_len},
                 out;
  memcpy(wl.node_pk, fx.node_pk, 32);
  memset(wl.eph_pk, 8, 32);
  uint8_t buf[1024];
  size_t w = 0;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_OK);
  assert_int_equal(out.status, 0);
  assert_memory_equal(out.node_pk, fx.node_pk, 32);
  assert_memory_equal(out.eph_pk, wl.eph_pk, 32);
  assert_int_equal(out.expires_ms, 99);
  assert_int_equal(out.ticket_len, fx.ticket_len);
  assert_memory_equal(out.ticket, fx.ticket, fx.ticket_len);
  assert_memory_equal(out.node_token, fx.token, sizeof fx.token);
  for (size_t i = 0; i < w; i++) {
    buf[i] ^= 0x01;
    assert_int_not_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_OK);
    buf[i] ^= 0x01;
  }
  uint8_t other[32];
  memcpy(other, hh, 32);
  other[31] ^= 1;
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, other, buf, w, &out), CNV_ESW_PROOF);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM + 1, hh, buf, w, &out), CNV_ESW_PROOF);
  /* a refusal: no ticket, no ephemeral key, no expiry */
  cnv_sw_welcome no = {.status = CNV_ESW_PROOF, .node_token = fx.token, .node_token_len = sizeof fx.token};
  memcpy(no.node_pk, fx.node_pk, 32);
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &no, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_OK);
  assert_int_equal(out.status, CNV_ESW_PROOF);
  assert_int_equal(out.ticket_len, 0);
  assert_null(out.ticket);
}

static void test_ticket_round_trip(void **state) {
  (void)state;
  uint32_t epoch = 0;
  assert_int_equal(cnv_sw_ticket_epoch(fx.ticket, fx.ticket_len, &epoch), CNV_OK);
  assert_int_equal(epoch, 1);
  uint8_t plain[CNV_SW_MAX_TICKET];
  cnv_sw_ticket t;
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, fx.ticket, fx.ticket_len, plain, sizeof plain, &t),
                   CNV_OK);
  assert_memory_equal(t.sid, fx.sid, 16);
  assert_memory_equal(t.agent_pk, fx.agent_pk, 32);
  assert_memory_equal(t.node_pk, fx.node_pk, 32);
  assert_int_equal(t.issued_ms, 1000);
  assert_int_equal(t.expires_ms, 2000);
  assert_memory_equal(t.key_c2s, fx.c2s, 32);
  assert_memory_equal(t.key_s2c, fx.s2c, 32);
  assert_int_equal(t.token_len, sizeof fx.token);
  assert_memory_equal(t.token, fx.token, sizeof fx.token);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM + 1, fx.ticket, fx.ticket_len, plain, sizeof plain, &t),
                   CNV_ESW_TICKET);
  uint8_t copy[CNV_SW_MAX_TICKET];
  memcpy(copy, fx.ticket, fx.ticket_len);
  for (size_t i = 0; i < fx.ticket_len; i++) {
    copy[i] ^= 0x80;
    assert_int_not_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, copy, fx.ticket_len, plain, sizeof plain, &t),
                         CNV_OK);
    copy[i] ^= 0x80;
  }
}

static void test_request_round_trip(void **state) {
  (void)state;
  static const char inv[] = "an invocation payload";
  uint8_t buf[2048], plain[2048];
  size_t w = 0, n = 0;
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 5, 42, 777, 2, fx.subject, fx.reply, inv,
                                       sizeof inv, buf, sizeof buf, &w),
                   CNV_OK);
  assert_true(w <= fx.ticket_len + sizeof inv + CNV_SW_REQUEST_OVERHEAD);
  cnv_sw_request r;
  assert_int_equal(cnv_sw_request_parse(buf, w, &r), CNV_OK);
  assert_int_equal(r.attempt, 2);
  assert_int_equal(r.seq, 5);
  assert_int_equal(r.reqid, 42);
  assert_int_equal(r.ts_ms, 777);
  assert_int_equal(r.ticket_len, fx.ticket_len);
  assert_memory_equal(r.ticket, fx.ticket, fx.ticket_len);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, fx.reply, plain, sizeof plain, &n), CNV_OK);
  assert_int_equal(n, sizeof inv);
  assert_memory_equal(plain, inv, sizeof inv);
  for (size_t i = 0; i < w; i++) {
    buf[i] ^= 0x04;
    cnv_sw_request b;
    if (cnv_sw_request_parse(buf, w, &b) == CNV_OK) {
      assert_int_not_equal(cnv_sw_request_open(fx.c2s, &b, fx.subject, fx.reply, plain, sizeof plain, &n), CNV_OK);
    }
    buf[i] ^= 0x04;
  }
  assert_int_equal(cnv_sw_request_open(fx.s2c, &r, fx.subject, fx.reply, plain, sizeof plain, &n), CNV_ESW_OPEN);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.reply, fx.subject, plain, sizeof plain, &n), CNV_ESW_OPEN);
}

static void test_response_round_trip(void **state) {
  (void)state;
  static const char ans[] = "the answer";
  uint8_t buf[256], plain[256];
  size_t w = 0, n = 0;
  assert_int_equal(cnv_sw_response_seal(fx.s2c, 42, ans, sizeof ans, buf, sizeof buf, &w), CNV_OK);
  assert_true(w <= sizeof ans + CNV_SW_RESPONSE_OVERHEAD);
  cnv_sw_response r;
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_false(r.refusal);
  assert_int_equal(r.reqid, 42);
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, sizeof plain, &n), CNV_OK);
  assert_int_equal(n, sizeof ans);
  assert_memory_equal(plain, ans, sizeof ans);
  for (size_t i = 0; i < w; i++) {
    buf[i] ^= 0x10;
    cnv_sw_response b;
    if (cnv_sw_response_parse(buf, w, &b) == CNV_OK && !b.refusal) {
      assert_int_not_equal(cnv_sw_response_open(fx.s2c, &b, plain, sizeof plain, &n), CNV_OK);
    }
    buf[i] ^= 0x10;
  }
  assert_int_equal(cnv_sw_response_open(fx.c2s, &r, plain, sizeof plain, &n), CNV_ESW_OPEN);
  /* a refusal */
  assert_int_equal(cnv_sw_refusal_write(43, CNV_ESW_TICKET_EXPIRED, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_true(r.refusal);
  assert_int_equal(r.reqid, 43);
  assert_int_equal(r.status, CNV_ESW_TICKET_EXPIRED);
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, sizeof plain, &n), CNV_EINVAL);
}

static void test_record_round_trip(void **state) {
  (void)state;
  char key[CNV_SW_KV_KEY_MAX];
  uint8_t hash[32], buf[512];
  memset(hash, 0xAB, sizeof hash);
  assert_int_equal(cnv_sw_record_key(CNV_SW_REC_REVOKE, hash, key, sizeof key, NULL), CNV_OK);
  cnv_sw_record rec = {.kind = CNV_SW_REC_REVOKE, .ts_ms = 55, .token = fx.token, .token_len = sizeof fx.token, .body = hash, .body_len = 32},
                out;
  memcpy(rec.signer_pk, fx.node_pk, 32);
  size_t w = 0;
  assert_int_equal(cnv_sw_record_write(FX_SWARM, key, fx.node_sk, &rec, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_record_read(FX_SWARM, key, buf, w, &out), CNV_OK);
  assert_int_equal(out.kind, CNV_SW_REC_REVOKE);
  assert_int_equal(out.ts_ms, 55);
  assert_memory_equal(out.signer_pk, fx.node_pk, 32);
  assert_int_equal(out.token_len, sizeof fx.token);
  assert_memory_equal(out.body, hash, 32);
  for (size_t i = 0; i < w; i++) {
    buf[i] ^= 0x02;
    assert_int_not_equal(cnv_sw_record_read(FX_SWARM, key, buf, w, &out), CNV_OK);
    buf[i] ^= 0x02;
  }
  assert_int_equal(cnv_sw_record_read(FX_SWARM + 1, key, buf, w, &out), CNV_ESW_PROOF);
}

static void test_grant_round_trip(void **state) {
  (void)state;
  uint8_t sealed[CNV_SW_GRANT_BYTES], key[32];
  assert_int_equal(cnv_sw_grant_seal(fx.swarm_key, fx.node_pk, sealed), CNV_OK);
  assert_int_equal(cnv_sw_grant_open(fx.node_sk, sealed, key), CNV_OK);
  assert_memory_equal(key, fx.swarm_key, 32);
  assert_int_equal(cnv_sw_grant_open(fx.agent_sk, sealed, key), CNV_ESW_OPEN);
  sealed[40] ^= 1;
  assert_int_equal(cnv_sw_grant_open(fx.node_sk, sealed, key), CNV_ESW_OPEN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_session_keys_agree),
      cmocka_unit_test(test_hello_round_trip),
      cmocka_unit_test(test_welcome_round_trip),
      cmocka_unit_test(test_ticket_round_trip),
      cmocka_unit_test(test_request_round_trip),
      cmocka_unit_test(test_response_round_trip),
      cmocka_unit_test(test_record_round_trip),
      cmocka_unit_test(test_grant_round_trip),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
