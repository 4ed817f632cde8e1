/* `cnv serve`: the swarm as a network service (libcnv's server module, docs/server.md). A
 * runtime with the built-in demo capabilities (builtins.h) and those of any --plugin, the
 * --trust roots and --revoked hashes, behind one server listening on every --listen address. Prints `listening ADDRESS` per listener once accepting; SIGINT, SIGTERM
 * and SIGHUP stop it gracefully (cnv_server_stop, then the runtime's stop), exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "cnv/protocol.h"
#include "cnv/runtime.h"
#include "cnv/server.h"
#include "cnv/status.h"

#include "builtins.h"
#include "cli.h"
#include "token.h"

#define MS 1000000ull

/* ---- flags ---- */

typedef struct serve_ctx {
  cnv_runtime *rt;
  cnv_server *srv;
  bool failed;
} serve_ctx;

static void copy_value(char *dst, const char *val, size_t n) {
  memcpy(dst, val, n);
  dst[n] = '\0';
}

static bool add_listen(void *ctx, const char *val, size_t n) {
  serve_ctx *sc = ctx;
  char addr[TOK_PATH_CAP];
  copy_value(addr, val, n);
  cnv_status st = cnv_server_listen(sc->srv, addr);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: --listen %s: %s\n", addr, cnv_strerror(st));
    return !(sc->failed = true);
  }
  return true;
}

/* Checks the form of one --listen value (a usage error): tcp:HOST:PORT or unix:PATH. */
static bool listen_form(void *ctx, const char *val, size_t n) {
  (void)ctx;
  bool tcp = n > 4 && strncmp(val, "tcp:", 4) == 0 && memchr(val + 4, ':', n - 4);
  bool unx = n > 5 && strncmp(val, "unix:", 5) == 0;
  if (n < TOK_PATH_CAP && (tcp || unx)) return true;
  cli_fail("--listen: not tcp:HOST:PORT or unix:PATH: %.*s", (int)(n < 200 ? n : 200), val);
  return false;
}

typedef struct serve_opts {
  char key_path[TOK_PATH_CAP];
  uint64_t io_threads, workers, max_sessions, max_per_peer, swarm;
} serve_opts;

static bool parse_flags(cli_cmd *cmd, serve_opts *o) {
  bool bad = false;
  o->io_threads = 1;
  o->workers = 2;
  o->max_sessions = 1024;
  o->max_per_peer = 64;
  o->swarm = 1;
  if (!tok_required(cmd, "key", o->key_path, sizeof o->key_path)) return false;
  if (!cli_flag_present(cmd, "listen")) {
    cli_fail("--listen is required (see --help)");
    return false;
  }
  if (!cli_flag_present(cmd, "trust")) {
    cli_fail("--trust is required (see --help)");
    return false;
  }
  cli_flag_u64(cmd, "io-threads", 1, 64, &o->io_threads, &bad);
  cli_flag_u64(cmd, "workers", 1, 256, &o->workers, &bad);
  cli_flag_u64(cmd, "max-sessions", 1, 1u << 20, &o->max_sessions, &bad);
  cli_flag_u64(cmd, "max-per-peer", 1, 1u << 20, &o->max_per_peer, &bad);
  cli_flag_u64(cmd, "swarm", 0, UINT64_MAX, &o->swarm, &bad);
  if (bad) return false;
  if (!cli_flag_each(cmd, "listen", listen_form, NULL) || !cli_flag_each(cmd, "trust", tok_path_fits, "trust") ||
      !cli_flag_each(cmd, "revoked", tok_path_fits, "revoked") || !cli_flag_each(cmd, "plugin", tok_path_fits, "plugin"))
    return false;
  return !cli_cmd_unknown(cmd);
}

/* Raises the soft limit on open descriptors to the hard one: each session holds one, and
 * --max-sessions should stay below the limit (docs/server.md). A failure keeps the soft limit:
 * the server still refuses what it cannot accept (EMFILE) without spinning. */
static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  (void)setrlimit(RLIMIT_NOFILE, &rl); /* the limit as it was is still a working one */
}

/* Waits for SIGINT, SIGTERM or SIGHUP (blocked in every thread since before any started). */
static void wait_signal(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  int signo = 0;
  while (sigwait(&set, &signo) != 0) {
  }
}

static int serve(serve_opts *o, cli_cmd *cmd, serve_ctx *sc) {
  raise_nofile();
  uint8_t sk[CNV_SESSION_SECRET_BYTES];
  if (!tok_read_secret(o->key_path, sk)) return CLI_EXIT_FAIL;
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.workers = (uint32_t)o->workers;
  rc.max_agents = (uint32_t)o->max_sessions;
  rc.swarm_id = o->swarm;
  cnv_status st = cnv_runtime_create(&rc, &sc->rt);
  if (st != CNV_OK) {
    sodium_memzero(sk, sizeof sk);
    cli_error("runtime", st);
    return CLI_EXIT_FAIL;
  }
  if (!cli_trust_load(cmd, sc->rt) || !cli_builtins_register(sc->rt) || !cli_plugins_load(cmd, sc->rt)) {
    sodium_memzero(sk, sizeof sk);
    return CLI_EXIT_FAIL;
  }
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.secret_key = sk;
  cfg.io_threads = (uint32_t)o->io_threads;
  cfg.max_sessions = (uint32_t)o->max_sessions;
  cfg.max_sessions_per_peer = (uint32_t)o->max_per_peer;
  st = cnv_server_create(&cfg, sc->rt, &sc->srv);
  sodium_memzero(sk, sizeof sk); /* the server keeps its own copy */
  if (st != CNV_OK) {
    cli_error("server", st);
    return CLI_EXIT_FAIL;
  }
  cli_flag_each(cmd, "listen", add_listen, sc);
  if (sc->failed) return CLI_EXIT_FAIL;
  st = cnv_runtime_start(sc->rt);
  if (st != CNV_OK) {
    cli_error("runtime", st);
    return CLI_EXIT_FAIL;
  }
  /* the signals are blocked from here on in this thread and every thread it starts */
  sigset_t old;
  if (!cli_signals_block(&old)) return CLI_EXIT_FAIL;
  st = cnv_server_start(sc->srv);
  if (st != CNV_OK) {
    cli_error("server", st);
    return CLI_EXIT_FAIL;
  }
  for (size_t i = 0; i < cnv_server_listener_count(sc->srv); i++) {
    char addr[CNV_SERVER_ADDRESS_MAX];
    if (cnv_server_address(sc->srv, i, addr, sizeof addr) == CNV_OK) printf("listening %s\n", addr);
  }
  if (fflush(stdout) != 0) return CLI_EXIT_FAIL; /* main reports the write error */
  wait_signal();
  st = cnv_server_stop(sc->srv);
  if (st != CNV_OK) cli_error("server stop", st);
  cnv_status rst = cnv_runtime_stop(sc->rt, 5000 * MS);
  if (rst != CNV_OK) cli_error("runtime stop", rst);
  return st == CNV_OK && rst == CNV_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int serve_run(cli_cmd *cmd) {
  serve_opts o;
  if (!parse_flags(cmd, &o)) return CLI_EXIT_USAGE;
  serve_ctx sc = {NULL, NULL, false};
  int rc = serve(&o, cmd, &sc);
  cnv_server_destroy(sc.srv); /* before the runtime: it gives its agents back */
  cnv_runtime_destroy(sc.rt);
  return rc;
}

static const cli_verb verbs[] = {
    {"run", "serve the swarm over the network (the default verb)",
     "--listen tcp:HOST:PORT|unix:PATH [--listen ...] --key SERVER.key --trust ROOT.pub [--trust ...]\n"
     "    [--plugin LIB.so]... [--revoked FILE]... [--io-threads N] [--workers N] [--max-sessions N]\n"
     "    [--max-per-peer N] [--swarm N]\n"
     "Prints `listening ADDRESS` per listener; SIGINT/SIGTERM/SIGHUP stop it gracefully (exit 0).",
     NULL, serve_run},
};

const cli_noun cli_noun_serve = {"serve", "the swarm as a network service (sessions, demo capabilities, plugins)",
                                 verbs, sizeof verbs / sizeof verbs[0], "run"};
