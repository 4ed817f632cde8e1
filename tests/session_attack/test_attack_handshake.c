/* Attacks on the session handshake: downgrade of the AEAD and of the negotiated parameters,
 * splicing and replaying handshakes, small-order X25519 points, confused or replayed
 * signatures as the holder's proof, weak Ed25519 holder keys, and unauthenticated ERROR
 * frames injected after the server proved its identity. */
#include "attack.h"

#define SERVER_LABEL "cnv-session/1 server signature"
#define HOLDER_LABEL "cnv-session/1 holder signature"
#define HELLO_EPH (CNV_FRAME_HEADER_SIZE + 4)
#define REPLY_SIG (CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_SIGNED)

/* The client's only output after a refused HELLO_REPLY is a plain ERROR (no AUTH, so neither
 * the holder's proof nor the token left the client). */
static void assert_only_plain_error(cnv_session *s) {
  uint8_t out[A_BUF];
  size_t n = a_pull(s, out);
  assert_int_equal(n, CNV_FRAME_HEADER_SIZE + 4);
  assert_int_equal(out[1] & 0x0F, CNV_MSG_ERROR);
  assert_int_equal(out[2] | out[3], 0);
}

/* An on-path attacker clears the AES-256-GCM bit of HELLO so the server picks
 * XChaCha20-Poly1305: the server's signature covers the HELLO it saw, so the client refuses. */
static void test_downgrade_aead(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  if (!crypto_aead_aes256gcm_is_available()) {
    print_message("skipped: no AES-NI here, so no AES-256-GCM offer to strip\n");
    skip();
  }
  a_pair p;
  a_setup(&p, NULL);
  uint8_t b[A_BUF];
  size_t n = a_pull(p.c, b);
  assert_int_equal(b[CNV_FRAME_HEADER_SIZE + 1], CNV_SESSION_AEAD_XCHACHA20POLY1305 | CNV_SESSION_AEAD_AES256GCM);
  b[CNV_FRAME_HEADER_SIZE + 1] = CNV_SESSION_AEAD_XCHACHA20POLY1305;
  assert_int_equal(a_feed(&p, p.s, b, n, 0), CNV_OK);
  assert_int_equal(cnv_session_aead(p.s), CNV_SESSION_AEAD_XCHACHA20POLY1305);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_ESESSION_SERVER_KEY);
  assert_int_equal(cnv_session_aead(p.c), 0);
  assert_only_plain_error(p.c);
  a_teardown(&p);
}

/* The attacker rewrites the client's capabilities (no features, one call in flight, a smaller
 * message size): the server negotiates from them, the client refuses the signed result. */
static void test_downgrade_capabilities(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  uint8_t b[A_BUF];
  size_t n = a_pull(p.c, b);
  uint8_t *caps = b + CNV_FRAME_HEADER_SIZE + CNV__SESSION_HELLO_FIXED;
  size_t caps_len = n - CNV_FRAME_HEADER_SIZE - CNV__SESSION_HELLO_FIXED, w = 0;
  cnv_capabilities c;
  assert_int_equal(cnv_capabilities_decode(caps, caps_len, &c), CNV_OK);
  c.features = 0;
  c.max_concurrent_calls = 1;
  c.max_message_size = 16;
  assert_int_equal(cnv_capabilities_encode(&c, caps, caps_len, &w), CNV_OK);
  assert_int_equal(w, caps_len);
  assert_int_equal(a_feed(&p, p.s, b, n, 0), CNV_OK);
  cnv_negotiated neg;
  assert_int_equal(cnv_session_negotiated(p.s, &neg), CNV_OK);
  assert_int_equal(neg.max_concurrent_calls, 1);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_ESESSION_SERVER_KEY);
  assert_only_plain_error(p.c);
  a_teardown(&p);
}

/* Two handshakes with the same server identity and agent: the HELLO_REPLY of one does not
 * complete the other, and one session's AUTH does not open in the other. */
static void test_splice_sessions(void **state) {
  (void)state;
  a_pair a, b;
  a_setup(&a, NULL);
  b = a; /* same keys and configurations; fresh sessions below */
  b.cc.secret_key = b.agent_sk;
  b.cc.server_pk = b.server_pk;
  b.sc.secret_key = b.server_sk;
  assert_int_equal(a_create(&b.cc, b.now, &b.c), CNV_OK);
  assert_int_equal(a_create(&b.sc, b.now, &b.s), CNV_OK);
  assert_int_equal(a_carry(&a, a.c, a.s), CNV_OK);
  assert_int_equal(a_carry(&b, b.c, b.s), CNV_OK);
  uint8_t ra[A_BUF], rb[A_BUF];
  size_t na = a_pull(a.s, ra), nb = a_pull(b.s, rb);
  /* A's reply to B's client: refused (the signature covers A's HELLO, not B's). */
  uint8_t copy[A_BUF];
  memcpy(copy, ra, na);
  assert_int_equal(a_feed(&b, b.c, copy, na, 0), CNV_ESESSION_SERVER_KEY);
  assert_only_plain_error(b.c);
  /* A completes; its AUTH fed to B's server (waiting for AUTH) fails to open. */
  assert_int_equal(a_feed(&a, a.c, ra, na, 0), CNV_OK);
  (void)nb;
  uint8_t auth[A_BUF];
  size_t n = a_pull(a.c, auth);
  assert_int_equal(a_feed(&b, b.s, auth, n, 0), CNV_ESESSION_OPEN);
  assert_int_equal(b.n_ev, 0);
  a_teardown(&a);
  a_teardown(&b);
}

/* A recorded HELLO and AUTH replayed to a new server session: the server's fresh ephemeral key
 * gives new keys, so the replayed AUTH fails to open and no AUTH event is reported. */
static void test_replay_handshake(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  uint8_t hello[A_BUF], auth[A_BUF], tmp[A_BUF];
  size_t hn = a_pull(p.c, hello);
  memcpy(tmp, hello, hn);
  assert_int_equal(a_feed(&p, p.s, tmp, hn, 0), CNV_OK);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_OK);
  size_t an = a_pull(p.c, auth);
  memcpy(tmp, auth, an);
  assert_int_equal(a_feed(&p, p.s, tmp, an, 0), CNV_OK);
  assert_int_equal(p.last.kind, CNV_SESSION_EV_AUTH);
  cnv_session *s2 = NULL;
  assert_int_equal(a_create(&p.sc, p.now, &s2), CNV_OK);
  p.n_ev = 0;
  assert_int_equal(a_feed(&p, s2, hello, hn, 0), CNV_OK);
  assert_int_equal(a_feed(&p, s2, auth, an, 0), CNV_ESESSION_OPEN);
  assert_int_equal(p.n_ev, 0);
  a_destroy(s2);
  a_teardown(&p);
}

/* Curve25519 points of small order (and non-canonical encodings of them, with and without the
 * ignored top bit): X25519 with any of them gives the all-zero secret. */
static const uint8_t small_order[][32] = {
    {0},
    {1},
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
     0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
     0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80},
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
};
#define N_SMALL (sizeof small_order / sizeof small_order[0])

/* A HELLO whose ephemeral key has small order: the server refuses it and sends only a plain
 * ERROR (its signature over that transcript never leaves it). */
static void test_small_order_hello(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SMALL; i++) {
    a_pair p;
    a_setup(&p, NULL);
    uint8_t b[A_BUF];
    size_t n = a_pull(p.c, b);
    memcpy(b + HELLO_EPH, small_order[i], 32);
    assert_int_equal(a_feed(&p, p.s, b, n, 0), CNV_ESESSION_HANDSHAKE);
    assert_false(p.s->keys);
    assert_only_plain_error(p.s);
    a_teardown(&p);
  }
}

/* A HELLO_REPLY with a small-order ephemeral key, correctly signed by the pinned server (a
 * malicious or broken server): the client refuses it and never sends AUTH. */
static void test_small_order_reply(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SMALL; i++) {
    a_pair p;
    a_setup(&p, NULL);
    uint8_t t1[32], t2[32], m[62], r[A_BUF];
    memcpy(t1, p.c->transcript, 32);
    assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
    size_t n = a_pull(p.s, r);
    assert_int_equal(n, CNV_FRAME_HEADER_SIZE + CNV__SESSION_REPLY_LEN);
    memcpy(r + HELLO_EPH, small_order[i], 32);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, t1, 32);
    crypto_generichash_update(&h, r, REPLY_SIG);
    crypto_generichash_final(&h, t2, 32);
    a_sig_message(m, SERVER_LABEL, t2);
    assert_int_equal(crypto_sign_ed25519_detached(r + REPLY_SIG, NULL, m, sizeof m, p.server_sk), 0);
    assert_int_equal(a_feed(&p, p.c, r, n, 0), CNV_ESESSION_HANDSHAKE);
    assert_only_plain_error(p.c);
    a_teardown(&p);
  }
}

/* Builds an AUTH plaintext: key, signature, token. */
static size_t auth_pt(uint8_t *pt, const uint8_t pk[32], const uint8_t sig[64]) {
  memcpy(pt, pk, 32);
  memcpy(pt + 32, sig, 64);
  memcpy(pt + CNV__SESSION_AUTH_FIXED, A_TOKEN, A_TOKEN_LEN);
  return CNV__SESSION_AUTH_FIXED + A_TOKEN_LEN;
}

/* Feeds a forged AUTH (pk, sig) to a server waiting for it; returns the server's status. */
static cnv_status try_auth(a_pair *p, const uint8_t pk[32], const uint8_t sig[64]) {
  uint8_t pt[CNV__SESSION_AUTH_FIXED + A_TOKEN_LEN], f[sizeof pt + 32];
  size_t len = auth_pt(pt, pk, sig);
  size_t n = a_forge_auth(p, pt, len, f);
  return a_feed(p, p->s, f, n, 0);
}

/* The holder's proof from one session (captured by a server the agent also talks to, or by
 * whoever broke that session's keys) presented in another session: refused. */
static void test_replay_holder_proof(void **state) {
  (void)state;
  a_pair one, two;
  a_setup(&one, NULL);
  assert_int_equal(a_carry(&one, one.c, one.s), CNV_OK);
  assert_int_equal(a_carry(&one, one.s, one.c), CNV_OK);
  uint8_t f[A_BUF];
  size_t n = a_pull(one.c, f);
  assert_int_equal(a_feed(&one, one.s, f, n, 0), CNV_OK); /* opened in place: f holds the plaintext */
  assert_int_equal(one.last.kind, CNV_SESSION_EV_AUTH);
  const uint8_t *pt = f + CNV_FRAME_HEADER_SIZE;
  assert_memory_equal(pt, one.agent_pk, 32);
  a_setup(&two, NULL);
  a_until_auth(&two);
  two.n_ev = 0;
  assert_int_equal(try_auth(&two, pt, pt + 32), CNV_ESESSION_HOLDER_PROOF);
  assert_int_equal(two.n_ev, 0);
  a_teardown(&one);
  a_teardown(&two);
}

/* The server's own HELLO_REPLY signature presented as a holder proof for the server's identity
 * key: refused (other label, other transcript hash). */
static void test_server_signature_as_proof(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  uint8_t r[A_BUF], sig[64], drop[A_BUF];
  size_t n = a_pull(p.s, r);
  memcpy(sig, r + REPLY_SIG, 64);
  assert_int_equal(a_feed(&p, p.c, r, n, 0), CNV_OK);
  assert_true(a_pull(p.c, drop) > 0);
  assert_int_equal(try_auth(&p, p.server_pk, sig), CNV_ESESSION_HOLDER_PROOF);
  a_teardown(&p);
}

/* Signatures by the real holder key, but over the wrong message: the server label over T3,
 * the holder label over T2, the delegation link domain over T3, T3 bare. All refused. */
static void test_confused_signatures(void **state) {
  (void)state;
  for (int k = 0; k < 4; k++) {
    a_pair p;
    a_setup(&p, NULL);
    uint8_t t1[32], t2[32], r[A_BUF], drop[A_BUF];
    memcpy(t1, p.c->transcript, 32);
    assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
    size_t n = a_pull(p.s, r);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, t1, 32);
    crypto_generichash_update(&h, r, REPLY_SIG);
    crypto_generichash_final(&h, t2, 32);
    assert_int_equal(a_feed(&p, p.c, r, n, 0), CNV_OK);
    assert_true(a_pull(p.c, drop) > 0);
    const uint8_t *t3 = p.c->transcript;
    uint8_t m[64], sig[64];
    size_t mlen = 62;
    if (k == 0) a_sig_message(m, SERVER_LABEL, t3);
    if (k == 1) a_sig_message(m, HOLDER_LABEL, t2);
    if (k == 2) {
      memcpy(m, "libcnv/delegation/link/1", 24);
      memcpy(m + 24, t3, 32);
      mlen = 56;
    }
    if (k == 3) {
      memcpy(m, t3, 32);
      mlen = 32;
    }
    assert_int_equal(crypto_sign_ed25519_detached(sig, NULL, m, mlen, p.agent_sk), 0);
    assert_int_equal(try_auth(&p, p.agent_pk, sig), CNV_ESESSION_HOLDER_PROOF);
    a_teardown(&p);
  }
}

/* Ed25519 holder keys of small order or in a non-canonical encoding, with the signature
 * (R = identity, S = 0) that a lax verifier accepts for every message; and an honest signature
 * made malleable (S + L). All refused. */
static void test_weak_holder_keys(void **state) {
  (void)state;
  static const uint8_t ident[32] = {1};
  static const uint8_t ident_neg[32] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
  static const uint8_t ident_big[32] = {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  static const uint8_t zero_y[32] = {0}; /* y = 0: a point of order 4 */
  const uint8_t *keys[] = {ident, ident_neg, ident_big, zero_y};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    a_pair p;
    a_setup(&p, NULL);
    a_until_auth(&p);
    uint8_t sig[64] = {1}; /* R = identity, S = 0 */
    assert_int_equal(try_auth(&p, keys[i], sig), CNV_ESESSION_HOLDER_PROOF);
    a_teardown(&p);
  }
  /* S + L: the same signature in a non-canonical form. */
  static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
                                0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  a_pair p;
  a_setup(&p, NULL);
  a_until_auth(&p);
  uint8_t m[62], sig[64];
  a_sig_message(m, HOLDER_LABEL, p.c->transcript);
  assert_int_equal(crypto_sign_ed25519_detached(sig, NULL, m, sizeof m, p.agent_sk), 0);
  unsigned carry = 0;
  for (int j = 0; j < 32; j++) {
    unsigned v = sig[32 + j] + L[j] + carry;
    sig[32 + j] = (uint8_t)v;
    carry = v >> 8;
  }
  assert_int_equal(carry, 0);
  assert_int_equal(try_auth(&p, p.agent_pk, sig), CNV_ESESSION_HOLDER_PROOF);
  a_teardown(&p);
}

/* A plain (unauthenticated) ERROR frame as an on-path attacker writes it. */
static size_t plain_error(uint8_t *f, cnv_status code) {
  cnv__sess_header(f, CNV_MSG_ERROR, 0, 4, 0);
  cnv__sess_put32(f + CNV_FRAME_HEADER_SIZE, (uint32_t)code);
  return CNV_FRAME_HEADER_SIZE + 4;
}

/* Once the client verified HELLO_REPLY, the server holds keys and seals every ERROR it sends.
 * A plain ERROR then can only be an attacker's: it must not be reported as the server's
 * verdict (CNV_ESESSION_PEER_ERROR with a code of the attacker's choice, e.g. "your token was
 * refused"); it is an unauthentic frame (CNV_ESESSION_OPEN), as after READY. */
static void test_plain_error_after_server_proof(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_OK); /* client: keys, waiting for READY */
  assert_true(p.c->keys);
  uint8_t f[32];
  size_t n = plain_error(f, CNV_ESESSION_HOLDER_PROOF);
  cnv_status st = a_feed(&p, p.c, f, n, 0);
  assert_int_not_equal(cnv_session_peer_status(p.c), CNV_ESESSION_HOLDER_PROOF);
  assert_int_equal(st, CNV_ESESSION_OPEN);
  a_teardown(&p);
}

/* The same on the server once AUTH arrived: the client holds keys since HELLO_REPLY and seals
 * every ERROR it sends, so a plain ERROR while the embedder checks the token is an attacker's
 * (only before AUTH may a client that refused the server send one plain). */
static void test_plain_error_after_auth(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_OK);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  assert_int_equal(p.last.kind, CNV_SESSION_EV_AUTH);
  uint8_t f[32];
  size_t n = plain_error(f, CNV_ESESSION_SERVER_KEY);
  cnv_status st = a_feed(&p, p.s, f, n, 0);
  assert_int_not_equal(cnv_session_peer_status(p.s), CNV_ESESSION_SERVER_KEY);
  assert_int_equal(st, CNV_ESESSION_OPEN);
  a_teardown(&p);
}

/* After READY a plain ERROR is refused as unauthentic (both sides). */
static void test_plain_error_after_ready(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_handshake(&p);
  uint8_t f[32];
  size_t n = plain_error(f, CNV_ESESSION_HOLDER_PROOF);
  assert_int_equal(a_feed(&p, p.c, f, n, 0), CNV_ESESSION_OPEN);
  n = plain_error(f, CNV_ESESSION_HOLDER_PROOF);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_OPEN);
  assert_int_equal(cnv_session_peer_status(p.c), 0);
  assert_int_equal(cnv_session_peer_status(p.s), 0);
  a_teardown(&p);
}

/* An injected plain ERROR during the handshake ends it and nothing else: the server answers
 * with no frame of its own (no ERROR in answer to an ERROR), no signature is produced. */
static void test_plain_error_before_keys(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  uint8_t f[32], out[A_BUF];
  size_t n = plain_error(f, INT32_MIN);
  assert_int_equal(a_feed(&p, p.s, f, n, 0), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(p.s), INT32_MIN);
  assert_int_equal(a_pull(p.s, out), 0);
  assert_false(p.s->keys);
  /* a non-negative code is malformed, not a peer error */
  cnv_session *s2 = NULL;
  assert_int_equal(a_create(&p.sc, p.now, &s2), CNV_OK);
  n = plain_error(f, CNV_OK);
  assert_int_equal(a_feed(&p, s2, f, n, 0), CNV_ESESSION_HANDSHAKE);
  a_destroy(s2);
  a_teardown(&p);
}

/* A second HELLO, a HELLO_REPLY to the server, a sealed-flag frame before keys, a frame after
 * AUTH and before accept: each ends the handshake with a coded error. */
static void test_out_of_order(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  uint8_t hello[A_BUF], tmp[A_BUF];
  size_t hn = a_pull(p.c, hello);
  memcpy(tmp, hello, hn);
  assert_int_equal(a_feed(&p, p.s, tmp, hn, 0), CNV_OK);
  assert_int_equal(a_feed(&p, p.s, hello, hn, 0), CNV_ESESSION_HANDSHAKE);
  a_teardown(&p);

  a_setup(&p, NULL);
  hn = a_pull(p.c, hello);
  hello[2] = (uint8_t)CNV_FRAME_FLAG_SEALED;
  assert_int_equal(a_feed(&p, p.s, hello, hn, 0), CNV_ESESSION_HANDSHAKE);
  a_teardown(&p);

  /* AUTH_PENDING: a sealed HEARTBEAT from the client before READY */
  a_setup(&p, NULL);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  assert_int_equal(a_carry(&p, p.s, p.c), CNV_OK);
  assert_int_equal(a_carry(&p, p.c, p.s), CNV_OK);
  assert_int_equal(p.last.kind, CNV_SESSION_EV_AUTH);
  uint8_t f[64];
  assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_HEARTBEAT, 0, NULL, 0, f), CNV_OK);
  assert_int_equal(a_feed(&p, p.s, f, 32, 0), CNV_ESESSION_UNEXPECTED);
  assert_int_equal(cnv_session_accept(p.s), CNV_ESESSION_UNEXPECTED);
  assert_false(cnv_session_ready(p.s));
  a_teardown(&p);
}

/* Before AUTH an honest client has sealed nothing (AUTH is its frame 0, and it cannot seal a
 * REKEY before it): a REKEY there is a handshake message out of order. Accepting it lets a
 * peer that never authenticates advance the server's receive key and spend its work for as
 * long as the handshake timer allows. */
static void test_rekey_before_auth(void **state) {
  (void)state;
  a_pair p;
  a_setup(&p, NULL);
  a_until_auth(&p);
  uint8_t f[64];
  p.c->tx.counter = 0;
  assert_int_equal(cnv__session_seal_one(p.c, CNV_MSG_REKEY, 0, NULL, 0, f), CNV_OK);
  cnv_status st = a_feed(&p, p.s, f, 32, 0);
  cnv_session_stats ss;
  assert_int_equal(cnv_session_stats_get(p.s, &ss), CNV_OK);
  assert_int_equal(ss.rekeys_received, 0);
  assert_int_equal(st, CNV_ESESSION_HANDSHAKE);
  a_teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_downgrade_aead, a_cleanup),
      cmocka_unit_test_teardown(test_downgrade_capabilities, a_cleanup),
      cmocka_unit_test_teardown(test_splice_sessions, a_cleanup),
      cmocka_unit_test_teardown(test_replay_handshake, a_cleanup),
      cmocka_unit_test_teardown(test_small_order_hello, a_cleanup),
      cmocka_unit_test_teardown(test_small_order_reply, a_cleanup),
      cmocka_unit_test_teardown(test_replay_holder_proof, a_cleanup),
      cmocka_unit_test_teardown(test_server_signature_as_proof, a_cleanup),
      cmocka_unit_test_teardown(test_confused_signatures, a_cleanup),
      cmocka_unit_test_teardown(test_weak_holder_keys, a_cleanup),
      cmocka_unit_test_teardown(test_plain_error_after_server_proof, a_cleanup),
      cmocka_unit_test_teardown(test_plain_error_after_auth, a_cleanup),
      cmocka_unit_test_teardown(test_plain_error_after_ready, a_cleanup),
      cmocka_unit_test_teardown(test_plain_error_before_keys, a_cleanup),
      cmocka_unit_test_teardown(test_out_of_order, a_cleanup),
      cmocka_unit_test_teardown(test_rekey_before_auth, a_cleanup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
