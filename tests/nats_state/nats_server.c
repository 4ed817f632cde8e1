#include "nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *find_server(void) {
  static const char *const paths[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    if (access(paths[i], X_OK) == 0) return paths[i];
  }
  return NULL;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

static bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void remove_dir(const char *dir) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "nats_server: could not remove %s\n", dir);
}

/* Runs the server on s->port and s->dir and waits until it accepts connections. */
static bool spawn(test_nats_server *s, const char *prog) {
  char port[16];
  snprintf(port, sizeof port, "%d", s->port);
  s->pid = fork();
  if (s->pid < 0) return false;
  if (s->pid == 0) { /* its log goes to the store directory, removed with it */
    /* killed with the test if the test dies first; not holding the test's output open */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    char log[96];
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    execl(prog, prog, "-a", "127.0.0.1", "-p", port, "-js", "-sd", s->dir, "-l", log, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 1000; i++) { /* up to 10 s */
    if (accepts(s->port)) return true;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      fprintf(stderr, "nats-server exited at start\n");
      s->pid = 0;
      return false;
    }
    nanosleep(&(struct timespec){.tv_nsec = 10000000L}, NULL);
  }
  fprintf(stderr, "nats-server did not accept connections\n");
  return false;
}

/* SIGTERM, then SIGKILL after 5 s; waits for it. */
static void kill_server(test_nats_server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    int status;
    bool gone = false;
    for (int i = 0; i < 500 && !gone; i++) { /* up to 5 s, then SIGKILL */
      gone = waitpid(s->pid, &status, WNOHANG) == s->pid;
      if (!gone) nanosleep(&(struct timespec){.tv_nsec = 10000000L}, NULL);
    }
    if (!gone) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
    }
    s->pid = 0;
  }
}

bool test_nats_server_start(test_nats_server *s) {
  memset(s, 0, sizeof *s);
  const char *prog = find_server();
  if (!prog) {
    fprintf(stderr, "nats-server not found: install the Debian package nats-server (scripts/deps)\n");
    return false;
  }
  snprintf(s->dir, sizeof s->dir, "/tmp/cnv_nats_state_XXXXXX");
  if (!mkdtemp(s->dir)) return false;
  s->port = free_port();
  if (s->port < 0) return false;
  snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);
  return spawn(s, prog);
}

bool test_nats_server_restart(test_nats_server *s) {
  kill_server(s);
  const char *prog = find_server();
  return prog && spawn(s, prog);
}

void test_nats_server_stop(test_nats_server *s) {
  kill_server(s);
  if (s->dir[0]) remove_dir(s->dir);
  s->dir[0] = '\0';
}
