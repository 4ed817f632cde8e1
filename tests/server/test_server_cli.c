/* `cnv serve` as a process: keys and a trust root written as `cnv token keygen` does, a TCP
 * and a unix listener whose bound addresses the tool prints, the demo capabilities and a
 * --plugin library answering over sessions, then SIGTERM: SHUTDOWN reaches the client, the
 * call in flight is still answered, the tool exits 0 and leaves no socket file. Usage and
 * file errors exit 2 and 1. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "server/srv_fixture.h"

typedef struct proc {
  pid_t pid;
  FILE *out; /* its stdout */
} proc;

/* The server child a test started and has not reaped: a failed assertion leaves the test
 * early, and the teardown then kills it, so no `cnv serve` outlives the test. */
static pid_t live_child = -1;

static int kill_live_child(void **state) {
  (void)state;
  if (live_child > 0) {
    kill(live_child, SIGKILL);
    waitpid(live_child, NULL, 0);
    live_child = -1;
  }
  return 0;
}

static proc spawn(char *const argv[]) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], STDOUT_FILENO);
    close(p[0]);
    close(p[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  live_child = pid;
  close(p[1]);
  proc r = {pid, fdopen(p[0], "r")};
  assert_non_null(r.out);
  return r;
}

static int wait_exit(proc *p) {
  int status = 0;
  assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
  live_child = -1;
  fclose(p->out);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void write_hex(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
  fputc('\n', f);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(path, 0600), 0);
}

typedef struct files {
  char dir[64], key[128], pub[128], sock[128], listen_unix[140];
} files;

/* The server's and the root's keys (fixed seeds), and their files in a new temporary folder. */
static void make_files(files *f, tkey *server, tkey *root) {
  assert_true(sodium_init() >= 0);
  tkey_make(server, 0x31);
  tkey_make(root, 0x32);
  strcpy(f->dir, "/tmp/cnv-serve-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->key, sizeof f->key, "%s/server.key", f->dir);
  snprintf(f->pub, sizeof f->pub, "%s/root.pub", f->dir);
  snprintf(f->sock, sizeof f->sock, "%s/s.sock", f->dir);
  snprintf(f->listen_unix, sizeof f->listen_unix, "unix:%s", f->sock);
  write_hex(f->key, server->sk, sizeof server->sk);
  write_hex(f->pub, root->pk, sizeof root->pk);
}

static void remove_files(files *f) {
  assert_int_equal(unlink(f->key), 0);
  assert_int_equal(unlink(f->pub), 0);
  struct stat st;
  assert_int_not_equal(stat(f->sock, &st), 0); /* the server removed its socket */
  assert_int_equal(rmdir(f->dir), 0);
}

/* Reads `listening ADDRESS` lines until n were seen; copies them into addr[i]. */
static void read_listening(proc *p, char addr[][CNV_SERVER_ADDRESS_MAX], int n) {
  char line[512];
  for (int i = 0; i < n; i++) {
    assert_non_null(fgets(line, sizeof line, p->out));
    assert_memory_equal(line, "listening ", 10);
    size_t len = strcspn(line + 10, "\n");
    assert_true(len < CNV_SERVER_ADDRESS_MAX);
    memcpy(addr[i], line + 10, len);
    addr[i][len] = '\0';
  }
}

/* A token from root for agent key_byte in the tool's swarm, allowing demo.* (and plugin.*). */
static void mint(const tkey *root, uint8_t key_byte, bool plugin, tkey *agent, uint8_t *tok, size_t *len) {
  cnv_deleg_caveats cav;
  cav_init(&cav);
  cav.swarm = RTF_SWARM;
  assert_int_equal(cav_allow(&cav, "demo.*"), CNV_OK);
  if (plugin) assert_int_equal(cav_allow(&cav, "plugin.*"), CNV_OK);
  assert_int_equal(mint_for_agent(root->sk, key_byte, &cav, agent, tok, len), CNV_OK);
}

static void client(sc_client *c, const char *addr, const tkey *server, const tkey *root, uint8_t key_byte) {
  tkey agent;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  mint(root, key_byte, true, &agent, tok, &len);
  assert_true(sc_open(c, addr, agent.sk, server->pk, tok, len));
  assert_int_equal(sc_handshake(c), CNV_OK);
}

static void expect_text(const sc_msg *m, const char *text) {
  assert_int_equal(m->status, CNV_OK);
  assert_int_equal(m->result_len, strlen(text));
  assert_memory_equal(m->result, text, strlen(text));
}

static void test_serve_process(void **state) {
  (void)state;
  tkey server, root;
  files f;
  make_files(&f, &server, &root);
  char *argv[] = {CNV_BIN, "serve", "--listen", "tcp:127.0.0.1:0", "--listen", f.listen_unix, "--key", f.key,
                  "--trust", f.pub, "--plugin", CNV_TEST_PLUGIN, "--io-threads", "2", "--workers", "2",
                  "--swarm", "11", NULL};
  proc p = spawn(argv);
  char addr[2][CNV_SERVER_ADDRESS_MAX];
  read_listening(&p, addr, 2);
  assert_memory_equal(addr[0], "tcp:127.0.0.1:", 14);
  assert_string_equal(addr[1], f.listen_unix);
  sc_msg m;
  for (int i = 0; i < 2; i++) {
    sc_client c;
    client(&c, addr[i], &server, &root, (uint8_t)(1 + i));
    sc_call(&c, 1, "demo.echo --text hi", &m);
    expect_text(&m, "hi");
    sc_call(&c, 2, "plugin.hello", &m);
    expect_text(&m, "hello from a plugin");
    sc_call(&c, 3, "demo.fail", &m);
    assert_int_equal(m.status, CNV_EIO);
    sc_call(&c, 4, "demo.sleep --ms 1", &m);
    expect_text(&m, "");
    sc_call(&c, 5, "demo.echo", &m); /* no --text: its schema requires it */
    assert_int_equal(m.status, CNV_ERT_DENY_ARGUMENTS);
    sc_close(&c);
  }
  /* SIGTERM with a call in flight: the echo after it is answered, so the server holds it */
  sc_client c;
  client(&c, addr[0], &server, &root, 3);
  sc_invoke(&c, 1, "demo.sleep --ms 300", 0);
  sc_call(&c, 2, "demo.echo --text ahead", &m);
  expect_text(&m, "ahead");
  assert_int_equal(kill(p.pid, SIGTERM), 0);
  assert_int_equal(sc_next(&c, &m), CNV_OK);
  assert_int_equal(m.type, CNV_MSG_SHUTDOWN);
  sc_response(&c, &m);
  assert_int_equal(m.id, 1);
  expect_text(&m, "");
  sc_shutdown(&c);
  assert_int_equal(sc_next(&c, &m), CNV_EIO);
  sc_close(&c);
  assert_int_equal(wait_exit(&p), 0);
  remove_files(&f);
}

/* --revoked: a token whose link is in the file is refused at AUTH with the revocation code;
 * another passes. SIGINT stops the tool as SIGTERM does. */
static void test_serve_revoked(void **state) {
  (void)state;
  tkey server, root;
  files f;
  make_files(&f, &server, &root);
  tkey bad;
  uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t len = 0;
  mint(&root, 9, false, &bad, tok, &len);
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  assert_int_equal(cnv_deleg_link_hash(tok, len, 0, hash), CNV_OK);
  char revoked[160];
  snprintf(revoked, sizeof revoked, "%s/revoked.txt", f.dir);
  write_hex(revoked, hash, sizeof hash);
  char *argv[] = {CNV_BIN, "serve", "--listen", "tcp:127.0.0.1:0", "--key", f.key, "--trust",
                  f.pub, "--swarm", "11", "--revoked", revoked, NULL};
  proc p = spawn(argv);
  char addr[1][CNV_SERVER_ADDRESS_MAX];
  read_listening(&p, addr, 1);
  sc_client c;
  assert_true(sc_open(&c, addr[0], bad.sk, server.pk, tok, len));
  assert_int_equal(sc_handshake(&c), CNV_ESESSION_PEER_ERROR);
  assert_int_equal(cnv_session_peer_status(c.s), CNV_ERT_DENY_REVOKED);
  sc_close(&c);
  client(&c, addr[0], &server, &root, 10);
  sc_msg m;
  sc_call(&c, 1, "demo.echo --text fine", &m);
  expect_text(&m, "fine");
  sc_close(&c);
  assert_int_equal(kill(p.pid, SIGINT), 0);
  assert_int_equal(wait_exit(&p), 0);
  assert_int_equal(unlink(revoked), 0);
  remove_files(&f);
}

static void test_serve_errors(void **state) {
  (void)state;
  tkey server, root;
  files f;
  make_files(&f, &server, &root);
  char *usage[] = {CNV_BIN, "serve", "--listen", "udp:1", "--key", f.key, "--trust", f.pub, NULL};
  proc p = spawn(usage);
  assert_int_equal(wait_exit(&p), 2);
  char *no_trust[] = {CNV_BIN, "serve", "--listen", "tcp:127.0.0.1:0", "--key", f.key, NULL};
  p = spawn(no_trust);
  assert_int_equal(wait_exit(&p), 2);
  char *bad_key[] = {CNV_BIN, "serve", "--listen", "tcp:127.0.0.1:0", "--key", f.pub, "--trust", f.pub, NULL};
  p = spawn(bad_key);
  assert_int_equal(wait_exit(&p), 1);
  char *bad_plugin[] = {CNV_BIN, "serve", "--listen", "tcp:127.0.0.1:0", "--key", f.key,
                        "--trust", f.pub, "--plugin", "/nonexistent.so", NULL};
  p = spawn(bad_plugin);
  assert_int_equal(wait_exit(&p), 1);
  char *bad_listen[] = {CNV_BIN, "serve", "--listen", "tcp:10.255.255.255:1", "--key", f.key, "--trust", f.pub, NULL};
  p = spawn(bad_listen);
  assert_int_equal(wait_exit(&p), 1);
  remove_files(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_serve_process, kill_live_child),
      cmocka_unit_test_teardown(test_serve_revoked, kill_live_child),
      cmocka_unit_test_teardown(test_serve_errors, kill_live_child),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
