/* Context pool internals: layout and handle encoding. Never installed.
 *
 * Slot i's state is its generation word gen[i]: odd = live (handed out under handle
 * (gen << 32) | (i + 1)), even = free (in the shared free list or in one thread's cache).
 * Acquire moves even g -> g + 1 (plain store: the acquirer owns the free slot alone);
 * cnv_pool_release moves odd g -> g + 1 with one CAS, so exactly one of racing releases
 * wins; cnv_pool_release_owned does it with a plain load-compare-store (its caller is the
 * handle's only holder: nobody else writes a live slot's word).
 * Free slots not in a cache form a Treiber stack: `head` packs the top slot (index + 1,
 * 0 = empty) with an ABA tag bumped by every successful CAS on it. */
#ifndef CNV__POOL_INTERNAL_H
#define CNV__POOL_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <cnv/hotpath.h>

/* Largest context accepted by cnv_pool_create (1 MiB). */
#define CNV__POOL_MAX_CONTEXT (UINT32_C(1) << 20)
/* Slots moved between a cache and the shared list in one CAS (half a cache). */
#define CNV__POOL_BATCH (CNV_POOL_CACHE_SLOTS / 2)

typedef struct cnv__pool_meta {
  _Atomic uint32_t gen;  /* odd: live, even: free */
  _Atomic uint32_t next; /* index + 1 of the next free slot in the stack, 0 = none */
} cnv__pool_meta;

struct cnv_pool {
  /* Contended by every shared-list push and pop: alone on its line. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t head; /* (tag << 32) | (top index + 1) */
  /* Read-mostly, written only at create. */
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char *slots;
  cnv__pool_meta *meta;
  size_t stride; /* context_size rounded up to CNV_CACHELINE */
  uint32_t capacity;
  uint32_t context_size;
};

static inline cnv_handle cnv__pool_handle(uint32_t index, uint32_t gen) {
  return ((uint64_t)gen << 32) | ((uint64_t)index + 1);
}
static inline uint32_t cnv__handle_gen(cnv_handle h) { return (uint32_t)(h >> 32); }
/* Slot index of a handle; UINT32_MAX for handle 0 (index field 0 is never issued). */
static inline uint32_t cnv__handle_index(cnv_handle h) { return (uint32_t)h - 1u; }

static inline uint64_t cnv__pool_pack(uint32_t tag, uint32_t top) {
  return ((uint64_t)tag << 32) | top;
}

#endif
