/* Shared by the ledger writer tests and the crash test's child: a temporary directory, a
 * key pair, and records whose every field is a function of (round, thread, counter), so a
 * record read back can be checked without remembering what was written. */
#ifndef CNV_TEST_LEDGER_WRITER_FIXTURE_H
#define CNV_TEST_LEDGER_WRITER_FIXTURE_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <cnv/ledger.h>

/* Largest payload made by lw_make: past CNV_LEDGER_INLINE_PAYLOAD, so the heap path runs. */
#define LW_MAX_PAYLOAD 100u

static inline uint64_t lw_mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

/* Fills e (payload into buf, LW_MAX_PAYLOAD bytes) for (round, thread, counter). */
static inline void lw_make(cnv_ledger_entry *e, uint8_t *buf, uint64_t round, uint32_t thread, uint64_t counter) {
  uint64_t h = lw_mix(round * 1000003u + thread * 7919u + counter);
  memset(e, 0, sizeof *e);
  e->kind = CNV_LREC_APP;
  e->agent = thread;
  e->ticket = counter;
  e->epoch = round;
  e->capability = h;
  e->time_ms = h >> 20;
  e->status = (int32_t)(h & 0xff);
  e->detail = (uint16_t)(h >> 8);
  for (int i = 0; i < 32; i++) {
    e->key[i] = (uint8_t)(h >> (i % 8));
    e->digest[i] = (uint8_t)(h >> (i % 7) ^ 0x5a);
    e->result[i] = (uint8_t)(i + thread);
  }
  e->payload_len = (uint32_t)(h % (LW_MAX_PAYLOAD + 1));
  for (uint32_t i = 0; i < e->payload_len; i++) buf[i] = (uint8_t)(h + i * 13u);
  e->payload = buf;
}

/* 1 when got is what lw_make makes for its own (epoch, agent, ticket). */
static inline int lw_check(const cnv_ledger_entry *got) {
  cnv_ledger_entry want;
  uint8_t buf[LW_MAX_PAYLOAD];
  if (got->kind != CNV_LREC_APP) return 0;
  lw_make(&want, buf, got->epoch, got->agent, got->ticket);
  return got->detail == want.detail && got->status == want.status && got->flags == want.flags &&
         got->time_ms == want.time_ms && got->start_ms == want.start_ms && got->token_time == want.token_time &&
         got->capability == want.capability && memcmp(got->key, want.key, 32) == 0 &&
         memcmp(got->digest, want.digest, 32) == 0 && memcmp(got->result, want.result, 32) == 0 &&
         got->payload_len == want.payload_len &&
         (want.payload_len == 0 || memcmp(got->payload, want.payload, want.payload_len) == 0);
}

/* A fresh directory under TMPDIR (or /tmp); path has room for 256 bytes. */
static inline int lw_mkdtemp(char path[256]) {
  const char *t = getenv("TMPDIR");
  snprintf(path, 256, "%s/cnv-ledger-XXXXXX", t && t[0] ? t : "/tmp");
  return mkdtemp(path) ? 0 : -1;
}

/* Removes dir and the files in it (a ledger directory has no subdirectories). */
static inline void lw_rmdir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* A key pair derived from one seed byte (tests: reproducible keys). */
static inline void lw_keys(uint8_t seed_byte, uint8_t pk[CNV_LEDGER_KEY_BYTES], uint8_t sk[CNV_LEDGER_SECRET_BYTES]) {
  uint8_t seed[32];
  memset(seed, seed_byte, sizeof seed);
  if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0) abort();
}

#endif
