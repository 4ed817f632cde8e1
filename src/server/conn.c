/* One connection on its loop: the session fed with what is read, its output and the sealed
 * RESPONSEs written through two buffers (one being written, one being filled), invocations
 * submitted to the runtime and their completions taken back from the loop's done stack,
 * timers, and the close that waits for every call in flight (docs/server.md). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ignore.h"
#include "srv_internal.h"

#define MS 1000000ull
#define RBUF_BYTES 16384u
/* Room one event may need in the output buffer: a handshake message or ERROR (pull), or a
 * RESPONSE without result (a refusal). */
#define RESP_HEAD 64u
#define EVENT_ROOM (CNV_SESSION_PULL_MAX + CNV_SESSION_SEAL_BOUND(RESP_HEAD))
/* How long a failed session waits for its ERROR to be written before it closes anyway. */
#define ERROR_LINGER_MS 1000u

static size_t out_cap(const cnv_server *s) {
  return s->cfg.write_bound / 2 + CNV_SESSION_SEAL_BOUND(RESP_HEAD + (size_t)s->max_result) + EVENT_ROOM;
}

static size_t out_room(const cnv__srv_conn *c) { return out_cap(c->loop->srv) - c->olen[c->cur]; }

static void on_written(uv_write_t *req, int status);
static void on_timer(uv_timer_t *t);

/* Writes the buffer being filled, if no write is in flight: at once as far as the socket
 * takes it (uv_try_write), the rest by a uv_write that completes in on_written. A write done
 * at once costs no request, no callback and no change of the stream's epoll interest (libuv
 * re-arms the watcher each time a uv_write's queue drains: one epoll_ctl per write). */
static void flush(cnv__srv_conn *c) {
  if (c->wbusy || c->closing || c->olen[c->cur] == 0) return;
  uv_buf_t b = uv_buf_init((char *)c->out[c->cur], (unsigned)c->olen[c->cur]);
  int n = uv_try_write(&c->h.stream, &b, 1);
  if (n == UV_EAGAIN) n = 0; /* the socket takes nothing now: all of it by uv_write */
  if (n < 0) {
    cnv__srv_conn_close(c);
    return;
  }
  if ((size_t)n == c->olen[c->cur]) {
    cnv__srv_count(&c->loop->n.bytes_out, (uint64_t)n);
    c->olen[c->cur] = 0;
    return;
  }
  /* the rest; on_written counts the whole buffer */
  b = uv_buf_init((char *)c->out[c->cur] + n, (unsigned)(c->olen[c->cur] - (size_t)n));
  c->wreq.data = c;
  if (uv_write(&c->wreq, &c->h.stream, &b, 1, on_written) != 0) {
    cnv__srv_conn_close(c);
    return;
  }
  c->wbusy = 1;
  c->cur ^= 1; /* the other buffer is empty: its write completed */
  /* the write clock: the previous write completed (or none was in flight) just now */
  c->out_moved_ns = cnv_runtime_now_ns();
  c->wq_seen = uv_stream_get_write_queue_size(&c->h.stream);
  if (c->state == CNV__SRV_READY && !c->end_on_flush) {
    /* the timer looks at this write by write_timeout at the latest */
    uint64_t wto = c->loop->srv->cfg.write_timeout_ms;
    if (uv_timer_get_due_in(&c->timer) > wto) uv_timer_start(&c->timer, on_timer, wto, 0);
  }
}

/* Moves the session's own output (handshake, READY, ERROR) into the buffer being filled. */
static void pull(cnv__srv_conn *c) {
  for (;;) {
    size_t w = 0;
    cnv_status st = cnv_session_pull(c->sess, c->out[c->cur] + c->olen[c->cur], out_room(c), &w);
    if (st != CNV_OK || w == 0) return; /* CNV_ERANGE: no room now; pulled after the write */
    c->olen[c->cur] += w;
  }
}

/* The session ended (feed error, refused token, timeout): its ERROR (when it could seal one)
 * goes out, then the connection closes. */
static void end_session(cnv__srv_conn *c) {
  pull(c);
  if (!c->end_on_flush && !c->closing) {
    /* a peer that does not read never lets the ERROR out: the timer closes it after a linger */
    uv_timer_start(&c->timer, on_timer, ERROR_LINGER_MS, 0);
  }
  c->end_on_flush = 1;
}

static void fail(cnv__srv_conn *c, cnv_status code) {
  /* code is negative: fail only refuses a non-negative one; the session is ended either way */
  cnv__ignore_status(cnv_session_fail(c->sess, code));
  end_session(c);
}

/* Seals one message into the buffer being filled. CNV_EFULL: no room (nothing written). */
static cnv_status seal(cnv__srv_conn *c, uint8_t type, uint64_t id, const void *payload, size_t len) {
  if (out_room(c) < CNV_SESSION_SEAL_BOUND(len)) return CNV_EFULL;
  size_t w = 0;
  cnv_status st = cnv_session_seal(c->sess, type, id, payload, len, c->loop->now_ns,
                                   c->out[c->cur] + c->olen[c->cur], out_room(c), &w);
  if (st == CNV_OK) c->olen[c->cur] += w;
  return st;
}

/* Answers a request that was not accepted: its status, no result. */
static void refuse(cnv__srv_conn *c, uint64_t id, cnv_status status) {
  cnv__srv_loop *L = c->loop;
  uint8_t buf[RESP_HEAD];
  size_t n = 0;
  cnv_session_response r = {.status = status, .done = CNV_SESSION_DONE_REFUSED}; /* never ran */
  /* RESP_HEAD holds a response without result */
  cnv__ignore_status(cnv_session_response_encode(&r, buf, sizeof buf, &n));
  /* process() feeds an event only with EVENT_ROOM free, so CNV_EFULL does not happen here; any
   * failure (the session's sticky error) ends the session rather than leave a call unanswered */
  cnv_status st = seal(c, CNV_MSG_RESPONSE, id, buf, n);
  if (st == CNV_OK) {
    cnv__srv_count(&L->n.responses, 1);
  } else {
    end_session(c);
  }
}

/* Seals a completed call's RESPONSE. 1: done with the call (sent, or the session can no longer
 * answer); 0: no room until the write in flight completes. */
static int respond(cnv__srv_conn *c, const cnv__srv_call *call) {
  cnv__srv_loop *L = c->loop;
  cnv_server *s = L->srv;
  cnv_session_response r = {.status = call->status,
                            .done = call->done,
                            .result_type = call->content_type,
                            .result = call->len ? call->result : NULL,
                            .result_len = call->len};
  size_t cap = RESP_HEAD + (size_t)s->max_result;
  if (cap > c->max_msg) cap = c->max_msg; /* the negotiated limit (<= max_frame: the scratch) */
  size_t n = 0;
  if (cnv_session_response_encode(&r, L->scratch, cap, &n) != CNV_OK) {
    /* the result does not fit a message: the client learns so, without the bytes */
    cnv_session_response e = {.status = CNV_ERANGE, .done = call->done, .result_type = call->content_type};
    cnv__ignore_status(cnv_session_response_encode(&e, L->scratch, cap, &n)); /* fits RESP_HEAD */
  }
  if (out_room(c) < CNV_SESSION_SEAL_BOUND(n)) flush(c);
  cnv_status st = seal(c, CNV_MSG_RESPONSE, call->id, L->scratch, n);
  if (st == CNV_EFULL) return 0;
  if (st == CNV_OK) {
    cnv__srv_count(&L->n.responses, 1);
  } else {
    end_session(c);
  }
  return 1;
}

/* ---- the calls in flight by request id ---- */

/* A request id's home slot. The client picks its ids: colliding ones only lengthen its own
 * session's probes, never beyond the table (at most max_calls entries in twice the slots). */
static uint32_t id_home(const cnv__srv_conn *c, uint64_t id) {
  /* the 64-bit finalizer of MurmurHash3: every input bit moves every output bit */
  id ^= id >> 33;
  id *= 0xff51afd7ed558ccdull;
  id ^= id >> 33;
  id *= 0xc4ceb9fe1a85ec53ull;
  id ^= id >> 33;
  return (uint32_t)id & c->id_mask;
}

static void by_id_add(cnv__srv_conn *c, const cnv__srv_call *call) {
  uint32_t i = id_home(c, call->id);
  while (c->by_id[i] != 0) i = (i + 1) & c->id_mask;
  c->by_id[i] = (uint32_t)(call - c->calls) + 1;
}

/* The call in flight with request id `id` (the first found, if the client reused an id). */
static cnv__srv_call *by_id_find(const cnv__srv_conn *c, uint64_t id) {
  for (uint32_t i = id_home(c, id); c->by_id[i] != 0; i = (i + 1) & c->id_mask) {
    cnv__srv_call *call = &c->calls[c->by_id[i] - 1];
    if (call->id == id) return call;
  }
  return NULL;
}

static void by_id_remove(cnv__srv_conn *c, const cnv__srv_call *call) {
  uint32_t mask = c->id_mask, want = (uint32_t)(call - c->calls) + 1;
  uint32_t i = id_home(c, call->id);
  while (c->by_id[i] != want) i = (i + 1) & mask; /* it is there: added at submit */
  c->by_id[i] = 0;
  /* backward-shift deletion: each later entry of the run that the hole cuts from its home
   * moves into the hole, so every probe still finds its call before an empty slot */
  for (uint32_t j = (i + 1) & mask; c->by_id[j] != 0; j = (j + 1) & mask) {
    uint32_t home = id_home(c, c->calls[c->by_id[j] - 1].id);
    int stays = i < j ? (home > i && home <= j) : (home > i || home <= j); /* home in (i, j] */
    if (stays) continue;
    c->by_id[i] = c->by_id[j];
    c->by_id[j] = 0;
    i = j;
  }
}

static void call_free(cnv__srv_conn *c, cnv__srv_call *call) {
  call->live = 0;
  call->next = c->free_calls;
  c->free_calls = call;
}

static void update_reading(cnv__srv_conn *c);

static void maybe_finish(cnv__srv_conn *c) {
  if (c->closing) return;
  int flushed = !c->wbusy && c->olen[c->cur] == 0 && !c->pending_head && !c->shutdown_due;
  if (!flushed) return;
  /* draining (a graceful stop, or the peer going away) ends once the peer has said it sends
   * nothing more (its SHUTDOWN, or the end of its stream) and every call it sent is answered:
   * calls it sent before it read our SHUTDOWN are answered too */
  if (c->end_on_flush || (c->drain && c->eof && c->inflight == 0)) cnv__srv_conn_close(c);
}

/* ---- events ---- */

static void on_auth(cnv__srv_conn *c, const cnv_session_event *ev) {
  cnv__srv_loop *L = c->loop;
  cnv_server *s = L->srv;
  uint32_t agent = 0;
  cnv_status st = cnv_runtime_agent_add_verified(s->rt, ev->peer_key, ev->data, ev->len, &agent);
  /* the only CNV_EINVAL left: a token longer than a delegation token can be (the session takes
   * up to CNV_SESSION_MAX_TOKEN bytes), so a malformed one: the runtime's code for that */
  if (st == CNV_EINVAL) st = CNV_ERT_DENY_UNTRUSTED;
  if (st == CNV_OK) {
    cnv_negotiated neg;
    uint32_t calls = s->cfg.max_inflight;
    c->max_msg = s->cfg.max_frame;
    if (cnv_session_negotiated(c->sess, &neg) == CNV_OK) {
      if (neg.max_concurrent_calls < calls) calls = neg.max_concurrent_calls;
      if (neg.max_message_size < c->max_msg) c->max_msg = neg.max_message_size;
    }
    size_t per = s->max_result ? s->max_result : 1;
    uint32_t slots = 2;
    while (slots < 2 * calls) slots *= 2;
    c->calls = calloc(calls, sizeof *c->calls);
    c->tickets = calloc(calls, sizeof *c->tickets);
    c->results = malloc(calls * per);
    c->by_id = calloc(slots, sizeof *c->by_id);
    if (!c->calls || !c->tickets || !c->results || !c->by_id) {
      /* nothing was submitted for the agent yet */
      cnv__ignore_status(cnv_runtime_agent_remove(s->rt, agent));
      st = CNV_ENOMEM;
    } else {
      c->max_calls = calls;
      c->id_mask = slots - 1;
      for (uint32_t i = calls; i-- > 0;) {
        c->calls[i].result = c->results + (size_t)i * per;
        c->calls[i].conn = c;
        c->calls[i].loop = L;
        call_free(c, &c->calls[i]);
      }
      c->agent = agent;
      c->has_agent = 1;
      st = cnv_session_accept(c->sess);
    }
  }
  if (st != CNV_OK) {
    int cause = st == CNV_ERT_AGENTS_FULL        ? CNV_SERVER_HS_AGENTS
                : cnv_runtime_denial_of(st) >= 0 ? CNV_SERVER_HS_TOKEN
                                                 : CNV_SERVER_HS_PROTOCOL;
    cnv__srv_count(&L->n.handshake_failed[cause], 1);
    fail(c, st);
    return;
  }
  c->state = CNV__SRV_READY;
  cnv__srv_count(&L->n.handshakes, 1);
  cnv__srv_count(&L->n.sessions_ready, 1);
  c->last_rx_ns = cnv_runtime_now_ns();
  uv_timer_start(&c->timer, on_timer, s->cfg.idle_timeout_ms, 0);
}

static void on_invocation(cnv__srv_conn *c, const cnv_session_event *ev) {
  cnv__srv_loop *L = c->loop;
  cnv_server *s = L->srv;
  cnv__srv_count(&L->n.invocations, 1);
  cnv_session_invoke inv;
  cnv_status st = cnv_session_invoke_decode(ev->data, ev->len, &inv);
  cnv_trace trace;
  memset(&trace, 0, sizeof trace);
  if (st == CNV_OK && inv.traceparent) st = cnv_trace_parse(inv.traceparent, CNV_SESSION_TRACEPARENT_LEN, &trace);
  if (st == CNV_OK && L->stop_seen) st = CNV_ESTATE; /* going away: no new work */
  cnv__srv_call *call = c->free_calls;
  if (st == CNV_OK && !call) st = CNV_EFULL; /* the session's credit should prevent it */
  if (st == CNV_OK) {
    c->free_calls = call->next;
    call->id = ev->id;
    call->live = 1;
    cnv_runtime_submit_opts o = {.correlation = ev->id,
                                 .trace = inv.traceparent ? &trace : NULL,
                                 .timeout_ns = (uint64_t)inv.deadline_ms * MS,
                                 .on_done = cnv__srv_completion,
                                 .done_ctx = call,
                                 .now_ns = L->now_ns,
                                 /* woken once for everything this read submits (process) */
                                 .defer_wake = 1};
    uint64_t ticket = 0;
    st = cnv_runtime_submit_ex(s->rt, c->agent, inv.line, inv.line_len, &o, &ticket);
    if (st == CNV_OK) {
      /* the completion may already be on the done stack: it is taken by this thread, later */
      c->tickets[call - c->calls] = ticket;
      by_id_add(c, call);
      c->inflight++;
      c->submitted = 1;
      cnv__srv_count(&L->n.accepted_calls, 1);
      return;
    }
    call_free(c, call);
  }
  cnv__srv_count(st == CNV_EFULL ? &L->n.busy : &L->n.denied, 1);
  refuse(c, ev->id, st);
}

static void on_cancel(cnv__srv_conn *c, uint64_t id) {
  cnv__srv_loop *L = c->loop;
  cnv__srv_count(&L->n.cancels, 1);
  cnv__srv_call *call = by_id_find(c, id);
  /* CNV_ENOTFOUND: it completed meanwhile (its completion not yet taken back by this loop);
   * its RESPONSE is on its way. Not found at all: answered already, or never sent */
  if (call) cnv__ignore_status(cnv_runtime_cancel(L->srv->rt, c->tickets[call - c->calls]));
}

static void on_event(cnv__srv_conn *c, const cnv_session_event *ev) {
  if (ev->kind == CNV_SESSION_EV_AUTH) {
    on_auth(c, ev);
    return;
  }
  if (ev->kind != CNV_SESSION_EV_MESSAGE || c->state != CNV__SRV_READY) return;
  switch (ev->type) {
    case CNV_MSG_INVOCATION:
      on_invocation(c, ev);
      break;
    case CNV_MSG_CANCEL:
      on_cancel(c, ev->id);
      break;
    case CNV_MSG_SHUTDOWN:
      /* the client goes away: answer what is in flight, then close */
      c->eof = 1;
      c->drain = 1;
      break;
    default:
      break; /* nothing else is asked of a server */
  }
}

static void session_error(cnv__srv_conn *c, cnv_status st) {
  cnv__srv_loop *L = c->loop;
  if (st == CNV_ESESSION_CLOSED) {
    /* both sides said SHUTDOWN: an orderly end */
  } else if (c->state == CNV__SRV_READY) {
    cnv__srv_count(&L->n.protocol_errors, 1);
  } else {
    cnv__srv_count(&L->n.handshake_failed[CNV_SERVER_HS_PROTOCOL], 1);
  }
  end_session(c);
}

/* Frames the session opened so far. */
static uint64_t frames_opened(const cnv__srv_conn *c) {
  cnv_session_stats st;
  /* fails only for NULL arguments */
  return cnv_session_stats_get(c->sess, &st) == CNV_OK ? st.opened : 0;
}

/* Feeds what was read, event by event, while the output has room for what an event writes. */
static void process(cnv__srv_conn *c) {
  /* the idle clock moves only when a whole frame was opened: a frame dripped a byte at a time
   * (a slowloris) does not keep the session alive */
  uint64_t opened = frames_opened(c);
  while (!c->closing && !c->end_on_flush && !c->eof && c->roff < c->rlen) {
    if (out_room(c) < EVENT_ROOM) {
      flush(c);
      if (out_room(c) < EVENT_ROOM) break; /* resumed when the write in flight completes */
    }
    size_t used = 0;
    cnv_session_event ev;
    cnv_status st = cnv_session_feed(c->sess, c->rbuf + c->roff, c->rlen - c->roff, c->loop->now_ns, &used, &ev);
    c->roff += used;
    if (st == CNV_OK) {
      on_event(c, &ev);
    } else if (st == CNV_EAGAIN) {
      c->roff = c->rlen;
    } else {
      session_error(c, st);
    }
    pull(c);
  }
  if (c->submitted) {
    /* one wake-up check for the row of INVOCATIONs this read brought, not one per submit */
    c->submitted = 0;
    cnv_runtime_wake(c->loop->srv->rt);
  }
  if (frames_opened(c) != opened) c->last_rx_ns = cnv_runtime_now_ns();
  if (c->roff == c->rlen || c->eof) c->roff = c->rlen = 0; /* after the peer's SHUTDOWN: ignored */
  flush(c);
  update_reading(c);
  maybe_finish(c);
}

/* ---- reading and writing ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  cnv__srv_conn *c = h->data;
  *b = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(RBUF_BYTES - c->rlen));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  (void)b;
  cnv__srv_conn *c = st->data;
  if (n == 0 || c->closing) return;
  if (n < 0) {
    if (c->state != CNV__SRV_READY) {
      cnv__srv_count(&c->loop->n.handshake_failed[CNV_SERVER_HS_CLOSED], 1);
      cnv__srv_conn_close(c);
      return;
    }
    /* the peer closed its side: answer what is in flight (it may still read), then close */
    c->eof = 1;
    c->drain = 1;
    update_reading(c);
    maybe_finish(c);
    return;
  }
  cnv__srv_count(&c->loop->n.bytes_in, (uint64_t)n);
  c->rlen += (size_t)n;
  /* the calls this read submits may complete before the loop blocks again: taken then */
  cnv__srv_loop_awake(c->loop);
  cnv__srv_loop_tick(c->loop);
  process(c);
}

/* Reads while nothing waits: no unread bytes, no completed call waiting for room, the
 * output under its bound. */
static void update_reading(cnv__srv_conn *c) {
  size_t bound = c->loop->srv->cfg.write_bound / 2;
  int want = !c->closing && !c->end_on_flush && !c->eof && c->rlen == 0 && !c->pending_head &&
             !(c->wbusy && c->olen[c->cur] >= bound);
  if (want && !c->reading) {
    if (uv_read_start(&c->h.stream, on_alloc, on_read) != 0) {
      cnv__srv_conn_close(c);
      return;
    }
    c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
  }
}

/* Seals the completed calls that waited for room, oldest first. */
static void send_pending(cnv__srv_conn *c) {
  while (c->pending_head && !c->closing) {
    cnv__srv_call *call = c->pending_head;
    if (!respond(c, call)) return;
    c->pending_head = call->next;
    if (!c->pending_head) c->pending_tail = NULL;
    call_free(c, call);
  }
}

static void try_free(cnv__srv_conn *c);
static void send_shutdown(cnv__srv_conn *c);

static void on_written(uv_write_t *req, int status) {
  cnv__srv_conn *c = req->data;
  cnv__srv_loop_tick(c->loop);
  c->wbusy = 0;
  cnv__srv_count(&c->loop->n.bytes_out, c->olen[c->cur ^ 1]);
  c->olen[c->cur ^ 1] = 0;
  if (status < 0 || c->closing) {
    cnv__srv_conn_close(c);
    try_free(c);
    return;
  }
  send_pending(c);
  send_shutdown(c);
  pull(c);
  process(c); /* the bytes left unread, then reading, flushing, finishing */
}

/* ---- completions (the hand-off from the runtime's workers) ---- */

void cnv__srv_completion(void *ctx, const cnv_runtime_completion *done) {
  cnv__srv_call *call = ctx;
  cnv__srv_loop *L = call->loop;
  /* relaxed: ordered before the push by the release CAS below; the loop reads it only after
   * taking this call (acquire), so it cannot see 0 while this callback still needs the loop */
  cnv__fetch_add_relaxed(&L->pushing, 1u);
  call->status = done->status;
  call->done = (uint8_t)done->kind;
  call->content_type = (uint8_t)done->content_type;
  call->len = (uint32_t)done->result_len; /* <= the runtime's max_result: the area's size */
  if (done->result_len) memcpy(call->result, done->result, done->result_len);
  cnv__srv_call *head = cnv__load_relaxed(&L->done);
  do {
    call->next = head;
    /* release: the outcome and result bytes above are visible to the loop's acquire exchange */
  } while (!cnv__cas_weak(&L->done, &head, call, memory_order_release, memory_order_relaxed));
  /* only the push onto an empty stack wakes the loop: a later one finds it pending, and the
   * loop takes the whole stack after the wake-up. Nor does a push while the loop is awake: it
   * takes the stack before it blocks (on_prepare). seq_cst fence: orders the push before the
   * look at awake, against on_prepare's clear of awake before its look at the stack (either
   * this sees the clear, or that look sees the push). A write to the loop's eventfd, not
   * uv_async_send: that one marks the handle pending around its write, and a loop woken by the
   * write spins until the mark is cleared, which on a busy core waits for this thread to run
   * again. EAGAIN only when the count is full, which a wake-up does not need */
  if (!head) {
    cnv__fence_seq_cst();
    if (!cnv__load_relaxed(&L->awake)) { /* relaxed: ordered by the fence */
      uint64_t one = 1;
      cnv__ignore_status(write(L->done_fd, &one, sizeof one) == (ssize_t)sizeof one ? CNV_OK : CNV_EAGAIN);
    }
  }
  /* release: the loop that reads 0 (acquire) knows this callback is done with it */
  cnv__fetch_sub_acq_rel(&L->pushing, 1u);
}

void cnv__srv_conn_complete(cnv__srv_loop *L, cnv__srv_call *call) {
  cnv__srv_conn *c = call->conn;
  c->inflight--;
  by_id_remove(c, call); /* back from the runtime: nothing left to cancel */
  if (c->closing) {
    call_free(c, call);
    try_free(c);
    return;
  }
  if (c->pending_head || !respond(c, call)) {
    call->next = NULL;
    if (c->pending_tail) {
      c->pending_tail->next = call;
    } else {
      c->pending_head = call;
    }
    c->pending_tail = call;
    update_reading(c);
    return;
  }
  call_free(c, call);
  /* written once at the end of the drain (cnv__srv_conns_flush), with every other answer the
   * drain seals for this connection */
  if (!c->flush_queued) {
    c->flush_queued = 1;
    c->flush_next = L->flush_list;
    L->flush_list = c;
  }
}

void cnv__srv_conns_flush(cnv__srv_loop *L) {
  /* a connection on the list is not freed before this runs: it was not closing when queued,
   * and a close since then frees it only from a close callback, in a later loop phase */
  while (L->flush_list) {
    cnv__srv_conn *c = L->flush_list;
    L->flush_list = c->flush_next;
    c->flush_queued = 0;
    flush(c);
    maybe_finish(c);
  }
}

/* ---- life cycle ---- */

static void on_timer(uv_timer_t *t) {
  cnv__srv_conn *c = t->data;
  cnv_server *s = c->loop->srv;
  if (c->closing) return;
  cnv__srv_loop_tick(c->loop);
  if (c->end_on_flush) {
    /* the ERROR was not written within the linger: the peer does not read */
    cnv__srv_conn_close(c);
    return;
  }
  if (c->state != CNV__SRV_READY) {
    cnv__srv_count(&c->loop->n.handshake_failed[CNV_SERVER_HS_TIMEOUT], 1);
    fail(c, CNV_ESERVER_TIMEOUT);
  } else {
    uint64_t now = cnv_runtime_now_ns(), idle = (uint64_t)s->cfg.idle_timeout_ms * MS;
    uint64_t wto = (uint64_t)s->cfg.write_timeout_ms * MS, wleft = UINT64_MAX;
    if (c->wbusy) {
      /* the write in flight moved if the peer took some of it since the last look */
      size_t q = uv_stream_get_write_queue_size(&c->h.stream);
      if (q != c->wq_seen) {
        c->wq_seen = q;
        c->out_moved_ns = now;
      }
      uint64_t stuck = now - c->out_moved_ns;
      if (stuck >= wto) {
        /* the peer does not read: an ERROR could not reach it; closing cancels its calls and
         * frees what it held (whatever was in flight or waiting for room) */
        cnv__srv_count(&c->loop->n.idle_closed, 1);
        cnv__srv_conn_close(c);
        return;
      }
      wleft = wto - stuck;
    }
    uint64_t quiet = now - c->last_rx_ns;
    if (c->inflight == 0 && !c->pending_head && quiet >= idle) {
      cnv__srv_count(&c->loop->n.idle_closed, 1);
      fail(c, CNV_ESERVER_TIMEOUT);
    } else {
      uint64_t left = c->inflight || c->pending_head || quiet >= idle ? idle : idle - quiet;
      if (wleft < left) left = wleft;
      uv_timer_start(&c->timer, on_timer, left / MS + 1, 0);
      return;
    }
  }
  flush(c);
  update_reading(c);
  maybe_finish(c);
}

static void conn_free(cnv__srv_conn *c) {
  cnv__srv_loop *L = c->loop;
  cnv_server *s = L->srv;
  if (c->prev) {
    c->prev->next = c->next;
  } else {
    L->conns = c->next;
  }
  if (c->next) c->next->prev = c->prev;
  L->n_conns--;
  if (c->has_agent) {
    /* nothing is in flight and this loop makes the only submits for the agent */
    cnv__ignore_status(cnv_runtime_agent_remove(s->rt, c->agent));
  }
  if (c->state == CNV__SRV_READY) cnv__srv_count(&L->n.sessions_ready, (uint64_t)-1);
  cnv_session_destroy(c->sess);
  free(c->calls);
  free(c->tickets);
  free(c->results);
  free(c->by_id);
  free(c->rbuf);
  free(c->out[0]);
  free(c->out[1]);
  cnv__srv_peer_release(s, c->peer);
  /* relaxed: a count */
  atomic_fetch_sub_explicit(&s->sessions_open, 1, memory_order_relaxed);
  free(c);
  cnv__srv_loop_maybe_end(L);
}

static void try_free(cnv__srv_conn *c) {
  if (c->open_handles == 0 && c->inflight == 0) conn_free(c);
}

static void on_handle_closed(uv_handle_t *h) {
  cnv__srv_conn *c = h->data;
  c->open_handles--;
  try_free(c);
}

void cnv__srv_conn_close(cnv__srv_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  if (c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
  }
  for (uint32_t i = 0; i < c->max_calls; i++) {
    /* CNV_ENOTFOUND: completed, its completion on the way; either way it comes back */
    if (c->calls[i].live) cnv__ignore_status(cnv_runtime_cancel(c->loop->srv->rt, c->tickets[i]));
  }
  c->pending_head = c->pending_tail = NULL; /* their calls are not reused: the area is freed */
  uv_close(&c->h.handle, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* Seals the SHUTDOWN a graceful stop owes, once the output has room for it. */
static void send_shutdown(cnv__srv_conn *c) {
  if (!c->shutdown_due || c->closing || c->end_on_flush) return;
  cnv_status st = seal(c, CNV_MSG_SHUTDOWN, 0, NULL, 0);
  if (st == CNV_EFULL) return; /* after the write in flight */
  c->shutdown_due = 0;
  if (st != CNV_OK) end_session(c);
}

void cnv__srv_conn_stop(cnv__srv_conn *c) {
  if (c->closing) return;
  if (c->state != CNV__SRV_READY || c->end_on_flush) {
    cnv__srv_conn_close(c);
    return;
  }
  /* going away: a sealed SHUTDOWN; the work in flight is answered, then the session closes */
  c->shutdown_due = 1;
  c->drain = 1;
  flush(c);
  send_shutdown(c);
  flush(c);
  maybe_finish(c);
}

void cnv__srv_conn_open(cnv__srv_loop *L, const cnv__srv_accepted *a) {
  cnv_server *s = L->srv;
  cnv_session_config sc;
  cnv_session_config_default(&sc, CNV_SESSION_SERVER);
  sc.secret_key = s->sk;
  sc.caps.max_message_size = s->cfg.max_frame;
  sc.caps.max_concurrent_calls = s->cfg.max_inflight;
  if (s->cfg.rekey_frames) sc.rekey_frames = s->cfg.rekey_frames;
  if (s->cfg.rekey_ns) sc.rekey_ns = s->cfg.rekey_ns;
  cnv__srv_conn *c = calloc(1, sizeof *c);
  if (c) {
    c->rbuf = malloc(RBUF_BYTES);
    c->out[0] = malloc(out_cap(s));
    c->out[1] = malloc(out_cap(s));
  }
  if (!c || !c->rbuf || !c->out[0] || !c->out[1] ||
      cnv_session_create(&sc, cnv_runtime_now_ns(), &c->sess) != CNV_OK) {
    close(a->fd);
    cnv__srv_peer_release(s, a->peer);
    /* relaxed: a count */
    atomic_fetch_sub_explicit(&s->sessions_open, 1, memory_order_relaxed);
    if (c) {
      free(c->rbuf);
      free(c->out[0]);
      free(c->out[1]);
      free(c);
    }
    return;
  }
  c->loop = L;
  memcpy(c->peer, a->peer, sizeof c->peer);
  int opened;
  if (a->is_unix) {
    opened = uv_pipe_init(&L->uv, &c->h.pipe, 0) == 0 && uv_pipe_open(&c->h.pipe, a->fd) == 0;
  } else {
    opened = uv_tcp_init(&L->uv, &c->h.tcp) == 0 && uv_tcp_open(&c->h.tcp, a->fd) == 0;
  }
  c->h.handle.data = c;
  uv_timer_init(&L->uv, &c->timer);
  c->timer.data = c;
  c->open_handles = 2;
  c->next = L->conns;
  if (L->conns) L->conns->prev = c;
  L->conns = c;
  L->n_conns++;
  if (!opened) close(a->fd); /* the handle does not own it */
  if (!opened || L->stop_seen) {
    cnv__srv_conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_timer, s->cfg.handshake_timeout_ms, 0);
  update_reading(c);
}
