/* In-flight slots: one per accepted invocation, from acceptance to completion. A Treiber
 * stack of free slot indices hands them out; its head carries a tag that changes on every
 * pop, so a stale head (ABA) never wins a compare-and-swap. */
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "rt_internal.h"

static uint64_t head_pack(uint32_t tag, uint32_t index_plus_1) {
  return (uint64_t)tag << 32 | index_plus_1;
}

cnv_status cnv__rt_slots_create(cnv_runtime *rt) {
  rt->n_slots = rt->cfg.queue_capacity;
  size_t bytes = (size_t)rt->n_slots * sizeof *rt->slots;
  rt->slots = aligned_alloc(CNV_CACHELINE, bytes);
  if (!rt->slots) return CNV_ENOMEM;
  memset(rt->slots, 0, bytes);
  for (uint32_t i = 0; i < rt->n_slots; i++) {
    /* generation 1: a ticket is never 0 */
    atomic_init(&rt->slots[i].state, (uint64_t)1 << 8 | CNV__RT_S_FREE);
    atomic_init(&rt->slots[i].next, i + 1 < rt->n_slots ? i + 2 : 0);
  }
  atomic_init(&rt->free_head, head_pack(0, 1));
  return CNV_OK;
}

cnv__rt_slot *cnv__rt_slot_take(cnv_runtime *rt) {
  /* acquire: the slot's fields and `next` written before its give (release) are seen */
  uint64_t head = cnv__load_acquire(&rt->free_head);
  for (;;) {
    uint32_t top = (uint32_t)head;
    if (top == 0) return NULL;
    cnv__rt_slot *s = &rt->slots[top - 1];
    /* relaxed: a stale next only matters if the head moved, and then the CAS fails */
    uint32_t next = cnv__load_relaxed(&s->next);
    /* acquire on success: see above; the tag makes a recycled head fail */
    if (cnv__cas_weak(&rt->free_head, &head, head_pack((uint32_t)(head >> 32) + 1, next),
                      memory_order_acquire, memory_order_acquire)) {
      uint64_t gen = CNV__RT_S_GEN(cnv__load_relaxed(&s->state)); /* relaxed: ours now */
      cnv__store_relaxed(&s->state, gen << 8 | CNV__RT_S_QUEUED); /* published by the push */
      s->ticket = gen << 32 | (top - 1);
      return s;
    }
  }
}

void cnv__rt_slot_give(cnv_runtime *rt, cnv__rt_slot *s) {
  uint32_t index = (uint32_t)(s - rt->slots);
  uint64_t gen = CNV__RT_S_GEN(cnv__load_relaxed(&s->state)) + 1; /* relaxed: ours */
  if ((gen & 0xFFFFFFFFu) == 0) gen = 1;                          /* tickets stay non-zero */
  /* release: a cancel that sees the new generation gives up (its ticket is stale) */
  cnv__store_release(&s->state, gen << 8 | CNV__RT_S_FREE);
  uint64_t head = cnv__load_relaxed(&rt->free_head);
  do {
    cnv__store_relaxed(&s->next, (uint32_t)head); /* relaxed: published by the CAS */
    /* release: the slot's state and next are visible to the take that pops it */
  } while (!cnv__cas_weak(&rt->free_head, &head, head_pack((uint32_t)(head >> 32), index + 1),
                          memory_order_release, memory_order_relaxed));
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
