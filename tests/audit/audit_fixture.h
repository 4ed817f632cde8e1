/* Fixtures for the audit tests: temporary ledger directories, and a writer of synthetic
 * runtime logs (the records the runtime writes, built by hand through cnv_ledger_append). */
#ifndef CNV_AUDIT_FIXTURE_H
#define CNV_AUDIT_FIXTURE_H

#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>

#include <cnv/audit.h>
#include <cnv/delegation.h>
#include <cnv/ledger.h>
#include <cnv/protocol.h>
#include <cnv/runtime.h>

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Makes a fresh directory under TMPDIR (or /tmp) into dir[256]. */
static inline void tmpdir_make(char dir[256]) {
  const char *base = getenv("TMPDIR");
  snprintf(dir, 256, "%s/cnv-audit-XXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(dir));
}

static inline void tmpdir_remove(const char *dir) { assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0); }

/* A ledger being written, with its directory (a subdirectory "log" of a temporary one, so
 * the ledger creates it). */
typedef struct slog {
  char tmp[256];
  char dir[300];
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  cnv_ledger *l;
  uint64_t epoch;
} slog;

/* Opens a new ledger in a new temporary directory (no fdatasync: the tests read it back
 * after close). */
static inline void slog_open(slog *s) {
  memset(s, 0, sizeof *s);
  tmpdir_make(s->tmp);
  snprintf(s->dir, sizeof s->dir, "%s/log", s->tmp);
  crypto_sign_keypair(s->pk, s->sk);
  cnv_ledger_config cfg;
  cnv_ledger_config_default(&cfg);
  cfg.dir = s->dir;
  cfg.secret_key = s->sk;
  cfg.sync = 2;
  assert_int_equal(cnv_ledger_open(&cfg, &s->l, NULL), CNV_OK);
  s->epoch = 1;
}

static inline uint64_t slog_put(slog *s, const cnv_ledger_entry *e) {
  uint64_t index = 0;
  assert_int_equal(cnv_ledger_append(s->l, e, &index), CNV_OK);
  return index;
}

static inline void slog_close(slog *s) {
  cnv_ledger_close(s->l);
  s->l = NULL;
}

static inline void slog_remove(slog *s) { tmpdir_remove(s->tmp); }

static inline void put_u64le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_u32le(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* CONFIG: the swarm id and the verifier's settings. */
static inline void put_config(slog *s, uint64_t swarm, uint64_t skew, uint32_t max_counters, uint32_t per_delegate) {
  uint8_t payload[16];
  put_u64le(payload, skew);
  put_u32le(payload + 8, max_counters);
  put_u32le(payload + 12, per_delegate);
  cnv_ledger_entry e = {.kind = CNV_LREC_CONFIG, .ticket = swarm, .epoch = s->epoch, .payload = payload, .payload_len = 16};
  slog_put(s, &e);
}

static inline void put_trust(slog *s, const uint8_t pk[32], int removed) {
  cnv_ledger_entry e = {.kind = CNV_LREC_TRUST, .detail = (uint16_t)(removed ? 1 : 0), .epoch = ++s->epoch};
  memcpy(e.key, pk, 32);
  slog_put(s, &e);
}

static inline void put_revoke(slog *s, const uint8_t hash[32]) {
  cnv_ledger_entry e = {.kind = CNV_LREC_REVOKE, .epoch = ++s->epoch};
  memcpy(e.digest, hash, 32);
  slog_put(s, &e);
}

static inline void put_agent(slog *s, uint32_t handle, const uint8_t pk[32], const uint8_t *tok, size_t len) {
  cnv_ledger_entry e = {.kind = CNV_LREC_AGENT, .agent = handle, .epoch = s->epoch, .payload = tok, .payload_len = (uint32_t)len};
  memcpy(e.key, pk, 32);
  assert_int_equal(cnv_ledger_token_hash(tok, len, e.digest), CNV_OK);
  slog_put(s, &e);
}

static inline void put_agent_remove(slog *s, uint32_t handle) {
  cnv_ledger_entry e = {.kind = CNV_LREC_AGENT, .detail = 1, .agent = handle, .epoch = s->epoch};
  slog_put(s, &e);
}

/* REGISTER of path with effects; returns its capability id. */
static inline uint64_t put_register(slog *s, const char *path, cnv_effects effects) {
  uint64_t id;
  assert_int_equal(cnv_capability_id(path, strlen(path), &id), CNV_OK);
  cnv_ledger_entry e = {.kind = CNV_LREC_REGISTER, .detail = CNV_DURATION_BATCH, .flags = effects, .capability = id, .epoch = ++s->epoch, .payload = (const uint8_t *)path, .payload_len = (uint32_t)strlen(path)};
  slog_put(s, &e);
  return id;
}

static inline void put_unregister(slog *s, uint64_t id) {
  cnv_ledger_entry e = {.kind = CNV_LREC_REGISTER, .detail = 0xFFFF, .capability = id, .epoch = ++s->epoch};
  slog_put(s, &e);
}

static inline void put_phase(slog *s, int from, int to) {
  cnv_ledger_entry e = {.kind = CNV_LREC_PHASE, .detail = (uint16_t)(from << 8 | to), .epoch = ++s->epoch};
  slog_put(s, &e);
}

/* The three PHASE records that take a runtime from Bootstrap to Operational. */
static inline void put_to_operational(slog *s) {
  put_phase(s, CNV_PHASE_BOOTSTRAP, CNV_PHASE_NEGOTIATION);
  put_phase(s, CNV_PHASE_NEGOTIATION, CNV_PHASE_ACTIVATION);
  put_phase(s, CNV_PHASE_ACTIVATION, CNV_PHASE_OPERATIONAL);
}

/* ADMIT of a decision; returns its index. */
static inline uint64_t put_admit(slog *s, uint32_t agent, uint64_t cap, uint64_t token_time, cnv_status status, int low) {
  int reason = status == CNV_OK ? -1 : cnv_runtime_denial_of(status);
  cnv_ledger_entry e = {.kind = CNV_LREC_ADMIT, .agent = agent, .capability = cap, .token_time = token_time, .status = status, .flags = low ? 1u : 0u, .detail = (uint16_t)(reason + 1), .ticket = status == CNV_OK ? 1 : 0, .epoch = s->epoch};
  return slog_put(s, &e);
}

/* Collects what the decision callback reports. */
typedef struct seen {
  size_t n;
  cnv_audit_decision d[256];
  size_t stop_after; /* 0: never stop */
} seen;

static inline int seen_fn(void *ctx, const cnv_audit_decision *d) {
  seen *s = ctx;
  if (s->n < sizeof s->d / sizeof s->d[0]) s->d[s->n] = *d;
  s->n++;
  return s->stop_after && s->n >= s->stop_after;
}

/* The reported decision of record index, NULL when none was reported. */
static inline const cnv_audit_decision *seen_at(const seen *s, uint64_t index) {
  for (size_t i = 0; i < s->n && i < sizeof s->d / sizeof s->d[0]; i++) {
    if (s->d[i].index == index) return &s->d[i];
  }
  return NULL;
}

/* cnv_audit_replay of dir into sn (emptied first) and sum; returns its status. */
static inline cnv_status replay_seen(const char *dir, seen *sn, cnv_audit_summary *sum) {
  memset(sn, 0, sizeof *sn);
  return cnv_audit_replay(dir, seen_fn, sn, sum);
}

/* cnv_audit_whatif of the one change ch over dir into sn (emptied first) and sum; must
 * succeed. */
static inline void whatif_one(const char *dir, const cnv_audit_change *ch, seen *sn, cnv_audit_summary *sum) {
  memset(sn, 0, sizeof *sn);
  assert_int_equal(cnv_audit_whatif(dir, ch, 1, seen_fn, sn, sum), CNV_OK);
}

#endif
