/* `cnv bench`: runs cnv_bench (found as bench_run says) with JSON output (--benchmark_out) into a temporary
 * file, reads it (json.c) and prints each `<case>` with our figure, each peer's and the ratio. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

#define MAX_RESULTS 512
/* The JSON of cnv_bench holds one entry per run of every case, so --repetitions (up to 1000)
 * takes it far past the 1 MiB of cli_read_file. */
#define BENCH_JSON_MAX ((size_t)256 << 20)

typedef struct result {
  char bcase[128], impl[64];
  double ips;
  bool median;
} result;

typedef struct results {
  result r[MAX_RESULTS];
  size_t n;
} results;

/* Keeps one figure per case/impl: the median aggregate when present, else the first run. */
static bool collect(void *ctx, const bench_entry *e) {
  results *rs = ctx;
  bool aggregate = strcmp(e->run_type, "aggregate") == 0;
  if (e->error || !e->has_items || (aggregate && strcmp(e->aggregate, "median") != 0)) return true;
  char *slash = strchr(e->name, '/');
  if (!slash) return true;
  const char *impl = slash + 1;
  size_t clen = (size_t)(slash - e->name), ilen = strcspn(impl, "/");
  char bcase[sizeof rs->r[0].bcase];
  if (clen >= sizeof bcase || ilen >= sizeof rs->r[0].impl) return true;
  memcpy(bcase, e->name, clen);
  bcase[clen] = '\0';
  /* `<case>/<impl>/<size>` (the graph cases): the size joins the case ("graph_reach/1000"),
   * so impls are compared at one size. */
  if (impl[ilen] == '/') {
    const char *size = impl + ilen + 1;
    size_t slen = strspn(size, "0123456789");
    if (slen > 0 && (size[slen] == '/' || size[slen] == '\0')) {
      if (clen + 1 + slen >= sizeof bcase) return true;
      bcase[clen] = '/';
      memcpy(bcase + clen + 1, size, slen);
      bcase[clen + 1 + slen] = '\0';
    }
  }
  result *slot = NULL;
  for (size_t i = 0; i < rs->n && !slot; i++) {
    result *r = &rs->r[i];
    if (strcmp(r->bcase, bcase) == 0 && strlen(r->impl) == ilen && strncmp(r->impl, impl, ilen) == 0) slot = r;
  }
  if (!slot) {
    if (rs->n == MAX_RESULTS) return true;
    slot = &rs->r[rs->n++];
    memcpy(slot->bcase, bcase, strlen(bcase) + 1);
    memcpy(slot->impl, impl, ilen);
    slot->impl[ilen] = '\0';
    slot->median = false;
    slot->ips = e->items_per_second;
  }
  if (aggregate || !slot->median) slot->ips = e->items_per_second;
  slot->median = slot->median || aggregate;
  return true;
}

static void print_table(const results *rs) {
  printf("%-32s %-14s %14s %-14s %14s %8s\n", "case", "ours", "items/s", "peer", "items/s", "ratio");
  for (size_t i = 0; i < rs->n; i++) {
    const result *o = &rs->r[i];
    if (strncmp(o->impl, "cnv", 3) != 0) continue;
    bool peers = false;
    for (size_t j = 0; j < rs->n; j++) {
      const result *p = &rs->r[j];
      if (strcmp(p->bcase, o->bcase) != 0 || strncmp(p->impl, "cnv", 3) == 0 || p->ips <= 0) continue;
      printf("%-32s %-14s %14.4g %-14s %14.4g %7.2fx\n", o->bcase, o->impl, o->ips, p->impl, p->ips,
             o->ips / p->ips);
      peers = true;
    }
    if (!peers) printf("%-32s %-14s %14.4g %-14s %14s %8s\n", o->bcase, o->impl, o->ips, "-", "-", "-");
  }
}

/* Whether `path` names an executable file; copies it into out. */
static bool try_binary(const char *path, char *out, size_t cap) {
  if (access(path, X_OK) != 0 || (size_t)snprintf(out, cap, "%s", path) >= cap) return false;
  return true;
}

/* cnv_bench beside this executable (an installed copy), then in the build tree
 * (build/src/cli/cnv -> build/bench/cnv_bench), then on PATH. */
static bool find_binary(char *out, size_t cap) {
  char self[PATH_MAX], cand[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    snprintf(cand, sizeof cand, "%s/cnv_bench", self);
    if (try_binary(cand, out, cap)) return true;
    snprintf(cand, sizeof cand, "%s/../../bench/cnv_bench", self);
    if (try_binary(cand, out, cap)) return true;
  }
  const char *path = getenv("PATH");
  for (const char *p = path; p && *p;) {
    size_t len = strcspn(p, ":");
    if (len > 0 && len < PATH_MAX) {
      snprintf(cand, sizeof cand, "%.*s/cnv_bench", (int)len, p);
      if (try_binary(cand, out, cap)) return true;
    }
    p += len + (p[len] == ':');
  }
  return false;
}

/* Google Benchmark's warning about how the system's libbenchmark was built (Debian builds it
 * without NDEBUG): it concerns the harness library, not the code measured, so it is dropped. */
static bool harness_noise(const char *line) {
  return strstr(line, "Library was built as DEBUG") != NULL;
}

/* Runs the binary; its console report (one line per case as it finishes) goes to our stderr
 * when that is a terminal, else nowhere; its stderr is passed on without harness_noise.
 * Returns its exit status, or -1. */
static int run_child(char *const argv[]) {
  int errpipe[2];
  if (pipe(errpipe) != 0) return -1;
  bool show = isatty(STDERR_FILENO);
  fflush(NULL);
  /* The stop signals are held back until the child is registered (the handler passes them on
   * to it); the child gets the default actions back before it takes them. */
  sigset_t mask;
  if (!cli_signals_block(&mask)) return close(errpipe[0]), close(errpipe[1]), -1;
  pid_t pid = fork();
  if (pid == 0) {
    int out = show ? dup(STDERR_FILENO) : open("/dev/null", O_WRONLY);
    if (!cli_signals_default() || !cli_signals_restore(&mask)) _exit(127);
    if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(errpipe[1], STDERR_FILENO) < 0) _exit(127);
    close(errpipe[0]);
    execv(argv[0], argv);
    fprintf(stderr, "cnv: %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  if (pid > 0) cli_cleanup_child(pid);
  bool unblocked = cli_signals_restore(&mask);
  if (pid < 0) return close(errpipe[0]), close(errpipe[1]), -1;
  close(errpipe[1]);
  FILE *f = fdopen(errpipe[0], "r");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    if (!harness_noise(line)) fputs(line, stderr);
  }
  if (f)
    fclose(f);
  else
    close(errpipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return cli_cleanup_child(0), -1;
  }
  cli_cleanup_child(0);
  return unblocked && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int report(const char *file) {
  static results rs;
  char *text = NULL;
  size_t len = 0;
  char why[JSON_ERROR_CAP];
  if (!cli_read_file_max(file, BENCH_JSON_MAX, &text, &len)) return CLI_EXIT_FAIL;
  rs.n = 0;
  if (len == 0) {
    cli_file_free(text, len);
    cli_fail("no benchmark matched (cnv_bench wrote no results)");
    return CLI_EXIT_FAIL;
  }
  bool ok = json_bench_entries(text, len, collect, &rs, why);
  cli_file_free(text, len);
  if (!ok) {
    cli_fail("benchmark output is not valid JSON: %s", why);
    return CLI_EXIT_FAIL;
  }
  if (rs.n == 0) {
    cli_fail("no benchmark matched");
    return CLI_EXIT_FAIL;
  }
  print_table(&rs);
  return CLI_EXIT_OK;
}

/* Child arguments: the binary, JSON output to `out`, and our flags passed on as gbench's. */
typedef struct child_args {
  char *argv[8];
  int argc;
  char store[4][600]; /* argv[2..5]: three passed flags and --benchmark_out */
} child_args;

/* Whether `v` is a --min-time value: digits, optionally '.' and more digits, optionally 's'. */
static bool min_time_ok(const char *v) {
  size_t n = strspn(v, "0123456789");
  if (n == 0) return false;
  if (v[n] == '.') {
    size_t frac = strspn(v + n + 1, "0123456789");
    if (frac == 0) return false;
    n += 1 + frac;
  }
  if (v[n] == 's') n++;
  return v[n] == '\0';
}

/* Appends `<gbench><value of --ours>` when --ours is given. */
static void pass_flag(cli_cmd *cmd, child_args *a, const char *ours, const char *gbench, bool *bad) {
  char value[512];
  if (!cli_flag_str(cmd, ours, value, sizeof value, bad)) return;
  if (strcmp(ours, "min-time") == 0 && !min_time_ok(value)) {
    cli_fail("--min-time: not a number of seconds (like 0.5 or 0.5s): %s", value);
    *bad = true;
    return;
  }
  char *slot = a->store[a->argc - 2];
  snprintf(slot, sizeof a->store[0], "%s%s", gbench, value);
  a->argv[a->argc++] = slot;
}

/* Runs the binary into the temporary JSON file and prints the table. */
static int run_and_report(child_args *a, const char *bin) {
  char tmp[] = "/tmp/cnv-bench-XXXXXX";
  int reg = -1;
  int fd = cli_tmp_create(tmp, &reg);
  if (fd < 0) {
    cli_fail("temporary file: %s", strerror(errno));
    return CLI_EXIT_FAIL;
  }
  close(fd);
  char *slot = a->store[a->argc - 2];
  snprintf(slot, sizeof a->store[0], "--benchmark_out=%s", tmp);
  a->argv[a->argc++] = slot;
  a->argv[a->argc] = NULL;
  int status = run_child(a->argv);
  int rc = status == 0 ? report(tmp) : CLI_EXIT_FAIL;
  if (status != 0) cli_fail("%s failed (exit status %d)", bin, status);
  cli_cleanup_forget(reg);
  unlink(tmp);
  return rc;
}

static int bench_run(cli_cmd *cmd) {
  static child_args a;
  char bin[PATH_MAX];
  bool bad = false;
  a.argv[0] = bin;
  a.argv[1] = "--benchmark_out_format=json";
  a.argc = 2;
  uint64_t reps = 0;
  bool have_bin = cli_flag_str(cmd, "bench-binary", bin, sizeof bin, &bad);
  cli_flag_u64(cmd, "repetitions", 1, 1000, &reps, &bad);
  pass_flag(cmd, &a, "filter", "--benchmark_filter=", &bad);
  pass_flag(cmd, &a, "min-time", "--benchmark_min_time=", &bad);
  if (reps > 0) {
    char *slot = a.store[a.argc - 2];
    snprintf(slot, sizeof a.store[0], "--benchmark_repetitions=%llu", (unsigned long long)reps);
    a.argv[a.argc++] = slot;
  }
  if (bad || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  const char *env = getenv("CNV_BENCH");
  if (!have_bin && env && *env && (size_t)snprintf(bin, sizeof bin, "%s", env) < sizeof bin)
    have_bin = true;
  if (!have_bin && !find_binary(bin, sizeof bin)) {
    cli_fail(
        "cannot find cnv_bench (looked beside cnv, in the build tree and on PATH); build it\n"
        "  (cmake --build build --target cnv_bench) and pass --bench-binary PATH or set CNV_BENCH");
    return CLI_EXIT_FAIL;
  }
  if (access(bin, X_OK) != 0) {
    cli_fail("%s: %s (build cnv_bench, or pass --bench-binary PATH)", bin, strerror(errno));
    return CLI_EXIT_FAIL;
  }
  return run_and_report(&a, bin);
}

static const char *const no_bools[] = {NULL};

static const cli_verb verbs[] = {
    {"run", "run the benchmark suite and print ours vs each peer with the ratio",
     "[--filter REGEX] [--min-time SECONDS] [--repetitions N] [--bench-binary PATH]\n"
     "  Runs cnv_bench with JSON output and prints, per case, our items/s, each peer's and the\n"
     "  ratio (medians when --repetitions, 1..1000, is above 1). cnv_bench is --bench-binary,\n"
     "  else $CNV_BENCH, else cnv_bench beside cnv, in its build tree or on PATH. On a terminal\n"
     "  each case is shown on stderr as it finishes. `cnv bench` alone means `cnv bench run`.",
     no_bools, bench_run},
};

const cli_noun cli_noun_bench = {"bench", "the benchmark suite with ratios against peers", verbs,
                                 sizeof verbs / sizeof verbs[0], "run"};
