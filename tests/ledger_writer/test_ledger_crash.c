/* The crash test: a process writing the ledger from 4 threads (crash_child.c) is
 * killed with SIGKILL at a random moment (0-20 ms after its ledger is open, or in every 5th
 * round 0-20 ms after it starts, so kills also land in open's recovery; seeded: the seed is
 * printed, CNV_TEST_SEED sets it), 200 times (the minimum, in every build). After each kill:
 *   - every count the child acknowledged (written from on_durable) is durable: the reader
 *     sees at least that many complete records, and each decodes to the content its
 *     (round, thread, counter) implies, each thread's counters in order without a gap;
 *   - nothing past a torn tail is believed: every 4th round a partial frame is added to the
 *     last segment (a prefix of the next record's frame, as a write cut short leaves), the reader ends before
 *     it (cnv_ledger_reader_torn counts it) and open cuts it back (recovery.torn_bytes);
 *   - after open's recovery and close, cnv_ledger_verify_dir is CNV_OK (chain, frames,
 *     checkpoints) with no torn tail.
 * The same directory is reopened by the next child (20 rounds per directory), so recovery
 * runs on logs that grew over many crashes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cnv/ledger.h>

#include "cnv_test_util.h"
#include "fixture.h"

#define ROUNDS 200 /* the minimum, in every build (ASan ~25 s, TSan ~45 s) */
#define ROUNDS_PER_DIR 20
#define THREADS 4

/* Appends to the newest segment a prefix of the frame the next record would have (what a
 * write cut short leaves); returns the bytes added (0: no ledger yet). */
static uint64_t add_torn_tail(const char *dir, uint64_t round) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  char best[256] = "";
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (strncmp(de->d_name, "seg-", 4) == 0 && n > 4 && strcmp(de->d_name + n - 4, ".log") == 0 &&
        strcmp(de->d_name, best) > 0)
      snprintf(best, sizeof best, "%s", de->d_name);
  }
  closedir(d);
  cnv_ledger_reader *r;
  if (!best[0] || cnv_ledger_reader_open(dir, &r, NULL) != CNV_OK) return 0;
  uint64_t n = cnv_ledger_reader_size(r);
  uint64_t torn = cnv_ledger_reader_torn(r);
  uint8_t prev[32];
  memcpy(prev, cnv_ledger_reader_leaves(r)[n - 1], 32);
  cnv_ledger_reader_close(r);
  if (torn > 0) return 0; /* the kill tore a write already */
  cnv_ledger_entry e;
  uint8_t buf[LW_MAX_PAYLOAD];
  lw_make(&e, buf, round, 0, 1000000);
  uint8_t frame[4 + CNV_LEDGER_BODY_FIXED + LW_MAX_PAYLOAD + 32];
  size_t blen;
  assert_int_equal(cnv_ledger_entry_encode(&e, n, prev, frame + 4, sizeof frame - 4, &blen), CNV_OK);
  uint32_t b32 = (uint32_t)blen;
  memcpy(frame, &b32, 4);
  assert_int_equal(cnv_ledger_leaf_hash(frame + 4, blen, frame + 4 + blen), CNV_OK);
  size_t cut = 1 + (size_t)(lw_mix(round) % (4 + blen + 32 - 1)); /* 1 .. frame - 1 bytes */
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, best);
  int fd = open(path, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, frame, cut), (ssize_t)cut);
  close(fd);
  return cut;
}

/* Starts the child on dir; returns its pid, *rfd the read end of its stdout. */
static pid_t start_child(const char *dir, uint64_t round, int *rfd) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char r[32];
    snprintf(r, sizeof r, "%" PRIu64, round);
    dup2(p[1], STDOUT_FILENO);
    close(p[0]);
    close(p[1]);
    execl(LW_CRASH_CHILD, LW_CRASH_CHILD, dir, r, (char *)NULL);
    _exit(3);
  }
  close(p[1]);
  *rfd = p[0];
  return pid;
}

/* Reads the child's first count (its ledger is open); 0 when it died first. */
static uint64_t read_ready(int fd) {
  uint8_t b[8];
  size_t have = 0;
  while (have < 8) {
    ssize_t n = read(fd, b + have, 8 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    have += (size_t)n;
  }
  uint64_t v;
  memcpy(&v, b, 8);
  return v;
}

/* Reads every count the child wrote after `best`; returns the largest. */
static uint64_t read_acks(int fd, uint64_t best) {
  uint64_t v;
  uint8_t buf[4096];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - have);
    if (n < 0 && errno == EINTR) continue;
    assert_true(n >= 0);
    if (n == 0) break;
    have += (size_t)n;
    size_t i = 0;
    for (; i + 8 <= have; i += 8) {
      memcpy(&v, buf + i, 8);
      assert_true(v >= best); /* acknowledged counts only grow */
      best = v;
    }
    memmove(buf, buf + i, have - i);
    have -= i;
  }
  assert_int_equal(have, 0); /* writes of 8 bytes are whole */
  close(fd);
  return best;
}

/* Checks the log as a reader sees it; returns its size, *torn its torn bytes (size 0: no
 * ledger yet). first_round: the first round of this directory. */
static uint64_t check_reader(const char *dir, uint64_t first_round, uint64_t round, uint64_t acked, uint64_t *torn) {
  cnv_ledger_reader *r;
  uint64_t bad = 0;
  cnv_status st = cnv_ledger_reader_open(dir, &r, &bad);
  if (st == CNV_ENOTFOUND) { /* killed before GENESIS was durable */
    assert_int_equal(acked, 0);
    *torn = 0;
    return 0;
  }
  if (st != CNV_OK) fail_msg("reader_open: %s (bad record %" PRIu64 ")", cnv_status_name(st), bad);
  uint64_t size = cnv_ledger_reader_size(r);
  *torn = cnv_ledger_reader_torn(r);
  if (size < acked) fail_msg("acknowledged %" PRIu64 " records, the log has %" PRIu64, acked, size);
  uint64_t next[ROUNDS_PER_DIR][THREADS];
  memset(next, 0, sizeof next);
  for (uint64_t i = 0; i < size; i++) {
    cnv_ledger_entry e;
    uint8_t leaf[32];
    assert_int_equal(cnv_ledger_reader_get(r, i, &e, leaf), CNV_OK);
    if (i == 0) {
      assert_int_equal(e.kind, CNV_LREC_GENESIS);
      continue;
    }
    if (e.kind == CNV_LREC_CHECKPOINT) continue; /* verify_dir checks them after open */
    if (!lw_check(&e)) fail_msg("record %" PRIu64 " does not hold what its thread and counter imply", i);
    assert_true(e.epoch >= first_round && e.epoch <= round && e.agent < THREADS);
    uint64_t *n = &next[e.epoch - first_round][e.agent];
    if (e.ticket != *n) fail_msg("record %" PRIu64 ": thread %u counter %" PRIu64 ", expected %" PRIu64, i, e.agent, e.ticket, *n);
    (*n)++;
  }
  cnv_ledger_reader_close(r);
  return size;
}

static void test_sigkill_at_random_moments(void **state) {
  (void)state;
  uint64_t seed = 0x5eed1edbu;
  const char *env = getenv("CNV_TEST_SEED");
  if (env && env[0]) seed = strtoull(env, NULL, 0);
  printf("ledger crash test: %d rounds, seed %" PRIu64 " (CNV_TEST_SEED)\n", ROUNDS, seed);
  uint8_t pk[CNV_LEDGER_KEY_BYTES], sk[CNV_LEDGER_SECRET_BYTES];
  lw_keys(7, pk, sk);
  char dir[256] = "";
  uint64_t first_round = 0, acked_total = 0, torn_cut = 0;
  for (uint64_t round = 0; round < ROUNDS; round++) {
    if (round % ROUNDS_PER_DIR == 0) {
      if (dir[0]) lw_rmdir(dir);
      assert_int_equal(lw_mkdtemp(dir), 0);
      first_round = round;
    }
    uint64_t delay_us = cnv_test_rand(&seed) % 20001u;
    int rfd;
    pid_t pid = start_child(dir, round, &rfd);
    uint64_t ready = round % 5 == 4 ? 0 : read_ready(rfd);
    if (round % 5 != 4 && ready == 0) fail_msg("round %" PRIu64 ": the child did not open the ledger", round);
    struct timespec ts = {(time_t)(delay_us / 1000000u), (long)(delay_us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    /* killed, not failed (a child exits 2 when one of its calls fails) */
    if (!(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL))
      fail_msg("round %" PRIu64 ": the child ended by itself (status %d)", round, ws);
    uint64_t acked = read_acks(rfd, ready);
    uint64_t injected = round % 4 == 3 ? add_torn_tail(dir, round) : 0;
    uint64_t torn;
    uint64_t size = check_reader(dir, first_round, round, acked, &torn);
    assert_true(torn >= injected);
    printf("round %3" PRIu64 ": killed after %5" PRIu64 " us, acknowledged %5" PRIu64 ", log %5" PRIu64
           ", torn %" PRIu64 "\n",
           round, delay_us, acked, size, torn);
    /* open recovers (cutting the torn tail), close writes a checkpoint; then all verifies */
    cnv_ledger_config cfg;
    cnv_ledger_config_default(&cfg);
    cfg.dir = dir;
    cfg.secret_key = sk;
    cfg.segment_bytes = 16384;
    cnv_ledger *l;
    cnv_ledger_recovery rec;
    cnv_status st = cnv_ledger_open(&cfg, &l, &rec);
    if (st != CNV_OK) fail_msg("round %" PRIu64 ": open: %s", round, cnv_status_name(st));
    if (size > 0) {
      assert_int_equal(rec.records, size);
      assert_int_equal(rec.torn_bytes, torn);
    }
    torn_cut += rec.torn_bytes;
    cnv_ledger_close(l);
    cnv_ledger_verify_report rep;
    st = cnv_ledger_verify_dir(dir, pk, &rep);
    if (st != CNV_OK)
      fail_msg("round %" PRIu64 ": verify: %s at record %" PRIu64, round, cnv_status_name(st), rep.bad_index);
    assert_true(rep.records >= size && rep.records >= 1);
    assert_int_equal(rep.torn_bytes, 0);
    acked_total += acked;
  }
  lw_rmdir(dir);
  /* the test must have seen the child acknowledge records and torn tails cut */
  assert_true(acked_total > 0);
  assert_true(torn_cut > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sigkill_at_random_moments)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
