/* Completion queues: a ring of entries, each with room for one result, filled in place by
 * completing threads and emptied by one polling thread. Room is reserved at submit (a
 * credit per accepted invocation, returned when its completion is polled), so a completing
 * thread always finds its entry free and never waits for the poller. An eventfd tells an
 * event loop when to poll again: the poller arms the queue before it waits, and the first
 * completion after that writes the eventfd (one system call per wait, none while the poller
 * keeps up without waiting). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "core/atomic.h"
#include "rt_internal.h"

typedef struct cq_entry {
  _Atomic uint64_t seq; /* position + 1 once filled; position + capacity once polled */
  cnv_runtime_completion c;
  uint8_t *result; /* max_result bytes */
} cq_entry;

struct cnv_runtime_cq {
  const cnv_runtime *rt;
  cq_entry *entries;
  uint8_t *results;
  uint32_t mask;
  uint32_t max_result;
  int efd;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint64_t tail; /* positions handed to completers */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic uint32_t reserved;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic int armed; /* the poller waits: signal the eventfd */
  CNV_ALIGNED(CNV_CACHELINE)
  uint64_t head; /* the poller's position */
};

cnv_status cnv_runtime_cq_create(cnv_runtime *rt, uint32_t capacity, cnv_runtime_cq **out) {
  if (!rt || !out) return CNV_EINVAL;
  *out = NULL;
  if (capacity < 2 || capacity > (1u << 20) || (capacity & (capacity - 1))) return CNV_ERANGE;
  cnv_runtime_cq *cq = aligned_alloc(CNV_CACHELINE, (sizeof *cq + CNV_CACHELINE - 1) &
                                                        ~(size_t)(CNV_CACHELINE - 1));
  if (!cq) return CNV_ENOMEM;
  memset(cq, 0, sizeof *cq);
  cq->rt = rt;
  cq->mask = capacity - 1;
  cq->max_result = rt->cfg.max_result;
  cq->efd = -1;
  cq->entries = calloc(capacity, sizeof *cq->entries);
  cq->results = malloc((size_t)capacity * cq->max_result);
  if (!cq->entries || !cq->results) {
    cnv_runtime_cq_destroy(cq);
    return CNV_ENOMEM;
  }
  for (uint32_t i = 0; i < capacity; i++) {
    atomic_init(&cq->entries[i].seq, i); /* free for position i */
    cq->entries[i].result = cq->results + (size_t)i * cq->max_result;
  }
  cq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (cq->efd < 0) {
    cnv_runtime_cq_destroy(cq);
    return CNV_EIO;
  }
  *out = cq;
  return CNV_OK;
}

void cnv_runtime_cq_destroy(cnv_runtime_cq *cq) {
  if (!cq) return;
  if (cq->efd >= 0) close(cq->efd);
  free(cq->entries);
  free(cq->results);
  free(cq);
}

int cnv_runtime_cq_fd(const cnv_runtime_cq *cq) { return cq ? cq->efd : -1; }

const cnv_runtime *cnv__rt_cq_owner(const cnv_runtime_cq *cq) { return cq->rt; }

cnv_status cnv__rt_cq_reserve(cnv_runtime_cq *cq) {
  /* relaxed: a count; the entry itself is ordered by its seq */
  uint32_t n = cnv__load_relaxed(&cq->reserved);
  do {
    if (n > cq->mask) return CNV_EFULL;
  } while (!cnv__cas_weak(&cq->reserved, &n, n + 1, memory_order_relaxed, memory_order_relaxed));
  return CNV_OK;
}

void cnv__rt_cq_unreserve(cnv_runtime_cq *cq) {
  cnv__fetch_sub_relaxed(&cq->reserved, 1u); /* relaxed: see reserve */
}

void cnv__rt_cq_push(cnv_runtime_cq *cq, const cnv_runtime_completion *c) {
  /* relaxed: the position only; the entry is published through its seq */
  uint64_t pos = cnv__fetch_add_relaxed(&cq->tail, 1u);
  cq_entry *e = &cq->entries[pos & cq->mask];
  /* At most capacity completions are reserved, so the entry at pos was polled (its seq is
   * pos) before this position could be handed out; the acquire load orders the poller's
   * reads of it before the writes below. */
  while (cnv__load_acquire(&e->seq) != pos) cnv__cpu_relax();
  e->c = *c;
  e->c.result = NULL;
  if (c->result_len) memcpy(e->result, c->result, c->result_len);
  cnv__store_release(&e->seq, pos + 1); /* release: the entry's bytes to the poller */
  /* seq_cst fence: the entry's publication is ordered before the check of `armed`, against
   * the poller's "arm, then look" (cnv_runtime_cq_arm): one of the two sees the other */
  cnv__fence_seq_cst();
  if (cnv__load_relaxed(&cq->armed) && atomic_exchange_explicit(&cq->armed, 0, memory_order_relaxed)) {
    uint64_t one = 1;
    /* the counter cannot overflow (one write per arm, reset by each arm): nothing to handle */
    ssize_t w = write(cq->efd, &one, sizeof one);
    (void)w;
  }
}

cnv_status cnv_runtime_cq_poll(cnv_runtime_cq *cq, cnv_runtime_completion *out, void *result_buf,
                               size_t cap) {
  if (!cq || !out || !result_buf) return CNV_EINVAL;
  if (cap < cq->max_result) return CNV_ERANGE;
  cq_entry *e = &cq->entries[cq->head & cq->mask];
  /* acquire: pairs with the completer's release; the entry's bytes are complete */
  if (cnv__load_acquire(&e->seq) != cq->head + 1) return CNV_EEMPTY;
  *out = e->c;
  if (out->result_len) memcpy(result_buf, e->result, out->result_len);
  out->result = out->result_len ? result_buf : NULL;
  /* release: the entry is free for position head + capacity once the copy is done */
  cnv__store_release(&e->seq, cq->head + cq->mask + 1);
  cq->head++;
  cnv__rt_cq_unreserve(cq);
  return CNV_OK;
}

cnv_status cnv_runtime_cq_arm(cnv_runtime_cq *cq) {
  if (!cq) return CNV_EINVAL;
  uint64_t value;
  ssize_t r = read(cq->efd, &value, sizeof value); /* resets an earlier signal (or EAGAIN) */
  (void)r;
  /* seq_cst store and fence: "arm, then look" (see cnv__rt_cq_push) */
  atomic_store_explicit(&cq->armed, 1, memory_order_seq_cst);
  cnv__fence_seq_cst();
  const cq_entry *e = &cq->entries[cq->head & cq->mask];
  /* relaxed: only whether it is filled; poll reads it with acquire */
  return cnv__load_relaxed(&e->seq) == cq->head + 1 ? CNV_EAGAIN : CNV_OK;
}
cnv_status cnv_runtime_cq_wait(cnv_runtime_cq *cq, int timeout_ms, cnv_runtime_completion *out,
                               void *result_buf, size_t cap) {
  /* the time limit is kept across wake-ups that find nothing (a signal, a completion another
   * call polled first): each wait gets what is left of it, rounded up to a millisecond */
  uint64_t end = timeout_ms >= 0 ? cnv__rt_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
  for (;;) {
    cnv_status st = cnv_runtime_cq_poll(cq, out, result_buf, cap);
    if (st != CNV_EEMPTY) return st;
    if (cnv_runtime_cq_arm(cq) == CNV_EAGAIN) continue;
    int wait_ms = -1;
    if (timeout_ms >= 0) {
      uint64_t now = cnv__rt_now_ns();
      if (now >= end) return CNV_EEMPTY;
      wait_ms = (int)((end - now + 999999u) / 1000000u);
    }
    struct pollfd p = {.fd = cq->efd, .events = POLLIN};
    int n = poll(&p, 1, wait_ms);
    if (n == 0) return cnv_runtime_cq_poll(cq, out, result_buf, cap);
    if (n < 0 && errno != EINTR) return CNV_EIO;
  }
}
