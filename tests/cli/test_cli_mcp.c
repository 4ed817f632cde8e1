/* `cnv mcp serve` as an MCP client sees it: the tool runs as a child process with its stdin
 * and stdout on pipes, spoken to in newline-delimited JSON-RPC (messages written and read with
 * jansson): initialize, tools/list, tools/call with every argument type, a cancelled call,
 * the end of input and SIGTERM (exit 0); usage errors (exit 2) and setup errors (exit 1, a
 * message on stderr and nothing on stdout). The files come from `cnv token`, as a user makes
 * them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

/* root signs the agent's token (demo.*, the demos' effects); other is a key the token is not for. */
static int make_files(void **state) {
  (void)state;
  assert_true(cli_make_demo_agent(&r));
  RUN("token", "keygen", "--out", "other");
  assert_int_equal(r.status, 0);
  return 0;
}

/* ---- a child over pipes ---- */

typedef struct mcp_proc {
  pid_t pid;
  int in;    /* its stdin */
  FILE *out; /* its stdout */
} mcp_proc;

#define MCP_ERR "mcp.err"

static void mcp_start(mcp_proc *p) {
  const char *argv[] = {CNV_CLI_PATH, "mcp", "serve", "--key", "agent.key", "--token",
                        "agent.tok", "--trust", "root.pub", "--verbose", NULL};
  int in[2], out[2];
  assert_int_equal(pipe(in), 0);
  assert_int_equal(pipe(out), 0);
  fflush(NULL);
  p->pid = fork();
  assert_true(p->pid >= 0);
  if (p->pid == 0) {
    int e = open(MCP_ERR, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (e < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(e, 2) < 0) _exit(126);
    close(in[1]);
    close(out[0]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  p->in = in[1];
  p->out = fdopen(out[0], "r");
  assert_non_null(p->out);
}

static void mcp_send(mcp_proc *p, const char *fmt, ...) {
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof buf - 1);
  buf[n++] = '\n';
  assert_int_equal(write(p->in, buf, (size_t)n), n);
}

/* The next message on stdout: one line, one JSON object (anything else fails the test). */
static json_t *mcp_next(mcp_proc *p) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, p->out);
  if (n <= 0) fail_msg("stdout ended");
  json_error_t je;
  json_t *msg = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &je);
  if (!json_is_object(msg)) fail_msg("not a JSON object on stdout: %s", line);
  free(line);
  return msg;
}

/* The response to request id (notifications before it are dropped). */
static json_t *mcp_response(mcp_proc *p, int id) {
  for (;;) {
    json_t *msg = mcp_next(p);
    json_t *got = json_object_get(msg, "id");
    if (json_is_integer(got) && json_integer_value(got) == id) return msg;
    json_decref(msg);
  }
}

/* The "result" member of the response to id (which must not be an error); the caller frees
 * *msg. */
static json_t *mcp_result(mcp_proc *p, int id, json_t **msg) {
  *msg = mcp_response(p, id);
  json_t *res = json_object_get(*msg, "result");
  if (!json_is_object(res)) fail_msg("no result for %d: %s", id, json_dumps(*msg, 0));
  return res;
}

/* Waits (a generous bound, not a timing check) until the child's stderr holds text. */
static void mcp_wait_err(const char *text) {
  static char err[65536];
  for (int i = 0; i < 3000; i++) {
    if (cli_slurp(MCP_ERR, err, sizeof err) && strstr(err, text)) return;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  fail_msg("stderr never said \"%s\": %s", text, err);
}

/* Waits for the child; returns its exit status (-1: killed by a signal). */
static int mcp_wait(mcp_proc *p) {
  int status = 0;
  assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
  fclose(p->out);
  if (p->in >= 0) close(p->in);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void mcp_initialize(mcp_proc *p) {
  mcp_send(p,
           "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
           "\"capabilities\":{},\"clientInfo\":{\"name\":\"test_cli_mcp\",\"version\":\"1\"}}}");
  json_t *msg;
  json_t *res = mcp_result(p, 1, &msg);
  assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
  assert_string_equal(json_string_value(json_object_get(json_object_get(res, "serverInfo"), "name")), "cnv");
  assert_non_null(json_object_get(json_object_get(res, "capabilities"), "tools"));
  json_decref(msg);
  mcp_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

/* ---- the session ---- */

static json_t *find_tool(json_t *tools, const char *name) {
  size_t i;
  json_t *t;
  json_array_foreach(tools, i, t) {
    if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0) return t;
  }
  fail_msg("tools/list has no %s", name);
  return NULL;
}

static void expect_property(json_t *schema, const char *name, const char *type) {
  json_t *prop = json_object_get(json_object_get(schema, "properties"), name);
  if (!prop) fail_msg("inputSchema has no property %s", name);
  if (type) assert_string_equal(json_string_value(json_object_get(prop, "type")), type);
}

static void tools_list(mcp_proc *p) {
  mcp_send(p, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
  json_t *msg;
  json_t *tools = json_object_get(mcp_result(p, 2, &msg), "tools");
  assert_true(json_is_array(tools));
  static const char *const demos[] = {"demo_echo", "demo_fail", "demo_sleep", "demo_types"};
  for (size_t i = 0; i < sizeof demos / sizeof demos[0]; i++) {
    json_t *t = find_tool(tools, demos[i]);
    assert_true(json_is_object(json_object_get(t, "inputSchema")));
    assert_true(json_is_string(json_object_get(t, "description")));
  }
  json_t *schema = json_object_get(find_tool(tools, "demo_types"), "inputSchema");
  assert_string_equal(json_string_value(json_object_get(schema, "type")), "object");
  expect_property(schema, "s", "string");
  expect_property(schema, "i", "integer");
  expect_property(schema, "n", "number");
  expect_property(schema, "b", "boolean");
  expect_property(schema, "e", NULL);
  expect_property(schema, "tags", "array");
  json_t *colours = json_object_get(json_object_get(json_object_get(schema, "properties"), "e"), "enum");
  assert_int_equal(json_array_size(colours), 3);
  assert_string_equal(json_string_value(json_array_get(colours, 1)), "green");
  json_t *required = json_object_get(schema, "required");
  assert_int_equal(json_array_size(required), 1);
  assert_string_equal(json_string_value(json_array_get(required, 0)), "s");
  schema = json_object_get(find_tool(tools, "demo_echo"), "inputSchema");
  expect_property(schema, "text", "string");
  json_decref(msg);
}

/* Every type, and strings a quoting bug would break: quotes, a newline, NUL, "--", non-ASCII. */
#define TYPES_ARGS                                                                                       \
  "{\"s\":\"a \\\"quoted\\\" 'word'\\nnext --line \\u0000 nul \\u00e9\\u2713\",\"i\":-9007199254740993," \
  "\"n\":2.5,\"b\":true,\"e\":\"green\",\"tags\":[\"x\",\"--i=1\",\"\"]}"

static void call_types(mcp_proc *p) {
  mcp_send(p, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"demo_types\",\"arguments\":%s}}",
           TYPES_ARGS);
  json_t *msg;
  json_t *res = mcp_result(p, 3, &msg);
  assert_false(json_is_true(json_object_get(res, "isError")));
  json_error_t je;
  json_t *want = json_loads(TYPES_ARGS, JSON_ALLOW_NUL, &je);
  assert_non_null(want);
  json_t *got = json_object_get(res, "structuredContent");
  if (!json_equal(got, want)) fail_msg("demo_types answered %s", json_dumps(res, JSON_COMPACT));
  /* the same object as the text content */
  json_t *text = json_object_get(json_array_get(json_object_get(res, "content"), 0), "text");
  json_t *parsed = json_loadb(json_string_value(text), json_string_length(text), JSON_ALLOW_NUL, &je);
  assert_true(json_equal(parsed, want));
  json_decref(parsed);
  json_decref(want);
  json_decref(msg);
}

static void call_echo_and_fail(mcp_proc *p) {
  mcp_send(p,
           "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"demo_echo\","
           "\"arguments\":{\"text\":\"PONG\"}}}");
  json_t *msg;
  json_t *res = mcp_result(p, 4, &msg);
  assert_false(json_is_true(json_object_get(res, "isError")));
  json_t *text = json_object_get(json_array_get(json_object_get(res, "content"), 0), "text");
  assert_string_equal(json_string_value(text), "PONG");
  json_decref(msg);
  mcp_send(p,
           "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"demo_fail\","
           "\"arguments\":{}}}");
  res = mcp_result(p, 5, &msg);
  assert_true(json_is_true(json_object_get(res, "isError")));
  json_decref(msg);
}

static void session(void **state) {
  (void)state;
  mcp_proc p;
  mcp_start(&p);
  mcp_initialize(&p);
  tools_list(&p);
  call_types(&p);
  call_echo_and_fail(&p);
  close(p.in); /* the end of input: the client left */
  p.in = -1;
  char *line = NULL;
  size_t cap = 0;
  assert_true(getline(&line, &cap, p.out) < 0); /* nothing more on stdout */
  free(line);
  assert_int_equal(mcp_wait(&p), 0);
  mcp_wait_err("mcp: demo_types ran CNV_OK");
  mcp_wait_err("mcp: demo_fail ran CNV_EIO");
}

/* A long call cancelled by the client reaches the runtime (the handler sees its cancel flag);
 * the session goes on, and SIGTERM ends the tool with exit 0. */
static void cancel_and_signal(void **state) {
  (void)state;
  mcp_proc p;
  mcp_start(&p);
  mcp_initialize(&p);
  mcp_send(&p,
           "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"demo_sleep\","
           "\"arguments\":{\"ms\":30000},\"_meta\":{\"progressToken\":\"sleepy\"}}}");
  /* the first progress report: the handler runs */
  for (;;) {
    json_t *msg = mcp_next(&p);
    const char *method = json_string_value(json_object_get(msg, "method"));
    bool progress = method && strcmp(method, "notifications/progress") == 0;
    if (progress) {
      json_t *params = json_object_get(msg, "params");
      assert_string_equal(json_string_value(json_object_get(params, "progressToken")), "sleepy");
      assert_true(json_number_value(json_object_get(params, "total")) == 30000);
    }
    json_decref(msg);
    if (progress) break;
  }
  mcp_send(&p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":7}}");
  mcp_wait_err("mcp: demo_sleep cancelled");
  mcp_send(&p, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}");
  json_t *msg;
  mcp_result(&p, 8, &msg);
  json_decref(msg);
  assert_int_equal(kill(p.pid, SIGTERM), 0);
  assert_int_equal(mcp_wait(&p), 0);
}

/* ---- errors ---- */

static void usage_errors(void **state) {
  (void)state;
  static const char *const cases[][12] = {
      {"mcp", "serve", "--token", "agent.tok", "--trust", "root.pub", NULL},
      {"mcp", "serve", "--key", "agent.key", "--trust", "root.pub", NULL},
      {"mcp", "serve", "--key", "agent.key", "--token", "agent.tok", NULL},
      {"mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "--workers", "0", NULL},
      {"mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "--page-size", "1001",
       NULL},
      {"mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "--verbose=yes", NULL},
      {"mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "--bogus", "1", NULL},
      {"mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "stray", NULL},
      {"mcp", "serve", "--key", "a.key", "--key", "b.key", "--token", "agent.tok", "--trust", "root.pub", NULL},
      {"mcp", "frobnicate", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cli_run(&r, cases[i]);
    if (r.status != 2) fail_msg("case %zu: exit %d, stderr %s", i, r.status, r.err);
    assert_string_equal(r.out, "");
    assert_true(strncmp(r.err, "cnv: ", 5) == 0);
  }
  RUN("mcp", "serve", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "--token"));
  RUN("--help");
  assert_non_null(strstr(r.out, "mcp"));
}

static void setup_errors(void **state) {
  (void)state;
  RUN("token", "keygen", "--out", "root2");
  assert_int_equal(r.status, 0);
  static const struct {
    const char *key, *token, *trust, *says;
  } cases[] = {
      {"other.key", "agent.tok", "root.pub", "holder is not the public key"},
      {"agent.key", "agent.tok", "root2.pub", "does not verify"},
      {"agent.key", "missing.tok", "root.pub", "missing.tok"},
      {"missing.key", "agent.tok", "root.pub", "missing.key"},
      {"agent.key", "agent.tok", "agent.tok", "agent.tok"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    RUN("mcp", "serve", "--key", cases[i].key, "--token", cases[i].token, "--trust", cases[i].trust);
    if (r.status != 1) fail_msg("case %zu: exit %d, stderr %s", i, r.status, r.err);
    if (!strstr(r.err, cases[i].says)) fail_msg("case %zu: stderr %s", i, r.err);
    assert_string_equal(r.out, "");
  }
  RUN("mcp", "serve", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub", "--plugin",
      "/nonexistent/lib.so");
  CLI_EXPECT(&r, 1, "--plugin");
  assert_string_equal(r.out, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(session),
      cmocka_unit_test(cancel_and_signal),
      cmocka_unit_test(usage_errors),
      cmocka_unit_test(setup_errors),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, make_files, NULL);
  cli_tmpdir_remove();
  return failed;
}
