/* The swarm tests' fixture (swarm_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli_run.h"
#include "swarm_fx.h"

extern char **environ;

#define SFX_JOIN_MS 60000

static const char *const node_names[SFX_NODES] = {"a", "b", "c", "d", "e"};
static const char *const agents[] = {"ag1", "ag2", "ag3"};

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Runs the tool; false (the run's stderr printed) unless it exits 0. */
static bool run_ok(const char *const *args) {
  cli_result r;
  cli_run(&r, args);
  if (r.status == 0) return true;
  fprintf(stderr, "cnv %s %s: exit %d: %s\n", args[0], args[1] ? args[1] : "", r.status, r.err);
  return false;
}

bool sfx_read_hex(const char *path, uint8_t *out, size_t cap, size_t *len) {
  char text[2 * 20000 + 8];
  if (!cli_slurp(path, text, sizeof text)) return false;
  size_t got = 0;
  if (sodium_hex2bin(out, cap, text, strlen(text), "\n", &got, NULL) != 0) return false;
  if (len) *len = got;
  return got > 0;
}

bool sfx_setup(sfx *f) {
  memset(f, 0, sizeof *f);
  for (int i = 0; i < SFX_NODES; i++) {
    f->node[i].pid = -1;
    snprintf(f->node[i].name, sizeof f->node[i].name, "%s", node_names[i]);
  }
  if (sodium_init() < 0) return false;
  if (nats_cluster_start(3, &f->nc) != 0) {
    fprintf(stderr, "nats cluster: %s\n", nats_cluster_error());
    return false;
  }
  snprintf(f->dir, sizeof f->dir, "%s", cli_tmpdir());
  snprintf(f->mark, sizeof f->mark, "%s/marks", f->dir);
  static const char *const root[] = {"token", "keygen", "--out", "root", NULL};
  if (!run_ok(root)) return false;
  char swarm[24];
  snprintf(swarm, sizeof swarm, "%u", SFX_SWARM);
  for (int i = 0; i < SFX_NODES; i++) {
    char pub[16], tok[16];
    snprintf(pub, sizeof pub, "%s.pub", node_names[i]);
    snprintf(tok, sizeof tok, "%s.tok", node_names[i]);
    const char *const keygen[] = {"token", "keygen", "--out", node_names[i], NULL};
    const char *const mint[] = {"token", "mint", "--key", "root.key", "--audience", pub, "--allow",
                                "swarm.serve", "--swarm", swarm, "--out", tok, NULL};
    if (!run_ok(keygen) || !run_ok(mint)) return false;
    uint8_t pk[32];
    size_t n = 0;
    if (!sfx_read_hex(pub, pk, sizeof pk, &n) || n != 32) return false;
    sodium_bin2hex(f->node[i].pk_hex, sizeof f->node[i].pk_hex, pk, sizeof pk);
  }
  for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++) {
    char pub[16], tok[16];
    snprintf(pub, sizeof pub, "%s.pub", agents[i]);
    snprintf(tok, sizeof tok, "%s.tok", agents[i]);
    const char *const keygen[] = {"token", "keygen", "--out", agents[i], NULL};
    const char *const mint[] = {"token", "mint", "--key", "root.key", "--audience", pub, "--allow",
                                "demo.*", "--allow", "test.*", "--allow", "pin.*", "--effects", "read_only|mutate_state", "--swarm", swarm,
                                "--out", tok, NULL};
    if (!run_ok(keygen) || !run_ok(mint)) return false;
  }
  return true;
}

void sfx_node_kill(sfx *f, int i) {
  sfx_node *n = &f->node[i];
  if (n->pid <= 0) return;
  (void)kill(n->pid, SIGKILL);
  while (waitpid(n->pid, NULL, 0) < 0 && errno == EINTR) {
  }
  n->pid = -1;
}

static void print_file(const char *what, const char *path) {
  char buf[4096];
  if (cli_slurp(path, buf, sizeof buf)) fprintf(stderr, "%s (%s):\n%s\n", what, path, buf);
}

void sfx_teardown(sfx *f) {
  for (int i = 0; i < SFX_NODES; i++) {
    /* a node that ended by itself (a crash, a sanitizer's report) says why before its folder
     * goes: the case that needed it failed without knowing */
    int status = 0;
    pid_t pid = f->node[i].pid;
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
      char err[32];
      snprintf(err, sizeof err, "node-%s.err", f->node[i].name);
      fprintf(stderr, "node %s ended before teardown (status 0x%x)\n", f->node[i].name, status);
      print_file("its stderr", err);
      f->node[i].pid = -1;
    }
    sfx_node_kill(f, i);
  }
  nats_cluster_stop(f->nc);
  f->nc = NULL;
  if (f->dir[0]) cli_tmpdir_remove();
}

/* Starts `cnv serve --nats` as node i presenting token file tok; its pid in node[i].pid. */
static bool node_spawn(sfx *f, int i, const char *tok) {
  sfx_node *n = &f->node[i];
  char key[16], out[32], err[32], env_node[32], env_mark[160];
  snprintf(key, sizeof key, "%s.key", n->name);
  snprintf(out, sizeof out, "node-%s.out", n->name);
  snprintf(err, sizeof err, "node-%s.err", n->name);
  snprintf(env_node, sizeof env_node, "CNV_TEST_NODE=%s", n->name);
  snprintf(env_mark, sizeof env_mark, "CNV_TEST_MARK_FILE=%s", f->mark);
  /* a restarted node (same key) must not be seen as joined by its last run's line: the files
   * go before the child exists (it truncates them only once it runs) */
  (void)unlink(out);
  (void)unlink(err);
  char swarm[24];
  snprintf(swarm, sizeof swarm, "%u", SFX_SWARM);
  const char *const argv[] = {CNV_CLI_PATH, "serve", "--nats", nats_cluster_urls(f->nc),
                              "--swarm", swarm, "--key", key,
                              "--token", tok, "--trust", "root.pub",
                              "--once", "all", "--replicas", "3",
                              "--plugin", CNV_TEST_MARK_PLUGIN, NULL};
  size_t ne = 0;
  while (environ[ne]) ne++;
  char **envp = calloc(ne + 3, sizeof *envp);
  if (!envp) return false;
  for (size_t k = 0; k < ne; k++) envp[k] = environ[k];
  envp[ne] = env_node;
  envp[ne + 1] = env_mark;
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    free(envp);
    return false;
  }
  if (pid == 0) {
    /* dies with the test, even when the test is SIGKILLed */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int z = open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || z < 0 || dup2(z, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
    execve(argv[0], (char *const *)argv, envp);
    _exit(127);
  }
  free(envp);
  n->pid = pid;
  return true;
}

/* Waits for node i's `joined swarm` line (1), its exit (0, *status its wait status), or
 * SFX_JOIN_MS (-1, the node killed). */
static int node_wait(sfx *f, int i, int *status) {
  sfx_node *n = &f->node[i];
  char out[32], want[128];
  snprintf(out, sizeof out, "node-%s.out", n->name);
  snprintf(want, sizeof want, "joined swarm %u as %s", SFX_SWARM, n->pk_hex);
  uint64_t deadline = mono_ms() + SFX_JOIN_MS;
  for (;;) {
    char text[1024];
    if (cli_slurp(out, text, sizeof text) && strstr(text, want)) return 1;
    if (waitpid(n->pid, status, WNOHANG) == n->pid) {
      n->pid = -1;
      return 0;
    }
    if (mono_ms() > deadline) {
      sfx_node_kill(f, i);
      return -1;
    }
    nap_ms(20);
  }
}

bool sfx_node_start(sfx *f, int i) {
  char tok[16];
  snprintf(tok, sizeof tok, "%s.tok", f->node[i].name);
  if (!node_spawn(f, i, tok)) return false;
  int status = 0, w = node_wait(f, i, &status);
  if (w == 1) return true;
  char out[32], err[32];
  snprintf(out, sizeof out, "node-%s.out", f->node[i].name);
  snprintf(err, sizeof err, "node-%s.err", f->node[i].name);
  if (w == 0)
    fprintf(stderr, "node %s exited (status 0x%x) before joining\n", f->node[i].name, status);
  else
    fprintf(stderr, "node %s did not join in %d ms\n", f->node[i].name, SFX_JOIN_MS);
  print_file("its stdout", out);
  print_file("its stderr", err);
  return false;
}

int sfx_node_refused(sfx *f, int i, const char *tok, char *err_text, size_t cap) {
  err_text[0] = '\0';
  if (!node_spawn(f, i, tok)) return -1;
  int status = 0, w = node_wait(f, i, &status);
  if (w == 1) {
    sfx_node_kill(f, i);
    return -1;
  }
  if (w < 0) return -1;
  char err[32];
  snprintf(err, sizeof err, "node-%s.err", f->node[i].name);
  (void)cli_slurp(err, err_text, cap);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

cnv_nats_client *sfx_client(const char *servers, const char *agent, cnv_status *st) {
  char path[32];
  uint8_t sk[64], root[32];
  static uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t tok_len = 0, n = 0;
  snprintf(path, sizeof path, "%s.key", agent);
  *st = CNV_EINVAL;
  if (!sfx_read_hex(path, sk, sizeof sk, &n) || n != 64) return NULL;
  snprintf(path, sizeof path, "%s.tok", agent);
  if (!sfx_read_hex(path, tok, sizeof tok, &tok_len)) return NULL;
  if (!sfx_read_hex("root.pub", root, sizeof root, &n) || n != 32) return NULL;
  cnv_nats_client_config cfg;
  cnv_nats_client_config_default(&cfg);
  cfg.servers = servers;
  cfg.swarm = SFX_SWARM;
  cfg.secret_key = sk;
  cfg.token = tok;
  cfg.token_len = tok_len;
  cfg.trust = root;
  cfg.n_trust = 1;
  /* the default attempt timeout (2 s, doubling: sends at 0, 2, 6, 14, 30 s); a call gives up
   * after 40 s rather than 30, so that a call the killed node had started gets the sends at 14
   * and 30 s to learn its outcome is unknown (its claimer dead for 10 intervals, 10 s); at
   * most half the dedupe window (120 s) */
  cfg.call_timeout_ms = 40000;
  cnv_nats_client *c = NULL;
  *st = cnv_nats_client_connect(&cfg, &c);
  sodium_memzero(sk, sizeof sk);
  return *st == CNV_OK ? c : NULL;
}

static void on_done(void *ctx, const cnv_nats_result *r) {
  sfx_slot *s = ctx;
  s->completions++;
  s->status = r->status;
  s->done = r->done;
  s->attempts = r->attempts;
  size_t n = r->result_len < sizeof s->result - 1 ? r->result_len : sizeof s->result - 1;
  if (n) memcpy(s->result, r->result, n);
  s->result[n] = '\0';
}

unsigned sfx_load(cnv_nats_client *c, size_t n, size_t window, sfx_line_fn line, sfx_slot *slots, sfx_tick_fn tick,
                  void *tick_ctx) {
  memset(slots, 0, n * sizeof *slots);
  size_t next = 0, completed = 0, accepted = 0;
  unsigned refused = 0;
  while (completed < accepted || next < n) {
    while (next < n && accepted - completed < window) {
      char buf[256];
      size_t len = line(next, buf, sizeof buf);
      uint64_t id = 0;
      cnv_status st = cnv_nats_client_submit(c, buf, len, 0, on_done, &slots[next], &id);
      if (st == CNV_EFULL) break;
      if (st != CNV_OK) {
        fprintf(stderr, "submit %zu (%.*s): %s\n", next, (int)len, buf, cnv_status_name(st));
        refused++;
        slots[next].status = st;
        slots[next].completions = 1; /* refused calls never complete: count them as seen */
        next++;
        continue;
      }
      accepted++;
      next++;
    }
    unsigned got = 0;
    cnv_status st = cnv_nats_client_poll(c, 200, &got);
    if (st != CNV_OK) {
      fprintf(stderr, "poll: %s\n", cnv_status_name(st));
      return refused + (unsigned)(n - next) + 1u;
    }
    completed += got;
    if (tick) tick(tick_ctx, completed);
  }
  return refused;
}

static bool key_matches(const char *line, size_t len, const char *key, size_t klen) {
  return len > klen && memcmp(line, key, klen) == 0 && line[klen] == ' ';
}

unsigned sfx_runs(const sfx *f, const char *key, char *nodes, size_t cap) {
  static char text[1 << 20];
  unsigned count = 0;
  size_t used = 0;
  if (cap) nodes[0] = '\0';
  if (!cli_slurp(f->mark, text, sizeof text)) return 0;
  size_t klen = strlen(key);
  for (char *p = text; *p;) {
    char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (key_matches(p, len, key, klen)) {
      count++;
      if (used + 1 < cap) {
        nodes[used++] = p[klen + 1];
        nodes[used] = '\0';
      }
    }
    p += len + (nl ? 1 : 0);
  }
  return count;
}

unsigned sfx_runs_indexed(const sfx *f, const char *prefix, size_t n, unsigned *counts, sfx_who *who) {
  static char text[1 << 20];
  memset(counts, 0, n * sizeof *counts);
  memset(who, 0, n * sizeof *who);
  unsigned other = 0;
  if (!cli_slurp(f->mark, text, sizeof text)) return 0;
  size_t plen = strlen(prefix);
  for (char *p = text; *p;) {
    char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char *end = NULL;
    unsigned long idx = len > plen && memcmp(p, prefix, plen) == 0 ? strtoul(p + plen, &end, 10) : n;
    if (idx < n && end && *end == ' ') {
      if (counts[idx] < 3) who[idx][counts[idx]] = end[1];
      counts[idx]++;
    } else {
      other++;
    }
    p += len + (nl ? 1 : 0);
  }
  return other;
}
