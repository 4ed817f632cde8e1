/* HELLO, WELCOME and the session keys: every truncation and every flipped byte refused,
 * another swarm or another HELLO refused, the field rules of each side, argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static fixture fx;
static uint8_t big_token[CNV_SW_MAX_TOKEN + 1];
static uint8_t buf[CNV_SW_MAX_TOKEN + CNV_SW_MAX_TICKET + 256];

static int setup(void **state) {
  (void)state;
  memset(big_token, 'T', sizeof big_token);
  return fixture_init(&fx);
}

static cnv_sw_hello a_hello(void) {
  cnv_sw_hello h = {.ts_ms = 1700000000000ull, .token = fx.token, .token_len = sizeof fx.token};
  memcpy(h.agent_pk, fx.agent_pk, 32);
  memset(h.eph_pk, 0x33, 32);
  return h;
}

static cnv_sw_welcome a_welcome(void) {
  cnv_sw_welcome w = {.status = 0,
                      .expires_ms = 1700000060000ull,
                      .node_token = fx.token,
                      .node_token_len = sizeof fx.token,
                      .ticket = fx.ticket,
                      .ticket_len = fx.ticket_len};
  memcpy(w.node_pk, fx.node_pk, 32);
  memset(w.eph_pk, 0x44, 32);
  return w;
}

static void test_hello_truncated_and_extended(void **state) {
  (void)state;
  cnv_sw_hello h = a_hello(), out;
  size_t w = 0;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 76 + sizeof fx.token + 64);
  for (size_t l = 0; l < w; l++) {
    uint8_t *c = fixture_exact(buf, l);
    assert_int_equal(cnv_sw_hello_read(FX_SWARM, c, l, &out), CNV_ESW_MALFORMED);
    free(c);
  }
  buf[w] = 0;
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w + 1, &out), CNV_ESW_MALFORMED);
}

static void test_hello_every_byte(void **state) {
  (void)state;
  cnv_sw_hello h = a_hello(), out;
  size_t w = 0;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_OK);
  for (size_t i = 0; i < w; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      buf[i] ^= (uint8_t)(1u << bit);
      cnv_status st = cnv_sw_hello_read(FX_SWARM, buf, w, &out);
      assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_PROOF);
      buf[i] ^= (uint8_t)(1u << bit);
    }
  }
  /* version, kind and the token length are framing: malformed, not a bad signature */
  buf[0] = 2;
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_ESW_MALFORMED);
  buf[0] = CNV_SW_VERSION;
  buf[1] = 2;
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_ESW_MALFORMED);
  buf[1] = 1;
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_OK);
  assert_ptr_equal(out.token, buf + 76); /* zero-copy */
  assert_int_equal(cnv_sw_hello_read(FX_SWARM + 1, buf, w, &out), CNV_ESW_PROOF);
  assert_int_equal(cnv_sw_hello_read(UINT64_MAX, buf, w, &out), CNV_ESW_PROOF);
}

static void test_hello_not_the_holder(void **state) {
  (void)state;
  /* a HELLO that names the agent's key but is signed by the node's: the writer refuses, and a
   * forged one (agent key swapped in after signing) fails the proof */
  cnv_sw_hello h = a_hello(), out;
  size_t w = 0;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.node_sk, &h, buf, sizeof buf, &w), CNV_EINVAL);
  memcpy(h.agent_pk, fx.node_pk, 32);
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.node_sk, &h, buf, sizeof buf, &w), CNV_OK);
  memcpy(buf + 2, fx.agent_pk, 32);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_ESW_PROOF);
}

static void test_hello_limits(void **state) {
  (void)state;
  cnv_sw_hello h = a_hello(), out;
  size_t w = 0;
  h.token = big_token;
  h.token_len = CNV_SW_MAX_TOKEN;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, w, &out), CNV_OK);
  assert_int_equal(out.token_len, CNV_SW_MAX_TOKEN);
  h.token_len = CNV_SW_MAX_TOKEN + 1;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_ERANGE);
  h.token_len = 0;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_ERANGE);
  /* cap one short: nothing written */
  h = a_hello();
  size_t need = 76 + sizeof fx.token + 64;
  memset(buf, 0xEE, need);
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, need - 1, &w), CNV_ERANGE);
  assert_int_equal(buf[0], 0xEE);
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, need, NULL), CNV_OK);
  /* a zero token length on the wire */
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_OK);
  buf[74] = buf[75] = 0;
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, 76 + 64, &out), CNV_ESW_MALFORMED);
  /* NULLs */
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, NULL, &h, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, NULL, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, NULL, sizeof buf, &w), CNV_EINVAL);
  h.token = NULL;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, NULL, 10, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, buf, 10, NULL), CNV_EINVAL);
}

static void test_welcome_truncated_and_flipped(void **state) {
  (void)state;
  uint8_t hh[32];
  memset(hh, 0x5A, sizeof hh);
  cnv_sw_welcome wl = a_welcome(), out;
  size_t w = 0;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 82 + sizeof fx.token + fx.ticket_len + 64);
  for (size_t l = 0; l < w; l++) {
    uint8_t *c = fixture_exact(buf, l);
    assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, c, l, &out), CNV_ESW_MALFORMED);
    free(c);
  }
  buf[w] = 0;
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w + 1, &out), CNV_ESW_MALFORMED);
  for (size_t i = 0; i < w; i++) {
    buf[i] ^= 0x08;
    cnv_status st = cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out);
    assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_PROOF);
    buf[i] ^= 0x08;
  }
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_OK);
  assert_ptr_equal(out.ticket, buf + 82 + sizeof fx.token);
  /* made for another HELLO, or another swarm */
  for (size_t i = 0; i < 32; i++) {
    hh[i] ^= 1;
    assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_ESW_PROOF);
    hh[i] ^= 1;
  }
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM + 1, hh, buf, w, &out), CNV_ESW_PROOF);
  /* another node's key in place of the signer's */
  memcpy(buf + 6, fx.agent_pk, 32);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_ESW_PROOF);
}

static void test_welcome_rules(void **state) {
  (void)state;
  uint8_t hh[32] = {1};
  size_t w = 0;
  cnv_sw_welcome wl = a_welcome(), out;
  /* the node's secret must match node_pk */
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.agent_sk, hh, &wl, buf, sizeof buf, &w), CNV_EINVAL);
  /* a positive status */
  wl.status = 1;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_EINVAL);
  /* a refusal with a ticket */
  wl.status = CNV_EFULL;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_EINVAL);
  /* status 0 without a ticket */
  wl = a_welcome();
  wl.ticket = NULL;
  wl.ticket_len = 0;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_EINVAL);
  /* a ticket too short to be one, or too long */
  wl = a_welcome();
  wl.ticket_len = 10;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_ERANGE);
  wl.ticket = buf;
  wl.ticket_len = CNV_SW_MAX_TICKET + 1;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_ERANGE);
  /* no node token, or one too long */
  wl = a_welcome();
  wl.node_token_len = 0;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_ERANGE);
  wl.node_token = big_token;
  wl.node_token_len = CNV_SW_MAX_TOKEN + 1;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_ERANGE);
  /* the largest WELCOME */
  wl.node_token_len = CNV_SW_MAX_TOKEN;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_OK);
  assert_int_equal(out.node_token_len, CNV_SW_MAX_TOKEN);
  /* cap one short: nothing written */
  wl = a_welcome();
  size_t need = 82 + sizeof fx.token + fx.ticket_len + 64;
  memset(buf, 0xEE, need);
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, need - 1, &w), CNV_ERANGE);
  assert_int_equal(buf[0], 0xEE);
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, need, &w), CNV_OK);
  /* a refusal that carries an ephemeral key or an expiry is malformed (signed or not) */
  cnv_sw_welcome no = {.status = CNV_ERT_DENY_REVOKED, .node_token = fx.token, .node_token_len = sizeof fx.token};
  memcpy(no.node_pk, fx.node_pk, 32);
  no.expires_ms = 5;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &no, buf, sizeof buf, &w), CNV_EINVAL);
  no.expires_ms = 0;
  no.eph_pk[3] = 1;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &no, buf, sizeof buf, &w), CNV_EINVAL);
  no.eph_pk[3] = 0;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &no, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_OK);
  assert_int_equal(out.status, CNV_ERT_DENY_REVOKED);
  assert_int_equal(out.expires_ms, 0);
  buf[70] = 1; /* expiry */
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &out), CNV_ESW_MALFORMED);
  /* NULLs */
  wl = a_welcome();
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, NULL, &wl, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, NULL, buf, sizeof buf, &w), CNV_EINVAL);
  wl.ticket = NULL;
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, NULL, buf, w, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, NULL, w, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, NULL), CNV_EINVAL);
}

static void test_handshake_end_to_end(void **state) {
  (void)state;
  /* agent: ephemeral key, HELLO; node: reads it, its own ephemeral key, keys, WELCOME; agent:
   * reads the WELCOME with its HELLO's hash and derives the same keys */
  uint8_t a_eph_pk[32], a_eph_sk[32], n_eph_pk[32], n_eph_sk[32], hh[32];
  assert_int_equal(cnv_sw_eph_keypair(a_eph_pk, a_eph_sk), CNV_OK);
  cnv_sw_hello h = a_hello(), hin;
  memcpy(h.eph_pk, a_eph_pk, 32);
  uint8_t hello[256];
  size_t hl = 0, w = 0;
  assert_int_equal(cnv_sw_hello_write(FX_SWARM, fx.agent_sk, &h, hello, sizeof hello, &hl), CNV_OK);
  assert_int_equal(cnv_sw_hello_read(FX_SWARM, hello, hl, &hin), CNV_OK);
  assert_int_equal(cnv_sw_hash(hello, hl, hh), CNV_OK);
  assert_int_equal(cnv_sw_eph_keypair(n_eph_pk, n_eph_sk), CNV_OK);
  uint8_t nc2s[32], ns2c[32], ac2s[32], as2c[32];
  assert_int_equal(cnv_sw_session_keys(n_eph_sk, hin.eph_pk, hh, fx.node_pk, n_eph_pk, nc2s, ns2c), CNV_OK);
  cnv_sw_welcome wl = a_welcome(), win;
  memcpy(wl.eph_pk, n_eph_pk, 32);
  assert_int_equal(cnv_sw_welcome_write(FX_SWARM, fx.node_sk, hh, &wl, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(cnv_sw_welcome_read(FX_SWARM, hh, buf, w, &win), CNV_OK);
  assert_int_equal(cnv_sw_session_keys(a_eph_sk, win.eph_pk, hh, win.node_pk, win.eph_pk, ac2s, as2c), CNV_OK);
  assert_memory_equal(ac2s, nc2s, 32);
  assert_memory_equal(as2c, ns2c, 32);
  /* a key pair is fresh each time */
  uint8_t pk2[32], sk2[32];
  assert_int_equal(cnv_sw_eph_keypair(pk2, sk2), CNV_OK);
  assert_memory_not_equal(pk2, a_eph_pk, 32);
  /* the node key and the node ephemeral key are bound into the keys */
  uint8_t x[32], y[32];
  assert_int_equal(cnv_sw_session_keys(a_eph_sk, win.eph_pk, hh, fx.agent_pk, win.eph_pk, x, y), CNV_OK);
  assert_memory_not_equal(x, ac2s, 32);
  /* NULLs */
  assert_int_equal(cnv_sw_eph_keypair(NULL, sk2), CNV_EINVAL);
  assert_int_equal(cnv_sw_eph_keypair(pk2, NULL), CNV_EINVAL);
  assert_int_equal(cnv_sw_session_keys(NULL, win.eph_pk, hh, fx.node_pk, win.eph_pk, x, y), CNV_EINVAL);
  assert_int_equal(cnv_sw_session_keys(a_eph_sk, win.eph_pk, hh, fx.node_pk, win.eph_pk, x, NULL), CNV_EINVAL);
  /* a low-order point (order 8 on Curve25519) gives an all-zero secret */
  static const uint8_t low_order[32] = {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
                                        0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
                                        0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};
  assert_int_equal(cnv_sw_session_keys(a_eph_sk, low_order, hh, fx.node_pk, n_eph_pk, x, y), CNV_ESW_HANDSHAKE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello_truncated_and_extended),
      cmocka_unit_test(test_hello_every_byte),
      cmocka_unit_test(test_hello_not_the_holder),
      cmocka_unit_test(test_hello_limits),
      cmocka_unit_test(test_welcome_truncated_and_flipped),
      cmocka_unit_test(test_welcome_rules),
      cmocka_unit_test(test_handshake_end_to_end),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
