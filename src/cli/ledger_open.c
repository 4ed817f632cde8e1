/* The ledger pieces the tool's commands share (ledger_cli.h): opening a log for reading,
 * finding its checkpoints, reading a --pub key, and the --ledger of `swarm run` and `serve`. */
#include <signal.h>
#include <stdio.h>

#include "cnv/ledger.h"
#include "cnv/status.h"

#include "ledger_cli.h"
#include "token.h"

bool cli_ledger_reader(const char *dir, cnv_ledger_reader **out) {
  uint64_t bad = CNV_LEDGER_NONE;
  cnv_status st = cnv_ledger_reader_open(dir, out, &bad);
  if (st == CNV_OK) return true;
  if (st == CNV_ELEDGER_CORRUPT && bad != CNV_LEDGER_NONE)
    fprintf(stderr, "cnv: %s: record %llu: %s: %s\n", dir, (unsigned long long)bad, cnv_status_name(st),
            cnv_strerror(st));
  else
    fprintf(stderr, "cnv: %s: %s\n", dir, cnv_strerror(st));
  return false;
}

/* Record index as a checkpoint: CNV_ENOTFOUND when it is another kind. */
static cnv_status checkpoint_of(cnv_ledger_reader *r, uint64_t index, cnv_checkpoint *cp) {
  cnv_ledger_entry e;
  cnv_status st = cnv_ledger_reader_get(r, index, &e, NULL);
  if (st != CNV_OK) return st;
  if (e.kind != CNV_LREC_CHECKPOINT) return CNV_ENOTFOUND;
  return cnv_checkpoint_decode(e.payload, e.payload_len, cp);
}

cnv_status cli_ledger_checkpoint_at(cnv_ledger_reader *r, uint64_t size, cnv_checkpoint *cp) {
  if (size >= cnv_ledger_reader_size(r)) return CNV_ENOTFOUND;
  cnv_status st = checkpoint_of(r, size, cp);
  if (st == CNV_OK && cp->tree_size != size) return CNV_ENOTFOUND;
  return st;
}

cnv_status cli_ledger_last_checkpoint(cnv_ledger_reader *r, cnv_checkpoint *cp, uint64_t *at) {
  for (uint64_t i = cnv_ledger_reader_size(r); i > 0; i--) {
    cnv_status st = checkpoint_of(r, i - 1, cp);
    if (st == CNV_ENOTFOUND) continue;
    *at = i - 1;
    /* the reader checks frames and chain, not checkpoints: a tree size other than its own
       index (up to 2^64-1) would send the caller past the log's leaves */
    if (st == CNV_OK && cp->tree_size != i - 1) return CNV_ELEDGER_CORRUPT;
    return st;
  }
  return CNV_ENOTFOUND;
}

bool cli_ledger_read_pub(const char *path, uint8_t pk[CNV_LEDGER_KEY_BYTES]) {
  return tok_read_hex(path, "public key", pk, CNV_LEDGER_KEY_BYTES);
}

bool cli_ledger_open(const char *dir, const uint8_t *sk, cnv_ledger **out) {
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = dir;
  cfg.secret_key = sk;
  cnv_ledger_recovery rec = {0, 0, 0, 0};
  /* The writer thread starts with SIGINT, SIGTERM and SIGHUP blocked (it inherits this
   * mask), so that the tool's handlers and sigwait run in the threads meant for them. */
  sigset_t old;
  *out = NULL;
  if (!cli_signals_block(&old)) return false;
  cnv_ledger *l = NULL;
  cnv_status st = cnv_ledger_open(&cfg, &l, &rec);
  if (!cli_signals_restore(&old)) {
    if (st == CNV_OK) cnv_ledger_close(l);
    return false;
  }
  if (st == CNV_OK) *out = l;
  if (st != CNV_OK) {
    fprintf(stderr, "cnv: --ledger %s: %s\n", dir, cnv_strerror(st));
    return false;
  }
  if (rec.torn_bytes > 0)
    fprintf(stderr,
            "cnv: --ledger %s: recovered: cut a torn tail of %llu bytes; %llu complete records kept in "
            "%llu segments (last checkpoint at tree size %llu)\n",
            dir, (unsigned long long)rec.torn_bytes, (unsigned long long)rec.records,
            (unsigned long long)rec.segments, (unsigned long long)rec.last_checkpoint);
  return true;
}

bool cli_ledger_close(const char *dir, cnv_ledger *l) {
  cnv_ledger_stats s;
  cnv_ledger_stats_get(l, &s);
  cnv_ledger_close(l);
  if (s.error == CNV_OK) return true;
  fprintf(stderr, "cnv: --ledger %s: the ledger stopped while in use: %s\n", dir, cnv_strerror(s.error));
  return false;
}
