/* cnv token: keygen -> mint -> attenuate -> verify (ok) -> revoke -> verify (revoked, exit 1);
 * a widening attempt is refused; bad files are rejected with clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli_run.h"

static cli_result r;

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})
#define OK(...) (RUN(__VA_ARGS__), assert_int_equal(r.status, 0))

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void keys(void) {
  OK("token", "keygen", "--out", "root");
  OK("token", "keygen", "--out", "alice");
  OK("token", "keygen", "--out", "bob");
  struct stat st;
  assert_int_equal(stat("root.key", &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat("root.pub", &st), 0);
  assert_int_equal(st.st_size, 65);
}

static void mint_and_attenuate(void) {
  OK("token", "mint", "--key", "root.key", "--audience", "alice.pub", "--allow", "fs.*", "--allow",
     "net.get", "--forbid", "fs.delete", "--effects", "read_only|network", "--ttl", "3600", "--uses",
     "10", "--depth", "3", "--swarm", "7", "--out", "alice.tok");
  OK("token", "attenuate", "--token", "alice.tok", "--key", "alice.key", "--audience", "bob.pub",
     "--allow", "fs.read", "--effects", "read_only", "--out", "bob.tok");
  OK("token", "inspect", "--token", "bob.tok");
  assert_non_null(strstr(r.out, "2 link(s)"));
  assert_non_null(strstr(r.out, "link 1"));
  assert_non_null(strstr(r.out, "effects     read_only\n"));
  assert_non_null(strstr(r.out, "depth       2"));
}

static void full_flow(void **state) {
  (void)state;
  keys();
  mint_and_attenuate();
  OK("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub", "--cap",
     "fs.read", "--effects", "read_only", "--swarm", "7");
  assert_string_equal(r.out, "ok\n");
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub", "--cap",
      "fs.write", "--swarm", "7");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "CNV_EDELEG_NOT_ALLOWED"));
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "alice.pub",
      "--swarm", "7");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "CNV_EDELEG_WRONG_HOLDER"));
  RUN("token", "verify", "--token", "bob.tok", "--trust", "bob.pub", "--holder", "bob.pub");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "CNV_EDELEG_UNTRUSTED_ROOT"));
  OK("token", "revoke", "--token", "alice.tok", "--revoked", "revoked.txt");
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub", "--cap",
      "fs.read", "--swarm", "7", "--revoked", "revoked.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "CNV_EDELEG_REVOKED: link (or an ancestor) has been revoked"));
}

static void widening_refused(void **state) {
  (void)state;
  RUN("token", "attenuate", "--token", "alice.tok", "--key", "alice.key", "--audience", "bob.pub",
      "--allow", "db.*", "--out", "wide.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "attenuate: link allows a capability its parent does not"));
  RUN("token", "attenuate", "--token", "alice.tok", "--key", "alice.key", "--audience", "bob.pub",
      "--effects", "privileged", "--out", "wide.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "effect ceiling exceeds"));
  RUN("token", "attenuate", "--token", "alice.tok", "--key", "bob.key", "--audience", "bob.pub",
      "--out", "wide.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "signing key does not match"));
  struct stat st;
  assert_int_not_equal(stat("wide.tok", &st), 0);
}

/* Writes n bytes (NULs included) to path. */
static void write_bytes(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* A NUL byte is malformed in every file: never trimmed as a blank, never an end of file. */
static void nul_bytes(void) {
  static char text[8192];
  FILE *f = fopen("bob.tok", "rb");
  assert_non_null(f);
  size_t n = fread(text, 1, sizeof text - 2, f);
  fclose(f);
  text[n - 1] = '\0'; /* the newline becomes a NUL, and one more follows */
  text[n] = '\0';
  write_bytes("nul.tok", text, n + 1);
  RUN("token", "inspect", "--token", "nul.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "nul.tok: not a token file"));
  f = fopen("bob.pub", "rb");
  assert_non_null(f);
  n = fread(text, 1, sizeof text, f);
  fclose(f);
  text[n - 1] = '\0';
  write_bytes("nul.pub", text, n);
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "nul.pub");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "nul.pub: not a public key file"));
  /* A NUL ahead of a revoked hash must not hide it: the file is refused (fail closed). */
  f = fopen("revoked.txt", "rb");
  assert_non_null(f);
  n = fread(text + 1, 1, sizeof text - 1, f);
  fclose(f);
  text[0] = '\0';
  write_bytes("nul-revoked.txt", text, n + 1);
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "nul-revoked.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "nul-revoked.txt:1: not a link hash"));
}

static void bad_files(void **state) {
  (void)state;
  write_text("garbage.tok", "not hex at all\n");
  RUN("token", "inspect", "--token", "garbage.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "garbage.tok: not a token file"));
  write_text("short.tok", "00112233\n");
  RUN("token", "inspect", "--token", "short.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "short.tok: bad token"));
  RUN("token", "inspect", "--token", "missing.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "missing.tok: No such file"));
  RUN("token", "mint", "--key", "root.pub", "--audience", "bob.pub", "--out", "x.tok");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "root.pub: not a secret key file"));
  write_text("bad-revoked.txt", "zz\n");
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--revoked", "bad-revoked.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "bad-revoked.txt:1: not a link hash"));
  nul_bytes();
  RUN("token", "mint", "--key", "root.key", "--audience", "bob.pub", "--allow", "Fs.*", "--out", "x.tok");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "bad pattern"));
  RUN("token", "mint", "--key", "root.key", "--audience", "bob.pub", "--effects", "teleport", "--out", "x.tok");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "unknown effect"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_flow),
      cmocka_unit_test(widening_refused),
      cmocka_unit_test(bad_files),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
