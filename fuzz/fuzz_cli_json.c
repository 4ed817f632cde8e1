/* fuzz_cli_json: the cnv tool's reader of Google Benchmark's JSON (src/cli/json.c, on
 * jansson), which `cnv bench` runs over the harness's output.
 * Properties (abort on violation):
 *   - an accepted document holds no NUL byte (JSON has no place for a raw NUL, and the reader
 *     refuses an escaped one, so none is ever taken for an end of text);
 *   - the reader never reads past the given length (ASan with a copy of exactly that size);
 *   - a refusal always says why (a non-empty, NUL-terminated reason within its buffer);
 *   - an accepted document is still accepted with a blank appended, and refused with a
 *     NUL appended. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count(void *ctx, const bench_entry *e) {
  (void)e;
  (*(size_t *)ctx)++;
  return true;
}

static bool parse(const char *text, size_t len) {
  size_t n = 0;
  char err[JSON_ERROR_CAP];
  memset(err, 'x', sizeof err);
  bool ok = json_bench_entries(text, len, count, &n, err);
  if (!ok && (err[0] == '\0' || !memchr(err, '\0', sizeof err))) abort();
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  bool ok = parse(text, size);
  if (ok && memchr(text, 0, size)) abort();
  if (ok) {
    text[size] = ' ';
    if (!parse(text, size + 1)) abort();
    text[size] = '\0';
    if (parse(text, size + 1)) abort();
  }
  free(text);
  return 0;
}
