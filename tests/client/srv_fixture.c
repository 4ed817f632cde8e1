/* The real-server fixture of srv_fixture.h. */
#include "srv_fixture.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "core/ignore.h"
#include "support/session_client.h"

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nap_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The text after `flag ` in the line, up to the end. */
static const char *arg_of(const cnv_runtime_call *c, const char *flag, size_t *n) {
  size_t fl = strlen(flag);
  for (size_t i = 0; i + fl < c->line_len; i++) {
    if (memcmp(c->line + i, flag, fl) == 0 && c->line[i + fl] == ' ') {
      *n = c->line_len - (i + fl + 1);
      return c->line + i + fl + 1;
    }
  }
  *n = 0;
  return NULL;
}

static cnv_status h_echo(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  size_t n = 0;
  const char *t = arg_of(c, "--text", &n);
  return t ? cnv_runtime_result_write(r, t, n) : CNV_OK;
}

static cnv_status h_sleep(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  size_t n = 0;
  const char *t = arg_of(c, "--ms", &n);
  unsigned ms = 0;
  for (size_t i = 0; t && i < n && t[i] >= '0' && t[i] <= '9'; i++) ms = ms * 10u + (unsigned)(t[i] - '0');
  for (unsigned i = 0; i < ms && !cnv_runtime_call_cancelled(c); i++) nap_ms(1);
  return CNV_OK;
}

static cnv_status h_fail(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  (void)c;
  cnv_status st = cnv_runtime_result_write(r, "failed", 6);
  return st == CNV_OK ? CNV_ENOTSUP : st;
}

void srvfx_config(cnv_server_config *cfg) {
  cnv_server_config_default(cfg);
  cfg->handshake_timeout_ms = 400;
  cfg->idle_timeout_ms = 600;
  cfg->stop_timeout_ns = 2000000000u;
}

static bool reg(cnv_runtime *rt, const char *path, cnv_runtime_handler_fn fn, int cls) {
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECTS_NONE, .cls = cls, .fn = fn, .ctx = NULL};
  return cnv_runtime_register(rt, path, strlen(path), &spec) == CNV_OK;
}

bool srvfx_start(srv_fx *x, const cnv_server_config *cfg, bool unix_socket, uint32_t max_agents) {
  memset(x, 0, sizeof *x);
  if (sodium_init() < 0) return false;
  tkey_make(&x->root, 0xA1);
  tkey_make(&x->server_key, 0xA2);
  cnv_deleg_caveats cav;
  cav_init(&cav);
  if (cav_allow(&cav, "demo.*") != CNV_OK) return false;
  if (mint_for_agent(x->root.sk, 0xA3, &cav, &x->agent, x->token, &x->token_len) != CNV_OK) return false;
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.workers = 2;
  rc.max_agents = max_agents ? max_agents : 64;
  rc.idle = CNV_RT_IDLE_PARK;
  if (cnv_runtime_create(&rc, &x->rt) != CNV_OK) return false;
  if (!reg(x->rt, "demo.echo", h_echo, CNV_DURATION_INTERACTIVE) ||
      !reg(x->rt, "demo.sleep", h_sleep, CNV_DURATION_USER_INITIATED) ||
      !reg(x->rt, "demo.fail", h_fail, CNV_DURATION_INTERACTIVE) ||
      cnv_runtime_trust_add(x->rt, x->root.pk) != CNV_OK || cnv_runtime_start(x->rt) != CNV_OK)
    return false;
  cnv_server_config sc;
  if (cfg) {
    sc = *cfg;
  } else {
    srvfx_config(&sc);
  }
  sc.secret_key = x->server_key.sk;
  if (cnv_server_create(&sc, x->rt, &x->srv) != CNV_OK) return false;
  char listen[160] = "tcp:127.0.0.1:0";
  if (unix_socket) {
    snprintf(x->dir, sizeof x->dir, "/tmp/cnv-srvfx-XXXXXX");
    if (!mkdtemp(x->dir)) return false;
    snprintf(listen, sizeof listen, "unix:%s/s", x->dir);
  }
  return cnv_server_listen(x->srv, listen) == CNV_OK &&
         cnv_server_address(x->srv, 0, x->address, sizeof x->address) == CNV_OK && cnv_server_start(x->srv) == CNV_OK;
}

bool srvfx_stop(srv_fx *x) {
  /* stop's CNV_ESERVER_TIMEOUT only says work was left in the runtime: the books below judge. */
  if (x->srv) cnv__ignore_status(cnv_server_stop(x->srv));
  cnv_server_destroy(x->srv);
  x->srv = NULL;
  bool ok = true;
  if (x->rt) {
    ok = cnv_runtime_stop(x->rt, 5000000000u) == CNV_OK;
    cnv_runtime_stats st;
    if (cnv_runtime_stats_get(x->rt, &st) == CNV_OK) {
      uint64_t done = 0;
      for (int i = 0; i < CNV_DONE_COUNT; i++) done += st.completed[i];
      if (done != st.accepted) {
        fprintf(stderr, "runtime: %llu accepted, %llu completed\n", (unsigned long long)st.accepted,
                (unsigned long long)done);
        ok = false;
      }
    } else {
      ok = false;
    }
    cnv_runtime_destroy(x->rt);
    x->rt = NULL;
  }
  if (x->dir[0]) rmdir(x->dir);
  return ok;
}

void srvfx_client_cfg(const srv_fx *x, cnv_client_config *cfg) {
  cnv_client_config_default(cfg);
  cfg->address = x->address;
  cfg->secret_key = x->agent.sk;
  cfg->server_pk = x->server_key.pk;
  cfg->token = x->token;
  cfg->token_len = x->token_len;
  cfg->connect_timeout_ms = 10000;
}

cnv_server_stats srvfx_stats(const srv_fx *x) {
  cnv_server_stats s;
  memset(&s, 0, sizeof s);
  if (cnv_server_stats_get(x->srv, &s) != CNV_OK) memset(&s, 0xFF, sizeof s);
  return s;
}

bool srvfx_wait(const srv_fx *x, bool (*pred)(const cnv_server_stats *s, const void *arg), const void *arg) {
  uint64_t end = mono_ns() + 10000000000u;
  for (;;) {
    cnv_server_stats s = srvfx_stats(x);
    if (pred(&s, arg)) return true;
    if (mono_ns() > end) return false;
    nap_ms(2);
  }
}

static bool none_open(const cnv_server_stats *s, const void *arg) {
  (void)arg;
  return s->sessions_open == 0;
}

bool srvfx_wait_closed(const srv_fx *x) { return srvfx_wait(x, none_open, NULL); }

bool srvfx_echo_works(const srv_fx *x) {
  cnv_client_config cfg;
  srvfx_client_cfg(x, &cfg);
  cnv_client *c = NULL;
  cnv_status st = cnv_client_connect(&cfg, &c);
  if (st != CNV_OK) {
    fprintf(stderr, "echo: connect: %s\n", cnv_status_name(st));
    return false;
  }
  char buf[64];
  cnv_client_result r;
  static const char line[] = "demo.echo --text still-here";
  st = cnv_client_call(c, line, sizeof line - 1, 0, 10000, &r, buf, sizeof buf);
  cnv_client_close(c);
  if (st != CNV_OK || r.status != CNV_OK || r.result_len != 10 || memcmp(buf, "still-here", 10) != 0) {
    fprintf(stderr, "echo: %s / %s\n", cnv_status_name(st), cnv_status_name(r.status));
    return false;
  }
  return true;
}

/* ---- raw sockets --------------------------------------------------------------------- */

int raw_connect(const srv_fx *x) {
  int fd = -1;
  if (strncmp(x->address, "unix:", 5) == 0) {
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", x->address + 5);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
      close(fd);
      fd = -1;
    }
    return fd;
  }
  const char *colon = strrchr(x->address, ':');
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

bool raw_send(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    b += k;
    n -= (size_t)k;
  }
  return true;
}

bool raw_wait_close(int fd, uint8_t *buf, size_t cap, size_t *got) {
  uint64_t end = mono_ns() + 10000000000u;
  size_t have = 0;
  uint8_t sink[4096];
  for (;;) {
    int ms = (int)((end - mono_ns()) / 1000000u);
    if (mono_ns() >= end || ms <= 0) break;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) break;
    uint8_t *dst = have < cap ? buf + have : sink;
    size_t room = have < cap ? cap - have : sizeof sink;
    ssize_t n = recv(fd, dst, room, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { /* EOF, or a reset: either way the server closed it */
      if (got) *got = have < cap ? have : cap;
      return true;
    }
    if (have < cap) have += (size_t)n;
  }
  if (got) *got = have < cap ? have : cap;
  return false;
}

static bool pull_send(raw_sess *r) {
  uint8_t out[CNV_SESSION_PULL_MAX];
  for (;;) {
    size_t w = 0;
    if (cnv_session_pull(r->s, out, sizeof out, &w) != CNV_OK) return false;
    if (w == 0) return true;
    if (!raw_send(r->fd, out, w)) return false;
  }
}

cnv_status raw_sess_open(raw_sess *r, const srv_fx *x, const uint8_t *sk, const uint8_t *token, size_t token_len) {
  r->s = NULL;
  r->fd = raw_connect(x);
  if (r->fd < 0) return CNV_ECLIENT_CONNECT;
  cnv_session_config cfg = tsc_client_config(sk ? sk : x->agent.sk, x->server_key.pk, token ? token : x->token,
                                             token ? token_len : x->token_len);
  cnv_status st = cnv_session_create(&cfg, mono_ns(), &r->s);
  if (st != CNV_OK) return st;
  static uint8_t in[1u << 16];
  while (!cnv_session_ready(r->s)) {
    if (!pull_send(r)) return CNV_ECLIENT_DISCONNECTED;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0) return CNV_ECLIENT_TIMEOUT;
    ssize_t n = recv(r->fd, in, sizeof in, 0);
    if (n <= 0) return CNV_ECLIENT_DISCONNECTED;
    size_t off = 0;
    while (off < (size_t)n) {
      size_t used = 0;
      cnv_session_event ev;
      st = cnv_session_feed(r->s, in + off, (size_t)n - off, mono_ns(), &used, &ev);
      off += used;
      if (st == CNV_EAGAIN) break;
      if (st == CNV_ESESSION_PEER_ERROR) return cnv_session_peer_status(r->s);
      if (st != CNV_OK) return st;
    }
  }
  return CNV_OK;
}

bool raw_seal_invoke(raw_sess *r, uint64_t id, const char *line, uint8_t *out, size_t cap, size_t *n) {
  uint8_t payload[4096];
  size_t plen = 0;
  cnv_session_invoke inv = {.deadline_ms = 0, .line = line, .line_len = strlen(line)};
  return cnv_session_invoke_encode(&inv, payload, sizeof payload, &plen) == CNV_OK &&
         cnv_session_seal(r->s, CNV_MSG_INVOCATION, id, payload, plen, mono_ns(), out, cap, n) == CNV_OK;
}

cnv_status raw_sess_drain(raw_sess *r, cnv_status *peer_code, unsigned *responses) {
  static uint8_t in[1u << 16];
  *peer_code = CNV_OK;
  uint64_t end = mono_ns() + 10000000000u;
  for (;;) {
    int ms = (int)((end - mono_ns()) / 1000000u);
    if (mono_ns() >= end || ms <= 0) return CNV_ECLIENT_TIMEOUT;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return CNV_ECLIENT_TIMEOUT;
    ssize_t n = recv(r->fd, in, sizeof in, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return CNV_ECLIENT_DISCONNECTED;
    size_t off = 0;
    while (off < (size_t)n) {
      size_t used = 0;
      cnv_session_event ev;
      cnv_status st = cnv_session_feed(r->s, in + off, (size_t)n - off, mono_ns(), &used, &ev);
      off += used;
      if (st == CNV_EAGAIN) break;
      if (st == CNV_ESESSION_PEER_ERROR) {
        *peer_code = cnv_session_peer_status(r->s);
        return st;
      }
      if (st != CNV_OK) return st;
      if (responses && ev.kind == CNV_SESSION_EV_MESSAGE && ev.type == CNV_MSG_RESPONSE) (*responses)++;
    }
  }
}

void raw_sess_close(raw_sess *r) {
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  cnv_session_destroy(r->s);
  r->s = NULL;
}
