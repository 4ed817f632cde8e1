/* The cnv tool's swarm over NATS: usage errors of `cnv serve --nats`, `cnv call --nats` and
 * `cnv swarm status|revoke|trust` (no server needed, exit 2, nothing run); then, on a
 * nats-server the test starts (JetStream, loopback, a temporary store, killed at the end):
 * `cnv serve --nats` joins, `cnv call --nats` prints the echo and the counts of demo.count,
 * `cnv swarm status` shows the one live node, `cnv swarm revoke` denies the agent's token on
 * the node, `cnv swarm trust` adds a root whose agents are then served, and a process on the
 * same server that answers handshakes with a token lacking swarm.serve is refused by the
 * client. The files come from `cnv token`, as a user makes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <sodium.h>

#include <cnv/nats.h>
#include <cnv/swarmwire.h>

#include "cli_run.h"
#include "support/nats_cluster.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

/* ---- usage errors: judged before anything is opened or connected ---- */

static void usage_errors(void **state) {
  (void)state;
  static const struct {
    const char *args[24];
    const char *err;
  } cases[] = {
      {{"serve", "--nats", "nats://127.0.0.1:4222", "--key", "n.key", "--token", "n.tok", "--trust", "r.pub"},
       "--swarm is required"},
      {{"serve", "--nats", "nats://127.0.0.1:4222", "--swarm", "0", "--key", "n.key", "--token", "n.tok", "--trust",
        "r.pub"},
       "--swarm"},
      {{"serve", "--nats", "127.0.0.1:4222", "--swarm", "3", "--key", "n.key", "--token", "n.tok", "--trust", "r.pub"},
       "--nats: not a list of nats://HOST:PORT"},
      {{"serve", "--nats", "nats://a:1,", "--swarm", "3", "--key", "n.key", "--token", "n.tok", "--trust", "r.pub"},
       "--nats: not a list"},
      {{"serve", "--nats", "nats://a:1,nats://b:65536", "--swarm", "3", "--key", "n.key", "--token", "n.tok",
        "--trust", "r.pub"},
       "nats://b:65536"},
      {{"serve", "--nats", "nats://a:1", "--swarm", "3", "--key", "n.key", "--trust", "r.pub"}, "--token is required"},
      {{"serve", "--nats", "nats://a:1", "--swarm", "3", "--key", "n.key", "--token", "n.tok", "--trust", "r.pub",
        "--once", "some"},
       "--once: effectful or all"},
      {{"serve", "--nats", "nats://a:1", "--swarm", "3", "--key", "n.key", "--token", "n.tok", "--trust", "r.pub",
        "--replicas", "6"},
       "--replicas"},
      {{"serve", "--listen", "tcp:127.0.0.1:1", "--key", "n.key", "--trust", "r.pub", "--once", "all"},
       "--once needs --nats"},
      {{"serve", "--key", "n.key", "--trust", "r.pub"}, "--listen or --nats is required"},
      {{"call", "--nats", "nats://a:1", "--swarm", "3", "--key", "a.key", "--token", "a.tok", "demo.echo"},
       "--trust is required"},
      {{"call", "--nats", "nats://a:1", "--key", "a.key", "--token", "a.tok", "--trust", "r.pub", "demo.echo"},
       "--swarm is required"},
      {{"call", "--nats", "nats:/a:1", "--swarm", "3", "--key", "a.key", "--token", "a.tok", "--trust", "r.pub",
        "demo.echo"},
       "--nats: not a list"},
      {{"call", "--nats", "nats://a:1", "--connect", "tcp:a:1", "--swarm", "3", "--key", "a.key", "--token", "a.tok",
        "--trust", "r.pub", "demo.echo"},
       "--connect and --nats exclude each other"},
      {{"call", "--connect", "tcp:a:1", "--server", "s.pub", "--swarm", "3", "--key", "a.key", "--token", "a.tok",
        "demo.echo"},
       "--swarm needs --nats"},
      {{"call", "--nats", "nats://a:1", "--swarm", "3", "--key", "a.key", "--token", "a.tok", "--trust", "r.pub"},
       "an invocation"},
      {{"swarm", "status", "--nats", "nats://a:1", "--trust", "r.pub"}, "--swarm is required"},
      {{"swarm", "status", "--swarm", "3", "--trust", "r.pub"}, "--nats is required"},
      {{"swarm", "status", "--nats", "nats://a:1", "--swarm", "3"}, "--trust is required"},
      {{"swarm", "revoke", "--nats", "nats://a:1", "--swarm", "3", "--key", "r.key"}, "--hash or --token-file"},
      {{"swarm", "revoke", "--nats", "nats://a:1", "--swarm", "3", "--key", "r.key", "--hash", "00", "--token-file",
        "a.tok"},
       "exclude each other"},
      {{"swarm", "revoke", "--nats", "nats://a:1", "--swarm", "3", "--key", "r.key", "--hash", "00", "--link", "1"},
       "--link needs --token-file"},
      {{"swarm", "trust", "--nats", "nats://a:1", "--swarm", "3", "--key", "r.key"}, "--add is required"},
      {{"swarm", "trust", "--nats", "nats://a:1", "--swarm", "3", "--key", "r.key", "--add", "n.pub", "--json"},
       "--json"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cli_run(&r, cases[i].args);
    if (r.status != 2 || !strstr(r.err, cases[i].err))
      fail_msg("case %zu (%s %s): exit %d, stderr: %s", i, cases[i].args[0], cases[i].args[1], r.status, r.err);
    assert_string_equal(r.out, "");
  }
}

/* ---- against a nats-server ---- */

static nats_cluster *cluster;
static const char *url;
static pid_t serve_pid = -1; /* the `cnv serve` child while it runs (teardown kills it after a failure) */

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  if (nats_cluster_start(1, &cluster) != 0) {
    fprintf(stderr, "nats-server: %s\n", nats_cluster_error());
    return -1;
  }
  url = nats_cluster_url(cluster, 0);
  cli_tmpdir();
  static const char *const steps[][16] = {
      {"token", "keygen", "--out", "root"},
      {"token", "keygen", "--out", "root2"},
      {"token", "keygen", "--out", "node"},
      {"token", "keygen", "--out", "agent"},
      {"token", "keygen", "--out", "agent2"},
      {"token", "keygen", "--out", "imp"},
      {"token", "mint", "--key", "root.key", "--audience", "node.pub", "--allow", "swarm.serve", "--swarm", "5", "--out",
       "node.tok"},
      {"token", "mint", "--key", "root.key", "--audience", "agent.pub", "--allow", "demo.*", "--effects",
       "read_only|idempotent|mutate_state", "--out", "agent.tok"},
      {"token", "mint", "--key", "root2.key", "--audience", "agent2.pub", "--allow", "demo.*", "--effects", "read_only",
       "--out", "agent2.tok"},
      /* the impostor: the swarm's root signed it, but for the demos, not for swarm.serve */
      {"token", "mint", "--key", "root.key", "--audience", "imp.pub", "--allow", "demo.*", "--swarm", "6", "--out",
       "imp.tok"},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    cli_run(&r, steps[i]);
    if (r.status != 0) {
      fprintf(stderr, "%s %s: %s\n", steps[i][0], steps[i][1], r.err);
      return -1;
    }
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (serve_pid > 0) {
    kill(serve_pid, SIGKILL);
    waitpid(serve_pid, NULL, 0);
  }
  nats_cluster_stop(cluster);
  cli_tmpdir_remove();
  return 0;
}

/* Waits until path holds text (the child writes it once ready); false if it exited first. */
static bool wait_for(pid_t pid, const char *path, const char *text, char *buf, size_t cap) {
  buf[0] = '\0';
  for (;;) {
    cli_slurp(path, buf, cap);
    if (strstr(buf, text)) return true;
    if (kill(pid, 0) != 0 || waitpid(pid, NULL, WNOHANG) == pid) return false;
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
}

#define CALL(tok, key, ...) \
  RUN("call", "--nats", url, "--swarm", "5", "--key", key, "--token", tok, "--trust", "root.pub", __VA_ARGS__)

static void serve_and_call(void **state) {
  (void)state;
  const char *const serve[] = {"serve", "--nats", url, "--swarm", "5", "--key", "node.key", "--token", "node.tok",
                               "--trust", "root.pub", NULL};
  pid_t pid = serve_pid = cli_start("serve.out", serve);
  char out[512];
  assert_true(wait_for(pid, "serve.out", "\n", out, sizeof out));
  char pk[128] = "";
  cli_slurp("node.pub", pk, sizeof pk);
  pk[strcspn(pk, "\n")] = '\0';
  char want[256];
  snprintf(want, sizeof want, "joined swarm 5 as %s\n", pk);
  assert_string_equal(out, want);

  char list[256]; /* a list of servers (the same one twice) serves as well */
  snprintf(list, sizeof list, "%s,%s", url, url);
  CALL("agent.tok", "agent.key", "demo.echo", "--text", "hi");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "hi\n");
  RUN("call", "--nats", list, "--swarm", "5", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub",
      "demo.echo", "--text", "listed");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "listed\n");
  CALL("agent.tok", "agent.key", "--json", "demo.echo", "--text", "hi");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "{\"status\":\"CNV_OK\",\"code\":0,\"done\":\"ran\",\"result\":\"hi\"}\n");
  /* demo.count is effectful: the claim path; each call runs once */
  for (int i = 1; i <= 2; i++) {
    CALL("agent.tok", "agent.key", "demo.count", "--key", "k");
    assert_int_equal(r.status, 0);
    snprintf(want, sizeof want, "%d\n", i);
    assert_string_equal(r.out, want);
  }
  /* a failing capability: its result printed, exit 1 */
  CALL("agent.tok", "agent.key", "demo.fail");
  CLI_EXPECT(&r, 1, "call:");
  assert_string_equal(r.out, "demo.fail always fails\n");

  RUN("swarm", "status", "--nats", url, "--swarm", "5", "--trust", "root.pub");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "swarm 5: 1 live node of 1 known\n"));
  char prefix[32];
  snprintf(prefix, sizeof prefix, "\n%.16s  live ", pk);
  if (!strstr(r.out, prefix)) fail_msg("status: %s", r.out);
  /* the shared state: the node's capabilities, live, one node each */
  if (!strstr(r.out, "\n  demo.echo ") || !strstr(r.out, " 1 node\n")) fail_msg("status: %s", r.out);
  RUN("swarm", "status", "--nats", list, "--swarm", "5", "--trust", "root.pub", "--json");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "{\"swarm\":5,\"live\":1,\"known\":1,"));
  if (!strstr(r.out, ",\"capabilities\":{") || !strstr(r.out, "\"demo.echo\":1")) fail_msg("status: %s", r.out);
  /* trusting another root only, the node is nobody's */
  RUN("swarm", "status", "--nats", url, "--swarm", "5", "--trust", "root2.pub");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "swarm 5: 0 live nodes of 0 known\n"));

  /* root2's agents are strangers until root adds root2 to the swarm */
  CALL("agent2.tok", "agent2.key", "demo.echo", "--text", "two");
  CLI_EXPECT(&r, 1, "untrusted");
  RUN("swarm", "trust", "--nats", url, "--swarm", "5", "--key", "root.key", "--add", "root2.pub");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "trusted "));
  do { /* the node applies the record when its watch delivers it */
    CALL("agent2.tok", "agent2.key", "demo.echo", "--text", "two");
  } while (r.status != 0 && strstr(r.err, "untrusted"));
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "two\n");

  /* revoked through the bucket: the node denies the agent's token from then on */
  RUN("swarm", "revoke", "--nats", url, "--swarm", "5", "--key", "root.key", "--token-file", "agent.tok");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "revoked "));
  do {
    CALL("agent.tok", "agent.key", "demo.echo", "--text", "hi");
  } while (r.status == 0);
  CLI_EXPECT(&r, 1, "revoked");

  kill(pid, SIGTERM);
  cli_wait(&r, pid, "serve.out");
  serve_pid = -1;
  assert_int_equal(r.status, 0);
}

/* ---- a process that answers handshakes without a swarm.serve token ---- */

static struct {
  uint8_t sk[CNV_SW_SECRET_BYTES];
  uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t token_len;
} imp;

/* Reads a hex file written by `cnv token` into out (at most cap bytes); its length. */
static size_t read_hex(const char *path, uint8_t *out, size_t cap) {
  static char text[2 * CNV_DELEG_MAX_TOKEN_BYTES + 8];
  assert_true(cli_slurp(path, text, sizeof text));
  size_t n = 0;
  assert_int_equal(sodium_hex2bin(out, cap, text, strcspn(text, "\n"), NULL, &n, NULL), 0);
  return n;
}

static void on_hello(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)sub, (void)closure;
  static uint8_t welcome[CNV_SW_MAX_TICKET + 2 * CNV_DELEG_MAX_TOKEN_BYTES], ticket[CNV_SW_MIN_TICKET], eph_sk[32];
  cnv_sw_hello hello;
  uint8_t hh[CNV_SW_HASH_BYTES];
  const void *data = natsMsg_GetData(msg);
  size_t len = (size_t)natsMsg_GetDataLength(msg), wlen = 0;
  cnv_sw_welcome w = {.node_token = imp.token, .node_token_len = imp.token_len, .ticket = ticket, .ticket_len = sizeof ticket, .expires_ms = UINT64_MAX};
  memcpy(w.node_pk, imp.sk + 32, sizeof w.node_pk);
  randombytes_buf(ticket, sizeof ticket);
  /* a failure leaves the client unanswered: the test then sees a timeout, not the refusal */
  if (cnv_sw_hello_read(6, data, len, &hello) == CNV_OK && cnv_sw_hash(data, len, hh) == CNV_OK &&
      cnv_sw_eph_keypair(w.eph_pk, eph_sk) == CNV_OK &&
      cnv_sw_welcome_write(6, imp.sk, hh, &w, welcome, sizeof welcome, &wlen) == CNV_OK)
    (void)natsConnection_Publish(nc, natsMsg_GetReply(msg), welcome, (int)wlen);
  natsMsg_Destroy(msg);
}

static void impostor_refused(void **state) {
  (void)state;
  assert_int_equal(read_hex("imp.key", imp.sk, sizeof imp.sk), sizeof imp.sk);
  imp.token_len = read_hex("imp.tok", imp.token, sizeof imp.token);
  natsConnection *nc = NULL;
  natsSubscription *sub = NULL;
  char hs[CNV_SW_SUBJECT_MAX];
  assert_int_equal(cnv_sw_subject_swarm(CNV_SW_SUBJ_HANDSHAKE, 6, hs, sizeof hs, NULL), CNV_OK);
  assert_int_equal(natsConnection_ConnectTo(&nc, url), NATS_OK);
  assert_int_equal(natsConnection_QueueSubscribe(&sub, nc, hs, "cnv.6", on_hello, NULL), NATS_OK);
  assert_int_equal(natsConnection_Flush(nc), NATS_OK);
  RUN("call", "--nats", url, "--swarm", "6", "--key", "agent.key", "--token", "agent.tok", "--trust", "root.pub",
      "demo.echo", "--text", "hi");
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  CLI_EXPECT(&r, 1, "does not allow swarm.serve");
  assert_string_equal(r.out, "");
}

int main(void) {
  const struct CMUnitTest usage[] = {cmocka_unit_test(usage_errors)};
  const struct CMUnitTest live[] = {cmocka_unit_test(serve_and_call), cmocka_unit_test(impostor_refused)};
  cli_tmpdir();
  int failed = cmocka_run_group_tests_name("usage", usage, NULL, NULL);
  cli_tmpdir_remove();
  return failed + cmocka_run_group_tests_name("nats", live, setup, teardown);
}
