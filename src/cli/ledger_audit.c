/* `cnv ledger replay` and `cnv ledger whatif`: the recorded admission decisions re-run from
 * the log (include/cnv/audit.h, docs/audit.md). replay lists every decision it does not
 * reproduce and exits 0 only when there is none; whatif lists the decisions that a changed
 * policy would change. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cnv/audit.h"
#include "cnv/phases.h"
#include "cnv/status.h"

#include "ledger_cli.h"
#include "readers.h"
#include "token.h"

#define WHATIF_MAX_CHANGES 64u

/* "accepted" or the status's name. */
static const char *outcome(cnv_status st) { return st == CNV_OK ? "accepted" : cnv_status_name(st); }

static void print_decision(const char *what, const char *was, const char *now, const cnv_audit_decision *d) {
  printf("%s: record %" PRIu64 "  ticket %" PRIu64 "  agent %" PRIu32 "  capability %016" PRIx64 "  token_time %" PRIu64
         "  %s %s  %s %s\n",
         what, d->index, d->ticket, d->agent, d->capability, d->token_time, was, outcome(d->recorded), now,
         outcome(d->replayed));
}

static int on_mismatch(void *ctx, const cnv_audit_decision *d) {
  (void)ctx;
  print_decision("mismatch", "recorded", "replayed", d);
  return 0;
}

static int on_change(void *ctx, const cnv_audit_decision *d) {
  (void)ctx;
  print_decision("changed", "recorded", "would be", d);
  return 0;
}

/* An audit call's failure other than a mismatch. */
static int audit_failed(const char *verb, const char *dir, cnv_status st) {
  fprintf(stderr, "cnv: ledger %s: %s: %s: %s\n", verb, dir, cnv_status_name(st), cnv_strerror(st));
  return CLI_EXIT_FAIL;
}

int cli_ledger_replay(cli_cmd *cmd) {
  char dir[LEDGER_DIR_CAP];
  if (!cli_positional(cmd, "DIR", dir, sizeof dir) || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  cnv_audit_summary s;
  memset(&s, 0, sizeof s);
  cnv_status st = cnv_audit_replay(dir, on_mismatch, NULL, &s);
  if (st != CNV_OK && st != CNV_EAUDIT_MISMATCH) return audit_failed("replay", dir, st);
  printf("replayed %" PRIu64 " decisions of %" PRIu64 " records: %" PRIu64 " reproduced, %" PRIu64
         " not (%" PRIu64 " accepted, %" PRIu64 " denied on replay)\n",
         s.decisions, s.records, s.same, s.differ, s.accepted, s.denied);
  if (st == CNV_OK) return CLI_EXIT_OK;
  fprintf(stderr, "cnv: ledger replay: %s: %" PRIu64 " decisions not reproduced\n", dir, s.differ);
  return CLI_EXIT_FAIL;
}

/* ---- whatif ---- */

typedef struct changes_ctx {
  cnv_audit_change list[WHATIF_MAX_CHANGES];
  size_t n;
  const char *flag; /* the flag being read, for messages */
  int32_t kind;     /* its change kind */
  bool file_failed; /* a --untrust file could not be read (exit 1, not 2) */
} changes_ctx;

static cnv_audit_change *next_change(changes_ctx *c) {
  if (c->n == WHATIF_MAX_CHANGES) {
    cli_fail("at most %u changes", WHATIF_MAX_CHANGES);
    return NULL;
  }
  cnv_audit_change *ch = &c->list[c->n++];
  memset(ch, 0, sizeof *ch);
  ch->kind = c->kind;
  return ch;
}

/* --revoke and --unrevoke: a link hash, 64 hex digits. */
static bool add_hash(void *ctx, const char *v, size_t n) {
  changes_ctx *c = ctx;
  cnv_audit_change *ch = next_change(c);
  if (!ch) return false;
  if (cli_unhex(v, n, ch->hash, sizeof ch->hash)) return true;
  cli_fail("--%s: not a link hash (64 hex digits): %.*s", c->flag, (int)(n < 200 ? n : 200), v);
  return false;
}

/* --untrust: a public key, 64 hex digits, or the path of a public key file. The first pass
 * (check_key) judges the value's form; the second (add_key) reads the files. */
static bool key_hex(const char *v, size_t n, uint8_t key[CNV_LEDGER_KEY_BYTES]) {
  return n == 2 * CNV_LEDGER_KEY_BYTES && cli_unhex(v, n, key, CNV_LEDGER_KEY_BYTES);
}

static bool check_key(void *ctx, const char *v, size_t n) {
  (void)ctx;
  uint8_t key[CNV_LEDGER_KEY_BYTES];
  return key_hex(v, n, key) || tok_path_fits("untrust", v, n);
}

static bool add_key(void *ctx, const char *v, size_t n) {
  changes_ctx *c = ctx;
  cnv_audit_change *ch = next_change(c);
  if (!ch) return false;
  if (key_hex(v, n, ch->key) || tok_read_trust(v, n, ch->key)) return true;
  c->file_failed = true;
  return false;
}

static bool each_change(cli_cmd *cmd, changes_ctx *c, const char *flag, int32_t kind,
                        bool (*fn)(void *ctx, const char *v, size_t n)) {
  c->flag = flag;
  c->kind = kind;
  return cli_flag_each(cmd, flag, fn, c);
}

/* --phase NAME, a cnv_phase name; prints why not. */
static bool add_phase(cli_cmd *cmd, changes_ctx *c) {
  char name[32];
  bool bad = false;
  if (!cli_flag_str(cmd, "phase", name, sizeof name, &bad)) return !bad;
  for (int p = 0; p < CNV_PHASE_COUNT; p++) {
    if (strcmp(cnv_phase_name(p), name) != 0) continue;
    c->kind = CNV_AUDIT_PHASE_FORCE;
    cnv_audit_change *ch = next_change(c);
    if (ch) ch->phase = p;
    return ch != NULL;
  }
  cli_fail(
      "--phase: not a phase (bootstrap, negotiation, activation, operational, degraded, recovery, emergency, "
      "shutdown): %s",
      name);
  return false;
}

static changes_ctx changes;

int cli_ledger_whatif(cli_cmd *cmd) {
  changes_ctx *c = &changes;
  memset(c, 0, sizeof *c);
  char dir[LEDGER_DIR_CAP];
  if (!each_change(cmd, c, "revoke", CNV_AUDIT_REVOKE_ADD, add_hash) ||
      !each_change(cmd, c, "unrevoke", CNV_AUDIT_REVOKE_REMOVE, add_hash) || !add_phase(cmd, c) ||
      !cli_flag_each(cmd, "untrust", check_key, NULL) || !cli_positional(cmd, "DIR", dir, sizeof dir) || cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  /* --untrust last: its values may name files, read only once the command line is judged */
  if (!each_change(cmd, c, "untrust", CNV_AUDIT_TRUST_REMOVE, add_key))
    return c->file_failed ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
  if (c->n == 0) {
    cli_fail("ledger whatif: no change given (--revoke, --unrevoke, --untrust or --phase; see --help)");
    return CLI_EXIT_USAGE;
  }
  cnv_audit_summary s;
  memset(&s, 0, sizeof s);
  cnv_status st = cnv_audit_whatif(dir, c->list, c->n, on_change, NULL, &s);
  if (st != CNV_OK) return audit_failed("whatif", dir, st);
  printf("what-if over %" PRIu64 " decisions of %" PRIu64 " records, %zu change%s: %" PRIu64 " would change, %" PRIu64
         " unchanged (%" PRIu64 " accepted, %" PRIu64 " denied under the changes)\n",
         s.decisions, s.records, c->n, c->n == 1 ? "" : "s", s.differ, s.same, s.accepted, s.denied);
  return CLI_EXIT_OK;
}
