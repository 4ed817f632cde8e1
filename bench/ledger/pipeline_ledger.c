/* pipeline_2workers_ledger/cnv: pipeline_2workers/cnv (bench/runtime/pipeline.c, the same
 * loop: bench_rt_pipeline_2workers) with a governance ledger in the runtime's config, opened
 * with sync 1 (fdatasync per group commit) in a fresh directory on the disk (ledger_env.h).
 * Every submit appends its ADMIT record and every completion its COMPLETE record; neither
 * waits for the disk, and the ledger's default full policy (block) drops nothing, so the
 * figure is what auditing every decision and completion costs the pipeline. Items =
 * invocations submitted, as in pipeline_2workers/cnv. The case fails unless the ledger got
 * both records of every invocation with nothing dropped and no write error; the mean group
 * commit (records per fdatasync over the run) is shown as the counter `batch`. */
#include <stdio.h>

#include <cnv.h>

#include "../harness/cnv_bench.h"
#include "../runtime/bench_rt.h"
#include "ledger_env.h"

static void pipeline_ledger_cnv(cnv_bench_state *st) {
  char dir[LB_DIR_MAX], err[LB_DIR_MAX + 128];
  if (lb_dir_make(dir, 1, err, sizeof err) != 0) {
    cnv_bench_skip_with_error(st, err);
    return;
  }
  cnv_ledger *l = NULL;
  cnv_status s = lb_ledger_open(dir, 1, &l, NULL);
  if (s != CNV_OK) {
    snprintf(err, sizeof err, "cnv_ledger_open: %s", cnv_strerror(s));
    lb_dir_remove(dir);
    cnv_bench_skip_with_error(st, err);
    return;
  }
  cnv_ledger_stats before, after;
  cnv_ledger_stats_get(l, &before);
  int ran = bench_rt_pipeline_2workers(st, l) == 0; /* destroys its runtime before returning */
  cnv_ledger_stats_get(l, &after);
  cnv_ledger_close(l);
  lb_dir_remove(dir);
  if (!ran) return; /* the error is reported */
  /* ADMIT and COMPLETE per invocation, besides the runtime's CONFIG, REGISTER, TRUST, AGENT
   * and PHASE records and the checkpoints. */
  if (after.error != CNV_OK || after.dropped != 0 ||
      after.appended - before.appended < 2 * cnv_bench_iterations(st)) {
    cnv_bench_skip_with_error(st, "the ledger did not get every invocation's records");
    return;
  }
  cnv_bench_set_counter(st, "batch", lb_mean_batch(&before, &after));
}
CNV_BENCH(pipeline_ledger_cnv, "pipeline_2workers_ledger/cnv", 1, 0)
