/* receipt_verify/cnv: receipts checked per second by cnv_receipt_verify, offline, with only
 * the node's public key: the checkpoint's Ed25519 signature, the attested fields re-encoded
 * and hashed to the leaf, the inclusion proof up to the signed root.
 *
 * Set-up (not timed): a ledger in a fresh directory (ledger_env.h) gets RECORDS COMPLETE
 * records and a checkpoint covering them all; RECEIPTS receipts of records spread over the
 * log are taken from it (cnv_ledger_receipt, each with a proof of about log2(RECORDS)
 * hashes), and the ledger is closed and removed. Each iteration verifies the next of them
 * from UNCHECKED, and the case fails unless every one reaches VERIFIED. */
#include <stdio.h>
#include <string.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "ledger_env.h"

#define RECORDS 5000u
#define RECEIPTS 16u

static cnv_receipt receipts[RECEIPTS];
static uint8_t node_pk[CNV_LEDGER_KEY_BYTES];

/* The ledger, its records and the receipts. 0, or -1 with err set. */
static int receipts_make(char *err, size_t err_cap) {
  char dir[LB_DIR_MAX];
  if (lb_dir_make(dir, 0, err, err_cap) != 0) return -1;
  cnv_ledger *l = NULL;
  cnv_status s = lb_ledger_open(dir, 1, &l, node_pk);
  const char *what = "cnv_ledger_open";
  uint8_t payload[LB_PAYLOAD];
  cnv_ledger_entry e;
  lb_entry_init(&e, payload, 3);
  e.kind = CNV_LREC_COMPLETE; /* fields as the runtime writes them (ledger.h) */
  e.payload = NULL;
  e.payload_len = 0;
  e.capability = 0x5eed;
  e.epoch = 1;
  e.start_ms = e.time_ms;
  memset(e.key, 0xa1, sizeof e.key);
  memset(e.digest, 0xb2, sizeof e.digest);
  uint64_t index[RECEIPTS], at = 0;
  unsigned k = 0;
  for (uint32_t i = 0; i < RECORDS && s == CNV_OK; i++) {
    e.ticket = i + 1;
    e.agent = i % 8;
    memcpy(e.result, payload, sizeof e.result);
    e.result[0] = (uint8_t)i;
    what = "cnv_ledger_append";
    s = cnv_ledger_append(l, &e, &at);
    if (s == CNV_OK && i % (RECORDS / RECEIPTS) == 0 && k < RECEIPTS) index[k++] = at;
  }
  if (s == CNV_OK) {
    what = "cnv_ledger_checkpoint";
    s = cnv_ledger_checkpoint(l, NULL);
  }
  for (unsigned i = 0; i < k && s == CNV_OK; i++) {
    what = "cnv_ledger_receipt";
    s = cnv_ledger_receipt(l, index[i], &receipts[i]);
  }
  cnv_ledger_close(l);
  lb_dir_remove(dir);
  if (s != CNV_OK || k != RECEIPTS) {
    snprintf(err, err_cap, "%s: %s", what, cnv_strerror(s));
    return -1;
  }
  return 0;
}

static void receipt_verify_cnv(cnv_bench_state *st) {
  char err[LB_DIR_MAX + 128];
  if (receipts_make(err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  uint64_t bad = 0;
  while (cnv_bench_keep_running_batch(st, RECEIPTS)) {
    for (unsigned i = 0; i < RECEIPTS; i++) {
      int state = CNV_CERT_UNCHECKED;
      bad += cnv_receipt_verify(&receipts[i], node_pk, &state) != CNV_OK || state != CNV_CERT_VERIFIED;
    }
  }
  if (bad) {
    cnv_bench_skip_with_error(st, "a receipt did not verify");
    return;
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}
CNV_BENCH(receipt_verify_cnv, "receipt_verify/cnv", 1, 0)
