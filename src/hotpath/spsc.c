/* SPSC ring with cached indices: one producer, one consumer, records inline.
 *
 * The producer owns tail and reads head only when its cached copy says the ring is full;
 * the consumer owns head and reads tail only when its cached copy says the ring is empty.
 * A batch copies its records and then publishes them with a single release store. */
#include <stdlib.h>

#include "queue_internal.h"
#include "spsc_internal.h"

static inline struct cnv__spsc *ring_of(cnv_spsc *r) { return (struct cnv__spsc *)(void *)r; }

cnv_status cnv_spsc_memory_size(uint32_t capacity, uint32_t record_size, size_t *out_bytes) {
  if (!out_bytes) return CNV_EINVAL;
  cnv_status st = cnv__ring_check(capacity, record_size);
  if (st != CNV_OK) return st;
  if (record_size > SIZE_MAX / capacity) return CNV_EOVERFLOW;
  *out_bytes = (size_t)record_size * capacity;
  return CNV_OK;
}

cnv_status cnv_spsc_init(cnv_spsc *r, void *slots, size_t slots_bytes, uint32_t capacity,
                         uint32_t record_size) {
  if (!r || !slots) return CNV_EINVAL;
  size_t need;
  cnv_status st = cnv_spsc_memory_size(capacity, record_size, &need);
  if (st != CNV_OK) return st;
  if ((uintptr_t)slots % CNV_CACHELINE != 0) return CNV_EALIGN;
  if (slots_bytes < need) return CNV_ERANGE;
  struct cnv__spsc *s = ring_of(r);
  memset(r, 0, sizeof *r);
  s->slots = slots;
  s->mask = capacity - 1u;
  s->capacity = capacity;
  s->record_size = record_size;
  atomic_init(&s->tail, 0);
  atomic_init(&s->head, 0);
  return CNV_OK;
}

void cnv_spsc_fini(cnv_spsc *r) {
  if (r) memset(r, 0, sizeof *r);
}

cnv_status cnv_spsc_create(uint32_t capacity, uint32_t record_size, cnv_spsc **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  size_t bytes;
  cnv_status st = cnv_spsc_memory_size(capacity, record_size, &bytes);
  if (st != CNV_OK) return st;
  if (bytes > SIZE_MAX - sizeof(cnv_spsc) - CNV_CACHELINE) return CNV_EOVERFLOW;
  size_t total = (sizeof(cnv_spsc) + bytes + CNV_CACHELINE - 1) & ~(size_t)(CNV_CACHELINE - 1);
  unsigned char *mem = aligned_alloc(CNV_CACHELINE, total);
  if (!mem) return CNV_ENOMEM;
  cnv_spsc *r = (cnv_spsc *)(void *)mem;
  st = cnv_spsc_init(r, mem + sizeof(cnv_spsc), bytes, capacity, record_size);
  if (st != CNV_OK) {
    free(mem);
    return st;
  }
  *out = r;
  return CNV_OK;
}

void cnv_spsc_destroy(cnv_spsc *r) {
  if (!r) return;
  cnv_spsc_fini(r);
  free(r);
}

/* Records that fit before the ring's end when k records start at position pos. */
static inline size_t run_before_wrap(const struct cnv__spsc *s, uint64_t pos, size_t k) {
  size_t left = s->capacity - (size_t)(pos & s->mask);
  return left < k ? left : k;
}

static void ring_write(struct cnv__spsc *s, uint64_t pos, const unsigned char *src, size_t k) {
  size_t rs = s->record_size, first = run_before_wrap(s, pos, k);
  memcpy(s->slots + (size_t)(pos & s->mask) * rs, src, first * rs);
  memcpy(s->slots, src + first * rs, (k - first) * rs);
}

static void ring_read(const struct cnv__spsc *s, uint64_t pos, unsigned char *dst, size_t k) {
  size_t rs = s->record_size, first = run_before_wrap(s, pos, k);
  memcpy(dst, s->slots + (size_t)(pos & s->mask) * rs, first * rs);
  memcpy(dst + first * rs, s->slots, (k - first) * rs);
}

cnv_status cnv_spsc_try_push(cnv_spsc *r, const void *record) {
  if (CNV__UNLIKELY(!r || !record)) return CNV_EINVAL;
  struct cnv__spsc *s = ring_of(r);
  uint64_t t = cnv__load_relaxed(&s->tail); /* relaxed: only this thread writes tail */
  if (CNV__UNLIKELY(t - s->cached_head >= s->capacity)) {
    /* acquire: pairs with the consumer's release of head, so its copy-out of the slot we
     * are about to overwrite is complete. */
    s->cached_head = cnv__load_acquire(&s->head);
    if (t - s->cached_head >= s->capacity) return CNV_EFULL;
  }
  cnv__record_copy(s->slots + (size_t)(t & s->mask) * s->record_size, record, s->record_size);
  /* release: the record bytes are visible to the consumer that acquires this tail. */
  cnv__store_release(&s->tail, t + 1);
  return CNV_OK;
}

cnv_status cnv_spsc_try_pop(cnv_spsc *r, void *record) {
  if (CNV__UNLIKELY(!r || !record)) return CNV_EINVAL;
  struct cnv__spsc *s = ring_of(r);
  uint64_t h = cnv__load_relaxed(&s->head); /* relaxed: only this thread writes head */
  if (CNV__UNLIKELY(h == s->cached_tail)) {
    /* acquire: pairs with the producer's release of tail, so the record bytes are visible. */
    s->cached_tail = cnv__load_acquire(&s->tail);
    if (h == s->cached_tail) return CNV_EEMPTY;
  }
  cnv__record_copy(record, s->slots + (size_t)(h & s->mask) * s->record_size, s->record_size);
  /* release: our copy-out completes before the producer (acquiring head) reuses the slot. */
  cnv__store_release(&s->head, h + 1);
  return CNV_OK;
}

cnv_status cnv_spsc_try_push_batch(cnv_spsc *r, const void *records, size_t n, size_t *pushed) {
  if (CNV__UNLIKELY(!r || !pushed || (!records && n))) return CNV_EINVAL;
  struct cnv__spsc *s = ring_of(r);
  uint64_t t = cnv__load_relaxed(&s->tail); /* relaxed: only this thread writes tail */
  uint64_t room = s->capacity - (t - s->cached_head);
  if (room < n) {
    s->cached_head = cnv__load_acquire(&s->head); /* acquire: as in cnv_spsc_try_push */
    room = s->capacity - (t - s->cached_head);
  }
  size_t k = room < n ? (size_t)room : n;
  if (k > 0) {
    ring_write(s, t, records, k);
    cnv__store_release(&s->tail, t + k); /* release: one publication for all k records */
  }
  *pushed = k;
  return k == n ? CNV_OK : CNV_EFULL;
}

cnv_status cnv_spsc_try_pop_batch(cnv_spsc *r, void *records, size_t max, size_t *popped) {
  if (CNV__UNLIKELY(!r || !records || !popped || max == 0)) return CNV_EINVAL;
  struct cnv__spsc *s = ring_of(r);
  uint64_t h = cnv__load_relaxed(&s->head); /* relaxed: only this thread writes head */
  uint64_t avail = s->cached_tail - h;
  if (avail < max) {
    s->cached_tail = cnv__load_acquire(&s->tail); /* acquire: as in cnv_spsc_try_pop */
    avail = s->cached_tail - h;
  }
  size_t k = avail < max ? (size_t)avail : max;
  *popped = k;
  if (k == 0) return CNV_EEMPTY;
  ring_read(s, h, records, k);
  cnv__store_release(&s->head, h + k); /* release: one retirement for all k records */
  return CNV_OK;
}
