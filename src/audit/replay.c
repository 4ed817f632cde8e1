/* cnv_audit_replay and cnv_audit_whatif: read a closed log record by record, rebuild the
 * policy from the runtime's records and re-run every ADMIT record's decision. */
#include <stdlib.h>
#include <string.h>

#include <cnv/audit.h>

#include "audit_internal.h"

/* Collects the log's phase moves into *moves (*n of them; the caller frees *moves). */
static cnv_status moves_collect(cnv_ledger_reader *r, cnv__audit_move **moves, size_t *n) {
  size_t cap = 0;
  uint64_t runtimes = 0;
  *moves = NULL;
  *n = 0;
  uint64_t size = cnv_ledger_reader_size(r);
  for (uint64_t i = 0; i < size; i++) {
    cnv_ledger_entry e;
    cnv_status st = cnv_ledger_reader_get(r, i, &e, NULL);
    if (st != CNV_OK) return st;
    if (e.kind == CNV_LREC_CONFIG) runtimes++;
    if (e.kind != CNV_LREC_PHASE) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      cnv__audit_move *m = realloc(*moves, cap * sizeof *m);
      if (!m) return CNV_ENOMEM;
      *moves = m;
    }
    (*moves)[(*n)++] = (cnv__audit_move){.index = i, .epoch = e.epoch, .runtime = runtimes, .to = e.detail & 0xFF};
  }
  return CNV_OK;
}

/* One pass over the log in dir under changes[0 .. n); *sum gets the counts (so far, when fn
 * asks to stop). */
static cnv_status run(const char *dir, const cnv_audit_change *changes, size_t n, cnv_audit_decision_fn fn,
                      void *ctx, cnv_audit_summary *sum) {
  cnv_ledger_reader *r;
  cnv_status st = cnv_ledger_reader_open(dir, &r, NULL);
  if (st != CNV_OK) return st;
  cnv__audit_move *moves;
  size_t n_moves;
  st = moves_collect(r, &moves, &n_moves);
  if (st != CNV_OK) {
    free(moves);
    cnv_ledger_reader_close(r);
    return st;
  }
  cnv__audit_policy p;
  cnv__audit_policy_init(&p, changes, n, moves, n_moves);
  bool seen_config = false;
  uint64_t size = cnv_ledger_reader_size(r);
  for (uint64_t i = 0; i < size && st == CNV_OK; i++) {
    cnv_ledger_entry e;
    st = cnv_ledger_reader_get(r, i, &e, NULL);
    if (st != CNV_OK) break;
    sum->records++;
    if (e.kind == CNV_LREC_CONFIG) seen_config = true;
    if (e.kind != CNV_LREC_ADMIT) {
      st = cnv__audit_policy_apply(&p, &e);
      continue;
    }
    if (!p.configured) {
      st = CNV_EAUDIT_NO_CONFIG;
      break;
    }
    cnv_audit_decision d = {.index = i, .ticket = e.ticket, .capability = e.capability, .agent = e.agent, .token_time = e.token_time, .recorded = e.status};
    st = cnv__audit_decide(&p, &e, &d.replayed);
    if (st != CNV_OK) break;
    sum->decisions++;
    if (d.replayed == CNV_OK) {
      sum->accepted++;
    } else {
      sum->denied++;
    }
    if (d.replayed == d.recorded) {
      sum->same++;
      continue;
    }
    sum->differ++;
    if (fn && fn(ctx, &d)) break;
  }
  if (st == CNV_OK && !seen_config) st = CNV_EAUDIT_NO_CONFIG;
  cnv__audit_policy_free(&p);
  free(moves);
  cnv_ledger_reader_close(r);
  return st;
}

cnv_status cnv_audit_replay(const char *dir, cnv_audit_decision_fn fn, void *ctx, cnv_audit_summary *out) {
  if (!dir) return CNV_EINVAL;
  cnv_audit_summary sum;
  memset(&sum, 0, sizeof sum);
  cnv_status st = run(dir, NULL, 0, fn, ctx, &sum);
  if (out) *out = sum;
  if (st != CNV_OK) return st;
  return sum.differ ? CNV_EAUDIT_MISMATCH : CNV_OK;
}

cnv_status cnv_audit_whatif(const char *dir, const cnv_audit_change *changes, size_t n, cnv_audit_decision_fn fn,
                            void *ctx, cnv_audit_summary *out) {
  if (!dir) return CNV_EINVAL;
  cnv_status st = cnv__audit_changes_check(changes, n);
  if (st != CNV_OK) return st;
  cnv_audit_summary sum;
  memset(&sum, 0, sizeof sum);
  st = run(dir, changes, n, fn, ctx, &sum);
  if (out) *out = sum;
  return st;
}
