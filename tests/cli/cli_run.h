/* Runs the cnv tool as a child process for the tool's tests. */
#ifndef CNV_TESTS_CLI_RUN_H
#define CNV_TESTS_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct cli_result {
  int status;      /* exit status, or -1 when the child did not exit normally */
  char out[16384]; /* stdout (truncated to fit, NUL-terminated) */
  char err[4096];  /* stderr */
} cli_result;

/* Makes a fresh temporary directory, chdirs into it; returns its path (static storage). */
const char *cli_tmpdir(void);
/* Runs `cnv args...` (argv-style, NULL-terminated) in the current directory; fills *r. */
void cli_run(cli_result *r, const char *const *args);
/* As cli_run with stdout going to out_path (a file, or /dev/full). */
void cli_run_to(cli_result *r, const char *out_path, const char *const *args);
/* Starts `cnv args...` with stdout to out_path and returns its pid; cli_wait waits for it and
 * fills *r (out stays empty for /dev/full). */
pid_t cli_start(const char *out_path, const char *const *args);
void cli_wait(cli_result *r, pid_t pid, const char *out_path);
/* In the current folder, with the tool: keys root and agent (root.key/.pub, agent.key/.pub)
 * and agent.tok, root's token for agent allowing demo.* with the demos' effect (read_only).
 * False at the first run that fails (*r holds it). */
bool cli_make_demo_agent(cli_result *r);
/* Reads up to cap - 1 bytes of path into buf, NUL-terminated; false (buf empty) when the file
 * cannot be opened. */
bool cli_slurp(const char *path, char *buf, size_t cap);
/* In a cmocka test (cmocka.h included first): the run in *r exited with `code` and its
 * stderr contains `text`. */
#define CLI_EXPECT(r, code, text)                                  \
  do {                                                             \
    assert_int_equal((r)->status, code);                           \
    if (!strstr((r)->err, text)) fail_msg("stderr: %s", (r)->err); \
  } while (0)
/* Whether path exists (lstat: a dangling link counts). */
bool cli_exists(const char *path);
/* Fails the cmocka test (cmocka.h included first) when the current folder holds a file that
 * the tool leaves only by mistake: a temporary name (NAME.tmp-XXXXXX) or a kept-aside pair
 * (NAME.old-XXXXXX). */
#define CLI_NO_TEMPORARIES()                               \
  do {                                                     \
    const char *left_ = cli_leftover();                    \
    if (left_) fail_msg("temporary file left: %s", left_); \
  } while (0)
/* The name of the first such file in the current folder (static storage), or NULL. */
const char *cli_leftover(void);
/* Removes the temporary directory made by cli_tmpdir. */
void cli_tmpdir_remove(void);

#endif
