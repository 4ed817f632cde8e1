/* Plumbing shared by the ledger cases: see ledger_env.h. */
#include "ledger_env.h"

#include <errno.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../harness/cnv_bench.h"

int lb_dir_make(char *dir, int on_disk, char *err, size_t err_cap) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/var/tmp";
  int n = snprintf(dir, LB_DIR_MAX, "%s/cnv-bench-ledger-XXXXXX", base);
  if (n < 0 || (size_t)n >= LB_DIR_MAX) {
    snprintf(err, err_cap, "temporary directory path too long under %s", base);
    dir[0] = '\0';
    return -1;
  }
  if (!mkdtemp(dir)) {
    snprintf(err, err_cap, "mkdtemp under %s: %s", base, strerror(errno));
    dir[0] = '\0';
    return -1;
  }
  struct statfs fs;
  if (statfs(dir, &fs) != 0) {
    snprintf(err, err_cap, "statfs %s: %s", dir, strerror(errno));
    lb_dir_remove(dir);
    dir[0] = '\0';
    return -1;
  }
  if (on_disk && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)) {
    snprintf(err, err_cap, "%s is in memory (tmpfs or ramfs): set TMPDIR to a directory on a disk", base);
    lb_dir_remove(dir);
    dir[0] = '\0';
    return -1;
  }
  return 0;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0; /* go on: remove what can be removed */
}

void lb_dir_remove(const char *dir) {
  if (!dir || !*dir) return;
  /* FTW_DEPTH: a directory after its contents; FTW_PHYS: links are removed, not followed. */
  if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
    fprintf(stderr, "cnv_bench: could not remove %s: %s\n", dir, strerror(errno));
}

cnv_status lb_ledger_open(const char *dir, uint32_t sync, cnv_ledger **out, uint8_t pk[CNV_LEDGER_KEY_BYTES]) {
  if (sodium_init() < 0) return CNV_ENOTSUP;
  uint8_t seed[32], lpk[CNV_LEDGER_KEY_BYTES], sk[CNV_LEDGER_SECRET_BYTES];
  memset(seed, 7, sizeof seed);
  crypto_sign_seed_keypair(lpk, sk, seed);
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = dir;
  cfg.secret_key = sk;
  cfg.sync = sync;
  cnv_status st = cnv_ledger_open(&cfg, out, NULL);
  sodium_memzero(sk, sizeof sk); /* open copied it */
  if (st == CNV_OK && pk) memcpy(pk, lpk, sizeof lpk);
  return st;
}

void lb_entry_init(cnv_ledger_entry *e, uint8_t payload[LB_PAYLOAD], uint64_t seed) {
  for (unsigned i = 0; i < LB_PAYLOAD; i += 8) {
    uint64_t v = cnv_bench_rand(&seed);
    memcpy(payload + i, &v, 8);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  memset(e, 0, sizeof *e);
  e->kind = CNV_LREC_APP;
  e->time_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  e->payload = payload;
  e->payload_len = LB_PAYLOAD;
}

double lb_mean_batch(const cnv_ledger_stats *before, const cnv_ledger_stats *after) {
  uint64_t commits = after->commits - before->commits;
  return commits ? (double)(after->durable - before->durable) / (double)commits : 0.0;
}

uint64_t lb_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
