/* Length-based parsers of the tool's hex text files (readers.h). */
#include <string.h>

#include "readers.h"

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

/* Narrows [*text, *text + *len) to its part without blanks at either end. */
static void trim(const char **text, size_t *len) {
  while (*len > 0 && blank((*text)[0])) (*text)++, (*len)--;
  while (*len > 0 && blank((*text)[*len - 1])) (*len)--;
}

static bool unhex_exact(const char *text, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

bool cli_unhex(const char *text, size_t len, uint8_t *out, size_t n) {
  trim(&text, &len);
  return len == 2 * n && unhex_exact(text, n, out);
}

bool cli_token_text(const char *text, size_t len, uint8_t *buf, size_t cap, size_t *n) {
  trim(&text, &len);
  if (len == 0 || len % 2 != 0 || len / 2 > cap || !unhex_exact(text, len / 2, buf)) return false;
  *n = len / 2;
  return true;
}

bool cli_revoked_each(const char *text, size_t len, size_t hash_len,
                      bool (*fn)(void *ctx, const uint8_t *hash), void *ctx, unsigned *bad_line) {
  uint8_t hash[64];
  unsigned lineno = 0;
  *bad_line = 0;
  if (hash_len > sizeof hash) return *bad_line = 1, false;
  for (size_t pos = 0; pos < len;) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;
    pos += n + (nl != NULL);
    lineno++;
    const char *t = line;
    size_t tn = n;
    trim(&t, &tn);
    if (tn == 0) continue;
    if (!cli_unhex(line, n, hash, hash_len)) return *bad_line = lineno, false;
    if (!fn(ctx, hash)) return false;
  }
  return true;
}
