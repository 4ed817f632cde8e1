/* Private layout of cnv_spsc (single-producer single-consumer ring). Never installed. */
#ifndef CNV__SPSC_INTERNAL_H
#define CNV__SPSC_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cnv/hotpath.h>

/* Records lie back to back (no per-slot header): positions alone say which are full.
 * Each side owns one cache line holding its own index and its cached copy of the other
 * side's index, so a push or pop touches the other side's line only when its cache says
 * the ring looks full (empty). */
struct cnv__spsc {
  /* Line 0: read-only after init. */
  unsigned char *slots;
  uint64_t mask;
  uint32_t capacity;
  uint32_t record_size;
  /* Line 1: producer. tail = records pushed; cached_head = the consumer's head as last seen. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t tail;
  uint64_t cached_head;
  /* Line 2: consumer. head = records popped; cached_tail = the producer's tail as last seen. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t head;
  uint64_t cached_tail;
};

_Static_assert(sizeof(struct cnv__spsc) <= sizeof(cnv_spsc), "cnv_spsc opaque storage too small");
_Static_assert(alignof(struct cnv__spsc) <= alignof(cnv_spsc), "cnv_spsc under-aligned");

#endif
