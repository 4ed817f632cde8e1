/* The client: one blocking-socket connection driving a client-role cnv_session.
 *
 * Buffers (all sized at connect): rbuf receives whatever recv gives and is fed to the session
 * at once (the session gathers split frames itself); sbuf queues sealed bytes in order
 * (session control bytes pulled before every seal, so they go out first) between shead and
 * stail, and leaves at the next flush, poll or call (pump flushes before it reads or waits),
 * when the buffer is full (room_for), or at a cancel, so calls submitted together go out in
 * one send;
 * scratch holds one encoded INVOCATION payload before it is sealed. Calls in flight
 * sit in slots, one per unit of credit: a call's id is (sequence << CLIENT_SLOT_BITS) | slot,
 * so an answer finds its slot in one step and a stale or forged id matches nothing. */
#include <cnv/client.h>
#include <cnv/protocol.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_addr.h"
#include "core/ignore.h"

#define CLIENT_SLOT_BITS 16u
#define CLIENT_MAX_SLOTS (1u << CLIENT_SLOT_BITS)
#define CLIENT_RBUF 65536u
#define CLIENT_READS_PER_POLL 64u /* recv calls one poll makes before it returns to the caller */

typedef struct client_slot {
  uint64_t id;
  cnv_client_done_fn fn; /* NULL: the answer is dropped (a synchronous call that timed out) */
  void *ctx;
  bool used;
} client_slot;

struct cnv_client {
  int fd;
  cnv_session *s;
  cnv_status err;  /* sticky: the connection ended */
  cnv_status peer; /* the code of the server's ERROR frame */
  bool ready;
  bool going_away; /* SHUTDOWN received: no new calls, answers still come */
  bool wdead;      /* a send failed (the peer is gone): nothing more is sent, what it sent
                      before is still read, to its end */
  bool in_poll;    /* callbacks are running: poll, call and close are refused */
  cnv_negotiated neg;
  uint32_t credit; /* negotiated, at most n_slots */
  uint32_t n_slots, in_flight, n_free;
  client_slot *slots;
  uint32_t *free_list;
  uint64_t seq;
  uint8_t *rbuf;
  uint8_t *sbuf;
  size_t scap, shead, stail;
  uint8_t *scratch;
  size_t scratch_cap;
};

void cnv_client_config_default(cnv_client_config *cfg) {
  if (cfg) memset(cfg, 0, sizeof *cfg);
}

/* ---- sending ------------------------------------------------------------------------- */

/* Sends what the socket takes now. A failed send marks the write side dead and drops what is
 * queued (the peer is gone), but is no error yet: answers the peer sent before it went may
 * still wait to be read, and the connection ends when reading reaches the end. */
static void flush_some(cnv_client *c) {
  while (c->shead < c->stail && !c->wdead) {
    ssize_t n = send(c->fd, c->sbuf + c->shead, c->stail - c->shead, MSG_NOSIGNAL);
    if (n > 0) {
      c->shead += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      c->wdead = true;
    }
  }
  if (c->shead == c->stail || c->wdead) c->shead = c->stail = 0;
}

/* Waits for the socket: events, until deadline_ns (0: no limit). CNV_OK when ready or
 * interrupted, CNV_ECLIENT_TIMEOUT when the time passed. */
static cnv_status wait_fd(const cnv_client *c, short events, uint64_t deadline_ns) {
  int ms = -1;
  if (deadline_ns != 0) {
    ms = client_ms_left(deadline_ns);
    if (ms == 0) return CNV_ECLIENT_TIMEOUT;
  }
  struct pollfd p = {.fd = c->fd, .events = events};
  int n = poll(&p, 1, ms);
  if (n == 0) return CNV_ECLIENT_TIMEOUT;
  return CNV_OK; /* n < 0 is EINTR (or a bad fd, which the next send or recv reports) */
}

/* Makes room for `need` bytes at sbuf's end: sends nothing while there is room (queued calls
 * wait for the next poll, to leave together), else sends (and waits for the socket, until
 * deadline_ns; 0: no limit) as long as it takes. */
static cnv_status room_for(cnv_client *c, size_t need, uint64_t deadline_ns) {
  for (;;) {
    if (c->scap - c->stail >= need) return CNV_OK;
    flush_some(c);
    if (c->shead > 0) { /* slide the unsent bytes to the front */
      memmove(c->sbuf, c->sbuf + c->shead, c->stail - c->shead);
      c->stail -= c->shead;
      c->shead = 0;
    }
    if (c->scap - c->stail >= need) return CNV_OK;
    cnv_status st = wait_fd(c, POLLOUT, deadline_ns);
    if (st != CNV_OK) return st;
  }
}

/* Moves the session's own pending bytes (handshake, REKEY answers, ERROR) into sbuf. */
static cnv_status pull_all(cnv_client *c, uint64_t deadline_ns) {
  for (;;) {
    size_t w = 0;
    cnv_status st = cnv_session_pull(c->s, c->sbuf + c->stail, c->scap - c->stail, &w);
    if (st == CNV_ERANGE) {
      st = room_for(c, CNV_SESSION_PULL_MAX, deadline_ns);
      if (st != CNV_OK) return st;
      continue;
    }
    if (st != CNV_OK) return st;
    if (w == 0) return CNV_OK;
    c->stail += w;
  }
}

/* ---- ending -------------------------------------------------------------------------- */

static void complete_slot(cnv_client *c, uint32_t idx, const cnv_client_result *r, unsigned *completed) {
  client_slot *sl = &c->slots[idx];
  cnv_client_done_fn fn = sl->fn;
  void *ctx = sl->ctx;
  sl->used = false;
  sl->fn = NULL;
  c->free_list[c->n_free++] = idx;
  c->in_flight--;
  if (fn) {
    fn(ctx, r);
    if (completed) (*completed)++;
  }
}

/* Ends the connection with st (the first reason wins): tells the server why where the
 * session can still say it, shuts the socket down (it stays open, for the caller's event
 * loop, until cnv_client_close) and completes every unanswered call with
 * CNV_ECLIENT_DISCONNECTED. Returns the sticky error. */
static cnv_status end_conn(cnv_client *c, cnv_status st, bool ours, unsigned *completed) {
  if (c->err != CNV_OK) return c->err;
  if (st == CNV_ESESSION_PEER_ERROR) c->peer = cnv_session_peer_status(c->s);
  if (c->going_away && (st == CNV_ECLIENT_DISCONNECTED || st == CNV_ESESSION_CLOSED)) st = CNV_ESESSION_GOING_AWAY;
  c->err = st;
  /* A fault we found ourselves: queue an ERROR frame telling the server. It fails only when
   * the session already has an error of its own, which then is what pull sends. */
  if (ours) cnv__ignore_status(cnv_session_fail(c->s, st));
  /* Best effort, without waiting: the connection is over whether or not these bytes leave. */
  size_t w = 0;
  if (c->scap - c->stail >= CNV_SESSION_PULL_MAX &&
      cnv_session_pull(c->s, c->sbuf + c->stail, c->scap - c->stail, &w) == CNV_OK) {
    c->stail += w;
  }
  flush_some(c);
  (void)shutdown(c->fd, SHUT_RDWR); /* the peer may have closed it already */
  cnv_client_result r = {.status = CNV_ECLIENT_DISCONNECTED, .done = CNV_CLIENT_DONE_NONE};
  for (uint32_t i = 0; i < c->n_slots && c->in_flight > 0; i++) {
    if (!c->slots[i].used) continue;
    r.id = c->slots[i].id;
    complete_slot(c, i, &r, completed);
  }
  return st;
}

/* ---- receiving ----------------------------------------------------------------------- */

/* The completion kind of an answer: the runtime's kind (0 ran .. 3 not run) for an accepted
 * call, CNV_CLIENT_DONE_NONE for one the server refused before accepting it (the wire's
 * CNV_SESSION_DONE_REFUSED; the decoder refused every other value). */
static int32_t done_kind(const cnv_session_response *r) {
  return r->done == CNV_SESSION_DONE_REFUSED ? CNV_CLIENT_DONE_NONE : (int32_t)r->done;
}

static cnv_status on_response(cnv_client *c, const cnv_session_event *ev, unsigned *completed) {
  cnv_session_response resp;
  if (cnv_session_response_decode(ev->data, ev->len, &resp) != CNV_OK) return CNV_ESESSION_MALFORMED;
  uint32_t idx = (uint32_t)(ev->id & (CLIENT_MAX_SLOTS - 1u));
  if (idx >= c->n_slots || !c->slots[idx].used || c->slots[idx].id != ev->id) return CNV_ESESSION_MALFORMED;
  cnv_client_result r = {.id = ev->id,
                         .status = resp.status,
                         .done = done_kind(&resp),
                         .result_type = resp.result_type,
                         .result = resp.result,
                         .result_len = resp.result_len};
  complete_slot(c, idx, &r, completed);
  return CNV_OK;
}

/* Answers the server's SHUTDOWN with ours: this side sends no more calls, so the session
 * closes once the calls in flight are answered. */
static cnv_status say_shutdown(cnv_client *c) {
  if (c->wdead) return CNV_OK;
  cnv_status st = pull_all(c, 0);
  if (st == CNV_OK) st = room_for(c, CNV_SESSION_SEAL_BOUND(0), 0);
  size_t w = 0;
  if (st == CNV_OK) {
    st = cnv_session_seal(c->s, CNV_MSG_SHUTDOWN, 0, NULL, 0, client_now_ns(), c->sbuf + c->stail,
                          c->scap - c->stail, &w);
  }
  if (st == CNV_OK) c->stail += w;
  return st;
}

/* One event from the session. A fault of the server's making returns an error with *ours
 * set (the client tells the server). */
static cnv_status on_event(cnv_client *c, const cnv_session_event *ev, unsigned *completed, bool *ours) {
  *ours = true;
  if (ev->kind == CNV_SESSION_EV_READY && !c->ready) {
    c->ready = true;
    return CNV_OK;
  }
  if (ev->kind != CNV_SESSION_EV_MESSAGE || !c->ready) return CNV_ESESSION_HANDSHAKE;
  switch (ev->type) {
    case CNV_MSG_RESPONSE:
      return on_response(c, ev, completed);
    case CNV_MSG_SHUTDOWN:
      c->going_away = true;
      return say_shutdown(c);
    case CNV_MSG_ERROR:
      *ours = false;
      return CNV_ESESSION_PEER_ERROR;
    default:
      return CNV_ESESSION_MALFORMED;
  }
}

/* Reads what the socket has (up to CLIENT_READS_PER_POLL recv calls, without waiting, and no
 * more once one comes back short) and feeds it to the session. Returns CNV_OK or the error that ends the connection. */
static cnv_status read_some(cnv_client *c, unsigned *completed, bool *ours) {
  *ours = false;
  for (unsigned k = 0; k < CLIENT_READS_PER_POLL; k++) {
    ssize_t n = recv(c->fd, c->rbuf, CLIENT_RBUF, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return CNV_OK;
    if (n <= 0) return CNV_ECLIENT_DISCONNECTED;
    uint64_t now = client_now_ns();
    size_t off = 0;
    while (off < (size_t)n) {
      size_t used = 0;
      cnv_session_event ev;
      cnv_status st = cnv_session_feed(c->s, c->rbuf + off, (size_t)n - off, now, &used, &ev);
      off += used;
      if (st == CNV_EAGAIN) break;
      if (st != CNV_OK) return st;
      st = on_event(c, &ev, completed, ours);
      if (st != CNV_OK) return st;
    }
    /* Whatever the session answered (a REKEY of its own) goes out before the next seal. */
    cnv_status st = pull_all(c, 0);
    if (st != CNV_OK) return st;
    /* A short read took all the socket had: another recv now would only say EAGAIN (what
     * arrives later makes the socket readable again, for our wait or the caller's loop). */
    if ((size_t)n < CLIENT_RBUF) return CNV_OK;
  }
  return CNV_OK;
}

/* Sends and receives until *stop (or, stop NULL, until a callback ran), or until the time
 * passes: wait_ms 0 does not wait, -1 waits without a limit, else until deadline_ns. */
static cnv_status pump(cnv_client *c, int wait_ms, uint64_t deadline_ns, const bool *stop, unsigned *completed) {
  for (;;) {
    bool ours = false;
    flush_some(c);
    cnv_status st = read_some(c, completed, &ours);
    /* Going away with every call answered: the server closes next; nothing is left to do.
     * Nor with the peer gone (a send failed) and no call waiting for an answer. */
    if (st == CNV_OK && c->going_away && c->in_flight == 0) st = CNV_ESESSION_GOING_AWAY;
    if (st == CNV_OK && c->wdead && c->in_flight == 0) st = CNV_ECLIENT_DISCONNECTED;
    if (st != CNV_OK) return end_conn(c, st, ours, completed);
    /* What the callbacks submitted (and the session answered) leaves before the caller
     * gets control back or the wait starts. */
    flush_some(c);
    if (stop ? *stop : *completed > 0) return CNV_OK;
    if (wait_ms == 0) return CNV_OK;
    short events = (short)(POLLIN | (c->stail > c->shead ? POLLOUT : 0));
    if (wait_fd(c, events, wait_ms < 0 ? 0 : deadline_ns) == CNV_ECLIENT_TIMEOUT) return CNV_OK;
  }
}

/* ---- connect and close --------------------------------------------------------------- */

static cnv_status check_config(const cnv_client_config *cfg) {
  if (!cfg || !cfg->address || !cfg->secret_key || !cfg->server_pk || !cfg->token) return CNV_EINVAL;
  if (cfg->token_len == 0 || cfg->token_len > CNV_SESSION_MAX_TOKEN) return CNV_ERANGE;
  if (cfg->max_in_flight > CLIENT_MAX_SLOTS) return CNV_ERANGE;
  if (cfg->max_message_size > CNV_FRAME_MAX_PAYLOAD - 2u * (CNV_FRAME_HEADER_SIZE + CNV_SESSION_TAG_BYTES)) {
    return CNV_ERANGE;
  }
  return CNV_OK;
}

static cnv_status alloc_client(const cnv_client_config *cfg, cnv_client **out) {
  uint32_t slots = cfg->max_in_flight ? cfg->max_in_flight : 64u;
  uint32_t msg = cfg->max_message_size ? cfg->max_message_size : 65536u;
  size_t least = CNV_SESSION_PULL_MAX + CNV_SESSION_SEAL_BOUND((size_t)msg);
  size_t scap = cfg->send_buffer ? cfg->send_buffer : 256u * 1024u;
  if (cfg->send_buffer != 0 && scap < least) return CNV_ERANGE;
  if (scap < least) scap = least;
  cnv_client *c = calloc(1, sizeof *c);
  if (!c) return CNV_ENOMEM;
  c->fd = -1;
  c->n_slots = slots;
  c->scap = scap;
  c->scratch_cap = msg;
  c->slots = calloc(slots, sizeof *c->slots);
  c->free_list = calloc(slots, sizeof *c->free_list);
  c->rbuf = malloc(CLIENT_RBUF);
  c->sbuf = malloc(scap);
  c->scratch = malloc(msg);
  if (!c->slots || !c->free_list || !c->rbuf || !c->sbuf || !c->scratch) {
    cnv_client_close(c);
    return CNV_ENOMEM;
  }
  for (uint32_t i = 0; i < slots; i++) c->free_list[i] = slots - 1u - i; /* slot 0 first */
  c->n_free = slots;
  *out = c;
  return CNV_OK;
}

/* Runs the handshake to READY by deadline_ns. */
static cnv_status handshake(cnv_client *c, uint64_t deadline_ns) {
  unsigned none = 0;
  while (!c->ready) {
    cnv_status st = pull_all(c, deadline_ns);
    if (st == CNV_OK) flush_some(c);
    bool ours = false;
    if (st == CNV_OK) st = read_some(c, &none, &ours);
    if (st != CNV_OK) return end_conn(c, st, ours, &none);
    if (c->going_away) return end_conn(c, CNV_ESESSION_GOING_AWAY, false, &none);
    if (c->ready) break;
    short events = (short)(POLLIN | (c->stail > c->shead ? POLLOUT : 0));
    if (wait_fd(c, events, deadline_ns) == CNV_ECLIENT_TIMEOUT) return end_conn(c, CNV_ECLIENT_TIMEOUT, false, &none);
  }
  return CNV_OK;
}

cnv_status cnv_client_connect(const cnv_client_config *cfg, cnv_client **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  cnv_status st = check_config(cfg);
  if (st != CNV_OK) return st;
  uint64_t now = client_now_ns();
  uint64_t deadline = now + (uint64_t)(cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 10000u) * 1000000u;
  cnv_client *c = NULL;
  st = alloc_client(cfg, &c);
  if (st != CNV_OK) return st;
  cnv_session_config sc;
  cnv_session_config_default(&sc, CNV_SESSION_CLIENT);
  sc.secret_key = cfg->secret_key;
  sc.server_pk = cfg->server_pk;
  sc.token = cfg->token;
  sc.token_len = cfg->token_len;
  sc.caps.max_concurrent_calls = c->n_slots;
  sc.caps.max_message_size = (uint32_t)c->scratch_cap;
  st = cnv_session_create(&sc, now, &c->s);
  if (st == CNV_OK) st = client_connect_addr(cfg->address, deadline, &c->fd);
  if (st == CNV_OK) st = handshake(c, deadline);
  if (st == CNV_OK) st = cnv_session_negotiated(c->s, &c->neg);
  if (st != CNV_OK) {
    if (st == CNV_ESESSION_PEER_ERROR && c->peer < 0) st = c->peer;
    cnv_client_close(c);
    return st;
  }
  c->credit = c->neg.max_concurrent_calls < c->n_slots ? c->neg.max_concurrent_calls : c->n_slots;
  *out = c;
  return CNV_OK;
}

void cnv_client_close(cnv_client *c) {
  if (!c) return;
  if (c->in_flight > 0) {
    cnv_client_result r = {.status = CNV_ECLIENT_DISCONNECTED, .done = CNV_CLIENT_DONE_NONE};
    for (uint32_t i = 0; i < c->n_slots && c->in_flight > 0; i++) {
      if (!c->slots[i].used) continue;
      r.id = c->slots[i].id;
      complete_slot(c, i, &r, NULL);
    }
  }
  if (c->fd >= 0) close(c->fd);
  cnv_session_destroy(c->s);
  free(c->slots);
  free(c->free_list);
  free(c->rbuf);
  free(c->sbuf);
  free(c->scratch);
  free(c);
}

/* ---- calls --------------------------------------------------------------------------- */

cnv_status cnv_client_submit(cnv_client *c, const char *line, size_t line_len, uint32_t deadline_ms,
                             cnv_client_done_fn done, void *ctx, uint64_t *id) {
  if (!c || !line || !done) return CNV_EINVAL;
  if (c->err != CNV_OK) return c->err;
  if (c->going_away) return CNV_ESESSION_GOING_AWAY;
  if (c->wdead) return CNV_ECLIENT_DISCONNECTED; /* not sticky yet: answers may still come */
  if (c->in_flight >= c->credit || c->n_free == 0) return CNV_EFULL;
  size_t plen = 0;
  cnv_session_invoke inv = {.deadline_ms = deadline_ms, .line = line, .line_len = line_len};
  cnv_status st = cnv_session_invoke_encode(&inv, c->scratch, c->scratch_cap, &plen);
  if (st != CNV_OK) return st;
  /* Control bytes first, then room for the sealed call (a REKEY may come with it). */
  st = pull_all(c, 0);
  if (st == CNV_OK) st = room_for(c, CNV_SESSION_SEAL_BOUND(plen), 0);
  if (st != CNV_OK) return end_conn(c, st, false, NULL);
  uint32_t idx = c->free_list[c->n_free - 1u];
  uint64_t cid = (++c->seq << CLIENT_SLOT_BITS) | idx;
  size_t w = 0;
  st = cnv_session_seal(c->s, CNV_MSG_INVOCATION, cid, c->scratch, plen, client_now_ns(), c->sbuf + c->stail,
                        c->scap - c->stail, &w);
  if (st == CNV_EFULL || st == CNV_ERANGE) return st; /* nothing was sealed */
  if (st != CNV_OK) return end_conn(c, st, false, NULL);
  c->stail += w;
  c->n_free--;
  c->slots[idx] = (client_slot){.id = cid, .fn = done, .ctx = ctx, .used = true};
  c->in_flight++;
  if (id) *id = cid;
  /* Queued, not sent: pipelined calls leave together, in one send, at the next poll or call
   * (or above, when the buffer is full). The call is in its slot: if that send fails, it
   * completes (DISCONNECTED) once reading reaches the end of the connection. */
  return CNV_OK;
}

cnv_status cnv_client_flush(cnv_client *c) {
  if (!c) return CNV_EINVAL;
  if (c->err != CNV_OK) return c->err;
  flush_some(c); /* a failed send ends the connection at the next poll, after the answers */
  return CNV_OK;
}

cnv_status cnv_client_cancel(cnv_client *c, uint64_t id) {
  if (!c) return CNV_EINVAL;
  if (c->err != CNV_OK) return c->err;
  uint32_t idx = (uint32_t)(id & (CLIENT_MAX_SLOTS - 1u));
  if (idx >= c->n_slots || !c->slots[idx].used || c->slots[idx].id != id) return CNV_ENOTFOUND;
  if (c->wdead) return CNV_ECLIENT_DISCONNECTED;
  cnv_status st = pull_all(c, 0);
  if (st == CNV_OK) st = room_for(c, CNV_SESSION_SEAL_BOUND(0), 0);
  size_t w = 0;
  if (st == CNV_OK) {
    st = cnv_session_seal(c->s, CNV_MSG_CANCEL, id, NULL, 0, client_now_ns(), c->sbuf + c->stail,
                          c->scap - c->stail, &w);
  }
  if (st != CNV_OK) return end_conn(c, st, false, NULL);
  c->stail += w;
  flush_some(c);
  return CNV_OK;
}

cnv_status cnv_client_poll(cnv_client *c, int timeout_ms, unsigned *completed) {
  unsigned none = 0;
  if (!completed) completed = &none;
  *completed = 0;
  if (!c) return CNV_EINVAL;
  if (timeout_ms < -1) return CNV_ERANGE;
  if (c->in_poll) return CNV_ESTATE;
  if (c->err != CNV_OK) return c->err;
  uint64_t deadline = timeout_ms > 0 ? client_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
  c->in_poll = true;
  cnv_status st = pump(c, timeout_ms, deadline, NULL, completed);
  c->in_poll = false;
  return st;
}

typedef struct sync_call {
  cnv_client_result *out;
  void *buf;
  size_t cap;
  bool done;
  bool too_big;
} sync_call;

static void sync_done(void *ctx, const cnv_client_result *r) {
  sync_call *sc = ctx;
  *sc->out = *r;
  sc->out->result = NULL;
  sc->done = true;
  if (r->result_len > sc->cap) {
    sc->too_big = true;
  } else if (r->result_len > 0) {
    memcpy(sc->buf, r->result, r->result_len);
    sc->out->result = sc->buf;
  }
}

cnv_status cnv_client_call(cnv_client *c, const char *line, size_t line_len, uint32_t deadline_ms,
                           uint32_t timeout_ms, cnv_client_result *out, void *result_buf, size_t cap) {
  if (!c || !line || !out || (!result_buf && cap > 0)) return CNV_EINVAL;
  if (c->in_poll) return CNV_ESTATE;
  sync_call sc = {.out = out, .buf = result_buf, .cap = cap};
  uint64_t id = 0;
  cnv_status st = cnv_client_submit(c, line, line_len, deadline_ms, sync_done, &sc, &id);
  if (st != CNV_OK) return st;
  uint64_t deadline = timeout_ms > 0 ? client_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
  unsigned n = 0;
  c->in_poll = true;
  while (!sc.done && c->err == CNV_OK) {
    st = pump(c, timeout_ms > 0 ? 1 : -1, deadline, &sc.done, &n);
    if (!sc.done && st == CNV_OK && timeout_ms > 0 && client_ms_left(deadline) == 0) break;
  }
  c->in_poll = false;
  if (!sc.done) { /* timed out: the server still answers; that answer is dropped */
    uint32_t idx = (uint32_t)(id & (CLIENT_MAX_SLOTS - 1u));
    c->slots[idx].fn = NULL;
    /* The cancel is a courtesy to the server: the call is abandoned here either way. */
    cnv__ignore_status(cnv_client_cancel(c, id));
    return CNV_ECLIENT_TIMEOUT;
  }
  if (out->status == CNV_ECLIENT_DISCONNECTED && c->err != CNV_OK) return c->err;
  return sc.too_big ? CNV_ERANGE : CNV_OK;
}

/* ---- queries ------------------------------------------------------------------------- */

int cnv_client_fd(const cnv_client *c) { return c ? c->fd : -1; }

bool cnv_client_wants_write(const cnv_client *c) { return c && !c->wdead && c->stail > c->shead; }

uint32_t cnv_client_credit(const cnv_client *c) {
  if (!c || c->err != CNV_OK || c->going_away || c->wdead) return 0;
  return c->credit - c->in_flight;
}

uint32_t cnv_client_in_flight(const cnv_client *c) { return c ? c->in_flight : 0; }

cnv_status cnv_client_error(const cnv_client *c) { return c ? c->err : CNV_EINVAL; }

cnv_status cnv_client_peer_status(const cnv_client *c) { return c ? c->peer : CNV_EINVAL; }

cnv_status cnv_client_negotiated(const cnv_client *c, cnv_negotiated *out) {
  if (!c || !out) return CNV_EINVAL;
  *out = c->neg;
  return CNV_OK;
}
