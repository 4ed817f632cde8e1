/* docs/cli.md's `cnv token` example, run as the docs write it: every indented `$ cnv ...` line
 * of that section (continuation lines and `&&` chains included) is run in order, and the
 * output shown under it is checked: stdout lines exactly, `cnv: ...` lines as lines of stderr,
 * `# exit N` as the exit status (0 when none is shown). Then the documented outcome of its
 * forbid is checked directly: the root token forbids fs.delete and fs.delete.all and allows
 * the rest of fs.*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_run.h"

#define MAX_WORDS 64
#define LINE_CAP 2048

static cli_result r;
static char doc[1 << 17];

/* Whether `line` (without its newline) is a whole line of text. */
static bool has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
    if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return true;
  }
  return false;
}

/* Splits a command line into words: blanks separate, '...' quotes, `&&` is a word of its
 * own. Any other shell syntax fails the test (the example must be runnable as argv). */
static size_t split(char *cmd, char **words) {
  size_t n = 0;
  char *out = cmd; /* words are rewritten in place, never past p (out <= p) */
  for (char *p = cmd; *p;) {
    while (*p == ' ') p++;
    if (!*p) break;
    if (n == MAX_WORDS) fail_msg("too many words: %s", cmd);
    words[n++] = out;
    if (strncmp(p, "&&", 2) == 0 && (p[2] == ' ' || !p[2])) {
      memcpy(out, "&&", 2);
      out += 2, p += 2;
    }
    for (; *p && *p != ' '; p++) {
      if (*p == '\'') {
        char *end = strchr(p + 1, '\'');
        if (!end) fail_msg("unclosed quote");
        memmove(out, p + 1, (size_t)(end - p - 1));
        out += end - p - 1;
        p = end;
      } else if (strchr("\"\\|<>;$`()*?~#&", *p)) {
        fail_msg("shell syntax the test does not run: %s", p);
      } else {
        *out++ = *p;
      }
    }
    if (*p) p++; /* past the blank before out may overwrite it */
    *out++ = '\0';
  }
  return n;
}

/* Runs one `$` line (with its continuations joined) and checks the expected lines under it. */
static unsigned run_example(char *cmd, char expect[][LINE_CAP], size_t n_expect) {
  char *words[MAX_WORDS + 1];
  size_t n = split(cmd, words);
  int status = 0;
  char out[4096] = "";
  for (size_t i = 0; i < n_expect; i++) {
    char *e = expect[i], *mark = strstr(e, "# exit ");
    if (mark) {
      status = atoi(mark + 7);
      while (mark > e && mark[-1] == ' ') mark--;
      *mark = '\0';
    }
    if (strncmp(e, "cnv: ", 5) == 0) continue;
    if (strlen(out) + strlen(e) + 2 > sizeof out) fail_msg("expected output too long");
    strcat(strcat(out, e), "\n");
  }
  unsigned runs = 0;
  for (size_t first = 0; first < n;) {
    size_t last = first;
    while (last < n && strcmp(words[last], "&&") != 0) last++;
    if (last - first < 3 || strcmp(words[first], "cnv") != 0) fail_msg("not a cnv noun verb ...: %s", cmd);
    bool final = last == n;
    words[last] = NULL;
    cli_run(&r, (const char *const *)words + first + 1);
    runs++;
    if (r.status != (final ? status : 0))
      fail_msg("%s %s %s: exit %d, expected %d; stderr: %s", words[first], words[first + 1],
               words[first + 2], r.status, final ? status : 0, r.err);
    if (final && n_expect > 0) {
      if (strcmp(r.out, out) != 0) fail_msg("%s: stdout\n%s\nexpected\n%s", words[first + 2], r.out, out);
      for (size_t i = 0; i < n_expect; i++) {
        if (strncmp(expect[i], "cnv: ", 5) == 0 && !has_line(r.err, expect[i]))
          fail_msg("stderr\n%s\nlacks the line\n%s", r.err, expect[i]);
      }
    }
    first = last + 1;
  }
  return runs;
}

/* The `cnv token` section of docs/cli.md (up to the next `## ` heading). */
static char *token_section(void) {
  assert_true(cli_slurp(CNV_DOCS_CLI_MD, doc, sizeof doc));
  char *start = strstr(doc, "\n## `cnv token`\n");
  assert_non_null(start);
  char *end = strstr(start + 1, "\n## ");
  if (end) *end = '\0';
  return start;
}

/* The line after *rest (empty lines included, NUL-terminated in place), or NULL at the end. */
static char *next_line(char **rest) {
  char *line = *rest;
  if (!line) return NULL;
  char *nl = strchr(line, '\n');
  if (nl) *nl = '\0';
  *rest = nl ? nl + 1 : NULL;
  return line;
}

static void token_example_as_written(void **state) {
  (void)state;
  static char expect[16][LINE_CAP];
  char cmd[LINE_CAP];
  unsigned runs = 0, forbid_lines = 0;
  char *rest = token_section() + 1;
  char *line = next_line(&rest);
  while (line) {
    if (strncmp(line, "    $ ", 6) != 0) {
      line = next_line(&rest);
      continue;
    }
    cmd[0] = '\0';
    for (;;) { /* the command, with its `\` continuations */
      while (*line == ' ' || *line == '$') line++;
      size_t len = strlen(line);
      bool more = len > 0 && line[len - 1] == '\\';
      if (strlen(cmd) + len + 2 > sizeof cmd) fail_msg("command too long");
      strncat(cmd, line, more ? len - 1 : len);
      if (!more) break;
      line = next_line(&rest);
      assert_non_null(line);
    }
    size_t n_expect = 0;
    while ((line = next_line(&rest)) != NULL && strncmp(line, "    ", 4) == 0 &&
           strncmp(line, "    $ ", 6) != 0) {
      if (n_expect == 16) fail_msg("too many output lines");
      snprintf(expect[n_expect++], LINE_CAP, "%s", line + 4);
      forbid_lines += strstr(line, "CNV_EDELEG_FORBIDDEN") != NULL;
    }
    runs += run_example(cmd, expect, n_expect);
  }
  /* keygen x3, mint, verify x3, attenuate, inspect, verify, revoke, verify, attenuate */
  assert_true(runs >= 13);
  assert_int_equal(forbid_lines, 2);
}

#define RUN(...) cli_run(&r, (const char *const[]){__VA_ARGS__, NULL})

/* The outcome the docs state for the example's forbid, whatever lines they show. */
static void forbid_outcome(void **state) {
  (void)state;
  const char *forbidden[] = {"fs.delete", "fs.delete.all"};
  for (size_t i = 0; i < 2; i++) {
    RUN("token", "verify", "--token", "alice.tok", "--trust", "root.pub", "--holder", "alice.pub",
        "--swarm", "7", "--cap", forbidden[i]);
    CLI_EXPECT(&r, 1, "CNV_EDELEG_FORBIDDEN");
  }
  const char *allowed[] = {"fs.read", "fs.write", "fs.delete-not", "fs.read.all"};
  for (size_t i = 0; i < 4; i++) {
    RUN("token", "verify", "--token", "alice.tok", "--trust", "root.pub", "--holder", "alice.pub",
        "--swarm", "7", "--cap", allowed[i]);
    assert_int_equal(r.status, 0);
  }
  /* The prefix the docs say does not exist is refused as a pattern. */
  RUN("token", "mint", "--key", "root.key", "--audience", "alice.pub", "--forbid", "fs.delete.*",
      "--out", "deeper.tok");
  CLI_EXPECT(&r, 2, "bad pattern \"fs.delete.*\"");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(token_example_as_written),
      cmocka_unit_test(forbid_outcome),
  };
  cli_tmpdir();
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cli_tmpdir_remove();
  return failed;
}
