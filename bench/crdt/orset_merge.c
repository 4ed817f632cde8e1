/* orset_merge_delta (issue 19): a replica of a 10^4-element OR-Set receives another replica's
 * 1-element changes, one at a time, either as the change's delta (`cnv`: cnv_crdt_merge of
 * the delta the mutator made) or as the changed replica's whole state (`full_state`:
 * cnv_crdt_merge of the sender's state after that change), as replicas without delta-state
 * would ship. Both merge the same changes in the same order: in set-up, replica B (a copy of
 * the receiver's state) adds CHANGES new elements, keeping each add's delta and, for the
 * full_state case, a copy of its state after it. One iteration merges one change; after
 * each round of CHANGES the receiver is reset to its first state (a copy made with the
 * timer paused). The figure is changes merged per second. Shown, no target. */
#include <stdio.h>
#include <stdlib.h>

#include "cnv/crdt.h"
#include "cnv_bench.h"

#define SET_SIZE 10000
#define CHANGES_DELTA 256
#define CHANGES_FULL 16

typedef struct orset_fixture {
  cnv_crdt *base;    /* the receiver's state before the changes (replica 1) */
  cnv_crdt **change; /* change i: its delta, or B's whole state after it */
  int changes;
} orset_fixture;

static int elem(char *buf, size_t cap, const char *prefix, int i) { return snprintf(buf, cap, "%s-%06d", prefix, i); }

static void fixture_make(orset_fixture *f, int changes, int full) {
  CNV_BENCH_OK(cnv_crdt_create(CNV_CRDT_ORSET, 1, &f->base));
  char buf[32];
  for (int i = 0; i < SET_SIZE; i++) {
    int len = elem(buf, sizeof buf, "capability", i);
    CNV_BENCH_OK(cnv_crdt_orset_add(f->base, buf, (size_t)len, NULL));
  }
  cnv_crdt *b = NULL;
  CNV_BENCH_OK(cnv_crdt_clone(f->base, 2, &b));
  f->changes = changes;
  f->change = calloc((size_t)changes, sizeof *f->change);
  if (!f->change) abort();
  for (int i = 0; i < changes; i++) {
    cnv_crdt *delta = NULL;
    CNV_BENCH_OK(cnv_crdt_create(CNV_CRDT_ORSET, 0, &delta));
    int len = elem(buf, sizeof buf, "added", i);
    CNV_BENCH_OK(cnv_crdt_orset_add(b, buf, (size_t)len, delta));
    if (full) {
      cnv_crdt_destroy(delta);
      CNV_BENCH_OK(cnv_crdt_clone(b, 0, &f->change[i]));
    } else {
      f->change[i] = delta;
    }
  }
  cnv_crdt_destroy(b);
}

static void fixture_destroy(orset_fixture *f) {
  for (int i = 0; i < f->changes; i++) cnv_crdt_destroy(f->change[i]);
  free(f->change);
  cnv_crdt_destroy(f->base);
}

static void orset_merge_run(cnv_bench_state *st, int full) {
  orset_fixture f;
  fixture_make(&f, full ? CHANGES_FULL : CHANGES_DELTA, full);
  cnv_crdt *a = NULL;
  CNV_BENCH_OK(cnv_crdt_clone(f.base, 1, &a));
  /* The merges reach the state B had: checked once, before timing. */
  for (int i = 0; i < f.changes; i++) CNV_BENCH_OK(cnv_crdt_merge(a, f.change[i]));
  int bad = cnv_crdt_orset_size(a) != (size_t)(SET_SIZE + f.changes);
  cnv_crdt_destroy(a);
  a = NULL;
  if (bad) {
    cnv_bench_skip_with_error(st, "the merged OR-Set lacks the changes");
    fixture_destroy(&f);
    return;
  }
  CNV_BENCH_OK(cnv_crdt_clone(f.base, 1, &a));
  int i = 0;
  while (cnv_bench_keep_running(st)) {
    if (i == f.changes) {
      cnv_bench_pause_timing(st);
      cnv_crdt_destroy(a);
      CNV_BENCH_OK(cnv_crdt_clone(f.base, 1, &a));
      i = 0;
      cnv_bench_resume_timing(st);
    }
    CNV_BENCH_OK(cnv_crdt_merge(a, f.change[i++]));
    cnv_bench_clobber();
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
  cnv_crdt_destroy(a);
  fixture_destroy(&f);
}

static void orset_merge_delta_cnv(cnv_bench_state *st) { orset_merge_run(st, 0); }
static void orset_merge_delta_full(cnv_bench_state *st) { orset_merge_run(st, 1); }

CNV_BENCH(orset_merge_delta_cnv, "orset_merge_delta/cnv", 1, 0)
CNV_BENCH(orset_merge_delta_full, "orset_merge_delta/full_state", 1, 0)
