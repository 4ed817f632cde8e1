/* libcnv hot path: MPMC invocation queue, SPSC ring, context pool, arenas.
 *
 * Synchronization table (who may call what at the same time):
 *   cnv_queue_*_mpmc      any number of threads, any mix of push and pop.
 *   cnv_spsc_push*        one producer thread;  cnv_spsc_pop* one consumer thread.
 *   cnv_pool_acquire/release/get   any threads; each cnv_pool_cache belongs to one thread.
 *   cnv_pool_release_owned   the same, but never racing another release of that handle.
 *   cnv_arena_*           one thread (no atomics).
 *   cnv_shared_arena_alloc  any threads; cnv_shared_arena_reset only with no allocator running.
 *   init/create/destroy/fini   one thread, with no other call on the object in flight.
 * Records are copied in and out (inline, fixed size): the caller keeps ownership of its
 * buffers. No call allocates except *_create. Nothing here aborts or prints.
 * Progress (terms in docs/architecture.md): every concurrent call states its own, as
 * wait-free, lock-free, or "waits for a preempted peer". */
#ifndef CNV_HOTPATH_H
#define CNV_HOTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest capacity accepted by the queue, ring and pool (2^30). */
#define CNV_HOTPATH_MAX_CAPACITY (UINT32_C(1) << 30)
/* Largest record accepted by the queue and ring, in bytes; records are multiples of 8. */
#define CNV_HOTPATH_MAX_RECORD 4096u

/* ------------------------------------------------------------------------------------ */
/* Bounded MPMC queue (sequence-numbered slots). Per-producer FIFO, linearizable.        */

/* Opaque, caller-allocatable queue object (layout private to src/hotpath). */
typedef struct cnv_queue {
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char opaque[4 * CNV_CACHELINE];
} cnv_queue;

/* Counters shared by every user of one queue. */
typedef struct cnv_queue_stats {
  uint64_t pushed;        /* records accepted by push calls */
  uint64_t popped;        /* records handed out by pop calls */
  uint64_t rejected_full; /* records refused with CNV_EFULL (batch calls count each record) */
} cnv_queue_stats;

/* Bytes of slot memory a queue of `capacity` records of `record_size` bytes needs
 * (capacity * (8 + record_size): each slot holds a sequence number and the record).
 * Errors: CNV_ECAPACITY (0, 1, not a power of two, > CNV_HOTPATH_MAX_CAPACITY: a
 * sequence-numbered queue needs two slots at least), CNV_ERECORD_SIZE (0, not a multiple
 * of 8, > CNV_HOTPATH_MAX_RECORD), CNV_EINVAL (NULL), CNV_EOVERFLOW (size_t too small). */
CNV_API CNV_NODISCARD cnv_status cnv_queue_memory_size(uint32_t capacity, uint32_t record_size, size_t *out_bytes);

/* Initializes q over caller memory `slots` (CNV_CACHELINE-aligned, slots_bytes at least
 * cnv_queue_memory_size). The caller owns both and frees them after cnv_queue_fini. Writes
 * every slot, its record bytes with zeros (see cnv_queue_try_push_mpmc_prefix). Errors: those
 * of cnv_queue_memory_size, CNV_EALIGN (slots misaligned), CNV_ERANGE (slots_bytes too
 * small), CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_queue_init(cnv_queue *q, void *slots, size_t slots_bytes, uint32_t capacity,
                                                uint32_t record_size);
/* Ends a queue made by cnv_queue_init; records still inside are dropped with it. */
CNV_API void cnv_queue_fini(cnv_queue *q);

/* Allocates and initializes a queue; free it with cnv_queue_destroy.
 * Errors: as cnv_queue_init, and CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_queue_create(uint32_t capacity, uint32_t record_size, cnv_queue **out);
/* Frees a queue made by cnv_queue_create (NULL is ignored). */
CNV_API void cnv_queue_destroy(cnv_queue *q);

/* Copies one record (record_size bytes) into the queue. Progress: waits for a preempted
 * peer (a slot whose previous record a pop has claimed but not finished copying out),
 * otherwise lock-free. CNV_OK, or CNV_EFULL: nothing was written and the record stays with
 * the caller; CNV_EINVAL when q or record is NULL. A successful push happens-before the pop
 * that returns the record (release/acquire). A slot still being copied out is waited for
 * (a few instructions), never reported as full. */
CNV_API CNV_NODISCARD cnv_status cnv_queue_try_push_mpmc(cnv_queue *q, const void *record);
/* As cnv_queue_try_push_mpmc, and on CNV_OK sets *position to the push's place in the
 * queue's one total order (0 for the first record ever pushed, counting every successful
 * push, batch pushes included): pops return records in position order, so a single consumer
 * can number records at push time (the ledger does). Errors: as push, CNV_EINVAL also for a
 * NULL position. */
CNV_API CNV_NODISCARD cnv_status cnv_queue_try_push_mpmc_at(cnv_queue *q, const void *record, uint64_t *position);
/* As cnv_queue_try_push_mpmc, but copies only the first len bytes (0 .. record_size) of
 * record: for records whose used length varies and is written inside them (a header that
 * says it). The pop that takes it still copies out a whole record; its bytes from len on are
 * unspecified (zeros from init, or an earlier record's bytes, possibly another producer's:
 * do not read past what the record says it holds). The bytes not copied are not written, so
 * this push does not pull the cache lines of the slot's unused tail to the producer's core.
 * Progress and ordering: as push. CNV_OK, CNV_EFULL as push; CNV_ERANGE when len exceeds
 * record_size; CNV_EINVAL when q is NULL, or record is NULL with len > 0 (a NULL record with
 * len 0 is a push of no bytes); nothing is written on an error. */
CNV_API CNV_NODISCARD cnv_status cnv_queue_try_push_mpmc_prefix(cnv_queue *q, const void *record, size_t len);
/* Copies the oldest record out into `record`. Progress: lock-free (a retry inside the call
 * means another pop succeeded), never waits for a peer: at most a bounded pause (64 cpu
 * pauses) when the oldest slot is not published yet. CNV_OK; CNV_EEMPTY: the queue was
 * empty at one instant of the call; CNV_EAGAIN: the queue was not empty but its oldest
 * record could not be read yet, because the push that claimed its slot had not finished
 * writing it (or the pop of that slot's previous record had not finished reading it out);
 * nothing was written, call again (that push completes without help from any pop). Only a
 * call overlapping another thread's push or pop can see CNV_EAGAIN: once every push has
 * returned, a pop sees only CNV_OK or CNV_EEMPTY. CNV_EINVAL (NULL argument). */
CNV_API CNV_NODISCARD cnv_status cnv_queue_try_pop_mpmc(cnv_queue *q, void *record);
/* Pushes up to n contiguous records from `records`, all-or-prefix, in order, as one claim
 * where possible (progress as push); *pushed says how many went in. CNV_OK when all n went in (n == 0
 * included), CNV_EFULL when fewer did (records[*pushed..n) stay with the caller),
 * CNV_EINVAL (q or pushed NULL, or records NULL with n > 0). */
CNV_API CNV_NODISCARD cnv_status cnv_queue_try_push_batch_mpmc(cnv_queue *q, const void *records, size_t n,
                                                               size_t *pushed);
/* Pops up to max records into `records` in FIFO order, as one claim (progress as pop);
 * *popped says how many. CNV_OK when at least one was popped; when none, CNV_EEMPTY or
 * CNV_EAGAIN as for cnv_queue_try_pop_mpmc; CNV_EINVAL (NULL argument or max == 0). The run
 * stops at the first slot not yet published. Bytes past records[*popped] are not written. */
CNV_API CNV_NODISCARD cnv_status cnv_queue_try_pop_batch_mpmc(cnv_queue *q, void *records, size_t max,
                                                              size_t *popped);
/* Snapshot of the shared counters; wait-free (each read atomically; the three together are not one
 * atomic snapshot while other threads run). pushed/popped count claimed positions, so a
 * record still being copied in (out) is already counted. NULL arguments: no effect. */
CNV_API void cnv_queue_stats_get(const cnv_queue *q, cnv_queue_stats *out);
/* Capacity (records) given at init; 0 when q is NULL. Fixed at init: any threads, alongside
 * pushes and pops; wait-free (a plain read). */
CNV_API uint32_t cnv_queue_capacity(const cnv_queue *q);
/* Record size (bytes) given at init; 0 when q is NULL. Fixed at init: any threads, alongside
 * pushes and pops; wait-free (a plain read). */
CNV_API uint32_t cnv_queue_record_size(const cnv_queue *q);

/* ------------------------------------------------------------------------------------ */
/* SPSC ring with cached indices: one producer thread, one consumer thread.              */

typedef struct cnv_spsc {
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char opaque[3 * CNV_CACHELINE];
} cnv_spsc;

/* Same contracts and errors as the cnv_queue functions of the same name, except: capacity
 * 1 is accepted, the slot memory is capacity * record_size (no per-slot header), and init
 * does not write it. */
CNV_API CNV_NODISCARD cnv_status cnv_spsc_memory_size(uint32_t capacity, uint32_t record_size, size_t *out_bytes);
CNV_API CNV_NODISCARD cnv_status cnv_spsc_init(cnv_spsc *r, void *slots, size_t slots_bytes, uint32_t capacity,
                                               uint32_t record_size);
CNV_API void cnv_spsc_fini(cnv_spsc *r);
CNV_API CNV_NODISCARD cnv_status cnv_spsc_create(uint32_t capacity, uint32_t record_size, cnv_spsc **out);
CNV_API void cnv_spsc_destroy(cnv_spsc *r);
/* Producer only; wait-free. CNV_OK or CNV_EFULL (record stays with the caller). */
CNV_API CNV_NODISCARD cnv_status cnv_spsc_try_push(cnv_spsc *r, const void *record);
/* Consumer only; wait-free. CNV_OK or CNV_EEMPTY. */
CNV_API CNV_NODISCARD cnv_status cnv_spsc_try_pop(cnv_spsc *r, void *record);
/* Producer only, wait-free: pushes a prefix of up to n records, one index publication.
 * CNV_OK when all n went in, CNV_EFULL when fewer did; *pushed says how many. */
CNV_API CNV_NODISCARD cnv_status cnv_spsc_try_push_batch(cnv_spsc *r, const void *records, size_t n, size_t *pushed);
/* Consumer only, wait-free: pops up to max records. CNV_OK with *popped >= 1, or CNV_EEMPTY. */
CNV_API CNV_NODISCARD cnv_status cnv_spsc_try_pop_batch(cnv_spsc *r, void *records, size_t max, size_t *popped);

/* ------------------------------------------------------------------------------------ */
/* Context pool: fixed-capacity slab; handles are index + generation (ABA-safe).         */

/* A handle: low 32 bits slot index + 1 (so 0 is never valid), high 32 bits generation. */
typedef uint64_t cnv_handle;
#define CNV_HANDLE_INVALID ((cnv_handle)0)

typedef struct cnv_pool cnv_pool;

/* Per-thread cache of free slots: owned by one thread, used with one pool. */
#define CNV_POOL_CACHE_SLOTS 32
typedef struct cnv_pool_cache {
  uint32_t count;
  uint32_t slots[CNV_POOL_CACHE_SLOTS];
} cnv_pool_cache;

/* Allocates a pool of `capacity` contexts of `context_size` bytes each (zeroed, aligned to
 * CNV_CACHELINE). Errors: CNV_ECAPACITY, CNV_ERANGE (context_size 0 or > 1 MiB), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_pool_create(uint32_t capacity, uint32_t context_size, cnv_pool **out);
/* Frees the pool and every context (NULL ignored); no call may be in flight. */
CNV_API void cnv_pool_destroy(cnv_pool *p);
/* Empties a cache (count = 0) before its first use. */
CNV_API void cnv_pool_cache_init(cnv_pool_cache *c);
/* Returns every slot held by the cache to the pool; call before the owning thread exits.
 * Entries out of this pool's range (a cache scribbled or filled by another pool) are
 * dropped, never written through. The cache's owning thread only, alongside any other pool
 * call; lock-free (one chain pushed onto the shared free list by a CAS retried only when
 * another thread changed the list). NULL p or c, or an empty cache: no effect. */
CNV_API void cnv_pool_cache_flush(cnv_pool *p, cnv_pool_cache *c);
/* Takes a free context; cache may be NULL (then the shared free list alone is used).
 * Progress: lock-free (wait-free when the cache has a slot).
 * CNV_OK with *out set, or CNV_EPOOL_EXHAUSTED (*out = CNV_HANDLE_INVALID; slots parked in
 * other threads' caches are not seen), CNV_EINVAL (NULL, or a cache never initialized or
 * holding another pool's slots). The context keeps its previous bytes. */
CNV_API CNV_NODISCARD cnv_status cnv_pool_acquire(cnv_pool *p, cnv_pool_cache *cache, cnv_handle *out);
/* Gives a context back (into `cache` when not NULL) and retires its handle, arbitrating
 * racing releases. Progress: lock-free (wait-free when the cache has room). CNV_OK,
 * CNV_ESTALE_HANDLE (already released or reused), CNV_EBAD_HANDLE (index out of range or 0,
 * or a generation never issued), CNV_EINVAL. Exactly one of several racing releases of one
 * handle succeeds. The context's bytes written before a successful release happen-before
 * the next acquirer of that slot. */
CNV_API CNV_NODISCARD cnv_status cnv_pool_release(cnv_pool *p, cnv_pool_cache *cache, cnv_handle h);
/* Release by the handle's sole holder; does NOT arbitrate racing releases of one handle.
 * Same results and ordering as cnv_pool_release, without its atomic read-modify-write, into `cache` (required: NULL is CNV_EINVAL). The caller must be
 * the handle's only holder: a release of the same handle racing this call (from any thread,
 * by either call) is not arbitrated and voids that slot's guarantees for the pool's life
 * (it may be handed out twice; see docs/hotpath-memory.md). Stale, forged and repeated
 * (ordered) releases are still refused. Any thread, with its own cache. Progress: as
 * cnv_pool_release. */
CNV_API CNV_NODISCARD cnv_status cnv_pool_release_owned(cnv_pool *p, cnv_pool_cache *cache, cnv_handle h);
/* Pointer to a live handle's context; wait-free. CNV_OK, CNV_ESTALE_HANDLE, CNV_EBAD_HANDLE,
 * CNV_EINVAL; on error *out is NULL. The pointer is valid until the handle is released. */
CNV_API CNV_NODISCARD cnv_status cnv_pool_get(cnv_pool *p, cnv_handle h, void **out);
/* Contexts currently handed out (not in the free list or any cache); 0 when p is NULL.
 * Any threads, alongside acquire/release; wait-free: O(capacity) relaxed loads (it scans
 * the slots, so acquire/release keep no counter). Exact when no call is in flight, else
 * each slot is read at a different instant. */
CNV_API uint32_t cnv_pool_in_use(const cnv_pool *p);
/* Number of contexts given at create; 0 when p is NULL. Any threads; wait-free (a plain
 * read of a value fixed at create). */
CNV_API uint32_t cnv_pool_capacity(const cnv_pool *p);

/* ------------------------------------------------------------------------------------ */
/* Arenas.                                                                               */

/* Per-thread bump arena over caller memory. Fields are public for the inline fast path;
 * treat them as read-only. */
typedef struct cnv_arena {
  unsigned char *base;
  size_t size;
  size_t used;
  uint64_t generation; /* bumped by every reset */
} cnv_arena;

/* CNV_ARENA_POISONING is 1 when this translation unit is built with AddressSanitizer:
 * bytes of an arena not handed out since the last reset are then poisoned, and
 * cnv_arena_alloc always takes the out-of-line path, which unpoisons what it hands out. */
#if defined(__SANITIZE_ADDRESS__)
#define CNV_ARENA_POISONING 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CNV_ARENA_POISONING 1
#endif
#endif
#ifndef CNV_ARENA_POISONING
#define CNV_ARENA_POISONING 0
#endif

/* Initializes an arena over `mem` (size bytes, owned by the caller). CNV_EINVAL on NULL.
 * Under ASan the whole region is poisoned until handed out. One thread. */
CNV_API CNV_NODISCARD cnv_status cnv_arena_init(cnv_arena *a, void *mem, size_t size);
/* Zeroes the used bytes (SIMD zeroing kernel), rewinds and bumps the generation: every
 * pointer handed out before is stale. Under ASan the rewound bytes are poisoned. One thread. */
CNV_API void cnv_arena_reset(cnv_arena *a);
/* Ends the arena: under ASan unpoisons the whole region so the caller may reuse or free
 * its memory; otherwise does nothing. NULL is ignored. The caller still owns `mem`. */
CNV_API void cnv_arena_fini(cnv_arena *a);

/* Out-of-line path of cnv_arena_alloc (bad alignment, exhaustion, every call under ASan):
 * same contract as cnv_arena_alloc. Call cnv_arena_alloc instead. */
CNV_API CNV_NODISCARD cnv_status cnv_arena_alloc_slow(cnv_arena *a, size_t size, size_t align, void **out);

/* Allocates size bytes aligned to align (a power of two). No atomics, no locks. One thread.
 * CNV_OK, CNV_EINVAL (a or out NULL), CNV_EALIGN, CNV_EARENA_EXHAUSTED (then *out is NULL
 * when out is not, and nothing is used). The same in every build. */
CNV_NODISCARD static inline cnv_status cnv_arena_alloc(cnv_arena *a, size_t size, size_t align, void **out) {
#if CNV_ARENA_POISONING
  return cnv_arena_alloc_slow(a, size, align, out);
#else
  if (__builtin_expect(a == NULL || out == NULL, 0))
    return cnv_arena_alloc_slow(a, size, align, out); /* CNV_EINVAL, as documented */
  size_t used = a->used;
  uintptr_t cur = (uintptr_t)a->base + used;
  /* Common case: the cursor is already aligned (and align is a power of two), so only
   * used -> used + size depends on the previous allocation: one add between them. */
  if (__builtin_expect((((cur | align) & (align - 1)) == 0) & (align != 0), 1)) {
    size_t end = used + size;
    if (__builtin_expect(end > a->size || end < used, 0))
      return cnv_arena_alloc_slow(a, size, align, out);
    a->used = end;
    *out = (void *)cur;
    return CNV_OK;
  }
  uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
  size_t off = (size_t)(p - (uintptr_t)a->base);
  size_t next = off + size;
  if (__builtin_expect(align == 0 || (align & (align - 1)) != 0 || next > a->size ||
                           next < off || p < cur,
                       0))
    return cnv_arena_alloc_slow(a, size, align, out);
  a->used = next;
  *out = (void *)p;
  return CNV_OK;
#endif
}

/* Arena shared by threads: each allocation is one atomic add. */
typedef struct cnv_shared_arena {
  CNV_ALIGNED(CNV_CACHELINE)
  unsigned char opaque[2 * CNV_CACHELINE];
} cnv_shared_arena;

/* Initializes over caller memory (owned by the caller). CNV_EINVAL on NULL. */
CNV_API CNV_NODISCARD cnv_status cnv_shared_arena_init(cnv_shared_arena *a, void *mem, size_t size);
/* Allocates size bytes aligned to align with one atomic add. Any thread; wait-free.
 * CNV_OK, CNV_EALIGN, CNV_EARENA_EXHAUSTED (*out NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_shared_arena_alloc(cnv_shared_arena *a, size_t size, size_t align, void **out);
/* Zeroes, rewinds and bumps the generation; no allocation may run concurrently. */
CNV_API void cnv_shared_arena_reset(cnv_shared_arena *a);
/* How many times the arena was reset (0 after init; 0 when a is NULL). Any threads,
 * alongside allocations (only reset changes it); wait-free (one relaxed load). */
CNV_API uint64_t cnv_shared_arena_generation(const cnv_shared_arena *a);
/* Bytes handed out so far (alignment padding included); 0 when a is NULL. Any threads,
 * alongside allocations; wait-free (one relaxed load). While allocations run it is a
 * snapshot: it may include a reservation that an allocation which found the arena full is
 * about to undo. */
CNV_API size_t cnv_shared_arena_used(const cnv_shared_arena *a);

#ifdef __cplusplus
}
#endif

#endif
