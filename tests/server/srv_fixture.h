/* Shared by the server's tests: a runtime (rt_fixture.h) behind a cnv_server on loopback or a
 * temporary unix socket, and a raw blocking client made of a client-role cnv_session over a
 * socket (what the cnv_client library does, without it). Every receive has a 20 s limit
 * (SO_RCVTIMEO), so a missing answer fails the test instead of hanging it. Include after
 * <cmocka.h>; link tests/support/forge.c. */
#ifndef CNV_TEST_SRV_FIXTURE_H
#define CNV_TEST_SRV_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cnv/server.h>
#include <cnv/session.h>

#include "runtime/rt_fixture.h"
#include "support/session_client.h"

#define SF_RESULT_MAX 1024

/* ---- the raw client ---- */

typedef struct sc_client {
  int fd;
  cnv_session *s;
  uint8_t rbuf[16384];
  size_t rlen, roff;
  int eof;
} sc_client;

/* One event, copied. */
typedef struct sc_msg {
  int kind;
  uint8_t type;
  uint64_t id;
  size_t len;
  uint8_t data[SF_RESULT_MAX + 64];
  /* RESPONSE, decoded */
  int32_t status;
  uint8_t done;
  uint8_t result_type;
  size_t result_len;
  uint8_t result[SF_RESULT_MAX];
} sc_msg;

/* A connected blocking socket to a listen address ("tcp:IP:PORT" or "unix:PATH"); -1 when
 * the connection is refused. */
static inline int sc_dial(const char *addr) {
  int fd = -1;
  if (strncmp(addr, "unix:", 5) == 0) {
    struct sockaddr_un su;
    memset(&su, 0, sizeof su);
    su.sun_family = AF_UNIX;
    size_t plen = strlen(addr + 5);
    assert_true(plen < sizeof su.sun_path);
    memcpy(su.sun_path, addr + 5, plen + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&su, sizeof su) != 0) {
      close(fd);
      return -1;
    }
  } else {
    assert_memory_equal(addr, "tcp:", 4);
    const char *colon = strrchr(addr, ':');
    char host[64];
    size_t hlen = (size_t)(colon - (addr + 4));
    assert_true(hlen < sizeof host);
    memcpy(host, addr + 4, hlen);
    host[hlen] = '\0';
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof s4);
    s4.sin_family = AF_INET;
    s4.sin_port = htons((uint16_t)atoi(colon + 1));
    assert_int_equal(inet_pton(AF_INET, host, &s4.sin_addr), 1);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&s4, sizeof s4) != 0) {
      close(fd);
      return -1;
    }
    int one = 1;
    assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
  }
  struct timeval tv = {20, 0};
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  return fd;
}

static inline void sc_send_all(sc_client *c, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* the server closed: the next receive says so */
    p += w;
    n -= (size_t)w;
  }
}

/* Sends what the session queued (handshake messages). */
static inline void sc_flush(sc_client *c) {
  static _Thread_local uint8_t buf[CNV_SESSION_PULL_MAX];
  for (;;) {
    size_t w = 0;
    assert_int_equal(cnv_session_pull(c->s, buf, sizeof buf, &w), CNV_OK);
    if (w == 0) return;
    sc_send_all(c, buf, w);
  }
}

/* Creates the client session over fd, a connected socket (its HELLO is sent). */
static inline void sc_attach(sc_client *c, int fd, const uint8_t *agent_sk, const uint8_t *server_pk,
                             const uint8_t *token, size_t token_len) {
  memset(c, 0, sizeof *c);
  c->fd = fd;
  cnv_session_config cfg = tsc_client_config(agent_sk, server_pk, token, token_len);
  assert_int_equal(cnv_session_create(&cfg, cnv_runtime_now_ns(), &c->s), CNV_OK);
  sc_flush(c);
}

/* Connects and creates the client session (its HELLO is sent). Returns false when the
 * connection was refused. */
static inline bool sc_open(sc_client *c, const char *addr, const uint8_t *agent_sk, const uint8_t *server_pk,
                           const uint8_t *token, size_t token_len) {
  int fd = sc_dial(addr);
  if (fd < 0) {
    memset(c, 0, sizeof *c);
    c->fd = -1;
    return false;
  }
  sc_attach(c, fd, agent_sk, server_pk, token, token_len);
  return true;
}

static inline void sc_close(sc_client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  cnv_session_destroy(c->s);
  c->s = NULL;
}

/* The next event into *m. CNV_OK, a session error (sticky: CNV_ESESSION_PEER_ERROR when the
 * server sent ERROR), or CNV_EIO when the connection closed (or 20 s passed) first. */
static inline cnv_status sc_next(sc_client *c, sc_msg *m) {
  for (;;) {
    while (c->roff < c->rlen) {
      size_t used = 0;
      cnv_session_event ev;
      cnv_status st = cnv_session_feed(c->s, c->rbuf + c->roff, c->rlen - c->roff, cnv_runtime_now_ns(), &used, &ev);
      c->roff += used;
      sc_flush(c);
      if (st == CNV_EAGAIN) continue;
      if (st != CNV_OK) return st;
      memset(m, 0, offsetof(sc_msg, data));
      m->kind = ev.kind;
      m->type = ev.type;
      m->id = ev.id;
      m->len = ev.len < sizeof m->data ? ev.len : sizeof m->data;
      if (m->len) memcpy(m->data, ev.data, m->len);
      if (ev.kind == CNV_SESSION_EV_MESSAGE && ev.type == CNV_MSG_RESPONSE) {
        cnv_session_response r;
        assert_int_equal(cnv_session_response_decode(ev.data, ev.len, &r), CNV_OK);
        m->status = r.status;
        m->done = r.done;
        m->result_type = r.result_type;
        m->result_len = r.result_len < SF_RESULT_MAX ? r.result_len : SF_RESULT_MAX;
        if (m->result_len) memcpy(m->result, r.result, m->result_len);
      }
      return CNV_OK;
    }
    c->roff = c->rlen = 0;
    if (c->eof) return CNV_EIO;
    ssize_t n = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      /* said for the failure report: a test that expected more learns which end came */
      if (n < 0) fprintf(stderr, "sc_next: %s\n", errno == EAGAIN ? "no answer within 20 s" : strerror(errno));
      c->eof = 1;
      return CNV_EIO;
    }
    c->rlen = (size_t)n;
  }
}

/* Runs the handshake: CNV_OK once READY, else the error (the server's code through
 * cnv_session_peer_status after CNV_ESESSION_PEER_ERROR). */
static inline cnv_status sc_handshake(sc_client *c) {
  sc_msg m;
  cnv_status st = sc_next(c, &m);
  if (st != CNV_OK) return st;
  return m.kind == CNV_SESSION_EV_READY ? CNV_OK : CNV_ESTATE;
}

static inline void sc_seal_send(sc_client *c, uint8_t type, uint64_t id, const void *payload, size_t len) {
  uint8_t out[CNV_SESSION_SEAL_BOUND(4096)];
  size_t w = 0;
  assert_int_equal(cnv_session_seal(c->s, type, id, payload, len, cnv_runtime_now_ns(), out, sizeof out, &w), CNV_OK);
  sc_send_all(c, out, w);
}

/* Sends one INVOCATION (deadline_ms 0: none). */
static inline void sc_invoke(sc_client *c, uint64_t id, const char *line, uint32_t deadline_ms) {
  uint8_t buf[4096];
  size_t n = 0;
  cnv_session_invoke inv = {.deadline_ms = deadline_ms, .line = line, .line_len = strlen(line)};
  assert_int_equal(cnv_session_invoke_encode(&inv, buf, sizeof buf, &n), CNV_OK);
  sc_seal_send(c, CNV_MSG_INVOCATION, id, buf, n);
}

static inline void sc_cancel(sc_client *c, uint64_t id) { sc_seal_send(c, CNV_MSG_CANCEL, id, NULL, 0); }

/* Says this client sends nothing more (SHUTDOWN): after a server's SHUTDOWN, once its calls
 * are answered, the server then closes the connection. */
static inline void sc_shutdown(sc_client *c) { sc_seal_send(c, CNV_MSG_SHUTDOWN, 0, NULL, 0); }

/* The next message, which must be a RESPONSE. */
static inline void sc_response(sc_client *c, sc_msg *m) {
  assert_int_equal(sc_next(c, m), CNV_OK);
  assert_int_equal(m->kind, CNV_SESSION_EV_MESSAGE);
  assert_int_equal(m->type, CNV_MSG_RESPONSE);
}

/* One call: invoke, then the RESPONSE (which must carry id). */
static inline void sc_call(sc_client *c, uint64_t id, const char *line, sc_msg *m) {
  sc_invoke(c, id, line, 0);
  sc_response(c, m);
  assert_int_equal(m->id, id);
}

/* ---- the server fixture ---- */

typedef struct sf {
  rtf f;
  tkey server; /* the server's identity */
  cnv_server *srv;
  char addr[CNV_SERVER_ADDRESS_MAX];
  char dir[64]; /* temporary folder of a unix socket ("" for tcp) */
} sf;

/* The runtime config of the server tests: rtf_config with `workers` workers. */
static inline cnv_runtime_config sf_rt_config(uint32_t workers) {
  cnv_runtime_config cfg = rtf_config_workers(workers);
  cfg.max_result = SF_RESULT_MAX;
  return cfg;
}

/* Creates and starts the runtime (rcfg; handlers h[0..n)) and a server (scfg may be NULL:
 * defaults) listening on `where`: "tcp" (127.0.0.1, port 0) or "unix" (a socket in a new
 * temporary folder). */
static inline void sf_up(sf *t, const cnv_runtime_config *rcfg, const cnv_server_config *scfg, const rtf_handler *h,
                         size_t n, const char *where) {
  memset(t, 0, sizeof *t);
  rtf_create(&t->f, rcfg);
  rtf_register_all(&t->f, h, n);
  assert_int_equal(cnv_runtime_start(t->f.rt), CNV_OK);
  tkey_make(&t->server, 0x5e);
  cnv_server_config cfg;
  if (scfg) {
    cfg = *scfg;
  } else {
    cnv_server_config_default(&cfg);
  }
  cfg.secret_key = t->server.sk;
  assert_int_equal(cnv_server_create(&cfg, t->f.rt, &t->srv), CNV_OK);
  char addr[200];
  if (strcmp(where, "unix") == 0) {
    strcpy(t->dir, "/tmp/cnv-srv-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(addr, sizeof addr, "unix:%s/s.sock", t->dir);
  } else {
    strcpy(addr, "tcp:127.0.0.1:0");
  }
  assert_int_equal(cnv_server_listen(t->srv, addr), CNV_OK);
  assert_int_equal(cnv_server_start(t->srv), CNV_OK);
  assert_int_equal(cnv_server_address(t->srv, 0, t->addr, sizeof t->addr), CNV_OK);
}

/* Stops the server (which must stop cleanly), the runtime, and frees both; removes the
 * temporary folder (the socket file must be gone). */
static inline void sf_down(sf *t) {
  assert_int_equal(cnv_server_stop(t->srv), CNV_OK);
  assert_int_equal(cnv_runtime_stop(t->f.rt, RTF_STOP_NS), CNV_OK);
  cnv_server_destroy(t->srv);
  cnv_runtime_destroy(t->f.rt);
  if (t->dir[0]) assert_int_equal(rmdir(t->dir), 0);
}

/* A token for agent key_byte allowing `allow` in the fixture's swarm, signed by the root. */
static inline void sf_token(sf *t, uint8_t key_byte, const char *allow, tkey *agent, uint8_t *tok, size_t *len) {
  cnv_deleg_caveats cav;
  cav_init(&cav);
  cav.swarm = RTF_SWARM;
  assert_int_equal(cav_allow(&cav, allow), CNV_OK);
  assert_int_equal(mint_for_agent(t->f.root.sk, key_byte, &cav, agent, tok, len), CNV_OK);
}

/* Connects agent key_byte (token allowing `allow`) and runs the handshake, which must pass. */
static inline void sf_client(sf *t, sc_client *c, uint8_t key_byte, const char *allow) {
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  sf_token(t, key_byte, allow, &agent, tok, &len);
  assert_true(sc_open(c, t->addr, agent.sk, t->server.pk, tok, len));
  assert_int_equal(sc_handshake(c), CNV_OK);
}

static inline cnv_server_stats sf_stats(sf *t) {
  cnv_server_stats st;
  assert_int_equal(cnv_server_stats_get(t->srv, &st), CNV_OK);
  return st;
}

#endif
