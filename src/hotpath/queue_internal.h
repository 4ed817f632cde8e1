/* Private layout of cnv_queue (bounded MPMC queue with sequence-numbered slots) and the
 * helpers queue.c and spsc.c share. Never installed. */
#ifndef CNV__QUEUE_INTERNAL_H
#define CNV__QUEUE_INTERNAL_H

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <cnv/hotpath.h>

#include "core/atomic.h"

/* Slot = 8-byte sequence number followed by the record (record_size bytes, a multiple of 8).
 * Slot p & mask is free for the push at position p when seq == p, holds that push's record
 * when seq == p + 1, and is free again for position p + capacity when seq == p + capacity. */
struct cnv__queue {
  /* Line 0: read-only after init, shared by everyone. */
  unsigned char *slots;
  uint64_t mask;
  uint32_t capacity;
  uint32_t record_size;
  uint32_t stride; /* 8 + record_size */
  /* Line 1: producers' claim position (= records pushed so far). */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t tail;
  /* Line 2: consumers' claim position (= records popped so far). */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t head;
  /* Line 3: touched only when a push fails, never on the success path. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t rejected_full;
};

_Static_assert(sizeof(struct cnv__queue) <= sizeof(cnv_queue), "cnv_queue opaque storage too small");
_Static_assert(alignof(struct cnv__queue) <= alignof(cnv_queue), "cnv_queue under-aligned");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "slot sequence numbers must be 8 bytes");

static inline struct cnv__queue *cnv__queue_of(cnv_queue *q) { return (struct cnv__queue *)(void *)q; }
static inline const struct cnv__queue *cnv__queue_of_const(const cnv_queue *q) {
  return (const struct cnv__queue *)(const void *)q;
}

/* Validates capacity and record size (shared by the queue and the SPSC ring). */
static inline cnv_status cnv__ring_check(uint32_t capacity, uint32_t record_size) {
  if (!cnv__is_pow2(capacity) || capacity > CNV_HOTPATH_MAX_CAPACITY) return CNV_ECAPACITY;
  if (record_size == 0 || record_size % 8 != 0 || record_size > CNV_HOTPATH_MAX_RECORD)
    return CNV_ERECORD_SIZE;
  return CNV_OK;
}

/* Copies one record. The common 64-byte invocation record gets a fixed-size copy the
 * compiler inlines; other sizes go through memcpy. */
static inline void cnv__record_copy(void *dst, const void *src, uint32_t size) {
  if (size == 64)
    memcpy(dst, src, 64);
  else
    memcpy(dst, src, size);
}

/* Waits a little in a retry loop: a pause, and every 128th round a yield, so a thread
 * preempted between its claim and its publication gets the CPU back on small machines. */
static inline void cnv__backoff(unsigned *spins) {
  if ((++*spins & 127u) == 0)
    sched_yield();
  else
    cnv__cpu_relax();
}

#endif
