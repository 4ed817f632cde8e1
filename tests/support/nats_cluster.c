/* Test support: nats-server clusters on loopback (see nats_cluster.h). */
#include "nats_cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NC_READY_MS 60000 /* a server (or a whole cluster) must be ready within this */
#define NC_START_TRIES 3  /* fresh ports again when a server could not bind its own */

typedef struct nc_server {
  pid_t pid; /* -1 while killed */
  int port, mport, cport;
  char url[40];
} nc_server;

struct nats_cluster {
  int n;
  nc_server s[NATS_CLUSTER_MAX];
  char dir[64];
  pid_t owner;   /* the process that started it: only that one stops it */
  pid_t reaper;  /* removes dir once the owner is gone, however it went */
  int reaper_fd; /* the write end of the reaper's pipe; -1 when none */
  char urls[NATS_CLUSTER_MAX * 40];
  nats_cluster *next; /* the list of live clusters the atexit handler stops */
};

static char last_error[512];
static nats_cluster *live;
static bool atexit_done;

__attribute__((format(printf, 1, 2))) static void set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
}

const char *nats_cluster_error(void) { return last_error; }

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* $CNV_NATS_SERVER when set (that one only), else /usr/sbin/nats-server (Debian's place, off
 * most users' PATH), else the first on PATH. */
static bool find_server(char *out, size_t cap) {
  const char *forced = getenv("CNV_NATS_SERVER");
  if (forced && *forced) {
    snprintf(out, cap, "%s", forced);
    return access(out, X_OK) == 0;
  }
  if (access("/usr/sbin/nats-server", X_OK) == 0) {
    snprintf(out, cap, "/usr/sbin/nats-server");
    return true;
  }
  const char *path = getenv("PATH");
  while (path && *path) {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    if (len > 0 && len < cap - 16) {
      snprintf(out, cap, "%.*s/nats-server", (int)len, path);
      if (access(out, X_OK) == 0) return true;
    }
    path = end ? end + 1 : NULL;
  }
  return false;
}

/* find_server; when there is none, the error says so, naming the Debian package. */
static bool server_found(char *out, size_t cap) {
  if (find_server(out, cap)) return true;
  set_error(
      "nats-server not found ($CNV_NATS_SERVER, /usr/sbin, PATH): install the Debian package nats-server "
      "(scripts/deps --test)");
  return false;
}

/* Free loopback ports: all the sockets stay bound until every port is picked, so the ports
 * differ from each other; another process may still take one before the server binds it (the
 * caller then retries with fresh ports). */
static bool free_ports(int *ports, int count) {
  int fds[3 * NATS_CLUSTER_MAX];
  int made = 0;
  bool ok = true;
  for (; made < count; made++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ok = false;
      break;
    }
    fds[made] = fd;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
      made++;
      ok = false;
      break;
    }
    ports[made] = ntohs(a.sin_port);
  }
  for (int i = 0; i < made; i++) close(fds[i]);
  return ok;
}

static bool tcp_connect(int port, int *out) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct timeval tv = {2, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return false;
  }
  *out = fd;
  return true;
}

/* GET path from the monitoring port into buf (NUL-terminated, truncated to fit); false when
 * the server does not answer. */
static bool http_get(int port, const char *path, char *buf, size_t cap) {
  int fd;
  if (!tcp_connect(port, &fd)) return false;
  char req[128];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  bool ok = write(fd, req, (size_t)n) == n;
  size_t got = 0;
  while (ok && got < cap - 1) {
    ssize_t r = read(fd, buf + got, cap - 1 - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  close(fd);
  return ok && got > 0;
}

/* Server i is ready: it accepts clients, /healthz says ok (JetStream up and, in a cluster, in
 * contact with a meta leader and current with it) and, in a cluster, /jsz names the leader. */
static bool server_ready(const nats_cluster *c, int i) {
  int fd;
  if (!tcp_connect(c->s[i].port, &fd)) return false;
  close(fd);
  char buf[8192];
  if (!http_get(c->s[i].mport, "/healthz", buf, sizeof buf)) return false;
  if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0 || !strstr(buf, "\"ok\"")) return false;
  if (c->n == 1) return true;
  if (!http_get(c->s[i].mport, "/jsz", buf, sizeof buf)) return false;
  const char *meta = strstr(buf, "\"meta_cluster\"");
  return meta && strstr(meta, "\"leader\"");
}

static void server_log_tail(const nats_cluster *c, int i, char *out, size_t cap) {
  char path[96];
  snprintf(path, sizeof path, "%s/n%d.log", c->dir, i);
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    long from = size > (long)cap - 1 ? size - (long)cap + 1 : 0;
    if (fseek(f, from, SEEK_SET) == 0) {
      size_t n = fread(out, 1, cap - 1, f);
      out[n] = '\0';
    }
  }
  fclose(f);
}

static int spawn_server(nats_cluster *c, int i) {
  char bin[256];
  if (!server_found(bin, sizeof bin)) return -1;
  nc_server *s = &c->s[i];
  char port[16], mport[16], name[16], store[96], logf[96], cluster[48], routes[NATS_CLUSTER_MAX * 40];
  snprintf(port, sizeof port, "%d", s->port);
  snprintf(mport, sizeof mport, "%d", s->mport);
  snprintf(name, sizeof name, "n%d", i);
  snprintf(store, sizeof store, "%s/n%d", c->dir, i);
  snprintf(logf, sizeof logf, "%s/n%d.log", c->dir, i);
  snprintf(cluster, sizeof cluster, "nats://127.0.0.1:%d", s->cport);
  routes[0] = '\0';
  for (int j = 0, len = 0; j < c->n; j++) {
    if (j == i) continue;
    len += snprintf(routes + len, sizeof routes - (size_t)len, "%snats://127.0.0.1:%d", len ? "," : "",
                    c->s[j].cport);
  }
  const char *argv[32] = {bin, "-a", "127.0.0.1", "-p", port, "-m", mport, "-n",
                          name, "-js", "-sd", store, "-l", logf, NULL};
  if (c->n > 1) {
    const char *more[] = {"--cluster_name", "cnvtest", "--cluster", cluster, "--routes", routes, NULL};
    size_t k = 0;
    while (argv[k]) k++;
    for (size_t m = 0; more[m]; m++) argv[k++] = more[m];
    argv[k] = NULL;
  }
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    set_error("fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    /* dies with the thread that started it, even when that one is SIGKILLed */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) _exit(126);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  s->pid = pid;
  return 0;
}

static void reap(nc_server *s) {
  if (s->pid <= 0) return;
  (void)kill(s->pid, SIGKILL);
  while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR) {
  }
  s->pid = -1;
}

/* Waits until every server in [from, to) is ready; -1 with the error set when one exits or the
 * time runs out. *exited tells the first case (the caller may retry with fresh ports). */
static int wait_ready(nats_cluster *c, int from, int to, bool *exited) {
  uint64_t deadline = now_ms() + NC_READY_MS;
  *exited = false;
  for (int i = from; i < to;) {
    int st;
    if (waitpid(c->s[i].pid, &st, WNOHANG) == c->s[i].pid) {
      c->s[i].pid = -1;
      char tail[300];
      server_log_tail(c, i, tail, sizeof tail);
      set_error("nats-server n%d exited while starting (status %d): %s", i, st, tail);
      *exited = true;
      return -1;
    }
    if (server_ready(c, i)) {
      i++;
      continue;
    }
    if (now_ms() > deadline) {
      char tail[300];
      server_log_tail(c, i, tail, sizeof tail);
      set_error("nats-server n%d not ready (JetStream healthy%s) in %d ms: %s", i, c->n > 1 ? ", meta leader" : "",
                NC_READY_MS, tail);
      return -1;
    }
    sleep_ms(50);
  }
  return 0;
}

static void unlink_live(nats_cluster *c) {
  for (nats_cluster **p = &live; *p; p = &(*p)->next) {
    if (*p == c) {
      *p = c->next;
      return;
    }
  }
}

static void remove_dir(const char *dir) {
  if (dir[0] == '\0') return;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/rm", "rm", "-rf", "--", dir, (char *)NULL);
    _exit(127);
  }
  if (pid > 0) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
}

/* The reaper: a child that waits for the end of its pipe, which comes when the owner closes
 * it (stop) or dies (any way, SIGKILL included: the servers then die of their parent-death
 * signal); then it removes the directory if it is still there. It holds no other descriptor
 * of the owner's (nothing of the test stays open because of it) and never returns. */
static void reaper_main(int rfd, const char *dir) {
  for (int fd = 0; fd < 1024; fd++)
    if (fd != rfd) (void)close(fd);
  char b;
  while (read(rfd, &b, 1) != 0) {
    if (errno != EINTR) break;
  }
  for (int i = 0; i < 3 && access(dir, F_OK) == 0; i++) {
    sleep_ms(300); /* the servers' own death first: they may still be writing there */
    remove_dir(dir);
  }
  _exit(0);
}

static bool start_reaper(nats_cluster *c) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return false;
  }
  if (pid == 0) reaper_main(p[0], c->dir);
  close(p[0]);
  c->reaper = pid;
  c->reaper_fd = p[1];
  return true;
}

void nats_cluster_stop(nats_cluster *c) {
  if (!c) return;
  for (int i = 0; i < c->n; i++) reap(&c->s[i]);
  unlink_live(c);
  remove_dir(c->dir);
  if (c->reaper_fd >= 0) close(c->reaper_fd);
  if (c->reaper > 0) {
    while (waitpid(c->reaper, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  free(c);
}

/* Only in the process that started the clusters: a forked child that calls exit() must not
 * kill its parent's servers. */
static void stop_all_at_exit(void) {
  while (live && live->owner == getpid()) nats_cluster_stop(live);
}

int nats_cluster_start(int n, nats_cluster **out) {
  last_error[0] = '\0';
  if (out) *out = NULL;
  if (!out || n < 1 || n > NATS_CLUSTER_MAX) {
    set_error("nats_cluster_start: n must be 1..%d", NATS_CLUSTER_MAX);
    return -1;
  }
  char bin[256];
  if (!server_found(bin, sizeof bin)) return -1;
  if (!atexit_done) {
    if (atexit(stop_all_at_exit) != 0) {
      set_error("atexit failed");
      return -1;
    }
    atexit_done = true;
  }
  nats_cluster *c = calloc(1, sizeof *c);
  if (!c) {
    set_error("out of memory");
    return -1;
  }
  c->n = n;
  c->owner = getpid();
  c->reaper_fd = -1;
  for (int i = 0; i < n; i++) c->s[i].pid = -1;
  snprintf(c->dir, sizeof c->dir, "/tmp/cnv-nats-XXXXXX");
  if (!mkdtemp(c->dir)) {
    set_error("mkdtemp: %s", strerror(errno));
    c->dir[0] = '\0';
    free(c);
    return -1;
  }
  c->next = live;
  live = c;
  if (!start_reaper(c)) {
    set_error("reaper: %s", strerror(errno));
    nats_cluster_stop(c);
    return -1;
  }
  for (int attempt = 0; attempt < NC_START_TRIES; attempt++) {
    int ports[3 * NATS_CLUSTER_MAX];
    if (!free_ports(ports, 3 * n)) {
      set_error("no free loopback ports: %s", strerror(errno));
      break;
    }
    size_t len = 0;
    for (int i = 0; i < n; i++) {
      nc_server *s = &c->s[i];
      s->port = ports[3 * i];
      s->mport = ports[3 * i + 1];
      s->cport = ports[3 * i + 2];
      snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);
      len += (size_t)snprintf(c->urls + len, sizeof c->urls - len, "%s%s", i ? "," : "", s->url);
    }
    bool exited = false;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) rc = spawn_server(c, i);
    if (rc == 0) rc = wait_ready(c, 0, n, &exited);
    if (rc == 0) {
      *out = c;
      return 0;
    }
    for (int i = 0; i < n; i++) reap(&c->s[i]);
    if (!exited) break;
    /* a port taken by someone else in between: wipe the stores and try fresh ports */
    char msg[sizeof last_error];
    memcpy(msg, last_error, sizeof msg);
    remove_dir(c->dir);
    if (mkdir(c->dir, 0700) != 0) break;
    memcpy(last_error, msg, sizeof msg);
  }
  char msg[sizeof last_error];
  memcpy(msg, last_error, sizeof msg);
  nats_cluster_stop(c);
  memcpy(last_error, msg, sizeof msg);
  return -1;
}

int nats_cluster_size(const nats_cluster *c) { return c->n; }

const char *nats_cluster_url(const nats_cluster *c, int i) { return i >= 0 && i < c->n ? c->s[i].url : ""; }

const char *nats_cluster_urls(const nats_cluster *c) { return c->urls; }

int nats_cluster_monitor_port(const nats_cluster *c, int i) { return i >= 0 && i < c->n ? c->s[i].mport : -1; }

/* The number after `"key": ` at or after from, the position after it in *end; -1 when absent. */
static long long json_number(const char *from, const char *key, const char **end) {
  const char *p = strstr(from, key);
  if (!p) return -1;
  p += strlen(key);
  while (*p == ' ' || *p == ':') p++;
  char *e;
  long long v = strtoll(p, &e, 10);
  *end = e;
  return e == p ? -1 : v;
}

int nats_cluster_connz(const nats_cluster *c, int i, nats_cluster_conn *out, int cap) {
  if (!c || i < 0 || i >= c->n) return -1;
  size_t size = 1u << 20;
  char *buf = malloc(size);
  if (!buf) return -1;
  int count = -1;
  if (http_get(c->s[i].mport, "/connz?subs=0", buf, size)) {
    const char *p = buf, *end;
    long long total = json_number(p, "\"num_connections\"", &end);
    count = total < 0 ? -1 : (int)total;
    /* each connection object has its in_msgs before its subscriptions */
    for (int k = 0; count > 0 && k < cap && k < count; k++) {
      long long in = json_number(p, "\"in_msgs\"", &end);
      if (in < 0) break;
      long long subs = json_number(end, "\"subscriptions\"", &end);
      out[k] = (nats_cluster_conn){.in_msgs = in, .subs = subs};
      p = end;
    }
  }
  free(buf);
  return count;
}

pid_t nats_cluster_pid(const nats_cluster *c, int i) { return i >= 0 && i < c->n ? c->s[i].pid : -1; }

const char *nats_cluster_dir(const nats_cluster *c) { return c->dir; }

int nats_cluster_kill(nats_cluster *c, int i) {
  if (!c || i < 0 || i >= c->n || c->s[i].pid <= 0) {
    set_error("nats_cluster_kill: no running server %d", i);
    return -1;
  }
  reap(&c->s[i]);
  return 0;
}

int nats_cluster_restart(nats_cluster *c, int i) {
  if (!c || i < 0 || i >= c->n || c->s[i].pid > 0) {
    set_error("nats_cluster_restart: server %d is not a killed one", i);
    return -1;
  }
  bool exited;
  if (spawn_server(c, i) != 0) return -1;
  if (wait_ready(c, i, i + 1, &exited) != 0) {
    reap(&c->s[i]);
    return -1;
  }
  return 0;
}

bool nats_cluster_pid_alive(pid_t pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  /* a zombie (dead, not yet reaped by whoever inherited it) is not alive */
  char path[40], stat[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *end = strrchr(stat, ')'); /* the name may hold anything: the state follows its ')' */
  return !end || end[1] != ' ' || end[2] != 'Z';
}
