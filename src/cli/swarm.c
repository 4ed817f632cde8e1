/* `cnv swarm run`: runs the built-in scenario (cnv_scenario_run, src/scenario, outside
 * libcnv) and prints the report; setup and run progress lines when stdout is a terminal. The
 * metrics file is written to a temporary name beside it and renamed once complete. SIGINT
 * during the run asks the scenario to stop (its cancel hook): the partial report is printed,
 * no metrics file is written, and the exit status is 130; a second SIGINT, or one before or
 * after the run, quits at once, also leaving no file under the requested name. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cnv/ledger.h"
#include "cnv/phases.h"
#include "cnv/runtime.h"
#include "cnv/status.h"

#include "cli.h"
#include "ledger_cli.h"
#include "readers.h"
#include "scenario.h"
#include "token.h"

/* The handler may touch lock-free atomics and volatile sig_atomic_t only. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the cancel flag must be lock-free for the handler");

/* The scenario's cancel hook: set by the first SIGINT during the run. */
static atomic_int cancel;

/* What SIGINT's handler needs: async-signal-safe data only. */
static struct {
  volatile sig_atomic_t running; /* cnv_scenario_run is under way */
  volatile sig_atomic_t tty;
} sig;

/* A note to stderr from the handler: a failed write leaves nothing better to do. */
static void note(const char *text, size_t len) {
  ssize_t w = write(STDERR_FILENO, text, len);
  (void)w;
}

static void on_sigint(int signo) {
  (void)signo;
  static const char stopping[] =
      "cnv: swarm run: interrupted; stopping the run (Ctrl-C again "
      "quits at once)\n";
  static const char quit[] = "cnv: swarm run: interrupted; no report, no metrics file written\n";
  if (sig.tty) note("\n", 1);
  /* Relaxed: the flag guards no other data; the exchange tells a second SIGINT apart. */
  if (sig.running && atomic_exchange_explicit(&cancel, 1, memory_order_relaxed) == 0) {
    note(stopping, sizeof stopping - 1);
    return;
  }
  cli_cleanup_now(); /* removes the metrics file's temporary name, async-signal-safe */
  note(quit, sizeof quit - 1);
  _exit(CLI_EXIT_INTERRUPTED);
}

static int write_stdout(void *ctx, const char *data, size_t len) {
  (void)ctx;
  return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int metrics_errno; /* the reason the metrics file's write failed */

static int write_tmp(void *ctx, const char *data, size_t len) {
  if (cli_tmp_write(ctx, data, len)) return 0;
  metrics_errno = errno;
  return -1;
}

static void progress(void *ctx, const cnv_scenario_progress *p) {
  (void)ctx;
  if (!sig.tty) return;
  printf("\r%6.1fs  %-12s  executed %10llu  denied %9llu  full %8llu  %10.0f/s ",
         (double)p->elapsed_ns / 1e9, cnv_phase_name(p->phase), (unsigned long long)p->executed,
         (unsigned long long)p->denied, (unsigned long long)p->full, p->throughput);
  fflush(stdout);
}

static void setup_progress(void *ctx, uint32_t ready, uint32_t total) {
  (void)ctx;
  if (!sig.tty) return;
  printf("\rsetting up agents: %u of %u (%u%%)", ready, total,
         (unsigned)((uint64_t)ready * 100u / total));
  fflush(stdout);
}

/* Reads --agents, --workers, --duration | --duration-ms | --count, --seed into cfg, with the
 * scenario's real limits (at least 10 agents, 1..256 workers, a count of at least 1000). */
static bool scenario_flags(cli_cmd *cmd, cnv_scenario_config *cfg) {
  static const char *const length[] = {"duration", "duration-ms", "count", NULL};
  bool bad = cli_flags_exclusive(cmd, length);
  uint64_t v = 0;
  if (cli_flag_u64(cmd, "agents", 10, 1u << 20, &v, &bad)) cfg->agents = (uint32_t)v;
  if (cli_flag_u64(cmd, "workers", 1, 256, &v, &bad)) cfg->workers = (uint32_t)v;
  if (cli_flag_u64(cmd, "duration", 1, 86400, &v, &bad)) cfg->duration_ms = (uint32_t)(v * 1000u);
  if (cli_flag_u64(cmd, "duration-ms", 1, 86400000u, &v, &bad)) cfg->duration_ms = (uint32_t)v;
  cli_flag_u64(cmd, "count", 1000, UINT64_MAX, &cfg->count, &bad);
  cli_flag_u64(cmd, "seed", 0, UINT64_MAX, &cfg->seed, &bad);
  return !bad;
}

/* The report of an interrupted run is printed too, marked as partial; then exit 130. */
static int run_scenario(cnv_scenario_config *cfg, bool json, cli_tmp *metrics) {
  static cnv_scenario_report report;
  cfg->metrics = metrics ? write_tmp : NULL;
  cfg->metrics_ctx = metrics;
  cfg->cancel = &cancel;
  sig.running = 1;
  cnv_status st = cnv_scenario_run(cfg, &report);
  sig.running = 0;
  if (sig.tty) printf("\r%*s\r", 100, "");
  if (st == CNV_ETEL_WRITE && metrics && metrics_errno) {
    cli_fail("--metrics: cannot write the temporary file %s: %s", metrics->path,
             strerror(metrics_errno));
    return CLI_EXIT_FAIL;
  }
  if (st != CNV_OK) {
    cli_error("swarm run", st);
    return CLI_EXIT_FAIL;
  }
  errno = 0;
  st = json ? cnv_scenario_report_json(&report, write_stdout, NULL)
            : cnv_scenario_report_text(&report, write_stdout, NULL);
  if (st != CNV_OK || fflush(stdout) != 0) {
    cli_fail("cannot write the report to standard output: %s",
             errno ? strerror(errno) : "write error");
    return CLI_EXIT_FAIL;
  }
  if (report.end == CNV_SCENARIO_COMPLETE) return CLI_EXIT_OK;
  cli_fail("swarm run: interrupted; %s, no metrics file written",
           report.end == CNV_SCENARIO_CANCELLED_SETUP ? "stopped while setting up the agents"
                                                      : "the report is partial");
  return CLI_EXIT_INTERRUPTED;
}

/* Installs the SIGINT handler, then creates the metrics file's temporary file (registered
 * for removal by the tool's signal cleanup, so no signal leaves it behind). */
static bool start(const char *path, cli_tmp *metrics) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESTART; /* the output's writes go on after the handler returns */
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0) {
    cli_fail("swarm run: cannot handle Ctrl-C: %s", strerror(errno));
    return false;
  }
  return !path || cli_tmp_open(metrics, path);
}

/* --ledger DIR [--ledger-key KEY]: opens the run's ledger, signed with the key file's secret
 * key, or without one with a key made for this run (its public key printed on stderr). */
static bool open_ledger(const char *dir, const char *key_path, cnv_ledger **out) {
  uint8_t sk[CNV_LEDGER_SECRET_BYTES], pk[CNV_LEDGER_KEY_BYTES];
  if (key_path && !tok_read_secret(key_path, sk)) return false;
  if (!key_path) {
    crypto_sign_keypair(pk, sk);
    char hex[2 * CNV_LEDGER_KEY_BYTES + 1];
    cli_hex(pk, sizeof pk, hex);
    fprintf(stderr, "cnv: swarm run: --ledger %s: no --ledger-key, signing with a key made for this run: public key %s\n",
            dir, hex);
  }
  bool ok = cli_ledger_open(dir, sk, out);
  sodium_memzero(sk, sizeof sk);
  return ok;
}

static int swarm_run(cli_cmd *cmd) {
  static cli_tmp metrics;
  cnv_scenario_config cfg;
  cnv_scenario_config_default(&cfg);
  char path[4096], ledger_dir[LEDGER_DIR_CAP], ledger_key[TOK_PATH_CAP];
  bool bad = false;
  bool json = cli_flag_bool(cmd, "json", &bad), quiet = cli_flag_bool(cmd, "quiet", &bad);
  bool have_metrics = cli_flag_str(cmd, "metrics", path, sizeof path, &bad);
  bool have_ledger = cli_flag_str(cmd, "ledger", ledger_dir, sizeof ledger_dir, &bad);
  bool have_key = cli_flag_str(cmd, "ledger-key", ledger_key, sizeof ledger_key, &bad);
  if (!scenario_flags(cmd, &cfg) || bad || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  if (have_key && !have_ledger) {
    cli_fail("--ledger-key needs --ledger (see --help)");
    return CLI_EXIT_USAGE;
  }
  cnv_ledger *ledger = NULL;
  if (have_ledger && !open_ledger(ledger_dir, have_key ? ledger_key : NULL, &ledger)) return CLI_EXIT_FAIL;
  cfg.ledger = ledger;
  sig.tty = !json && !quiet && isatty(STDOUT_FILENO);
  cfg.progress = progress;
  cfg.setup = setup_progress;
  cfg.progress_interval_ms = 150;
  if (!start(have_metrics ? path : NULL, &metrics)) {
    cnv_ledger_close(ledger); /* NULL is ignored */
    return CLI_EXIT_FAIL;
  }
  int rc = run_scenario(&cfg, json, have_metrics ? &metrics : NULL);
  sigset_t old; /* past this point the outcome is decided: no signal may change it */
  if (!cli_signals_block(&old)) rc = CLI_EXIT_FAIL;
  /* the runtime is gone (its last records are queued): drain, a final checkpoint */
  if (ledger && !cli_ledger_close(ledger_dir, ledger) && rc == CLI_EXIT_OK) rc = CLI_EXIT_FAIL;
  if (have_metrics && rc != CLI_EXIT_OK)
    cli_tmp_discard(&metrics);
  else if (have_metrics && !(cli_tmp_finish(&metrics, path, 0644) && cli_tmp_place(&metrics, path, false)))
    rc = CLI_EXIT_FAIL;
  return rc;
}

static const char *const run_bools[] = {"json", "quiet", NULL};
static const char *const status_bools[] = {"json", NULL};

static const cli_verb verbs[] = {
    {"run", "run the built-in swarm scenario and print its report",
     "[--agents N] [--workers N] [--duration SECONDS | --duration-ms MS | --count N] [--seed N]\n"
     "    [--json] [--metrics FILE] [--quiet] [--ledger DIR [--ledger-key KEY]]\n"
     "  Bootstraps a swarm, gives agents attenuated tokens (some expired, revoked, widened or\n"
     "  forged), submits invocations (some heard back through a callback, some cancelled,\n"
     "  some with a 1 ns deadline, some on the low lane), drives a failure burst through\n"
     "  Degraded and Recovery, shuts down and prints throughput, latency percentiles, denials\n"
     "  by reason, completions by kind, overruns by duration class, the phase timeline and\n"
     "  the variety deficit. --json prints the report as JSON; --metrics writes Prometheus\n"
     "  text; --quiet hides the progress line (shown only on a terminal). --ledger writes the\n"
     "  run's governance ledger in DIR (see `cnv ledger`), its checkpoints signed with --ledger-key\n"
     "  (a secret key file as `cnv token keygen` writes it; without it, a key made for the run,\n"
     "  its public key printed on stderr).\n"
     "  Limits: --agents 10..1048576 (default 32), --workers 1..256 (default 2), --duration\n"
     "  1..86400 (default 3), --duration-ms 1..86400000, --count at least 1000. Ctrl-C stops\n"
     "  the run and prints the partial report, writes no metrics file and exits 130; a second\n"
     "  Ctrl-C quits at once.",
     run_bools, swarm_run},
    {"status", "a swarm over NATS: its live nodes, by phase",
     "--nats nats://HOST:PORT[,...] --swarm ID --trust ROOT.pub [--trust ...] [--json]\n"
     "  Reads the nodes' status records from the swarm's JetStream bucket, keeping those signed\n"
     "  by a node whose token comes from a --trust root and allows swarm.serve in swarm ID, and\n"
     "  prints the live count (a node is live when its record is fresher than 3 of its\n"
     "  intervals), the count per phase and one line per node: key prefix, live or dead, phase,\n"
     "  invocations in flight, completed, age (since it started), when its record was written.\n"
     "  --json prints {\"swarm\", \"live\", \"known\", \"phases\", \"nodes\": [...]}.",
     status_bools, cli_swarm_status},
    {"revoke", "a swarm over NATS: revoke a token link on every node",
     "--nats nats://HOST:PORT[,...] --swarm ID --key SIGNER.key [--token SIGNER.tok]\n"
     "    (--hash HEX | --token-file TOKEN [--link N])\n"
     "  Writes a revocation record into the swarm's bucket; every node applies it. The signer is\n"
     "  a trust root (no --token) or a node (its swarm.serve token). The link is --hash, or link\n"
     "  --link (default: the last) of --token-file, as `cnv token revoke` computes it.",
     NULL, cli_swarm_revoke},
    {"trust", "a swarm over NATS: add a trust root on every node",
     "--nats nats://HOST:PORT[,...] --swarm ID --key ROOT.key --add NEW.pub\n"
     "  Writes a trust record for NEW.pub, signed by ROOT.key (a root the nodes trust already);\n"
     "  every node adds the root.",
     NULL, cli_swarm_trust},
};

const cli_noun cli_noun_swarm = {"swarm", "the built-in scenario; a swarm over NATS (status, revoke, trust)", verbs,
                                 sizeof verbs / sizeof verbs[0], NULL};
