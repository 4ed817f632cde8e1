/* cnv: the libcnv command-line tool. `cnv <noun> [<verb>] [flags]`; --help at every level. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cnv/core.h"

static const cli_noun *const nouns[] = {&cli_noun_swarm, &cli_noun_token, &cli_noun_serve, &cli_noun_mcp,
                                        &cli_noun_bench, &cli_noun_ledger, &cli_noun_receipt, &cli_noun_call, &cli_noun_graph};
#define N_NOUNS (sizeof nouns / sizeof nouns[0])

static bool is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

static int top_help(FILE *out) {
  fprintf(out, "usage: cnv <noun> <verb> [flags]\n\nlibcnv %s command-line tool.\n\nnouns:\n",
          cnv_version());
  for (size_t i = 0; i < N_NOUNS; i++) fprintf(out, "  %-8s %s\n", nouns[i]->name, nouns[i]->summary);
  fprintf(out,
          "\n`cnv <noun> --help` lists a noun's verbs; `cnv <noun> <verb> --help` its flags.\n"
          "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (see docs/cli.md).\n");
  return out == stdout ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int noun_help(const cli_noun *n, FILE *out) {
  fprintf(out, "usage: cnv %s <verb> [flags]\n\n%s\n\nverbs:\n", n->name, n->summary);
  for (size_t i = 0; i < n->n_verbs; i++) fprintf(out, "  %-10s %s\n", n->verbs[i].name, n->verbs[i].summary);
  return out == stdout ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static const cli_noun *find_noun(const char *name) {
  for (size_t i = 0; i < N_NOUNS; i++) {
    if (strcmp(nouns[i]->name, name) == 0) return nouns[i];
  }
  return NULL;
}

static const cli_verb *find_verb(const cli_noun *n, const char *name) {
  for (size_t i = 0; i < n->n_verbs; i++) {
    if (strcmp(n->verbs[i].name, name) == 0) return &n->verbs[i];
  }
  return NULL;
}

static int run_verb(const cli_noun *n, const cli_verb *v, int argc, char **argv, int first) {
  for (int i = first; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (is_help(argv[i])) {
      printf("usage: cnv %s %s %s\n", n->name, v->name, v->usage);
      return CLI_EXIT_OK;
    }
  }
  static cli_cmd cmd;
  int rc = cli_cmd_parse(&cmd, argc, argv, first, v->bools);
  return rc != CLI_EXIT_OK ? rc : v->run(&cmd);
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) return top_help(stderr);
  if (is_help(argv[1])) return top_help(stdout);
  const cli_noun *n = find_noun(argv[1]);
  if (!n) {
    fprintf(stderr, "cnv: unknown command: %s (see cnv --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
  }
  if (n == &cli_noun_call) return cli_call_main(argc, argv, 2);
  /* `cnv graph DIR ...`: graph's one verb takes its arguments with or without its name */
  if (n == &cli_noun_graph)
    return run_verb(n, &n->verbs[0], argc, argv, argc >= 3 && strcmp(argv[2], n->verbs[0].name) == 0 ? 3 : 2);
  if (argc >= 3 && argv[2][0] != '-') {
    const cli_verb *v = find_verb(n, argv[2]);
    if (!v) {
      fprintf(stderr, "cnv: unknown command: %s %s (see cnv %s --help)\n", n->name, argv[2], n->name);
      return CLI_EXIT_USAGE;
    }
    return run_verb(n, v, argc, argv, 3);
  }
  if (argc >= 3 && is_help(argv[2])) return noun_help(n, stdout);
  if (n->default_verb) return run_verb(n, find_verb(n, n->default_verb), argc, argv, 2);
  return noun_help(n, stderr);
}

/* Opens /dev/null on each of fds 0, 1 and 2 that is closed, so that no file the tool opens
 * becomes a standard stream (a token written to stdout, an error into a key file); reports
 * whether stdout was closed. False when one cannot be opened. */
static bool std_fds(bool *stdout_closed) {
  *stdout_closed = false;
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    if (fd == STDOUT_FILENO) *stdout_closed = true;
    int got = open("/dev/null", (fd == 0 ? O_RDONLY : O_WRONLY) | O_NOCTTY);
    if (got != fd) { /* the lowest free fd is fd: 0..fd-1 are open */
      if (got >= 0) close(got);
      return false;
    }
  }
  return true;
}

/* Output that did not reach stdout (a full disk, a closed pipe) is a failure: exit 1 with
 * the reason rather than 0 with the output lost (a command that failed already said why).
 * A closed stdout is refused before any work. */
int main(int argc, char **argv) {
  bool stdout_closed = false;
  if (!std_fds(&stdout_closed)) return CLI_EXIT_FAIL;
  if (stdout_closed) {
    fprintf(stderr, "cnv: standard output is closed\n");
    return CLI_EXIT_FAIL;
  }
  if (!cli_signals_init()) return CLI_EXIT_FAIL;
  int rc = dispatch(argc, argv);
  errno = 0;
  bool lost = fflush(stdout) != 0 || ferror(stdout);
  int err = errno;
  if (fclose(stdout) != 0 && !lost) lost = true, err = errno;
  if (lost && rc == CLI_EXIT_OK) {
    fprintf(stderr, "cnv: cannot write to standard output: %s\n", err ? strerror(err) : "write error");
    return CLI_EXIT_FAIL;
  }
  return rc;
}
