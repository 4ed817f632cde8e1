/* fuzz_cli_key_file: the cnv tool's key file reader (cli_unhex, src/cli/readers.c), which
 * reads NAME.pub (32 bytes) and NAME.key (64 bytes) as hex text.
 * Properties (abort on violation):
 *   - an accepted text holds no NUL byte and, without its blanks at either end, is exactly
 *     the hex of the decoded bytes (case aside);
 *   - the reader never reads past the given length (ASan with a copy of exactly that size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, size_t size, size_t n) {
  uint8_t out[64];
  char hex[129];
  if (!cli_unhex(text, size, out, n)) return;
  if (memchr(text, 0, size)) abort();
  cli_hex(out, n, hex);
  const char *p = text;
  size_t len = size;
  while (len > 0 && strchr(" \t\r\n", *p)) p++, len--;
  while (len > 0 && strchr(" \t\r\n", p[len - 1])) len--;
  if (len != 2 * n || strncasecmp(p, hex, len) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1);
  if (!text) return 0;
  memcpy(text, data, size);
  check(text, size, 32);
  check(text, size, 64);
  free(text);
  return 0;
}
