/* Whole-file reads (wiped before they are freed) and atomic writes through a temporary file
 * in the target's folder, with the checks that keep a write from replacing what it must not
 * (a non-regular file, the secret key the command read). */
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
#define CLI_FIRST_CHUNK (64u << 10)
#define CLI_SECRETS 4

/* Files read as secret keys by this command, by identity (a hard link is the same file). */
static struct {
  dev_t dev;
  ino_t ino;
} secrets[CLI_SECRETS];
static unsigned n_secrets;

static bool is_secret(const struct stat *st) {
  for (unsigned i = 0; i < n_secrets; i++) {
    if (secrets[i].dev == st->st_dev && secrets[i].ino == st->st_ino) return true;
  }
  return false;
}

/* Moves buf (n bytes used) into a buffer of `cap` bytes; the old one is wiped and freed. */
static char *grow(char *buf, size_t n, size_t cap) {
  char *bigger = malloc(cap);
  if (!bigger) return NULL;
  memcpy(bigger, buf, n);
  sodium_memzero(buf, n);
  free(buf);
  return bigger;
}

/* Reads the regular file on fd (at most max bytes) into a new NUL-terminated buffer. */
static int read_all(int fd, size_t max, char **out, size_t *len) {
  size_t cap = CLI_FIRST_CHUNK < max + 1 ? CLI_FIRST_CHUNK : max + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) return ENOMEM;
  for (;;) {
    if (n + 1 == cap) {
      if (cap == max + 1) break;
      size_t next = cap <= (max + 1) / 2 ? 2 * cap : max + 1;
      char *bigger = grow(buf, n, next);
      if (!bigger) {
        sodium_memzero(buf, n);
        free(buf);
        return ENOMEM;
      }
      buf = bigger, cap = next;
    }
    ssize_t got = read(fd, buf + n, cap - 1 - n);
    if (got == 0) break;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int err = errno;
      sodium_memzero(buf, n);
      free(buf);
      return err;
    }
    n += (size_t)got;
  }
  char extra;
  if (n == max && read(fd, &extra, 1) > 0) {
    sodium_memzero(&extra, 1);
    sodium_memzero(buf, n);
    free(buf);
    return EFBIG;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

/* Opens path for reading without blocking on a FIFO and refuses anything but a regular file. */
static int open_regular(const char *path, struct stat *st) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0 || fstat(fd, st) != 0) {
    cli_fail("%s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  if (!S_ISREG(st->st_mode)) {
    if (S_ISDIR(st->st_mode))
      cli_fail("%s: %s", path, strerror(EISDIR));
    else
      cli_fail("%s: not a regular file", path);
    close(fd);
    return -1;
  }
  return fd;
}

static bool read_capped(const char *path, size_t max, char **out, size_t *len, struct stat *st) {
  int fd = open_regular(path, st);
  if (fd < 0) return false;
  int err = read_all(fd, max, out, len);
  close(fd);
  if (err == EFBIG)
    cli_fail("%s: file too large (at most %zu bytes)", path, max);
  else if (err)
    cli_fail("%s: %s", path, strerror(err));
  return err == 0;
}

bool cli_read_file_max(const char *path, size_t max, char **out, size_t *len) {
  struct stat st;
  return read_capped(path, max, out, len, &st);
}

bool cli_read_file(const char *path, char **out, size_t *len) {
  return cli_read_file_max(path, CLI_FILE_MAX, out, len);
}

bool cli_read_secret(const char *path, char **out, size_t *len) {
  struct stat st;
  if (!read_capped(path, CLI_FILE_MAX, out, len, &st)) return false;
  /* Used all the same (refusing would strand an operator mid-task), but said: whoever else
   * can read the file holds the key. */
  if (st.st_mode & 077)
    fprintf(stderr,
            "cnv: warning: %s: secret key file is open to group or others (mode %04o); "
            "chmod 600 %s\n",
            path, (unsigned)(st.st_mode & 07777), path);
  if (!is_secret(&st) && n_secrets < CLI_SECRETS) {
    secrets[n_secrets].dev = st.st_dev;
    secrets[n_secrets].ino = st.st_ino;
    n_secrets++;
  }
  return true;
}

void cli_file_free(char *buf, size_t len) {
  if (!buf) return;
  sodium_memzero(buf, len + 1);
  free(buf);
}

bool cli_may_replace(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return true; /* absent, or the write itself reports the reason */
  if (!S_ISREG(st.st_mode)) {
    cli_fail("%s: exists and is not a regular file; not replaced", path);
    return false;
  }
  if (is_secret(&st)) {
    cli_fail("%s: holds the secret key read as --key; refusing to overwrite it", path);
    return false;
  }
  return true;
}

bool cli_tmp_open(cli_tmp *t, const char *path) {
  t->fd = -1;
  t->slot = -1;
  if ((size_t)snprintf(t->path, sizeof t->path, "%s.tmp-XXXXXX", path) >= sizeof t->path) {
    cli_fail("%s: %s", path, strerror(ENAMETOOLONG));
    return false;
  }
  if (!cli_may_replace(path)) return false;
  t->fd = cli_tmp_create(t->path, &t->slot);
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

/* Removes the temporary name (once: the slot is forgotten first). */
static void tmp_remove(cli_tmp *t) {
  cli_cleanup_forget(t->slot);
  t->slot = -1;
  unlink(t->path);
}

bool cli_tmp_finish(cli_tmp *t, const char *path, unsigned mode) {
  bool ok = fchmod(t->fd, (mode_t)mode) == 0 && fsync(t->fd) == 0;
  int err = ok ? 0 : errno;
  if (close(t->fd) != 0 && ok) ok = false, err = errno;
  t->fd = -1;
  if (!ok) {
    tmp_remove(t);
    cli_fail("%s: %s", path, strerror(err));
  }
  return ok;
}

bool cli_tmp_place(cli_tmp *t, const char *path, bool exclusive) {
  if (!exclusive && !cli_may_replace(path)) {
    tmp_remove(t);
    return false;
  }
  bool ok = exclusive ? link(t->path, path) == 0 : rename(t->path, path) == 0;
  int err = errno;
  if (ok && !exclusive)
    cli_cleanup_forget(t->slot), t->slot = -1;
  else
    tmp_remove(t);
  if (!ok && err == EEXIST)
    cli_fail("%s: exists; refusing to overwrite it", path);
  else if (!ok)
    cli_fail("%s: %s", path, strerror(err));
  return ok;
}

void cli_tmp_discard(cli_tmp *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  tmp_remove(t);
}

/* Writes data to a temporary file beside path and places it: over path, or (exclusive) only
 * where path does not exist. */
static bool write_via_tmp(const char *path, const void *data, size_t len, unsigned mode, bool exclusive) {
  cli_tmp t;
  if (!cli_tmp_open(&t, path)) return false;
  if (!cli_tmp_write(&t, data, len)) {
    cli_fail("%s: %s", path, strerror(errno));
    cli_tmp_discard(&t);
    return false;
  }
  return cli_tmp_finish(&t, path, mode) && cli_tmp_place(&t, path, exclusive);
}

bool cli_write_file_new(const char *path, const void *data, size_t len, unsigned mode) {
  return write_via_tmp(path, data, len, mode, true);
}

bool cli_write_file(const char *path, const void *data, size_t len, unsigned mode) {
  return write_via_tmp(path, data, len, mode, false);
}
