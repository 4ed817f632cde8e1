/* In-flight slots: one per accepted invocation, from acceptance to completion. A submit
 * takes the slot its submission number points at in the ring of slots, or the next free one
 * after it: slots complete mostly in the order they were taken, so the first look almost
 * always finds a free slot, and no shared free list is touched by submitters and workers
 * alike. A slot changes hands by a compare-and-swap of its state (FREE -> QUEUED of the same
 * generation); giving it back is one store (FREE of the next generation). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/prefetch.h"
#include "rt_internal.h"

cnv_status cnv__rt_slots_create(cnv_runtime *rt) {
  rt->n_slots = rt->cfg.queue_capacity;
  size_t bytes = (size_t)rt->n_slots * sizeof *rt->slots;
  rt->slots = aligned_alloc(CNV_CACHELINE, bytes);
  if (!rt->slots) return CNV_ENOMEM;
  memset(rt->slots, 0, bytes);
  for (uint32_t i = 0; i < rt->n_slots; i++) {
    /* generation 1: a ticket is never 0 */
    atomic_init(&rt->slots[i].state, (uint64_t)1 << 8 | CNV__RT_S_FREE);
  }
  return CNV_OK;
}

/* Takes slot s if it is free; 1 on success. */
static int slot_claim(cnv__rt_slot *s) {
  /* acquire: the completer's release of FREE, so its last reads of the slot are done */
  uint64_t st = cnv__load_acquire(&s->state);
  if ((st & CNV__RT_S_PHASE) != CNV__RT_S_FREE) return 0;
  uint64_t queued = (st & ~(uint64_t)0xFF) | CNV__RT_S_QUEUED;
  /* relaxed on success: the slot's fields are published by the record's push */
  return cnv__cas_strong(&s->state, &st, queued, memory_order_acquire, memory_order_relaxed);
}

/* How many submissions ahead a submit asks for a slot's lines: as the queue's push does for
 * its cells (CNV__PUSH_PREFETCH_AHEAD, queue.c), and for the same reason. */
#define SLOT_PREFETCH_AHEAD 4u

/* Asks for the lines of the slot `ahead` submissions on, for writing: the ones slot_take and
 * slot_fill write (from the state word to the ledger's fields, which only a ledger's submits
 * write). The completer that gave the slot back last wrote them, most likely on another core
 * (core/prefetch.h). */
static void slot_prefetch(const cnv__rt_slot *s) {
  const char *p = (const char *)s;
  for (size_t off = 0; off < offsetof(cnv__rt_slot, epoch); off += CNV_CACHELINE) cnv__prefetch_for_write(p + off);
}

cnv__rt_slot *cnv__rt_slot_take(cnv_runtime *rt) {
  /* relaxed: uniqueness only; no data is published through seq */
  uint64_t seq = cnv__fetch_add_relaxed(&rt->seq, 1u);
  uint32_t mask = rt->n_slots - 1;
  slot_prefetch(&rt->slots[(seq + SLOT_PREFETCH_AHEAD) & mask]);
  /* Every slot is looked at once at most: CNV_EFULL means none was free when looked at. */
  for (uint32_t i = 0; i <= mask; i++) {
    cnv__rt_slot *s = &rt->slots[(seq + i) & mask];
    if (slot_claim(s)) {
      uint64_t gen = CNV__RT_S_GEN(cnv__load_relaxed(&s->state)); /* relaxed: ours now */
      s->seq = seq;
      s->ticket = gen << 32 | (uint32_t)(s - rt->slots);
      return s;
    }
  }
  return NULL;
}

void cnv__rt_slot_give(cnv__rt_slot *s) {
  uint64_t gen = CNV__RT_S_GEN(cnv__load_relaxed(&s->state)) + 1; /* relaxed: ours */
  if ((gen & 0xFFFFFFFFu) == 0) gen = 1;                          /* tickets stay non-zero */
  /* release: this completer's reads of the slot happen before a new owner's writes, and a
   * cancel that sees the new generation gives up (its ticket is stale) */
  cnv__store_release(&s->state, gen << 8 | CNV__RT_S_FREE);
}

cnv_status cnv_runtime_cancel(cnv_runtime *rt, uint64_t ticket) {
  if (!rt || !rt->slots) return CNV_EINVAL;
  uint32_t index = (uint32_t)ticket, gen = (uint32_t)(ticket >> 32);
  if (index >= rt->n_slots || gen == 0) return CNV_ENOTFOUND;
  cnv__rt_slot *s = &rt->slots[index];
  /* acquire: pairs with the worker's RUNNING publication (nothing read, but cheap) */
  uint64_t st = cnv__load_acquire(&s->state);
  for (;;) {
    uint32_t phase = (uint32_t)st & CNV__RT_S_PHASE;
    if (CNV__RT_S_GEN(st) != gen || phase == CNV__RT_S_FREE || phase == CNV__RT_S_DONE) {
      return CNV_ENOTFOUND;
    }
    if (st & CNV__RT_S_CANCEL) return CNV_OK;
    /* release: the flag is all that is published; the handler reads it with acquire */
    if (cnv__cas_weak(&s->state, &st, st | CNV__RT_S_CANCEL, memory_order_release,
                      memory_order_acquire)) {
      return CNV_OK;
    }
  }
}
