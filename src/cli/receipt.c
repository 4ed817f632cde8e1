/* Receipts (proof-carrying invocations, docs/receipts.md):
 *   `cnv ledger receipt DIR --index I --out FILE`: the receipt of COMPLETE record I from a
 *      closed log (cnv_ledger_reader_receipt), encoded (cnv_receipt_encode) and written
 *      atomically to FILE, which must not exist;
 *   `cnv receipt verify FILE --pub KEY.pub`: checks it offline with only the node's public
 *      key (cnv_receipt_verify); prints the state reached and the attested fields; exit 0 only
 *      when VERIFIED. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cnv/ledger.h"
#include "cnv/runtime.h"
#include "cnv/status.h"

#include "ledger_cli.h"
#include "readers.h"
#include "token.h"

static int receipt_of(const char *dir, uint64_t index, const char *out) {
  cnv_ledger_reader *r = NULL;
  if (!cli_ledger_reader(dir, &r)) return CLI_EXIT_FAIL;
  static cnv_receipt rc;
  cnv_status st = cnv_ledger_reader_receipt(r, index, &rc);
  cnv_ledger_entry e;
  if (st == CNV_ELEDGER_KIND && cnv_ledger_reader_get(r, index, &e, NULL) == CNV_OK)
    fprintf(stderr, "cnv: %s: record %" PRIu64 " is of kind %s; receipts are of complete records\n", dir, index,
            cnv_ledger_kind_name(e.kind));
  else if (st != CNV_OK)
    fprintf(stderr, "cnv: %s: record %" PRIu64 ": %s: %s\n", dir, index, cnv_status_name(st), cnv_strerror(st));
  cnv_ledger_reader_close(r);
  if (st != CNV_OK) return CLI_EXIT_FAIL;
  static uint8_t buf[CNV_RECEIPT_MAX_BYTES];
  size_t len = 0;
  st = cnv_receipt_encode(&rc, buf, sizeof buf, &len);
  if (st != CNV_OK) {
    cli_error("receipt encode", st);
    return CLI_EXIT_FAIL;
  }
  if (!cli_write_file_new(out, buf, len, 0644)) return CLI_EXIT_FAIL;
  printf("receipt of record %" PRIu64 " (ticket %" PRIu64 "), checkpoint of tree size %" PRIu64 ", proof of %" PRIu32
         " hashes: %s (%zu bytes)\n",
         index, rc.entry.ticket, rc.checkpoint.tree_size, rc.proof_len, out, len);
  return CLI_EXIT_OK;
}

int cli_ledger_receipt(cli_cmd *cmd) {
  char dir[LEDGER_DIR_CAP], out[TOK_PATH_CAP];
  uint64_t index = 0;
  bool bad = false;
  bool have_index = cli_flag_u64(cmd, "index", 0, CNV_LEDGER_NONE - 1, &index, &bad);
  if (!bad && !have_index) {
    cli_fail("--index is required (see --help)");
    return CLI_EXIT_USAGE;
  }
  if (bad || !tok_required(cmd, "out", out, sizeof out) || !cli_positional(cmd, "DIR", dir, sizeof dir) ||
      cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  return receipt_of(dir, index, out);
}

/* ---- cnv receipt verify ---- */

static void print_fields(const cnv_receipt *rc) {
  const cnv_ledger_entry *e = &rc->entry;
  char key[65], token[65], result[65], leaf[65], root[65], ckey[65];
  cli_hex(e->key, sizeof e->key, key);
  cli_hex(e->digest, sizeof e->digest, token);
  cli_hex(e->result, sizeof e->result, result);
  cli_hex(rc->leaf, sizeof rc->leaf, leaf);
  cli_hex(rc->checkpoint.root, sizeof rc->checkpoint.root, root);
  cli_hex(rc->checkpoint.key, sizeof rc->checkpoint.key, ckey);
  printf("record %" PRIu64 " (%s)\n", rc->index, cnv_ledger_kind_name(e->kind));
  printf("ticket %" PRIu64 "\nagent %" PRIu32 "\nagent_key %s\ncapability %016" PRIx64 "\ntoken_hash %s\n", e->ticket,
         e->agent, key, e->capability, token);
  printf("epoch %" PRIu64 "\nstart_ms %" PRIu64 "\ntime_ms %" PRIu64 "\n", e->epoch, e->start_ms, e->time_ms);
  printf("done %s\nstatus %s\nresult_hash %s\nleaf %s\n", cnv_runtime_done_name(e->detail), cnv_status_name(e->status),
         result, leaf);
  printf("checkpoint tree_size %" PRIu64 " root %s time_ms %" PRIu64 " key %s\nproof %" PRIu32 " hashes\n",
         rc->checkpoint.tree_size, root, rc->checkpoint.time_ms, ckey, rc->proof_len);
}

static int receipt_verify(cli_cmd *cmd) {
  char file[TOK_PATH_CAP], pub[TOK_PATH_CAP];
  if (!tok_required(cmd, "pub", pub, sizeof pub) || !cli_positional(cmd, "FILE", file, sizeof file) ||
      cli_cmd_unknown(cmd))
    return CLI_EXIT_USAGE;
  uint8_t pk[CNV_LEDGER_KEY_BYTES];
  if (!cli_ledger_read_pub(pub, pk)) return CLI_EXIT_FAIL;
  char *bytes = NULL;
  size_t len = 0;
  if (!cli_read_file_max(file, CNV_RECEIPT_MAX_BYTES, &bytes, &len)) return CLI_EXIT_FAIL;
  static cnv_receipt rc;
  cnv_status st = cnv_receipt_decode((const uint8_t *)bytes, len, &rc);
  cli_file_free(bytes, len);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: %s: not a receipt: %s: %s\n", file, cnv_status_name(st), cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  int state = CNV_CERT_UNCHECKED;
  st = cnv_receipt_verify(&rc, pk, &state);
  printf("state %s\n", cnv_cert_state_name(state));
  print_fields(&rc);
  if (st == CNV_OK && state == CNV_CERT_VERIFIED) return CLI_EXIT_OK;
  fprintf(stderr, "cnv: receipt verify: %s: stopped at %s: %s: %s\n", file, cnv_cert_state_name(state),
          cnv_status_name(st), cnv_strerror(st));
  return CLI_EXIT_FAIL;
}

static const cli_verb verbs[] = {
    {"verify", "check a receipt offline with the node's public key (exit 0 only when verified)",
     "FILE --pub KEY.pub\n"
     "  Checks the receipt in FILE (as `cnv ledger receipt` writes it) with only the node's\n"
     "  public key: the checkpoint's signature (policy_checked), the attested fields against\n"
     "  the leaf hash of a complete record (capability_checked), the inclusion proof to the\n"
     "  signed root (verified). Prints the state reached and the attested fields; exit 0 only\n"
     "  when verified.",
     NULL, receipt_verify},
};

const cli_noun cli_noun_receipt = {"receipt", "proof-carrying invocations: verify a receipt offline", verbs,
                                   sizeof verbs / sizeof verbs[0], NULL};
