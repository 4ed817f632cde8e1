/* Listen addresses: "tcp:HOST:PORT" and "unix:PATH", parsed, bound and read back. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "srv_internal.h"

/* Parses a decimal port 0..65535 of exactly len bytes. */
static int parse_port(const char *p, size_t len, uint16_t *out) {
  if (len == 0 || len > 5) return -1;
  uint32_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (uint32_t)(p[i] - '0');
  }
  if (v > 65535) return -1;
  *out = (uint16_t)v;
  return 0;
}

static cnv_status parse_tcp(const char *a, struct sockaddr_storage *ss, socklen_t *sl) {
  const char *colon = strrchr(a, ':');
  if (!colon || colon == a) return CNV_ESERVER_ADDRESS;
  uint16_t port;
  if (parse_port(colon + 1, strlen(colon + 1), &port) != 0) return CNV_ESERVER_ADDRESS;
  size_t hlen = (size_t)(colon - a);
  char host[64];
  if (a[0] == '[') {
    if (hlen < 3 || a[hlen - 1] != ']' || hlen - 2 >= sizeof host) return CNV_ESERVER_ADDRESS;
    memcpy(host, a + 1, hlen - 2);
    host[hlen - 2] = '\0';
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    memset(s6, 0, sizeof *s6);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) return CNV_ESERVER_ADDRESS;
    *sl = sizeof *s6;
    return CNV_OK;
  }
  if (hlen >= sizeof host) return CNV_ESERVER_ADDRESS;
  memcpy(host, a, hlen);
  host[hlen] = '\0';
  if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  memset(s4, 0, sizeof *s4);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(port);
  if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) return CNV_ESERVER_ADDRESS;
  *sl = sizeof *s4;
  return CNV_OK;
}

/* The bound address of a TCP listener, in listen's form. */
static void tcp_bound(int fd, char *out, size_t cap) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "?";
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
    snprintf(out, cap, "tcp:?");
    return;
  }
  if (ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
    snprintf(out, cap, "tcp:[%s]:%u", host, (unsigned)ntohs(s6->sin6_port));
  } else {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
    snprintf(out, cap, "tcp:%s:%u", host, (unsigned)ntohs(s4->sin_port));
  }
}

/* Makes room for a unix listener at su's path: nothing there, or a stale socket (nobody
 * accepts on it: connect is refused) that is removed. A live socket (a server accepts on it,
 * or its backlog is full), a file that is not a socket, or a path that cannot be probed is
 * left alone: CNV_ESERVER_LISTEN. */
static cnv_status clear_stale(const struct sockaddr_un *su) {
  struct stat sb;
  if (lstat(su->sun_path, &sb) != 0) return errno == ENOENT ? CNV_OK : CNV_ESERVER_LISTEN;
  if (!S_ISSOCK(sb.st_mode)) return CNV_ESERVER_LISTEN;
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return CNV_ESERVER_LISTEN;
  int rc = connect(probe, (const struct sockaddr *)su, (socklen_t)sizeof *su);
  int err = rc == 0 ? 0 : errno;
  close(probe);
  if (err == ENOENT) return CNV_OK;                   /* removed meanwhile */
  if (err != ECONNREFUSED) return CNV_ESERVER_LISTEN; /* connected, EAGAIN (backlog full), EACCES */
  /* stale; a server that binds the path between the probe and this unlink loses its file, as
   * with any take-over of a path: one server per path is the operator's rule */
  if (unlink(su->sun_path) != 0 && errno != ENOENT) return CNV_ESERVER_LISTEN;
  return CNV_OK;
}

void cnv__srv_unlink(const cnv__srv_listener *l) {
  struct stat sb;
  /* only the socket this listener bound: another server may have replaced a stale-looking
   * path (or the file was removed and something else made there) */
  if (!l->is_unix || !l->path[0] || lstat(l->path, &sb) != 0) return;
  if (S_ISSOCK(sb.st_mode) && (uint64_t)sb.st_dev == l->dev && (uint64_t)sb.st_ino == l->ino) unlink(l->path);
}

cnv_status cnv__srv_bind(const char *address, uint32_t backlog, cnv__srv_listener *l) {
  struct sockaddr_storage ss;
  socklen_t sl = 0;
  memset(&ss, 0, sizeof ss);
  memset(l, 0, sizeof *l);
  l->fd = -1;
  if (strncmp(address, "tcp:", 4) == 0) {
    cnv_status st = parse_tcp(address + 4, &ss, &sl);
    if (st != CNV_OK) return st;
  } else if (strncmp(address, "unix:", 5) == 0) {
    const char *path = address + 5;
    struct sockaddr_un *su = (struct sockaddr_un *)&ss;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof su->sun_path || n >= sizeof l->path) return CNV_ESERVER_ADDRESS;
    su->sun_family = AF_UNIX;
    memcpy(su->sun_path, path, n + 1);
    memcpy(l->path, path, n + 1);
    sl = (socklen_t)sizeof *su;
    l->is_unix = 1;
  } else {
    return CNV_ESERVER_ADDRESS;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return CNV_ESERVER_LISTEN;
  if (l->is_unix) {
    cnv_status st = clear_stale((const struct sockaddr_un *)&ss);
    if (st != CNV_OK) {
      close(fd);
      l->path[0] = '\0'; /* not ours: never removed */
      return st;
    }
  } else {
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      close(fd);
      return CNV_ESERVER_LISTEN;
    }
  }
  if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, (int)backlog) != 0) {
    close(fd);
    if (l->is_unix) l->path[0] = '\0'; /* not ours: never removed */
    return CNV_ESERVER_LISTEN;
  }
  l->fd = fd;
  if (l->is_unix) {
    /* the file this bind made: destroy removes the path only while it is still this one */
    struct stat sb;
    if (lstat(l->path, &sb) == 0) {
      l->dev = (uint64_t)sb.st_dev;
      l->ino = (uint64_t)sb.st_ino;
    } else {
      l->path[0] = '\0'; /* already gone or replaced: nothing of ours to remove */
    }
    snprintf(l->bound, sizeof l->bound, "unix:%s", l->path);
  } else {
    tcp_bound(fd, l->bound, sizeof l->bound);
  }
  return CNV_OK;
}

void cnv__srv_peer_key(int fd, int is_unix, uint8_t key[17]) {
  memset(key, 0, 17);
  if (is_unix) {
    key[0] = AF_UNIX;
    return;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) return; /* all unknown peers: one key */
  key[0] = (uint8_t)ss.ss_family;
  if (ss.ss_family == AF_INET6) {
    memcpy(key + 1, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
  } else if (ss.ss_family == AF_INET) {
    memcpy(key + 1, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
  }
}
