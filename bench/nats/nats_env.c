/* What the nats cases share: see nats_env.h. */
#include "nats_env.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <sodium.h>

#include "../runtime/bench_rt.h"
#include "../serve/serve_peer.h"

#define NB_STOP_GRACE_MS 5000

uint64_t nb_now_ns(void) { return cnv_runtime_now_ns(); }

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

void nb_sort_u64(uint64_t *v, size_t n) { qsort(v, n, sizeof v[0], cmp_u64); }

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- nats-server ----------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  (void)remove(path); /* best effort: what cannot go is left, the walk goes on */
  return 0;
}

static void remove_dir(const char *dir) {
  if (dir[0]) (void)nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); /* best effort, as above */
}

/* The first line of the server's log after `what`. */
static void server_error(const nb_server *s, const char *what, char *err, size_t err_cap) {
  char log[96], line[200] = "";
  snprintf(log, sizeof log, "%s/nats.log", s->dir);
  FILE *f = fopen(log, "r");
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
  }
  snprintf(err, err_cap, "%s%s%s", what, line[0] ? "; its log: " : "", line);
}

/* 1 when the server at url answers a JetStream account request. */
static int server_ready(const char *url) {
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  jsAccountInfo *ai = NULL;
  natsOptions *o = NULL;
  int ok = natsOptions_Create(&o) == NATS_OK && natsOptions_SetURL(o, url) == NATS_OK &&
           natsOptions_SetTimeout(o, 1000) == NATS_OK && natsOptions_SetAllowReconnect(o, false) == NATS_OK &&
           natsConnection_Connect(&nc, o) == NATS_OK && natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
           js_GetAccountInfo(&ai, js, NULL, NULL) == NATS_OK;
  jsAccountInfo_Destroy(ai);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(o);
  return ok;
}

/* One try on a fresh port: 0 when it is ready, 1 when it exited (the port may have been
 * taken: try again), -1 on any other failure (err set). Nothing is left running on failure. */
static int server_try(nb_server *s, const char *path, char *err, size_t err_cap) {
  s->port = serve_free_port();
  if (s->port == 0) {
    snprintf(err, err_cap, "no free port: %s", strerror(errno));
    return -1;
  }
  char port[8], log[96];
  snprintf(port, sizeof port, "%u", (unsigned)s->port);
  snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%u", (unsigned)s->port);
  snprintf(log, sizeof log, "%s/nats.log", s->dir);
  int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    snprintf(err, err_cap, "cannot write %s: %s", log, strerror(errno));
    return -1;
  }
  char *argv[] = {(char *)"nats-server", (char *)"-a", (char *)"127.0.0.1", (char *)"-p", port, (char *)"-js",
                  (char *)"-sd", s->dir, NULL};
  s->pid = serve_child_start(path, argv, log_fd, log_fd);
  int saved = errno;
  close(log_fd);
  if (s->pid < 0) {
    s->pid = 0;
    snprintf(err, err_cap, "cannot start %s: %s", path, strerror(saved));
    return -1;
  }
  for (int waited = 0; waited < NB_START_TIMEOUT_MS; waited += 20) {
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = 0;
      server_error(s, "nats-server exited at start", err, err_cap);
      return 1;
    }
    if (server_ready(s->url)) return 0;
    sleep_ms(20);
  }
  server_error(s, "nats-server did not answer a JetStream request in time", err, err_cap);
  (void)serve_child_stop(s->pid, 0); /* killed: its status says nothing more */
  s->pid = 0;
  return -1;
}

int nb_server_start(nb_server *s, char *err, size_t err_cap) {
  memset(s, 0, sizeof *s);
  char path[256];
  if (serve_which("nats-server", path, sizeof path) != 0) {
    if (access("/usr/sbin/nats-server", X_OK) != 0) {
      snprintf(err, err_cap, "nats-server not found (install the Debian package nats-server: scripts/deps)");
      return -1;
    }
    snprintf(path, sizeof path, "/usr/sbin/nats-server");
  }
  snprintf(s->dir, sizeof s->dir, "/tmp/cnv-bench-nats-XXXXXX");
  if (!mkdtemp(s->dir)) {
    snprintf(err, err_cap, "mkdtemp: %s", strerror(errno));
    s->dir[0] = '\0';
    return -1;
  }
  int rc = 1;
  for (int attempt = 0; attempt < 3 && rc == 1; attempt++) rc = server_try(s, path, err, err_cap);
  if (rc != 0) {
    remove_dir(s->dir);
    s->dir[0] = '\0';
    return -1;
  }
  return 0;
}

void nb_server_stop(nb_server *s) {
  if (s->pid > 0) (void)serve_child_stop(s->pid, NB_STOP_GRACE_MS); /* reaped; its status is not needed */
  s->pid = 0;
  remove_dir(s->dir);
  s->dir[0] = '\0';
}

/* ---- keys and tokens ------------------------------------------------------------------- */

/* A root token from root_sk for holder_pk allowing `pattern` with `effects` in NB_SWARM. */
static cnv_status mint(const uint8_t root_sk[64], const uint8_t holder_pk[32], const char *pattern,
                       cnv_effects effects, uint8_t *tok, size_t *len) {
  cnv_deleg_caveats c;
  memset(&c, 0, sizeof c);
  c.expiry = CNV_DELEG_NO_EXPIRY;
  c.max_uses = CNV_DELEG_UNLIMITED_USES;
  c.effects = effects;
  c.swarm = NB_SWARM;
  c.depth = 4;
  c.n_allow = 1;
  cnv_status st = cnv_deleg_pattern_parse(pattern, strlen(pattern), &c.allow[0]);
  return st != CNV_OK ? st : cnv_deleg_mint_root(root_sk, holder_pk, &c, NULL, tok, CNV_DELEG_MAX_TOKEN_BYTES, len);
}

cnv_status nb_keys_make(nb_keys *k) {
  memset(k, 0, sizeof *k);
  if (sodium_init() < 0) return CNV_ENOMEM;
  uint8_t seed[32];
  memset(seed, 0x41, sizeof seed);
  crypto_sign_seed_keypair(k->root_pk, k->root_sk, seed);
  memset(seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair(k->agent_pk, k->agent_sk, seed);
  cnv_status st = mint(k->root_sk, k->agent_pk, "demo.*", CNV_EFFECT_READ_ONLY, k->agent_token, &k->agent_token_len);
  for (int i = 0; i < NB_MAX_NODES && st == CNV_OK; i++) {
    memset(seed, 0x50 + i, sizeof seed);
    crypto_sign_seed_keypair(k->node_pk[i], k->node_sk[i], seed);
    /* As `cnv token mint --allow swarm.serve --swarm S` makes it: no effects. */
    st = mint(k->root_sk, k->node_pk[i], CNV_NATS_SERVE_CAPABILITY, 0, k->node_token[i], &k->node_token_len[i]);
  }
  return st;
}

void nb_keys_wipe(nb_keys *k) {
  sodium_memzero(k->root_sk, sizeof k->root_sk);
  sodium_memzero(k->agent_sk, sizeof k->agent_sk);
  sodium_memzero(k->node_sk, sizeof k->node_sk);
}

/* ---- the runtime ----------------------------------------------------------------------- */

/* demo.echo: the --text value is the result. */
static cnv_status echo_handler(void *ctx, const cnv_runtime_call *c, cnv_runtime_result *r) {
  (void)ctx;
  cnv_arg args[4];
  cnv_invocation inv;
  cnv_status st = cnv_invocation_init(&inv, args, 4);
  if (st == CNV_OK) st = cnv_parse_invocation(c->line, c->line_len, NULL, NULL, &inv);
  if (st != CNV_OK) return st;
  for (uint32_t i = 0; i < inv.count; i++) {
    const cnv_arg *a = &inv.args[i];
    if (a->kind == CNV_ARG_LONG_VALUE && a->name.len == 4 && memcmp(a->name.ptr, "text", 4) == 0)
      return cnv_runtime_result_write(r, a->value.ptr, a->value.len);
  }
  return CNV_EINVAL;
}

cnv_runtime *nb_runtime_make(uint32_t workers, const uint8_t root_pk[32], char *err, size_t err_cap) {
  cnv_runtime_config cfg;
  cnv_runtime_config_default(&cfg);
  cfg.workers = workers;
  cfg.swarm_id = NB_SWARM;
  cnv_runtime_handler_spec spec = {.effects = CNV_EFFECT_READ_ONLY, .cls = CNV_DURATION_INTERACTIVE, .fn = echo_handler};
  cnv_runtime *rt = NULL;
  const char *step = NULL;
  cnv_status st;
  if ((st = cnv_runtime_create(&cfg, &rt)) != CNV_OK)
    step = "cnv_runtime_create";
  else if ((st = cnv_runtime_register(rt, "demo.echo", 9, &spec)) != CNV_OK)
    step = "cnv_runtime_register";
  else if ((st = cnv_runtime_trust_add(rt, root_pk)) != CNV_OK)
    step = "cnv_runtime_trust_add";
  else if ((st = cnv_runtime_start(rt)) != CNV_OK)
    step = "cnv_runtime_start";
  if (step) {
    snprintf(err, err_cap, "%s: %s", step, cnv_strerror(st));
    cnv_runtime_destroy(rt);
    return NULL;
  }
  return rt;
}

void nb_runtime_free(cnv_runtime *rt) {
  if (!rt) return;
  cnv_status st = cnv_runtime_stop(rt, BENCH_RT_STOP_NS);
  if (st != CNV_OK) fprintf(stderr, "nats bench: cnv_runtime_stop: %s\n", cnv_strerror(st));
  cnv_runtime_destroy(rt);
}
