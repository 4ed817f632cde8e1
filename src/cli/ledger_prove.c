/* `cnv ledger prove`: Merkle proofs (RFC 9162 section 2.1, BLAKE2b-256) from a closed log,
 * in a line-based text format a small independent checker reads (docs/cli.md):
 *
 *   cnv-ledger-proof-v1 inclusion        cnv-ledger-proof-v1 consistency
 *   index I                              size1 N1
 *   size N                               size2 N2
 *   leaf HEX                             root1 HEX
 *   root HEX                             root2 HEX
 *   checkpoint TIME_MS KEY SIG | none    checkpoint1 TIME_MS KEY SIG | none
 *   proof K                              checkpoint2 TIME_MS KEY SIG | none
 *   HEX (K lines)                        proof K
 *                                        HEX (K lines)
 *
 * Roots are computed from the log's leaf hashes; where a checkpoint of that tree size is in
 * the log, its signed root must be the same (else exit 1: the log is damaged). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnv/ledger.h"
#include "cnv/status.h"

#include "ledger_cli.h"
#include "readers.h"

static void print_hash(const char *label, const uint8_t h[CNV_LEDGER_HASH_BYTES]) {
  char hex[2 * CNV_LEDGER_HASH_BYTES + 1];
  cli_hex(h, CNV_LEDGER_HASH_BYTES, hex);
  if (label)
    printf("%s %s\n", label, hex);
  else
    printf("%s\n", hex);
}

/* The root of the tree of `size` leaves and the checkpoint of that size, if the log has one
 * (*have); prints and returns false when the log cannot be read or the checkpoint's root or
 * signature disagrees. */
static bool tree_head(const char *dir, cnv_ledger_reader *r, uint64_t size, uint8_t root[CNV_LEDGER_HASH_BYTES],
                      cnv_checkpoint *cp, bool *have) {
  cnv_status st = cnv_merkle_root(cnv_ledger_reader_leaves(r), size, root);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: %s: root of tree size %" PRIu64 ": %s\n", dir, size, cnv_strerror(st));
    return false;
  }
  st = cli_ledger_checkpoint_at(r, size, cp);
  *have = st == CNV_OK;
  if (st == CNV_ENOTFOUND) return true;
  if (st == CNV_OK) st = memcmp(cp->root, root, CNV_LEDGER_HASH_BYTES) == 0 ? CNV_OK : CNV_ELEDGER_SIGNATURE;
  /* signed by the log's own key (its GENESIS record's), not just by some key */
  cnv_ledger_entry genesis;
  if (st == CNV_OK) st = cnv_ledger_reader_get(r, 0, &genesis, NULL);
  if (st == CNV_OK) st = genesis.kind == CNV_LREC_GENESIS ? cnv_checkpoint_verify(cp, genesis.key) : CNV_ELEDGER_CORRUPT;
  if (st == CNV_OK) return true;
  fprintf(stderr, "cnv: %s: checkpoint of tree size %" PRIu64 " (record %" PRIu64 "): %s: %s (see cnv ledger verify)\n",
          dir, size, size, cnv_status_name(st), cnv_strerror(st));
  return false;
}

static void print_checkpoint(const char *label, const cnv_checkpoint *cp, bool have) {
  if (!have) {
    printf("%s none\n", label);
    return;
  }
  char key[2 * CNV_LEDGER_KEY_BYTES + 1], sig[2 * CNV_LEDGER_SIG_BYTES + 1];
  cli_hex(cp->key, sizeof cp->key, key);
  cli_hex(cp->sig, sizeof cp->sig, sig);
  printf("%s %" PRIu64 " %s %s\n", label, cp->time_ms, key, sig);
}

static uint8_t proof[CNV_LEDGER_MAX_PROOF][CNV_LEDGER_HASH_BYTES];

static void print_proof(size_t n) {
  printf("proof %zu\n", n);
  for (size_t i = 0; i < n; i++) print_hash(NULL, proof[i]);
}

/* Inclusion of record index in the tree of `size` (CNV_LEDGER_NONE: the last checkpoint's). */
static int prove_inclusion(const char *dir, cnv_ledger_reader *r, uint64_t index, uint64_t size) {
  uint64_t records = cnv_ledger_reader_size(r);
  if (index >= records) {
    cli_fail("--index %" PRIu64 ": the log has %" PRIu64 " records", index, records);
    return CLI_EXIT_FAIL;
  }
  if (size == CNV_LEDGER_NONE) {
    cnv_checkpoint last;
    uint64_t at = CNV_LEDGER_NONE;
    cnv_status st = cli_ledger_last_checkpoint(r, &last, &at);
    if (st != CNV_OK && st != CNV_ENOTFOUND) {
      fprintf(stderr, "cnv: %s: last checkpoint (record %" PRIu64 "): %s: %s (see cnv ledger verify)\n", dir, at,
              cnv_status_name(st), cnv_strerror(st));
      return CLI_EXIT_FAIL;
    }
    if (st == CNV_ENOTFOUND || last.tree_size <= index) {
      cli_fail("%s: record %" PRIu64 ": %s (give --size)", dir, index, cnv_strerror(CNV_ELEDGER_NOT_COVERED));
      return CLI_EXIT_FAIL;
    }
    size = last.tree_size;
  } else if (size <= index || size > records) {
    cli_fail("--size %" PRIu64 ": not in %" PRIu64 "..%" PRIu64 " (past --index, within the log)", size, index + 1,
             records);
    return CLI_EXIT_FAIL;
  }
  uint8_t root[CNV_LEDGER_HASH_BYTES];
  cnv_checkpoint cp;
  bool have = false;
  if (!tree_head(dir, r, size, root, &cp, &have)) return CLI_EXIT_FAIL;
  size_t n = 0;
  cnv_status st = cnv_merkle_inclusion_proof(cnv_ledger_reader_leaves(r), size, index, proof, &n);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: %s: inclusion proof: %s\n", dir, cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  printf("cnv-ledger-proof-v1 inclusion\nindex %" PRIu64 "\nsize %" PRIu64 "\n", index, size);
  print_hash("leaf", cnv_ledger_reader_leaves(r)[index]);
  print_hash("root", root);
  print_checkpoint("checkpoint", &cp, have);
  print_proof(n);
  return CLI_EXIT_OK;
}

static int prove_consistency(const char *dir, cnv_ledger_reader *r, uint64_t size1, uint64_t size2) {
  uint64_t records = cnv_ledger_reader_size(r);
  if (size2 > records) {
    cli_fail("--consistency: %" PRIu64 ": the log has %" PRIu64 " records", size2, records);
    return CLI_EXIT_FAIL;
  }
  uint8_t root1[CNV_LEDGER_HASH_BYTES], root2[CNV_LEDGER_HASH_BYTES];
  cnv_checkpoint cp1, cp2;
  bool have1 = false, have2 = false;
  if (!tree_head(dir, r, size1, root1, &cp1, &have1) || !tree_head(dir, r, size2, root2, &cp2, &have2))
    return CLI_EXIT_FAIL;
  size_t n = 0;
  cnv_status st = cnv_merkle_consistency_proof(cnv_ledger_reader_leaves(r), size1, size2, proof, &n);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: %s: consistency proof: %s\n", dir, cnv_strerror(st));
    return CLI_EXIT_FAIL;
  }
  printf("cnv-ledger-proof-v1 consistency\nsize1 %" PRIu64 "\nsize2 %" PRIu64 "\n", size1, size2);
  print_hash("root1", root1);
  print_hash("root2", root2);
  print_checkpoint("checkpoint1", &cp1, have1);
  print_checkpoint("checkpoint2", &cp2, have2);
  print_proof(n);
  return CLI_EXIT_OK;
}

/* A tree size given as text: a whole number in 1..2^64-2; prints why not. */
static bool parse_size(const char *what, const char *text, uint64_t *out) {
  char *end = NULL;
  unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
  if (end && *end == '\0' && v >= 1 && v < CNV_LEDGER_NONE) {
    *out = v;
    return true;
  }
  cli_fail("%s: not a whole number in 1..%llu: %s", what, (unsigned long long)(CNV_LEDGER_NONE - 1), text);
  return false;
}

/* --consistency N1 N2: N1 is the flag's value, N2 the positional argument right after it
 * (taken here, before DIR, so DIR may come first or last). */
static bool consistency_flags(cli_cmd *cmd, uint64_t *size1, uint64_t *size2) {
  bool bad = false;
  char v[32];
  if (!cli_flag_str(cmd, "consistency", v, sizeof v, &bad)) return false;
  if (!parse_size("--consistency N1", v, size1)) return false;
  for (uint32_t i = 0; i + 1 < cmd->count; i++) {
    const cli_arg *a = &cmd->args[i];
    if (!a->name || a->is_short || a->name_len != 11 || memcmp(a->name, "consistency", 11) != 0) continue;
    if (cmd->args[i + 1].name) break;
    cmd->used[i + 1] = true;
    if (!parse_size("--consistency N2", cmd->args[i + 1].value, size2)) return false;
    if (*size1 <= *size2) return true;
    cli_fail("--consistency: N1 (%" PRIu64 ") is past N2 (%" PRIu64 ")", *size1, *size2);
    return false;
  }
  cli_fail("--consistency takes two tree sizes: --consistency N1 N2");
  return false;
}

int cli_ledger_prove(cli_cmd *cmd) {
  static const char *const modes[] = {"index", "consistency", NULL};
  static const char *const sized[] = {"consistency", "size", NULL};
  if (cli_flags_exclusive(cmd, modes) || cli_flags_exclusive(cmd, sized)) return CLI_EXIT_USAGE;
  uint64_t index = 0, size = CNV_LEDGER_NONE, size1 = 0, size2 = 0;
  bool bad = false, consistency = cli_flag_present(cmd, "consistency");
  if (consistency) {
    if (!consistency_flags(cmd, &size1, &size2)) return CLI_EXIT_USAGE;
  } else if (!cli_flag_u64(cmd, "index", 0, CNV_LEDGER_NONE - 1, &index, &bad)) {
    if (!bad) cli_fail("--index or --consistency is required (see --help)");
    return CLI_EXIT_USAGE;
  }
  cli_flag_u64(cmd, "size", 1, CNV_LEDGER_NONE - 1, &size, &bad);
  char dir[LEDGER_DIR_CAP];
  if (bad || !cli_positional(cmd, "DIR", dir, sizeof dir) || cli_cmd_unknown(cmd)) return CLI_EXIT_USAGE;
  cnv_ledger_reader *r = NULL;
  if (!cli_ledger_reader(dir, &r)) return CLI_EXIT_FAIL;
  int rc = consistency ? prove_consistency(dir, r, size1, size2) : prove_inclusion(dir, r, index, size);
  cnv_ledger_reader_close(r);
  return rc;
}
