/* Bounded MPMC invocation queue: sequence-numbered slots (Vyukov), records inline.
 *
 * Positions are 64-bit and never wrap in practice. A push claims position p by one CAS on
 * `tail` after seeing slot p free (seq == p); it copies the record in and publishes it with
 * seq = p + 1. A pop claims p by one CAS on `head` after seeing seq == p + 1; it copies the
 * record out and frees the slot for the next lap with seq = p + capacity. Batch calls check a
 * run of slots and claim the whole run with one CAS.
 *
 * Linearization points: a push at its successful tail CAS, a pop at its successful head
 * CAS, CNV_EFULL at the head load of push_sees_full, CNV_EEMPTY and CNV_EAGAIN at the tail
 * load of pop_sees_empty. A slot that is claimed but not yet published (or not yet freed) is
 * never reported as empty (full): a push waits for that in-flight copy-out, as folly's
 * MPMCQueue readIfNotEmpty does; a pop returns CNV_EAGAIN instead of waiting for the
 * in-flight copy-in, so a preempted producer never holds a consumer inside the call.
 * docs/hotpath-queues.md has the argument and the measurements. */
#include <stdlib.h>

#include "core/prefetch.h"
#include "queue_internal.h"

static inline unsigned char *slot_at(const struct cnv__queue *s, uint64_t pos) {
  return s->slots + (size_t)(pos & s->mask) * s->stride;
}

static inline _Atomic uint64_t *slot_seq(unsigned char *slot) { return (_Atomic uint64_t *)(void *)slot; }

static inline uint64_t seq_at(const struct cnv__queue *s, uint64_t pos) {
  /* acquire: pairs with the release that set this seq, so the record bytes written (push)
   * or read out (pop) before it are done before we touch the slot. */
  return cnv__load_acquire(slot_seq(slot_at(s, pos)));
}

cnv_status cnv_queue_memory_size(uint32_t capacity, uint32_t record_size, size_t *out_bytes) {
  if (!out_bytes) return CNV_EINVAL;
  cnv_status st = cnv__ring_check(capacity, record_size);
  if (st != CNV_OK) return st;
  /* One slot cannot tell "published for p" (seq p + 1) from "free for p + 1" (also p + 1). */
  if (capacity < 2) return CNV_ECAPACITY;
  uint64_t stride = 8u + (uint64_t)record_size;
  if (stride > SIZE_MAX / capacity) return CNV_EOVERFLOW;
  *out_bytes = (size_t)stride * capacity;
  return CNV_OK;
}

cnv_status cnv_queue_init(cnv_queue *q, void *slots, size_t slots_bytes, uint32_t capacity,
                          uint32_t record_size) {
  if (!q || !slots) return CNV_EINVAL;
  size_t need;
  cnv_status st = cnv_queue_memory_size(capacity, record_size, &need);
  if (st != CNV_OK) return st;
  if ((uintptr_t)slots % CNV_CACHELINE != 0) return CNV_EALIGN;
  if (slots_bytes < need) return CNV_ERANGE;
  struct cnv__queue *s = cnv__queue_of(q);
  memset(q, 0, sizeof *q);
  s->slots = slots;
  s->mask = capacity - 1u;
  s->capacity = capacity;
  s->record_size = record_size;
  s->stride = 8u + record_size;
  for (uint64_t i = 0; i < capacity; i++) {
    unsigned char *slot = slot_at(s, i);
    atomic_init(slot_seq(slot), i);
    memset(slot + 8, 0, record_size); /* what a pop returns past a prefix push's bytes */
  }
  atomic_init(&s->tail, 0);
  atomic_init(&s->head, 0);
  atomic_init(&s->rejected_full, 0);
  return CNV_OK;
}

void cnv_queue_fini(cnv_queue *q) {
  if (q) memset(q, 0, sizeof *q);
}

cnv_status cnv_queue_create(uint32_t capacity, uint32_t record_size, cnv_queue **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  size_t bytes;
  cnv_status st = cnv_queue_memory_size(capacity, record_size, &bytes);
  if (st != CNV_OK) return st;
  if (bytes > SIZE_MAX - sizeof(cnv_queue) - CNV_CACHELINE) return CNV_EOVERFLOW;
  /* aligned_alloc wants a multiple of the alignment; cnv_queue is one already. */
  size_t total = (sizeof(cnv_queue) + bytes + CNV_CACHELINE - 1) & ~(size_t)(CNV_CACHELINE - 1);
  unsigned char *mem = aligned_alloc(CNV_CACHELINE, total);
  if (!mem) return CNV_ENOMEM;
  cnv_queue *q = (cnv_queue *)(void *)mem;
  st = cnv_queue_init(q, mem + sizeof(cnv_queue), bytes, capacity, record_size);
  if (st != CNV_OK) {
    free(mem);
    return st;
  }
  *out = q;
  return CNV_OK;
}

void cnv_queue_destroy(cnv_queue *q) {
  if (!q) return;
  cnv_queue_fini(q);
  free(q);
}

/* The slot for *pos still holds the record of position *pos - capacity. Returns 1 when the
 * queue is full (capacity records claimed by pushes and not by pops); otherwise refreshes
 * *pos (another producer moved on) or leaves it (a pop of that slot is still copying out)
 * and returns 0 so the caller retries. */
static int push_sees_full(struct cnv__queue *s, uint64_t *pos) {
  /* acquire: pairs with the release CAS of the push that wrote this tail value, so every
   * pop that completed before that push is visible to the head load below. */
  uint64_t t = cnv__load_acquire(&s->tail);
  if (t != *pos) {
    *pos = t;
    return 0;
  }
  /* relaxed: coherence returns every head CAS ordered before this call (see docs). */
  uint64_t h = cnv__load_relaxed(&s->head);
  return t - h >= s->capacity;
}

/* The slot for *pos is not published for *pos. Returns CNV_EEMPTY when the queue is empty
 * (tail == head), CNV_EAGAIN when a push has claimed *pos and is still copying in (or the
 * pop of that slot's previous record is still copying out), and CNV_OK when *pos was stale
 * (refreshed: another consumer moved on) so the caller retries. */
static cnv_status pop_sees_empty(struct cnv__queue *s, uint64_t *pos) {
  /* acquire: pairs with the release CAS of the pop that wrote this head value, so the tail
   * CAS of every push it consumed is visible to the tail load below. */
  uint64_t h = cnv__load_acquire(&s->head);
  if (h != *pos) {
    *pos = h;
    return CNV_OK;
  }
  /* relaxed: coherence, as above; tail never falls below head. */
  return cnv__load_relaxed(&s->tail) == h ? CNV_EEMPTY : CNV_EAGAIN;
}

/* Claims up to `want` (>= 1) consecutive free slots with one CAS on tail. Returns how many
 * (their first position in *first), or 0 when the queue is full. */
static size_t claim_push(struct cnv__queue *s, size_t want, uint64_t *first) {
  if (want > s->capacity) want = s->capacity;
  /* relaxed: only a starting guess; the CAS below validates it. */
  uint64_t pos = cnv__load_relaxed(&s->tail);
  unsigned spins = 0;
  for (;;) {
    int64_t dif = (int64_t)(seq_at(s, pos) - pos);
    if (dif == 0) {
      size_t k = 1;
      while (k < want && seq_at(s, pos + k) == pos + k) k++;
      /* release on success: orders our reads of those slots' seq (and the pops they saw)
       * before any thread that acquires this tail value; failure just reloads pos. */
      if (cnv__cas_weak(&s->tail, &pos, pos + k, memory_order_release, memory_order_relaxed)) {
        *first = pos;
        return k;
      }
    } else if (dif > 0) {
      pos = cnv__load_relaxed(&s->tail); /* relaxed: another producer took pos; re-guess */
    } else if (push_sees_full(s, &pos)) {
      return 0;
    } else {
      cnv__backoff(&spins);
    }
  }
}

/* A pop that finds its slot not yet published has caught up with the producers. Reading the
 * slot again at once, and again (as a watch loop would), pulls the line the producer is
 * writing back and forth while it writes, and keeps the consumer glued to the producer one
 * record at a time; reading tail pulls the producers' claim line away from them. Instead the
 * pop pauses this many times without touching shared memory, then looks at the slot once
 * more before the exact empty check: the producer finishes its copy undisturbed and gets a
 * few records ahead, which the consumer then takes back to back (FastForward's "temporal
 * slipping"). A bounded pause (about 1.3 us where a pause takes 20 ns), never a wait for a
 * peer. 64 gave a higher and no less steady queue_mpmc_1p1c than 16 (docs/hotpath-queues.md). */
#define CNV__POP_SLIP_PAUSES 64

/* Claims up to `want` (>= 1) consecutive published slots with one CAS on head. Returns how
 * many (first position in *first), or 0 with *why = CNV_EEMPTY (the queue is empty) or
 * CNV_EAGAIN (the oldest record's slot is claimed by a push still copying in). */
static size_t claim_pop(struct cnv__queue *s, size_t want, uint64_t *first, cnv_status *why) {
  if (want > s->capacity) want = s->capacity;
  uint64_t pos = cnv__load_relaxed(&s->head); /* relaxed: a guess the CAS validates */
  int slipped = 0;
  for (;;) {
    int64_t dif = (int64_t)(seq_at(s, pos) - (pos + 1));
    if (dif == 0) {
      size_t k = 1;
      while (k < want && seq_at(s, pos + k) == pos + k + 1) k++;
      /* release on success: see claim_push; the record bytes themselves are ordered by the
       * slot's seq acquire above, not by this CAS. */
      if (cnv__cas_weak(&s->head, &pos, pos + k, memory_order_release, memory_order_relaxed)) {
        *first = pos;
        return k;
      }
    } else if (dif > 0) {
      pos = cnv__load_relaxed(&s->head); /* relaxed: another consumer took pos; re-guess */
    } else if (!slipped) {
      slipped = 1;
      for (unsigned i = 0; i < CNV__POP_SLIP_PAUSES; i++) cnv__cpu_relax();
    } else {
      cnv_status st = pop_sees_empty(s, &pos);
      if (st != CNV_OK) {
        *why = st;
        return 0;
      }
    }
  }
}

static void publish_run(struct cnv__queue *s, uint64_t first, const unsigned char *src, size_t k) {
  for (size_t i = 0; i < k; i++) {
    unsigned char *slot = slot_at(s, first + i);
    cnv__record_copy(slot + 8, src + i * s->record_size, s->record_size);
    /* release: the record bytes above are visible to the pop that acquires seq == p + 1. */
    cnv__store_release(slot_seq(slot), first + i + 1);
  }
}

/* publish_run of one record's first len bytes (the rest of the slot keeps what it held) */
static void publish_prefix(struct cnv__queue *s, uint64_t pos, const void *src, size_t len) {
  unsigned char *slot = slot_at(s, pos);
  /* src may be NULL when len is 0, and memcpy's pointers must be valid even for 0 bytes */
  if (len) memcpy(slot + 8, src, len);
  /* release: as in publish_run */
  cnv__store_release(slot_seq(slot), pos + 1);
}

static void drain_run(struct cnv__queue *s, uint64_t first, unsigned char *dst, size_t k) {
  for (size_t i = 0; i < k; i++) {
    unsigned char *slot = slot_at(s, first + i);
    cnv__record_copy(dst + i * s->record_size, slot + 8, s->record_size);
    /* release: our copy-out completes before the next lap's push acquires the free slot. */
    cnv__store_release(slot_seq(slot), first + i + s->capacity);
  }
}

static void count_rejected(struct cnv__queue *s, uint64_t n) {
  /* relaxed: a statistic with no ordering duty; only failed pushes pay for it. */
  cnv__fetch_add_relaxed(&s->rejected_full, n);
}

/* How many records ahead a single push asks for its slot's lines (core/prefetch.h): far
 * enough that the transfer is done when the push gets there, near enough that no consumer
 * still reads them and the producer's own cache keeps them. 4 was the best of 1, 2, 4 and 8
 * for the runtime's submit where a core-to-core round trip took 400 ns (docs/benchmarks.md). */
#define CNV__PUSH_PREFETCH_AHEAD 4u
/* Only slots of two lines or more are asked for: with shorter ones, asking took
 * queue_mpmc_1p1c (64-byte records, 72-byte slots) from about 110 to 70 M records/s. That
 * case's producer outruns its consumer, so its ring is mostly full and the slot four on
 * holds a record the consumer is about to read (the likely cause, not proven). */
#define CNV__PUSH_PREFETCH_MIN_STRIDE (2u * CNV_CACHELINE)

/* Claims one slot for a single push (its position in *pos): 1, or 0 when the queue is full
 * (the refusal counted). On success it asks for the slot CNV__PUSH_PREFETCH_AHEAD further on
 * for writing: its sequence word and the record's first bytes, the two lines a short push
 * writes (a slot need not start a line). */
static int claim_one(struct cnv__queue *s, uint64_t *pos) {
  if (claim_push(s, 1, pos) == 1) {
    if (s->stride >= CNV__PUSH_PREFETCH_MIN_STRIDE) {
      const unsigned char *ahead = slot_at(s, *pos + CNV__PUSH_PREFETCH_AHEAD);
      cnv__prefetch_for_write(ahead);
      cnv__prefetch_for_write(ahead + CNV_CACHELINE); /* inside the slot: stride > a line */
    }
    return 1;
  }
  count_rejected(s, 1);
  return 0;
}

cnv_status cnv_queue_try_push_mpmc(cnv_queue *q, const void *record) {
  uint64_t pos;
  return cnv_queue_try_push_mpmc_at(q, record, &pos);
}

cnv_status cnv_queue_try_push_mpmc_at(cnv_queue *q, const void *record, uint64_t *position) {
  if (CNV__UNLIKELY(!q || !record || !position)) return CNV_EINVAL;
  struct cnv__queue *s = cnv__queue_of(q);
  uint64_t pos;
  if (CNV__UNLIKELY(!claim_one(s, &pos))) return CNV_EFULL;
  publish_run(s, pos, record, 1);
  *position = pos;
  return CNV_OK;
}

cnv_status cnv_queue_try_push_mpmc_prefix(cnv_queue *q, const void *record, size_t len) {
  if (CNV__UNLIKELY(!q || (!record && len))) return CNV_EINVAL;
  struct cnv__queue *s = cnv__queue_of(q);
  if (CNV__UNLIKELY(len > s->record_size)) return CNV_ERANGE;
  uint64_t pos;
  if (CNV__UNLIKELY(!claim_one(s, &pos))) return CNV_EFULL;
  publish_prefix(s, pos, record, len);
  return CNV_OK;
}

cnv_status cnv_queue_try_pop_mpmc(cnv_queue *q, void *record) {
  if (CNV__UNLIKELY(!q || !record)) return CNV_EINVAL;
  struct cnv__queue *s = cnv__queue_of(q);
  uint64_t pos;
  cnv_status why;
  if (claim_pop(s, 1, &pos, &why) == 0) return why;
  drain_run(s, pos, record, 1);
  return CNV_OK;
}

cnv_status cnv_queue_try_push_batch_mpmc(cnv_queue *q, const void *records, size_t n,
                                         size_t *pushed) {
  if (CNV__UNLIKELY(!q || !pushed || (!records && n))) return CNV_EINVAL;
  struct cnv__queue *s = cnv__queue_of(q);
  const unsigned char *src = records;
  size_t done = 0;
  while (done < n) {
    uint64_t first;
    size_t k = claim_push(s, n - done, &first);
    if (k == 0) break;
    publish_run(s, first, src + done * s->record_size, k);
    done += k;
  }
  *pushed = done;
  if (CNV__UNLIKELY(done < n)) {
    count_rejected(s, n - done);
    return CNV_EFULL;
  }
  return CNV_OK;
}

cnv_status cnv_queue_try_pop_batch_mpmc(cnv_queue *q, void *records, size_t max, size_t *popped) {
  if (CNV__UNLIKELY(!q || !records || !popped || max == 0)) return CNV_EINVAL;
  struct cnv__queue *s = cnv__queue_of(q);
  uint64_t first;
  cnv_status why;
  size_t k = claim_pop(s, max, &first, &why);
  *popped = k;
  if (k == 0) return why;
  drain_run(s, first, records, k);
  return CNV_OK;
}

void cnv_queue_stats_get(const cnv_queue *q, cnv_queue_stats *out) {
  if (!q || !out) return;
  const struct cnv__queue *s = cnv__queue_of_const(q);
  /* relaxed: a snapshot of monotonic counters; positions count claims, so a record being
   * copied in (out) is already counted as pushed (popped). */
  out->pushed = cnv__load_relaxed(&s->tail);
  out->popped = cnv__load_relaxed(&s->head);
  out->rejected_full = cnv__load_relaxed(&s->rejected_full);
}

uint32_t cnv_queue_capacity(const cnv_queue *q) { return q ? cnv__queue_of_const(q)->capacity : 0; }

uint32_t cnv_queue_record_size(const cnv_queue *q) {
  return q ? cnv__queue_of_const(q)->record_size : 0;
}
