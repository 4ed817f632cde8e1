/* `cnv mcp serve --http 127.0.0.1:0` as an HTTP client sees it: the tool prints
 * `listening http://127.0.0.1:PORT/mcp` on stderr, answers initialize, tools/list and a
 * tools/call of demo.echo over Streamable HTTP, writes nothing to stdout, and SIGTERM stops it
 * (exit 0); a malformed --http is a usage error (exit 2). The files come from `cnv token`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <cnv/mcp_http.h>

#include "cli/cli_run.h"
#include "mcp_http/http_client.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})
#define ERR_FILE "http.err"
#define OUT_FILE "http.out"

static int make_files(void **state) {
  (void)state;
  assert_true(cli_make_demo_agent(&r));
  return 0;
}

/* Starts the tool with stdout and stderr in files; returns its pid and the port it printed. */
static pid_t serve_http(uint16_t *port) {
  const char *argv[] = {CNV_CLI_PATH, "mcp", "serve", "--key", "agent.key", "--token",
                        "agent.tok", "--trust", "root.pub", "--http", "127.0.0.1:0", NULL};
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int o = open(OUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(ERR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int n = open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || n < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  /* The line comes once the server accepts; the tool's setup takes a moment. */
  char err[4096];
  unsigned p = 0;
  for (int i = 0; i < 20000; i++) {
    const char *at = cli_slurp(ERR_FILE, err, sizeof err) ? strstr(err, "listening http://127.0.0.1:") : NULL;
    if (at && strchr(at, '\n') && sscanf(at, "listening http://127.0.0.1:%u/mcp\n", &p) == 1) break;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("cnv exited before listening: %s", err);
    usleep(1000);
  }
  assert_true(p > 0 && p < 65536);
  assert_non_null(strstr(err, "/mcp\n"));
  *port = (uint16_t)p;
  return pid;
}

static void http_session(void **state) {
  (void)state;
  uint16_t port = 0;
  pid_t pid = serve_http(&port);
  resp a;
  call(port, "POST", "/mcp", "Accept: application/json, text/event-stream\r\n",
       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
       "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}",
       &a);
  assert_int_equal(a.status, 200);
  assert_non_null(strstr(a.body, "\"protocolVersion\":\"2025-11-25\""));
  char sid[CNV_MCP_HTTP_SESSION_ID_LEN + 1];
  assert_true(header(&a, "Mcp-Session-Id", sid, sizeof sid));
  resp_free(&a);
  char extra[512];
  snprintf(extra, sizeof extra,
           "Accept: application/json, text/event-stream\r\nMcp-Session-Id: %s\r\n"
           "MCP-Protocol-Version: 2025-11-25\r\n",
           sid);
  call(port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &a);
  assert_int_equal(a.status, 202);
  resp_free(&a);
  call(port, "POST", "/mcp", extra, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", &a);
  assert_int_equal(a.status, 200);
  assert_non_null(strstr(a.body, "\"demo_echo\""));
  resp_free(&a);
  call(port, "POST", "/mcp", extra,
       "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"demo_echo\","
       "\"arguments\":{\"text\":\"PONG \\\"quoted\\\"\"}}}",
       &a);
  assert_int_equal(a.status, 200);
  assert_non_null(strstr(a.body, "PONG \\\"quoted\\\""));
  assert_null(strstr(a.body, "\"isError\":true"));
  resp_free(&a);
  assert_int_equal(kill(pid, SIGTERM), 0);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  char out[64];
  assert_true(cli_slurp(OUT_FILE, out, sizeof out));
  assert_string_equal(out, ""); /* stdout stays protocol-free */
}

static void usage_errors(void **state) {
  (void)state;
  static const char *const bad[] = {"localhost:80", "127.0.0.1", "127.0.0.1:70000", "::1:80", "[::1]:", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    RUN("mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "--http", bad[i]);
    CLI_EXPECT(&r, 2, "--http");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(http_session),
      cmocka_unit_test(usage_errors),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, make_files, NULL);
  cli_tmpdir_remove();
  return failed;
}
