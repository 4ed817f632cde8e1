/* `cnv swarm run`: runs the runtime's built-in scenario (cnv_scenario_run) and prints the
 * report; a live progress line when stdout is a terminal. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cnv/phases.h"
#include "cnv/runtime.h"
#include "cnv/status.h"

#include "cli.h"

static int write_file(void *ctx, const char *data, size_t len) {
  return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static void progress(void *ctx, const cnv_scenario_progress *p) {
  (void)ctx;
  printf("\r%6.1fs  %-12s  executed %10llu  denied %9llu  full %8llu  %10.0f/s ",
         (double)p->elapsed_ns / 1e9, cnv_phase_name(p->phase), (unsigned long long)p->executed,
         (unsigned long long)p->denied, (unsigned long long)p->full, p->throughput);
  fflush(stdout);
}

/* Reads --agents, --workers, --duration, --count, --seed into cfg. */
static bool scenario_flags(cli_cmd *cmd, cnv_scenario_config *cfg) {
  bool bad = false;
  uint64_t v = 0, ms = 0;
  if (cli_flag_u64(cmd, "agents", 1u << 20, &v, &bad)) cfg->agents = (uint32_t)v;
  if (cli_flag_u64(cmd, "workers", 256, &v, &bad)) cfg->workers = (uint32_t)v;
  if (cli_flag_u64(cmd, "duration", 86400, &v, &bad)) ms = v * 1000u;
  if (cli_flag_u64(cmd, "duration-ms", 86400000u, &v, &bad)) ms = v;
  if (ms > 0) cfg->duration_ms = (uint32_t)ms;
  cli_flag_u64(cmd, "count", UINT64_MAX, &cfg->count, &bad);
  cli_flag_u64(cmd, "seed", UINT64_MAX, &cfg->seed, &bad);
  return !bad;
}

static int run_scenario(cnv_scenario_config *cfg, bool json, FILE *metrics) {
  static cnv_scenario_report report;
  cfg->metrics = metrics ? write_file : NULL;
  cfg->metrics_ctx = metrics;
  cnv_status st = cnv_scenario_run(cfg, &report);
  if (cfg->progress) printf("\r%*s\r", 100, "");
  if (st != CNV_OK) {
    cli_error("swarm run", st);
    return CLI_EXIT_FAIL;
  }
  st = json ? cnv_scenario_report_json(&report, write_file, stdout)
            : cnv_scenario_report_text(&report, write_file, stdout);
  if (st != CNV_OK) {
    cli_error("report", st);
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

static int swarm_run(cli_cmd *cmd) {
  cnv_scenario_config cfg;
  cnv_scenario_config_default(&cfg);
  char path[4096];
  bool bad = false;
  bool json = cli_flag_bool(cmd, "json", &bad), quiet = cli_flag_bool(cmd, "quiet", &bad);
  bool have_metrics = cli_flag_str(cmd, "metrics", path, sizeof path, &bad);
  if (!scenario_flags(cmd, &cfg) || bad || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  if (!json && !quiet && isatty(STDOUT_FILENO)) {
    cfg.progress = progress;
    cfg.progress_interval_ms = 150;
  }
  FILE *metrics = have_metrics ? fopen(path, "w") : NULL;
  if (have_metrics && !metrics) {
    cli_fail("%s: cannot open for writing", path);
    return CLI_EXIT_FAIL;
  }
  int rc = run_scenario(&cfg, json, metrics);
  if (metrics && fclose(metrics) != 0 && rc == CLI_EXIT_OK) {
    cli_fail("%s: write failed", path);
    rc = CLI_EXIT_FAIL;
  }
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
     "  Prometheus text; --quiet hides the progress line (shown only on a terminal).",
     run_bools, swarm_run},
};

const cli_noun cli_noun_swarm = {"swarm", "the swarm runtime's built-in scenario", verbs,
                                 sizeof verbs / sizeof verbs[0], NULL};
