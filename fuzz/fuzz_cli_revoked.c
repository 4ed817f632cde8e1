/* fuzz_cli_revoked: the cnv tool's revocation file reader (cli_revoked_each,
 * src/cli/readers.c): one 32-byte link hash in hex per line, blank lines allowed.
 * Properties (abort on violation):
 *   - an accepted file holds no NUL byte, so a NUL can never end the file early and hide the
 *     hashes after it (the fail-open case);
 *   - it yields at most one hash per line, and each hash's hex appears in the text;
 *   - a refused file names a line that exists;
 *   - the reader never reads past the given length (ASan with a copy of exactly that size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
  const char *text;
  size_t size, n;
} seen;

static bool one(void *ctx, const uint8_t *hash) {
  seen *s = ctx;
  char hex[65];
  cli_hex(hash, 32, hex);
  bool found = false;
  for (size_t i = 0; !found && i + 64 <= s->size; i++) found = strncasecmp(s->text + i, hex, 64) == 0;
  if (!found) abort();
  s->n++;
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1);
  if (!text) return 0;
  memcpy(text, data, size);
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
  seen s = {text, size, 0};
  unsigned bad = 0;
  bool ok = cli_revoked_each(text, size, 32, one, &s, &bad);
  if (ok && (memchr(text, 0, size) || bad != 0)) abort();
  if (s.n > lines) abort();
  if (!ok && (bad == 0 || bad > lines)) abort();
  free(text);
  return 0;
}
