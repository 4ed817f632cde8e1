/* `cnv call`: the real binary (CNV_CLI_PATH) against a real server in this process
 * (srv_fixture.h), key and token files written as `cnv token` writes them. Exit 0 with the
 * result, 1 with the reason for a denial, a failure or a refused session, 2 for usage; and
 * once end to end with `cnv serve` as a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "cli/cli_run.h"
#include "srv_fixture.h"

static srv_fx X;

/* Writes a key or token file as `cnv token` does: hex on one line, mode 0600. */
static void write_hex(const char *path, const uint8_t *b, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
  fputc('\n', f);
  assert_int_equal(fclose(f), 0);
}

static int setup(void **state) {
  (void)state;
  if (!srvfx_start(&X, NULL, true, 0)) return -1;
  cli_tmpdir();
  write_hex("server.pub", X.server_key.pk, sizeof X.server_key.pk);
  write_hex("agent.key", X.agent.sk, sizeof X.agent.sk);
  write_hex("agent.tok", X.token, X.token_len);
  tkey other;
  tkey_make(&other, 0xC0);
  write_hex("other.pub", other.pk, sizeof other.pk);
  write_hex("other.key", other.sk, sizeof other.sk);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cli_tmpdir_remove();
  return srvfx_stop(&X) ? 0 : -1;
}

#define CALL(r, ...)                                                                             \
  do {                                                                                           \
    const char *const a_[] = {"call", "--connect", X.address, "--server", "server.pub", "--key", \
                              "agent.key", "--token", "agent.tok", __VA_ARGS__, NULL};           \
    cli_run(r, a_);                                                                              \
  } while (0)

static void test_echo(void **state) {
  (void)state;
  static cli_result r;
  CALL(&r, "demo.echo", "--text", "hi");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "hi\n");
  assert_string_equal(r.err, "");
  /* The line's arguments joined with single spaces, its own flags untouched. */
  CALL(&r, "demo.echo", "--text", "two words");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "two words\n");
  /* `--` ends the options; --help after the line starts is the invocation's. */
  CALL(&r, "--", "demo.echo", "--text", "--help");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "--help\n");
  CALL(&r, "--deadline-ms", "400", "--timeout-ms", "20000", "demo.echo", "--text", "x");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "x\n");
  /* A deadline beyond the capability's class limit (500 ms for demo.echo) is the server's
   * refusal: exit 1 with the reason. */
  CALL(&r, "--deadline-ms", "5000", "demo.echo", "--text", "x");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "cnv: call: "));
}

static void test_json(void **state) {
  (void)state;
  static cli_result r;
  CALL(&r, "--json", "demo.echo", "--text", "say \"hi\"");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "{\"status\":\"CNV_OK\",\"code\":0,\"done\":\"ran\",\"result\":\"say \\\"hi\\\"\"}\n");
  CALL(&r, "--json", "demo.fail");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.out, "\"status\":\"CNV_ENOTSUP\""));
  assert_non_null(strstr(r.out, "\"done\":\"ran\""));
  assert_non_null(strstr(r.out, "\"result\":\"failed\""));
  CALL(&r, "--json", "fs.read", "--path", "/etc");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.out, "\"done\":null"));
}

static void test_failure_and_denial(void **state) {
  (void)state;
  static cli_result r;
  CALL(&r, "demo.fail");
  CLI_EXPECT(&r, 1, "cnv: call: ");
  assert_string_equal(r.out, "failed\n");
  /* The token allows demo.* only. */
  CALL(&r, "fs.read", "--path", "/etc");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "cnv: call: "));
  assert_string_equal(r.out, "");
}

static void test_refused_sessions(void **state) {
  (void)state;
  static cli_result r;
  /* Another server key pinned. */
  const char *const wrong_pin[] = {"call", "--connect", X.address, "--server", "other.pub", "--key",
                                   "agent.key", "--token", "agent.tok", "demo.echo", NULL};
  cli_run(&r, wrong_pin);
  CLI_EXPECT(&r, 1, "the server's key is not the pinned one");
  /* A stolen token presented with another key. */
  const char *const thief[] = {"call", "--connect", X.address, "--server", "server.pub", "--key",
                               "other.key", "--token", "agent.tok", "demo.echo", NULL};
  cli_run(&r, thief);
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, X.address));
  /* Nobody there. */
  const char *const nobody[] = {"call", "--connect", "unix:/nonexistent/cnv.sock", "--server", "server.pub", "--key",
                                "agent.key", "--token", "agent.tok", "demo.echo", NULL};
  cli_run(&r, nobody);
  CLI_EXPECT(&r, 1, "could not connect");
  /* A missing key file. */
  const char *const nofile[] = {"call", "--connect", X.address, "--server", "server.pub", "--key",
                                "missing.key", "--token", "agent.tok", "demo.echo", NULL};
  cli_run(&r, nofile);
  CLI_EXPECT(&r, 1, "missing.key");
  assert_true(srvfx_wait_closed(&X));
}

/* The issue's own example, every piece a real process: keys and token from `cnv token`,
 * `cnv serve` as a child, `cnv call demo.echo --text hi` prints hi; SIGTERM stops the server
 * (exit 0) and its socket file goes with it. */
static void test_with_cnv_serve(void **state) {
  (void)state;
  static cli_result r;
  const char *const k1[] = {"token", "keygen", "--out", "root", NULL};
  const char *const k2[] = {"token", "keygen", "--out", "srv", NULL};
  const char *const k3[] = {"token", "keygen", "--out", "bob", NULL};
  const char *const mint[] = {"token", "mint", "--key", "root.key", "--audience", "bob.pub",
                              "--allow", "demo.*", "--effects", "read_only", "--out", "bob.tok",
                              NULL};
  const char *const *const prep[] = {k1, k2, k3, mint};
  for (int i = 0; i < 4; i++) {
    cli_run(&r, prep[i]);
    assert_int_equal(r.status, 0);
  }
  char cwd[512], addr[600];
  assert_non_null(getcwd(cwd, sizeof cwd));
  snprintf(addr, sizeof addr, "unix:%s/serve.sock", cwd);
  const char *const serve[] = {"serve", "--listen", addr, "--key", "srv.key", "--trust", "root.pub", NULL};
  pid_t pid = cli_start("serve.out", serve);
  char out[256] = "";
  for (int i = 0; i < 400 && !strstr(out, "listening"); i++) {
    usleep(25000);
    cli_slurp("serve.out", out, sizeof out);
  }
  bool up = strstr(out, "listening") != NULL;
  const char *const call[] = {"call", "--connect", addr, "--server", "srv.pub", "--key", "bob.key",
                              "--token", "bob.tok", "demo.echo", "--text", "hi", NULL};
  static cli_result c;
  if (up) cli_run(&c, call);
  kill(pid, SIGTERM);
  cli_wait(&r, pid, "serve.out");
  assert_true(up);
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "hi\n");
  assert_int_equal(r.status, 0);
  assert_false(cli_exists(addr + 5));
}

static void test_usage(void **state) {
  (void)state;
  static cli_result r;
  const char *const none[] = {"call", NULL};
  cli_run(&r, none);
  CLI_EXPECT(&r, 2, "--connect is required");
  const char *const no_line[] = {"call", "--connect", X.address, "--server", "server.pub",
                                 "--key", "agent.key", "--token", "agent.tok", NULL};
  cli_run(&r, no_line);
  CLI_EXPECT(&r, 2, "an invocation");
  CALL(&r, "--colour", "red", "demo.echo");
  assert_int_equal(r.status, 2);
  CALL(&r, "--timeout-ms", "0", "demo.echo");
  CLI_EXPECT(&r, 2, "--timeout-ms");
  CALL(&r, "--json=yes", "demo.echo");
  assert_int_equal(r.status, 2);
  const char *const bad_addr[] = {"call", "--connect", "tcp:nohost", "--server", "server.pub", "--key",
                                  "agent.key", "--token", "agent.tok", "demo.echo", NULL};
  cli_run(&r, bad_addr);
  CLI_EXPECT(&r, 2, "--connect");
  const char *const twice[] = {"call", "--connect", X.address, "--connect", X.address, "--server", "server.pub",
                               "--key", "agent.key", "--token", "agent.tok", "demo.echo", NULL};
  cli_run(&r, twice);
  CLI_EXPECT(&r, 2, "more than once");
  const char *const help[] = {"call", "--help", NULL};
  cli_run(&r, help);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "usage: cnv call"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_failure_and_denial),
      cmocka_unit_test(test_refused_sessions),
      cmocka_unit_test(test_with_cnv_serve),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
