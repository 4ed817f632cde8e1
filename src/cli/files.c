/* Whole-file reads (wiped before they are freed) and atomic writes through a temporary file
 * in the target's folder. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CLI_FILE_MAX (1u << 20)

bool cli_read_file(const char *path, char **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    cli_fail("%s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    cli_fail("%s: %s", path, strerror(EISDIR));
    return false;
  }
  char *buf = malloc(CLI_FILE_MAX + 1);
  size_t n = 0;
  int err = buf ? 0 : ENOMEM;
  while (!err && n <= CLI_FILE_MAX) {
    ssize_t got = read(fd, buf + n, CLI_FILE_MAX + 1 - n);
    if (got == 0) break;
    if (got < 0 && errno != EINTR) err = errno;
    if (got > 0) n += (size_t)got;
  }
  close(fd);
  if (err || n > CLI_FILE_MAX) {
    if (err) cli_fail("%s: %s", path, strerror(err));
    else cli_fail("%s: file too large (at most %u bytes)", path, CLI_FILE_MAX);
    cli_file_free(buf, n);
    return false;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return true;
}

void cli_file_free(char *buf, size_t len) {
  if (!buf) return;
  sodium_memzero(buf, len + 1 <= CLI_FILE_MAX + 1 ? len + 1 : CLI_FILE_MAX + 1);
  free(buf);
}

bool cli_tmp_open(cli_tmp *t, const char *path) {
  t->fd = -1;
  if ((size_t)snprintf(t->path, sizeof t->path, "%s.tmp-XXXXXX", path) >= sizeof t->path) {
    cli_fail("%s: %s", path, strerror(ENAMETOOLONG));
    return false;
  }
  t->fd = mkostemp(t->path, O_CLOEXEC);
  if (t->fd < 0) {
    cli_fail("%s: cannot create a temporary file beside it: %s", path, strerror(errno));
    return false;
  }
  return true;
}

bool cli_tmp_write(cli_tmp *t, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(t->fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

bool cli_tmp_finish(cli_tmp *t, const char *path, unsigned mode) {
  bool ok = fchmod(t->fd, (mode_t)mode) == 0 && fsync(t->fd) == 0;
  int err = ok ? 0 : errno;
  if (close(t->fd) != 0 && ok) ok = false, err = errno;
  t->fd = -1;
  if (!ok) {
    unlink(t->path);
    cli_fail("%s: %s", path, strerror(err));
  }
  return ok;
}

bool cli_tmp_place(cli_tmp *t, const char *path, bool exclusive) {
  bool ok = exclusive ? link(t->path, path) == 0 : rename(t->path, path) == 0;
  int err = errno;
  if (!ok || exclusive) unlink(t->path);
  if (!ok && err == EEXIST) cli_fail("%s: exists; refusing to overwrite it", path);
  else if (!ok) cli_fail("%s: %s", path, strerror(err));
  return ok;
}

void cli_tmp_discard(cli_tmp *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  unlink(t->path);
}

bool cli_write_file(const char *path, const void *data, size_t len, unsigned mode) {
  cli_tmp t;
  if (!cli_tmp_open(&t, path)) return false;
  if (!cli_tmp_write(&t, data, len)) {
    cli_fail("%s: %s", path, strerror(errno));
    cli_tmp_discard(&t);
    return false;
  }
  return cli_tmp_finish(&t, path, mode) && cli_tmp_place(&t, path, false);
}
