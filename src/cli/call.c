/* `cnv call`: one invocation through a `cnv serve` server (the client module), or through a
 * swarm over NATS (--nats: the nats module's client, any node of the swarm answers). Its options
 * come first; everything after them (from the first argument that is not an option or an
 * option's value, or after `--`) is the invocation line, joined with single spaces, so the
 * invocation's own flags (`demo.echo --text hi`) are never taken for the tool's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "cnv/client.h"
#include "cnv/nats.h"
#include "cnv/runtime.h"
#include "token.h"

#define CALL_USAGE                                                                                 \
  "--connect tcp:HOST:PORT|unix:PATH --server SERVER.pub --key AGENT.key --token AGENT.tok\n"      \
  "    [--deadline-ms N] [--timeout-ms N] [--json] [--] NOUN.VERB [ARGS...]\n"                     \
  "  or, through swarm ID over NATS:\n"                                                            \
  "cnv call --nats nats://HOST:PORT[,...] --swarm ID --key AGENT.key --token AGENT.tok\n"          \
  "    --trust ROOT.pub [--trust ...]\n"                                                           \
  "    [--deadline-ms N] [--timeout-ms N] [--json] [--] NOUN.VERB [ARGS...]\n"                     \
  "  Connects to a `cnv serve` server whose public key is SERVER.pub (pinned: another key is\n"    \
  "  refused), proves it holds AGENT.key, presents AGENT.tok, sends the invocation (the\n"         \
  "  arguments after the options, joined with single spaces) and prints its result bytes.\n"       \
  "  --deadline-ms (0..4294967295, default 0: the capability's limit) is the server's\n"           \
  "  deadline; --timeout-ms (1..4294967295, default 10000) bounds connect + handshake, and\n"      \
  "  again the wait for the answer. --json prints {\"status\", \"code\", \"done\", \"result\"}.\n" \
  "  With --nats, any node of the swarm answers: its token must come from a --trust root and\n"    \
  "  allow swarm.serve in swarm ID (else the call is refused); --timeout-ms bounds connect +\n"    \
  "  handshake and the call (retried meanwhile with the same request id).\n"                       \
  "  Exit 0 when the call succeeded; 1 when it was denied or failed (the reason on stderr),\n"     \
  "  or the server could not be reached or refused the session."

static const char *const call_bools[] = {"json", NULL};
static const char *const call_valued[] = {"connect", "server", "key", "token", "deadline-ms",
                                          "timeout-ms", "nats", "swarm", "trust", NULL};

static bool is_valued(const char *a) {
  size_t n = strcspn(a, "=");
  if (a[n] == '=') return false; /* --name=value carries its value */
  for (size_t i = 0; call_valued[i]; i++) {
    if (strcmp(a, call_valued[i]) == 0) return true;
  }
  return false;
}

/* Index of the invocation's first argument: after the options (and their values) or `--`.
 * *dashes: the options end with `--` at index - 1. *help: --help or -h among the options. */
static int line_start(int argc, char **argv, int first, bool *dashes, bool *help) {
  *dashes = *help = false;
  int i = first;
  while (i < argc) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      *dashes = true;
      return i + 1;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) *help = true;
    if (a[0] != '-' || a[1] == '\0') return i;
    /* `--name value`: the value follows unless it looks like an option (cli_cmd_parse's rule). */
    bool takes_next = a[1] == '-' && is_valued(a + 2) && i + 1 < argc &&
                      (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0');
    i += takes_next ? 2 : 1;
  }
  return i;
}

/* The invocation line: argv[from..argc) joined with single spaces (malloc'd). */
static char *join_line(int argc, char **argv, int from, size_t *len) {
  size_t n = 0;
  for (int i = from; i < argc; i++) n += strlen(argv[i]) + 1;
  char *line = malloc(n + 1);
  if (!line) return NULL;
  size_t at = 0;
  for (int i = from; i < argc; i++) {
    size_t k = strlen(argv[i]);
    if (i > from) line[at++] = ' ';
    memcpy(line + at, argv[i], k);
    at += k;
  }
  line[at] = '\0';
  *len = at;
  return line;
}

/* Valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF)? */
static bool utf8_ok(const uint8_t *p, size_t n) {
  static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < n) {
    uint8_t b = p[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    size_t k = (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
                                    : (b & 0xF8) == 0xF0   ? 3
                                                           : 0;
    if (k == 0 || n - i <= k) return false;
    uint32_t cp = b & (0x3Fu >> k);
    for (size_t j = 1; j <= k; j++) {
      if ((p[i + j] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + j] & 0x3Fu);
    }
    if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += k + 1;
  }
  return true;
}

static void json_string(const uint8_t *p, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    uint8_t ch = p[i];
    if (ch == '"' || ch == '\\') {
      printf("\\%c", ch);
    } else if (ch < 0x20 || ch == 0x7F) {
      printf("\\u%04x", ch);
    } else {
      putchar(ch);
    }
  }
  putchar('"');
}

/* {"status":NAME,"code":N,"done":KIND|null,"result":TEXT} (a result that is not UTF-8 text:
 * "result":null and "result_hex":HEX). */
static void print_json(const cnv_client_result *r) { /* done: CNV_CLIENT_DONE_NONE for none */
  printf("{\"status\":\"%s\",\"code\":%d,\"done\":", cnv_status_name(r->status), (int)r->status);
  if (r->done == CNV_CLIENT_DONE_NONE) {
    fputs("null", stdout);
  } else {
    printf("\"%s\"", cnv_runtime_done_name(r->done));
  }
  fputs(",\"result\":", stdout);
  if (utf8_ok(r->result, r->result_len)) {
    json_string(r->result, r->result_len);
  } else {
    fputs("null,\"result_hex\":\"", stdout);
    for (size_t i = 0; i < r->result_len; i++) printf("%02x", r->result[i]);
    putchar('"');
  }
  fputs("}\n", stdout);
}

typedef struct call_args {
  char connect[4096], server[4096], key[4096], token[4096], nats[4096];
  uint64_t deadline_ms, timeout_ms, swarm;
  bool json;
  uint8_t roots[CLI_MAX_ROOTS * 32]; /* --nats: the trust roots (read after the usage checks) */
  size_t n_roots;
} call_args;

/* The options of a call through NATS. */
static bool nats_options(call_args *a, cli_cmd *opts) {
  static const char *const socket_only[] = {"connect", "server"};
  for (size_t i = 0; i < sizeof socket_only / sizeof socket_only[0]; i++) {
    if (cli_flag_present(opts, socket_only[i])) {
      cli_fail("--%s and --nats exclude each other", socket_only[i]);
      return false;
    }
  }
  if (!cli_nats_flags(opts, a->nats, sizeof a->nats, &a->swarm)) return false;
  if (!cli_flag_present(opts, "trust")) {
    cli_fail("--trust is required with --nats (see --help)");
    return false;
  }
  return cli_flag_each(opts, "trust", tok_path_fits, "trust");
}

/* Options (judged before any file is opened). CLI_EXIT_OK or CLI_EXIT_USAGE. */
static cli_cmd cmd; /* the options, parsed */

static int call_options(call_args *a, int argc, char **argv, int first, int end) {
  int rc = cli_cmd_parse(&cmd, argc < end ? argc : end, argv, first, call_bools);
  if (rc != CLI_EXIT_OK) return rc;
  bool bad = false;
  a->json = cli_flag_bool(&cmd, "json", &bad);
  a->timeout_ms = 10000;
  cli_flag_u64(&cmd, "deadline-ms", 0, UINT32_MAX, &a->deadline_ms, &bad);
  cli_flag_u64(&cmd, "timeout-ms", 1, UINT32_MAX, &a->timeout_ms, &bad);
  if (bad) return CLI_EXIT_USAGE;
  if (cli_flag_present(&cmd, "nats")) {
    if (!nats_options(a, &cmd) || !tok_required(&cmd, "key", a->key, sizeof a->key) ||
        !tok_required(&cmd, "token", a->token, sizeof a->token) || cli_cmd_unknown(&cmd))
      return CLI_EXIT_USAGE;
    return CLI_EXIT_OK;
  }
  static const char *const nats_only[] = {"swarm", "trust"};
  for (size_t i = 0; i < sizeof nats_only / sizeof nats_only[0]; i++) {
    if (cli_flag_present(&cmd, nats_only[i])) {
      cli_fail("--%s needs --nats (see --help)", nats_only[i]);
      return CLI_EXIT_USAGE;
    }
  }
  if (!tok_required(&cmd, "connect", a->connect, sizeof a->connect) ||
      !tok_required(&cmd, "server", a->server, sizeof a->server) ||
      !tok_required(&cmd, "key", a->key, sizeof a->key) || !tok_required(&cmd, "token", a->token, sizeof a->token) ||
      cli_cmd_unknown(&cmd)) {
    return CLI_EXIT_USAGE;
  }
  if (cnv_client_address_check(a->connect) != CNV_OK) {
    cli_fail("--connect: not tcp:HOST:PORT (PORT 1..65535) or unix:PATH: %s", a->connect);
    return CLI_EXIT_USAGE;
  }
  return CLI_EXIT_OK;
}

/* Prints an answer as the options say; the exit code its status gives. */
static int print_outcome(const call_args *a, const cnv_client_result *r) {
  if (a->json) {
    print_json(r);
  } else if (r->result_len > 0) {
    fwrite(r->result, 1, r->result_len, stdout);
    if (r->result[r->result_len - 1] != '\n') putchar('\n');
  }
  if (r->status != CNV_OK) {
    cli_error("call", r->status);
    return CLI_EXIT_FAIL;
  }
  return CLI_EXIT_OK;
}

/* Connects to the swarm, calls; prints the outcome. */
static int call_run_nats(call_args *a, const char *line, size_t len) {
  static uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  uint8_t sk[CNV_SW_SECRET_BYTES];
  size_t token_len = 0;
  if (!cli_trust_roots(&cmd, a->roots, &a->n_roots) || !tok_read_secret(a->key, sk)) return CLI_EXIT_FAIL;
  if (!tok_read_token(a->token, token, &token_len, NULL)) {
    sodium_memzero(sk, sizeof sk);
    return CLI_EXIT_FAIL;
  }
  cnv_nats_client_config cfg;
  cnv_nats_client_config_default(&cfg);
  cfg.servers = a->nats;
  cfg.swarm = a->swarm;
  cfg.secret_key = sk;
  cfg.token = token;
  cfg.token_len = token_len;
  cfg.trust = a->roots;
  cfg.n_trust = a->n_roots;
  cfg.connect_timeout_ms = (uint32_t)a->timeout_ms;
  cfg.call_timeout_ms = (uint32_t)a->timeout_ms;
  cnv_nats_client *c = NULL;
  cnv_status st = cnv_nats_client_connect(&cfg, &c);
  sodium_memzero(sk, sizeof sk);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: call: %s: %s\n", a->nats, cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  static uint8_t result[1u << 16];
  cnv_nats_result r;
  st = cnv_nats_client_call(c, line, len, (uint32_t)a->deadline_ms, &r, result, sizeof result);
  cnv_nats_client_close(c);
  if (st != CNV_OK) {
    cli_error("call", st);
    return CLI_EXIT_FAIL;
  }
  cnv_client_result cr = {.id = r.id,
                          .status = r.status,
                          .done = r.done < 0 ? CNV_CLIENT_DONE_NONE : r.done,
                          .result_type = r.result_type,
                          .result = r.result,
                          .result_len = r.result_len};
  return print_outcome(a, &cr);
}

/* Connects and calls; prints the outcome. */
static int call_run(const call_args *a, const char *line, size_t len) {
  static uint8_t token[CNV_DELEG_MAX_TOKEN_BYTES];
  uint8_t pk[CNV_SESSION_KEY_BYTES], sk[CNV_SESSION_SECRET_BYTES];
  size_t token_len = 0;
  if (!tok_read_hex(a->server, "public key", pk, sizeof pk) || !tok_read_secret(a->key, sk) ||
      !tok_read_token(a->token, token, &token_len, NULL)) {
    return CLI_EXIT_FAIL;
  }
  if (token_len > CNV_SESSION_MAX_TOKEN) {
    cli_fail("%s: token of %zu bytes, more than a session carries (%u)", a->token, token_len,
             (unsigned)CNV_SESSION_MAX_TOKEN);
    return CLI_EXIT_FAIL;
  }
  cnv_client_config cfg;
  cnv_client_config_default(&cfg);
  cfg.address = a->connect;
  cfg.secret_key = sk;
  cfg.server_pk = pk;
  cfg.token = token;
  cfg.token_len = token_len;
  cfg.connect_timeout_ms = (uint32_t)a->timeout_ms;
  cnv_client *c = NULL;
  cnv_status st = cnv_client_connect(&cfg, &c);
  sodium_memzero(sk, sizeof sk);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: call: %s: %s\n", a->connect, cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  static uint8_t result[1u << 16];
  cnv_client_result r;
  st = cnv_client_call(c, line, len, (uint32_t)a->deadline_ms, (uint32_t)a->timeout_ms, &r, result, sizeof result);
  cnv_client_close(c);
  if (st != CNV_OK) {
    cli_error("call", st);
    return CLI_EXIT_FAIL;
  }
  return print_outcome(a, &r);
}

int cli_call_main(int argc, char **argv, int first) {
  bool dashes = false, help = false;
  int from = line_start(argc, argv, first, &dashes, &help);
  if (help) {
    printf("usage: cnv call %s\n", CALL_USAGE);
    return CLI_EXIT_OK;
  }
  call_args a;
  memset(&a, 0, sizeof a);
  int rc = call_options(&a, argc, argv, first, dashes ? from - 1 : from);
  if (rc != CLI_EXIT_OK) return rc;
  if (from >= argc) {
    cli_fail("call: an invocation (NOUN.VERB [ARGS...]) is required after the options (see --help)");
    return CLI_EXIT_USAGE;
  }
  size_t len = 0;
  char *line = join_line(argc, argv, from, &len);
  if (!line) {
    cli_fail("out of memory");
    return CLI_EXIT_FAIL;
  }
  rc = a.nats[0] ? call_run_nats(&a, line, len) : call_run(&a, line, len);
  free(line);
  return rc;
}

const cli_noun cli_noun_call = {"call", "one invocation through a `cnv serve` server or a swarm over NATS", NULL, 0,
                                NULL};
