/* Context pool: a fixed slab of cache-line-aligned contexts with index + generation
 * handles, a lock-free Treiber free list with a tagged head, and per-thread caches.
 * Layout and state encoding: pool_internal.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "pool_internal.h"

/* ---- shared free list ---------------------------------------------------------------- */

/* Pushes the chain first..last (already linked through meta[].next) in one CAS. */
static void push_chain(cnv_pool *p, uint32_t first, uint32_t last) {
  /* relaxed: the value only seeds the CAS, which re-reads head on failure. */
  uint64_t head = cnv__load_relaxed(&p->head);
  uint64_t top;
  do {
    /* relaxed: the successful release CAS below publishes this link. */
    cnv__store_relaxed(&p->meta[last].next, (uint32_t)head);
    top = cnv__pool_pack((uint32_t)(head >> 32) + 1u, first + 1u);
    /* release on success: orders the links and the releaser's context writes before
     * any pop that reads this head (acquire); failure needs nothing, we just retry. */
  } while (!cnv__cas_weak(&p->head, &head, top, memory_order_release, memory_order_relaxed));
}

/* Pops up to max free slots in one CAS into out[]; returns how many (0 = list empty). */
static uint32_t pop_batch(cnv_pool *p, uint32_t *out, uint32_t max) {
  /* acquire: synchronizes with the push CAS that published the top slot; every later CAS
   * on head is an RMW, so the release sequence makes all pushed links visible too. */
  uint64_t head = cnv__load_acquire(&p->head);
  uint32_t n;
  for (;;) {
    uint32_t cur = (uint32_t)head;
    if (cur == 0) return 0;
    /* The walk may read links a racing pop/push is rewriting; any change bumps the tag,
     * so the CAS below then fails and the walk is redone. Links are always in range. */
    for (n = 0; cur != 0 && n < max; n++) {
      out[n] = cur - 1u;
      /* relaxed: validated by the tag CAS below (head unchanged = chain unchanged). */
      cur = cnv__load_relaxed(&p->meta[cur - 1u].next);
    }
    uint64_t rest = cnv__pool_pack((uint32_t)(head >> 32) + 1u, cur);
    /* acquire both ways: on failure `head` is reloaded and walked again. */
    if (cnv__cas_weak(&p->head, &head, rest, memory_order_acquire, memory_order_acquire))
      return n;
  }
}

/* Links slots s[0..n) into a chain and pushes it. Indices out of range (a cache scribbled
 * or filled by another pool) are skipped, never written through. */
static void push_slots(cnv_pool *p, const uint32_t *s, uint32_t n) {
  uint32_t first = UINT32_MAX, last = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    if (CNV__UNLIKELY(s[i] >= p->capacity)) continue;
    if (last == UINT32_MAX)
      first = s[i];
    else
      /* relaxed: published by the release CAS in push_chain. */
      cnv__store_relaxed(&p->meta[last].next, s[i] + 1u);
    last = s[i];
  }
  if (last != UINT32_MAX) push_chain(p, first, last);
}

/* ---- handles ------------------------------------------------------------------------- */

/* Why handle generation g does not match the slot's current generation cur. */
static cnv_status mismatch(uint32_t g, uint32_t cur) {
  /* A generation the slot has not reached yet was never issued: forged. */
  return (int32_t)(g - cur) > 0 ? CNV_EBAD_HANDLE : CNV_ESTALE_HANDLE;
}

/* Range and parity checks that need no memory access; sets *idx and *g. */
static cnv_status decode(const cnv_pool *p, cnv_handle h, uint32_t *idx, uint32_t *g) {
  *idx = cnv__handle_index(h);
  *g = cnv__handle_gen(h);
  /* Index 0 in the handle (h == 0 included) maps to UINT32_MAX, always out of range. */
  if (*idx >= p->capacity) return CNV_EBAD_HANDLE;
  /* Live generations are odd: an even one was never handed out. */
  if ((*g & 1u) == 0) return CNV_EBAD_HANDLE;
  return CNV_OK;
}

static int cache_ok(const cnv_pool_cache *c) {
  return c == NULL || c->count <= CNV_POOL_CACHE_SLOTS;
}

/* ---- public API ---------------------------------------------------------------------- */

/* Hands out free slot idx as *out; false when the slot is live instead, which only a
 * caller's racing double cnv_pool_release_owned (or a scribbled cache) can cause: that
 * duplicate entry is dropped rather than handing a live context out a second time. A best
 * effort only: after such a race the slot's guarantees are gone (hotpath-memory.md). */
static bool claim(cnv_pool *p, uint32_t idx, cnv_handle *out) {
  /* relaxed: while callers keep the release contracts, only the holder of a free slot's
   * entry (this thread) writes its generation, so this reads our own last value; whoever
   * gets the handle is synchronized with us by however it received it. */
  uint32_t g = cnv__load_relaxed(&p->meta[idx].gen);
  if (CNV__UNLIKELY(g & 1u)) return false;
  cnv__store_relaxed(&p->meta[idx].gen, g + 1u);
  *out = cnv__pool_handle(idx, g + 1u);
  return true;
}

/* Moves up to a batch of slots from the shared list into an empty cache, hottest last. */
static void refill(cnv_pool *p, cnv_pool_cache *cache) {
  uint32_t got[CNV__POOL_BATCH];
  uint32_t n = pop_batch(p, got, CNV__POOL_BATCH);
  for (uint32_t i = 0; i < n; i++) cache->slots[i] = got[n - 1 - i];
  cache->count = n;
}

/* Takes from the cache, refilling it from the shared list once when it runs dry. */
static cnv_status acquire_cached(cnv_pool *p, cnv_pool_cache *cache, cnv_handle *out) {
  for (bool refilled = false;; refilled = true) {
    while (cache->count > 0) {
      uint32_t idx = cache->slots[cache->count - 1];
      /* A cache never initialized, or filled by another pool, must not index out of range. */
      if (CNV__UNLIKELY(idx >= p->capacity)) return CNV_EINVAL;
      cache->count--;
      if (CNV__LIKELY(claim(p, idx, out))) return CNV_OK;
    }
    /* One refill per call: a list left cyclic by a caller's race cannot make us spin. */
    if (refilled) return CNV_EPOOL_EXHAUSTED;
    refill(p, cache);
  }
}

/* Takes from the shared list alone; at most `capacity` duplicate entries are dropped. */
static cnv_status acquire_shared(cnv_pool *p, cnv_handle *out) {
  uint32_t idx;
  for (uint32_t tries = 0; tries < p->capacity && pop_batch(p, &idx, 1) == 1; tries++)
    if (CNV__LIKELY(claim(p, idx, out))) return CNV_OK;
  return CNV_EPOOL_EXHAUSTED;
}

cnv_status cnv_pool_acquire(cnv_pool *p, cnv_pool_cache *cache, cnv_handle *out) {
  if (!p || !out || !cache_ok(cache)) return CNV_EINVAL;
  cnv_status st = cache ? acquire_cached(p, cache, out) : acquire_shared(p, out);
  if (st == CNV_EPOOL_EXHAUSTED) *out = CNV_HANDLE_INVALID;
  return st;
}

/* Puts a retired slot into the cache (or the shared list when cache is NULL). */
static void park(cnv_pool *p, cnv_pool_cache *cache, uint32_t idx) {
  if (!cache) {
    push_chain(p, idx, idx);
    return;
  }
  if (CNV__UNLIKELY(cache->count == CNV_POOL_CACHE_SLOTS)) {
    /* Give back the coldest half, keep the recently released (cache-hot) half. */
    push_slots(p, cache->slots, CNV__POOL_BATCH);
    memmove(cache->slots, cache->slots + CNV__POOL_BATCH,
            (CNV_POOL_CACHE_SLOTS - CNV__POOL_BATCH) * sizeof cache->slots[0]);
    cache->count = CNV_POOL_CACHE_SLOTS - CNV__POOL_BATCH;
  }
  cache->slots[cache->count++] = idx;
}

cnv_status cnv_pool_release(cnv_pool *p, cnv_pool_cache *cache, cnv_handle h) {
  if (!p || !cache_ok(cache)) return CNV_EINVAL;
  uint32_t idx, g;
  cnv_status st = decode(p, h, &idx, &g);
  if (st != CNV_OK) return st;
  uint32_t cur = g;
  /* The one CAS that retires the handle: of racing releases exactly one sees g.
   * release on success: orders our context writes before the slot's next owner, who
   * gets it through our cache (same thread) or the list (acquire pop). */
  if (!cnv__cas_strong(&p->meta[idx].gen, &cur, g + 1u, memory_order_release, memory_order_relaxed))
    return mismatch(g, cur);
  park(p, cache, idx);
  return CNV_OK;
}

cnv_status cnv_pool_release_owned(cnv_pool *p, cnv_pool_cache *cache, cnv_handle h) {
  if (!p || !cache || !cache_ok(cache)) return CNV_EINVAL;
  uint32_t idx, g;
  cnv_status st = decode(p, h, &idx, &g);
  if (st != CNV_OK) return st;
  /* relaxed: the caller is the handle's only holder (contract), so no other thread writes
   * this word now; a handle already retired shows a newer generation here. */
  uint32_t cur = cnv__load_relaxed(&p->meta[idx].gen);
  if (CNV__UNLIKELY(cur != g)) return mismatch(g, cur);
  /* relaxed: the slot's next owner is this thread (via the cache) or a thread that pops
   * it from the list, and the list's push (release) / pop (acquire) CAS pair orders our
   * context writes and this store before that owner's use. */
  cnv__store_relaxed(&p->meta[idx].gen, g + 1u);
  park(p, cache, idx);
  return CNV_OK;
}

cnv_status cnv_pool_get(cnv_pool *p, cnv_handle h, void **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (!p) return CNV_EINVAL;
  uint32_t idx, g;
  cnv_status st = decode(p, h, &idx, &g);
  if (st != CNV_OK) return st;
  /* relaxed: only decides validity; the caller is synchronized with the acquirer by
   * however it received the handle, which also orders the context bytes. */
  uint32_t cur = cnv__load_relaxed(&p->meta[idx].gen);
  if (cur != g) return mismatch(g, cur);
  *out = p->slots + (size_t)idx * p->stride;
  return CNV_OK;
}

void cnv_pool_cache_init(cnv_pool_cache *c) {
  if (c) c->count = 0;
}

void cnv_pool_cache_flush(cnv_pool *p, cnv_pool_cache *c) {
  if (!p || !c || c->count == 0 || !cache_ok(c)) return;
  push_slots(p, c->slots, c->count);
  c->count = 0;
}

uint32_t cnv_pool_in_use(const cnv_pool *p) {
  if (!p) return 0;
  uint32_t live = 0;
  for (uint32_t i = 0; i < p->capacity; i++)
    /* relaxed: a count, exact only when no call is in flight (documented). */
    live += cnv__load_relaxed(&p->meta[i].gen) & 1u;
  return live;
}

uint32_t cnv_pool_capacity(const cnv_pool *p) { return p ? p->capacity : 0; }

/* ---- lifetime ------------------------------------------------------------------------ */

static void pool_init_lists(cnv_pool *p) {
  for (uint32_t i = 0; i < p->capacity; i++) {
    atomic_init(&p->meta[i].gen, 0u);
    atomic_init(&p->meta[i].next, i + 1u < p->capacity ? i + 2u : 0u);
  }
  atomic_init(&p->head, cnv__pool_pack(0, 1));
}

cnv_status cnv_pool_create(uint32_t capacity, uint32_t context_size, cnv_pool **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  if (!cnv__is_pow2(capacity) || capacity > CNV_HOTPATH_MAX_CAPACITY) return CNV_ECAPACITY;
  if (context_size == 0 || context_size > CNV__POOL_MAX_CONTEXT) return CNV_ERANGE;
  size_t stride = ((size_t)context_size + CNV_CACHELINE - 1) & ~(size_t)(CNV_CACHELINE - 1);
  /* stride >= sizeof(cnv__pool_meta), so this also bounds the metadata array. */
  if (SIZE_MAX / stride < capacity) return CNV_ENOMEM;
  size_t meta_bytes = ((size_t)capacity * sizeof(cnv__pool_meta) + CNV_CACHELINE - 1) &
                      ~(size_t)(CNV_CACHELINE - 1);
  cnv_pool *p = aligned_alloc(CNV_CACHELINE, sizeof *p);
  if (!p) goto fail_pool;
  p->slots = aligned_alloc(CNV_CACHELINE, stride * capacity);
  if (!p->slots) goto fail_slots;
  p->meta = aligned_alloc(CNV_CACHELINE, meta_bytes);
  if (!p->meta) goto fail_meta;
  memset(p->slots, 0, stride * capacity);
  p->stride = stride;
  p->capacity = capacity;
  p->context_size = context_size;
  pool_init_lists(p);
  *out = p;
  return CNV_OK;
fail_meta:
  free(p->slots);
fail_slots:
  free(p);
fail_pool:
  return CNV_ENOMEM;
}

void cnv_pool_destroy(cnv_pool *p) {
  if (!p) return;
  free(p->meta);
  free(p->slots);
  free(p);
}
