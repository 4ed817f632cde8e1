/* The cnv tool's internals: command table, parsed command line, shared helpers.
 * The tool reads argv as argv: every element is one argument, never re-joined or re-parsed
 * (the invocation grammar of docs/grammar.md is for invocation lines, not for the shell). */
#ifndef CNV_CLI_H
#define CNV_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (docs/cli.md): 0 success; 1 failure (a file, a refused token, a failing run, a
 * failed write); 2 usage error (what the command line says, judged without opening a file);
 * 130 interrupted by SIGINT. */
enum { CLI_EXIT_OK = 0,
       CLI_EXIT_FAIL = 1,
       CLI_EXIT_USAGE = 2,
       CLI_EXIT_INTERRUPTED = 130 };

#define CLI_MAX_ARGS 64u

/* One argument of the command line, pointing into argv. */
typedef struct cli_arg {
  const char *name; /* flag name without dashes (NULL for a positional argument) */
  size_t name_len;
  const char *value; /* the value (NULL for a flag given without one) */
  bool is_short;     /* -x: the tool has none, so it is always reported as unknown */
} cli_arg;

/* One parsed command line. */
typedef struct cli_cmd {
  cli_arg args[CLI_MAX_ARGS];
  uint32_t count;
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

/* Splits argv[first..argc) into arguments: `--name=value`; `--name value` (the next element
 * is the value unless it starts with '-' and is not "-" itself, or the flag is one of `bools`,
 * a NULL-terminated list); `-x` (short, unknown); anything else and everything after `--` is
 * positional. Prints the error and returns CLI_EXIT_USAGE on failure (too many arguments, an
 * empty flag name), CLI_EXIT_OK on success. */
int cli_cmd_parse(cli_cmd *cmd, int argc, char **argv, int first, const char *const *bools);

/* Flag lookups (long flags by name, without dashes). Each marks the flag used. The single-value
 * lookups (bool, str, u64) treat a flag given more than once as a usage error ("--name given
 * more than once"). Every value is checked: an empty value is a usage error, and so is one
 * that does not name a file (ending in '/', "." or "..") for the flags that name files
 * (--out, --token, --key, --audience, --trust, --holder, --revoked, --metrics,
 * --bench-binary, --server, --token-file, --pub, --ledger-key). Usage errors are printed and
 * set *bad (or make the lookup return false). */
/* True when --name is given; a value (--name=x) is a usage error: prints it and sets *bad. */
bool cli_flag_bool(cli_cmd *cmd, const char *name, bool *bad);
/* True when --name is given in any form (does not mark it used). */
bool cli_flag_present(const cli_cmd *cmd, const char *name);
/* Copies the value of --name into buf (NUL-terminated); false when absent. A missing value or
 * one that does not fit is a usage error: prints it and sets *bad. */
bool cli_flag_str(cli_cmd *cmd, const char *name, char *buf, size_t cap, bool *bad);
/* Parses --name as an unsigned decimal in min..max into *out (unchanged when absent); prints
 * "--name: ... min..max" and sets *bad on a malformed or out-of-range value. Returns true when
 * present and valid. */
bool cli_flag_u64(cli_cmd *cmd, const char *name, uint64_t min, uint64_t max, uint64_t *out,
                  bool *bad);
/* Calls fn for every value of the repeatable flag --name. Stops and returns false when fn
 * does; a --name without a value, or with a value refused as above, is a usage error (prints
 * it, returns false). */
bool cli_flag_each(cli_cmd *cmd, const char *name, bool (*fn)(void *ctx, const char *v, size_t n),
                   void *ctx);
/* Refuses flags given together that exclude each other (NULL-terminated list): prints
 * "--a and --b exclude each other" and returns true when more than one is present. */
bool cli_flags_exclusive(const cli_cmd *cmd, const char *const *names);
/* Takes the first positional argument not taken yet (marks it used) into buf. A missing,
 * empty or too long one is a usage error: prints "<what> is required" (or why) and returns
 * false. */
bool cli_positional(cli_cmd *cmd, const char *what, char *buf, size_t cap);
/* After the lookups: prints the first unused or positional argument as a usage error. */
bool cli_cmd_unknown(const cli_cmd *cmd);

/* Prints "cnv: <what>: <cnv_strerror(status)>" to stderr. */
void cli_error(const char *what, int status);
/* Prints "cnv: <message>" to stderr (printf-style). */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Files. cli_read_file: whole-file read of a regular file (anything else, a FIFO included, is
 * refused without blocking on it) of at most 1 MiB, NUL-terminated for convenience; *len
 * excludes the NUL, and readers must use *len: the text may hold NUL bytes.
 * cli_read_file_max: the same with a cap of max bytes. cli_read_secret: the same for a secret
 * key file, whose identity (st_dev, st_ino) is remembered so that no write of this command
 * replaces it; a file that group or others may access (mode & 077) is used, with a warning
 * on stderr ("cnv: warning: PATH: secret key file is open to group or others"). Free the
 * buffer with cli_file_free, which wipes it first (key files hold secrets). cli_write_file: writes data to a temporary file in the same folder with the given
 * mode and renames it over path (so path never holds a partial file), after cli_may_replace.
 * All print their own errors with the system's reason and return false on failure. */
bool cli_read_file(const char *path, char **out, size_t *len);
bool cli_read_file_max(const char *path, size_t max, char **out, size_t *len);
bool cli_read_secret(const char *path, char **out, size_t *len);
void cli_file_free(char *buf, size_t len);
bool cli_write_file(const char *path, const void *data, size_t len, unsigned mode);
/* As cli_write_file, but the temporary file is linked into place only where path does not
 * exist: an existing path is refused (printed), never replaced. */
bool cli_write_file_new(const char *path, const void *data, size_t len, unsigned mode);
/* Whether a write may replace path: absent, or a regular file that this command did not read
 * as a secret key. Prints why not ("exists and is not a regular file", "holds the secret key
 * read as --key") and returns false otherwise. */
bool cli_may_replace(const char *path);

#define CLI_TMP_PATH_CAP 4200

/* A temporary file beside `path` for writing it atomically. cli_tmp_open checks
 * cli_may_replace(path) and creates it (mode 0600, registered for removal by the signal
 * handler); cli_tmp_write writes all of data (false with errno set on failure);
 * cli_tmp_finish sets `mode`, syncs and closes it (removes it on failure); cli_tmp_place
 * renames it over path (checking cli_may_replace again), or with `exclusive` links it there
 * (refusing an existing path) and removes the temporary name; cli_tmp_discard closes and
 * removes it. After place or discard the temporary name is no longer registered. Errors
 * print the path and the system's reason. */
typedef struct cli_tmp {
  char path[CLI_TMP_PATH_CAP];
  int fd;
  int slot; /* registration with the signal handler (cli_tmp_create), -1 for none */
} cli_tmp;
bool cli_tmp_open(cli_tmp *t, const char *path);
bool cli_tmp_write(cli_tmp *t, const void *data, size_t len);
bool cli_tmp_finish(cli_tmp *t, const char *path, unsigned mode);
bool cli_tmp_place(cli_tmp *t, const char *path, bool exclusive);
void cli_tmp_discard(cli_tmp *t);

/* Signals (cleanup.c). cli_signals_init, called by main before any command: SIGPIPE is
 * ignored (a broken pipe is an EPIPE write error, exit 1) and SIGINT, SIGTERM and SIGHUP run a
 * handler that removes every registered temporary file, passes the signal on to the child set
 * by cli_cleanup_child, and then dies of the signal. A verb may install its own handler for
 * one of them; it should then call cli_cleanup_now, which is async-signal-safe.
 * cli_tmp_create: mkostemp(tmpl) (O_CLOEXEC) with the three signals blocked until the name is
 * registered in *slot, so no signal can leave it behind; returns the fd, or -1 with errno set.
 * cli_cleanup_forget unregisters a slot (before its name is renamed or removed; -1 is
 * ignored). cli_signals_block blocks the three signals, saving the previous mask in *old, and
 * cli_signals_restore sets that mask again (so a caller's own blocking is kept); both print
 * and return false on failure. cli_signals_default restores the default actions of all four (in a child
 * before exec). Main thread only, except cli_cleanup_now. */
bool cli_signals_init(void);
bool cli_signals_block(sigset_t *old);
bool cli_signals_restore(const sigset_t *old);
bool cli_signals_default(void);
int cli_tmp_create(char *tmpl, int *slot);
void cli_cleanup_forget(int slot);
void cli_cleanup_child(int pid);
void cli_cleanup_now(void);

/* NATS (nats_opts.c): what `cnv serve --nats`, `cnv call --nats` and `cnv swarm status|revoke|
 * trust` share. cli_nats_servers_check: a usage check of a --nats value, a comma-separated list
 * of nats://HOST:PORT (or tls://HOST:PORT) with PORT 1..65535, at most 4095 bytes; prints why
 * not. cli_nats_flags: --nats (checked) into servers (cap bytes) and --swarm (1..2^64-1) into
 * *swarm, both required (usage errors printed, false). cli_trust_roots: every --trust file's
 * key into roots (at most CLI_MAX_ROOTS), *n their count; prints and returns false on a file
 * that cannot be read, or none given. */
#define CLI_MAX_ROOTS 16u
bool cli_nats_servers_check(const char *list);
bool cli_nats_flags(cli_cmd *cmd, char *servers, size_t cap, uint64_t *swarm);
bool cli_trust_roots(cli_cmd *cmd, uint8_t *roots, size_t *n);

/* The swarm's NATS verbs (swarm_nats.c). */
int cli_swarm_status(cli_cmd *cmd);
int cli_swarm_revoke(cli_cmd *cmd);
int cli_swarm_trust(cli_cmd *cmd);

/* Nouns (each file defines one). */
extern const cli_noun cli_noun_token;
extern const cli_noun cli_noun_swarm;
extern const cli_noun cli_noun_bench;
extern const cli_noun cli_noun_serve;
extern const cli_noun cli_noun_mcp;
extern const cli_noun cli_noun_ledger;
extern const cli_noun cli_noun_receipt;
extern const cli_noun cli_noun_graph;
/* `cnv call` parses its own command line (the invocation after its options is not the
 * tool's): argv[first..argc). Returns an exit code. */
extern const cli_noun cli_noun_call;
int cli_call_main(int argc, char **argv, int first);

#endif
