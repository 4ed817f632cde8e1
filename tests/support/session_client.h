/* Test support: a client-role session's config, and the HELLO such a session sends first (to
 * replay or cut up by hand). Public API only, no test framework: usable from fixture sources
 * as well as tests. */
#ifndef CNV_TEST_SESSION_CLIENT_H
#define CNV_TEST_SESSION_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/session.h>

/* The config of a client session holding the agent's secret key sk, trusting server_pk and
 * presenting token (token_len bytes). Every pointer is borrowed: keep them alive while a
 * session is made from it. */
static inline cnv_session_config tsc_client_config(const uint8_t *sk, const uint8_t *server_pk, const uint8_t *token,
                                                   size_t token_len) {
  cnv_session_config cfg;
  cnv_session_config_default(&cfg, CNV_SESSION_CLIENT);
  cfg.secret_key = sk;
  cfg.server_pk = server_pk;
  cfg.token = token;
  cfg.token_len = token_len;
  return cfg;
}

/* What a fresh session with cfg, made at time now, queues first (its HELLO), copied into out
 * (cap bytes); the session is destroyed. Returns the size, or 0 when the session could not be
 * made or pulled from. */
static inline size_t tsc_hello(const cnv_session_config *cfg, uint64_t now, uint8_t *out, size_t cap) {
  cnv_session *s = NULL;
  if (cnv_session_create(cfg, now, &s) != CNV_OK) return 0;
  size_t w = 0;
  cnv_status st = cnv_session_pull(s, out, cap, &w);
  cnv_session_destroy(s);
  return st == CNV_OK ? w : 0;
}

#endif
