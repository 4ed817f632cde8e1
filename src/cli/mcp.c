/* `cnv mcp serve`: the swarm's capabilities as Model Context Protocol tools (libcnv's mcp
 * module, include/cnv/mcp.h). A runtime in this process with the built-in demos and the
 * capabilities of every --plugin (builtins.h), the --trust roots and --revoked hashes; the
 * session acts as the one agent of --key and --token (the files `cnv token` writes). The
 * transport is stdio: newline-delimited JSON-RPC on stdin and stdout, and nothing else ever
 * reaches stdout (fd 1 is pointed at stderr once the protocol has its own copy of it, so a
 * plugin's stray printf cannot corrupt the stream). SIGINT and SIGTERM stop it (an eventfd the
 * transport watches), exit 0; so does the end of stdin.
 *
 * With --http HOST:PORT the transport is MCP's Streamable HTTP instead (libcnv's mcp_http
 * module, include/cnv/mcp_http.h): `listening http://HOST:PORT/mcp` on stderr once it accepts,
 * stdin unused, stdout never written; SIGINT and SIGTERM stop it, exit 0.
 *
 * The options are parsed into mcp_opts by parse_flags and the runtime and agent are set up by
 * mcp_setup, independently of the transport: mcp_run_stdio or mcp_run_http. */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sodium.h>

#include "cnv/mcp.h"
#include "cnv/mcp_http.h"
#include "cnv/runtime.h"
#include "cnv/status.h"

#include "builtins.h"
#include "cli.h"
#include "token.h"

#define MS 1000000ull

typedef struct mcp_opts {
  char key_path[TOK_PATH_CAP];
  char token_path[TOK_PATH_CAP];
  uint64_t workers;
  uint64_t page_size;
  bool verbose;
  bool http;     /* --http given */
  char host[64]; /* its numeric address, without brackets */
  uint16_t port; /* 0: any free port */
} mcp_opts;

/* --http's HOST:PORT: an IPv4 address or a bracketed IPv6 one, then a port 0..65535. False
 * (a usage error, printed) when it is not that. */
static bool http_addr(const char *v, mcp_opts *o) {
  const char *colon = strrchr(v, ':');
  const char *h = v;
  size_t hn = colon ? (size_t)(colon - v) : 0;
  if (hn >= 2 && v[0] == '[' && v[hn - 1] == ']') {
    h++;
    hn -= 2;
  }
  char *end = NULL;
  unsigned long port = colon && colon[1] ? strtoul(colon + 1, &end, 10) : 70000;
  unsigned char buf[16];
  bool ok = hn > 0 && hn < sizeof o->host && end && *end == '\0' && port <= 65535;
  if (ok) {
    memcpy(o->host, h, hn);
    o->host[hn] = '\0';
    ok = inet_pton(AF_INET, o->host, buf) == 1 || (h != v && inet_pton(AF_INET6, o->host, buf) == 1);
  }
  if (!ok) {
    cli_fail("--http: not HOST:PORT with a numeric host (127.0.0.1:8080, [::1]:8080): %.200s", v);
    return false;
  }
  o->port = (uint16_t)port;
  return true;
}

/* Usage checks only (no file is opened): exit 2 when false. */
static bool parse_flags(cli_cmd *cmd, mcp_opts *o) {
  bool bad = false;
  o->workers = 2;
  o->page_size = 100;
  if (!tok_required(cmd, "key", o->key_path, sizeof o->key_path) ||
      !tok_required(cmd, "token", o->token_path, sizeof o->token_path))
    return false;
  if (!cli_flag_present(cmd, "trust")) {
    cli_fail("--trust is required (see --help)");
    return false;
  }
  cli_flag_u64(cmd, "workers", 1, 256, &o->workers, &bad);
  cli_flag_u64(cmd, "page-size", 1, 1000, &o->page_size, &bad);
  o->verbose = cli_flag_bool(cmd, "verbose", &bad);
  char http[128];
  o->http = cli_flag_str(cmd, "http", http, sizeof http, &bad);
  if (bad || (o->http && !http_addr(http, o))) return false;
  if (!cli_flag_each(cmd, "trust", tok_path_fits, "trust") || !cli_flag_each(cmd, "revoked", tok_path_fits, "revoked") ||
      !cli_flag_each(cmd, "plugin", tok_path_fits, "plugin"))
    return false;
  return !cli_cmd_unknown(cmd);
}

/* --verbose: one stderr line per completed call (`mcp: TOOL KIND STATUS`). */
static void log_done(void *ctx, const char *tool, int kind, cnv_status status) {
  (void)ctx;
  fprintf(stderr, "mcp: %s %s %s\n", tool, cnv_runtime_done_name(kind), cnv_status_name(status));
}

/* The agent's public key: derived from the seed half of the secret key (the file's public
 * half is not trusted to match it). Wipes everything secret. */
static void public_of(const uint8_t sk[CNV_DELEG_SECRET_BYTES], uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  uint8_t seed[crypto_sign_SEEDBYTES], sk2[crypto_sign_SECRETKEYBYTES];
  crypto_sign_ed25519_sk_to_seed(seed, sk);
  crypto_sign_seed_keypair(pk, sk2, seed); /* cannot fail: any seed is a key */
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(sk2, sizeof sk2);
}

/* Reads --key and --token and checks that the token's holder (the last link's audience) is
 * the key's public key. Prints why not and returns false. */
static bool read_agent(const mcp_opts *o, uint8_t pk[CNV_DELEG_KEY_BYTES], uint8_t *token, size_t *token_len) {
  uint8_t sk[CNV_DELEG_SECRET_BYTES];
  if (!tok_read_secret(o->key_path, sk)) return false;
  public_of(sk, pk);
  sodium_memzero(sk, sizeof sk);
  static cnv_deleg_token tok;
  if (!tok_read_token(o->token_path, token, token_len, &tok)) return false;
  if (tok.n_links == 0 || sodium_memcmp(tok.links[tok.n_links - 1].audience, pk, CNV_DELEG_KEY_BYTES) != 0) {
    cli_fail("%s: the token's holder is not the public key of %s", o->token_path, o->key_path);
    return false;
  }
  return true;
}

/* The runtime (*rt set even on failure, for the caller to destroy; started when this returns
 * true) and the agent. */
static bool mcp_setup(const mcp_opts *o, cli_cmd *cmd, cnv_runtime **rt, uint32_t *agent) {
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  static uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t token_len = 0;
  if (!read_agent(o, pk, token, &token_len)) return false;
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.workers = (uint32_t)o->workers;
  rc.max_line = 4000;        /* the longest a runtime takes: long string arguments fit */
  rc.max_result = 64u << 10; /* demo.types' JSON of such a line (escapes grow it) fits */
  cnv_status st = cnv_runtime_create(&rc, rt);
  if (st != CNV_OK) {
    cli_error("runtime", st);
    return false;
  }
  if (!cli_trust_load(cmd, *rt) || !cli_builtins_register(*rt) ||
      !cli_plugins_load(cmd, *rt))
    return false;
  st = cnv_runtime_agent_add_verified(*rt, pk, token, token_len, agent);
  if (st != CNV_OK) {
    cli_fail("%s: the token does not verify for %s: %s (%s)", o->token_path, o->key_path, cnv_strerror(st),
             cnv_status_name(st));
    return false;
  }
  st = cnv_runtime_start(*rt);
  if (st != CNV_OK) {
    cli_error("runtime", st);
    return false;
  }
  return true;
}

/* ---- stdio ---- */

/* The eventfd that SIGINT and SIGTERM write (the transport's stop_fd). */
static int stop_fd = -1;

static void on_stop_signal(int signo) {
  (void)signo;
  int saved = errno;
  uint64_t one = 1;
  ssize_t w = write(stop_fd, &one, sizeof one); /* fails only when the counter is full: stop is due anyway */
  (void)w;
  cli_cleanup_now(); /* no temporary file of ours, but the tool's handler contract */
  errno = saved;
}

static bool stop_signals(void) {
  stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    cli_fail("eventfd: %s", strerror(errno));
    return false;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
    cli_fail("sigaction: %s", strerror(errno));
    return false;
  }
  return true;
}

/* Gives the protocol its own descriptor for stdout and points fd 1 at stderr; -1 on failure. */
static int protocol_out(void) {
  if (fflush(stdout) != 0) return -1;
  int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    cli_fail("stdout: %s", strerror(errno));
    if (out >= 0) close(out);
    return -1;
  }
  return out;
}

static int mcp_run_stdio(const mcp_opts *o, cnv_runtime *rt, uint32_t agent) {
  if (!stop_signals()) return CLI_EXIT_FAIL;
  int out = protocol_out();
  if (out < 0) return CLI_EXIT_FAIL;
  cnv_mcp_config cfg = {.rt = rt,
                        .agent = agent,
                        .server_name = "cnv",
                        .page_size = (uint32_t)o->page_size,
                        .on_call_done = o->verbose ? log_done : NULL};
  cnv_mcp_stdio_config io = {.in_fd = STDIN_FILENO, .out_fd = out, .stop_fd = stop_fd};
  cnv_status st = cnv_mcp_serve_stdio(&cfg, &io);
  close(out);
  if (st != CNV_OK) {
    cli_error("mcp", st);
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

/* ---- Streamable HTTP ---- */

static int mcp_run_http(const mcp_opts *o, cnv_runtime *rt, uint32_t agent) {
  if (!stop_signals()) return CLI_EXIT_FAIL;
  cnv_mcp_http_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.mcp = (cnv_mcp_config){.rt = rt,
                             .agent = agent,
                             .server_name = "cnv",
                             .page_size = (uint32_t)o->page_size,
                             .on_call_done = o->verbose ? log_done : NULL};
  cfg.host = o->host;
  cfg.port = o->port;
  cnv_mcp_http *h = NULL;
  cnv_status st = cnv_mcp_http_start(&cfg, &h);
  if (st != CNV_OK) {
    cli_fail("--http %s:%u: %s (%s)", o->host, (unsigned)o->port, cnv_strerror(st), cnv_status_name(st));
    return CLI_EXIT_FAIL;
  }
  bool v6 = strchr(o->host, ':') != NULL;
  fprintf(stderr, "listening http://%s%s%s:%u/mcp\n", v6 ? "[" : "", o->host, v6 ? "]" : "",
          (unsigned)cnv_mcp_http_port(h));
  struct pollfd p = {.fd = stop_fd, .events = POLLIN};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  cnv_mcp_http_stop(h);
  return CLI_EXIT_OK;
}

static int mcp_serve_run(cli_cmd *cmd) {
  mcp_opts o;
  if (!parse_flags(cmd, &o)) return CLI_EXIT_USAGE;
  cnv_runtime *rt = NULL;
  uint32_t agent = 0;
  bool started = mcp_setup(&o, cmd, &rt, &agent);
  int rc = !started ? CLI_EXIT_FAIL : o.http ? mcp_run_http(&o, rt, agent)
                                             : mcp_run_stdio(&o, rt, agent);
  if (started) {
    cnv_status st = cnv_runtime_stop(rt, 5000 * MS);
    if (st != CNV_OK) {
      cli_error("runtime stop", st);
      rc = CLI_EXIT_FAIL;
    }
  }
  cnv_runtime_destroy(rt); /* NULL when create failed */
  if (stop_fd >= 0) close(stop_fd);
  return rc;
}

static const char *const serve_bools[] = {"verbose", NULL};

static const cli_verb verbs[] = {
    {"serve", "serve the capabilities as MCP tools over stdio or HTTP",
     "--key AGENT.key --token TOKEN --trust ROOT.pub [--trust ...] [--revoked FILE]...\n"
     "    [--plugin LIB.so]... [--workers N] [--page-size N] [--verbose] [--http HOST:PORT]\n"
     "Newline-delimited JSON-RPC on stdin/stdout (stdout carries nothing else); the session acts\n"
     "as the agent of --key and --token. End of input, SIGINT or SIGTERM stop it (exit 0).\n"
     "--http HOST:PORT: MCP's Streamable HTTP on http://HOST:PORT/mcp instead (numeric host,\n"
     "loopback unless told otherwise; port 0 picks one); prints `listening http://HOST:PORT/mcp`\n"
     "on stderr; every client session acts as the same agent. SIGINT or SIGTERM stop it.",
     serve_bools, mcp_serve_run},
};

const cli_noun cli_noun_mcp = {"mcp", "the capabilities as Model Context Protocol tools (stdio, HTTP)", verbs,
                               sizeof verbs / sizeof verbs[0], NULL};
