/* `cnv ledger`: a governance ledger (include/cnv/ledger.h, docs/ledger.md) read from its
 * directory, never written:
 *   verify:  cnv_ledger_verify_dir; exit 0 only for an intact log, else names the first bad
 *            record and why;
 *   show:    one line (or one JSON object) per record;
 *   prove:   inclusion and consistency proofs (ledger_prove.c);
 *   replay, whatif: the recorded admission decisions re-run (ledger_audit.c);
 *   receipt: a completion's receipt written to a file (receipt.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cnv/ledger.h"
#include "cnv/phases.h"
#include "cnv/runtime.h"
#include "cnv/status.h"

#include "ledger_cli.h"
#include "readers.h"
#include "token.h"

/* ---- verify ---- */

static int ledger_verify(cli_cmd *cmd) {
  char dir[LEDGER_DIR_CAP], pub[TOK_PATH_CAP];
  bool bad = false;
  bool have_pub = cli_flag_str(cmd, "pub", pub, sizeof pub, &bad);
  if (bad || !cli_positional(cmd, "DIR", dir, sizeof dir) || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  uint8_t pk[CNV_LEDGER_KEY_BYTES];
  if (have_pub && !cli_ledger_read_pub(pub, pk)) return CLI_EXIT_FAIL;
  cnv_ledger_verify_report rep;
  memset(&rep, 0, sizeof rep);
  rep.bad_index = CNV_LEDGER_NONE;
  cnv_status st = cnv_ledger_verify_dir(dir, have_pub ? pk : NULL, &rep);
  if (st == CNV_EINVAL || st == CNV_ENOTFOUND || st == CNV_EIO || st == CNV_ENOMEM) {
    fprintf(stderr, "cnv: ledger verify: %s: %s\n", dir, cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  printf("checked %s: %" PRIu64 " records in %" PRIu64 " segment%s (frames, leaf hashes, chain links), %" PRIu64
         " checkpoint%s (tree size, root, signature under %s)\n",
         dir, rep.records, rep.segments, rep.segments == 1 ? "" : "s", rep.checkpoints, rep.checkpoints == 1 ? "" : "s",
         have_pub ? "the --pub key" : "the GENESIS record's key");
  if (st == CNV_OK) {
    printf("ok: intact\n");
    return CLI_EXIT_OK;
  }
  cnv_status why = rep.bad_status != CNV_OK ? rep.bad_status : st;
  if (rep.bad_index != CNV_LEDGER_NONE)
    fprintf(stderr, "cnv: ledger verify: %s: record %" PRIu64 ": %s: %s\n", dir, rep.bad_index, cnv_status_name(why),
            cnv_strerror(why));
  else if (rep.torn_bytes > 0)
    fprintf(stderr, "cnv: ledger verify: %s: a torn tail of %" PRIu64 " bytes after record %" PRIu64 ": %s: %s\n", dir,
            rep.torn_bytes, rep.records > 0 ? rep.records - 1 : 0, cnv_status_name(why), cnv_strerror(why));
  else
    fprintf(stderr, "cnv: ledger verify: %s: %s: %s\n", dir, cnv_status_name(why), cnv_strerror(why));
  return CLI_EXIT_FAIL;
}

/* ---- show ---- */

/* The first 8 bytes of a hash, in hex (16 digits): enough to tell records apart. */
static const char *prefix(const uint8_t *h, char out[17]) {
  cli_hex(h, 8, out);
  return out;
}

static const char *full(const uint8_t *h, char out[65]) {
  cli_hex(h, 32, out);
  return out;
}

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* A payload printed as text: bytes outside printable ASCII become '?'. */
static void print_text_payload(const cnv_ledger_entry *e) {
  for (uint32_t i = 0; i < e->payload_len; i++) putchar(e->payload[i] >= 0x20 && e->payload[i] < 0x7f ? e->payload[i] : '?');
}

/* An admission decision: accepted, full, or denied with its reason. */
static void print_decision(const cnv_ledger_entry *e) {
  if (e->status == CNV_OK)
    printf("accepted");
  else if (e->detail > 0)
    printf("denied:%s", cnv_runtime_denial_name((int)e->detail - 1));
  else
    printf("refused:%s", cnv_status_name(e->status));
}

static void show_checkpoint(const cnv_ledger_entry *e) {
  cnv_checkpoint cp;
  char h[17];
  if (cnv_checkpoint_decode(e->payload, e->payload_len, &cp) != CNV_OK) {
    printf("  undecodable payload of %" PRIu32 " bytes", e->payload_len);
    return;
  }
  printf("  tree_size %" PRIu64 "  root %s  time_ms %" PRIu64, cp.tree_size, prefix(cp.root, h), cp.time_ms);
}

static void show_config(const cnv_ledger_entry *e) {
  printf("  swarm %" PRIu64, e->ticket);
  if (e->payload_len == 16)
    printf("  skew %" PRIu64 "  max_counters %" PRIu32 "  max_counters_per_delegate %" PRIu32, le64(e->payload),
           le32(e->payload + 8), le32(e->payload + 12));
}

static void show_register(const cnv_ledger_entry *e) {
  if (e->detail == 0xFFFF) {
    printf("  unregister  capability %016" PRIx64, e->capability);
    return;
  }
  printf("  register  capability %016" PRIx64 "  class %s  effects 0x%" PRIx32 "  path ", e->capability,
         cnv_duration_class_name(e->detail), e->flags);
  print_text_payload(e);
}

static void show_phase(const cnv_ledger_entry *e) {
  printf("  %s -> %s", cnv_phase_name(e->detail >> 8), cnv_phase_name(e->detail & 0xFF));
  if (e->status == 0)
    printf("  (transition)");
  else
    printf("  (reason %" PRId32 ")", e->status);
}

static void show_admit(const cnv_ledger_entry *e) {
  char h[17];
  printf("  ");
  print_decision(e);
  printf("  agent %" PRIu32 "  capability %016" PRIx64 "  ticket %" PRIu64 "  token_time %" PRIu64 "  token %s%s",
         e->agent, e->capability, e->ticket, e->token_time, prefix(e->digest, h), e->flags & 1u ? "  low" : "");
}

static void show_complete(const cnv_ledger_entry *e) {
  char h[17], r[17];
  printf("  ticket %" PRIu64 "  agent %" PRIu32 "  capability %016" PRIx64 "  %s  %s  start_ms %" PRIu64
         "  time_ms %" PRIu64 "  token %s  result %s",
         e->ticket, e->agent, e->capability, cnv_runtime_done_name(e->detail), cnv_status_name(e->status), e->start_ms,
         e->time_ms, prefix(e->digest, h), prefix(e->result, r));
}

/* The fields that matter for each kind (ledger.h's kind table). */
static void show_fields(const cnv_ledger_entry *e) {
  char h[65];
  switch (e->kind) {
    case CNV_LREC_GENESIS:
      printf("  key %s  time_ms %" PRIu64, full(e->key, h), e->time_ms);
      break;
    case CNV_LREC_CHECKPOINT:
      show_checkpoint(e);
      break;
    case CNV_LREC_CONFIG:
      show_config(e);
      break;
    case CNV_LREC_TRUST:
      printf("  %s  key %s", e->detail == 1 ? "remove" : "add", full(e->key, h));
      break;
    case CNV_LREC_REVOKE:
      printf("  hash %s", full(e->digest, h));
      break;
    case CNV_LREC_AGENT:
      printf("  %s  agent %" PRIu32 "  key %s", e->detail == 1 ? "remove" : "add", e->agent, prefix(e->key, h));
      if (e->detail != 1) printf("  token %s", prefix(e->digest, h));
      break;
    case CNV_LREC_REGISTER:
      show_register(e);
      break;
    case CNV_LREC_PHASE:
      show_phase(e);
      break;
    case CNV_LREC_ADMIT:
      show_admit(e);
      break;
    case CNV_LREC_COMPLETE:
      show_complete(e);
      break;
    default:
      printf("  detail %" PRIu16 "  status %" PRId32 "  agent %" PRIu32 "  ticket %" PRIu64 "  capability %016" PRIx64
             "  payload %" PRIu32 " bytes",
             e->detail, e->status, e->agent, e->ticket, e->capability, e->payload_len);
      break;
  }
  if (e->kind != CNV_LREC_GENESIS && e->kind != CNV_LREC_CHECKPOINT && e->kind != CNV_LREC_CONFIG &&
      e->kind != CNV_LREC_APP)
    printf("  epoch %" PRIu64, e->epoch);
}

static void show_line(uint64_t index, const cnv_ledger_entry *e, const uint8_t *leaf) {
  char h[17];
  printf("%8" PRIu64 "  %-10s", index, cnv_ledger_kind_name(e->kind));
  show_fields(e);
  printf("  leaf %s\n", prefix(leaf, h));
}

/* One JSON object: every field (unsigned 64-bit numbers as JSON numbers, written here rather
 * than through jansson, whose integers are signed), hashes and keys in hex, the payload in
 * hex, and a checkpoint's decoded fields. */
static void show_json(uint64_t index, const cnv_ledger_entry *e, const uint8_t *leaf) {
  char leaf_hex[65], key[65], digest[65], result[65];
  printf("{\"index\":%" PRIu64 ",\"kind\":\"%s\",\"leaf\":\"%s\",\"detail\":%" PRIu16 ",\"status\":%" PRId32
         ",\"status_name\":\"%s\",\"agent\":%" PRIu32 ",\"flags\":%" PRIu32 ",\"time_ms\":%" PRIu64
         ",\"start_ms\":%" PRIu64 ",\"token_time\":%" PRIu64 ",\"ticket\":%" PRIu64 ",\"capability\":%" PRIu64
         ",\"epoch\":%" PRIu64 ",\"key\":\"%s\",\"digest\":\"%s\",\"result\":\"%s\",\"payload\":\"",
         index, cnv_ledger_kind_name(e->kind), full(leaf, leaf_hex), e->detail, e->status, cnv_status_name(e->status),
         e->agent, e->flags, e->time_ms, e->start_ms, e->token_time, e->ticket, e->capability, e->epoch, full(e->key, key),
         full(e->digest, digest), full(e->result, result));
  for (uint32_t i = 0; i < e->payload_len; i++) printf("%02x", e->payload[i]);
  putchar('"');
  cnv_checkpoint cp;
  if (e->kind == CNV_LREC_CHECKPOINT && cnv_checkpoint_decode(e->payload, e->payload_len, &cp) == CNV_OK) {
    char root[65], ck[65], sig[129];
    cli_hex(cp.sig, sizeof cp.sig, sig);
    printf(",\"checkpoint\":{\"tree_size\":%" PRIu64 ",\"root\":\"%s\",\"time_ms\":%" PRIu64
           ",\"key\":\"%s\",\"sig\":\"%s\"}",
           cp.tree_size, full(cp.root, root), cp.time_ms, full(cp.key, ck), sig);
  }
  printf("}\n");
}

static int ledger_show(cli_cmd *cmd) {
  char dir[LEDGER_DIR_CAP];
  bool bad = false;
  uint64_t from = 0, count = UINT64_MAX;
  bool json = cli_flag_bool(cmd, "json", &bad);
  cli_flag_u64(cmd, "from", 0, UINT64_MAX, &from, &bad);
  cli_flag_u64(cmd, "count", 1, UINT64_MAX, &count, &bad);
  if (bad || !cli_positional(cmd, "DIR", dir, sizeof dir) || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  cnv_ledger_reader *r = NULL;
  if (!cli_ledger_reader(dir, &r)) return CLI_EXIT_FAIL;
  uint64_t size = cnv_ledger_reader_size(r);
  int rc = CLI_EXIT_OK;
  if (from > size) {
    cli_fail("--from %" PRIu64 ": the log has %" PRIu64 " records", from, size);
    rc = CLI_EXIT_FAIL;
  }
  uint64_t end = rc == CLI_EXIT_OK && count < size - from ? from + count : size;
  for (uint64_t i = from; rc == CLI_EXIT_OK && i < end; i++) {
    cnv_ledger_entry e;
    uint8_t leaf[CNV_LEDGER_HASH_BYTES];
    cnv_status st = cnv_ledger_reader_get(r, i, &e, leaf);
    if (st != CNV_OK) {
      fprintf(stderr, "cnv: %s: record %" PRIu64 ": %s\n", dir, i, cnv_strerror(st));
      rc = CLI_EXIT_FAIL;
    } else if (json) {
      show_json(i, &e, leaf);
    } else {
      show_line(i, &e, leaf);
    }
  }
  if (rc == CLI_EXIT_OK && cnv_ledger_reader_torn(r) > 0)
    fprintf(stderr, "cnv: %s: a torn tail of %" PRIu64 " bytes follows record %" PRIu64 " (not shown)\n", dir,
            cnv_ledger_reader_torn(r), size > 0 ? size - 1 : 0);
  cnv_ledger_reader_close(r);
  return rc;
}

/* ---- the noun ---- */

static const char *const show_bools[] = {"json", NULL};

static const cli_verb verbs[] = {
    {"verify", "check a whole log: frames, hashes, chain, checkpoints (exit 0 only when intact)",
     "DIR [--pub KEY.pub]\n"
     "  Checks every segment of the ledger in DIR: each frame and leaf hash, each record's link\n"
     "  to the one before, the GENESIS record first, and every checkpoint's tree size, root and\n"
     "  Ed25519 signature (under --pub, a public key file as `cnv token keygen` writes it, else\n"
     "  under the GENESIS record's key). Prints what it checked; exit 0 only for an intact log.\n"
     "  Otherwise names the first bad record and why (a torn tail included) and exits 1.",
     NULL, ledger_verify},
    {"show", "list records: index, kind, the fields that matter, leaf hash",
     "DIR [--from N] [--count N] [--json]\n"
     "  One line per record from --from (default 0), at most --count (1.., default all): index,\n"
     "  kind, the fields that matter for that kind, the first 16 hex digits of its leaf hash.\n"
     "  --json prints one JSON object per line with every field (hashes and keys in hex).",
     show_bools, ledger_show},
    {"prove", "an inclusion proof of a record, or a consistency proof between two tree sizes",
     "DIR --index I [--size N]  |  DIR --consistency N1 N2\n"
     "  --index: the inclusion proof of record I in the tree of size N (I < N; default: the\n"
     "  last checkpoint's tree size, which must cover I) and that tree's root. --consistency:\n"
     "  the proof that the tree of size N2 extends the tree of size N1 (0 < N1 <= N2), and both\n"
     "  roots. Each tree size that is a checkpoint's adds its time, key and signature. The\n"
     "  output is line-based text in hex (docs/cli.md, `cnv ledger prove`).",
     NULL, cli_ledger_prove},
    {"replay", "re-run every recorded admission decision (exit 0 only when all are reproduced)",
     "DIR\n"
     "  Rebuilds the policy from the log (configuration, trust roots, revocations, agents,\n"
     "  capabilities, phases) and re-runs each ADMIT record's decision with the time it\n"
     "  recorded (cnv_audit_replay). Lists every decision that comes out different and a\n"
     "  summary; exit 0 only when every decision is reproduced.",
     NULL, cli_ledger_replay},
    {"whatif", "re-run the decisions under a changed policy; list those that would change",
     "DIR [--revoke HASH]... [--unrevoke HASH]... [--untrust KEYHEX|KEY.pub]... [--phase NAME]\n"
     "  Replays the log with revocations added (--revoke) or ignored (--unrevoke), trust roots\n"
     "  ignored (--untrust: 64 hex digits or a public key file) and/or the phase forced\n"
     "  throughout (--phase bootstrap|negotiation|activation|operational|degraded|recovery|\n"
     "  emergency|shutdown), and lists every decision that would change, then a summary.\n"
     "  At least one change is required.",
     NULL, cli_ledger_whatif},
    {"receipt", "write the receipt of a completion (a COMPLETE record) to a file",
     "DIR --index I --out FILE\n"
     "  The receipt of COMPLETE record I: its attested fields, leaf hash, the last checkpoint\n"
     "  covering it and the inclusion proof to that checkpoint's root, in the binary encoding\n"
     "  of docs/receipts.md. FILE is written atomically and never replaced: an existing FILE\n"
     "  is refused (exit 1). Check it with `cnv receipt verify`.",
     NULL, cli_ledger_receipt},
};

const cli_noun cli_noun_ledger = {"ledger", "a governance ledger: verify, show, prove, replay, whatif, receipt", verbs,
                                  sizeof verbs / sizeof verbs[0], NULL};
