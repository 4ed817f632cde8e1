/* Shared by the runtime's ledger tests: a ledger in a fresh temporary directory (mkdtemp
 * under TMPDIR or /tmp, removed at the end), and reading its records back. Include after
 * <cmocka.h>. */
#ifndef CNV_TEST_RT_LEDGER_FIXTURE_H
#define CNV_TEST_RT_LEDGER_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <cnv/ledger.h>

typedef struct rlf {
  char dir[512];
  uint8_t pk[CNV_LEDGER_KEY_BYTES];
  uint8_t sk[CNV_LEDGER_SECRET_BYTES];
  cnv_ledger *l;
} rlf;

/* Makes the directory and opens a ledger in it: sync 1 (fdatasync per batch), with the given
 * queue capacity (0: default), full policy and size limit (0: none). */
static inline void rlf_open(rlf *x, uint32_t queue, uint32_t policy, uint64_t max_bytes) {
  assert_true(sodium_init() >= 0);
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  assert_true(snprintf(x->dir, sizeof x->dir, "%s/cnv-rt-ledger-XXXXXX", tmp) < (int)sizeof x->dir);
  assert_non_null(mkdtemp(x->dir));
  uint8_t seed[32];
  memset(seed, 0x4c, sizeof seed);
  crypto_sign_seed_keypair(x->pk, x->sk, seed);
  cnv_ledger_config lc;
  cnv_ledger_config_default(&lc);
  lc.dir = x->dir;
  lc.secret_key = x->sk;
  lc.sync = 1;
  if (queue) lc.queue_capacity = queue;
  lc.full_policy = policy;
  lc.max_bytes = max_bytes;
  x->l = NULL;
  assert_int_equal(cnv_ledger_open(&lc, &x->l, NULL), CNV_OK);
}

/* Closes the ledger (if still open). */
static inline void rlf_close(rlf *x) {
  cnv_ledger_close(x->l);
  x->l = NULL;
}

/* Removes the directory and every file in it. */
static inline void rlf_remove(rlf *x) {
  DIR *d = opendir(x->dir);
  assert_non_null(d);
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    assert_true(snprintf(path, sizeof path, "%s/%s", x->dir, e->d_name) < (int)sizeof path);
    assert_int_equal(unlink(path), 0);
  }
  closedir(d);
  assert_int_equal(rmdir(x->dir), 0);
}

/* The closed log read back (checked by the reader as it opens). */
static inline cnv_ledger_reader *rlf_reader(rlf *x) {
  cnv_ledger_reader *r = NULL;
  assert_int_equal(cnv_ledger_reader_open(x->dir, &r, NULL), CNV_OK);
  return r;
}

/* Record i of r (its payload valid until the next get). */
static inline cnv_ledger_entry rlf_get(cnv_ledger_reader *r, uint64_t i) {
  cnv_ledger_entry e;
  assert_int_equal(cnv_ledger_reader_get(r, i, &e, NULL), CNV_OK);
  return e;
}

static inline void rlf_hash(const void *bytes, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]) {
  static const uint8_t none[1];
  assert_int_equal(cnv_ledger_token_hash(len ? bytes : none, len, out), CNV_OK);
}

#endif
