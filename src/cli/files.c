/* Whole-file read/write and hex text for key, token and revocation files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CLI_FILE_MAX (1u << 20)

bool cli_read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    cli_fail("%s: %s", path, strerror(errno));
    return false;
  }
  char *buf = malloc(CLI_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, CLI_FILE_MAX + 1, f) : 0;
  bool err = ferror(f) != 0;
  fclose(f);
  if (!buf || err || n > CLI_FILE_MAX) {
    cli_fail("%s: %s", path, !buf ? "out of memory" : err ? "read error" : "file too large");
    free(buf);
    return false;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return true;
}

bool cli_write_file(const char *path, const void *data, size_t len, unsigned mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)mode);
  if (fd < 0) {
    cli_fail("%s: %s", path, strerror(errno));
    return false;
  }
  bool ok = fchmod(fd, (mode_t)mode) == 0 && write(fd, data, len) == (ssize_t)len;
  int saved = errno;
  if (close(fd) != 0) ok = false;
  if (!ok) cli_fail("%s: %s", path, strerror(saved ? saved : errno));
  return ok;
}

void cli_hex(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cli_unhex(const char *text, size_t len, uint8_t *out, size_t n) {
  while (len > 0 && blank(text[0])) text++, len--;
  while (len > 0 && blank(text[len - 1])) len--;
  if (len != 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}
