/* Address parsing and a deadline-bounded connect (plain POSIX sockets). */
#include "client_addr.h"

#include <cnv/client.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

uint64_t client_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int client_ms_left(uint64_t deadline_ns) {
  uint64_t now = client_now_ns();
  if (now >= deadline_ns) return 0;
  uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Connects a fresh non-blocking socket to sa; waits for the connect up to deadline_ns. */
static cnv_status connect_one(int family, const struct sockaddr *sa, socklen_t salen, uint64_t deadline_ns,
                              int *out) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno == ENOMEM || errno == ENOBUFS ? CNV_ENOMEM : CNV_ECLIENT_CONNECT;
  cnv_status st = CNV_OK;
  if (connect(fd, sa, salen) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) {
      st = CNV_ECLIENT_CONNECT;
    } else {
      for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int ms = client_ms_left(deadline_ns);
        int n = ms == 0 ? 0 : poll(&p, 1, ms);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          st = n == 0 ? CNV_ECLIENT_TIMEOUT : CNV_ECLIENT_CONNECT;
          break;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) st = CNV_ECLIENT_CONNECT;
        break;
      }
    }
  }
  if (st != CNV_OK) {
    close(fd);
    return st;
  }
  if (family != AF_UNIX) {
    int one = 1;
    /* Latency only: a socket without TCP_NODELAY still works, so a failure is not checked. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  *out = fd;
  return CNV_OK;
}

/* A unix address's socket address. */
static cnv_status unix_addr(const char *path, struct sockaddr_un *sun) {
  memset(sun, 0, sizeof *sun);
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof sun->sun_path) return CNV_ECLIENT_ADDRESS;
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, path, n);
  return CNV_OK;
}

/* Splits "HOST:PORT" (HOST possibly in brackets) into host (NUL-terminated, cap bytes) and
 * the port's digits. */
static cnv_status tcp_split(const char *hostport, char *host, size_t cap, const char **port) {
  const char *colon = strrchr(hostport, ':');
  if (!colon) return CNV_ECLIENT_ADDRESS;
  const char *h = hostport;
  size_t hn = (size_t)(colon - hostport);
  if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') h++, hn -= 2;
  const char *p = colon + 1;
  size_t pn = strlen(p);
  if (hn == 0 || hn >= cap || pn == 0 || pn > 5 || strspn(p, "0123456789") != pn) return CNV_ECLIENT_ADDRESS;
  long pv = 0;
  for (size_t i = 0; i < pn; i++) pv = pv * 10 + (p[i] - '0');
  if (pv < 1 || pv > 65535) return CNV_ECLIENT_ADDRESS;
  if (memchr(h, '[', hn) || memchr(h, ']', hn)) return CNV_ECLIENT_ADDRESS;
  memcpy(host, h, hn);
  host[hn] = '\0';
  *port = p;
  return CNV_OK;
}

static cnv_status connect_tcp(const char *hostport, uint64_t deadline_ns, int *fd) {
  char host[256];
  const char *port = NULL;
  cnv_status st = tcp_split(hostport, host, sizeof host, &port);
  if (st != CNV_OK) return st;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) return gai == EAI_MEMORY ? CNV_ENOMEM : CNV_ECLIENT_CONNECT;
  st = CNV_ECLIENT_CONNECT;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    st = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline_ns, fd);
    if (st == CNV_OK || st == CNV_ECLIENT_TIMEOUT || st == CNV_ENOMEM) break;
  }
  freeaddrinfo(res);
  return st;
}

cnv_status client_connect_addr(const char *address, uint64_t deadline_ns, int *fd) {
  if (strncmp(address, "unix:", 5) == 0) {
    struct sockaddr_un sun;
    cnv_status st = unix_addr(address + 5, &sun);
    if (st != CNV_OK) return st;
    return connect_one(AF_UNIX, (const struct sockaddr *)&sun, (socklen_t)sizeof sun, deadline_ns, fd);
  }
  if (strncmp(address, "tcp:", 4) == 0) return connect_tcp(address + 4, deadline_ns, fd);
  return CNV_ECLIENT_ADDRESS;
}

cnv_status cnv_client_address_check(const char *address) {
  if (!address) return CNV_EINVAL;
  if (strncmp(address, "unix:", 5) == 0) {
    struct sockaddr_un sun;
    return unix_addr(address + 5, &sun);
  }
  if (strncmp(address, "tcp:", 4) == 0) {
    char host[256];
    const char *port = NULL;
    return tcp_split(address + 4, host, sizeof host, &port);
  }
  return CNV_ECLIENT_ADDRESS;
}
