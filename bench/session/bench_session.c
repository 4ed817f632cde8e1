/* session_handshake_mem: one whole session handshake per iteration (both sessions created,
 * HELLO, HELLO_REPLY, AUTH, accept, READY, both destroyed), in memory: the crypto and the
 * state machine without sockets. session_seal_open_64: one round trip per iteration, a
 * 64-byte INVOCATION sealed by the client and opened by the server, and its empty RESPONSE
 * sealed and opened the other way (the default AEAD: AES-256-GCM where the CPU has it). */
#include <sodium.h>
#include <string.h>

#include <cnv/session.h>

#include "cnv_bench.h"

typedef struct bench_keys {
  uint8_t server_pk[32], server_sk[64], agent_pk[32], agent_sk[64];
  cnv_session_config cc, sc;
} bench_keys;

static const uint8_t token[] = "bench token bytes: a real token is a few hundred bytes long";

static void keys_init(bench_keys *k) {
  CNV_BENCH_OK(sodium_init() < 0);
  CNV_BENCH_OK(crypto_sign_keypair(k->server_pk, k->server_sk));
  CNV_BENCH_OK(crypto_sign_keypair(k->agent_pk, k->agent_sk));
  cnv_session_config_default(&k->cc, CNV_SESSION_CLIENT);
  k->cc.secret_key = k->agent_sk;
  k->cc.server_pk = k->server_pk;
  k->cc.token = token;
  k->cc.token_len = sizeof token - 1;
  cnv_session_config_default(&k->sc, CNV_SESSION_SERVER);
  k->sc.secret_key = k->server_sk;
}

/* Moves what `from` queued into `to`; returns the event kind fed (0: none). */
static int carry(cnv_session *from, cnv_session *to, uint8_t *buf) {
  size_t w = 0, used = 0;
  CNV_BENCH_OK(cnv_session_pull(from, buf, CNV_SESSION_PULL_MAX, &w));
  cnv_session_event ev;
  cnv_status st = cnv_session_feed(to, buf, w, 0, &used, &ev);
  if (st == CNV_EAGAIN) return 0;
  CNV_BENCH_OK(st);
  return ev.kind;
}

static void handshake(const bench_keys *k, uint8_t *buf, cnv_session **c, cnv_session **s) {
  CNV_BENCH_OK(cnv_session_create(&k->cc, 0, c));
  CNV_BENCH_OK(cnv_session_create(&k->sc, 0, s));
  CNV_BENCH_OK(carry(*c, *s, buf));
  CNV_BENCH_OK(carry(*s, *c, buf));
  CNV_BENCH_OK(carry(*c, *s, buf) != CNV_SESSION_EV_AUTH);
  CNV_BENCH_OK(cnv_session_accept(*s));
  CNV_BENCH_OK(carry(*s, *c, buf) != CNV_SESSION_EV_READY);
}

static void session_handshake_cnv(cnv_bench_state *st) {
  static bench_keys k;
  static uint8_t buf[CNV_SESSION_PULL_MAX];
  keys_init(&k);
  while (cnv_bench_keep_running(st)) {
    cnv_session *c = NULL, *s = NULL;
    handshake(&k, buf, &c, &s);
    cnv_session_destroy(c);
    cnv_session_destroy(s);
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void session_seal_open_64_cnv(cnv_bench_state *st) {
  static bench_keys k;
  static uint8_t buf[CNV_SESSION_PULL_MAX];
  keys_init(&k);
  cnv_session *c = NULL, *s = NULL;
  handshake(&k, buf, &c, &s);
  uint8_t msg[64], frame[CNV_SESSION_SEAL_BOUND(64)];
  memset(msg, 'x', sizeof msg);
  uint64_t id = 0;
  while (cnv_bench_keep_running(st)) {
    size_t w = 0, used = 0;
    cnv_session_event ev;
    CNV_BENCH_OK(cnv_session_seal(c, CNV_MSG_INVOCATION, ++id, msg, sizeof msg, 0, frame, sizeof frame, &w));
    CNV_BENCH_OK(cnv_session_feed(s, frame, w, 0, &used, &ev));
    /* answer with an empty RESPONSE so the credit never runs out */
    CNV_BENCH_OK(cnv_session_seal(s, CNV_MSG_RESPONSE, id, NULL, 0, 0, frame, sizeof frame, &w));
    CNV_BENCH_OK(cnv_session_feed(c, frame, w, 0, &used, &ev));
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
  cnv_session_destroy(c);
  cnv_session_destroy(s);
}

CNV_BENCH(session_handshake_cnv, "session_handshake_mem/cnv", 1, 0)
CNV_BENCH(session_seal_open_64_cnv, "session_seal_open_64/cnv", 1, 0)
