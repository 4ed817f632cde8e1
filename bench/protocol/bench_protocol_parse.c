/* parse_simple / parse_complex: our zero-copy parser vs what a C programmer writes today:
 * split the line into an argv (copying, handling quotes), then getopt_long with a long-options
 * table, collecting the values. Both parse the same lines into equivalent results. */
#include <getopt.h>
#include <string.h>

#include <cnv/protocol.h>

#include "cnv_bench.h"

static const char simple_line[] = "user.create --name=alice --role admin -v";
static const char complex_line[] =
    "fleet.node.drain --node=worker-17 --timeout 30 --reason \"scheduled kernel upgrade\" "
    "--region eu-west-1 --owner=ops --priority 2 target-a target-b --force --dry-run -v -q";

static const cnv_slice bool_flags[] = {{"force", 5}, {"dry-run", 7}};
static const cnv_parse_schema schema = {bool_flags, 2, NULL, 0, 0};

static void run_cnv(cnv_bench_state *st, const char *line) {
  size_t len = strlen(line);
  cnv_arg args[32];
  cnv_invocation inv;
  CNV_BENCH_OK(cnv_invocation_init(&inv, args, 32));
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < 256; i++) {
      cnv_bench_clobber();
      if (cnv_parse_invocation(line, len, NULL, &schema, &inv) != CNV_OK) {
        cnv_bench_skip_with_error(st, "parse failed");
        return;
      }
      cnv_bench_do_not_optimize(&inv);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

/* ---- the getopt peer ---- */

typedef struct parsed_opts {
  const char *name, *role, *node, *timeout, *reason, *region, *owner, *priority;
  int force, dry_run, verbose, quiet;
  char **positional;
  int n_positional;
} parsed_opts;

static const struct option long_opts[] = {{"name", required_argument, NULL, 'n'},
                                          {"role", required_argument, NULL, 'r'},
                                          {"node", required_argument, NULL, 'N'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {"reason", required_argument, NULL, 'R'},
                                          {"region", required_argument, NULL, 'g'},
                                          {"owner", required_argument, NULL, 'o'},
                                          {"priority", required_argument, NULL, 'p'},
                                          {"force", no_argument, NULL, 'f'},
                                          {"dry-run", no_argument, NULL, 'd'},
                                          {NULL, 0, NULL, 0}};

/* Splits on blanks into argv, copying each word into buf; quotes group words, no escapes. */
static int split_argv(const char *line, char *buf, char **argv, int max) {
  int argc = 0;
  const char *s = line;
  while (*s) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || argc == max) break;
    argv[argc++] = buf;
    while (*s && *s != ' ' && *s != '\t') {
      if (*s == '"' || *s == '\'') {
        char q = *s++;
        while (*s && *s != q) *buf++ = *s++;
        if (*s) s++;
      } else {
        *buf++ = *s++;
      }
    }
    *buf++ = '\0';
  }
  argv[argc] = NULL;
  return argc;
}

static void set_opt(parsed_opts *o, int c) {
  switch (c) {
    case 'n':
      o->name = optarg;
      break;
    case 'r':
      o->role = optarg;
      break;
    case 'N':
      o->node = optarg;
      break;
    case 't':
      o->timeout = optarg;
      break;
    case 'R':
      o->reason = optarg;
      break;
    case 'g':
      o->region = optarg;
      break;
    case 'o':
      o->owner = optarg;
      break;
    case 'p':
      o->priority = optarg;
      break;
    case 'f':
      o->force = 1;
      break;
    case 'd':
      o->dry_run = 1;
      break;
    case 'v':
      o->verbose = 1;
      break;
    case 'q':
      o->quiet = 1;
      break;
    default:
      break;
  }
}

static int getopt_parse(const char *line, char *buf, char **argv, parsed_opts *o) {
  int argc = split_argv(line, buf, argv, 31);
  memset(o, 0, sizeof *o);
  optind = 0; /* glibc: 0 fully re-initializes getopt for a new argv */
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "vq", long_opts, NULL)) != -1;) {
    if (c == '?') return -1;
    set_opt(o, c);
  }
  o->positional = argv + optind;
  o->n_positional = argc - optind;
  return 0;
}

static void run_getopt(cnv_bench_state *st, const char *line) {
  char buf[512], *argv[32];
  parsed_opts o;
  while (cnv_bench_keep_running_batch(st, 256)) {
    for (int i = 0; i < 256; i++) {
      cnv_bench_clobber();
      if (getopt_parse(line, buf, argv, &o) != 0) {
        cnv_bench_skip_with_error(st, "getopt failed");
        return;
      }
      cnv_bench_do_not_optimize(&o);
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void parse_simple_cnv(cnv_bench_state *st) { run_cnv(st, simple_line); }
static void parse_simple_getopt(cnv_bench_state *st) { run_getopt(st, simple_line); }
static void parse_complex_cnv(cnv_bench_state *st) { run_cnv(st, complex_line); }
static void parse_complex_getopt(cnv_bench_state *st) { run_getopt(st, complex_line); }

CNV_BENCH(parse_simple_cnv, "parse_simple/cnv", 1, 0)
CNV_BENCH(parse_simple_getopt, "parse_simple/getopt", 1, 0)
CNV_BENCH(parse_complex_cnv, "parse_complex/cnv", 1, 0)
CNV_BENCH(parse_complex_getopt, "parse_complex/getopt", 1, 0)
