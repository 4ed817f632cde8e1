/* What the ledger cases (bench/ledger) share: a fresh temporary directory on a real disk,
 * the ledger opened in it with the bench's fixed key, and the 64-byte-payload record.
 *
 * The directory is made with mkdtemp under $TMPDIR, else /var/tmp: a durable append is only
 * measured where fdatasync reaches a disk, so the cases that time one refuse a tmpfs or ramfs
 * there (the case reports the error and says to set TMPDIR). Each case removes its directory
 * (and everything in it) when it ends, also when it fails. */
#ifndef CNV_BENCH_LEDGER_ENV_H
#define CNV_BENCH_LEDGER_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <cnv.h>

/* Payload bytes of every bench record (CNV_LEDGER_INLINE_PAYLOAD: no allocation). */
#define LB_PAYLOAD 64u
/* Room for a temporary directory's path. */
#define LB_DIR_MAX 512u

/* Makes a fresh directory (mode 0700) into dir (LB_DIR_MAX bytes); with on_disk, one in memory
 * (tmpfs, ramfs) is refused. 0, or -1 with err set. */
int lb_dir_make(char *dir, int on_disk, char *err, size_t err_cap);
/* Removes dir and everything under it (files, then directories). Ignores a NULL or empty
 * path. */
void lb_dir_remove(const char *dir);

/* Opens a ledger in dir with the bench's key (a fixed seed) and `sync` (1: fdatasync per
 * group commit), every other setting at its default. *pk (may be NULL) receives its public
 * key. Returns cnv_ledger_open's status. */
cnv_status lb_ledger_open(const char *dir, uint32_t sync, cnv_ledger **out, uint8_t pk[CNV_LEDGER_KEY_BYTES]);

/* An APP record carrying payload (LB_PAYLOAD bytes, filled from seed) and a wall-clock time;
 * the caller sets agent and ticket per record. */
void lb_entry_init(cnv_ledger_entry *e, uint8_t payload[LB_PAYLOAD], uint64_t seed);

/* Records per group commit between two snapshots of a ledger's stats (0 with no commit). */
double lb_mean_batch(const cnv_ledger_stats *before, const cnv_ledger_stats *after);

/* Monotonic nanoseconds. */
uint64_t lb_now_ns(void);

#endif
