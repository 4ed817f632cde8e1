/* `cnv swarm status|revoke|trust`: a swarm over NATS seen and administered through its
 * JetStream bucket (the nats module's admin API, docs/nats.md), without serving.
 *   status: the nodes whose status records are signed by a node the --trust roots authorize:
 *           live count, count per phase, one line per node; then the shared state (the live
 *           nodes' snapshots, docs/nats.md "Shared state"): invocations served swarm-wide and
 *           each live capability with the number of nodes offering it;
 *   revoke: a REVOKE record for a link hash (--hash, or --token-file's link --link, default its
 *           last), signed by --key: a trust root (no --token) or a node (its --token);
 *   trust:  a TRUST record adding the root --add, signed by the root --key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cnv/nats.h"
#include "cnv/phases.h"
#include "cnv/status.h"

#include "cli.h"
#include "token.h"

#define ADMIN_TIMEOUT_MS 10000u
#define STATUS_MAX_NODES 1024u

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int admin_open(const char *servers, uint64_t swarm, cnv_nats_admin **a) {
  cnv_status st = cnv_nats_admin_connect(servers, swarm, ADMIN_TIMEOUT_MS, a);
  if (st == CNV_OK) return CLI_EXIT_OK;
  fprintf(stderr, "cnv: --nats %s: %s\n", servers, cnv_strerror(st));
  return CLI_EXIT_FAIL;
}

/* ---- status ---- */

static cnv_nats_node_info nodes[STATUS_MAX_NODES];

/* The shared state (docs/nats.md "Shared state"): each live capability with the number of
 * nodes offering it, and the invocations served swarm-wide. */
#define STATUS_MAX_CAPS 4096u
typedef struct cap_count {
  char path[256];
  unsigned nodes;
} cap_count;
static cap_count caps[STATUS_MAX_CAPS];
static size_t n_caps;
static uint64_t served;
static bool shared_ok;

static int count_cap(void *ctx, const char *path, size_t len, const uint8_t node[8]) {
  (void)ctx, (void)node;
  if (len >= sizeof caps[0].path) return 0;
  for (size_t i = 0; i < n_caps; i++) {
    if (strlen(caps[i].path) == len && memcmp(caps[i].path, path, len) == 0) {
      caps[i].nodes++;
      return 0;
    }
  }
  if (n_caps == STATUS_MAX_CAPS) return 0;
  memcpy(caps[n_caps].path, path, len);
  caps[n_caps].path[len] = 0;
  caps[n_caps++].nodes = 1;
  return 0;
}

static int cap_cmp(const void *a, const void *b) { return strcmp(((const cap_count *)a)->path, ((const cap_count *)b)->path); }

static double age_s(uint64_t now, uint64_t then) { return now > then ? (double)(now - then) / 1000.0 : 0.0; }

static void print_text(uint64_t swarm, size_t n, uint64_t now) {
  size_t live = 0, per_phase[CNV_PHASE_COUNT] = {0};
  for (size_t i = 0; i < n; i++) {
    if (!nodes[i].live) continue;
    live++;
    if (nodes[i].status.phase < CNV_PHASE_COUNT) per_phase[nodes[i].status.phase]++;
  }
  printf("swarm %llu: %zu live node%s of %zu known\n", (unsigned long long)swarm, live, live == 1 ? "" : "s", n);
  for (int p = 0; p < CNV_PHASE_COUNT; p++) {
    if (per_phase[p]) printf("  %-12s %zu\n", cnv_phase_name(p), per_phase[p]);
  }
  for (size_t i = 0; i < n; i++) {
    const cnv_nats_node_info *ni = &nodes[i];
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, ni->node_pk, 8);
    printf("%s  %-5s %-12s in_flight %u  completed %llu  age %.1fs  seen %.1fs ago\n", hex, ni->live ? "live" : "dead",
           cnv_phase_name(ni->status.phase), (unsigned)ni->status.in_flight,
           (unsigned long long)ni->status.completed, age_s(now, ni->status.started_ms), age_s(now, ni->record_ms));
  }
  if (!shared_ok) return;
  printf("served %llu invocation%s; %zu live capabilit%s\n", (unsigned long long)served, served == 1 ? "" : "s", n_caps,
         n_caps == 1 ? "y" : "ies");
  for (size_t i = 0; i < n_caps; i++)
    printf("  %-40s %u node%s\n", caps[i].path, caps[i].nodes, caps[i].nodes == 1 ? "" : "s");
}

static void print_json(uint64_t swarm, size_t n, uint64_t now) {
  size_t live = 0, per_phase[CNV_PHASE_COUNT] = {0};
  for (size_t i = 0; i < n; i++) {
    if (!nodes[i].live) continue;
    live++;
    if (nodes[i].status.phase < CNV_PHASE_COUNT) per_phase[nodes[i].status.phase]++;
  }
  printf("{\"swarm\":%llu,\"live\":%zu,\"known\":%zu,\"phases\":{", (unsigned long long)swarm, live, n);
  bool first = true;
  for (int p = 0; p < CNV_PHASE_COUNT; p++) {
    if (!per_phase[p]) continue;
    printf("%s\"%s\":%zu", first ? "" : ",", cnv_phase_name(p), per_phase[p]);
    first = false;
  }
  fputs("},\"nodes\":[", stdout);
  for (size_t i = 0; i < n; i++) {
    const cnv_nats_node_info *ni = &nodes[i];
    char hex[2 * CNV_SW_KEY_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, ni->node_pk, CNV_SW_KEY_BYTES);
    printf(
        "%s{\"node\":\"%s\",\"live\":%s,\"phase\":\"%s\",\"breaker\":\"%s\",\"capabilities\":%u,"
        "\"in_flight\":%u,\"completed\":%llu,\"age_ms\":%llu,\"record_ms\":%llu}",
        i ? "," : "", hex, ni->live ? "true" : "false", cnv_phase_name(ni->status.phase),
        ni->status.breaker ? "open" : "closed", (unsigned)ni->status.capabilities, (unsigned)ni->status.in_flight,
        (unsigned long long)ni->status.completed,
        (unsigned long long)(now > ni->status.started_ms ? now - ni->status.started_ms : 0),
        (unsigned long long)ni->record_ms);
  }
  fputs("]", stdout);
  if (shared_ok) {
    printf(",\"served\":%llu,\"capabilities\":{", (unsigned long long)served);
    for (size_t i = 0; i < n_caps; i++) {
      fputs(i ? ",\"" : "\"", stdout);
      for (const char *c = caps[i].path; *c; c++) { /* paths are plain; escaped all the same */
        if (*c == '"' || *c == '\\')
          printf("\\%c", *c);
        else if ((unsigned char)*c < 0x20)
          printf("\\u%04x", (unsigned)(unsigned char)*c);
        else
          putchar(*c);
      }
      printf("\":%u", caps[i].nodes);
    }
    fputs("}", stdout);
  }
  fputs("}\n", stdout);
}

int cli_swarm_status(cli_cmd *cmd) {
  char servers[TOK_PATH_CAP];
  uint64_t swarm = 0;
  bool bad = false;
  bool json = cli_flag_bool(cmd, "json", &bad);
  if (bad || !cli_nats_flags(cmd, servers, sizeof servers, &swarm)) return CLI_EXIT_USAGE;
  if (!cli_flag_present(cmd, "trust")) {
    cli_fail("--trust is required (see --help)");
    return CLI_EXIT_USAGE;
  }
  if (!cli_flag_each(cmd, "trust", tok_path_fits, "trust") || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  uint8_t roots[CLI_MAX_ROOTS * 32];
  size_t n_roots = 0;
  if (!cli_trust_roots(cmd, roots, &n_roots)) return CLI_EXIT_FAIL;
  cnv_nats_admin *a = NULL;
  int rc = admin_open(servers, swarm, &a);
  if (rc != CLI_EXIT_OK) return rc;
  size_t n = 0;
  cnv_status st = cnv_nats_admin_status(a, roots, n_roots, nodes, STATUS_MAX_NODES, &n);
  bool any_live = false;
  for (size_t i = 0; i < n && i < STATUS_MAX_NODES; i++) any_live |= nodes[i].live;
  if (st == CNV_OK && any_live) {
    /* the shared state from the live nodes' snapshots; a swarm that cannot answer it still
     * gets its status */
    cnv_status ss = cnv_nats_admin_shared(a, roots, n_roots, 0, count_cap, NULL, &served);
    shared_ok = ss == CNV_OK;
    if (shared_ok)
      qsort(caps, n_caps, sizeof caps[0], cap_cmp);
    else
      fprintf(stderr, "cnv: swarm status: shared state: %s\n", cnv_strerror(ss));
  }
  cnv_nats_admin_close(a);
  if (st != CNV_OK) {
    cli_error("swarm status", st);
    return CLI_EXIT_FAIL;
  }
  if (n > STATUS_MAX_NODES) n = STATUS_MAX_NODES;
  if (json)
    print_json(swarm, n, now_ms());
  else
    print_text(swarm, n, now_ms());
  return CLI_EXIT_OK;
}

/* ---- revoke ---- */

/* The hash to revoke: --hash HEX, or the link --link (default: the last) of --token-file. */
static bool revoke_hash(const char *hash_hex, const char *token_file, uint64_t link,
                        uint8_t hash[CNV_SW_HASH_BYTES]) {
  if (hash_hex[0]) {
    size_t got = 0;
    if (sodium_hex2bin(hash, CNV_SW_HASH_BYTES, hash_hex, strlen(hash_hex), NULL, &got, NULL) != 0 ||
        got != CNV_SW_HASH_BYTES) {
      cli_fail("--hash: not %u bytes of hex: %s", CNV_SW_HASH_BYTES, hash_hex);
      return false;
    }
    return true;
  }
  static uint8_t tok[CNV_DELEG_MAX_TOKEN_BYTES];
  static cnv_deleg_token decoded;
  size_t len = 0;
  if (!tok_read_token(token_file, tok, &len, &decoded)) return false;
  if (link == UINT64_MAX) link = decoded.n_links - 1u;
  if (link >= decoded.n_links) {
    cli_fail("--link %llu: the token has %u links", (unsigned long long)link, decoded.n_links);
    return false;
  }
  cnv_status st = cnv_deleg_link_hash(tok, len, (uint32_t)link, hash);
  if (st != CNV_OK) cli_error("link hash", st);
  return st == CNV_OK;
}

int cli_swarm_revoke(cli_cmd *cmd) {
  static const char *const which[] = {"hash", "token-file", NULL};
  char servers[TOK_PATH_CAP], key[TOK_PATH_CAP], token[TOK_PATH_CAP] = "", hash_hex[256] = "",
                                                 token_file[TOK_PATH_CAP] = "";
  uint64_t swarm = 0, link = UINT64_MAX;
  bool bad = cli_flags_exclusive(cmd, which);
  if (bad || !cli_nats_flags(cmd, servers, sizeof servers, &swarm) || !tok_required(cmd, "key", key, sizeof key))
    return CLI_EXIT_USAGE;
  bool has_token = cli_flag_str(cmd, "token", token, sizeof token, &bad);
  bool by_hash = cli_flag_str(cmd, "hash", hash_hex, sizeof hash_hex, &bad);
  bool by_file = cli_flag_str(cmd, "token-file", token_file, sizeof token_file, &bad);
  cli_flag_u64(cmd, "link", 0, CNV_DELEG_MAX_LINKS - 1, &link, &bad);
  if (bad) return CLI_EXIT_USAGE;
  if (!by_hash && !by_file) {
    cli_fail("--hash or --token-file is required (see --help)");
    return CLI_EXIT_USAGE;
  }
  if (by_hash && link != UINT64_MAX) {
    cli_fail("--link needs --token-file");
    return CLI_EXIT_USAGE;
  }
  if (cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  uint8_t hash[CNV_SW_HASH_BYTES], sk[CNV_SW_SECRET_BYTES];
  static uint8_t signer_token[CNV_DELEG_MAX_TOKEN_BYTES];
  size_t signer_len = 0;
  if (!revoke_hash(hash_hex, token_file, link, hash)) return CLI_EXIT_FAIL;
  if (has_token && !tok_read_token(token, signer_token, &signer_len, NULL)) return CLI_EXIT_FAIL;
  if (!tok_read_secret(key, sk)) return CLI_EXIT_FAIL;
  cnv_nats_admin *a = NULL;
  int rc = admin_open(servers, swarm, &a);
  if (rc == CLI_EXIT_OK) {
    cnv_status st = cnv_nats_admin_revoke(a, sk, has_token ? signer_token : NULL, signer_len, hash);
    cnv_nats_admin_close(a);
    if (st != CNV_OK) {
      cli_error("swarm revoke", st);
      rc = CLI_EXIT_FAIL;
    }
  }
  sodium_memzero(sk, sizeof sk);
  if (rc != CLI_EXIT_OK) return rc;
  char hex[2 * CNV_SW_HASH_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  printf("revoked %s in swarm %llu\n", hex, (unsigned long long)swarm);
  return CLI_EXIT_OK;
}

/* ---- trust ---- */

int cli_swarm_trust(cli_cmd *cmd) {
  char servers[TOK_PATH_CAP], key[TOK_PATH_CAP], add[TOK_PATH_CAP];
  uint64_t swarm = 0;
  if (!cli_nats_flags(cmd, servers, sizeof servers, &swarm) || !tok_required(cmd, "key", key, sizeof key) ||
      !tok_required(cmd, "add", add, sizeof add) || cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  uint8_t pk[CNV_SW_KEY_BYTES], sk[CNV_SW_SECRET_BYTES];
  if (!tok_read_hex(add, "public key", pk, sizeof pk) || !tok_read_secret(key, sk)) return CLI_EXIT_FAIL;
  cnv_nats_admin *a = NULL;
  int rc = admin_open(servers, swarm, &a);
  if (rc == CLI_EXIT_OK) {
    cnv_status st = cnv_nats_admin_trust(a, sk, pk);
    cnv_nats_admin_close(a);
    if (st != CNV_OK) {
      cli_error("swarm trust", st);
      rc = CLI_EXIT_FAIL;
    }
  }
  sodium_memzero(sk, sizeof sk);
  if (rc != CLI_EXIT_OK) return rc;
  char hex[2 * CNV_SW_KEY_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
  printf("trusted %s in swarm %llu\n", hex, (unsigned long long)swarm);
  return CLI_EXIT_OK;
}
