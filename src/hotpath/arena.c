/* Per-thread bump arena: init, reset and the out-of-line allocation path. The fast path
 * is inline in cnv/hotpath.h. Under ASan every byte not handed out since the last reset
 * is poisoned, so a stale pointer used after a reset is reported. */
#include <cnv/simd.h>

#include "core/atomic.h"
#include "arena_poison.h"

cnv_status cnv_arena_init(cnv_arena *a, void *mem, size_t size) {
  if (!a || !mem) return CNV_EINVAL;
  a->base = mem;
  a->size = size;
  a->used = 0;
  a->generation = 0;
  cnv__poison(a->base, a->size);
  return CNV_OK;
}

cnv_status cnv_arena_alloc_slow(cnv_arena *a, size_t size, size_t align, void **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (!a) return CNV_EINVAL;
  if (!cnv__is_pow2(align)) return CNV_EALIGN;
  uintptr_t cur = (uintptr_t)a->base + a->used;
  if (align - 1 > UINTPTR_MAX - cur) return CNV_EARENA_EXHAUSTED;
  uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
  size_t off = (size_t)(p - (uintptr_t)a->base);
  if (off > a->size || size > a->size - off) return CNV_EARENA_EXHAUSTED;
  a->used = off + size;
  cnv__unpoison((void *)p, size);
  *out = (void *)p;
  return CNV_OK;
}

void cnv_arena_reset(cnv_arena *a) {
  if (!a) return;
  /* Padding between allocations is still poisoned: open the whole used span to zero it. */
  cnv__unpoison(a->base, a->used);
  cnv_simd_zero(a->base, a->used);
  cnv__poison(a->base, a->used);
  a->used = 0;
  a->generation++;
}

void cnv_arena_fini(cnv_arena *a) {
  if (!a || !a->base) return;
  cnv__unpoison(a->base, a->size);
}
