/* Test support: the plumbing of a client and a server session wired together in memory, shared
 * by the session module's tests (tests/session/harness.h) and its attack tests
 * (tests/session_attack/attack.h), which each keep their own pair, event record and checks.
 * Include after <cmocka.h>; link libsodium. */
#ifndef CNV_TEST_SESSION_PAIR_H
#define CNV_TEST_SESSION_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include <cnv/session.h>

#include "support/session_client.h"

/* Fresh key pairs for the server and the agent, and the configs of the two sessions: cc a
 * client holding the agent's key, trusting server_pk and presenting token (token_len bytes,
 * borrowed); sc a server with the server's key. */
static inline void tsp_configs(uint8_t server_pk[32], uint8_t server_sk[64], uint8_t agent_pk[32],
                               uint8_t agent_sk[64], const char *token, size_t token_len, cnv_session_config *cc,
                               cnv_session_config *sc) {
  assert_true(sodium_init() >= 0);
  assert_int_equal(crypto_sign_keypair(server_pk, server_sk), 0);
  assert_int_equal(crypto_sign_keypair(agent_pk, agent_sk), 0);
  *cc = tsc_client_config(agent_sk, server_pk, (const uint8_t *)token, token_len);
  cnv_session_config_default(sc, CNV_SESSION_SERVER);
  sc->secret_key = server_sk;
}

/* Feeds buf into `to` at time now, in chunks of `step` bytes (0: all at once), calling
 * on_event(arg, e) for every event. Returns the first status other than CNV_OK / CNV_EAGAIN,
 * or CNV_OK. */
static inline cnv_status tsp_feed(cnv_session *to, uint8_t *buf, size_t len, size_t step, uint64_t now,
                                  void (*on_event)(void *arg, const cnv_session_event *e), void *arg) {
  size_t off = 0;
  while (off < len) {
    size_t n = step && step < len - off ? step : len - off;
    while (n > 0) {
      cnv_session_event e;
      size_t used = 0;
      cnv_status st = cnv_session_feed(to, buf + off, n, now, &used, &e);
      assert_true(used <= n);
      off += used;
      n -= used;
      if (st == CNV_OK) {
        on_event(arg, &e);
        continue;
      }
      if (st != CNV_EAGAIN) return st;
      assert_int_equal(n, 0);
    }
  }
  return CNV_OK;
}

/* Seals one message of len bytes from `from` at time now into buf (cap bytes); returns its
 * size, which is within CNV_SESSION_SEAL_BOUND(len). */
static inline size_t tsp_seal(cnv_session *from, uint64_t now, uint8_t type, uint64_t id, const void *msg, size_t len,
                              uint8_t *buf, size_t cap) {
  size_t w = 0;
  assert_int_equal(cnv_session_seal(from, type, id, msg, len, now, buf, cap, &w), CNV_OK);
  assert_true(w <= CNV_SESSION_SEAL_BOUND(len));
  return w;
}

#endif
