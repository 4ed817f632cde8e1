/* The command-line pieces the NATS commands share (cli.h "NATS"): the server list, the swarm,
 * the trust roots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "token.h"

/* One element of a server list: SCHEME://HOST:PORT with a known scheme, a host and a port in
 * 1..65535 (n bytes, not NUL-terminated). */
static bool server_ok(const char *s, size_t n) {
  static const char *const schemes[] = {"nats://", "tls://"};
  size_t at = 0;
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && at == 0; i++) {
    size_t k = strlen(schemes[i]);
    if (n > k && memcmp(s, schemes[i], k) == 0) at = k;
  }
  if (at == 0) return false;
  const char *colon = NULL;
  for (size_t i = at; i < n; i++) {
    if (s[i] == ':') colon = s + i;
    if (s[i] == ' ' || s[i] == '/') return false;
  }
  if (!colon || colon == s + at) return false;
  size_t digits = (size_t)(s + n - colon - 1);
  if (digits == 0 || digits > 5) return false;
  unsigned long port = 0;
  for (const char *p = colon + 1; p < s + n; p++) {
    if (*p < '0' || *p > '9') return false;
    port = port * 10 + (unsigned long)(*p - '0');
  }
  return port >= 1 && port <= 65535;
}

bool cli_nats_servers_check(const char *list) {
  size_t len = strlen(list);
  if (len >= TOK_PATH_CAP) {
    cli_fail("--nats: value too long (at most %d bytes)", TOK_PATH_CAP - 1);
    return false;
  }
  for (const char *p = list;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (!server_ok(p, n)) {
      cli_fail("--nats: not a list of nats://HOST:PORT (PORT 1..65535): %.*s", (int)(n < 200 ? n : 200), p);
      return false;
    }
    if (!comma) return true;
    p = comma + 1;
  }
}

bool cli_nats_flags(cli_cmd *cmd, char *servers, size_t cap, uint64_t *swarm) {
  bool bad = false;
  if (!tok_required(cmd, "nats", servers, cap)) return false;
  if (!cli_nats_servers_check(servers)) return false;
  if (!cli_flag_present(cmd, "swarm")) {
    cli_fail("--swarm is required (see --help)");
    return false;
  }
  cli_flag_u64(cmd, "swarm", 1, UINT64_MAX, swarm, &bad);
  return !bad;
}

typedef struct roots_ctx {
  uint8_t *roots;
  size_t n;
} roots_ctx;

static bool add_root(void *ctx, const char *val, size_t n) {
  roots_ctx *r = ctx;
  if (r->n == CLI_MAX_ROOTS) {
    cli_fail("--trust: at most %u roots", CLI_MAX_ROOTS);
    return false;
  }
  if (!tok_read_trust(val, n, r->roots + 32 * r->n)) return false;
  r->n++;
  return true;
}

bool cli_trust_roots(cli_cmd *cmd, uint8_t *roots, size_t *n) {
  roots_ctx r = {roots, 0};
  if (!cli_flag_each(cmd, "trust", add_root, &r)) return false;
  if (r.n == 0) {
    cli_fail("--trust is required (see --help)");
    return false;
  }
  *n = r.n;
  return true;
}
