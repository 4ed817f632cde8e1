/* The crash test's writing process (test_ledger_crash.c starts it and SIGKILLs it):
 *   ledger_crash_child DIR ROUND
 * opens (or reopens) the ledger in DIR, then 4 threads append records whose every field is
 * lw_make(ROUND, thread, counter), counters from 0, PER_THREAD each, then wait to be killed.
 * Once open, it writes the count open recovered (durable: open's recovery and GENESIS are
 * synced), then from on_durable each new durable count, each as 8 bytes, to stdout (a pipe):
 * the parent treats every count it reads as acknowledged, and the first as "open done".
 * Exits 2 on any failure. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cnv/ledger.h>

#include "fixture.h"

#define THREADS 4
#define PER_THREAD 150u

static cnv_ledger *g_ledger;
static uint64_t g_round;

static void on_durable(void *ctx, uint64_t durable) {
  (void)ctx;
  /* 8 bytes: below PIPE_BUF, so a write is atomic and whole */
  if (write(STDOUT_FILENO, &durable, sizeof durable) != (ssize_t)sizeof durable) _exit(2);
}

static void *appender(void *arg) {
  uint32_t thread = (uint32_t)(uintptr_t)arg;
  uint8_t buf[LW_MAX_PAYLOAD];
  for (uint64_t i = 0; i < PER_THREAD; i++) {
    cnv_ledger_entry e;
    lw_make(&e, buf, g_round, thread, i);
    if (cnv_ledger_append(g_ledger, &e, NULL) != CNV_OK) _exit(2);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  g_round = strtoull(argv[2], NULL, 10);
  uint8_t pk[CNV_LEDGER_KEY_BYTES], sk[CNV_LEDGER_SECRET_BYTES];
  lw_keys(7, pk, sk);
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = argv[1];
  cfg.secret_key = sk;
  cfg.checkpoint_every = 64;
  cfg.segment_bytes = 16384; /* rotations happen within a run */
  cfg.on_durable = on_durable;
  cnv_ledger_recovery rec;
  if (cnv_ledger_open(&cfg, &g_ledger, &rec) != CNV_OK) return 2;
  on_durable(NULL, rec.records);
  pthread_t th[THREADS];
  for (uint32_t t = 0; t < THREADS; t++)
    if (pthread_create(&th[t], NULL, appender, (void *)(uintptr_t)t) != 0) return 2;
  for (uint32_t t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  /* everything appended: stay (writing checkpoints) until the parent kills us */
  for (;;) pause();
}
