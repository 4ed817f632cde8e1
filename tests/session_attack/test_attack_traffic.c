/* Attacks on sealed traffic: nonce reuse under rotation (by frames and by time, with refused
 * seals and the session's own frames interleaved), REKEY storms and malformed REKEYs,
 * reflection, credit accounting (CANCEL, duplicate or unknown RESPONSE, overrun), sticky
 * errors and the receive counter running out. */
#include <stdlib.h>

#include "attack.h"

#define ZEROS 48

static void xchacha_only(a_pair *p) { p->sc.aeads = CNV_SESSION_AEAD_XCHACHA20POLY1305; }
static void r1_xchacha(a_pair *p) {
  xchacha_only(p);
  p->cc.rekey_frames = p->sc.rekey_frames = 1;
}
static void r1(a_pair *p) { p->cc.rekey_frames = p->sc.rekey_frames = 1; }
static void r3(a_pair *p) { p->cc.rekey_frames = p->sc.rekey_frames = 3; }
static void r3_xchacha(a_pair *p) {
  xchacha_only(p);
  p->cc.rekey_frames = p->sc.rekey_frames = 3;
}
static void by_time(a_pair *p) { p->cc.rekey_ns = p->sc.rekey_ns = 50; }
static void by_time_xchacha(a_pair *p) {
  xchacha_only(p);
  p->cc.rekey_ns = p->sc.rekey_ns = 50;
}

/* Frames collected from one direction, and what the detector keeps of them. */
typedef struct stream {
  uint8_t *buf;
  size_t len, cap;
  size_t rekeys;
} stream;

typedef struct seen {
  uint8_t ks[1024][ZEROS]; /* keystream of each zero HEARTBEAT (ciphertext of zeros) */
  size_t n_ks;
  uint8_t tag[1024][16]; /* tag of each REKEY (empty, same header: equal tags mean reuse) */
  size_t n_tag;
} seen;

static void stream_add(stream *st, const uint8_t *f, size_t n) {
  assert_true(st->len + n <= st->cap);
  memcpy(st->buf + st->len, f, n);
  st->len += n;
}

/* Records every frame of st in sn. */
static void scan(const stream *st, seen *sn) {
  for (size_t off = 0; off < st->len;) {
    const uint8_t *f = st->buf + off;
    size_t total = CNV_FRAME_HEADER_SIZE + cnv__sess_le32(f + 4);
    unsigned type = f[1] & 0x0Fu;
    if (type == CNV_MSG_HEARTBEAT) {
      assert_int_equal(total, CNV_FRAME_HEADER_SIZE + ZEROS + 16);
      assert_true(sn->n_ks < 1024);
      memcpy(sn->ks[sn->n_ks++], f + CNV_FRAME_HEADER_SIZE, ZEROS);
    } else if (type == CNV_MSG_REKEY) {
      assert_true(sn->n_tag < 1024);
      memcpy(sn->tag[sn->n_tag++], f + CNV_FRAME_HEADER_SIZE, 16);
    }
    off += total;
  }
}

/* Seals `count` zero HEARTBEATs from `from` into st: each first tried with a buffer one byte
 * too small (refused, nothing sealed), then sealed. */
static void seal_zeros(a_pair *p, cnv_session *from, stream *st, int count, uint64_t step_ns) {
  static const uint8_t zeros[ZEROS];
  uint8_t out[CNV_SESSION_SEAL_BOUND(ZEROS)];
  for (int i = 0; i < count; i++) {
    p->now += step_ns;
    size_t w = 0;
    cnv_session_stats before, after;
    assert_int_equal(cnv_session_stats_get(from, &before), CNV_OK);
    size_t small = CNV_FRAME_HEADER_SIZE + ZEROS + 16 - 1;
    assert_int_equal(cnv_session_seal(from, CNV_MSG_HEARTBEAT, 7, zeros, ZEROS, p->now, out, small, &w), CNV_ERANGE);
    assert_int_equal(cnv_session_stats_get(from, &after), CNV_OK);
    assert_int_equal(after.sealed, before.sealed); /* a refused seal used no nonce */
    w = a_seal(p, from, CNV_MSG_HEARTBEAT, 7, zeros, ZEROS, out, sizeof out);
    stream_add(st, out, w);
  }
}

static void nonce_run(a_tweak tweak, uint64_t step_ns, bool rotates) {
  a_pair p;
  a_setup(&p, tweak);
  a_handshake(&p);
  stream c2s = {malloc(1 << 16), 0, 1 << 16, 0}, s2c = {malloc(1 << 16), 0, 1 << 16, 0};
  assert_non_null(c2s.buf);
  assert_non_null(s2c.buf);
  for (int round = 0; round < 10; round++) {
    seal_zeros(&p, p.c, &c2s, 20, step_ns);
    seal_zeros(&p, p.s, &s2c, 20, step_ns);
  }
  seen *sn = calloc(1, sizeof *sn);
  assert_non_null(sn);
  scan(&c2s, sn);
  scan(&s2c, sn);
  assert_int_equal(sn->n_ks, 400);
  assert_int_equal(sn->n_tag > 0, rotates);
  for (size_t i = 0; i < sn->n_ks; i++)
    for (size_t j = i + 1; j < sn->n_ks; j++) assert_memory_not_equal(sn->ks[i], sn->ks[j], ZEROS);
  for (size_t i = 0; i < sn->n_tag; i++)
    for (size_t j = i + 1; j < sn->n_tag; j++) assert_memory_not_equal(sn->tag[i], sn->tag[j], 16);
  /* Both sides agree on every key: the peer opens all of it, in order. */
  assert_int_equal(a_feed(&p, p.s, c2s.buf, c2s.len, 0), CNV_OK);
  assert_int_equal(a_feed(&p, p.c, s2c.buf, s2c.len, 0), CNV_OK);
  assert_int_equal(p.n_ev, 0); /* HEARTBEAT and REKEY are not reported */
  cnv_session_stats cs, ss;
  assert_int_equal(cnv_session_stats_get(p.c, &cs), CNV_OK);
  assert_int_equal(cnv_session_stats_get(p.s, &ss), CNV_OK);
  assert_int_equal(ss.rekeys_received, cs.rekeys_sent);
  assert_int_equal(cs.rekeys_received, ss.rekeys_sent);
  assert_int_equal(sn->n_tag, cs.rekeys_sent + ss.rekeys_sent);
  /* The session's own ERROR (sealed through the outbox) does not reuse a HEARTBEAT's nonce
   * either: its first four keystream bytes match none of theirs. */
  assert_int_equal(cnv_session_fail(p.c, CNV_EIO), CNV_OK);
  uint8_t err[A_BUF];
  size_t en = a_pull(p.c, err);
  assert_true(en >= CNV_FRAME_HEADER_SIZE + 4 + 16);
  size_t eoff = en - (CNV_FRAME_HEADER_SIZE + 4 + 16); /* after a REKEY, if one came first */
  uint8_t ks4[4], code[4];
  cnv__sess_put32(code, (uint32_t)CNV_EIO);
  for (int k = 0; k < 4; k++) ks4[k] = err[eoff + CNV_FRAME_HEADER_SIZE + k] ^ code[k];
  for (size_t i = 0; i < sn->n_ks; i++) assert_memory_not_equal(ks4, sn->ks[i], 4);
  assert_int_equal(a_feed(&p, p.s, err, en, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.s), CNV_EIO);
  free(sn);
  free(c2s.buf);
  free(s2c.buf);
  a_teardown(&p);
}

/* No (key, nonce) pair is used twice, whatever the rotation schedule and AEAD. */
static void test_nonce_unique(void **state) {
  (void)state;
  nonce_run(NULL, 1, false);
  nonce_run(xchacha_only, 1, false);
  nonce_run(r1, 1, true);
  nonce_run(r1_xchacha, 1, true);
  nonce_run(r3, 1, true);
  nonce_run(r3_xchacha, 1, true);
  nonce_run(by_time, 17, true);
  nonce_run(by_time_xchacha, 17, true);
}

/* A peer that rotates its own key on every frame (thousands of REKEYs in one feed) costs one
 * open and one derivation per 32 bytes; it never rotates the receiver's send key, and the
 * session stays in step. */
static void test_rekey_storm(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  enum { N = 5000 };
  size_t cap = (size_t)N * 32 + 256;
  uint8_t *b = malloc(cap);
  assert_non_null(b);
  size_t off = 0;
  for (int i = 0; i < N; i++) {
    assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_REKEY, 0, NULL, 0, b + off), CNV_OK);
    assert_int_equal(cnv__session_next_key(&p.c->tx, p.now), CNV_OK);
    off += 32;
  }
  uint8_t s_tx[32];
  memcpy(s_tx, p.s->tx.key, 32);
  off += a_seal(&p, p.c, CNV_MSG_INVOCATION, 9, "demo.echo", 9, b + off, cap - off);
  assert_int_equal(a_feed(&p, p.s, b, off, 0), CNV_OK);
  assert_int_equal(p.n_ev, 1);
  assert_int_equal(p.last.type, CNV_MSG_INVOCATION);
  assert_int_equal(p.last.id, 9);
  cnv_session_stats st;
  assert_int_equal(cnv_session_stats_get(p.s, &st), CNV_OK);
  assert_int_equal(st.rekeys_received, N);
  assert_int_equal(st.rekeys_sent, 0);
  assert_memory_equal(p.s->tx.key, s_tx, 32);
  free(b);
  a_teardown(&p);
}

/* A REKEY with a payload or a correlation id is malformed, and sticky. */
static void test_rekey_malformed(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    a_pair p;
    a_setup(&p, NULL);
    a_handshake(&p);
    uint8_t f[64];
    assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_REKEY, k ? 5 : 0, (const uint8_t *)"x", k ? 0 : 1, f), CNV_OK);
    size_t n = CNV_FRAME_HEADER_SIZE + (k ? 0 : 1) + 16;
    assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_MALFORMED);
    assert_int_equal(cnv_session_error(p.s), CNV_ESESSION_MALFORMED);
    a_teardown(&p);
  }
}

/* A side's own frames fed back to it (reflection) fail to open: each direction has its key. */
static void test_reflection(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t f[128];
  size_t n = a_seal(&p, p.s, CNV_MSG_HEARTBEAT, 0, "hb", 2, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_OPEN);
  n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "demo.echo", 9, f, sizeof f);
  assert_int_equal(a_feed(&p, p.c, f, n, 0), CNV_ESESSION_OPEN);
  a_teardown(&p);
}

static void credit2(a_pair *p) { p->cc.caps.max_concurrent_calls = p->sc.caps.max_concurrent_calls = 2; }

/* CANCEL returns no credit: two INVOCATIONs, a CANCEL of one, and a third INVOCATION (forced
 * past the client's own check) overruns the server's credit. */
static void test_cancel_keeps_credit(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, credit2);
  a_handshake(&p);
  uint8_t f[256];
  size_t n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "a", 1, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 2, "b", 1, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  n = a_seal(&p, p.c, CNV_MSG_CANCEL, 1, NULL, 0, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  assert_int_equal(p.last.type, CNV_MSG_CANCEL);
  size_t w = 0;
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_INVOCATION, 3, "c", 1, p.now, f, sizeof f, &w), CNV_EFULL);
  p.c->in_flight = 0; /* a client that ignores its credit */
  n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 3, "c", 1, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_CREDIT);
  a_teardown(&p);
}

/* RESPONSEs the client did not ask for: none in flight, or one more than in flight. */
static void test_unsolicited_response(void **state) {
  (void)state;
  static const uint8_t resp[8] = {0};
  for (int k = 0; k < 2; k++) {
    a_pair p;
    a_setup(&p, NULL);
    a_handshake(&p);
    uint8_t f[256];
    size_t n;
    if (k == 1) {
      n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "a", 1, f, sizeof f);
      assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
      n = a_seal(&p, p.s, CNV_MSG_RESPONSE, 1, resp, sizeof resp, f, sizeof f);
      assert_int_equal(a_feed(&p, p.c, f, n, 0), CNV_OK);
    }
    /* the server refuses to seal it; a broken server forcing it is refused by the client */
    size_t w = 0;
    assert_int_equal(cnv_session_seal(p.s, CNV_MSG_RESPONSE, 1, resp, sizeof resp, p.now, f, sizeof f, &w),
                     CNV_ESTATE);
    assert_int_equal(cnv_session_error(p.s), CNV_OK); /* not sticky */
    p.s->in_flight = 1;
    n = a_seal(&p, p.s, CNV_MSG_RESPONSE, 1, resp, sizeof resp, f, sizeof f);
    assert_int_equal(a_feed(&p, p.c, f, n, 0), CNV_ESESSION_UNEXPECTED);
    cnv_session_stats st;
    assert_int_equal(cnv_session_stats_get(p.c, &st), CNV_OK);
    assert_int_equal(st.in_flight, 0);
    a_teardown(&p);
  }
}

/* Messages from the wrong side: INVOCATION or CANCEL to the client, RESPONSE to the server, an
 * INVOCATION after the client's own SHUTDOWN. */
static void test_wrong_direction(void **state) {
  (void)state;
  for (int k = 0; k < 4; k++) {
    a_pair p;
    a_setup(&p, NULL);
    a_handshake(&p);
    uint8_t f[256];
    cnv_session *to = p.c;
    static const uint8_t resp[8] = {0};
    if (k == 0) assert_int_equal(cnv__session_seal_one(p.s, CNV_MSG_INVOCATION, 1, resp, 1, f), CNV_OK);
    if (k == 1) assert_int_equal(cnv__session_seal_one(p.s, CNV_MSG_CANCEL, 1, resp, 0, f), CNV_OK);
    if (k == 2) {
      to = p.s;
      assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_RESPONSE, 1, resp, 8, f), CNV_OK);
    }
    if (k == 3) {
      size_t n = a_seal(&p, p.c, CNV_MSG_SHUTDOWN, 0, NULL, 0, f, sizeof f);
      assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
      to = p.s;
      assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_INVOCATION, 1, resp, 1, f), CNV_OK);
    }
    size_t len = CNV_FRAME_HEADER_SIZE + cnv__sess_le32(f + 4);
    assert_int_equal(a_feed(&p, to, f, len, 0), CNV_ESESSION_UNEXPECTED);
    a_teardown(&p);
  }
}

/* After an error every call returns it, even for valid input; fail does not replace it; pull
 * still gives the ERROR once. */
static void test_sticky(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t good[128], bad[128], out[A_BUF];
  size_t gn = a_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "a", 1, good, sizeof good);
  size_t bn = a_seal(&p, p.c, CNV_MSG_INVOCATION, 2, "b", 1, bad, sizeof bad);
  bad[bn - 1] ^= 1;
  assert_int_equal(a_feed(&p, p.s, good, gn, 0), CNV_OK);
  assert_int_equal(a_feed(&p, p.s, bad, bn, 0), CNV_ESESSION_OPEN);
  size_t used = 99;
  cnv_session_event ev;
  uint8_t again[128];
  memcpy(again, good, gn);
  assert_int_equal(cnv_session_feed(p.s, again, gn, p.now, &used, &ev), CNV_ESESSION_OPEN);
  assert_int_equal(used, 0);
  assert_int_equal(ev.kind, 0);
  size_t w = 0;
  static const uint8_t resp[8] = {0};
  assert_int_equal(cnv_session_seal(p.s, CNV_MSG_RESPONSE, 1, resp, 8, p.now, out, sizeof out, &w),
                   CNV_ESESSION_OPEN);
  assert_int_equal(cnv_session_accept(p.s), CNV_ESESSION_OPEN);
  assert_int_equal(cnv_session_fail(p.s, CNV_ESESSION_CREDIT), CNV_OK);
  assert_int_equal(cnv_session_error(p.s), CNV_ESESSION_OPEN);
  size_t n = a_pull(p.s, out);
  assert_int_equal(n, CNV_FRAME_HEADER_SIZE + 4 + 16); /* one ERROR, not two */
  assert_int_equal(a_pull(p.s, out), 0);
  assert_int_equal(a_feed(&p, p.c, out, n, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.c), CNV_ESESSION_OPEN);
  a_teardown(&p);
}

/* The receive counter at its last value: the next frame is refused, no nonce is reused. */
static void test_rx_counter_exhausted(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t f[128];
  size_t n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "x", 1, f, sizeof f);
  p.s->rx.counter = UINT64_MAX;
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_NONCE_EXHAUSTED);
  assert_int_equal(cnv_session_error(p.s), CNV_ESESSION_NONCE_EXHAUSTED);
  a_teardown(&p);
}

/* A clock that goes backwards neither rotates nor breaks the session. */
static void test_clock_backwards(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, by_time);
  a_handshake(&p);
  uint8_t f[128];
  p.now = 10;
  size_t n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "a", 1, f, sizeof f);
  assert_int_equal(n, CNV_FRAME_HEADER_SIZE + 1 + 16);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  p.now = UINT64_MAX;
  n = a_seal(&p, p.c, CNV_MSG_CANCEL, 1, NULL, 0, f, sizeof f);
  assert_int_equal(n, 2 * (CNV_FRAME_HEADER_SIZE + 16)); /* REKEY first */
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  p.now = 0;
  n = a_seal(&p, p.c, CNV_MSG_CANCEL, 1, NULL, 0, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  a_teardown(&p);
}

/* A CANCEL names its request by id only: one with a payload is malformed, and sticky. */
static void test_cancel_with_payload(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t f[128];
  size_t n = a_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "demo.echo", 9, f, sizeof f);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  size_t w = 0; /* the honest sender refuses it too */
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_CANCEL, 1, "x", 1, p.now, f, sizeof f, &w), CNV_EINVAL);
  assert_int_equal(w, 0);
  assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_CANCEL, 1, (const uint8_t *)"x", 1, f), CNV_OK);
  assert_int_equal(a_feed(&p, p.s, f, CNV_FRAME_HEADER_SIZE + 1 + 16, 0), CNV_ESESSION_MALFORMED);
  assert_int_equal(cnv_session_error(p.s), CNV_ESESSION_MALFORMED);
  a_teardown(&p);
}

/* The volume trigger: a key that sealed 2^36 plaintext bytes is rotated before the next frame,
 * whatever rekey_frames says (white-box: the count is set just below the limit), and the
 * peer follows. */
static void test_rekey_by_volume(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t f[256];
  p.c->tx.bytes = CNV__SESSION_REKEY_BYTES - 1;
  size_t n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "xy", 2, f, sizeof f); /* reaches the limit */
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  cnv_session_stats st;
  assert_int_equal(cnv_session_stats_get(p.c, &st), CNV_OK);
  assert_int_equal(st.rekeys_sent, 0);
  n = a_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, "z", 1, f, sizeof f); /* REKEY first, then this */
  assert_int_equal(n, 2u * (CNV_FRAME_HEADER_SIZE + 16u) + 1u);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_OK);
  assert_int_equal(cnv_session_stats_get(p.c, &st), CNV_OK);
  assert_int_equal(st.rekeys_sent, 1);
  assert_int_equal(p.c->tx.bytes, 1);
  assert_int_equal(cnv_session_stats_get(p.s, &st), CNV_OK);
  assert_int_equal(st.rekeys_received, 1);
  assert_int_equal(cnv_session_error(p.s), CNV_OK);
  a_teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_nonce_unique, a_cleanup),
      cmocka_unit_test_teardown(test_rekey_storm, a_cleanup),
      cmocka_unit_test_teardown(test_rekey_malformed, a_cleanup),
      cmocka_unit_test_teardown(test_reflection, a_cleanup),
      cmocka_unit_test_teardown(test_cancel_keeps_credit, a_cleanup),
      cmocka_unit_test_teardown(test_unsolicited_response, a_cleanup),
      cmocka_unit_test_teardown(test_wrong_direction, a_cleanup),
      cmocka_unit_test_teardown(test_sticky, a_cleanup),
      cmocka_unit_test_teardown(test_rx_counter_exhausted, a_cleanup),
      cmocka_unit_test_teardown(test_clock_backwards, a_cleanup),
      cmocka_unit_test_teardown(test_cancel_with_payload, a_cleanup),
      cmocka_unit_test_teardown(test_rekey_by_volume, a_cleanup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
