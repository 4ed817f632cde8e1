/* The cnv tool's file formats, parsed from (pointer, length): hex key and hash text, token
 * files and revocation files. No I/O and no printing, so the fuzz targets under fuzz/ run
 * them directly. A NUL byte is never a blank nor an end of text: it makes the text malformed. */
#ifndef CNV_CLI_READERS_H
#define CNV_CLI_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hex-encodes n bytes into out (2n+1 chars, NUL-terminated). */
void cli_hex(const uint8_t *in, size_t n, char *out);

/* Decodes exactly n bytes from len bytes of hex text, ignoring blanks (space, tab, CR, LF) at
 * either end. False on anything else (a wrong length, a non-hex byte, a NUL). */
bool cli_unhex(const char *text, size_t len, uint8_t *out, size_t n);

/* A token file: hex text (blanks at either end ignored) of 1..cap bytes decoded into buf,
 * *n its length. False when the text is not that (the token itself is not decoded here). */
bool cli_token_text(const char *text, size_t len, uint8_t *buf, size_t cap, size_t *n);

/* A revocation file: lines (LF-separated, a CR before the LF allowed) each blank or one hash
 * of hash_len bytes in hex. Calls fn for every hash in order; stops and returns false when fn
 * does. Returns false with *bad_line (1-based) set at the first malformed line, else true. */
bool cli_revoked_each(const char *text, size_t len, size_t hash_len,
                      bool (*fn)(void *ctx, const uint8_t *hash), void *ctx, unsigned *bad_line);

#endif
