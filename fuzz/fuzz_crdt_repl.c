/* The replicator's receive path (src/crdt/repl*.c) on arbitrary bytes, as a message from
 * replica 2 to a replicator sharing a value of every type. A message is merged (CNV_OK) or
 * refused whole (CNV_ECRDT_MALFORMED, counted, the states unchanged), never anything else
 * but CNV_ENOMEM; the tick after it still works. Aborts otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/crdt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cnv_status drop(void *ctx, uint64_t to, const uint8_t *msg, size_t len) {
  (void)ctx, (void)to, (void)msg, (void)len;
  return CNV_OK;
}

static const char *const names[] = {"g", "pn", "set", "lww", "mv", "vc"};

/* The replicator's full states as one snapshot message (malloc'd, *len bytes). */
static uint8_t *snap(cnv_crdt_repl *r, size_t *len) {
  if (cnv_crdt_repl_snapshot(r, NULL, 0, len) != CNV_EFULL) abort();
  uint8_t *p = malloc(*len);
  if (p == NULL || cnv_crdt_repl_snapshot(r, p, *len, len) != CNV_OK) abort();
  return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cnv_crdt_repl_config cfg = {.replica = 1, .transport = {.send = drop}, .max_message = 1u << 16};
  cnv_crdt_repl *r = NULL;
  if (cnv_crdt_repl_create(&cfg, &r) != CNV_OK) abort();
  for (int t = CNV_CRDT_GCOUNTER; t <= CNV_CRDT_VCLOCK; t++)
    if (cnv_crdt_repl_add(r, names[t - 1], t) != CNV_OK) abort();
  size_t before_len = 0, after_len = 0;
  uint8_t *before = snap(r, &before_len);
  cnv_status st = cnv_crdt_repl_receive(r, 2, data, size);
  cnv_crdt_repl_stats stats;
  cnv_crdt_repl_stats_get(r, &stats);
  if (st == CNV_ECRDT_MALFORMED) {
    uint8_t *after = snap(r, &after_len);
    /* refused whole: nothing merged (the epoch in the header is the same replicator's) */
    if (stats.malformed != 1 || after_len != before_len || memcmp(after, before, before_len) != 0) abort();
    free(after);
  } else if (st != CNV_OK && st != CNV_ENOMEM) {
    abort();
  } else if (stats.malformed != 0) {
    abort();
  }
  if (cnv_crdt_repl_tick(r) != CNV_OK) abort();
  free(before);
  cnv_crdt_repl_destroy(r);
  return 0;
}
