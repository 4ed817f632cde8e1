/* Key, token and hash files (hex text) and the caveat flags of mint/attenuate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cnv/status.h"
#include "token.h"

uint64_t tok_now(void) { return (uint64_t)time(NULL); }

/* Reads a hex file of n bytes; a secret key through cli_read_secret (no write of this command
 * may then replace it). */
static bool read_hex(const char *path, const char *what, uint8_t *out, size_t n, bool secret) {
  char *text = NULL;
  size_t len = 0;
  if (!(secret ? cli_read_secret(path, &text, &len) : cli_read_file(path, &text, &len))) return false;
  bool ok = cli_unhex(text, len, out, n);
  cli_file_free(text, len);
  if (!ok) {
    /* a bad digit can stop the decode part way: wipe what it wrote (a secret's first bytes) */
    sodium_memzero(out, n);
    cli_fail("%s: not a %s file (expected %zu bytes as hex text on one line)", path, what, n);
  }
  return ok;
}

bool tok_read_hex(const char *path, const char *what, uint8_t *out, size_t n) {
  return read_hex(path, what, out, n, false);
}

bool tok_read_secret(const char *path, uint8_t *sk) {
  return read_hex(path, "secret key", sk, CNV_DELEG_SECRET_BYTES, true);
}

bool tok_path_fits(void *ctx, const char *val, size_t n) {
  (void)val;
  if (n < TOK_PATH_CAP) return true;
  cli_fail("--%s: value too long (at most %d bytes)", (const char *)ctx, TOK_PATH_CAP - 1);
  return false;
}

/* A flag's value (n < TOK_PATH_CAP bytes: tok_path_fits checked it) as a C string in path. */
static void path_of(char path[TOK_PATH_CAP], const char *val, size_t n) {
  memcpy(path, val, n);
  path[n] = '\0';
}

bool tok_read_trust(const char *val, size_t n, uint8_t pk[CNV_DELEG_KEY_BYTES]) {
  char path[TOK_PATH_CAP];
  path_of(path, val, n);
  return tok_read_hex(path, "public key", pk, CNV_DELEG_KEY_BYTES);
}

bool tok_load_revoked(const char *val, size_t n, bool (*revoke)(void *ctx, const uint8_t *hash), void *ctx) {
  char path[TOK_PATH_CAP];
  char *text = NULL;
  size_t len = 0;
  unsigned bad_line = 0;
  path_of(path, val, n);
  if (!cli_read_file(path, &text, &len)) return false;
  bool ok = cli_revoked_each(text, len, CNV_DELEG_HASH_BYTES, revoke, ctx, &bad_line);
  cli_file_free(text, len);
  if (bad_line) cli_fail("%s:%u: not a link hash (64 hex digits)", path, bad_line);
  return ok;
}

bool tok_read_token(const char *path, uint8_t *buf, size_t *len, cnv_deleg_token *tok) {
  char *text = NULL;
  size_t tlen = 0, n = 0;
  if (!cli_read_file(path, &text, &tlen)) return false;
  bool ok = cli_token_text(text, tlen, buf, CNV_DELEG_MAX_TOKEN_BYTES, &n);
  cli_file_free(text, tlen);
  if (!ok) {
    cli_fail("%s: not a token file (expected hex text of at most %u bytes)", path,
             (unsigned)CNV_DELEG_MAX_TOKEN_BYTES);
    return false;
  }
  static cnv_deleg_token scratch;
  cnv_deleg_error err = {0, 0};
  cnv_status st = cnv_deleg_token_decode(buf, n, tok ? tok : &scratch, &err);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: %s: bad token at byte %u: %s\n", path, err.offset, cnv_strerror(st));
    return false;
  }
  *len = n;
  return true;
}

bool tok_hex_text(const uint8_t *data, size_t n, char **text, size_t *len) {
  *text = malloc(2 * n + 2);
  if (!*text) {
    cli_fail("out of memory");
    return false;
  }
  cli_hex(data, n, *text);
  (*text)[2 * n] = '\n';
  *len = 2 * n + 1;
  return true;
}

bool tok_write_hex(const char *path, const uint8_t *data, size_t n, unsigned mode) {
  char *text = NULL;
  size_t len = 0;
  if (!tok_hex_text(data, n, &text, &len)) return false;
  bool ok = cli_write_file(path, text, len, mode);
  cli_file_free(text, len);
  return ok;
}

bool tok_required(cli_cmd *cmd, const char *name, char *buf, size_t cap) {
  bool bad = false;
  if (cli_flag_str(cmd, name, buf, cap, &bad)) return true;
  if (!bad) cli_fail("--%s is required (see --help)", name);
  return false;
}

bool tok_parse_effects(const char *text, cnv_effects *out) {
  cnv_effects e = CNV_EFFECTS_NONE;
  if (strcmp(text, "none") == 0) return *out = e, true;
  const char *p = text;
  do {
    size_t n = strcspn(p, "|,");
    cnv_effects one;
    if (n == 0 || cnv_effect_parse(p, n, &one) != CNV_OK) {
      cli_fail("unknown effect in \"%s\" (names: read_only, mutate_state, network, ...)", text);
      return false;
    }
    e = cnv_effects_join(e, one);
    p += n;
  } while (*p++ != '\0'); /* after a separator another name must follow */
  *out = e;
  return true;
}

typedef struct pattern_ctx {
  cnv_deleg_pattern *set;
  uint8_t *n;
} pattern_ctx;

static bool add_pattern(void *ctx, const char *v, size_t n) {
  pattern_ctx *pc = ctx;
  if (*pc->n >= CNV_DELEG_MAX_PATTERNS) {
    cli_fail("more than %d patterns", CNV_DELEG_MAX_PATTERNS);
    return false;
  }
  if (cnv_deleg_pattern_parse(v, n, &pc->set[*pc->n]) != CNV_OK) {
    cli_fail("bad pattern \"%.*s\" (noun.verb or noun.*)", (int)n, v);
    return false;
  }
  for (uint8_t i = 0; i < *pc->n; i++) {
    const cnv_deleg_pattern *a = &pc->set[i], *b = &pc->set[*pc->n];
    if (a->id == b->id && a->noun == b->noun && a->kind == b->kind) return true;
  }
  (*pc->n)++;
  return true;
}

static bool window_flags(cli_cmd *cmd, cnv_deleg_caveats *cav) {
  static const char *const window[] = {"expiry", "ttl", NULL};
  bool bad = cli_flags_exclusive(cmd, window);
  uint64_t ttl = 0;
  cli_flag_u64(cmd, "not-before", 0, UINT64_MAX, &cav->not_before, &bad);
  cli_flag_u64(cmd, "expiry", 0, UINT64_MAX, &cav->expiry, &bad);
  if (cli_flag_u64(cmd, "ttl", 0, UINT32_MAX, &ttl, &bad)) cav->expiry = tok_now() + ttl;
  uint64_t v = cav->max_uses;
  if (cli_flag_u64(cmd, "uses", 0, UINT32_MAX, &v, &bad)) cav->max_uses = (uint32_t)v;
  v = cav->depth;
  if (cli_flag_u64(cmd, "depth", 0, 255, &v, &bad)) cav->depth = (uint8_t)v;
  cli_flag_u64(cmd, "swarm", 0, UINT64_MAX, &cav->swarm, &bad);
  return !bad;
}

bool tok_caveat_flags(cli_cmd *cmd, cnv_deleg_caveats *cav) {
  if (cli_flag_present(cmd, "allow")) cav->n_allow = 0;
  pattern_ctx allow = {cav->allow, &cav->n_allow};
  pattern_ctx forbid = {cav->forbid, &cav->n_forbid};
  if (!cli_flag_each(cmd, "allow", add_pattern, &allow) ||
      !cli_flag_each(cmd, "forbid", add_pattern, &forbid))
    return false;
  char eff[512];
  bool bad = false;
  if (cli_flag_str(cmd, "effects", eff, sizeof eff, &bad) && !tok_parse_effects(eff, &cav->effects))
    return false;
  return !bad && window_flags(cmd, cav);
}
