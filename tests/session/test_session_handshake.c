/* Session handshake: both sides reach READY in any split, the negotiated values and the AEAD
 * agree, a wrong pinned key, a bad server signature and a holder key that did not sign are
 * refused with their codes, garbage before and inside the handshake is refused, a failed
 * negotiation reaches the client as the server's code, and secrets are wiped. */
#include "harness.h"

static void test_handshake_whole(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  assert_false(cnv_session_ready(p.c));
  cnv_negotiated nc, ns;
  assert_int_equal(cnv_session_negotiated(p.c, &nc), CNV_ESTATE);
  h_handshake(&p, 0);
  assert_int_equal(cnv_session_negotiated(p.c, &nc), CNV_OK);
  assert_int_equal(cnv_session_negotiated(p.s, &ns), CNV_OK);
  assert_memory_equal(&nc, &ns, sizeof nc);
  assert_int_equal(nc.max_message_size, 65536);
  assert_int_equal(nc.max_concurrent_calls, 64);
  assert_int_equal(nc.checksum, 0);
  assert_int_equal(cnv_session_aead(p.c), cnv_session_aead(p.s));
  int want = crypto_aead_aes256gcm_is_available() ? CNV_SESSION_AEAD_AES256GCM : CNV_SESSION_AEAD_XCHACHA20POLY1305;
  assert_int_equal(cnv_session_aead(p.c), want);
  /* the ephemeral secrets are gone once the keys exist; both directions got different keys */
  static const uint8_t zero[32];
  assert_memory_equal(p.c->eph_sk, zero, 32);
  assert_memory_equal(p.s->eph_sk, zero, 32);
  assert_memory_equal(p.c->tx.key, p.s->rx.key, 32);
  assert_memory_equal(p.c->rx.key, p.s->tx.key, 32);
  assert_memory_not_equal(p.c->tx.key, p.c->rx.key, 32);
  /* the long-term secret keys signed once and are gone; so is the client's token copy */
  static const uint8_t zero64[64];
  assert_memory_equal(p.c->secret, zero64, 64);
  assert_memory_equal(p.s->secret, zero64, 64);
  assert_memory_equal(p.c->token, zero64, sizeof H_TOKEN - 1);
  cnv_session_stats st;
  assert_int_equal(cnv_session_stats_get(p.s, &st), CNV_OK);
  assert_int_equal(st.sealed, 1); /* READY */
  assert_int_equal(st.opened, 1); /* AUTH */
  h_teardown(&p);
}

static void xchacha_only(h_pair *p) { p->sc.aeads = CNV_SESSION_AEAD_XCHACHA20POLY1305; }

static void test_handshake_xchacha(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, xchacha_only);
  h_handshake(&p, 0);
  assert_int_equal(cnv_session_aead(p.c), CNV_SESSION_AEAD_XCHACHA20POLY1305);
  uint8_t buf[256];
  size_t n = h_seal(&p, p.c, CNV_MSG_INVOCATION, 7, "demo.echo hi", 12, buf, sizeof buf);
  assert_int_equal(h_feed(&p, p.s, buf, n, 0), CNV_OK);
  assert_int_equal(p.n_ev, 1);
  assert_memory_equal(p.ev[0].data, "demo.echo hi", 12);
  h_teardown(&p);
}

/* Every split: the handshake fed one byte at a time, then in 7-byte pieces. */
static void test_handshake_split(void **state) {
  (void)state;
  for (size_t step = 1; step <= 7; step += 6) {
    h_pair p;
    h_setup(&p, NULL);
    h_handshake(&p, step);
    h_teardown(&p);
  }
}

/* The server's first flight split at every byte position into two feeds. */
static void test_handshake_every_split(void **state) {
  (void)state;
  h_pair p0;
  h_setup(&p0, NULL);
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t hn = 0;
  assert_int_equal(cnv_session_pull(p0.c, hello, sizeof hello, &hn), CNV_OK);
  for (size_t cut = 0; cut <= hn; cut++) {
    cnv_session *s = NULL;
    assert_int_equal(cnv_session_create(&p0.sc, 0, &s), CNV_OK);
    uint8_t copy[CNV_SESSION_PULL_MAX];
    memcpy(copy, hello, hn);
    assert_int_equal(h_feed(&p0, s, copy, cut, 0), CNV_OK);
    assert_int_equal(h_feed(&p0, s, copy + cut, hn - cut, 0), CNV_OK);
    uint8_t reply[CNV_SESSION_PULL_MAX];
    size_t rn = 0;
    assert_int_equal(cnv_session_pull(s, reply, sizeof reply, &rn), CNV_OK);
    assert_int_equal(rn, CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_LEN);
    cnv_session_destroy(s);
  }
  assert_int_equal(p0.n_ev, 0);
  h_teardown(&p0);
}

static void wrong_pin(h_pair *p) {
  static uint8_t other[32];
  memcpy(other, p->server_pk, 32);
  other[5] ^= 0x10;
  p->cc.server_pk = other;
}

static void test_wrong_server_key(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, wrong_pin);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_ESESSION_SERVER_KEY);
  assert_int_equal(cnv_session_error(p.c), CNV_ESESSION_SERVER_KEY);
  /* sticky */
  uint8_t b[64] = {0};
  size_t used = 0;
  cnv_session_event e;
  assert_int_equal(cnv_session_feed(p.c, b, sizeof b, p.now, &used, &e), CNV_ESESSION_SERVER_KEY);
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_INVOCATION, 1, "x", 1, p.now, b, sizeof b, &used),
                   CNV_ESESSION_SERVER_KEY);
  /* the client told the server why (plain ERROR: no keys yet); no AUTH was queued */
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.s), CNV_ESESSION_SERVER_KEY);
  assert_int_equal(p.n_ev, 0);
  h_teardown(&p);
}

/* A server with another identity key than the pinned one, and a reply whose signature was
 * changed in transit. */
static void test_bad_server_proof(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  uint8_t pk[32], sk[64];
  assert_int_equal(crypto_sign_keypair(pk, sk), 0);
  cnv_session_config sc = p.sc;
  sc.secret_key = sk;
  cnv_session *impostor = NULL;
  assert_int_equal(cnv_session_create(&sc, 0, &impostor), CNV_OK);
  assert_int_equal(h_carry(&p, p.c, impostor, 0), CNV_OK);
  assert_int_equal(h_carry(&p, impostor, p.c, 0), CNV_ESESSION_SERVER_KEY);
  cnv_session_destroy(impostor);
  h_teardown(&p);
  for (size_t at = CNV__SESSION_REPLY_SIGNED; at < CNV__SESSION_REPLY_LEN; at += 13) {
    h_setup(&p, NULL);
    assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
    uint8_t r[CNV_SESSION_PULL_MAX];
    size_t rn = 0;
    assert_int_equal(cnv_session_pull(p.s, r, sizeof r, &rn), CNV_OK);
    r[CNV_FRAME_HEADER_SIZE + at] ^= 1;
    assert_int_equal(h_feed(&p, p.c, r, rn, 0), CNV_ESESSION_SERVER_KEY);
    h_teardown(&p);
  }
}

/* Every byte of HELLO_REPLY changed in turn: the client refuses each with a code. */
static void test_reply_every_byte(void **state) {
  (void)state;
  for (size_t at = 0; at < CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_LEN; at++) {
    h_pair p;
    h_setup(&p, NULL);
    assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
    uint8_t r[CNV_SESSION_PULL_MAX];
    size_t rn = 0;
    assert_int_equal(cnv_session_pull(p.s, r, sizeof r, &rn), CNV_OK);
    r[at] ^= 0x40;
    cnv_status st = h_feed(&p, p.c, r, rn, 0);
    if (st == CNV_OK) { /* a longer length waits for bytes that never come */
      assert_true(at >= 4 && at < 8);
      assert_false(p.c->keys);
    } else {
      assert_true(st < 0);
      assert_false(cnv_session_ready(p.c));
    }
    h_teardown(&p);
  }
}

/* The attacker holds a stolen token and signs with its own key while naming the token's
 * holder key: the server refuses with CNV_ESESSION_HOLDER_PROOF. */
static void test_holder_proof(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_OK);
  uint8_t drop[CNV_SESSION_PULL_MAX];
  size_t dn = 0;
  assert_int_equal(cnv_session_pull(p.c, drop, sizeof drop, &dn), CNV_OK); /* the honest AUTH */
  uint8_t victim_pk[32], victim_sk[64];
  assert_int_equal(crypto_sign_keypair(victim_pk, victim_sk), 0);
  uint8_t m[30 + 32], pt[CNV__SESSION_AUTH_FIXED + sizeof H_TOKEN];
  memcpy(m, "cnv-session/1 holder signature", 30);
  memcpy(m + 30, p.c->transcript, 32);
  memcpy(pt, victim_pk, 32);
  assert_int_equal(crypto_sign_ed25519_detached(pt + 32, NULL, m, sizeof m, p.agent_sk), 0);
  memcpy(pt + CNV__SESSION_AUTH_FIXED, H_TOKEN, sizeof H_TOKEN - 1);
  size_t len = CNV__SESSION_AUTH_FIXED + sizeof H_TOKEN - 1;
  uint8_t f[sizeof pt + 64];
  p.c->tx.counter = 0; /* the AUTH this replaces used counter 0 */
  assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_AUTH, 0, pt, len, f), CNV_OK);
  assert_int_equal(h_feed(&p, p.s, f, CNV_FRAME_HEADER_SIZE + len + 16, 0), CNV_ESESSION_HOLDER_PROOF);
  assert_int_equal(p.n_ev, 0);
  /* the server's sealed ERROR reaches the client with the code */
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.c), CNV_ESESSION_HOLDER_PROOF);
  h_teardown(&p);
  /* The same attacker signing honestly with its own key proves only its own key: the session
   * reports that key, the embedder sees it is not the token's holder and ends the session. */
  h_setup(&p, NULL);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_OK);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
  assert_int_equal(p.n_ev, 1);
  assert_memory_not_equal(p.ev[0].peer_key, victim_pk, 32);
  assert_int_equal(cnv_session_fail(p.s, CNV_ESESSION_HOLDER_PROOF), CNV_OK);
  assert_int_equal(cnv_session_accept(p.s), CNV_ESESSION_HOLDER_PROOF);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.c), CNV_ESESSION_HOLDER_PROOF);
  assert_false(cnv_session_ready(p.c));
  h_teardown(&p);
}

static void test_garbage(void **state) {
  (void)state;
  h_pair p;
  /* before the handshake: refused on the first byte */
  h_setup(&p, NULL);
  uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";
  size_t used = 99;
  cnv_session_event e;
  assert_int_equal(cnv_session_feed(p.s, http, sizeof http - 1, p.now, &used, &e), CNV_EFRAME_MAGIC);
  assert_int_equal(cnv_session_error(p.s), CNV_EFRAME_MAGIC);
  h_teardown(&p);
  /* garbage where HELLO_REPLY should be */
  h_setup(&p, NULL);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
  uint8_t junk[40];
  memset(junk, 0xCB, sizeof junk);
  assert_int_equal(h_feed(&p, p.c, junk, sizeof junk, 1), CNV_EFRAME_VERSION);
  h_teardown(&p);
  /* a well-formed frame of the wrong type: HELLO sent to a client */
  h_setup(&p, NULL);
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t hn = 0;
  assert_int_equal(cnv_session_pull(p.c, hello, sizeof hello, &hn), CNV_OK);
  assert_int_equal(h_feed(&p, p.c, hello, hn, 0), CNV_ESESSION_HANDSHAKE);
  h_teardown(&p);
  /* a HELLO twice */
  h_setup(&p, NULL);
  assert_int_equal(cnv_session_pull(p.c, hello, sizeof hello, &hn), CNV_OK);
  uint8_t two[2 * CNV_SESSION_PULL_MAX];
  memcpy(two, hello, hn);
  memcpy(two + hn, hello, hn);
  assert_int_equal(h_feed(&p, p.s, two, 2 * hn, 0), CNV_ESESSION_HANDSHAKE);
  h_teardown(&p);
  /* a sealed-flag frame before keys exist, and a plain frame after */
  h_setup(&p, NULL);
  assert_int_equal(cnv_session_pull(p.c, hello, sizeof hello, &hn), CNV_OK);
  hello[2] = CNV_FRAME_FLAG_SEALED;
  assert_int_equal(h_feed(&p, p.s, hello, hn, 0), CNV_ESESSION_HANDSHAKE);
  h_teardown(&p);
  h_setup(&p, NULL);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_OK);
  memset(hello, 0, sizeof hello);
  cnv__sess_header(hello, CNV_MSG_AUTH, 0, 8, 0);
  assert_int_equal(h_feed(&p, p.s, hello, 24, 0), CNV_ESESSION_HANDSHAKE);
  h_teardown(&p);
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  cnv__sess_header(hello, CNV_MSG_INVOCATION, 0, 8, 1);
  assert_int_equal(h_feed(&p, p.s, hello, 24, 0), CNV_ESESSION_OPEN);
  h_teardown(&p);
  /* unknown flag bits, an oversized length, and the frame codec's types 1..3 */
  uint8_t hdr[CNV_FRAME_HEADER_SIZE];
  h_setup(&p, NULL);
  cnv__sess_header(hdr, CNV_MSG_HELLO, 0x10, 4, 0);
  assert_int_equal(h_feed(&p, p.s, hdr, sizeof hdr, 0), CNV_EFRAME_FLAGS);
  h_teardown(&p);
  h_setup(&p, NULL);
  cnv__sess_header(hdr, CNV_MSG_HELLO, 0, 1u << 20, 0);
  assert_int_equal(h_feed(&p, p.s, hdr, 8, 0), CNV_EFRAME_OVERSIZE);
  h_teardown(&p);
  h_setup(&p, NULL);
  cnv__sess_header(hdr, CNV_MSG_CAPABILITIES, 0, 4, 0);
  assert_int_equal(h_feed(&p, p.s, hdr, 2, 0), CNV_EFRAME_TYPE);
  h_teardown(&p);
}

/* A HELLO's every byte changed: the server refuses with a code, or (a length made longer)
 * waits, or (the client's random nonce, its key) answers, and then the client refuses the
 * reply because the transcripts differ. Never a crash. */
static void test_hello_every_byte(void **state) {
  (void)state;
  h_pair p0;
  h_setup(&p0, NULL);
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t hn = 0;
  assert_int_equal(cnv_session_pull(p0.c, hello, sizeof hello, &hn), CNV_OK);
  for (size_t at = 0; at < hn; at++) {
    cnv_session *s = NULL;
    assert_int_equal(cnv_session_create(&p0.sc, 0, &s), CNV_OK);
    uint8_t copy[CNV_SESSION_PULL_MAX];
    memcpy(copy, hello, hn);
    copy[at] ^= 0x01;
    cnv_status st = h_feed(&p0, s, copy, hn, 0);
    if (st == CNV_OK && s->keys) { /* the client would see a transcript it did not send */
      assert_int_equal(h_carry(&p0, s, p0.c, 0), CNV_ESESSION_SERVER_KEY);
      cnv_session_destroy(p0.c);
      assert_int_equal(cnv_session_create(&p0.cc, 0, &p0.c), CNV_OK);
      assert_int_equal(cnv_session_pull(p0.c, hello, sizeof hello, &hn), CNV_OK);
    }
    cnv_session_destroy(s);
  }
  h_teardown(&p0);
}

static void v2_only(h_pair *p) {
  p->cc.caps.versions[0] = (cnv_proto_version){2, 0, 0};
}

static void test_negotiation_failure(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, v2_only);
  assert_int_equal(h_carry(&p, p.c, p.s, 0), CNV_EPROTO_NO_COMMON_VERSION);
  assert_int_equal(h_carry(&p, p.s, p.c, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.c), CNV_EPROTO_NO_COMMON_VERSION);
  h_teardown(&p);
}

static void test_create_errors(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  cnv_session *s = NULL;
  cnv_session_config c = p.cc;
  assert_int_equal(cnv_session_create(NULL, 0, &s), CNV_EINVAL);
  assert_int_equal(cnv_session_create(&c, 0, NULL), CNV_EINVAL);
  c.role = 3;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_EINVAL);
  c = p.cc;
  c.server_pk = NULL;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_EINVAL);
  c = p.cc;
  c.token_len = CNV_SESSION_MAX_TOKEN + 1;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_ERANGE);
  c.token_len = 0;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_ERANGE);
  c = p.cc;
  c.rekey_frames = 0;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_ERANGE);
  c = p.cc;
  c.rekey_ns = 0;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_ERANGE);
  c = p.cc;
  c.aeads = CNV_SESSION_AEAD_AES256GCM;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_EINVAL);
  c = p.cc;
  c.caps.checksum = 1;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_EINVAL);
  c = p.cc;
  c.caps.n_versions = 0;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_EPROTO_VERSION_LIST);
  c = p.sc;
  c.token = (const uint8_t *)"t";
  c.token_len = 1;
  assert_int_equal(cnv_session_create(&c, 0, &s), CNV_EINVAL);
  assert_null(s);
  /* calls out of turn */
  assert_int_equal(cnv_session_accept(p.s), CNV_ESTATE);
  assert_int_equal(cnv_session_accept(p.c), CNV_ESTATE);
  uint8_t b[128];
  size_t w = 0;
  assert_int_equal(cnv_session_seal(p.c, CNV_MSG_INVOCATION, 1, "x", 1, 0, b, sizeof b, &w), CNV_ESTATE);
  assert_int_equal(cnv_session_fail(p.c, CNV_OK), CNV_EINVAL);
  assert_int_equal(cnv_session_pull(p.c, b, 8, &w), CNV_ERANGE);
  h_teardown(&p);
}

/* White-box: destroy zeroes the whole allocation (keys, token, buffers) before freeing. */
static void test_wipe(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  cnv_session *both[2] = {p.c, p.s};
  for (int i = 0; i < 2; i++) {
    cnv_session *s = both[i];
    size_t n = s->block_size;
    static const uint8_t zero[32];
    assert_memory_not_equal(s->tx.key, zero, 32);
    assert_memory_not_equal(s->rx.key, zero, 32);
    cnv__session_wipe(s);
    const uint8_t *b = (const uint8_t *)s;
    for (size_t j = 0; j < n; j++) assert_int_equal(b[j], 0);
  }
  h_teardown(&p); /* destroy of a wiped session wipes nothing more and frees */
}

/* The protocol module's frame codec, which is not configured for sessions, refuses session
 * types and sealed frames; the session refuses the codec's own types 1..3. */
static void test_frame_codec_refuses_session_frames(void **state) {
  (void)state;
  h_pair p;
  h_setup(&p, NULL);
  uint8_t hello[CNV_SESSION_PULL_MAX];
  size_t hn = 0, used = 0, w = 0;
  assert_int_equal(cnv_session_pull(p.c, hello, sizeof hello, &hn), CNV_OK);
  cnv_frame_config cfg = cnv_frame_config_default();
  cnv_frame fr;
  assert_int_equal(cnv_frame_decode(&cfg, hello, hn, &fr, &used), CNV_EFRAME_TYPE);
  assert_int_equal(cnv_frame_encode(&cfg, CNV_MSG_HELLO, 0, "x", 1, hello, sizeof hello, &w), CNV_EFRAME_TYPE);
  assert_int_equal(cnv_frame_encode(&cfg, CNV_MSG_REKEY, 0, "x", 1, hello, sizeof hello, &w), CNV_EFRAME_TYPE);
  h_teardown(&p);
  h_setup(&p, NULL);
  h_handshake(&p, 0);
  uint8_t f[128];
  size_t n = h_seal(&p, p.c, CNV_MSG_INVOCATION, 1, "demo.echo", 9, f, sizeof f);
  assert_int_equal(cnv_frame_decode(&cfg, f, n, &fr, &used), CNV_EFRAME_FLAGS);
  h_teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake_whole),
      cmocka_unit_test(test_handshake_xchacha),
      cmocka_unit_test(test_handshake_split),
      cmocka_unit_test(test_handshake_every_split),
      cmocka_unit_test(test_wrong_server_key),
      cmocka_unit_test(test_bad_server_proof),
      cmocka_unit_test(test_reply_every_byte),
      cmocka_unit_test(test_holder_proof),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_hello_every_byte),
      cmocka_unit_test(test_negotiation_failure),
      cmocka_unit_test(test_create_errors),
      cmocka_unit_test(test_wipe),
      cmocka_unit_test(test_frame_codec_refuses_session_frames),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
