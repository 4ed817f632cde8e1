/* fuzz_cli_token_file: the cnv tool's token file reader (cli_token_text, src/cli/readers.c):
 * hex text of a token, blanks at either end ignored.
 * Properties (abort on violation):
 *   - an accepted text holds no NUL byte (a NUL is never trimmed as a blank);
 *   - it decodes to 1..cap bytes whose hex, case aside, is the text without its blanks;
 *   - the reader never reads past the given length (ASan with a copy of exactly that size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t buf[CAP];
  static char hex[2 * CAP + 1];
  char *text = malloc(size ? size : 1);
  if (!text) return 0;
  memcpy(text, data, size);
  size_t n = 0;
  if (cli_token_text(text, size, buf, CAP, &n)) {
    if (memchr(text, 0, size) || n == 0 || n > CAP) abort();
    cli_hex(buf, n, hex);
    const char *p = text;
    size_t len = size;
    while (len > 0 && strchr(" \t\r\n", *p)) p++, len--;
    while (len > 0 && strchr(" \t\r\n", p[len - 1])) len--;
    if (len != 2 * n || strncasecmp(p, hex, len) != 0) abort();
  }
  free(text);
  return 0;
}
