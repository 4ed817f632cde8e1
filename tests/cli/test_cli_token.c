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
  /* Both links carry --uses 10 (attenuate starts from the parent's): verify says it did not
   * count them. */
  assert_string_equal(r.out,
                      "ok\nuses: not checked (verify does not track uses; 2 link(s) are "
                      "use-limited)\n");
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

/* A token with no use-limited link verifies with "ok" alone; one limited link is counted. */
static void uses_not_checked(void **state) {
  (void)state;
  OK("token", "mint", "--key", "root.key", "--audience", "alice.pub", "--allow", "fs.*", "--out",
     "free.tok");
  OK("token", "verify", "--token", "free.tok", "--trust", "root.pub", "--holder", "alice.pub");
  assert_string_equal(r.out, "ok\n");
  OK("token", "attenuate", "--token", "free.tok", "--key", "alice.key", "--audience", "bob.pub",
     "--uses", "1", "--out", "once.tok");
  for (int i = 0; i < 2; i++) { /* the single use is never spent by verify */
    OK("token", "verify", "--token", "once.tok", "--trust", "root.pub", "--holder", "bob.pub");
    assert_string_equal(r.out,
                        "ok\nuses: not checked (verify does not track uses; 1 link(s) are "
                        "use-limited)\n");
  }
}

/* Every --revoked file counts, in either order (a "last one wins" reading would let the token
 * through with the unrelated file last), and one bad file refuses the whole command. */
static void revoked_files_union(void **state) {
  (void)state;
  const char *unrelated = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  write_text("other.txt", unrelated);
  write_text("none.txt", "");
  const char *orders[][2] = {{"revoked.txt", "other.txt"}, {"other.txt", "revoked.txt"}};
  for (size_t i = 0; i < 2; i++) {
    RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
        "--swarm", "7", "--revoked", orders[i][0], "--revoked", orders[i][1]);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "CNV_EDELEG_REVOKED"));
    assert_string_equal(r.out, "");
  }
  /* bob's own link revoked in a third file: the first revoked link of the union is named. */
  OK("token", "revoke", "--token", "bob.tok", "--revoked", "bob-revoked.txt");
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "none.txt", "--revoked", "other.txt", "--revoked", "bob-revoked.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "CNV_EDELEG_REVOKED: link (or an ancestor) has been revoked (link 1)"));
  OK("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub", "--swarm",
     "7", "--revoked", "none.txt", "--revoked", "other.txt");
  /* A good first file does not excuse a bad second one. */
  write_text("bad.txt", "not a hash\n");
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "other.txt", "--revoked", "bad.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "bad.txt:1: not a link hash"));
  assert_string_equal(r.out, "");
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "other.txt", "--revoked", "missing.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "missing.txt: No such file"));
  /* Every value is judged before any file is read: a folder name in the second is usage. */
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--revoked", "other.txt", "--revoked", "d/");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--revoked: not a file name"));
  /* revoke appends to one file: twice there is still a usage error. */
  RUN("token", "revoke", "--token", "bob.tok", "--revoked", "a.txt", "--revoked", "b.txt");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "--revoked given more than once"));
}

/* Writes n bytes (NULs included) to path. */
static void write_bytes(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* A zero-filled block (what a crash during an append can leave) refuses the file wherever it
 * lies: after every hash, or between an unrelated hash and the one that revokes. */
static void revoked_zero_block(void **state) {
  (void)state;
  static char text[16384];
  FILE *f = fopen("revoked.txt", "rb");
  assert_non_null(f);
  size_t n = fread(text, 1, 65, f);
  fclose(f);
  assert_int_equal(n, 65);
  memset(text + 65, 0, 4096); /* the revoking hash, then a block of zeros */
  write_bytes("zero-after.txt", text, 65 + 4096);
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "zero-after.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "zero-after.txt:2: not a link hash"));
  const char *unrelated = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  memcpy(text, unrelated, 65);
  memset(text + 65, 0, 4096);
  f = fopen("revoked.txt", "rb");
  assert_non_null(f);
  assert_int_equal(fread(text + 65 + 4096, 1, 65, f), 65);
  fclose(f);
  write_bytes("zero-between.txt", text, 65 + 4096 + 65);
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "zero-between.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "zero-between.txt:2: not a link hash"));
  /* Zeros alone, with a newline after them: still no blank line. */
  memset(text, 0, 4096);
  text[4096] = '\n';
  write_bytes("zero-only.txt", text, 4097);
  RUN("token", "verify", "--token", "bob.tok", "--trust", "root.pub", "--holder", "bob.pub",
      "--swarm", "7", "--revoked", "zero-only.txt");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "zero-only.txt:1: not a link hash"));
}

/* A secret key file open to group or others is used, with a warning; one of mode 0600 (as
 * keygen writes it) gives none. */
static void secret_key_mode_warning(void **state) {
  (void)state;
  OK("token", "mint", "--key", "root.key", "--audience", "alice.pub", "--out", "m.tok");
  assert_null(strstr(r.err, "warning"));
  const unsigned modes[] = {0640, 0604, 0660, 0700 | 0001};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    char expect[160];
    assert_int_equal(chmod("root.key", modes[i]), 0);
    OK("token", "mint", "--key", "root.key", "--audience", "alice.pub", "--out", "m.tok");
    snprintf(expect, sizeof expect,
             "cnv: warning: root.key: secret key file is open to group or others (mode %04o)",
             modes[i]);
    if (!strstr(r.err, expect)) fail_msg("stderr: %s", r.err);
  }
  assert_int_equal(chmod("root.key", 0600), 0);
  OK("token", "attenuate", "--token", "m.tok", "--key", "alice.key", "--audience", "bob.pub", "--out",
     "m2.tok");
  assert_null(strstr(r.err, "warning"));
  OK("token", "verify", "--token", "m2.tok", "--trust", "root.pub", "--holder", "bob.pub");
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
      cmocka_unit_test(uses_not_checked),
      cmocka_unit_test(revoked_files_union),
      cmocka_unit_test(revoked_zero_block),
      cmocka_unit_test(secret_key_mode_warning),
      cmocka_unit_test(widening_refused),
      cmocka_unit_test(bad_files),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
