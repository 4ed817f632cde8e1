/* `cnv serve`: the swarm as a network service (libcnv's server module, docs/server.md). A
 * runtime with the built-in demo capabilities (demo.echo, demo.sleep, demo.fail) and those of
 * any --plugin, the --trust roots and --revoked hashes, behind one server listening on every
 * --listen address. Prints `listening ADDRESS` per listener once accepting; SIGINT, SIGTERM
 * and SIGHUP stop it gracefully (cnv_server_stop, then the runtime's stop), exit 0. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "cnv/protocol.h"
#include "cnv/runtime.h"
#include "cnv/server.h"
#include "cnv/status.h"

#include "cli.h"
#include "token.h"

#define MS 1000000ull

/* ---- built-in capabilities ---- */

/* The value of `--name` in the call's line (first occurrence); false when absent. */
static bool line_flag(const cnv_runtime_call *call, const char *name, cnv_slice *out) {
  cnv_arg args[16];
  cnv_invocation inv;
  if (cnv_invocation_init(&inv, args, 16) != CNV_OK) return false;
  if (cnv_parse_invocation(call->line, call->line_len, NULL, NULL, &inv) != CNV_OK) return false;
  size_t n = strlen(name);
  for (uint32_t i = 0; i < inv.count; i++) {
    if (args[i].kind == CNV_ARG_LONG_VALUE && args[i].name.len == n && memcmp(args[i].name.ptr, name, n) == 0) {
      *out = args[i].value;
      return true;
    }
  }
  return false;
}

static cnv_status demo_echo(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  cnv_slice text;
  if (!line_flag(call, "text", &text)) return CNV_EINVAL;
  return cnv_runtime_result_write(r, text.ptr, text.len);
}

/* Sleeps --ms N milliseconds (at most 30000), in slices, returning early when cancelled. */
static cnv_status demo_sleep(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)r;
  cnv_slice v;
  if (!line_flag(call, "ms", &v) || v.len == 0 || v.len > 5) return CNV_EINVAL;
  uint64_t ms = 0;
  for (size_t i = 0; i < v.len; i++) {
    if (v.ptr[i] < '0' || v.ptr[i] > '9') return CNV_EINVAL;
    ms = ms * 10 + (uint64_t)(v.ptr[i] - '0');
  }
  if (ms > 30000) return CNV_ERANGE;
  uint64_t end = cnv_runtime_now_ns() + ms * MS;
  while (!cnv_runtime_call_cancelled(call)) {
    uint64_t now = cnv_runtime_now_ns();
    if (now >= end) return CNV_OK;
    uint64_t step = end - now < 5 * MS ? end - now : 5 * MS;
    struct timespec ts = {0, (long)step};
    nanosleep(&ts, NULL);
  }
  return CNV_ERT_CANCELLED;
}

static cnv_status demo_fail(void *ctx, const cnv_runtime_call *call, cnv_runtime_result *r) {
  (void)ctx;
  (void)call;
  static const char why[] = "demo.fail always fails";
  cnv_status st = cnv_runtime_result_write(r, why, sizeof why - 1);
  return st != CNV_OK ? st : CNV_EIO;
}

static bool register_demos(cnv_runtime *rt) {
  static const struct {
    const char *path;
    int cls;
    cnv_runtime_handler_fn fn;
  } demos[] = {{"demo.echo", CNV_DURATION_INTERACTIVE, demo_echo},
               {"demo.sleep", CNV_DURATION_USER_INITIATED, demo_sleep},
               {"demo.fail", CNV_DURATION_INTERACTIVE, demo_fail}};
  for (size_t i = 0; i < sizeof demos / sizeof demos[0]; i++) {
    cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = demos[i].cls, .fn = demos[i].fn};
    cnv_status st = cnv_runtime_register(rt, demos[i].path, strlen(demos[i].path), &spec);
    if (st != CNV_OK) {
      cli_error(demos[i].path, st);
      return false;
    }
  }
  return true;
}

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

static bool add_trust(void *ctx, const char *val, size_t n) {
  serve_ctx *sc = ctx;
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  if (!tok_read_trust(val, n, pk)) return !(sc->failed = true);
  cnv_status st = cnv_runtime_trust_add(sc->rt, pk);
  if (st != CNV_OK) cli_error("trust", st);
  return !(sc->failed = st != CNV_OK);
}

static bool revoke_one(void *ctx, const uint8_t *hash) {
  cnv_status st = cnv_runtime_revoke(ctx, hash);
  if (st != CNV_OK) cli_error("revoked", st);
  return st == CNV_OK;
}

static bool load_revoked(void *ctx, const char *val, size_t n) {
  serve_ctx *sc = ctx;
  return !(sc->failed = !tok_load_revoked(val, n, revoke_one, sc->rt));
}

/* Loads one plugin (never unloaded) and calls its entry symbol. */
static bool load_plugin(void *ctx, const char *val, size_t n) {
  serve_ctx *sc = ctx;
  char path[TOK_PATH_CAP];
  copy_value(path, val, n);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    cli_fail("--plugin: %s", dlerror());
    return !(sc->failed = true);
  }
  cnv_plugin_register_fn fn;
  void *sym = dlsym(lib, CNV_PLUGIN_ENTRY);
  memcpy(&fn, &sym, sizeof fn); /* POSIX: a data pointer from dlsym names the function */
  if (!sym) {
    cli_fail("--plugin: %s: no symbol %s", path, CNV_PLUGIN_ENTRY);
    return !(sc->failed = true);
  }
  cnv_status st = fn(sc->rt);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: --plugin: %s: %s failed: %s\n", path, CNV_PLUGIN_ENTRY, cnv_strerror(st));
    return !(sc->failed = true);
  }
  return true;
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
  cli_flag_each(cmd, "trust", add_trust, sc);
  if (!sc->failed) cli_flag_each(cmd, "revoked", load_revoked, sc);
  if (sc->failed || !register_demos(sc->rt)) {
    sodium_memzero(sk, sizeof sk);
    return CLI_EXIT_FAIL;
  }
  cli_flag_each(cmd, "plugin", load_plugin, sc);
  if (sc->failed) {
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
