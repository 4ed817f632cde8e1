/* Test harness: a client and a server session wired together in memory, with a synthetic
 * clock, helpers that carry bytes between them and record the events each side reports. */
#ifndef CNV_TEST_SESSION_HARNESS_H
#define CNV_TEST_SESSION_HARNESS_H

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

#define H_TOKEN "token: holder=agent, may call demo.*"
#define H_MAX_EVENTS 512
#define H_EV_DATA 256

typedef struct h_event {
  int kind;
  uint8_t type;
  uint64_t id;
  size_t len;
  uint8_t data[H_EV_DATA]; /* the first H_EV_DATA bytes */
  uint8_t peer_key[CNV_SESSION_KEY_BYTES];
} h_event;

typedef struct h_pair {
  cnv_session *c, *s;
  uint8_t server_pk[32], server_sk[64], agent_pk[32], agent_sk[64];
  cnv_session_config cc, sc;
  uint64_t now;
  h_event ev[H_MAX_EVENTS];
  size_t n_ev;
} h_pair;

typedef void (*h_tweak)(h_pair *p);

/* Keys and configs; tweak (may be NULL) edits p->cc / p->sc before the sessions are made. */
static inline void h_setup(h_pair *p, h_tweak tweak) {
  memset(p, 0, sizeof *p);
  tsp_configs(p->server_pk, p->server_sk, p->agent_pk, p->agent_sk, H_TOKEN, sizeof H_TOKEN - 1, &p->cc, &p->sc);
  p->now = 1000;
  if (tweak) tweak(p);
  assert_int_equal(cnv_session_create(&p->cc, p->now, &p->c), CNV_OK);
  assert_int_equal(cnv_session_create(&p->sc, p->now, &p->s), CNV_OK);
}

static inline void h_teardown(h_pair *p) {
  cnv_session_destroy(p->c);
  cnv_session_destroy(p->s);
  p->c = p->s = NULL;
}

static inline void h_record(h_pair *p, const cnv_session_event *e) {
  assert_true(p->n_ev < H_MAX_EVENTS);
  h_event *r = &p->ev[p->n_ev++];
  memset(r, 0, sizeof *r);
  r->kind = e->kind;
  r->type = e->type;
  r->id = e->id;
  r->len = e->len;
  if (e->len) memcpy(r->data, e->data, e->len < H_EV_DATA ? e->len : H_EV_DATA);
  if (e->peer_key) memcpy(r->peer_key, e->peer_key, CNV_SESSION_KEY_BYTES);
}

static inline void h_on_event(void *p, const cnv_session_event *e) { h_record(p, e); }

/* Feeds buf (in chunks of `step` bytes; 0: all at once) into `to`, recording every event.
 * Returns the first status other than CNV_OK / CNV_EAGAIN, or CNV_OK. */
static inline cnv_status h_feed(h_pair *p, cnv_session *to, uint8_t *buf, size_t len, size_t step) {
  return tsp_feed(to, buf, len, step, p->now, h_on_event, p);
}

/* Carries what `from` has queued (cnv_session_pull) into `to`. */
static inline cnv_status h_carry(h_pair *p, cnv_session *from, cnv_session *to, size_t step) {
  static uint8_t buf[CNV_SESSION_PULL_MAX];
  size_t w = 0;
  assert_int_equal(cnv_session_pull(from, buf, sizeof buf, &w), CNV_OK);
  return h_feed(p, to, buf, w, step);
}

/* The whole handshake, each message fed `step` bytes at a time; asserts every step. */
static inline void h_handshake(h_pair *p, size_t step) {
  assert_int_equal(h_carry(p, p->c, p->s, step), CNV_OK); /* HELLO */
  assert_int_equal(p->n_ev, 0);
  assert_int_equal(h_carry(p, p->s, p->c, step), CNV_OK); /* HELLO_REPLY */
  assert_int_equal(p->n_ev, 0);
  assert_int_equal(h_carry(p, p->c, p->s, step), CNV_OK); /* AUTH */
  assert_int_equal(p->n_ev, 1);
  assert_int_equal(p->ev[0].kind, CNV_SESSION_EV_AUTH);
  assert_int_equal(p->ev[0].len, sizeof H_TOKEN - 1);
  assert_memory_equal(p->ev[0].data, H_TOKEN, sizeof H_TOKEN - 1);
  assert_memory_equal(p->ev[0].peer_key, p->agent_pk, 32);
  assert_false(cnv_session_ready(p->s));
  assert_int_equal(cnv_session_accept(p->s), CNV_OK);
  assert_true(cnv_session_ready(p->s));
  assert_int_equal(h_carry(p, p->s, p->c, step), CNV_OK); /* READY */
  assert_int_equal(p->n_ev, 2);
  assert_int_equal(p->ev[1].kind, CNV_SESSION_EV_READY);
  assert_memory_equal(p->ev[1].peer_key, p->server_pk, 32);
  assert_true(cnv_session_ready(p->c));
  p->n_ev = 0;
}

/* Seals one message into buf; returns its size. */
static inline size_t h_seal(h_pair *p, cnv_session *from, uint8_t type, uint64_t id, const void *msg, size_t len,
                            uint8_t *buf, size_t cap) {
  return tsp_seal(from, p->now, type, id, msg, len, buf, cap);
}

#endif
