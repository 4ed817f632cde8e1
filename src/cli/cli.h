/* The cnv tool's internals: command table, parsed command line, shared helpers.
 * The tool joins argv into one invocation line ("noun.verb args...") and parses it with the
 * library's own parser (cnv_parse_invocation), so the tool speaks the grammar it serves. */
#ifndef CNV_CLI_H
#define CNV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnv/protocol.h"

/* Exit codes: 0 success, 1 runtime failure, 2 usage error. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

#define CLI_MAX_ARGS 64u
#define CLI_LINE_MAX 8192u

/* One parsed command line: the joined line and the parser's view of it. */
typedef struct cli_cmd {
  char line[CLI_LINE_MAX];
  cnv_arg args[CLI_MAX_ARGS];
  cnv_invocation inv;
  bool used[CLI_MAX_ARGS]; /* flags looked up by the command (the rest are unknown) */
} cli_cmd;

/* A verb: its name, one-line summary, usage text and handler (returns an exit code). */
typedef struct cli_verb {
  const char *name;
  const char *summary;
  const char *usage;
  const char *const *bools; /* flags that never take a value (NULL-terminated), or NULL */
  int (*run)(cli_cmd *cmd);
} cli_verb;

typedef struct cli_noun {
  const char *name;
  const char *summary;
  const cli_verb *verbs;
  size_t n_verbs;
  const char *default_verb; /* run when no verb is given (NULL: print the noun's help) */
} cli_noun;

/* Joins argv[first..argc) after `path` into cmd->line (quoting where needed) and parses it.
 * Bool flags named in `bools` (NULL-terminated list) never take a value. Prints the error
 * and returns CLI_EXIT_USAGE on failure, CLI_EXIT_OK on success. */
int cli_cmd_parse(cli_cmd *cmd, const char *path, int argc, char **argv, int first,
                  const char *const *bools);

/* Flag lookups (long flags by name, without dashes). Each marks the flag used. */
/* True when --name is given; a value (--name=x) is a usage error: prints it and sets *bad. */
bool cli_flag_bool(cli_cmd *cmd, const char *name, bool *bad);
/* Copies the value of --name into buf (NUL-terminated); false when absent. A value that does
 * not fit is a usage error: prints it and sets *bad. */
bool cli_flag_str(cli_cmd *cmd, const char *name, char *buf, size_t cap, bool *bad);
/* Parses --name as an unsigned decimal into *out (unchanged when absent); prints and sets *bad
 * on a malformed value or one above max. Returns true when present. */
bool cli_flag_u64(cli_cmd *cmd, const char *name, uint64_t max, uint64_t *out, bool *bad);
/* Calls fn for every value of the repeatable flag --name. Stops and returns false when fn
 * does. */
bool cli_flag_each(cli_cmd *cmd, const char *name, bool (*fn)(void *ctx, const char *v, size_t n),
                   void *ctx);
/* After the lookups: prints the first unused or positional argument as a usage error. */
bool cli_cmd_unknown(const cli_cmd *cmd);

/* Prints "cnv: <what>: <cnv_strerror(status)>" to stderr. */
void cli_error(const char *what, int status);
/* Prints "cnv: <message>" to stderr (printf-style). */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Files: whole-file read (NUL-terminated, *len excludes the NUL) and atomic-ish write with a
 * mode. Print their own errors; return false on failure. Caller frees *out. */
bool cli_read_file(const char *path, char **out, size_t *len);
bool cli_write_file(const char *path, const void *data, size_t len, unsigned mode);
/* Hex helpers: encode n bytes into out (2n+1 chars); decode exactly n bytes from text,
 * ignoring surrounding whitespace. */
void cli_hex(const uint8_t *in, size_t n, char *out);
bool cli_unhex(const char *text, size_t len, uint8_t *out, size_t n);

/* Nouns (each file defines one). */
extern const cli_noun cli_noun_token;
extern const cli_noun cli_noun_swarm;
extern const cli_noun cli_noun_bench;

#endif
