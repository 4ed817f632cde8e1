/* The blocking convenience call: submit with a callback that copies the completion into the
 * caller's frame and wakes it (a futex on the frame's done word). */
#include <string.h>

#include "core/atomic.h"
#include "futex.h"
#include "rt_internal.h"

typedef struct waiter {
  cnv_runtime_completion *out;
  void *buf;
  size_t cap;
  int too_large;
  _Atomic uint32_t done;
} waiter;

static void on_done(void *ctx, const cnv_runtime_completion *c) {
  waiter *w = ctx;
  *w->out = *c;
  w->out->result = NULL;
  if (c->result_len > w->cap) {
    w->too_large = 1;
  } else if (c->result_len) {
    memcpy(w->buf, c->result, c->result_len);
    w->out->result = w->buf;
  }
  /* release: the copies above to the waiting caller (acquire) */
  cnv__store_release(&w->done, 1u);
  /* the caller may return as soon as it sees done: the wake only touches the address */
  cnv__rt_futex_wake(&w->done, 1);
}

cnv_status cnv_runtime_invoke(cnv_runtime *rt, uint32_t agent, const char *line, size_t len,
                              const cnv_runtime_submit_opts *opts, cnv_runtime_completion *out,
                              void *result_buf, size_t cap) {
  if (!rt || !out || (!result_buf && cap)) return CNV_EINVAL;
  if (opts && (opts->on_done || opts->cq)) return CNV_EINVAL;
  waiter w = {.out = out, .buf = result_buf, .cap = cap};
  cnv_runtime_submit_opts o = {0};
  if (opts) o = *opts;
  o.on_done = on_done;
  o.done_ctx = &w;
  cnv_status st = cnv_runtime_submit_ex(rt, agent, line, len, &o, NULL);
  if (st != CNV_OK) return st;
  /* acquire: pairs with on_done's release */
  while (!cnv__load_acquire(&w.done)) {
    cnv__rt_futex_wait(&w.done, 0u, NULL);
  }
  return w.too_large ? CNV_ERANGE : CNV_OK;
}
