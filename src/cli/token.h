/* Shared pieces of the `cnv token` verbs: key/token files and caveat flags. */
#ifndef CNV_CLI_TOKEN_H
#define CNV_CLI_TOKEN_H

#include "cli.h"
#include "cnv/delegation.h"
#include "readers.h"

/* The longest path a file flag of the cnv tool takes, its terminating NUL included. */
#define TOK_PATH_CAP 4096

/* Reads a hex file of exactly n bytes (a public key, a secret key or a hash). Prints the
 * error ("<path>: not a <what> file") and returns false on failure. */
bool tok_read_hex(const char *path, const char *what, uint8_t *out, size_t n);
/* tok_read_hex for a secret key (CNV_DELEG_SECRET_BYTES) through cli_read_secret: no later
 * write of this command replaces that file. */
bool tok_read_secret(const char *path, uint8_t *sk);
/* Reads a token file (hex text) into buf; checks it decodes (into *tok when non-NULL). */
bool tok_read_token(const char *path, uint8_t *buf, size_t *len, cnv_deleg_token *tok);
/* Bytes as one hex line in a new buffer (*len bytes, LF-terminated); free it with
 * cli_file_free (it may hold a secret). */
bool tok_hex_text(const uint8_t *data, size_t n, char **text, size_t *len);
/* Writes bytes as one hex line to path with the given mode (atomically; the text is wiped). */
bool tok_write_hex(const char *path, const uint8_t *data, size_t n, unsigned mode);
/* cli_flag_each callback for a repeatable path flag (ctx: the flag's name, for the message):
 * the first pass, which checks only the length (the files are read after the usage checks). */
bool tok_path_fits(void *ctx, const char *val, size_t n);
/* A --trust value (n bytes, not NUL-terminated: the path of a public key file) read into pk.
 * Prints the error and returns false on failure. */
bool tok_read_trust(const char *val, size_t n, uint8_t pk[CNV_DELEG_KEY_BYTES]);
/* A --revoked value (n bytes, not NUL-terminated: the path of a revocation file): calls
 * revoke(ctx, hash) for every hash line. A line it does not understand (a NUL byte, a
 * zero-filled block, anything but a hash) refuses the whole file, so that nothing after it can
 * be hidden. Returns false (after printing) on an unreadable file, a bad line or a false from
 * revoke. */
bool tok_load_revoked(const char *val, size_t n, bool (*revoke)(void *ctx, const uint8_t *hash), void *ctx);
/* The value of a required string flag (prints "--name is required" when missing). */
bool tok_required(cli_cmd *cmd, const char *name, char *buf, size_t cap);
/* Applies the caveat flags (--allow, --forbid, --effects, --not-before, --expiry, --ttl,
 * --uses, --depth, --swarm) over *cav. allow replaces the set when given; forbid adds.
 * Returns false (after printing) on a bad value. */
bool tok_caveat_flags(cli_cmd *cmd, cnv_deleg_caveats *cav);
/* Parses "a|b" or "a,b" effect names ("none" = empty); an empty name (an empty text, a
 * separator at either end or twice) is refused. */
bool tok_parse_effects(const char *text, cnv_effects *out);
/* Seconds since the epoch. */
uint64_t tok_now(void);

/* The inspect and verify verbs (token_check.c). */
int cli_token_inspect(cli_cmd *cmd);
int cli_token_verify(cli_cmd *cmd);

#endif
