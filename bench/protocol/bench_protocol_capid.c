/* capability_id: ids from validated paths vs bare XXH3-64 over the same bytes (the floor). */
#include <string.h>
#include <xxhash.h>

#include <cnv/protocol.h>

#include "cnv_bench.h"

static const char *const paths[] = {
    "user.create", "user.delete", "fleet.node.drain", "agent.spawn",
    "swarm.phase.advance", "telemetry.export", "delegation.token.mint", "storage.blob.put-many"};
#define NPATHS (sizeof paths / sizeof paths[0])

static void capability_id_cnv(cnv_bench_state *st) {
  size_t lens[NPATHS];
  for (size_t i = 0; i < NPATHS; i++) lens[i] = strlen(paths[i]);
  uint64_t id = 0;
  while (cnv_bench_keep_running_batch(st, 256 * NPATHS)) {
    for (int r = 0; r < 256; r++) {
      for (size_t i = 0; i < NPATHS; i++) {
        if (cnv_capability_id(paths[i], lens[i], &id) != CNV_OK) {
          cnv_bench_skip_with_error(st, "invalid path");
          return;
        }
        cnv_bench_do_not_optimize(&id);
      }
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

static void capability_id_xxh3(cnv_bench_state *st) {
  size_t lens[NPATHS];
  for (size_t i = 0; i < NPATHS; i++) lens[i] = strlen(paths[i]);
  uint64_t id = 0;
  while (cnv_bench_keep_running_batch(st, 256 * NPATHS)) {
    for (int r = 0; r < 256; r++) {
      for (size_t i = 0; i < NPATHS; i++) {
        id = XXH3_64bits(paths[i], lens[i]);
        cnv_bench_do_not_optimize(&id);
      }
    }
  }
  cnv_bench_set_items_processed(st, (int64_t)cnv_bench_iterations(st));
}

CNV_BENCH(capability_id_cnv, "capability_id/cnv", 1, 0)
CNV_BENCH(capability_id_xxh3, "capability_id/xxh3", 1, 0)
