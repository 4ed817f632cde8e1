/* mcp_tools_call: the official MCP TypeScript SDK's client with MCP_INFLIGHT tools/call in
 * flight to an echo tool over stdio, against `cnv mcp serve` (demo.echo) and against the SDK's
 * own server (McpServer with the same tool, bench/mcp/sdk_echo_server.mjs).
 *
 * One benchmark iteration is one run of `node bench/mcp/load.mjs` (started with the serve
 * cases' plumbing: stdin from /dev/null, killed with the bench, always reaped), which starts the
 * server itself behind the SDK's StdioClientTransport, initializes, lists the tools, makes a
 * warm-up of calls, then keeps MCP_INFLIGHT calls going for MCP_RUN_MS and prints the timed
 * calls and seconds on one line (every answer is checked to be its call's text). The case
 * reports the calls of every run over their timed seconds, so the start of the processes is not
 * counted (as serve_echo_p16/redis does not count redis-benchmark's).
 *
 *   mcp_tools_call/cnv         --cnv CNV_CLI_PATH: `cnv mcp serve` with an agent key and a token
 *                              allowing demo.echo, made by `cnv token` in a temporary folder
 *   mcp_tools_call/sdk_server  --sdk-server
 *
 * Both cases are skipped with the reason when node is not on PATH, when the SDK is not installed
 * in tests/mcp/node_modules (`npm ci` there; scripts/test does it), or when the files compiled
 * in (the scripts, the cnv tool) are not there, as in an installed cnv_bench. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../harness/cnv_bench.h"
#include "../serve/serve_peer.h"

#define MCP_INFLIGHT 32
#define MCP_RUN_MS 1000
/* A run of load.mjs longer than this is killed and fails the case. */
#define MCP_RUN_TIMEOUT_MS 60000
/* load.mjs's exit code when the SDK is not installed (ctest's skip code). */
#define MCP_LOAD_SKIP 77

/* 0 when node, the SDK, the scripts and (for cnv) the tool are all there; -1 with the reason. */
static int mcp_ready(const char *cnv, char *node, size_t node_cap, char *err, size_t err_cap) {
  if (serve_which("node", node, node_cap) != 0) {
    snprintf(err, err_cap, "node not found on PATH (scripts/deps --test installs Debian's nodejs)");
    return -1;
  }
  if (access(CNV_MCP_NODE_MODULES "/@modelcontextprotocol/sdk/package.json", R_OK) != 0) {
    snprintf(err, err_cap, "the MCP SDK is not installed in %s (run `npm ci` in tests/mcp; scripts/test does)",
             CNV_MCP_NODE_MODULES);
    return -1;
  }
  if (access(CNV_MCP_LOAD_SCRIPT, R_OK) != 0) {
    snprintf(err, err_cap, "%s not found (the source tree this cnv_bench was built from)", CNV_MCP_LOAD_SCRIPT);
    return -1;
  }
  if (cnv && access(cnv, X_OK) != 0) {
    snprintf(err, err_cap, "%s not found (the cnv tool this cnv_bench was built with)", cnv);
    return -1;
  }
  return 0;
}

/* Reads load.mjs's line, `calls N seconds S ...`: the timed calls and their seconds. 0, or -1
 * when it is not there. */
static int mcp_parse_run(const char *out, double *calls, double *seconds) {
  const char *line = strstr(out, "calls ");
  if (!line || sscanf(line, "calls %lf seconds %lf", calls, seconds) != 2) return -1;
  return *calls > 0 && *seconds > 0 ? 0 : -1;
}

static void mcp_case(cnv_bench_state *st, const char *cnv) {
  static serve_tally tally;
  char node[512], err[512], out[4096], inflight[16], run_ms[16];
  if (mcp_ready(cnv, node, sizeof node, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  snprintf(inflight, sizeof inflight, "%d", MCP_INFLIGHT);
  snprintf(run_ms, sizeof run_ms, "%d", MCP_RUN_MS);
  char *argv[] = {"node", CNV_MCP_LOAD_SCRIPT, "--inflight", inflight, "--duration-ms", run_ms,
                  cnv ? "--cnv" : "--sdk-server", (char *)cnv, NULL};
  memset(&tally, 0, sizeof tally);
  int failed = 0;
  while (cnv_bench_keep_running(st)) {
    if (failed) continue; /* the loop must end through keep_running; the error is reported after */
    int rc = serve_run_capture(node, argv, out, sizeof out, MCP_RUN_TIMEOUT_MS);
    double calls, seconds;
    if (rc != 0 || mcp_parse_run(out, &calls, &seconds) != 0) {
      if (rc == MCP_LOAD_SKIP)
        snprintf(err, sizeof err, "the MCP SDK is not installed (run `npm ci` in tests/mcp)");
      else
        snprintf(err, sizeof err, "node %s %s failed (exit %d); run it by hand to see why", CNV_MCP_LOAD_SCRIPT,
                 cnv ? "--cnv CNV" : "--sdk-server", rc);
      failed = 1;
      continue;
    }
    serve_tally_add(&tally, seconds, calls, 0, 0);
  }
  if (failed) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  serve_tally_report(st, &tally, MCP_INFLIGHT);
}

static void mcp_tools_call_cnv(cnv_bench_state *st) { mcp_case(st, CNV_CLI_PATH); }
CNV_BENCH(mcp_tools_call_cnv, "mcp_tools_call/cnv", 1, 0)

static void mcp_tools_call_sdk_server(cnv_bench_state *st) { mcp_case(st, NULL); }
CNV_BENCH(mcp_tools_call_sdk_server, "mcp_tools_call/sdk_server", 1, 0)
