/* Shared bump arena: any thread allocates with one atomic fetch_add on `used`.
 * A reservation is size + align - 1 bytes, so the aligned block always fits inside it
 * whatever offset the add returns; no CAS loop, no retry. */
#include <assert.h>

#include <cnv/hotpath.h>
#include <cnv/simd.h>

#include "core/atomic.h"

typedef struct shared_arena {
  /* Every allocation hits this: alone on its line. */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic size_t used;
  /* Read-mostly: written by init and reset only. */
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char *base;
  size_t size;
  _Atomic uint64_t generation;
} shared_arena;

static_assert(sizeof(shared_arena) <= sizeof(cnv_shared_arena), "opaque storage too small");
static_assert(_Alignof(shared_arena) <= _Alignof(cnv_shared_arena), "opaque storage misaligned");

static shared_arena *impl(cnv_shared_arena *a) { return (shared_arena *)(void *)a->opaque; }
static const shared_arena *cimpl(const cnv_shared_arena *a) {
  return (const shared_arena *)(const void *)a->opaque;
}

cnv_status cnv_shared_arena_init(cnv_shared_arena *a, void *mem, size_t size) {
  if (!a || !mem) return CNV_EINVAL;
  shared_arena *s = impl(a);
  atomic_init(&s->used, 0);
  s->base = mem;
  s->size = size;
  atomic_init(&s->generation, 0);
  return CNV_OK;
}

cnv_status cnv_shared_arena_alloc(cnv_shared_arena *a, size_t size, size_t align, void **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (!a) return CNV_EINVAL;
  if (!cnv__is_pow2(align)) return CNV_EALIGN;
  shared_arena *s = impl(a);
  /* A request that could never fit is refused without touching `used`, so the counter
   * cannot overflow however often it is asked. */
  if (size > s->size || align - 1 > s->size - size) return CNV_EARENA_EXHAUSTED;
  size_t need = size + align - 1;
  /* relaxed: the add only has to hand out disjoint ranges (atomicity of the RMW does
   * that); the bytes inside are ordered by whatever publishes the pointer, and reset
   * runs with no allocation in flight. */
  size_t off = cnv__fetch_add_relaxed(&s->used, need);
  if (off > s->size - need) {
    /* relaxed: undo our own reservation; a racing allocation may see the arena full
     * for that moment, which only happens within `need` bytes of its end. */
    cnv__fetch_add_relaxed(&s->used, (size_t)0 - need);
    return CNV_EARENA_EXHAUSTED;
  }
  uintptr_t p = ((uintptr_t)s->base + off + (align - 1)) & ~(uintptr_t)(align - 1);
  *out = (void *)p;
  return CNV_OK;
}

void cnv_shared_arena_reset(cnv_shared_arena *a) {
  if (!a) return;
  shared_arena *s = impl(a);
  /* relaxed throughout: reset runs with no allocation in flight; the caller's own
   * synchronization (join, barrier) orders it against the allocations around it. */
  size_t used = cnv__load_relaxed(&s->used);
  cnv_simd_zero(s->base, used < s->size ? used : s->size);
  cnv__store_relaxed(&s->used, 0);
  cnv__store_relaxed(&s->generation, cnv__load_relaxed(&s->generation) + 1u);
}

uint64_t cnv_shared_arena_generation(const cnv_shared_arena *a) {
  /* relaxed: a snapshot; only reset (no allocation in flight) changes it. */
  return a ? cnv__load_relaxed(&cimpl(a)->generation) : 0;
}

size_t cnv_shared_arena_used(const cnv_shared_arena *a) {
  /* relaxed: a snapshot of a counter other threads may be adding to. */
  return a ? cnv__load_relaxed(&cimpl(a)->used) : 0;
}
