/* `cnv token keygen|mint|attenuate|inspect|verify|revoke`: operator commands over files.
 * Every file is hex text on one line: NAME.pub (32-byte Ed25519 public key), NAME.key
 * (64-byte secret key, mode 0600), tokens, and revocation files (one link hash a line). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnv/status.h"
#include "token.h"

/* A temporary copy of the public key file being replaced (a regular file or absent), to put
 * back if the new secret key cannot be placed. */
typedef struct old_pub {
  cli_tmp t;
  bool present;
} old_pub;

static bool save_pub(old_pub *o, const char *pub) {
  struct stat st;
  o->present = lstat(pub, &st) == 0;
  if (!o->present) return true;
  char *text = NULL;
  size_t len = 0;
  if (!cli_read_file(pub, &text, &len)) return false;
  bool ok = cli_tmp_open(&o->t, pub);
  if (ok && !cli_tmp_write(&o->t, text, len)) {
    cli_fail("%s: cannot save a copy: %s", pub, strerror(errno));
    cli_tmp_discard(&o->t);
    ok = false;
  }
  cli_file_free(text, len);
  return ok && cli_tmp_finish(&o->t, pub, (unsigned)(st.st_mode & 07777));
}

/* --force: the public key is renamed over the old one first, then the secret key; when the
 * secret key cannot be placed the old public key is put back (or the new one removed when
 * there was none). The old secret key is replaced last, by one rename, so it is never lost
 * unless the new pair is in place. The three stop signals are held back meanwhile, so an
 * interruption cannot fall between the two renames. */
static bool place_forced(cli_tmp *tk, cli_tmp *tp, const char *key, const char *pub) {
  old_pub o;
  if (!save_pub(&o, pub)) return cli_tmp_discard(tk), cli_tmp_discard(tp), false;
  sigset_t mask;
  if (!cli_signals_block(&mask)) {
    if (o.present) cli_tmp_discard(&o.t);
    return cli_tmp_discard(tk), cli_tmp_discard(tp), false;
  }
  bool pub_placed = cli_tmp_place(tp, pub, false);
  bool ok = pub_placed && cli_tmp_place(tk, key, false);
  bool restored = true;
  if (!pub_placed) cli_tmp_discard(tk);
  if (pub_placed && !ok)
    restored = o.present ? cli_tmp_place(&o.t, pub, false) : unlink(pub) == 0;
  else if (o.present)
    cli_tmp_discard(&o.t);
  if (!restored)
    cli_fail(
        "%s: could not put the old public key back; %s is unchanged (its last 32 bytes are "
        "the public key)",
        pub, key);
  return cli_signals_restore(&mask) && ok;
}

/* Whether keygen may write `path`: absent, or (with force) a regular file, so that neither
 * rename of the pair can fail on the target and leave half a pair. */
static bool replaceable(const char *path, bool force) {
  struct stat st;
  if (lstat(path, &st) != 0) return true;
  if (!force) {
    cli_fail(
        "%s: exists; refusing to overwrite a key pair (a lost root key invalidates every "
        "token minted with it); pass --force to replace it",
        path);
  } else if (!S_ISREG(st.st_mode)) {
    cli_fail("%s: exists and is not a regular file; not replaced", path);
  }
  return force && S_ISREG(st.st_mode);
}

/* Writes both halves to temporary files first, so that no failure to create, write or sync
 * either leaves a new half behind, then places them: by link, which refuses an existing name
 * (the first is removed again when the second fails), or with `force` by place_forced. */
static bool write_pair(const char *key, const char *pub, const char *sk_text, const char *pk_text,
                       size_t sk_len, size_t pk_len, bool force) {
  cli_tmp tk, tp;
  if (!cli_tmp_open(&tk, key)) return false;
  if (!cli_tmp_open(&tp, pub)) return cli_tmp_discard(&tk), false;
  bool key_ok = cli_tmp_write(&tk, sk_text, sk_len);
  if (!key_ok || !cli_tmp_write(&tp, pk_text, pk_len)) {
    cli_fail("%s: %s", key_ok ? pub : key, strerror(errno));
    cli_tmp_discard(&tk);
    cli_tmp_discard(&tp);
    return false;
  }
  if (!cli_tmp_finish(&tk, key, 0600)) return cli_tmp_discard(&tp), false;
  if (!cli_tmp_finish(&tp, pub, 0644)) return cli_tmp_discard(&tk), false;
  if (force) return place_forced(&tk, &tp, key, pub);
  if (!cli_tmp_place(&tk, key, true)) return cli_tmp_discard(&tp), false;
  if (cli_tmp_place(&tp, pub, true)) return true;
  unlink(key);
  return false;
}

static int keygen(cli_cmd *cmd) {
  char out[TOK_PATH_CAP], pub[TOK_PATH_CAP + 8], key[TOK_PATH_CAP + 8];
  bool bad = false;
  if (!tok_required(cmd, "out", out, sizeof out)) return CLI_EXIT_USAGE;
  bool force = cli_flag_bool(cmd, "force", &bad);
  if (bad || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  snprintf(pub, sizeof pub, "%s.pub", out);
  snprintf(key, sizeof key, "%s.key", out);
  if (!replaceable(key, force) || !replaceable(pub, force)) return CLI_EXIT_FAIL;
  uint8_t pk[CNV_DELEG_KEY_BYTES], sk[CNV_DELEG_SECRET_BYTES];
  if (sodium_init() < 0 || crypto_sign_keypair(pk, sk) != 0) {
    cli_fail("libsodium failed to initialize");
    return CLI_EXIT_FAIL;
  }
  char *sk_text = NULL, *pk_text = NULL;
  size_t sk_len = 0, pk_len = 0;
  bool ok = tok_hex_text(sk, sizeof sk, &sk_text, &sk_len) && tok_hex_text(pk, sizeof pk, &pk_text, &pk_len);
  sodium_memzero(sk, sizeof sk);
  ok = ok && write_pair(key, pub, sk_text, pk_text, sk_len, pk_len, force);
  cli_file_free(sk_text, sk_len);
  cli_file_free(pk_text, pk_len);
  if (ok) printf("wrote %s (public) and %s (secret, mode 0600)\n", pub, key);
  return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* The --key and --audience paths (both required). */
static bool signer_paths(cli_cmd *cmd, char *key, char *audience) {
  return tok_required(cmd, "key", key, TOK_PATH_CAP) && tok_required(cmd, "audience", audience, TOK_PATH_CAP);
}

/* Reads the secret key and audience files named by signer_paths (sk is wiped on failure). */
static bool read_signer(const char *key, const char *audience, uint8_t *sk, uint8_t *aud) {
  if (tok_read_secret(key, sk) &&
      tok_read_hex(audience, "public key", aud, CNV_DELEG_KEY_BYTES))
    return true;
  sodium_memzero(sk, CNV_DELEG_SECRET_BYTES);
  return false;
}

/* Signs with mint (in == NULL) or attenuate and writes the token to `out`. */
static int sign_and_write(const uint8_t *in, size_t in_len, const char *key, const char *audience,
                          const cnv_deleg_caveats *cav, const char *out) {
  static uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  uint8_t sk[CNV_DELEG_SECRET_BYTES], aud[CNV_DELEG_KEY_BYTES];
  size_t len = 0;
  if (!read_signer(key, audience, sk, aud)) return CLI_EXIT_FAIL;
  cnv_status st = in ? cnv_deleg_attenuate(in, in_len, sk, aud, cav, NULL, buf, sizeof buf, &len)
                     : cnv_deleg_mint_root(sk, aud, cav, NULL, buf, sizeof buf, &len);
  sodium_memzero(sk, sizeof sk);
  if (st != CNV_OK) {
    cli_error(in ? "attenuate" : "mint", st);
    return CLI_EXIT_FAIL;
  }
  return tok_write_hex(out, buf, len, 0644) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int mint(cli_cmd *cmd) {
  char out[TOK_PATH_CAP], key[TOK_PATH_CAP], audience[TOK_PATH_CAP];
  cnv_deleg_caveats cav;
  memset(&cav, 0, sizeof cav);
  cav.expiry = CNV_DELEG_NO_EXPIRY;
  cav.max_uses = CNV_DELEG_UNLIMITED_USES;
  cav.depth = 4;
  if (!tok_required(cmd, "out", out, sizeof out) || !signer_paths(cmd, key, audience) ||
      !tok_caveat_flags(cmd, &cav) || cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  return sign_and_write(NULL, 0, key, audience, &cav, out);
}

static int attenuate(cli_cmd *cmd) {
  static uint8_t in[CNV_DELEG_MAX_TOKEN_BYTES];
  static cnv_deleg_token tok;
  char out[TOK_PATH_CAP], path[TOK_PATH_CAP], key[TOK_PATH_CAP], audience[TOK_PATH_CAP];
  size_t in_len = 0;
  /* Every flag is judged before the token is read (exit 2 opens no file), on a scratch set of
   * caveats; they are applied again over the last link's once it is known. */
  cnv_deleg_caveats cav;
  memset(&cav, 0, sizeof cav);
  if (!tok_required(cmd, "token", path, sizeof path) || !tok_required(cmd, "out", out, sizeof out) ||
      !signer_paths(cmd, key, audience) || !tok_caveat_flags(cmd, &cav) || cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  if (!tok_read_token(path, in, &in_len, &tok)) return CLI_EXIT_FAIL;
  cav = tok.links[tok.n_links - 1].caveats;
  cav.depth = cav.depth > 0 ? (uint8_t)(cav.depth - 1) : 0;
  if (!tok_caveat_flags(cmd, &cav)) return CLI_EXIT_USAGE;
  return sign_and_write(in, in_len, key, audience, &cav, out);
}

/* Appends all of text to fd (short writes continued); false with errno set. */
static bool append_all(int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) return false;
    text += n;
    len -= (size_t)n;
  }
  return true;
}

/* Appends one line to the revocation file, after a newline when the file's last line has
 * none (two hashes are never joined). The file must be a regular file (or absent). */
static bool append_line(const char *list, const char *line, size_t len) {
  int fd = open(list, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
  struct stat st;
  char last = '\n';
  int err = 0;
  if (fd < 0 || fstat(fd, &st) != 0)
    err = errno;
  else if (S_ISDIR(st.st_mode))
    err = EISDIR;
  else if (!S_ISREG(st.st_mode))
    err = EINVAL;
  else if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
    err = errno ? errno : EIO;
  if (!err && last != '\n' && !append_all(fd, "\n", 1)) err = errno;
  if (!err && !append_all(fd, line, len)) err = errno;
  if (fd >= 0 && close(fd) != 0 && !err) err = errno;
  if (err == EINVAL)
    cli_fail("%s: not a regular file; the revocation is not appended", list);
  else if (err)
    cli_fail("%s: cannot append the revocation: %s", list, strerror(err));
  return err == 0;
}

static int revoke_link(cli_cmd *cmd) {
  static uint8_t in[CNV_DELEG_MAX_TOKEN_BYTES];
  static cnv_deleg_token tok;
  char path[TOK_PATH_CAP], list[TOK_PATH_CAP];
  size_t len = 0;
  uint64_t link = UINT64_MAX;
  bool bad = false;
  if (!tok_required(cmd, "token", path, sizeof path) || !tok_required(cmd, "revoked", list, sizeof list))
    return CLI_EXIT_USAGE;
  cli_flag_u64(cmd, "link", 0, CNV_DELEG_MAX_LINKS - 1, &link, &bad);
  if (bad || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  if (!tok_read_token(path, in, &len, &tok)) return CLI_EXIT_FAIL;
  if (link == UINT64_MAX) link = tok.n_links - 1u;
  if (link >= tok.n_links) { /* the flag was in range: the token's content decides, so 1 */
    cli_fail("--link %llu: the token has %u links", (unsigned long long)link, tok.n_links);
    return CLI_EXIT_FAIL;
  }
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  char hex[2 * CNV_DELEG_HASH_BYTES + 2];
  cnv_status st = cnv_deleg_link_hash(in, len, (uint32_t)link, hash);
  if (st != CNV_OK) {
    cli_error("link hash", st);
    return CLI_EXIT_FAIL;
  }
  cli_hex(hash, sizeof hash, hex);
  hex[2 * CNV_DELEG_HASH_BYTES] = '\n';
  if (!append_line(list, hex, sizeof hex - 1)) return CLI_EXIT_FAIL;
  hex[2 * CNV_DELEG_HASH_BYTES] = '\0';
  printf("revoked link %llu: %s\n", (unsigned long long)link, hex);
  return CLI_EXIT_OK;
}

static const char *const no_bools[] = {NULL};
static const char *const keygen_bools[] = {"force", NULL};

static const cli_verb verbs[] = {
    {"keygen", "write an Ed25519 key pair (NAME.pub, NAME.key with mode 0600)",
     "--out NAME [--force]\n"
     "  Refuses (exit 1) when NAME.key or NAME.pub exists, unless --force replaces the pair.",
     keygen_bools, keygen},
    {"mint", "mint a root token for an audience",
     "--key ISSUER.key --audience AUDIENCE.pub --out TOKEN [--allow PATTERN]... [--forbid PATTERN]...\n"
     "    [--effects a|b] [--not-before S] [--expiry S | --ttl S] [--uses N] [--depth N] [--swarm N]\n"
     "  Defaults: no patterns, no effects, no expiry, unlimited uses, depth 4, any swarm.",
     no_bools, mint},
    {"attenuate", "append a narrowing link (a widening is refused)",
     "--token IN --key HOLDER.key --audience AUDIENCE.pub --out TOKEN [caveat flags as mint]\n"
     "  Caveats start from the last link's (depth one less); --allow replaces the allowed set,\n"
     "  --forbid adds to the forbidden set.",
     no_bools, attenuate},
    {"inspect", "print a token's chain", "--token FILE", no_bools, cli_token_inspect},
    {"verify", "verify a token for a holder, capability, effects and time",
     "--token FILE --trust ROOT.pub [--trust ...] --holder HOLDER.pub [--cap PATH] [--effects a|b]\n"
     "    [--now S] [--swarm N] [--revoked FILE]...\n"
     "  Every --revoked file counts. Use limits are not checked (verify keeps no use counts):\n"
     "  a token with use-limited links prints \"uses: not checked ...\" after ok.",
     no_bools, cli_token_verify},
    {"revoke", "record a link hash in a revocation file",
     "--token FILE --revoked FILE [--link INDEX]   (default: the last link)", no_bools, revoke_link},
};

const cli_noun cli_noun_token = {"token", "delegation tokens: keys, minting, attenuation, verification",
                                 verbs, sizeof verbs / sizeof verbs[0], NULL};
