/* `cnv swarm run`: runs the built-in scenario (cnv_scenario_run) and prints the report; a
 * live progress line when stdout is a terminal. The metrics file is written to a temporary
 * name beside it and renamed once complete; SIGINT prints the last counts and exits 130
 * leaving no file under the requested name. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cnv/phases.h"
#include "cnv/runtime.h"
#include "cnv/status.h"

#include "cli.h"

/* What SIGINT's handler needs: async-signal-safe data only. */
static struct {
  char line[2][256]; /* the last two progress snapshots as text, one being written */
  size_t len[2];
  volatile sig_atomic_t ready; /* index of the complete snapshot, -1 before the first */
  volatile sig_atomic_t have_tmp;
  volatile sig_atomic_t tty;
  char tmp[4200]; /* the metrics file's temporary name */
} sig = {.ready = -1};

static void on_sigint(int signo) {
  (void)signo;
  static const char setup[] = "cnv: swarm run: interrupted while setting up the swarm\n";
  static const char note[] = "cnv: swarm run: interrupted; no report, no metrics file written\n";
  if (sig.have_tmp) unlink(sig.tmp);
  if (sig.tty && write(STDOUT_FILENO, "\n", 1) < 0) _exit(CLI_EXIT_INTERRUPTED);
  int i = sig.ready;
  if (i < 0 && write(STDERR_FILENO, setup, sizeof setup - 1) < 0) _exit(CLI_EXIT_INTERRUPTED);
  if (i >= 0 && write(STDERR_FILENO, sig.line[i], sig.len[i]) < 0) _exit(CLI_EXIT_INTERRUPTED);
  if (write(STDERR_FILENO, note, sizeof note - 1) < 0) _exit(CLI_EXIT_INTERRUPTED);
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
  int next = sig.ready == 0 ? 1 : 0;
  int n = snprintf(sig.line[next], sizeof sig.line[next],
                   "cnv: swarm run: at %.1fs (%s): submitted %llu, executed %llu, denied %llu, "
                   "full %llu\n",
                   (double)p->elapsed_ns / 1e9, cnv_phase_name(p->phase),
                   (unsigned long long)p->submitted, (unsigned long long)p->executed,
                   (unsigned long long)p->denied, (unsigned long long)p->full);
  sig.len[next] = n < 0 ? 0 : (size_t)n < sizeof sig.line[next] ? (size_t)n : sizeof sig.line[next] - 1;
  /* A compiler barrier, not an atomic: the handler that sees `ready` must see the whole line,
   * so the stores above may not sink below the store to `ready`. */
  atomic_signal_fence(memory_order_release);
  sig.ready = next;
  if (!sig.tty) return;
  printf("\r%6.1fs  %-12s  executed %10llu  denied %9llu  full %8llu  %10.0f/s ",
         (double)p->elapsed_ns / 1e9, cnv_phase_name(p->phase), (unsigned long long)p->executed,
         (unsigned long long)p->denied, (unsigned long long)p->full, p->throughput);
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

static int run_scenario(cnv_scenario_config *cfg, bool json, cli_tmp *metrics) {
  static cnv_scenario_report report;
  cfg->metrics = metrics ? write_tmp : NULL;
  cfg->metrics_ctx = metrics;
  if (sig.tty) {
    printf("setting up %u agents...", cfg->agents);
    fflush(stdout);
  }
  cnv_status st = cnv_scenario_run(cfg, &report);
  if (sig.tty) printf("\r%*s\r", 100, "");
  if (st == CNV_ETEL_WRITE && metrics && metrics_errno) {
    cli_fail("--metrics: cannot write the temporary file %s: %s", metrics->path, strerror(metrics_errno));
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
    cli_fail("cannot write the report to standard output: %s", errno ? strerror(errno) : "write error");
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

/* Installs the SIGINT handler, then creates the metrics file's temporary file with SIGINT
 * blocked, so that the handler knows every temporary file it must remove. */
static bool start(const char *path, cli_tmp *metrics, const sigset_t *block) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  if (!path) return true;
  sigprocmask(SIG_BLOCK, block, NULL);
  bool opened = cli_tmp_open(metrics, path);
  if (opened) {
    memcpy(sig.tmp, metrics->path, sizeof sig.tmp);
    sig.have_tmp = 1;
  }
  sigprocmask(SIG_UNBLOCK, block, NULL);
  return opened;
}

static int swarm_run(cli_cmd *cmd) {
  static cli_tmp metrics;
  cnv_scenario_config cfg;
  cnv_scenario_config_default(&cfg);
  char path[4096];
  bool bad = false;
  bool json = cli_flag_bool(cmd, "json", &bad), quiet = cli_flag_bool(cmd, "quiet", &bad);
  bool have_metrics = cli_flag_str(cmd, "metrics", path, sizeof path, &bad);
  if (!scenario_flags(cmd, &cfg) || bad || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  sig.tty = !json && !quiet && isatty(STDOUT_FILENO);
  cfg.progress = progress;
  cfg.progress_interval_ms = 150;
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  if (!start(have_metrics ? path : NULL, &metrics, &block)) return CLI_EXIT_FAIL;
  int rc = run_scenario(&cfg, json, have_metrics ? &metrics : NULL);
  sigprocmask(SIG_BLOCK, &block, NULL); /* past this point the run is complete: keep it */
  sig.have_tmp = 0;
  if (have_metrics && rc != CLI_EXIT_OK) cli_tmp_discard(&metrics);
  else if (have_metrics && !(cli_tmp_finish(&metrics, path, 0644) && cli_tmp_place(&metrics, path, false)))
    rc = CLI_EXIT_FAIL;
  return rc;
}

static const char *const run_bools[] = {"json", "quiet", NULL};

static const cli_verb verbs[] = {
    {"run", "run the built-in swarm scenario and print its report",
     "[--agents N] [--workers N] [--duration SECONDS | --duration-ms MS | --count N] [--seed N]\n"
     "    [--json] [--metrics FILE] [--quiet]\n"
     "  Bootstraps a swarm, gives agents attenuated tokens (some expired, revoked, widened or\n"
     "  forged), submits invocations, drives a failure burst through Degraded and Recovery,\n"
     "  shuts down and prints throughput, latency percentiles, denials by reason, the phase\n"
     "  timeline and the variety deficit. --json prints the report as JSON; --metrics writes\n"
     "  Prometheus text; --quiet hides the progress line (shown only on a terminal).\n"
     "  Limits: --agents 10..1048576 (default 32), --workers 1..256 (default 2), --duration\n"
     "  1..86400 (default 3), --duration-ms 1..86400000, --count at least 1000. Ctrl-C stops\n"
     "  the run, prints the last counts to stderr, writes no metrics file and exits 130.",
     run_bools, swarm_run},
};

const cli_noun cli_noun_swarm = {"swarm", "the swarm runtime's built-in scenario", verbs,
                                 sizeof verbs / sizeof verbs[0], NULL};
