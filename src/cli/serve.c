/* `cnv serve`: the swarm as a network service (libcnv's server module, docs/server.md). A
 * runtime with the built-in demo capabilities (builtins.h) and those of any --plugin, the
 * --trust roots and --revoked hashes, behind one server listening on every --listen address,
 * and/or a node of a swarm over NATS (--nats, the nats module, docs/nats.md). Prints
 * `listening ADDRESS` per listener once accepting and `joined swarm ID as NODEPK_HEX` once the
 * node serves; SIGINT, SIGTERM and SIGHUP stop it gracefully (the node's stop, cnv_server_stop,
 * then the runtime's stop), exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "cnv/nats.h"
#include "cnv/protocol.h"
#include "cnv/runtime.h"
#include "cnv/server.h"
#include "cnv/status.h"

#include "builtins.h"
#include "cli.h"
#include "ledger_cli.h"
#include "token.h"

#define MS 1000000ull

/* ---- flags ---- */

typedef struct serve_ctx {
  cnv_runtime *rt;
  cnv_server *srv;
  cnv_nats_node *node;
  cnv_ledger *ledger; /* --ledger: closed after the runtime is destroyed */
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
  char nats[TOK_PATH_CAP], token_path[TOK_PATH_CAP]; /* nats[0]: no node */
  char ledger[LEDGER_DIR_CAP];                       /* ledger[0]: no ledger */
  uint64_t io_threads, workers, max_sessions, max_per_peer, swarm, replicas;
  bool listen, once_all;
} serve_opts;

/* The node's flags (--nats given): --swarm and --token required, --once, --replicas. */
static bool nats_flags(cli_cmd *cmd, serve_opts *o) {
  if (!cli_nats_flags(cmd, o->nats, sizeof o->nats, &o->swarm)) return false;
  if (!tok_required(cmd, "token", o->token_path, sizeof o->token_path)) return false;
  char once[16] = "";
  bool bad = false;
  if (cli_flag_str(cmd, "once", once, sizeof once, &bad) && strcmp(once, "effectful") != 0 &&
      strcmp(once, "all") != 0) {
    cli_fail("--once: effectful or all, not %s", once);
    return false;
  }
  o->once_all = strcmp(once, "all") == 0;
  cli_flag_u64(cmd, "replicas", 1, 5, &o->replicas, &bad);
  return !bad;
}

static bool parse_flags(cli_cmd *cmd, serve_opts *o) {
  bool bad = false;
  o->io_threads = 1;
  o->workers = 2;
  o->max_sessions = 1024;
  o->max_per_peer = 64;
  o->swarm = 1;
  o->replicas = 1;
  o->listen = cli_flag_present(cmd, "listen");
  if (!tok_required(cmd, "key", o->key_path, sizeof o->key_path)) return false;
  if (cli_flag_present(cmd, "nats")) {
    if (!nats_flags(cmd, o)) return false;
  } else {
    static const char *const node_only[] = {"token", "once", "replicas"};
    for (size_t i = 0; i < sizeof node_only / sizeof node_only[0]; i++) {
      if (cli_flag_present(cmd, node_only[i])) {
        cli_fail("--%s needs --nats (see --help)", node_only[i]);
        return false;
      }
    }
    if (!o->listen) {
      cli_fail("--listen or --nats is required (see --help)");
      return false;
    }
    cli_flag_u64(cmd, "swarm", 0, UINT64_MAX, &o->swarm, &bad);
  }
  if (!cli_flag_present(cmd, "trust")) {
    cli_fail("--trust is required (see --help)");
    return false;
  }
  o->ledger[0] = '\0';
  cli_flag_str(cmd, "ledger", o->ledger, sizeof o->ledger, &bad);
  cli_flag_u64(cmd, "io-threads", 1, 64, &o->io_threads, &bad);
  cli_flag_u64(cmd, "workers", 1, 256, &o->workers, &bad);
  cli_flag_u64(cmd, "max-sessions", 1, 1u << 20, &o->max_sessions, &bad);
  cli_flag_u64(cmd, "max-per-peer", 1, 1u << 20, &o->max_per_peer, &bad);
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

/* Creates the server and its listeners (--listen given). */
static int make_server(serve_opts *o, cli_cmd *cmd, serve_ctx *sc, const uint8_t *sk) {
  cnv_server_config cfg;
  cnv_server_config_default(&cfg);
  cfg.secret_key = sk;
  cfg.io_threads = (uint32_t)o->io_threads;
  cfg.max_sessions = (uint32_t)o->max_sessions;
  cfg.max_sessions_per_peer = (uint32_t)o->max_per_peer;
  cnv_status st = cnv_server_create(&cfg, sc->rt, &sc->srv); /* the server keeps its own copy */
  if (st != CNV_OK) {
    cli_error("server", st);
    return CLI_EXIT_FAIL;
  }
  cli_flag_each(cmd, "listen", add_listen, sc);
  return sc->failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* Creates the node in front of the started runtime and starts it (--nats given). */
static int make_node(serve_opts *o, serve_ctx *sc, const uint8_t *sk) {
  static uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t token_len = 0;
  if (!tok_read_token(o->token_path, token, &token_len, NULL)) return CLI_EXIT_FAIL;
  cnv_nats_node_config cfg;
  cnv_nats_node_config_default(&cfg);
  cfg.servers = o->nats;
  cfg.swarm = o->swarm;
  cfg.secret_key = sk;
  cfg.token = token;
  cfg.token_len = token_len;
  cfg.once = o->once_all ? CNV_NATS_ONCE_ALL : CNV_NATS_ONCE_EFFECTFUL;
  cfg.replicas = (uint32_t)o->replicas;
  cfg.max_sessions = (uint32_t)o->max_sessions;                  /* each holds a runtime agent: the same bound */
  cnv_status st = cnv_nats_node_create(&cfg, sc->rt, &sc->node); /* the node keeps its own copies */
  if (st == CNV_OK) st = cnv_nats_node_start(sc->node);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: --nats %s: %s\n", o->nats, cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  char hex[2 * CNV_SW_KEY_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, sk + 32, CNV_SW_KEY_BYTES); /* libsodium: seed || public key */
  printf("joined swarm %llu as %s\n", (unsigned long long)o->swarm, hex);
  return CLI_EXIT_OK;
}

/* The server and the runtime made, the runtime started, the signals blocked: starts the
 * server and the node, prints what they serve, waits for a signal, stops them. */
static int serve_until_signal(serve_opts *o, serve_ctx *sc, const uint8_t *sk) {
  cnv_status st = sc->srv ? cnv_server_start(sc->srv) : CNV_OK;
  if (st != CNV_OK) {
    cli_error("server", st);
    return CLI_EXIT_FAIL;
  }
  for (size_t i = 0; sc->srv && i < cnv_server_listener_count(sc->srv); i++) {
    char addr[CNV_SERVER_ADDRESS_MAX];
    if (cnv_server_address(sc->srv, i, addr, sizeof addr) == CNV_OK) printf("listening %s\n", addr);
  }
  int rc = o->nats[0] ? make_node(o, sc, sk) : CLI_EXIT_OK;
  if (rc == CLI_EXIT_OK && fflush(stdout) != 0) rc = CLI_EXIT_FAIL; /* main reports the write error */
  if (rc == CLI_EXIT_OK) wait_signal();
  st = sc->node ? cnv_nats_node_stop(sc->node) : CNV_OK;
  if (st != CNV_OK) cli_error("node stop", st);
  cnv_status sst = sc->srv ? cnv_server_stop(sc->srv) : CNV_OK;
  if (sst != CNV_OK) cli_error("server stop", sst);
  cnv_status rst = cnv_runtime_stop(sc->rt, 5000 * MS);
  if (rst != CNV_OK) cli_error("runtime stop", rst);
  return rc == CLI_EXIT_OK && st == CNV_OK && sst == CNV_OK && rst == CNV_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int serve_with_key(serve_opts *o, cli_cmd *cmd, serve_ctx *sc, const uint8_t *sk) {
  cnv_runtime_config rc;
  cnv_runtime_config_default(&rc);
  rc.workers = (uint32_t)o->workers;
  rc.max_agents = (uint32_t)o->max_sessions;
  rc.swarm_id = o->swarm;
  /* the ledger signs its checkpoints with the server's (node's) key */
  if (o->ledger[0] && !cli_ledger_open(o->ledger, sk, &sc->ledger)) return CLI_EXIT_FAIL;
  rc.ledger = sc->ledger;
  cnv_status st = cnv_runtime_create(&rc, &sc->rt);
  if (st != CNV_OK) {
    cli_error("runtime", st);
    return CLI_EXIT_FAIL;
  }
  if (!cli_trust_load(cmd, sc->rt) || !cli_builtins_register(sc->rt) || !cli_plugins_load(cmd, sc->rt))
    return CLI_EXIT_FAIL;
  int code = o->listen ? make_server(o, cmd, sc, sk) : CLI_EXIT_OK;
  if (code != CLI_EXIT_OK) return code;
  st = cnv_runtime_start(sc->rt);
  if (st != CNV_OK) {
    cli_error("runtime", st);
    return CLI_EXIT_FAIL;
  }
  /* the signals are blocked from here on in this thread and every thread it starts */
  sigset_t old;
  if (!cli_signals_block(&old)) return CLI_EXIT_FAIL;
  return serve_until_signal(o, sc, sk);
}

static int serve(serve_opts *o, cli_cmd *cmd, serve_ctx *sc) {
  raise_nofile();
  uint8_t sk[CNV_SESSION_SECRET_BYTES];
  if (!tok_read_secret(o->key_path, sk)) return CLI_EXIT_FAIL;
  int rc = serve_with_key(o, cmd, sc, sk);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

static int serve_run(cli_cmd *cmd) {
  serve_opts o;
  if (!parse_flags(cmd, &o)) return CLI_EXIT_USAGE;
  serve_ctx sc = {NULL, NULL, NULL, NULL, false};
  int rc = serve(&o, cmd, &sc);
  cnv_nats_node_destroy(sc.node); /* before the runtime: they give their agents back */
  cnv_server_destroy(sc.srv);
  cnv_runtime_destroy(sc.rt);
  /* after the runtime: its last records are queued; a final checkpoint */
  if (sc.ledger && !cli_ledger_close(o.ledger, sc.ledger)) rc = CLI_EXIT_FAIL;
  return rc;
}

static const cli_verb verbs[] = {
    {"run", "serve the swarm over the network (the default verb)",
     "--listen tcp:HOST:PORT|unix:PATH [--listen ...] --key SERVER.key --trust ROOT.pub [--trust ...]\n"
     "    [--plugin LIB.so]... [--revoked FILE]... [--io-threads N] [--workers N] [--max-sessions N]\n"
     "    [--max-per-peer N] [--swarm N] [--ledger DIR]\n"
     "  or, a node of swarm ID over NATS (with or without --listen):\n"
     "    --nats nats://HOST:PORT[,nats://HOST:PORT...] --swarm ID --key NODE.key --token NODE.tok\n"
     "    --trust ROOT.pub [--trust ...] [--revoked FILE]... [--plugin LIB.so]... [--workers N]\n"
     "    [--once effectful|all] [--replicas N] [--ledger DIR]\n"
     "Prints `listening ADDRESS` per listener and `joined swarm ID as NODEPK_HEX` once the node\n"
     "serves. NODE.tok must come from a --trust root, be held by NODE.key and allow swarm.serve in\n"
     "swarm ID (`cnv token mint --allow swarm.serve --swarm ID`). --once all sends every capability\n"
     "through the swarm's exactly-once claim (default: those neither read_only nor idempotent);\n"
     "--replicas (1..5, default 1) sets the JetStream replicas of the swarm's bucket and stream\n"
     "when this node creates them. --ledger writes the governance ledger in DIR (created if\n"
     "absent; an existing one must have been started with the same --key): every admission,\n"
     "completion and policy change, checkpoints signed by --key (see `cnv ledger`). SIGINT/\n"
     "SIGTERM/SIGHUP stop it gracefully (exit 0).",
     NULL, serve_run},
};

const cli_noun cli_noun_serve = {"serve", "the swarm as a network service (sessions, demo capabilities, plugins)",
                                 verbs, sizeof verbs / sizeof verbs[0], "run"};
