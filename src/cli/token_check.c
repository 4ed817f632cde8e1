/* `cnv token inspect` (readable chain) and `cnv token verify` (trust store, revocation files,
 * holder, capability, effects, time; use limits are reported as not checked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnv/core.h"
#include "cnv/status.h"
#include "token.h"

static void print_time(const char *label, uint64_t t, uint64_t none) {
  if (t == none)
    printf("    %-11s %s\n", label, none == 0 ? "0" : "never");
  else
    printf("    %-11s %llu\n", label, (unsigned long long)t);
}

static void print_patterns(const char *label, const cnv_deleg_pattern *p, uint8_t n) {
  printf("    %-11s", label);
  if (n == 0) printf(" (none)");
  for (uint8_t i = 0; i < n; i++) {
    printf(" %s:%016llx", p[i].kind == CNV_DELEG_PREFIX ? "prefix" : "exact",
           (unsigned long long)p[i].id);
  }
  printf("\n");
}

static void print_link(const uint8_t *buf, size_t len, const cnv_deleg_token *tok, uint32_t i) {
  const cnv_deleg_link *l = &tok->links[i];
  const cnv_deleg_caveats *c = &l->caveats;
  char hex[2 * CNV_DELEG_HASH_BYTES + 1], eff[256];
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  size_t need = 0;
  cnv_status st = cnv_deleg_link_hash(buf, len, i, hash);
  if (st == CNV_OK) cli_hex(hash, sizeof hash, hex);
  printf("link %u\n    hash        %s\n", i, st == CNV_OK ? hex : cnv_strerror(st));
  cli_hex(l->issuer, CNV_DELEG_KEY_BYTES, hex);
  printf("    issuer      %s\n", hex);
  cli_hex(l->audience, CNV_DELEG_KEY_BYTES, hex);
  printf("    audience    %s\n", hex);
  print_time("not-before", c->not_before, 0);
  print_time("expiry", c->expiry, CNV_DELEG_NO_EXPIRY);
  if (c->swarm == CNV_DELEG_ANY_SWARM)
    printf("    swarm       any\n");
  else
    printf("    swarm       %llu\n", (unsigned long long)c->swarm);
  if (c->max_uses == CNV_DELEG_UNLIMITED_USES)
    printf("    uses        unlimited\n");
  else
    printf("    uses        %u\n", c->max_uses);
  printf("    depth       %u\n", c->depth);
  /* eff holds every flag name joined (at most 185 bytes); the hex form is the fallback. */
  if (cnv_effects_format(c->effects, eff, sizeof eff, &need) != CNV_OK)
    snprintf(eff, sizeof eff, "0x%04x", (unsigned)c->effects);
  printf("    effects     %s\n", eff);
  print_patterns("allow", c->allow, c->n_allow);
  print_patterns("forbid", c->forbid, c->n_forbid);
}

int cli_token_inspect(cli_cmd *cmd) {
  static uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  static cnv_deleg_token tok;
  char path[TOK_PATH_CAP];
  size_t len = 0;
  if (!tok_required(cmd, "token", path, sizeof path)) return CLI_EXIT_USAGE;
  if (cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  if (!tok_read_token(path, buf, &len, &tok)) return CLI_EXIT_FAIL;
  printf("token version %u, %u link(s), %zu bytes\n", tok.version, tok.n_links, len);
  for (uint32_t i = 0; i < tok.n_links; i++) print_link(buf, len, &tok, i);
  return CLI_EXIT_OK;
}

typedef struct verify_ctx {
  cnv_deleg_verifier *v;
  bool failed;
} verify_ctx;

static bool add_trust(void *ctx, const char *val, size_t n) {
  verify_ctx *vc = ctx;
  uint8_t pk[CNV_DELEG_KEY_BYTES];
  if (!tok_read_trust(val, n, pk)) return !(vc->failed = true);
  cnv_status st = cnv_deleg_trust_add(vc->v, pk);
  if (st != CNV_OK) cli_error("trust", st);
  return !(vc->failed = st != CNV_OK);
}

static bool revoke_one(void *ctx, const uint8_t *hash) {
  cnv_status st = cnv_deleg_revoke(ctx, hash);
  if (st != CNV_OK) cli_error("revoked", st);
  return st == CNV_OK;
}

/* Feeds every hash line of one revocation file (a --revoked value) to the verifier. */
static bool load_revoked(void *ctx, const char *val, size_t n) {
  verify_ctx *vc = ctx;
  return !(vc->failed = !tok_load_revoked(val, n, revoke_one, vc->v));
}

/* The links of tok whose uses are limited (verify checks no use count: it only says so). */
static unsigned use_limited(const cnv_deleg_token *tok) {
  unsigned n = 0;
  for (uint32_t i = 0; i < tok->n_links; i++) n += tok->links[i].caveats.max_uses != CNV_DELEG_UNLIMITED_USES;
  return n;
}

/* Request flags: --holder (required; its path into holder_path), --cap, --effects, --now,
 * --swarm. */
static bool request_flags(cli_cmd *cmd, cnv_deleg_request *req, char *holder_path,
                          cnv_deleg_cap *cap) {
  char text[512];
  bool bad = false;
  req->now = tok_now();
  if (!tok_required(cmd, "holder", holder_path, TOK_PATH_CAP)) return false;
  cli_flag_u64(cmd, "now", 0, UINT64_MAX, &req->now, &bad);
  cli_flag_u64(cmd, "swarm", 0, UINT64_MAX, &req->swarm, &bad);
  if (cli_flag_str(cmd, "cap", text, sizeof text, &bad)) {
    if (cnv_deleg_cap_from_path(text, strlen(text), cap) != CNV_OK) {
      cli_fail("--cap: bad capability path: %s", text);
      return false;
    }
    req->cap = cap;
  }
  if (cli_flag_str(cmd, "effects", text, sizeof text, &bad) && !tok_parse_effects(text, &req->effects))
    return false;
  return !bad;
}

static int verify_with(cli_cmd *cmd, cnv_deleg_verifier *v) {
  static uint8_t buf[CNV_DELEG_MAX_TOKEN_BYTES];
  static cnv_deleg_token tok;
  char path[TOK_PATH_CAP], holder_path[TOK_PATH_CAP];
  uint8_t holder[CNV_DELEG_KEY_BYTES];
  cnv_deleg_cap cap;
  cnv_deleg_request req;
  memset(&req, 0, sizeof req);
  size_t len = 0;
  verify_ctx vc = {v, false};
  if (!tok_required(cmd, "token", path, sizeof path)) return CLI_EXIT_USAGE;
  if (!request_flags(cmd, &req, holder_path, &cap)) return CLI_EXIT_USAGE;
  if (!cli_flag_present(cmd, "trust")) {
    cli_fail("--trust is required (see --help)");
    return CLI_EXIT_USAGE;
  }
  if (!cli_flag_each(cmd, "trust", tok_path_fits, "trust") ||
      !cli_flag_each(cmd, "revoked", tok_path_fits, "revoked") || cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  req.holder = holder;
  cli_flag_each(cmd, "trust", add_trust, &vc);
  if (vc.failed || !tok_read_hex(holder_path, "public key", holder, sizeof holder) ||
      !tok_read_token(path, buf, &len, &tok))
    return CLI_EXIT_FAIL;
  /* Every --revoked file counts (their union); any one that cannot be read refuses. */
  cli_flag_each(cmd, "revoked", load_revoked, &vc);
  if (vc.failed) return CLI_EXIT_FAIL;
  cnv_deleg_error err = {-1, 0};
  cnv_status st = cnv_deleg_verify(v, buf, len, &req, NULL, &err);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: verify: %s: %s (link %d)\n", cnv_status_name(st), cnv_strerror(st), err.link);
    return CLI_EXIT_FAIL;
  }
  printf("ok\n");
  unsigned limited = use_limited(&tok);
  if (limited > 0)
    printf("uses: not checked (verify does not track uses; %u link(s) are use-limited)\n", limited);
  return CLI_EXIT_OK;
}

int cli_token_verify(cli_cmd *cmd) {
  cnv_deleg_verifier *v = NULL;
  cnv_status st = cnv_deleg_verifier_create(NULL, &v);
  int rc = CLI_EXIT_FAIL;
  if (st != CNV_OK)
    cli_error("verifier", st);
  else
    rc = verify_with(cmd, v);
  cnv_deleg_verifier_destroy(v);
  return rc;
}
