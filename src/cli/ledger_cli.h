/* What the tool's ledger commands share (ledger.c, ledger_prove.c, ledger_audit.c,
 * receipt.c, ledger_open.c): reading a log, printing records, the --ledger of `swarm run`
 * and `serve`. */
#ifndef CNV_CLI_LEDGER_H
#define CNV_CLI_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "cnv/ledger.h"

#include "cli.h"

/* The longest DIR argument, its NUL included. */
#define LEDGER_DIR_CAP 4096

/* Opens the log in dir for reading; prints why not ("cnv: DIR: ...", naming the first bad
 * record of a damaged log) and returns false. */
bool cli_ledger_reader(const char *dir, cnv_ledger_reader **out);

/* Checkpoints in a log. A checkpoint of tree size n is record n (it follows the records it
 * covers). cli_ledger_checkpoint_at: the checkpoint of tree size `size` (record `size`, when
 * it is one of that size); cli_ledger_last_checkpoint: the last checkpoint of the log.
 * CNV_OK with *cp filled; CNV_ENOTFOUND when there is none; CNV_ELEDGER_CORRUPT (a
 * checkpoint's payload does not decode, or the last checkpoint's tree size is not its own
 * index) or the reader's errors; *at (last_checkpoint) = the index of the checkpoint record
 * found, good or bad. Print nothing. */
CNV_NODISCARD cnv_status cli_ledger_checkpoint_at(cnv_ledger_reader *r, uint64_t size, cnv_checkpoint *cp);
CNV_NODISCARD cnv_status cli_ledger_last_checkpoint(cnv_ledger_reader *r, cnv_checkpoint *cp, uint64_t *at);

/* A public key file (--pub) into pk; prints why not and returns false. */
bool cli_ledger_read_pub(const char *path, uint8_t pk[CNV_LEDGER_KEY_BYTES]);

/* The --ledger flag of `swarm run` and `serve`: opens (or creates) the ledger in dir with the
 * secret key sk (CNV_LEDGER_SECRET_BYTES; the ledger keeps its own copy), prints on stderr
 * what recovery cut when the log ended in a torn tail, and returns false (after printing)
 * when it cannot be opened. Close it with cnv_ledger_close after the runtime is destroyed. */
bool cli_ledger_open(const char *dir, const uint8_t *sk, cnv_ledger **out);
/* Closes a ledger cli_ledger_open opened (drains it and writes a final checkpoint). False,
 * after printing why, when the ledger had stopped while in use (an I/O failure, its size
 * limit): the log is then not the whole run. */
bool cli_ledger_close(const char *dir, cnv_ledger *l);

/* The receipt verbs (receipt.c): `cnv ledger receipt` writes one, `cnv receipt verify`
 * checks one. */
int cli_ledger_receipt(cli_cmd *cmd);

/* The proof verb (ledger_prove.c). */
int cli_ledger_prove(cli_cmd *cmd);

/* The audit verbs (ledger_audit.c). */
int cli_ledger_replay(cli_cmd *cmd);
int cli_ledger_whatif(cli_cmd *cmd);

#endif
