/* orset_merge_delta (issue 19): a replica of a 10^4-element OR-Set receives another replica's
 * 1-element changes, one at a time, either as the change's delta (`cnv`: cnv_crdt_merge of
 * the delta the mutator made) or as the changed replica's whole state (`full_state`:
 * cnv_crdt_merge of the sender's state after that change), as replicas without delta-state
 * would ship. Both merge the same changes in the same order: in set-up, replica B (a copy of
 * the receiver's state) adds CHANGES_DELTA new elements, keeping each add's delta and, for
 * the first CHANGES_FULL, a copy of its state after it. One iteration merges one change; after
 * each round of changes the receiver is reset to its first state (a copy made with the
 * timer paused). The figure is changes merged per second. Shown, no target. */
#include <stdio.h>
#include <stdlib.h>

#include "cnv/crdt.h"
#include "cnv_bench.h"

#define SET_SIZE 10000
#define CHANGES_DELTA 256
#define CHANGES_FULL 16

/* Made on the first call and kept for the process (both cases and every repetition use it):
 * the receiver's first state (replica 1) and B's changes, as deltas and as whole states. */
typedef struct orset_fixture {
  cnv_crdt *base;
  cnv_crdt *delta[CHANGES_DELTA];
  cnv_crdt *full[CHANGES_FULL];
} orset_fixture;

static orset_fixture fixture;

static int elem(char *buf, size_t cap, const char *prefix, int i) { return snprintf(buf, cap, "%s-%06d", prefix, i); }

static const orset_fixture *fixture_get(void) {
  orset_fixture *f = &fixture;
  if (f->base) return f;
  CNV_BENCH_OK(cnv_crdt_create(CNV_CRDT_ORSET, 1, &f->base));
  char buf[32];
  for (int i = 0; i < SET_SIZE; i++) {
    int len = elem(buf, sizeof buf, "capability", i);
    CNV_BENCH_OK(cnv_crdt_orset_add(f->base, buf, (size_t)len, NULL));
  }
  cnv_crdt *b = NULL;
  CNV_BENCH_OK(cnv_crdt_clone(f->base, 2, &b));
  for (int i = 0; i < CHANGES_DELTA; i++) {
    CNV_BENCH_OK(cnv_crdt_create(CNV_CRDT_ORSET, 0, &f->delta[i]));
    int len = elem(buf, sizeof buf, "added", i);
    CNV_BENCH_OK(cnv_crdt_orset_add(b, buf, (size_t)len, f->delta[i]));
    if (i < CHANGES_FULL) CNV_BENCH_OK(cnv_crdt_clone(b, 0, &f->full[i]));
  }
  cnv_crdt_destroy(b);
  return f;
}

static void orset_merge_run(cnv_bench_state *st, cnv_crdt *const *change, int changes) {
  const orset_fixture *f = fixture_get();
  cnv_crdt *a = NULL;
  CNV_BENCH_OK(cnv_crdt_clone(f->base, 1, &a));
  /* The merges bring in every change: checked once, before timing. */
  for (int i = 0; i < changes; i++) CNV_BENCH_OK(cnv_crdt_merge(a, change[i]));
  int bad = cnv_crdt_orset_size(a) != (size_t)(SET_SIZE + changes);
  cnv_crdt_destroy(a);
  a = NULL;
  if (bad) {
    cnv_bench_skip_with_error(st, "the merged OR-Set lacks the changes");
    return;
  }
  CNV_BENCH_OK(cnv_crdt_clone(f->base, 1, &a));
  int i = 0;
  while (cnv_bench_keep_running(st)) {
    if (i == changes) {
      cnv_bench_pause_timing(st);
      cnv_crdt_destroy(a);
      CNV_BENCH_OK(cnv_crdt_clone(f->base, 1, &a));
      i = 0;
      cnv_bench_resume_timing(st);
    }
    CNV_BENCH_OK(cnv_crdt_merge(a, change[i++]));
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
  cnv_crdt_destroy(a);
}

static void orset_merge_delta_cnv(cnv_bench_state *st) { orset_merge_run(st, fixture_get()->delta, CHANGES_DELTA); }
static void orset_merge_delta_full(cnv_bench_state *st) { orset_merge_run(st, fixture_get()->full, CHANGES_FULL); }

CNV_BENCH(orset_merge_delta_cnv, "orset_merge_delta/cnv", 1, 0)
CNV_BENCH(orset_merge_delta_full, "orset_merge_delta/full_state", 1, 0)
