/* Plumbing shared by the serve cases: see serve_peer.h. */
#include "serve_peer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int serve_which(const char *name, char *out, size_t cap) {
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t len = colon ? (size_t)(colon - path) : strlen(path);
    int n = snprintf(out, cap, "%.*s/%s", (int)len, len ? path : ".", name);
    if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0) return 0;
    path += len;
    if (*path == ':') path++;
  }
  return -1;
}

uint16_t serve_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

pid_t serve_child_start(const char *path, char *const argv[], int out_fd, int err_fd) {
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return -1;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* The child: only async-signal-safe calls until execv. Dies with the bench. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    if (dup2(null_fd, 0) < 0 || dup2(out_fd >= 0 ? out_fd : null_fd, 1) < 0 ||
        dup2(err_fd >= 0 ? err_fd : null_fd, 2) < 0)
      _exit(127);
    /* Nothing of the bench's (sockets, eventfds) goes to the child. */
    if (close_range(3, ~0u, 0) != 0)
      for (int fd = 3; fd < 1024; fd++) close(fd);
    execv(path, argv);
    _exit(127);
  }
  int saved = errno;
  close(null_fd);
  errno = saved;
  return pid;
}

int serve_child_stop(pid_t pid, int grace_ms) {
  int status;
  if (pid <= 0) return -1;
  if (waitpid(pid, &status, WNOHANG) == pid) return status;
  kill(pid, SIGTERM);
  uint64_t until = mono_ms() + (uint64_t)grace_ms;
  while (mono_ms() < until) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return status;
    if (w < 0 && errno != EINTR) return -1;
    sleep_ms(5);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

int serve_run_capture(const char *path, char *const argv[], char *buf, size_t cap, int timeout_ms) {
  int p[2];
  if (cap == 0 || pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = serve_child_start(path, argv, p[1], -1);
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    return -1;
  }
  size_t used = 0;
  int timed_out = 0;
  uint64_t until = mono_ms() + (uint64_t)timeout_ms;
  for (;;) {
    uint64_t now = mono_ms();
    if (now >= until) {
      timed_out = 1;
      break;
    }
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    int r = poll(&pf, 1, (int)(until - now));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char scratch[512];
    char *dst = used + 1 < cap ? buf + used : scratch;
    size_t room = used + 1 < cap ? cap - 1 - used : sizeof scratch;
    ssize_t n = read(p[0], dst, room);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* EOF: the child closed stdout */
    if (dst != scratch) used += (size_t)n;
  }
  buf[used] = '\0';
  close(p[0]);
  /* A child that is done exits at once; one that is not (the timeout) is killed. */
  int status = serve_child_stop(pid, timed_out ? 0 : 5000);
  if (timed_out || status < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

/* ---- redis-server ---------------------------------------------------------------------- */

/* 1 when a redis-server answers PING on 127.0.0.1:port within a second. */
static int redis_ping(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  char reply[16] = {0};
  int ok = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
           connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 &&
           recv(fd, reply, sizeof reply - 1, 0) >= 7 && memcmp(reply, "+PONG\r\n", 7) == 0;
  close(fd);
  return ok;
}

static void redis_log_path(const serve_redis *r, char *out, size_t cap) {
  snprintf(out, cap, "%s/redis.log", r->dir);
}

/* Copies the first line of the log into err after `what`. */
static void redis_error(const serve_redis *r, const char *what, char *err, size_t err_cap) {
  char log[96], line[160] = "";
  redis_log_path(r, log, sizeof log);
  FILE *f = fopen(log, "r");
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
  }
  snprintf(err, err_cap, "%s%s%s", what, line[0] ? "; its log: " : "", line);
}

/* Removes the directory and whatever Redis may have written in it (its log; nothing else is
 * expected with persistence off, but a file there must not outlive the case). */
static void redis_remove_dir(serve_redis *r) {
  DIR *d = opendir(r->dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char path[sizeof r->dir + 260];
      snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(r->dir);
}

/* One try on a fresh port: 0 when it answers, 1 when it exited (the port may have been taken:
 * worth another try), -1 otherwise (message in err). */
static int redis_try_start(serve_redis *r, const char *exe, char *err, size_t err_cap) {
  char log[96], port[8];
  redis_log_path(r, log, sizeof log);
  r->port = serve_free_port();
  if (r->port == 0) {
    snprintf(err, err_cap, "no free loopback port: %s", strerror(errno));
    return -1;
  }
  snprintf(port, sizeof port, "%u", (unsigned)r->port);
  int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    snprintf(err, err_cap, "cannot create %s: %s", log, strerror(errno));
    return -1;
  }
  /* No persistence, loopback only, logs to stdout (the log file), nothing written in the
   * working directory. */
  char *argv[] = {"redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
                  "--daemonize", "no", "--dir", r->dir, "--logfile", "", "--loglevel", "warning", NULL};
  r->pid = serve_child_start(exe, argv, log_fd, log_fd);
  int saved = errno;
  close(log_fd);
  if (r->pid < 0) {
    snprintf(err, err_cap, "cannot start %s: %s", exe, strerror(saved));
    return -1;
  }
  uint64_t until = mono_ms() + SERVE_START_TIMEOUT_MS;
  while (mono_ms() < until) {
    int status;
    if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
      r->pid = -1;
      redis_error(r, "redis-server exited at start", err, err_cap);
      return 1;
    }
    if (redis_ping(r->port)) return 0;
    sleep_ms(10);
  }
  serve_child_stop(r->pid, 1000);
  r->pid = -1;
  redis_error(r, "redis-server did not answer PING in time", err, err_cap);
  return -1;
}

int serve_redis_start(serve_redis *r, char *err, size_t err_cap) {
  char exe[512];
  r->pid = -1;
  r->port = 0;
  r->dir[0] = '\0';
  if (serve_which("redis-server", exe, sizeof exe) != 0) {
    snprintf(err, err_cap, "redis-server not found on PATH (scripts/deps --test installs Debian's)");
    return -1;
  }
  snprintf(r->dir, sizeof r->dir, "/tmp/cnv-bench-redis-XXXXXX");
  if (!mkdtemp(r->dir)) {
    snprintf(err, err_cap, "mkdtemp: %s", strerror(errno));
    r->dir[0] = '\0';
    return -1;
  }
  int rc = 1;
  for (int attempt = 0; attempt < 3 && rc == 1; attempt++) rc = redis_try_start(r, exe, err, err_cap);
  if (rc != 0) {
    redis_remove_dir(r);
    r->dir[0] = '\0';
    return -1;
  }
  return 0;
}

void serve_redis_stop(serve_redis *r) {
  if (r->pid > 0) serve_child_stop(r->pid, 5000);
  r->pid = -1;
  if (r->dir[0]) redis_remove_dir(r);
  r->dir[0] = '\0';
}

/* ---- redis-benchmark ------------------------------------------------------------------- */

/* Splits one CSV line (fields in double quotes, no embedded quotes or commas) into at most
 * max fields of at most 32 bytes each; returns how many. */
static int csv_fields(const char *line, size_t len, char fields[][32], int max) {
  int n = 0;
  size_t i = 0;
  while (i <= len && n < max) {
    size_t start = i;
    while (i < len && line[i] != ',') i++;
    size_t a = start, b = i;
    if (b > a && line[a] == '"') a++;
    if (b > a && line[b - 1] == '"') b--;
    size_t flen = b - a < 31 ? b - a : 31;
    memcpy(fields[n], line + a, flen);
    fields[n][flen] = '\0';
    n++;
    i++; /* past the comma (or the end) */
  }
  return n;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || errno != 0 || v < 0) return -1;
  *out = v;
  return 0;
}

int serve_redis_parse_csv(const char *csv, serve_redis_result *out) {
  enum { MAXF = 16 };
  char f[MAXF][32];
  int col_rps = -1, col_p50 = -1, col_p99 = -1, found = 0;
  const char *line = csv;
  while (*line) {
    size_t len = strcspn(line, "\r\n");
    int n = csv_fields(line, len, f, MAXF);
    if (n > 0 && strcmp(f[0], "test") == 0) {
      for (int i = 1; i < n; i++) {
        if (strcmp(f[i], "rps") == 0) col_rps = i;
        if (strcmp(f[i], "p50_latency_ms") == 0) col_p50 = i;
        if (strcmp(f[i], "p99_latency_ms") == 0) col_p99 = i;
      }
    } else if (n > 0 && strcmp(f[0], "PING_INLINE") == 0 && col_rps > 0 && col_p50 > 0 && col_p99 > 0) {
      if (col_rps >= n || col_p50 >= n || col_p99 >= n || parse_double(f[col_rps], &out->rps) != 0 ||
          parse_double(f[col_p50], &out->p50_ms) != 0 || parse_double(f[col_p99], &out->p99_ms) != 0)
        return -1;
      found = 1;
    }
    line += len;
    while (*line == '\r' || *line == '\n') line++;
  }
  return found && out->rps > 0 ? 0 : -1;
}

int serve_redis_bench(const serve_redis *r, int pipeline, long requests, serve_redis_result *out, char *err,
                      size_t err_cap) {
  char exe[512], port[8], conns[8], pipe_s[8], n[24], csv[4096];
  if (serve_which("redis-benchmark", exe, sizeof exe) != 0) {
    snprintf(err, err_cap, "redis-benchmark not found on PATH (scripts/deps --test installs redis-tools)");
    return -1;
  }
  snprintf(port, sizeof port, "%u", (unsigned)r->port);
  snprintf(conns, sizeof conns, "%d", SERVE_CONNS);
  snprintf(pipe_s, sizeof pipe_s, "%d", pipeline);
  snprintf(n, sizeof n, "%ld", requests);
  char *argv[] = {"redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", conns, "-P", pipe_s, "-n", n,
                  "-t", "ping_inline", "--csv", "--precision", "3", NULL};
  int rc = serve_run_capture(exe, argv, csv, sizeof csv, SERVE_RUN_TIMEOUT_MS);
  if (rc != 0) {
    snprintf(err, err_cap, "redis-benchmark failed (exit %d)", rc);
    return -1;
  }
  if (serve_redis_parse_csv(csv, out) != 0) {
    snprintf(err, err_cap, "redis-benchmark's CSV has no PING_INLINE figures");
    return -1;
  }
  return 0;
}

/* ---- figures --------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

void serve_sort_u64(uint64_t *v, size_t n) { qsort(v, n, sizeof v[0], cmp_u64); }

uint64_t serve_percentile(const uint64_t *sorted, size_t n, double p) {
  if (n == 0) return 0;
  double rank = p / 100.0 * (double)n;
  size_t k = (size_t)rank;
  if ((double)k < rank) k++; /* ceil */
  if (k == 0) k = 1;
  if (k > n) k = n;
  return sorted[k - 1];
}
