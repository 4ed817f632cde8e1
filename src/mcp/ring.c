/* The bounded MPSC ring that carries completions and progress from the runtime's workers to
 * the session's thread (ring.h). */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"

cnv_status mcp_ring_init(mcp_ring *r, size_t capacity, size_t elem) {
  if (capacity > ((size_t)1 << 24) || elem == 0) return CNV_ERANGE;
  size_t cap = 2;
  while (cap < capacity) cap <<= 1;
  memset(r, 0, sizeof *r);
  r->seq = calloc(cap, sizeof *r->seq);
  r->cells = calloc(cap, elem);
  if (!r->seq || !r->cells) {
    mcp_ring_free(r);
    return CNV_ENOMEM;
  }
  for (size_t i = 0; i < cap; i++) atomic_init(&r->seq[i], i);
  atomic_init(&r->tail, 0);
  r->head = 0;
  r->mask = cap - 1;
  r->elem = elem;
  return CNV_OK;
}

void mcp_ring_free(mcp_ring *r) {
  free(r->seq);
  free(r->cells);
  r->seq = NULL;
  r->cells = NULL;
}

bool mcp_ring_push(mcp_ring *r, const void *rec) {
  /* relaxed: the position is only claimed here; the cell's sequence word (acquire) says
   * whether the consumer has released the cell for this lap */
  size_t pos = cnv__load_relaxed(&r->tail);
  for (;;) {
    size_t seq = cnv__load_acquire(&r->seq[pos & r->mask]);
    intptr_t diff = (intptr_t)seq - (intptr_t)pos;
    if (diff == 0) {
      /* relaxed CAS: claiming the position orders nothing else; the record is published
       * by the release store of the cell's sequence below */
      if (cnv__cas_weak(&r->tail, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed)) break;
    } else if (diff < 0) {
      return false; /* the consumer has not freed this cell: full */
    } else {
      pos = cnv__load_relaxed(&r->tail);
    }
  }
  memcpy(r->cells + (pos & r->mask) * r->elem, rec, r->elem);
  /* release: the record's bytes are visible to the consumer that acquires pos + 1 */
  cnv__store_release(&r->seq[pos & r->mask], pos + 1);
  return true;
}

bool mcp_ring_pop(mcp_ring *r, void *rec) {
  size_t pos = r->head;
  /* acquire: pairs with the producer's release, so the record is complete */
  size_t seq = cnv__load_acquire(&r->seq[pos & r->mask]);
  if (seq != pos + 1) return false;
  memcpy(rec, r->cells + (pos & r->mask) * r->elem, r->elem);
  /* release: our read of the cell happens before a producer of the next lap writes it */
  cnv__store_release(&r->seq[pos & r->mask], pos + r->mask + 1);
  r->head = pos + 1;
  return true;
}
