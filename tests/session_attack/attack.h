/* Attack-test harness for the session module: a client and a server session wired in memory
 * (its own pair, with the plumbing of tests/support/session_pair.h, so these tests do not
 * depend on tests/session/), plus what an on-path attacker
 * needs: raw pulls, frame surgery, and white-box sealing with a session's own keys. */
#ifndef CNV_TEST_SESSION_ATTACK_H
#define CNV_TEST_SESSION_ATTACK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <cnv/session.h>

#include "session/session_internal.h"
#include "support/session_pair.h"

#define A_TOKEN "token: holder=agent, may call demo.*"
#define A_TOKEN_LEN (sizeof A_TOKEN - 1)
#define A_BUF CNV_SESSION_PULL_MAX

typedef struct a_pair {
  cnv_session *c, *s;
  uint8_t server_pk[32], server_sk[64], agent_pk[32], agent_sk[64];
  cnv_session_config cc, sc;
  uint64_t now;
  cnv_session_event last; /* the last event either side reported (data not kept) */
  int n_ev;
} a_pair;

typedef void (*a_tweak)(a_pair *p);

/* Sessions alive in the running test, so that a test stopped by a failed assertion (a defect
 * it shows) still frees them in its teardown and the sanitizer reports only real leaks. */
#define A_MAX_LIVE 16
static cnv_session *a_live[A_MAX_LIVE];

static inline cnv_session *a_track(cnv_session *s) {
  for (size_t i = 0; i < A_MAX_LIVE; i++)
    if (!a_live[i]) {
      a_live[i] = s;
      return s;
    }
  fail_msg("too many live sessions");
  return s;
}

static inline void a_destroy(cnv_session *s) {
  for (size_t i = 0; i < A_MAX_LIVE; i++)
    if (a_live[i] == s) a_live[i] = NULL;
  cnv_session_destroy(s);
}

/* cmocka teardown of every test: destroys what the test left alive. */
static inline int a_cleanup(void **state) {
  (void)state;
  for (size_t i = 0; i < A_MAX_LIVE; i++) {
    cnv_session_destroy(a_live[i]);
    a_live[i] = NULL;
  }
  return 0;
}

/* Creates a session the teardown will free. */
static inline cnv_status a_create(const cnv_session_config *cfg, uint64_t now, cnv_session **out) {
  cnv_status st = cnv_session_create(cfg, now, out);
  if (st == CNV_OK) a_track(*out);
  return st;
}

static inline void a_setup(a_pair *p, a_tweak tweak) {
  memset(p, 0, sizeof *p);
  tsp_configs(p->server_pk, p->server_sk, p->agent_pk, p->agent_sk, A_TOKEN, A_TOKEN_LEN, &p->cc, &p->sc);
  p->now = 1000;
  if (tweak) tweak(p);
  assert_int_equal(a_create(&p->cc, p->now, &p->c), CNV_OK);
  assert_int_equal(a_create(&p->sc, p->now, &p->s), CNV_OK);
}

static inline void a_teardown(a_pair *p) {
  a_destroy(p->c);
  a_destroy(p->s);
  p->c = p->s = NULL;
}

/* Pulls everything `from` queued into buf (A_BUF bytes); returns the byte count. */
static inline size_t a_pull(cnv_session *from, uint8_t *buf) {
  size_t w = 0;
  assert_int_equal(cnv_session_pull(from, buf, A_BUF, &w), CNV_OK);
  return w;
}

/* Keeps the last event (its data not kept) and counts it. */
static inline void a_on_event(void *arg, const cnv_session_event *e) {
  a_pair *p = arg;
  p->last = *e;
  p->n_ev++;
}

/* Feeds buf into `to` in chunks of `step` bytes (0: all at once), counting events. Returns
 * the first status other than CNV_OK / CNV_EAGAIN, or CNV_OK. */
static inline cnv_status a_feed(a_pair *p, cnv_session *to, uint8_t *buf, size_t len, size_t step) {
  return tsp_feed(to, buf, len, step, p->now, a_on_event, p);
}

/* Carries what `from` queued into `to`. */
static inline cnv_status a_carry(a_pair *p, cnv_session *from, cnv_session *to) {
  static uint8_t buf[A_BUF];
  size_t w = a_pull(from, buf);
  return a_feed(p, to, buf, w, 0);
}

/* The whole handshake, asserting each step. */
static inline void a_handshake(a_pair *p) {
  assert_int_equal(a_carry(p, p->c, p->s), CNV_OK); /* HELLO */
  assert_int_equal(a_carry(p, p->s, p->c), CNV_OK); /* HELLO_REPLY */
  assert_int_equal(a_carry(p, p->c, p->s), CNV_OK); /* AUTH */
  assert_int_equal(p->last.kind, CNV_SESSION_EV_AUTH);
  assert_int_equal(cnv_session_accept(p->s), CNV_OK);
  assert_int_equal(a_carry(p, p->s, p->c), CNV_OK); /* READY */
  assert_int_equal(p->last.kind, CNV_SESSION_EV_READY);
  assert_true(cnv_session_ready(p->c));
  p->n_ev = 0;
}

/* Seals one message; returns its size. */
static inline size_t a_seal(a_pair *p, cnv_session *from, uint8_t type, uint64_t id, const void *msg, size_t len,
                            uint8_t *buf, size_t cap) {
  return tsp_seal(from, p->now, type, id, msg, len, buf, cap);
}

/* True when `needle` (n bytes) occurs anywhere in the session's allocation. */
static inline bool a_block_has(const cnv_session *s, const uint8_t *needle, size_t n) {
  const uint8_t *b = (const uint8_t *)s;
  for (size_t i = 0; i + n <= s->block_size; i++)
    if (memcmp(b + i, needle, n) == 0) return true;
  return false;
}

static inline bool a_is_zero(const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (b[i]) return false;
  return true;
}

/* The message a session signature covers: a 30-byte label, then a 32-byte transcript hash. */
static inline void a_sig_message(uint8_t m[62], const char *label30, const uint8_t t[32]) {
  memcpy(m, label30, 30);
  memcpy(m + 30, t, 32);
}

/* Seals an AUTH plaintext under the client's c2s key at counter 0 (in place of the honest
 * AUTH, which the caller pulled and dropped) into f; returns the frame size. */
static inline size_t a_forge_auth(a_pair *p, const uint8_t *pt, size_t len, uint8_t *f) {
  p->c->tx.counter = 0;
  assert_int_equal(cnv__session_seal_one(p->c, CNV_MSG_AUTH, 0, pt, len, f), CNV_OK);
  return CNV_FRAME_HEADER_SIZE + len + CNV_SESSION_TAG_BYTES;
}

/* Runs HELLO and HELLO_REPLY and drops the client's honest AUTH, leaving the server waiting
 * for AUTH and the client holding the keys (so a test can forge AUTH). */
static inline void a_until_auth(a_pair *p) {
  uint8_t drop[A_BUF];
  assert_int_equal(a_carry(p, p->c, p->s), CNV_OK);
  assert_int_equal(a_carry(p, p->s, p->c), CNV_OK);
  assert_true(a_pull(p->c, drop) > 0);
}

#endif
