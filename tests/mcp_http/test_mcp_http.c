/* The Streamable HTTP transport over loopback with a raw HTTP/1.1 client: sessions, JSON and
 * SSE answers, the refusals (origin, protocol version, body size, session id), DELETE, and a
 * client that leaves mid-call (its call is cancelled). Every receive has a 20 s limit
 * (SO_RCVTIMEO), so a missing answer fails the test instead of hanging it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cnv/mcp_http.h>

#include "runtime/rt_fixture.h"
#include "mcp_http/http_client.h"
#include "support/fd_count.h"

/* ---- handlers: t.echo answers its line; t.sleep reports progress, then waits for the
 * test's go (or its cancel flag) ---- */

static atomic_int sleep_entered, sleep_go, sleep_cancelled;

static cnv_status h_sleep(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  atomic_fetch_add(&sleep_entered, 1);
  /* Progress reaches the client only when it asked (a progressToken); asked or not, the
   * report itself succeeds. */
  cnv_status st = cnv_runtime_call_progress(c, 1, 2, "half", 4);
  if (st != CNV_OK) return st;
  while (!atomic_load(&sleep_go)) {
    if (cnv_runtime_call_cancelled(c)) {
      atomic_fetch_add(&sleep_cancelled, 1);
      return CNV_ERT_CANCELLED;
    }
    usleep(1000);
  }
  return cnv_runtime_result_write(r, "slept", 5);
}

static const rtf_handler handlers[] = {
    {"t.echo", CNV_DURATION_INTERACTIVE, rtf_echo, NULL},
    {"t.sleep", CNV_DURATION_BATCH, h_sleep, NULL},
};

typedef struct fx {
  rtf f;
  uint32_t agent;
  cnv_mcp_http *h;
  uint16_t port;
} fx;

static void up(fx *t, size_t max_body) {
  atomic_store(&sleep_entered, 0);
  atomic_store(&sleep_go, 0);
  atomic_store(&sleep_cancelled, 0);
  t->agent = rtf_up(&t->f, NULL, handlers, sizeof handlers / sizeof handlers[0], 7);
  cnv_mcp_http_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.mcp.rt = t->f.rt;
  cfg.mcp.agent = t->agent;
  cfg.max_body = max_body;
  assert_int_equal(cnv_mcp_http_start(&cfg, &t->h), CNV_OK);
  t->port = cnv_mcp_http_port(t->h);
  assert_true(t->port != 0);
}

static void down(fx *t) {
  atomic_store(&sleep_go, 1);
  cnv_mcp_http_stop(t->h);
  assert_int_equal(cnv_runtime_stop(t->f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(t->f.rt);
}

#define ACCEPT_BOTH "Accept: application/json, text/event-stream\r\n"
#define INIT                                                                                                \
  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"," \
  "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}"

/* initialize; returns the session id in sid. */
static void open_session(fx *t, char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1]) {
  resp r;
  call(t->port, "POST", "/mcp", ACCEPT_BOTH, INIT, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "\"protocolVersion\""));
  assert_true(header(&r, "Mcp-Session-Id", sid, CNV_MCP_HTTP_SESSION_ID_LEN + 1));
  assert_int_equal(strlen(sid), CNV_MCP_HTTP_SESSION_ID_LEN);
  resp_free(&r);
  char extra[256];
  snprintf(extra, sizeof extra, ACCEPT_BOTH "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: 2025-06-18\r\n", sid);
  call(t->port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &r);
  assert_int_equal(r.status, 202);
  assert_int_equal(r.len, 0);
  resp_free(&r);
}

static void with_session(const char *sid, const char *more, char *out, size_t cap) {
  snprintf(out, cap, "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: 2025-06-18\r\n%s", sid, more);
}

/* ---- tests ---- */

static void test_session_list_call(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1], sid2[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  open_session(&t, sid2);
  assert_string_not_equal(sid, sid2); /* random, one per session */
  assert_int_equal(cnv_mcp_http_sessions(t.h) >= 1, 1);
  char extra[512];
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  resp r;
  call(t.port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", &r);
  assert_int_equal(r.status, 200);
  char ct[128];
  assert_true(header(&r, "Content-Type", ct, sizeof ct));
  assert_string_equal(ct, "application/json");
  assert_non_null(strstr(r.body, "\"t_echo\""));
  assert_non_null(strstr(r.body, "\"t_sleep\""));
  resp_free(&r);
  /* A call without a progress token: the response as JSON. */
  call(t.port, "POST", "/mcp", extra,
       "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"t_echo\",\"arguments\":{}}}",
       &r);
  assert_int_equal(r.status, 200);
  assert_true(header(&r, "Content-Type", ct, sizeof ct));
  assert_string_equal(ct, "application/json");
  assert_non_null(strstr(r.body, "\"id\":3"));
  assert_non_null(strstr(r.body, "t.echo"));
  resp_free(&r);
  down(&t);
}

/* Opens a session, POSTs `call` (a tools/call of t_sleep with a progress token) accepting
 * server-sent events, and reads until its first progress event is in got (cap bytes, *n of
 * them read); the handler is still waiting for sleep_go. Returns the connection. */
static int sse_call_until_progress(fx *t, const char *call, char *got, size_t cap, size_t *n) {
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(t, sid);
  char extra[512];
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  int fd = dial(t->port);
  send_req(fd, "POST", "/mcp", extra, call);
  *n = 0;
  got[0] = '\0';
  while (!strstr(got, "notifications/progress")) {
    ssize_t k = recv(fd, got + *n, cap - *n - 1, 0);
    assert_true(k > 0);
    *n += (size_t)k;
    got[*n] = '\0';
  }
  return fd;
}

static void test_progress_as_sse(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char got[8192];
  size_t n;
  int fd = sse_call_until_progress(&t,
                                   "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"tools/call\",\"params\":{"
                                   "\"name\":\"t_sleep\",\"arguments\":{},\"_meta\":{\"progressToken\":\"p1\"}}}",
                                   got, sizeof got, &n);
  assert_int_equal(atomic_load(&sleep_cancelled), 0);
  assert_null(strstr(got, "\"result\""));
  atomic_store(&sleep_go, 1);
  size_t rest;
  char *tail = read_all(fd, &rest);
  close(fd);
  char *raw = malloc(n + rest + 1);
  assert_non_null(raw);
  memcpy(raw, got, n);
  memcpy(raw + n, tail, rest + 1);
  free(tail);
  resp r;
  parse(raw, n + rest, &r);
  free(raw);
  assert_int_equal(r.status, 200);
  char ct[128];
  assert_true(header(&r, "Content-Type", ct, sizeof ct));
  assert_string_equal(ct, "text/event-stream");
  const char *prog = strstr(r.body, "event: message\ndata: {");
  assert_non_null(prog);
  assert_non_null(strstr(prog, "\"progressToken\":\"p1\""));
  const char *res = strstr(r.body, "\"result\"");
  assert_non_null(res);
  assert_true(strstr(r.body, "notifications/progress") < res); /* progress first */
  assert_non_null(strstr(res, "slept"));
  assert_non_null(strstr(r.body, "\"id\":\"c1\""));
  assert_string_equal(r.body + r.len - 2, "\n\n"); /* whole events */
  resp_free(&r);
  down(&t);
}

static void test_refusals(void **state) {
  (void)state;
  fx t;
  up(&t, 1024);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  char extra[512];
  resp r;
  const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}";
  /* No session id on a request other than initialize: 400. */
  call(t.port, "POST", "/mcp", ACCEPT_BOTH, ping, &r);
  assert_int_equal(r.status, 400);
  resp_free(&r);
  /* An unknown session id: 404. */
  with_session("0123456789abcdef0123456789abcdef", ACCEPT_BOTH, extra, sizeof extra);
  call(t.port, "POST", "/mcp", extra, ping, &r);
  assert_int_equal(r.status, 404);
  resp_free(&r);
  /* A foreign Origin (DNS rebinding): 403; a loopback one passes. */
  char more[256];
  snprintf(more, sizeof more, "%sOrigin: http://evil.example\r\n", ACCEPT_BOTH);
  with_session(sid, more, extra, sizeof extra);
  call(t.port, "POST", "/mcp", extra, ping, &r);
  assert_int_equal(r.status, 403);
  resp_free(&r);
  snprintf(more, sizeof more, "%sOrigin: http://localhost:6274\r\n", ACCEPT_BOTH);
  with_session(sid, more, extra, sizeof extra);
  call(t.port, "POST", "/mcp", extra, ping, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "\"id\":9"));
  resp_free(&r);
  /* An unsupported protocol version: 400. */
  snprintf(extra, sizeof extra, ACCEPT_BOTH "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: 1999-01-01\r\n", sid);
  call(t.port, "POST", "/mcp", extra, ping, &r);
  assert_int_equal(r.status, 400);
  resp_free(&r);
  /* A body past max_body (1024 here): 413, the session untouched. */
  char big[2048];
  memset(big, ' ', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  memcpy(big, ping, strlen(ping));
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  call(t.port, "POST", "/mcp", extra, big, &r);
  assert_int_equal(r.status, 413);
  resp_free(&r);
  /* GET without text/event-stream in Accept; other paths. */
  with_session(sid, "Accept: application/json\r\n", more, sizeof more);
  call(t.port, "GET", "/mcp", more, NULL, &r);
  assert_int_equal(r.status, 406);
  resp_free(&r);
  call(t.port, "POST", "/other", extra, ping, &r);
  assert_int_equal(r.status, 404);
  resp_free(&r);
  /* Still served. */
  call(t.port, "POST", "/mcp", extra, ping, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  /* A malformed body: the session's parse error, as a 400. */
  call(t.port, "POST", "/mcp", extra, "{\"jsonrpc\":", &r);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body, "-32700"));
  resp_free(&r);
  down(&t);
}

static void test_delete(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  char extra[512];
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  resp r;
  call(t.port, "DELETE", "/mcp", extra, NULL, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  call(t.port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}", &r);
  assert_int_equal(r.status, 404);
  resp_free(&r);
  call(t.port, "DELETE", "/mcp", extra, NULL, &r);
  assert_int_equal(r.status, 404);
  resp_free(&r);
  down(&t);
}

static void test_disconnect_cancels(void **state) {
  (void)state;
  int fds = tfd_count();
  fx t;
  up(&t, 0);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  char extra[512];
  with_session(sid, "Accept: application/json\r\n", extra, sizeof extra);
  int fd = dial(t.port);
  send_req(fd, "POST", "/mcp", extra,
           "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"t_sleep\","
           "\"arguments\":{}}}");
  while (atomic_load(&sleep_entered) == 0) usleep(1000);
  close(fd); /* the client leaves mid-call */
  while (atomic_load(&sleep_cancelled) == 0) usleep(1000);
  /* The session lives on. */
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  resp r;
  call(t.port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}", &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  down(&t);
  assert_int_equal(tfd_count(), fds); /* nothing left open */
}

/* A client that leaves while its call's SSE stream is open (after the progress event): the
 * call is cancelled too. */
static void test_disconnect_mid_stream(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char got[8192];
  size_t n;
  int fd = sse_call_until_progress(&t,
                                   "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{"
                                   "\"name\":\"t_sleep\",\"arguments\":{},\"_meta\":{\"progressToken\":8}}}",
                                   got, sizeof got, &n);
  close(fd);
  while (atomic_load(&sleep_cancelled) == 0) usleep(1000);
  down(&t);
}

/* The GET stream: the session's own messages (tools/list_changed once a capability is
 * registered after a tools/list); one stream per session (409); DELETE ends it. */
static void test_get_stream(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  char extra[512];
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  resp r;
  call(t.port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  with_session(sid, "Accept: text/event-stream\r\n", extra, sizeof extra);
  int fd = dial(t.port);
  send_req(fd, "GET", "/mcp", extra, NULL);
  char got[8192] = "";
  size_t n = 0;
  while (!strstr(got, "\r\n\r\n")) { /* the headers come at once */
    ssize_t k = recv(fd, got + n, sizeof got - n - 1, 0);
    assert_true(k > 0);
    n += (size_t)k;
    got[n] = '\0';
  }
  assert_non_null(strstr(got, "HTTP/1.1 200"));
  assert_non_null(strcasestr(got, "Content-Type: text/event-stream"));
  call(t.port, "GET", "/mcp", extra, NULL, &r); /* a second stream */
  assert_int_equal(r.status, 409);
  resp_free(&r);
  call(t.port, "GET", "/mcp", "Accept: text/event-stream\r\n", NULL, &r); /* no session */
  assert_int_equal(r.status, 400);
  resp_free(&r);
  call(t.port, "PUT", "/mcp", extra, "{}", &r);
  assert_int_equal(r.status, 405);
  resp_free(&r);
  rtf_register(&t.f, "t.late", CNV_DURATION_INTERACTIVE, rtf_echo, NULL);
  while (!strstr(got, "notifications/tools/list_changed")) {
    ssize_t k = recv(fd, got + n, sizeof got - n - 1, 0);
    assert_true(k > 0);
    n += (size_t)k;
    got[n] = '\0';
  }
  assert_non_null(strstr(got, "event: message\ndata: {"));
  with_session(sid, "", extra, sizeof extra);
  call(t.port, "DELETE", "/mcp", extra, NULL, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  size_t rest;
  char *tail = read_all(fd, &rest); /* the stream ends with the session */
  free(tail);
  close(fd);
  down(&t);
}

/* Stopping the server while a call runs: the call is cancelled, its client's connection is
 * closed without an answer, and stop returns (nothing left behind: ASan, descriptors). */
static void test_stop_mid_call(void **state) {
  (void)state;
  int fds = tfd_count();
  fx t;
  up(&t, 0);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  char extra[512];
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  int fd = dial(t.port);
  send_req(fd, "POST", "/mcp", extra,
           "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"t_sleep\","
           "\"arguments\":{}}}");
  while (atomic_load(&sleep_entered) == 0) usleep(1000);
  cnv_mcp_http_stop(t.h);
  assert_int_equal(atomic_load(&sleep_cancelled), 1);
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  assert_true(n <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0); /* closed, never answered 200 */
  close(fd);
  assert_int_equal(cnv_runtime_stop(t.f.rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_destroy(t.f.rt);
  assert_int_equal(tfd_count(), fds);
}

/* A ping on session sid: its HTTP status (200 alive, 404 gone). */
static int ping_status(fx *t, const char *sid) {
  char extra[512];
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  resp r;
  call(t->port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\"}", &r);
  int status = r.status;
  resp_free(&r);
  return status;
}

/* Opens sid's GET stream on a connection of its own, returned once its headers came. */
static int open_stream(fx *t, const char *sid) {
  char extra[512];
  with_session(sid, "Accept: text/event-stream\r\n", extra, sizeof extra);
  int fd = dial(t->port);
  send_req(fd, "GET", "/mcp", extra, NULL);
  char got[4096] = "";
  size_t n = 0;
  while (!strstr(got, ": stream")) {
    ssize_t k = recv(fd, got + n, sizeof got - n - 1, 0);
    assert_true(k > 0);
    n += (size_t)k;
    got[n] = '\0';
  }
  assert_non_null(strstr(got, "HTTP/1.1 200"));
  return fd;
}

#define PEER_CAP 16 /* max_sessions_per_peer's default */

/* One address past its session cap: clients that left without DELETE (idle sessions) are
 * evicted least recently used first, so the address is never locked out; a session with a
 * call running or its GET stream open is never evicted; only when every one of the peer's
 * sessions is busy is a new one refused (503). An evicted session's id gets 404. */
static void test_peer_cap_evicts_idle(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char old[PEER_CAP][CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  for (int i = 0; i < PEER_CAP; i++) open_session(&t, old[i]);
  assert_int_equal(cnv_mcp_http_sessions(t.h), PEER_CAP);
  /* old[0]: a call running; old[1]: its GET stream open; old[2]: used again last. */
  char extra[512];
  with_session(old[0], "Accept: application/json\r\n", extra, sizeof extra);
  int call_fd = dial(t.port);
  send_req(call_fd, "POST", "/mcp", extra,
           "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"t_sleep\","
           "\"arguments\":{}}}");
  while (atomic_load(&sleep_entered) == 0) usleep(1000);
  int stream_fd = open_stream(&t, old[1]);
  assert_int_equal(ping_status(&t, old[2]), 200);
  /* The 17th: old[3], the least recently used idle one, goes (a 404 touches nothing). */
  char fresh[PEER_CAP - 2][CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, fresh[0]);
  assert_int_equal(cnv_mcp_http_sessions(t.h), PEER_CAP);
  assert_int_equal(ping_status(&t, old[3]), 404);
  /* 12 more: old[4..15]; old[2] (used after them) and the two busy ones stay. */
  for (int i = 1; i <= 12; i++) open_session(&t, fresh[i]);
  assert_int_equal(cnv_mcp_http_sessions(t.h), PEER_CAP);
  for (int i = 4; i < PEER_CAP; i++) assert_int_equal(ping_status(&t, old[i]), 404);
  assert_int_equal(ping_status(&t, old[2]), 200); /* now used after every fresh one */
  /* One more: fresh[0] is now the least recently used idle one. */
  open_session(&t, fresh[13]);
  assert_int_equal(ping_status(&t, fresh[0]), 404);
  assert_int_equal(ping_status(&t, old[0]), 200);
  assert_int_equal(ping_status(&t, old[1]), 200);
  assert_int_equal(ping_status(&t, old[2]), 200);
  for (int i = 1; i <= 13; i++) assert_int_equal(ping_status(&t, fresh[i]), 200);
  assert_int_equal(cnv_mcp_http_sessions(t.h), PEER_CAP);
  /* Every session of the peer busy (a GET stream on each idle one): 503, nothing evicted. */
  int fds[PEER_CAP - 2];
  fds[0] = open_stream(&t, old[2]);
  for (int i = 1; i <= 13; i++) fds[i] = open_stream(&t, fresh[i]);
  resp r;
  call(t.port, "POST", "/mcp", ACCEPT_BOTH, INIT, &r);
  assert_int_equal(r.status, 503);
  assert_non_null(strstr(r.body, "Too many sessions"));
  resp_free(&r);
  assert_int_equal(cnv_mcp_http_sessions(t.h), PEER_CAP);
  /* One stream closed: its session is idle again, and the next session takes its place. */
  close(fds[5]);
  for (;;) { /* the server notices the closed connection on its own thread */
    call(t.port, "POST", "/mcp", ACCEPT_BOTH, INIT, &r);
    int status = r.status;
    resp_free(&r);
    if (status == 200) break;
    assert_int_equal(status, 503);
    usleep(1000);
  }
  assert_int_equal(ping_status(&t, fresh[5]), 404);
  assert_int_equal(ping_status(&t, old[0]), 200);
  assert_int_equal(ping_status(&t, old[1]), 200);
  /* The running call was never touched: it ends with its answer. */
  atomic_store(&sleep_go, 1);
  size_t n;
  char *raw = read_all(call_fd, &n);
  parse(raw, n, &r);
  free(raw);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "slept"));
  resp_free(&r);
  assert_int_equal(atomic_load(&sleep_cancelled), 0);
  close(call_fd);
  close(stream_fd);
  for (int i = 0; i < PEER_CAP - 2; i++) {
    if (i != 5) close(fds[i]);
  }
  down(&t);
}

/* "\u0000" inside a JSON string is data (the session takes it): a request whose id and
 * arguments hold one is classified and answered like any other, as JSON and as SSE. */
static void test_nul_in_strings(void **state) {
  (void)state;
  fx t;
  up(&t, 0);
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  open_session(&t, sid);
  char extra[512];
  with_session(sid, "Accept: application/json\r\n", extra, sizeof extra);
  resp r;
  call(t.port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0000b\",\"method\":\"ping\"}", &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "\"id\":\"a\\u0000b\""));
  resp_free(&r);
  /* A call that runs (the answer comes later, from the worker), asked for as SSE. */
  with_session(sid, ACCEPT_BOTH, extra, sizeof extra);
  atomic_store(&sleep_go, 1);
  call(t.port, "POST", "/mcp", extra,
       "{\"jsonrpc\":\"2.0\",\"id\":\"c\\u0000d\",\"method\":\"tools/call\",\"params\":{\"name\":\"t_sleep\","
       "\"arguments\":{},\"_meta\":{\"progressToken\":\"p\\u0000q\"}}}",
       &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "\"progressToken\":\"p\\u0000q\""));
  assert_non_null(strstr(r.body, "\"id\":\"c\\u0000d\""));
  assert_non_null(strstr(r.body, "slept"));
  resp_free(&r);
  down(&t);
}

static void test_api_errors(void **state) {
  (void)state;
  cnv_mcp_http *h = NULL;
  assert_int_equal(cnv_mcp_http_start(NULL, &h), CNV_EINVAL);
  cnv_mcp_http_config cfg;
  memset(&cfg, 0, sizeof cfg);
  assert_int_equal(cnv_mcp_http_start(&cfg, &h), CNV_EINVAL); /* no runtime */
  cnv_mcp_http_stop(NULL);
  assert_int_equal(cnv_mcp_http_port(NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_session_list_call),
      cmocka_unit_test(test_progress_as_sse),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_delete),
      cmocka_unit_test(test_disconnect_cancels),
      cmocka_unit_test(test_disconnect_mid_stream),
      cmocka_unit_test(test_get_stream),
      cmocka_unit_test(test_stop_mid_call),
      cmocka_unit_test(test_peer_cap_evicts_idle),
      cmocka_unit_test(test_nul_in_strings),
      cmocka_unit_test(test_api_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
