/* Shared by the runtime's ledger tests: a ledger in a fresh temporary directory (mkdtemp
 * under TMPDIR or /tmp, removed at the end), a runtime recording into it, and reading its
 * records back. Include after <cmocka.h> and "runtime/rt_fixture.h". */
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

/* Opens x as rlf_open does and fills cfg (rtf_config's) to record into it. */
static inline void rlf_config(rlf *x, cnv_runtime_config *cfg, uint32_t queue, uint32_t policy, uint64_t max_bytes) {
  rlf_open(x, queue, policy, max_bytes);
  rtf_config(cfg);
  cfg->ledger = x->l;
}

/* Creates f's runtime from cfg with t.read (rtf_echo, interactive) registered, adds agent
 * 0x41 and starts it; returns the agent. */
static inline uint32_t rlf_up_echo(rtf *f, const cnv_runtime_config *cfg) {
  const rtf_handler h[] = {{"t.read", CNV_DURATION_INTERACTIVE, rtf_echo, NULL}};
  return rtf_up(f, cfg, h, 1, 0x41);
}

/* Stops and destroys f's runtime, checking that the ledger refused none of its records. */
static inline void rlf_stop_unrefused(rtf *f) {
  assert_int_equal(cnv_runtime_stop(f->rt, RTF_STOP_NS), CNV_OK);
  cnv_runtime_stats rs;
  assert_int_equal(cnv_runtime_stats_get(f->rt, &rs), CNV_OK);
  assert_int_equal(rs.ledger_failed, 0);
  cnv_runtime_destroy(f->rt);
}

/* The one record of kind (and, when detail >= 0, of that detail) in x's closed log; fails
 * unless there is exactly one. Its payload pointer is not valid after the return. */
static inline cnv_ledger_entry rlf_only(rlf *x, uint16_t kind, int detail) {
  cnv_ledger_reader *r = rlf_reader(x);
  cnv_ledger_entry found = {0};
  int n = 0;
  for (uint64_t i = 0; i < cnv_ledger_reader_size(r); i++) {
    cnv_ledger_entry e = rlf_get(r, i);
    if (e.kind != kind || (detail >= 0 && e.detail != detail)) continue;
    found = e;
    n++;
  }
  assert_int_equal(n, 1);
  cnv_ledger_reader_close(r);
  found.payload = NULL;
  return found;
}

#endif
