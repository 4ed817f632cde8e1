/* Tickets, requests, responses and refusals: every truncation refused, every flipped bit
 * refused, another swarm or key refused, a request moved to another subject or reply subject
 * refused (including a different split of the same characters), the limits and the argument
 * errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static fixture fx;
static uint8_t big_token[CNV_SW_MAX_TOKEN];
static uint8_t buf[CNV_SW_MAX_TICKET + 4096];
static uint8_t plain[CNV_SW_MAX_TICKET + 4096];
static const char inv[] = "INVOCATION bytes";

static int setup(void **state) {
  (void)state;
  memset(big_token, 'B', sizeof big_token);
  return fixture_init(&fx);
}

static cnv_sw_ticket a_ticket(void) {
  cnv_sw_ticket t = {.issued_ms = 10, .expires_ms = 20, .token = fx.token, .token_len = sizeof fx.token};
  memcpy(t.sid, fx.sid, 16);
  memcpy(t.agent_pk, fx.agent_pk, 32);
  memcpy(t.node_pk, fx.node_pk, 32);
  memcpy(t.key_c2s, fx.c2s, 32);
  memcpy(t.key_s2c, fx.s2c, 32);
  return t;
}

static void test_ticket_every_length_and_bit(void **state) {
  (void)state;
  cnv_sw_ticket t;
  uint32_t e;
  for (size_t l = 0; l < fx.ticket_len; l++) {
    uint8_t *c = fixture_exact(fx.ticket, l);
    cnv_status st = cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, c, l, plain, sizeof plain, &t);
    assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_TICKET);
    if (l < 29 + 162 + 1 + 16) assert_int_equal(cnv_sw_ticket_epoch(c, l, &e), CNV_ESW_MALFORMED);
    free(c);
  }
  uint8_t copy[CNV_SW_MAX_TICKET + 1];
  memcpy(copy, fx.ticket, fx.ticket_len);
  copy[fx.ticket_len] = 0;
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, copy, fx.ticket_len + 1, plain, sizeof plain, &t),
                   CNV_ESW_TICKET);
  for (size_t i = 0; i < fx.ticket_len; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      copy[i] ^= (uint8_t)(1u << bit);
      cnv_status st = cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, copy, fx.ticket_len, plain, sizeof plain, &t);
      assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_TICKET);
      copy[i] ^= (uint8_t)(1u << bit);
    }
  }
  /* another key, another swarm */
  uint8_t other[32];
  memcpy(other, fx.swarm_key, 32);
  other[0] ^= 1;
  assert_int_equal(cnv_sw_ticket_open(other, FX_SWARM, fx.ticket, fx.ticket_len, plain, sizeof plain, &t),
                   CNV_ESW_TICKET);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM + 1, fx.ticket, fx.ticket_len, plain, sizeof plain, &t),
                   CNV_ESW_TICKET);
  /* the epoch is in clear but bound: rewriting it breaks the seal */
  memcpy(copy, fx.ticket, fx.ticket_len);
  copy[1] = 2;
  assert_int_equal(cnv_sw_ticket_epoch(copy, fx.ticket_len, &e), CNV_OK);
  assert_int_equal(e, 2);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, copy, fx.ticket_len, plain, sizeof plain, &t),
                   CNV_ESW_TICKET);
  copy[1] = 1;
  copy[0] = 9; /* version */
  assert_int_equal(cnv_sw_ticket_epoch(copy, fx.ticket_len, &e), CNV_ESW_MALFORMED);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, copy, fx.ticket_len, plain, sizeof plain, &t),
                   CNV_ESW_MALFORMED);
}

static void test_ticket_limits(void **state) {
  (void)state;
  cnv_sw_ticket t = a_ticket(), out;
  size_t w = 0;
  /* the largest token fits CNV_SW_MAX_TICKET and round-trips, with epoch and nonce fresh */
  t.token = big_token;
  t.token_len = CNV_SW_MAX_TOKEN;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 0xDEADBEEFu, FX_SWARM, &t, buf, CNV_SW_MAX_TICKET, &w), CNV_OK);
  assert_true(w <= CNV_SW_MAX_TICKET);
  uint32_t e = 0;
  assert_int_equal(cnv_sw_ticket_epoch(buf, w, &e), CNV_OK);
  assert_int_equal(e, 0xDEADBEEFu);
  /* plain cap: the sealed length suffices, one less than the plaintext does not */
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, buf, w, plain, w - 29 - 16 - 1, &out), CNV_ERANGE);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, buf, w, plain, w - 29 - 16, &out), CNV_OK);
  assert_int_equal(out.token_len, CNV_SW_MAX_TOKEN);
  assert_ptr_equal(out.token, plain + 162);
  t.token_len = CNV_SW_MAX_TOKEN + 1;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, buf, sizeof buf, &w), CNV_ERANGE);
  t.token_len = 0;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, buf, sizeof buf, &w), CNV_ERANGE);
  /* two seals of the same ticket differ (random nonce) */
  t = a_ticket();
  uint8_t a[512], b[512];
  size_t wa = 0, wb = 0;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, a, sizeof a, &wa), CNV_OK);
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, b, sizeof b, &wb), CNV_OK);
  assert_int_equal(wa, wb);
  assert_memory_not_equal(a, b, wa);
  /* cap one short: nothing written */
  memset(a, 0xEE, sizeof a);
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, a, wa - 1, &w), CNV_ERANGE);
  assert_int_equal(a[0], 0xEE);
  /* issued after expiry */
  t.issued_ms = 30;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, a, sizeof a, &w), CNV_EINVAL);
  /* NULLs */
  t = a_ticket();
  assert_int_equal(cnv_sw_ticket_seal(NULL, 1, FX_SWARM, &t, a, sizeof a, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, NULL, a, sizeof a, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, NULL, sizeof a, &w), CNV_EINVAL);
  t.token = NULL;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, a, sizeof a, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_epoch(NULL, wa, &e), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_epoch(b, wb, NULL), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_open(NULL, FX_SWARM, b, wb, plain, sizeof plain, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, b, wb, NULL, sizeof plain, &out), CNV_EINVAL);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, b, wb, plain, sizeof plain, NULL), CNV_EINVAL);
}

static void test_ticket_authentic_but_inconsistent(void **state) {
  (void)state;
  /* sealed by hand under the swarm key: a token length that disagrees with the plaintext's
   * length is malformed, and the plaintext is wiped */
  cnv_sw_ticket t = a_ticket(), out;
  size_t w = 0;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, buf, sizeof buf, &w), CNV_OK);
  size_t n = w - 29 - 16;
  uint8_t ad[18 + 8 + 5];
  memcpy(ad, "cnv-swarm/1 ticket", 18);
  for (int i = 0; i < 8; i++) ad[18 + i] = (uint8_t)(FX_SWARM >> (8 * i));
  memcpy(ad + 26, buf, 5);
  assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, buf + 29, w - 29, ad, sizeof ad,
                                                              buf + 5, fx.swarm_key),
                   0);
  plain[160] ^= 1; /* token length */
  assert_int_equal(
      crypto_aead_xchacha20poly1305_ietf_encrypt(buf + 29, NULL, plain, n, ad, sizeof ad, NULL, buf + 5, fx.swarm_key),
      0);
  uint8_t out_plain[512];
  memset(out_plain, 0, sizeof out_plain);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, buf, w, out_plain, sizeof out_plain, &out),
                   CNV_ESW_MALFORMED);
  uint8_t zero[512] = {0};
  assert_memory_equal(out_plain, zero, n);
  /* and the same bytes unaltered open: the reference above is right */
  plain[160] ^= 1;
  assert_int_equal(
      crypto_aead_xchacha20poly1305_ietf_encrypt(buf + 29, NULL, plain, n, ad, sizeof ad, NULL, buf + 5, fx.swarm_key),
      0);
  assert_int_equal(cnv_sw_ticket_open(fx.swarm_key, FX_SWARM, buf, w, out_plain, sizeof out_plain, &out), CNV_OK);
}

static size_t seal_request(uint8_t *out, size_t cap) {
  size_t w = 0;
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 9, 1234, 5678, 1, fx.subject, fx.reply, inv,
                                       sizeof inv, out, cap, &w),
                   CNV_OK);
  return w;
}

/* Parses and opens with the fixture's key and subjects. */
static cnv_status parse_open(const uint8_t *in, size_t len, const char *subject, const char *reply) {
  cnv_sw_request r;
  cnv_status st = cnv_sw_request_parse(in, len, &r);
  if (st != CNV_OK) return st;
  size_t n = 0;
  return cnv_sw_request_open(fx.c2s, &r, subject, reply, plain, sizeof plain, &n);
}

static void test_request_every_length_and_bit(void **state) {
  (void)state;
  size_t w = seal_request(buf, sizeof buf);
  assert_int_equal(w, 29 + fx.ticket_len + 24 + sizeof inv + 16);
  assert_int_equal(parse_open(buf, w, fx.subject, fx.reply), CNV_OK);
  for (size_t l = 0; l < w; l++) {
    uint8_t *c = fixture_exact(buf, l);
    cnv_status st = parse_open(c, l, fx.subject, fx.reply);
    assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_OPEN);
    /* up to the smallest sealed part, framing alone refuses it */
    if (l < 29 + fx.ticket_len + 40) assert_int_equal(st, CNV_ESW_MALFORMED);
    free(c);
  }
  buf[w] = 0;
  assert_int_equal(parse_open(buf, w + 1, fx.subject, fx.reply), CNV_ESW_OPEN);
  for (size_t i = 0; i < w; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      buf[i] ^= (uint8_t)(1u << bit);
      cnv_status st = parse_open(buf, w, fx.subject, fx.reply);
      assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_OPEN);
      buf[i] ^= (uint8_t)(1u << bit);
    }
  }
  assert_int_equal(parse_open(buf, w, fx.subject, fx.reply), CNV_OK);
}

static void test_request_fields_and_binding(void **state) {
  (void)state;
  size_t w = seal_request(buf, sizeof buf);
  cnv_sw_request r;
  assert_int_equal(cnv_sw_request_parse(buf, w, &r), CNV_OK);
  assert_int_equal(r.attempt, 1);
  assert_int_equal(r.seq, 9);
  assert_int_equal(r.reqid, 1234);
  assert_int_equal(r.ts_ms, 5678);
  assert_ptr_equal(r.ticket, buf + 29);
  assert_ptr_equal(r.head, buf);
  assert_int_equal(r.head_len, 29 + fx.ticket_len);
  assert_ptr_equal(r.sealed, buf + r.head_len);
  assert_int_equal(r.sealed_len, w - r.head_len);
  size_t n = 0;
  /* plain cap: r->sealed_len suffices, one less than the plaintext does not */
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, fx.reply, plain, sizeof inv - 1, &n), CNV_ERANGE);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, fx.reply, plain, sizeof inv, &n), CNV_OK);
  assert_memory_equal(plain, inv, sizeof inv);
  /* another key */
  assert_int_equal(cnv_sw_request_open(fx.s2c, &r, fx.subject, fx.reply, plain, sizeof plain, &n), CNV_ESW_OPEN);
  /* moved: another capability, another swarm's subject, another request's reply subject */
  char other[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_cap(FX_SWARM, "demo.echx", 9, other, sizeof other, NULL), CNV_OK);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, other, fx.reply, plain, sizeof plain, &n), CNV_ESW_OPEN);
  assert_int_equal(cnv_sw_subject_cap(FX_SWARM + 1, "demo.echo", 9, other, sizeof other, NULL), CNV_OK);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, other, fx.reply, plain, sizeof plain, &n), CNV_ESW_OPEN);
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, FX_SWARM, fx.sid, 43, other, sizeof other, NULL),
                   CNV_OK);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, other, plain, sizeof plain, &n), CNV_ESW_OPEN);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, "", plain, sizeof plain, &n), CNV_ESW_OPEN);
  /* the same characters split differently between subject and reply */
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 9, 1234, 5678, 1, "a", "bc", inv, sizeof inv,
                                       buf, sizeof buf, &w),
                   CNV_OK);
  assert_int_equal(parse_open(buf, w, "a", "bc"), CNV_OK);
  assert_int_equal(parse_open(buf, w, "ab", "c"), CNV_ESW_OPEN);
  assert_int_equal(parse_open(buf, w, "abc", ""), CNV_ESW_OPEN);
  assert_int_equal(parse_open(buf, w, "bc", "a"), CNV_ESW_OPEN);
  /* a header field changed after sealing (attempt, seq, reqid, time) */
  for (size_t at = 2; at < 29; at++) {
    if (at == 3 || at == 4) continue; /* the ticket length: framing */
    w = seal_request(buf, sizeof buf);
    buf[at] ^= 0x40;
    assert_int_equal(parse_open(buf, w, fx.subject, fx.reply), CNV_ESW_OPEN); /* seq stays non-zero */
  }
  /* a ticket swapped for another one (same length) */
  w = seal_request(buf, sizeof buf);
  cnv_sw_ticket t = a_ticket();
  size_t tw = 0;
  assert_int_equal(cnv_sw_ticket_seal(fx.swarm_key, 1, FX_SWARM, &t, buf + 29, fx.ticket_len, &tw), CNV_OK);
  assert_int_equal(tw, fx.ticket_len);
  assert_int_equal(parse_open(buf, w, fx.subject, fx.reply), CNV_ESW_OPEN);
}

static void test_request_limits(void **state) {
  (void)state;
  size_t w = 0;
  /* seq 0 */
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 0, 1, 1, 0, fx.subject, fx.reply, inv,
                                       sizeof inv, buf, sizeof buf, &w),
                   CNV_ERANGE);
  w = seal_request(buf, sizeof buf);
  memset(buf + 5, 0, 8);
  cnv_sw_request r;
  assert_int_equal(cnv_sw_request_parse(buf, w, &r), CNV_ESW_MALFORMED);
  /* tickets too short or too long */
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, 29 + 162 + 16, 1, 1, 1, 0, fx.subject, fx.reply, inv,
                                       sizeof inv, buf, sizeof buf, &w),
                   CNV_ERANGE);
  assert_int_equal(cnv_sw_request_seal(fx.c2s, buf, CNV_SW_MAX_TICKET + 1, 1, 1, 1, 0, fx.subject, fx.reply, inv,
                                       sizeof inv, plain, sizeof plain, &w),
                   CNV_ERANGE);
  /* the overhead bound, with an empty plaintext and with the largest ticket */
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 1, 1, 1, 0, fx.subject, fx.reply, NULL, 0,
                                       buf, fx.ticket_len + CNV_SW_REQUEST_OVERHEAD, &w),
                   CNV_OK);
  assert_int_equal(parse_open(buf, w, fx.subject, fx.reply), CNV_OK);
  memset(plain, 0x77, CNV_SW_MAX_TICKET);
  static uint8_t big[CNV_SW_MAX_TICKET + 64 + CNV_SW_REQUEST_OVERHEAD];
  assert_int_equal(cnv_sw_request_seal(fx.c2s, plain, CNV_SW_MAX_TICKET, 1, 1, 1, 0, fx.subject, fx.reply, buf, 64,
                                       big, sizeof big, &w),
                   CNV_OK);
  assert_int_equal(cnv_sw_request_parse(big, w, &r), CNV_OK);
  assert_int_equal(r.ticket_len, CNV_SW_MAX_TICKET);
  /* cap one short: nothing written */
  size_t need = 29 + fx.ticket_len + 24 + sizeof inv + 16;
  memset(buf, 0xEE, need);
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 1, 1, 1, 0, fx.subject, fx.reply, inv,
                                       sizeof inv, buf, need - 1, &w),
                   CNV_ERANGE);
  assert_int_equal(buf[0], 0xEE);
  /* NULLs */
  assert_int_equal(cnv_sw_request_seal(NULL, fx.ticket, fx.ticket_len, 1, 1, 1, 0, fx.subject, fx.reply, inv,
                                       sizeof inv, buf, sizeof buf, &w),
                   CNV_EINVAL);
  assert_int_equal(cnv_sw_request_seal(fx.c2s, NULL, fx.ticket_len, 1, 1, 1, 0, fx.subject, fx.reply, inv, sizeof inv,
                                       buf, sizeof buf, &w),
                   CNV_EINVAL);
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 1, 1, 1, 0, NULL, fx.reply, inv, sizeof inv,
                                       buf, sizeof buf, &w),
                   CNV_EINVAL);
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 1, 1, 1, 0, fx.subject, NULL, inv, sizeof inv,
                                       buf, sizeof buf, &w),
                   CNV_EINVAL);
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, fx.ticket_len, 1, 1, 1, 0, fx.subject, fx.reply, NULL, 3,
                                       buf, sizeof buf, &w),
                   CNV_EINVAL);
  w = seal_request(buf, sizeof buf);
  assert_int_equal(cnv_sw_request_parse(NULL, w, &r), CNV_EINVAL);
  assert_int_equal(cnv_sw_request_parse(buf, w, NULL), CNV_EINVAL);
  assert_int_equal(cnv_sw_request_parse(buf, w, &r), CNV_OK);
  size_t n;
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, NULL, plain, sizeof plain, &n), CNV_EINVAL);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, fx.reply, NULL, sizeof plain, &n), CNV_EINVAL);
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, fx.reply, plain, sizeof plain, NULL), CNV_EINVAL);
  cnv_sw_request bogus = r;
  bogus.sealed_len = 39;
  assert_int_equal(cnv_sw_request_open(fx.c2s, &bogus, fx.subject, fx.reply, plain, sizeof plain, &n), CNV_EINVAL);
}

/* A REQUEST without its ticket (the node holds the session): 29 bytes of head, every
 * truncation and flipped bit refused, a ticket length of 1..207 refused, and a ticketed
 * request with its ticket cut out (length 0 written in) does not open. */
static void test_request_ticketless(void **state) {
  (void)state;
  size_t w = 0;
  assert_int_equal(cnv_sw_request_seal(fx.c2s, NULL, 0, 9, 1234, 5678, 2, fx.subject, fx.reply, inv, sizeof inv, buf,
                                       sizeof buf, &w),
                   CNV_OK);
  assert_int_equal(w, 29 + 24 + sizeof inv + 16);
  cnv_sw_request r;
  assert_int_equal(cnv_sw_request_parse(buf, w, &r), CNV_OK);
  assert_null(r.ticket);
  assert_int_equal(r.ticket_len, 0);
  assert_int_equal(r.head_len, 29);
  assert_int_equal(r.attempt, 2);
  assert_int_equal(r.seq, 9);
  assert_int_equal(r.reqid, 1234);
  assert_int_equal(r.ts_ms, 5678);
  assert_ptr_equal(r.sealed, buf + 29);
  size_t n = 0;
  assert_int_equal(cnv_sw_request_open(fx.c2s, &r, fx.subject, fx.reply, plain, sizeof plain, &n), CNV_OK);
  assert_int_equal(n, sizeof inv);
  assert_memory_equal(plain, inv, sizeof inv);
  /* a non-NULL ticket with length 0 is no ticket either */
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, 0, 9, 1234, 5678, 2, fx.subject, fx.reply, inv, sizeof inv,
                                       plain, sizeof plain, &n),
                   CNV_OK);
  assert_int_equal(n, w);
  assert_memory_equal(plain, buf, 29); /* the same head; the nonces differ */
  for (size_t l = 0; l < w; l++) {
    uint8_t *c = fixture_exact(buf, l);
    cnv_status st = parse_open(c, l, fx.subject, fx.reply);
    assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_OPEN);
    if (l < 29 + 40) assert_int_equal(st, CNV_ESW_MALFORMED);
    free(c);
  }
  for (size_t i = 0; i < w; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      buf[i] ^= (uint8_t)(1u << bit);
      cnv_status st = parse_open(buf, w, fx.subject, fx.reply);
      assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_OPEN);
      buf[i] ^= (uint8_t)(1u << bit);
    }
  }
  assert_int_equal(parse_open(buf, w, fx.subject, fx.reply), CNV_OK);
  /* moved to another reply subject: does not open */
  char other[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_session(CNV_SW_SESS_REPLY, FX_SWARM, fx.sid, 43, other, sizeof other, NULL),
                   CNV_OK);
  assert_int_equal(parse_open(buf, w, fx.subject, other), CNV_ESW_OPEN);
  /* ticket lengths between none and the smallest ticket */
  assert_int_equal(cnv_sw_request_seal(fx.c2s, fx.ticket, 1, 9, 1, 1, 0, fx.subject, fx.reply, inv, sizeof inv, plain,
                                       sizeof plain, &n),
                   CNV_ERANGE);
  buf[3] = 1;
  assert_int_equal(cnv_sw_request_parse(buf, w, &r), CNV_ESW_MALFORMED);
  buf[3] = 0;
  /* a ticketed request with its ticket cut out and length 0 written in: the head is
   * authenticated, so it does not open */
  size_t tw = seal_request(plain, sizeof plain);
  memmove(plain + 29, plain + 29 + fx.ticket_len, tw - 29 - fx.ticket_len);
  plain[3] = plain[4] = 0;
  static uint8_t cut[CNV_SW_MAX_TICKET + 4096];
  memcpy(cut, plain, tw - fx.ticket_len);
  assert_int_equal(parse_open(cut, tw - fx.ticket_len, fx.subject, fx.reply), CNV_ESW_OPEN);
}

static void test_response_every_length_and_bit(void **state) {
  (void)state;
  static const char ans[] = "RESPONSE bytes";
  size_t w = 0, n = 0;
  assert_int_equal(cnv_sw_response_seal(fx.s2c, 77, ans, sizeof ans, buf, sizeof buf, &w), CNV_OK);
  assert_int_equal(w, 10 + 24 + sizeof ans + 16);
  cnv_sw_response r;
  for (size_t l = 0; l < w; l++) {
    uint8_t *c = fixture_exact(buf, l);
    cnv_status st = cnv_sw_response_parse(c, l, &r);
    if (st == CNV_OK) st = cnv_sw_response_open(fx.s2c, &r, plain, sizeof plain, &n);
    assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_OPEN);
    if (l < 50) assert_int_equal(st, CNV_ESW_MALFORMED);
    free(c);
  }
  for (size_t i = 0; i < w; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      buf[i] ^= (uint8_t)(1u << bit);
      cnv_status st = cnv_sw_response_parse(buf, w, &r);
      if (st == CNV_OK) {
        assert_false(r.refusal); /* a refusal has one length, 14 */
        st = cnv_sw_response_open(fx.s2c, &r, plain, sizeof plain, &n);
      }
      assert_true(st == CNV_ESW_MALFORMED || st == CNV_ESW_OPEN);
      buf[i] ^= (uint8_t)(1u << bit);
    }
  }
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_int_equal(r.reqid, 77);
  assert_ptr_equal(r.sealed, buf + 10);
  assert_int_equal(cnv_sw_response_open(fx.c2s, &r, plain, sizeof plain, &n), CNV_ESW_OPEN);
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, sizeof ans - 1, &n), CNV_ERANGE);
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, sizeof ans, &n), CNV_OK);
  assert_memory_equal(plain, ans, sizeof ans);
  /* an answer to another request: the reqid is bound */
  buf[2] ^= 1;
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_int_equal(r.reqid, 76);
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, sizeof plain, &n), CNV_ESW_OPEN);
  buf[2] ^= 1;
  /* a request sealed under the same key is not a response (the kind and the AD differ) */
  size_t rw = 0;
  assert_int_equal(cnv_sw_request_seal(fx.s2c, fx.ticket, fx.ticket_len, 1, 77, 1, 0, fx.subject, fx.reply, ans,
                                       sizeof ans, plain, sizeof plain, &rw),
                   CNV_OK);
  assert_int_equal(cnv_sw_response_parse(plain, rw, &r), CNV_ESW_MALFORMED);
  /* empty answer */
  assert_int_equal(cnv_sw_response_seal(fx.s2c, 1, NULL, 0, buf, CNV_SW_RESPONSE_OVERHEAD, &w), CNV_OK);
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, 0, &n), CNV_OK);
  assert_int_equal(n, 0);
  /* cap one short, NULLs */
  memset(buf, 0xEE, 64);
  assert_int_equal(cnv_sw_response_seal(fx.s2c, 1, ans, sizeof ans, buf, 10 + 40 + sizeof ans - 1, &w), CNV_ERANGE);
  assert_int_equal(buf[0], 0xEE);
  assert_int_equal(cnv_sw_response_seal(NULL, 1, ans, sizeof ans, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_response_seal(fx.s2c, 1, NULL, 3, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_response_seal(fx.s2c, 1, ans, sizeof ans, NULL, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_response_parse(NULL, 20, &r), CNV_EINVAL);
  assert_int_equal(cnv_sw_response_parse(buf, 20, NULL), CNV_EINVAL);
}

static void test_refusal(void **state) {
  (void)state;
  size_t w = 0;
  cnv_sw_response r;
  assert_int_equal(cnv_sw_refusal_write(UINT64_MAX - 1, CNV_ESW_TICKET, buf, 14, &w), CNV_OK);
  assert_int_equal(w, 14);
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_true(r.refusal);
  assert_int_equal(r.reqid, UINT64_MAX - 1);
  assert_int_equal(r.status, CNV_ESW_TICKET);
  assert_null(r.sealed);
  for (size_t l = 0; l < w; l++) {
    uint8_t *c = fixture_exact(buf, l);
    assert_int_equal(cnv_sw_response_parse(c, l, &r), CNV_ESW_MALFORMED);
    free(c);
  }
  buf[14] = 0;
  assert_int_equal(cnv_sw_response_parse(buf, 15, &r), CNV_ESW_MALFORMED);
  /* the most negative status, then non-negative ones on the wire */
  assert_int_equal(cnv_sw_refusal_write(1, INT32_MIN, buf, 14, &w), CNV_OK);
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  assert_int_equal(r.status, INT32_MIN);
  memset(buf + 10, 0, 4); /* status 0 */
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_ESW_MALFORMED);
  buf[10] = 5;
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_ESW_MALFORMED);
  /* unknown kind and version */
  assert_int_equal(cnv_sw_refusal_write(1, -1, buf, 14, &w), CNV_OK);
  buf[1] = 6;
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_ESW_MALFORMED);
  buf[1] = 5;
  buf[0] = 0;
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_ESW_MALFORMED);
  /* writer's refusals */
  assert_int_equal(cnv_sw_refusal_write(1, 0, buf, 14, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_refusal_write(1, 3, buf, 14, &w), CNV_EINVAL);
  assert_int_equal(cnv_sw_refusal_write(1, -1, buf, 13, &w), CNV_ERANGE);
  assert_int_equal(cnv_sw_refusal_write(1, -1, NULL, 14, &w), CNV_EINVAL);
  /* a refusal does not open */
  assert_int_equal(cnv_sw_refusal_write(1, -1, buf, 14, &w), CNV_OK);
  assert_int_equal(cnv_sw_response_parse(buf, w, &r), CNV_OK);
  size_t n;
  assert_int_equal(cnv_sw_response_open(fx.s2c, &r, plain, sizeof plain, &n), CNV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ticket_every_length_and_bit),
      cmocka_unit_test(test_ticket_limits),
      cmocka_unit_test(test_ticket_authentic_but_inconsistent),
      cmocka_unit_test(test_request_every_length_and_bit),
      cmocka_unit_test(test_request_fields_and_binding),
      cmocka_unit_test(test_request_limits),
      cmocka_unit_test(test_request_ticketless),
      cmocka_unit_test(test_response_every_length_and_bit),
      cmocka_unit_test(test_refusal),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
