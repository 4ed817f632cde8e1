/* Sealed traffic: messages both ways, many in flight answered out of order, the credit, key
 * rotation by frames and by time in both directions, every byte position of a sealed frame
 * modified, replayed / reordered / dropped / truncated frames, every split of a stream,
 * SHUTDOWN, ERROR, HEARTBEAT and a spent nonce counter. */
#include <stdio.h>

#include "cnv_test_util.h"
#include "harness.h"

/* Client sends INVOCATION id with a payload naming id; returns the frame size. */
static size_t invoke(h_pair *p, uint64_t id, uint8_t *buf, size_t cap) {
  char line[64];
  int n = snprintf(line, sizeof line, "demo.echo --text %llu", (unsigned long long)id);
  return h_seal(p, p->c, CNV_MSG_INVOCATION, id, line, (size_t)n, buf, cap);
}

static void test_messages_both_ways(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  uint8_t buf[512];
  size_t n = invoke(&p, 42, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.s, buf, n, 0), CNV_OK);
  assert_int_equal(p.n_ev, 1);
  assert_int_equal(p.ev[0].kind, CNV_SESSION_EV_MESSAGE);
  assert_int_equal(p.ev[0].type, CNV_MSG_INVOCATION);
  assert_int_equal(p.ev[0].id, 42);
  assert_int_equal(p.ev[0].len, strlen("demo.echo --text 42"));
  assert_memory_equal(p.ev[0].data, "demo.echo --text 42", p.ev[0].len);
  n = h_seal(&p, p.s, CNV_MSG_RESPONSE, 42, "42", 2, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.c, buf, n, 0), CNV_OK);
  assert_int_equal(p.n_ev, 2);
  assert_int_equal(p.ev[1].type, CNV_MSG_RESPONSE);
  assert_int_equal(p.ev[1].id, 42);
  assert_memory_equal(p.ev[1].data, "42", 2);
  /* HEARTBEAT is swallowed; an empty message and a CANCEL are reported */
  n = h_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, NULL, 0, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.s, buf, n, 0), CNV_OK);
  assert_int_equal(p.n_ev, 2);
  n = h_seal(&p, p.c, CNV_MSG_CANCEL, 9, NULL, 0, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.s, buf, n, 0), CNV_OK);
  assert_int_equal(p.n_ev, 3);
  assert_int_equal(p.ev[2].type, CNV_MSG_CANCEL);
  assert_int_equal(p.ev[2].id, 9);
  assert_int_equal(p.ev[2].len, 0);
  /* types a side may not send */
  size_t w;
  assert_int_equal(cnv_session_seal(p.s, CNV_MSG_INVOCATION, 1, "x", 1, p.now, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_RESPONSE, 1, "x", 1, p.now, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_REKEY, 0, NULL, 0, p.now, buf, sizeof buf, &w), CNV_EINVAL);
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_ERROR, 0, NULL, 0, p.now, buf, sizeof buf, &w), CNV_EINVAL);
  /* a RESPONSE with nothing in flight is the server caller's mistake, not sticky */
  assert_int_equal(cnv_session_seal(p.s, CNV_MSG_RESPONSE, 1, "x", 1, p.now, buf, sizeof buf, &w), CNV_ESTATE);
  /* sizes: over the negotiated maximum, and a buffer too small (nothing written) */
  static uint8_t big[65537];
  static uint8_t out[CNV_SESSION_SEAL_BOUND(65537)];
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_HEARTBEAT, 0, big, sizeof big, p.now, out, sizeof out, &w),
                   CNV_ERANGE);
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_HEARTBEAT, 0, big, 100, p.now, out, 131, &w), CNV_ERANGE);
  n = h_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, big, 65536, out, sizeof out);
  assert_int_equal(h_feed(&p, p.s, out, n, 0), CNV_OK);
  assert_int_equal(cnv_session_error(p.c), CNV_OK);
  assert_int_equal(cnv_session_error(p.s), CNV_OK);
  h_teardown(&p);
}

/* 64 in flight (the credit), the 65th refused with CNV_EFULL until a RESPONSE comes back;
 * answers in a shuffled order, each matched by id. */
/* REPLICATION: either side seals it at any time after READY, no credit taken, reported with
 * its id and payload; before READY it is refused. */
static void test_replication_frames(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  uint8_t buf[512];
  size_t w;
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_REPLICATION, 0, "r", 1, p.now, buf, sizeof buf, &w), CNV_ESTATE);
  h_handshake(&p, 0);
  size_t n = h_seal(&p, p.c, CNV_MSG_REPLICATION, 7, "delta-c", 7, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.s, buf, n, 0), CNV_OK);
  n = h_seal(&p, p.s, CNV_MSG_REPLICATION, 0, "delta-s", 7, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.c, buf, n, 0), CNV_OK);
  assert_int_equal(p.n_ev, 2);
  assert_int_equal(p.ev[0].kind, CNV_SESSION_EV_MESSAGE);
  assert_int_equal(p.ev[0].type, CNV_MSG_REPLICATION);
  assert_int_equal(p.ev[0].id, 7);
  assert_int_equal(p.ev[0].len, 7);
  assert_memory_equal(p.ev[0].data, "delta-c", 7);
  assert_int_equal(p.ev[1].type, CNV_MSG_REPLICATION);
  assert_memory_equal(p.ev[1].data, "delta-s", 7);
  cnv_session_stats st;
  assert_int_equal(cnv_session_stats_get(p.c, &st), CNV_OK);
  assert_int_equal(st.in_flight, 0);
  assert_int_equal(cnv_session_error(p.c), CNV_OK);
  assert_int_equal(cnv_session_error(p.s), CNV_OK);
  h_teardown(&p);
}

static void test_many_in_flight(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  static uint8_t stream[64 * 128];
  size_t len = 0;
  for (uint64_t id = 1; id <= 64; id++) len += invoke(&p, id, stream + len, sizeof stream - len);
  uint8_t b[128];
  size_t w = 0;
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_INVOCATION, 65, "x", 1, p.now, b, sizeof b, &w), CNV_EFULL);
  assert_int_equal(cnv_session_error(p.c), CNV_OK); /* not sticky */
  assert_int_equal(h_feed(&p, p.s, stream, len, 0), CNV_OK);
  assert_int_equal(p.n_ev, 64);
  cnv_session_stats st;
  assert_int_equal(cnv_session_stats_get(p.s, &st), CNV_OK);
  assert_int_equal(st.in_flight, 64);
  uint64_t order[64], rng = 15;
  for (int i = 0; i < 64; i++) order[i] = (uint64_t)i + 1;
  for (int i = 63; i > 0; i--) {
    int j = (int)(cnv_test_rand(&rng) % (uint64_t)(i + 1));
    uint64_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  p.n_ev = 0;
  len = 0;
  for (int i = 0; i < 64; i++) {
    uint8_t r[8];
    memcpy(r, &order[i], 8);
    len += h_seal(&p, p.s, CNV_MSG_RESPONSE, order[i], r, 8, stream + len, sizeof stream - len);
  }
  assert_int_equal(h_feed(&p, p.c, stream, len, 3), CNV_OK);
  assert_int_equal(p.n_ev, 64);
  for (int i = 0; i < 64; i++) {
    assert_int_equal(p.ev[i].id, order[i]);
    assert_memory_equal(p.ev[i].data, &order[i], 8);
  }
  assert_int_equal(cnv_session_stats_get(p.c, &st), CNV_OK);
  assert_int_equal(st.in_flight, 0);
  invoke(&p, 65, b, sizeof b); /* credit is back */
  h_teardown(&p);
}

/* The server ends a session whose client sends more INVOCATIONs than the credit (a client
 * that ignores its own count: white-box, its negotiated limit raised). */
static void test_credit_exceeded(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  p.c->neg.max_concurrent_calls = 1000;
  static uint8_t stream[65 * 128];
  size_t len = 0;
  for (uint64_t id = 1; id <= 65; id++) len += invoke(&p, id, stream + len, sizeof stream - len);
  assert_int_equal(h_feed(&p, p.s, stream, len, 0), CNV_ESESSION_CREDIT);
  assert_int_equal(p.n_ev, 64);
  assert_int_equal(cnv_session_error(p.s), CNV_ESESSION_CREDIT);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.c), CNV_ESESSION_CREDIT);
  h_teardown(&p);
}

static void rekey_by_frames(h_pair *p) { p->cc.rekey_frames = p->sc.rekey_frames = 3; }

static void exchange(h_pair *p, int rounds, uint64_t step_ns) {
  uint8_t buf[256];
  for (int i = 0; i < rounds; i++) {
    p->n_ev = 0;
    p->now += step_ns;
    size_t n = invoke(p, (uint64_t)i, buf, sizeof buf);
    assert_int_equal(h_feed(p, p->s, buf, n, 0), CNV_OK);
    assert_int_equal(p->n_ev, 1);
    assert_int_equal(p->ev[0].id, (uint64_t)i);
    p->now += step_ns;
    n = h_seal(p, p->s, CNV_MSG_RESPONSE, (uint64_t)i, "ok", 2, buf, sizeof buf);
    assert_int_equal(h_feed(p, p->c, buf, n, i % 2 ? 1 : 0), CNV_OK);
    assert_int_equal(p->n_ev, 2);
    assert_int_equal(p->ev[1].id, (uint64_t)i);
  }
}

static void test_rotation_frames(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, rekey_by_frames);
  h_handshake(&p, 0);
  uint8_t key0[32];
  memcpy(key0, p.c->tx.key, 32);
  exchange(&p, 100, 0);
  cnv_session_stats c, s;
  assert_int_equal(cnv_session_stats_get(p.c, &c), CNV_OK);
  assert_int_equal(cnv_session_stats_get(p.s, &s), CNV_OK);
  /* client: AUTH + 100 INVOCATIONs, a REKEY before every 4th frame */
  assert_true(c.rekeys_sent >= 30);
  assert_int_equal(c.rekeys_sent, s.rekeys_received);
  assert_int_equal(s.rekeys_sent, c.rekeys_received);
  assert_true(s.rekeys_sent >= 30);
  assert_memory_not_equal(key0, p.c->tx.key, 32);
  assert_memory_equal(p.c->tx.key, p.s->rx.key, 32);
  h_teardown(&p);
}

static void rekey_by_time(h_pair *p) {
  p->cc.rekey_ns = 10;
  p->sc.rekey_ns = 25;
}

static void test_rotation_time(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, rekey_by_time);
  h_handshake(&p, 0);
  exchange(&p, 5, 0); /* the clock stands still: no rotation */
  cnv_session_stats c, s;
  assert_int_equal(cnv_session_stats_get(p.c, &c), CNV_OK);
  assert_int_equal(c.rekeys_sent, 0);
  exchange(&p, 100, 7);
  assert_int_equal(cnv_session_stats_get(p.c, &c), CNV_OK);
  assert_int_equal(cnv_session_stats_get(p.s, &s), CNV_OK);
  assert_true(c.rekeys_sent >= 40); /* every 14 ns of clock one frame, rotate after 10 */
  assert_true(s.rekeys_sent >= 20);
  assert_true(s.rekeys_sent < c.rekeys_sent);
  assert_int_equal(c.rekeys_sent, s.rekeys_received);
  assert_int_equal(s.rekeys_sent, c.rekeys_received);
  h_teardown(&p);
}

static void xchacha_only(h_pair *p) { p->sc.aeads = CNV_SESSION_AEAD_XCHACHA20POLY1305; }

/* Every byte of a sealed frame (header, ciphertext, tag) changed in every bit: refused with
 * CNV_ESESSION_OPEN or a frame code; never an event. Each run uses a fresh pair; both AEADs
 * (the default picks AES-256-GCM where the CPU has it). */
static void test_tamper_every_byte(void **state) {
  (void)state;
  static const char msg[] = "demo.echo --text tamper";
  size_t total = CNV_FRAME_HEADER_SIZE + sizeof msg - 1 + CNV_SESSION_TAG_BYTES;
  for (size_t run = 0; run < 2 * total; run++) {
    size_t at = run % total;
    for (int bit = 0; bit < 8; bit += (at < CNV_FRAME_HEADER_SIZE ? 1 : 3)) {
      h_pair p;
      h_setup(&p, run < total ? NULL : xchacha_only);
      h_handshake(&p, 0);
      assert_int_equal(cnv_session_aead(p.s), run < total && crypto_aead_aes256gcm_is_available()
                                                  ? CNV_SESSION_AEAD_AES256GCM
                                                  : CNV_SESSION_AEAD_XCHACHA20POLY1305);
      uint8_t f[128];
      size_t n = h_seal(&p, p.c, CNV_MSG_INVOCATION, 5, msg, sizeof msg - 1, f, sizeof f);
      assert_int_equal(n, total);
      f[at] ^= (uint8_t)(1u << bit);
      cnv_status st = h_feed(&p, p.s, f, n, 0);
      /* a length made longer waits for its bytes: give them */
      static uint8_t zeros[4096];
      for (int i = 0; st == CNV_OK && i < 64; i++) {
        assert_int_equal(p.n_ev, 0);
        st = h_feed(&p, p.s, zeros, sizeof zeros, 0);
      }
      assert_int_equal(p.n_ev, 0);
      assert_true(st == CNV_ESESSION_OPEN || (st <= CNV_EFRAME_MAGIC && st >= CNV_EFRAME_BOMB));
      assert_int_equal(cnv_session_error(p.s), st);
      h_teardown(&p);
    }
  }
}

static void replay_reorder_drop_truncate(h_tweak tweak) {
  uint8_t f1[128], f2[128], cat[256];
  size_t n1, n2;
  h_pair p;
  /* replayed */
  h_setup(&p, tweak);
  h_handshake(&p, 0);
  n1 = invoke(&p, 1, f1, sizeof f1);
  memcpy(cat, f1, n1);
  memcpy(cat + n1, f1, n1);
  assert_int_equal(h_feed(&p, p.s, cat, 2 * n1, 0), CNV_ESESSION_OPEN);
  assert_int_equal(p.n_ev, 1);
  h_teardown(&p);
  /* reordered (the second first), which is also the first dropped */
  h_setup(&p, tweak);
  h_handshake(&p, 0);
  n1 = invoke(&p, 1, f1, sizeof f1);
  n2 = invoke(&p, 2, f2, sizeof f2);
  assert_int_equal(h_feed(&p, p.s, f2, n2, 0), CNV_ESESSION_OPEN);
  assert_int_equal(p.n_ev, 0);
  h_teardown(&p);
  /* truncated: the first frame less its last k bytes, then the second. The receiver takes
   * the second's first k bytes as the end of the first; k is 1 unless the tag's last byte
   * happens to be the magic byte that starts the second (then the cut would change nothing),
   * and then 2 (the byte after the magic, version and type, is never the magic). */
  h_setup(&p, tweak);
  h_handshake(&p, 0);
  n1 = invoke(&p, 1, f1, sizeof f1);
  n2 = invoke(&p, 2, f2, sizeof f2);
  size_t k = f1[n1 - 1] == f2[0] ? 2 : 1;
  assert_memory_not_equal(f1 + n1 - k, f2, k);
  memcpy(cat, f1, n1 - k);
  memcpy(cat + n1 - k, f2, n2);
  assert_int_equal(h_feed(&p, p.s, cat, n1 - k + n2, 0), CNV_ESESSION_OPEN);
  assert_int_equal(p.n_ev, 0);
  h_teardown(&p);
  /* a server frame reflected back to the server (other direction's key) */
  h_setup(&p, tweak);
  h_handshake(&p, 0);
  n1 = invoke(&p, 1, f1, sizeof f1);
  assert_int_equal(h_feed(&p, p.s, f1, n1, 0), CNV_OK);
  n2 = h_seal(&p, p.s, CNV_MSG_RESPONSE, 1, "ok", 2, f2, sizeof f2);
  f2[1] = (uint8_t)((f2[1] & 0xF0u) | CNV_MSG_INVOCATION);
  assert_int_equal(h_feed(&p, p.s, f2, n2, 0), CNV_ESESSION_OPEN);
  h_teardown(&p);
  /* a frame of one session fed to another */
  h_pair q;
  h_setup(&p, tweak);
  h_setup(&q, tweak);
  h_handshake(&p, 0);
  h_handshake(&q, 0);
  n1 = invoke(&p, 1, f1, sizeof f1);
  assert_int_equal(h_feed(&q, q.s, f1, n1, 0), CNV_ESESSION_OPEN);
  h_teardown(&p);
  h_teardown(&q);
}

static void test_replay_reorder_drop_truncate(void **state) {
  (void)state;
  replay_reorder_drop_truncate(NULL);
  replay_reorder_drop_truncate(xchacha_only);
}

/* A stream of frames (several REKEYs among them) split at every position into two feeds. */
static void test_every_split(void **state) {
  (void)state;
  h_pair p0;
  h_setup(&p0, rekey_by_frames);
  h_handshake(&p0, 0);
  uint8_t stream[1024];
  size_t len = 0;
  for (uint64_t id = 1; id <= 8; id++) len += invoke(&p0, id, stream + len, sizeof stream - len);
  for (size_t cut = 0; cut <= len; cut++) {
    cnv_session *s = NULL;
    /* a copy of the server as it was after the handshake (white-box: same keys) */
    assert_int_equal(cnv_session_create(&p0.sc, 0, &s), CNV_OK);
    uint8_t *rx = s->rx_buf, *ob = s->out_buf, *tok = s->token;
    size_t bs = s->block_size;
    memcpy(s, p0.s, sizeof *s);
    s->rx_buf = rx;
    s->out_buf = ob;
    s->token = tok;
    s->block_size = bs;
    uint8_t copy[1024];
    memcpy(copy, stream, len);
    p0.n_ev = 0;
    assert_int_equal(h_feed(&p0, s, copy, cut, 0), CNV_OK);
    assert_int_equal(h_feed(&p0, s, copy + cut, len - cut, 0), CNV_OK);
    assert_int_equal(p0.n_ev, 8);
    for (uint64_t i = 0; i < 8; i++) assert_int_equal(p0.ev[i].id, i + 1);
    cnv_session_destroy(s);
  }
  h_teardown(&p0);
}

static void test_shutdown(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  uint8_t f[128], g[128];
  size_t n = invoke(&p, 1, f, sizeof f);
  assert_int_equal(h_feed(&p, p.s, f, n, 0), CNV_OK);
  /* the server goes away: the client may not start new calls, the one in flight completes */
  n = h_seal(&p, p.s, CNV_MSG_SHUTDOWN, 0, NULL, 0, f, sizeof f);
  assert_int_equal(h_feed(&p, p.c, f, n, 0), CNV_OK);
  assert_int_equal(p.ev[p.n_ev - 1].type, CNV_MSG_SHUTDOWN);
  size_t w;
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_INVOCATION, 2, "x", 1, p.now, g, sizeof g, &w),
                   CNV_ESESSION_GOING_AWAY);
  n = h_seal(&p, p.s, CNV_MSG_RESPONSE, 1, "done", 4, f, sizeof f);
  assert_int_equal(h_feed(&p, p.c, f, n, 0), CNV_OK);
  assert_int_equal(cnv_session_error(p.c), CNV_OK);
  n = h_seal(&p, p.c, CNV_MSG_SHUTDOWN, 0, NULL, 0, f, sizeof f);
  assert_int_equal(cnv_session_error(p.c), CNV_ESESSION_CLOSED);
  assert_int_equal(h_feed(&p, p.s, f, n, 0), CNV_OK);
  assert_int_equal(cnv_session_error(p.s), CNV_ESESSION_CLOSED);
  assert_int_equal(cnv_session_seal(p.s, CNV_MSG_HEARTBEAT, 0, NULL, 0, p.now, g, sizeof g, &w),
                   CNV_ESESSION_CLOSED);
  h_teardown(&p);
}

static void test_fail_and_peer_error(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  assert_int_equal(cnv_session_fail(p.s, CNV_ENOMEM), CNV_OK);
  assert_int_equal(cnv_session_error(p.s), CNV_ENOMEM);
  assert_int_equal(cnv_session_fail(p.s, CNV_EFULL), CNV_OK); /* the first code stays */
  assert_int_equal(cnv_session_error(p.s), CNV_ENOMEM);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.c), CNV_ENOMEM);
  /* the client does not answer an ERROR with one */
  uint8_t b[64];
  size_t w = 1;
  assert_int_equal(cnv_session_pull(p.c, b, sizeof b, &w), CNV_OK);
  assert_int_equal(w, 0);
  h_teardown(&p);
}

/* White-box: a counter at 2^64-1 is never used; one below it still seals the REKEY that a
 * rotation needs and the message under the next key. */
static void test_nonce_exhausted(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  uint8_t b[128];
  size_t w;
  p.c->tx.counter = UINT64_MAX - 1;
  size_t n = h_seal(&p, p.c, CNV_MSG_HEARTBEAT, 0, NULL, 0, b, sizeof b);
  assert_int_equal(n, 2 * (CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES));
  assert_int_equal(p.c->tx.counter, 1);
  p.c->tx.counter = UINT64_MAX;
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_HEARTBEAT, 0, NULL, 0, p.now, b, sizeof b, &w),
                   CNV_ESESSION_NONCE_EXHAUSTED);
  assert_int_equal(cnv_session_error(p.c), CNV_ESESSION_NONCE_EXHAUSTED);
  h_teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_messages_both_ways),
      cmocka_unit_test(test_replication_frames),
      cmocka_unit_test(test_many_in_flight),
      cmocka_unit_test(test_credit_exceeded),
      cmocka_unit_test(test_rotation_frames),
      cmocka_unit_test(test_rotation_time),
      cmocka_unit_test(test_tamper_every_byte),
      cmocka_unit_test(test_replay_reorder_drop_truncate),
      cmocka_unit_test(test_every_split),
      cmocka_unit_test(test_shutdown),
      cmocka_unit_test(test_fail_and_peer_error),
      cmocka_unit_test(test_nonce_exhausted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
