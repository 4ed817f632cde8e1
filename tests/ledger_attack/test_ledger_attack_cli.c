/* Crafted ledgers and receipts handed to the cnv tool: `cnv ledger prove|show|verify|receipt`
 * and `cnv receipt verify` must end with a clear error (exit 1), never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "attack_fixture.h"
#include "cli/cli_run.h"

static afix_log g;

static int setup(void **state) {
  (void)state;
  cli_tmpdir();
  return mkdir("log", 0700);
}

static int teardown(void **state) {
  (void)state;
  cli_tmpdir_remove();
  return 0;
}

/* genesis, a COMPLETE record, and a last checkpoint claiming tree size `lie` (root of 2). */
static void lying_log(uint64_t lie) {
  afix_begin(&g);
  cnv_ledger_entry e = afix_entry(CNV_LREC_COMPLETE, 0, 0, NULL, 0);
  assert_true(afix_add(&g, &e));
  assert_true(afix_checkpoint(&g, lie, 2));
  assert_true(afix_save(&g, "log"));
}

/* The last checkpoint claims a tree larger than the log (up to 2^64-1): prove refuses it
 * instead of reading leaves that do not exist. */
static void test_prove_lying_last_checkpoint(void **state) {
  (void)state;
  static const uint64_t lies[] = {UINT64_MAX, UINT64_MAX - 1, 4, 3};
  for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++) {
    lying_log(lies[k]);
    cli_result r;
    cli_run(&r, (const char *const[]){"ledger", "prove", "log", "--index", "1", NULL});
    CLI_EXPECT(&r, 1, "record 2");
    cli_run(&r, (const char *const[]){"ledger", "receipt", "log", "--index", "1", "--out", "r.bin", NULL});
    CLI_EXPECT(&r, 1, "ELEDGER_CORRUPT");
    assert_false(cli_exists("r.bin"));
    cli_run(&r, (const char *const[]){"ledger", "verify", "log", NULL});
    CLI_EXPECT(&r, 1, "record 2");
  }
}

/* A checkpoint signed by a key that is not the log's (its GENESIS key): prove refuses it
 * rather than printing a proof against a head anyone could have signed. */
static void test_prove_foreign_checkpoint(void **state) {
  (void)state;
  afix_begin(&g);
  cnv_ledger_entry e = afix_entry(CNV_LREC_COMPLETE, 0, 0, NULL, 0);
  assert_true(afix_add(&g, &e));
  crypto_sign_keypair(g.pk, g.sk); /* the GENESIS record keeps the first key */
  assert_true(afix_checkpoint(&g, 2, 2));
  assert_true(afix_save(&g, "log"));
  cli_result r;
  cli_run(&r, (const char *const[]){"ledger", "prove", "log", "--index", "1", NULL});
  CLI_EXPECT(&r, 1, "ELEDGER_SIGNATURE");
}

/* The same log with an honest checkpoint: prove and receipt work (the cases above fail for
 * the lie, not for the log's shape). */
static void test_prove_honest_checkpoint(void **state) {
  (void)state;
  lying_log(2);
  cli_result r;
  cli_run(&r, (const char *const[]){"ledger", "prove", "log", "--index", "1", NULL});
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "size 2\n"));
  cli_run(&r, (const char *const[]){"ledger", "receipt", "log", "--index", "1", "--out", "r.bin", NULL});
  assert_int_equal(r.status, 0);
  char hex[2 * CNV_LEDGER_KEY_BYTES + 2];
  for (size_t i = 0; i < CNV_LEDGER_KEY_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", g.pk[i]);
  strcat(hex, "\n");
  assert_true(afix_write(".", "node.pub", (const uint8_t *)hex, strlen(hex)));
  cli_run(&r, (const char *const[]){"receipt", "verify", "r.bin", "--pub", "node.pub", NULL});
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "state verified"));
}

/* Receipt files that are not receipts: empty, short, oversized, a directory. */
static void test_receipt_verify_garbage(void **state) {
  (void)state;
  lying_log(2);
  char hex[2 * CNV_LEDGER_KEY_BYTES + 2];
  for (size_t i = 0; i < CNV_LEDGER_KEY_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", g.pk[i]);
  strcat(hex, "\n");
  assert_true(afix_write(".", "node.pub", (const uint8_t *)hex, strlen(hex)));
  static uint8_t big[CNV_RECEIPT_MAX_BYTES + 100];
  memcpy(big, "CNVRCPT1", 8);
  assert_true(afix_write(".", "empty.bin", big, 0));
  assert_true(afix_write(".", "short.bin", big, 100));
  assert_true(afix_write(".", "big.bin", big, sizeof big));
  cli_result r;
  cli_run(&r, (const char *const[]){"receipt", "verify", "empty.bin", "--pub", "node.pub", NULL});
  assert_int_equal(r.status, 1);
  cli_run(&r, (const char *const[]){"receipt", "verify", "short.bin", "--pub", "node.pub", NULL});
  CLI_EXPECT(&r, 1, "not a receipt");
  cli_run(&r, (const char *const[]){"receipt", "verify", "big.bin", "--pub", "node.pub", NULL});
  assert_int_equal(r.status, 1);
  cli_run(&r, (const char *const[]){"receipt", "verify", "log", "--pub", "node.pub", NULL});
  assert_int_equal(r.status, 1);
}

/* Fields out of every table (detail 0xFFFF, status INT32_MIN, a control character in a
 * payload) are shown as numbers or "unknown", in both forms, never read out of a table. */
static void test_show_out_of_range_fields(void **state) {
  (void)state;
  afix_begin(&g);
  static const uint16_t kinds[] = {CNV_LREC_ADMIT, CNV_LREC_COMPLETE, CNV_LREC_PHASE, CNV_LREC_REGISTER,
                                   CNV_LREC_AGENT, CNV_LREC_TRUST, CNV_LREC_CHECKPOINT, CNV_LREC_CONFIG,
                                   CNV_LREC_REVOKE, CNV_LREC_APP};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    for (unsigned v = 0; v < 2; v++) {
      cnv_ledger_entry e = afix_entry(kinds[k], v ? 0xFFFE : 0xFFFF, v ? INT32_MAX : INT32_MIN, "\x1b[2J\x07", 6);
      assert_true(afix_add(&g, &e));
    }
  }
  assert_true(afix_save(&g, "log"));
  cli_result r;
  cli_run(&r, (const char *const[]){"ledger", "show", "log", NULL});
  assert_int_equal(r.status, 0);
  assert_null(strchr(r.out, '\x1b'));
  cli_run(&r, (const char *const[]){"ledger", "show", "log", "--json", NULL});
  assert_int_equal(r.status, 0);
  assert_null(strchr(r.out, '\x1b'));
  cli_run(&r, (const char *const[]){"ledger", "replay", "log", NULL});
  CLI_EXPECT(&r, 1, "CNV_");
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_prove_lying_last_checkpoint, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prove_foreign_checkpoint, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prove_honest_checkpoint, setup, teardown),
      cmocka_unit_test_setup_teardown(test_receipt_verify_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_show_out_of_range_fields, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
