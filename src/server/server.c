/* The server object: configuration, listeners, the event-loop threads, accept and hand-off,
 * graceful stop, figures. Connections are in conn.c. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/ignore.h"
#include "srv_internal.h"

#define MS 1000000ull
#define ACCEPT_BATCH 64     /* descriptors one readable event accepts before others run */
#define ACCEPT_PAUSE_MS 100 /* out of descriptors without a spare: accepting pauses this long */

void cnv_server_config_default(cnv_server_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->io_threads = 1;
  cfg->max_sessions = 1024;
  cfg->max_sessions_per_peer = 64;
  cfg->handshake_timeout_ms = 5000;
  cfg->idle_timeout_ms = 300000;
  cfg->max_frame = 65536;
  cfg->max_inflight = 64;
  cfg->write_bound = 65536;
  cfg->stop_timeout_ns = 5000 * MS;
  cfg->backlog = 511;
}

static cnv_status config_resolve(const cnv_server_config *in, cnv_server_config *c) {
  cnv_server_config d;
  cnv_server_config_default(&d);
  *c = *in;
  if (!c->io_threads) c->io_threads = d.io_threads;
  if (!c->max_sessions) c->max_sessions = d.max_sessions;
  if (!c->max_sessions_per_peer) c->max_sessions_per_peer = d.max_sessions_per_peer;
  if (!c->handshake_timeout_ms) c->handshake_timeout_ms = d.handshake_timeout_ms;
  if (!c->idle_timeout_ms) c->idle_timeout_ms = d.idle_timeout_ms;
  if (!c->max_frame) c->max_frame = d.max_frame;
  if (!c->max_inflight) c->max_inflight = d.max_inflight;
  if (!c->write_bound) c->write_bound = d.write_bound;
  if (!c->stop_timeout_ns) c->stop_timeout_ns = d.stop_timeout_ns;
  if (!c->backlog) c->backlog = d.backlog;
  if (!c->write_timeout_ms) c->write_timeout_ms = c->idle_timeout_ms;
  if (c->io_threads > 64 || c->max_inflight > 4096 || c->max_frame > CNV_FRAME_MAX_PAYLOAD ||
      c->max_sessions > (1u << 20) || c->backlog > 65535) {
    return CNV_ERANGE;
  }
  return CNV_OK;
}

cnv_status cnv_server_create(const cnv_server_config *cfg, cnv_runtime *rt, cnv_server **out) {
  if (!cfg || !rt || !out || !cfg->secret_key) return CNV_EINVAL;
  *out = NULL;
  cnv_server *s = calloc(1, sizeof *s);
  if (!s) return CNV_ENOMEM;
  cnv_status st = config_resolve(cfg, &s->cfg);
  if (st != CNV_OK) {
    free(s);
    return st;
  }
  memcpy(s->sk, cfg->secret_key, sizeof s->sk);
  s->cfg.secret_key = s->sk;
  s->rt = rt;
  s->max_result = cnv_runtime_max_result(rt);
  uint32_t slots = 2;
  while (slots < 2 * s->cfg.max_sessions) slots *= 2;
  s->peer_mask = slots - 1;
  if (getrandom(&s->peer_seed, sizeof s->peer_seed, 0) != (ssize_t)sizeof s->peer_seed) {
    /* no entropy now: a seed that differs per process and server still spreads the keys */
    s->peer_seed = (uint64_t)(uintptr_t)s ^ ((uint64_t)time(NULL) << 32);
  }
  s->peers = calloc(slots, sizeof *s->peers);
  s->loops = aligned_alloc(CNV_CACHELINE, s->cfg.io_threads * sizeof *s->loops);
  if (!s->peers || !s->loops) {
    free(s->peers);
    free(s->loops);
    free(s);
    return CNV_ENOMEM;
  }
  memset(s->loops, 0, s->cfg.io_threads * sizeof *s->loops);
  pthread_mutex_init(&s->peer_lock, NULL);
  pthread_mutex_init(&s->run_lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* stop's deadline is on that clock */
  pthread_cond_init(&s->run_cv, &ca);
  pthread_condattr_destroy(&ca);
  *out = s;
  return CNV_OK;
}

cnv_status cnv_server_listen(cnv_server *s, const char *address) {
  if (!s || !address) return CNV_EINVAL;
  if (s->started) return CNV_ESTATE;
  if (s->n_listeners >= CNV_SERVER_MAX_LISTENERS) return CNV_EFULL;
  cnv__srv_listener *l = &s->listeners[s->n_listeners];
  cnv_status st = cnv__srv_bind(address, s->cfg.backlog, l);
  if (st != CNV_OK) return st;
  l->srv = s;
  s->n_listeners++;
  return CNV_OK;
}

size_t cnv_server_listener_count(const cnv_server *s) { return s ? s->n_listeners : 0; }

cnv_status cnv_server_address(const cnv_server *s, size_t index, char *out, size_t cap) {
  if (!s || !out) return CNV_EINVAL;
  if (index >= s->n_listeners) return CNV_ERANGE;
  size_t n = strlen(s->listeners[index].bound);
  if (n + 1 > cap) return CNV_ERANGE;
  memcpy(out, s->listeners[index].bound, n + 1);
  return CNV_OK;
}

/* ---- per-peer counts ---- */

/* The key's home slot: its bytes mixed with the server's secret seed (a peer cannot aim many
 * addresses at one probe chain without knowing it; at worst a lookup scans the table, as a
 * plain array would). */
static uint32_t peer_home(const cnv_server *s, const uint8_t key[17]) {
  uint64_t a, b;
  memcpy(&a, key + 1, 8);
  memcpy(&b, key + 9, 8);
  uint64_t h = s->peer_seed ^ key[0];
  for (int i = 0; i < 2; i++) {
    h ^= i ? b : a;
    /* the 64-bit finalizer of MurmurHash3: every input bit moves every output bit */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
  }
  return (uint32_t)h & s->peer_mask;
}

/* Takes one session of the peer's share; false when the peer is at its limit. The table has
 * room: at most max_sessions keys are in it (each holds a session), in twice as many slots. */
static bool peer_take(cnv_server *s, const uint8_t key[17]) {
  bool ok = false;
  pthread_mutex_lock(&s->peer_lock);
  for (uint32_t i = peer_home(s, key), n = 0; n <= s->peer_mask; i = (i + 1) & s->peer_mask, n++) {
    cnv__srv_peer *p = &s->peers[i];
    if (p->count == 0) {
      memcpy(p->key, key, 17);
      p->count = 1;
      ok = true;
      break;
    }
    if (memcmp(p->key, key, 17) == 0) {
      ok = p->count < s->cfg.max_sessions_per_peer;
      if (ok) p->count++;
      break;
    }
  }
  pthread_mutex_unlock(&s->peer_lock);
  return ok;
}

void cnv__srv_peer_release(cnv_server *s, const uint8_t key[17]) {
  uint32_t mask = s->peer_mask;
  pthread_mutex_lock(&s->peer_lock);
  uint32_t i = peer_home(s, key);
  /* the key is in the table (its session took it), so the probe ends on it */
  while (s->peers[i].count == 0 || memcmp(s->peers[i].key, key, 17) != 0) i = (i + 1) & mask;
  if (--s->peers[i].count == 0) {
    /* backward-shift deletion: each later key of the run that the hole cuts from its home
     * moves into the hole, so every probe still finds its key before an empty slot */
    for (uint32_t j = (i + 1) & mask; s->peers[j].count != 0; j = (j + 1) & mask) {
      uint32_t home = peer_home(s, s->peers[j].key);
      /* home cyclically in (i, j]: the key stays */
      bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      s->peers[i] = s->peers[j];
      s->peers[j].count = 0;
      i = j;
    }
  }
  pthread_mutex_unlock(&s->peer_lock);
}

/* ---- accepting (loop 0) ---- */

static void hand_off(cnv_server *s, int fd, int is_unix, const uint8_t peer[17]) {
  cnv__srv_loop *L = &s->loops[s->next_loop];
  s->next_loop = (s->next_loop + 1) % s->cfg.io_threads;
  cnv__srv_accepted *a = malloc(sizeof *a);
  if (!a) {
    close(fd);
    cnv__srv_peer_release(s, peer);
    /* relaxed: a count (see cnv_server_stats_get) */
    atomic_fetch_sub_explicit(&s->sessions_open, 1, memory_order_relaxed);
    return;
  }
  a->fd = fd;
  a->is_unix = is_unix;
  memcpy(a->peer, peer, sizeof a->peer);
  cnv__srv_accepted *head = cnv__load_relaxed(&L->inbox);
  do {
    a->next = head;
    /* release: the record's fields are visible to the loop that takes the stack (acquire) */
  } while (!cnv__cas_weak(&L->inbox, &head, a, memory_order_release, memory_order_relaxed));
  /* the loop is alive: it ends only after accepting_closed, which this thread sets later */
  cnv__ignore_status(uv_async_send(&L->async) == 0 ? CNV_OK : CNV_EINVAL);
}

static void on_listen_readable(uv_poll_t *p, int status, int events);

/* Polls every open listener again (after a pause, or at start). */
static void accept_resume(cnv_server *s) {
  for (uint32_t i = 0; i < s->n_listeners; i++) {
    cnv__srv_listener *l = &s->listeners[i];
    /* fails only for a closing handle or bad arguments, neither possible here */
    if (l->polling) uv_poll_start(&l->poll, UV_READABLE, on_listen_readable);
  }
}

static void on_accept_pause_end(uv_timer_t *t) {
  cnv_server *s = t->data;
  if (s->loops[0].stop_seen) return; /* the listeners are closed */
  if (s->spare_fd < 0) s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  accept_resume(s);
}

/* Out of descriptors with no spare to make room: the pending connection keeps the listener
 * readable (level-triggered), so polling it would spin the loop. Stops polling the listeners
 * for ACCEPT_PAUSE_MS; the timer then retries the spare and polls again (connections wait in
 * the backlog meanwhile). */
static void accept_pause(cnv_server *s) {
  for (uint32_t i = 0; i < s->n_listeners; i++) {
    cnv__srv_listener *l = &s->listeners[i];
    if (l->polling) uv_poll_stop(&l->poll);
  }
  uv_timer_start(&s->loops[0].accept_timer, on_accept_pause_end, ACCEPT_PAUSE_MS, 0);
}

static void on_listen_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  cnv__srv_listener *l = p->data;
  cnv_server *s = l->srv;
  cnv__srv_loop *L0 = &s->loops[0];
  if (status < 0) return;
  for (int i = 0; i < ACCEPT_BATCH; i++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
      if (s->spare_fd < 0) {
        accept_pause(s);
        return;
      }
      /* out of descriptors: the pending connection would keep the listener readable and this
       * loop spinning; the spare descriptor makes room to accept it and close it at once */
      close(s->spare_fd);
      fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd >= 0) {
        cnv__srv_count(&L0->n.refused_max, 1); /* counted before the peer can see the close */
        close(fd);
      }
      /* another thread may take the number just freed: then no spare, and the next EMFILE
       * pauses accepting instead */
      s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return; /* nothing was pending after all */
      continue;
    }
    if (fd < 0) return; /* EAGAIN, or a transient error (ECONNABORTED): next event */
    /* relaxed: the flag only decides whether to take more; stop closes the listeners itself */
    if (cnv__load_relaxed(&s->stopping)) {
      close(fd);
      continue;
    }
    cnv__srv_count(&L0->n.accepted, 1);
    /* relaxed: a count compared with a limit; only this thread increments it */
    if (cnv__load_relaxed(&s->sessions_open) >= s->cfg.max_sessions) {
      cnv__srv_count(&L0->n.refused_max, 1); /* counted before the peer can see the close */
      close(fd);
      continue;
    }
    uint8_t key[17];
    cnv__srv_peer_key(fd, l->is_unix, key);
    if (!peer_take(s, key)) {
      cnv__srv_count(&L0->n.refused_per_peer, 1);
      close(fd);
      continue;
    }
    if (!l->is_unix) {
      int one = 1;
      /* latency: responses are batched by the loop, not by Nagle; a failure only costs speed */
      cnv__ignore_status(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 ? CNV_OK : CNV_EINVAL);
    }
    /* relaxed: a count (read by the limit check above and the figures) */
    atomic_fetch_add_explicit(&s->sessions_open, 1, memory_order_relaxed);
    hand_off(s, fd, l->is_unix, key);
  }
}

static void on_listener_closed(uv_handle_t *h) {
  cnv__srv_listener *l = h->data;
  close(l->fd);
  l->fd = -1;
}

/* ---- the loop ---- */

static void loop_stop(cnv__srv_loop *L) {
  cnv_server *s = L->srv;
  L->stop_seen = 1;
  if (L->index == 0) {
    uv_timer_stop(&L->accept_timer); /* a pause in progress: the listeners close now */
    for (uint32_t i = 0; i < s->n_listeners; i++) {
      cnv__srv_listener *l = &s->listeners[i];
      if (l->polling) {
        l->polling = 0;
        uv_close((uv_handle_t *)&l->poll, on_listener_closed);
      }
    }
    /* release: every hand_off (this thread) happened before; a loop that reads 1 (acquire)
     * and then takes its inbox has every descriptor that will ever come */
    cnv__store_release(&s->accepting_closed, 1);
    for (uint32_t i = 1; i < s->cfg.io_threads; i++) {
      cnv__ignore_status(uv_async_send(&s->loops[i].async) == 0 ? CNV_OK : CNV_EINVAL);
    }
  }
  cnv__srv_conn *c = L->conns;
  while (c) {
    cnv__srv_conn *next = c->next;
    cnv__srv_conn_stop(c);
    c = next;
  }
}

static void on_stop_timeout(uv_timer_t *t) {
  cnv__srv_loop *L = t->data;
  cnv__srv_conn *c = L->conns;
  while (c) {
    cnv__srv_conn *next = c->next;
    cnv__srv_conn_close(c);
    c = next;
  }
}

static void drain_inbox(cnv__srv_loop *L) {
  /* acquire: pairs with hand_off's release CAS (the records' fields) */
  cnv__srv_accepted *a = atomic_exchange_explicit(&L->inbox, NULL, memory_order_acquire);
  while (a) {
    cnv__srv_accepted *next = a->next;
    cnv__srv_conn_open(L, a);
    free(a);
    a = next;
  }
}

/* Takes the done stack and seals each call's RESPONSE into its connection's output; the
 * output is written by cnv__srv_conns_flush. */
static void take_done(cnv__srv_loop *L) {
  /* acquire: pairs with the completion's release CAS: the call's outcome and result bytes */
  cnv__srv_call *d = atomic_exchange_explicit(&L->done, NULL, memory_order_acquire);
  /* the stack is newest first: reverse it so responses go out in completion order */
  cnv__srv_call *rev = NULL;
  while (d) {
    cnv__srv_call *next = d->next;
    d->next = rev;
    rev = d;
    d = next;
  }
  while (rev) {
    cnv__srv_call *next = rev->next;
    cnv__srv_conn_complete(L, rev);
    rev = next;
  }
}

static void drain_done(cnv__srv_loop *L) {
  take_done(L);
  cnv__srv_conns_flush(L);
}

/* Completions: the eventfd is read (its count reset) before the stack is taken, so a push
 * after the take, onto the empty stack, makes it readable again. */
static void on_done_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  cnv__srv_loop *L = h->data;
  cnv__srv_loop_awake(L);
  cnv__srv_loop_tick(L);
  uint64_t count;
  /* EAGAIN: a wake-up already read by an earlier turn; the stack is looked at either way */
  cnv__ignore_status(read(L->done_fd, &count, sizeof count) == (ssize_t)sizeof count ? CNV_OK : CNV_EAGAIN);
  drain_done(L);
}

/* Runs before the loop blocks in epoll: takes the completions pushed while it was awake
 * (they wrote no eventfd), until a look after clearing awake finds the stack empty; a push
 * after that look sees awake clear and writes the eventfd. The answers are written once, after
 * the last take: one write per connection for all of them. */
static void on_prepare(uv_prepare_t *h) {
  cnv__srv_loop *L = h->data;
  int took = 0;
  for (;;) {
    cnv__store_relaxed(&L->awake, 0u); /* relaxed: ordered by the fence below */
    /* seq_cst: the clear before the look at the stack, against the completion's push before
     * its look at awake (cnv__srv_completion) */
    cnv__fence_seq_cst();
    if (!cnv__load_relaxed(&L->done)) break; /* relaxed: take_done's exchange acquires */
    cnv__srv_loop_awake(L);
    if (!took) cnv__srv_loop_tick(L);
    take_done(L);
    took = 1;
  }
  if (took) cnv__srv_conns_flush(L);
}

static void on_async(uv_async_t *h) {
  cnv__srv_loop *L = h->data;
  cnv_server *s = L->srv;
  cnv__srv_loop_tick(L);
  drain_inbox(L);
  drain_done(L);
  /* acquire: pairs with cnv_server_stop's release store */
  if (!L->stop_seen && cnv__load_acquire(&s->stopping)) {
    uv_timer_start(&L->stop_timer, on_stop_timeout, s->cfg.stop_timeout_ns / MS, 0);
    loop_stop(L);
  }
  cnv__srv_loop_maybe_end(L);
}

void cnv__srv_loop_maybe_end(cnv__srv_loop *L) {
  cnv_server *s = L->srv;
  if (L->ended || !L->stop_seen || L->n_conns > 0) return;
  /* acquire: pairs with loop 0's release (see loop_stop); then the inbox is final */
  if (!cnv__load_acquire(&s->accepting_closed)) return;
  drain_inbox(L); /* connections handed over just before: opened and closed at once */
  if (L->n_conns > 0) return;
  L->ended = 1;
  /* no call of this loop is in flight, so nothing new will be pushed. The async handle stays
   * open until destroy (loop_fini): a late uv_async_send on it (loop 0's re-check) only writes
   * to the loop's eventfd. Unreferenced, it no longer keeps uv_run going. done_fd stays open
   * until destroy too (only its poll handle closes): a completion between its push and its
   * wake-up writes to it late. */
  uv_unref((uv_handle_t *)&L->async);
  uv_close((uv_handle_t *)&L->done_poll, NULL);
  L->done_poll_closed = 1;
  uv_close((uv_handle_t *)&L->prepare, NULL);
  uv_close((uv_handle_t *)&L->stop_timer, NULL);
  L->timer_closed = 1;
}

static void *loop_main(void *arg) {
  cnv__srv_loop *L = arg;
  cnv_server *s = L->srv;
  /* a write to a peer that closed raises SIGPIPE in the writing thread: blocked here, it stays
   * pending and the write fails with EPIPE (the connection is closed) instead of killing the
   * embedder's process */
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, NULL);
  cnv__ignore_status(uv_run(&L->uv, UV_RUN_DEFAULT) >= 0 ? CNV_OK : CNV_EINVAL); /* ends when closed */
  pthread_mutex_lock(&s->run_lock);
  s->running--;
  pthread_cond_broadcast(&s->run_cv);
  pthread_mutex_unlock(&s->run_lock);
  return NULL;
}

/* After the loop's thread ended (or never ran): closes its handles and frees it. */
static void loop_fini(cnv__srv_loop *L) {
  /* a completion callback between its push and its wake-up still writes to done_fd
   * (acquire: pairs with its release decrement) */
  while (cnv__load_acquire(&L->pushing) != 0) sched_yield();
  uv_close((uv_handle_t *)&L->async, NULL);
  if (!L->done_poll_closed) {
    uv_close((uv_handle_t *)&L->done_poll, NULL);
    uv_close((uv_handle_t *)&L->prepare, NULL);
  }
  if (!L->timer_closed) uv_close((uv_handle_t *)&L->stop_timer, NULL);
  if (L->index == 0) uv_close((uv_handle_t *)&L->accept_timer, NULL);
  /* runs the close callbacks, then frees the loop's resources */
  cnv__ignore_status(uv_run(&L->uv, UV_RUN_NOWAIT) >= 0 ? CNV_OK : CNV_EINVAL);
  cnv__ignore_status(uv_loop_close(&L->uv) == 0 ? CNV_OK : CNV_ESTATE);
  close(L->done_fd);
  free(L->scratch);
}

static cnv_status loop_init(cnv_server *s, uint32_t i) {
  cnv__srv_loop *L = &s->loops[i];
  L->index = i;
  L->srv = s;
  cnv__srv_loop_tick(L);
  L->scratch = malloc(s->cfg.max_frame);
  if (!L->scratch) return CNV_ENOMEM;
  L->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (L->done_fd < 0) {
    free(L->scratch);
    return CNV_ENOMEM;
  }
  if (uv_loop_init(&L->uv) != 0) {
    close(L->done_fd);
    free(L->scratch);
    return CNV_ENOMEM;
  }
  uv_async_init(&L->uv, &L->async, on_async);
  L->async.data = L;
  uv_poll_init(&L->uv, &L->done_poll, L->done_fd);
  L->done_poll.data = L;
  uv_poll_start(&L->done_poll, UV_READABLE, on_done_ready);
  uv_prepare_init(&L->uv, &L->prepare);
  L->prepare.data = L;
  uv_prepare_start(&L->prepare, on_prepare);
  uv_unref((uv_handle_t *)&L->prepare); /* keeps no loop running: done_poll does */
  uv_timer_init(&L->uv, &L->stop_timer);
  L->stop_timer.data = L;
  if (i == 0) {
    uv_timer_init(&L->uv, &L->accept_timer);
    L->accept_timer.data = s;
    /* a pause never keeps the loop running: stop stops it, destroy (loop_fini) closes it */
    uv_unref((uv_handle_t *)&L->accept_timer);
  }
  return CNV_OK;
}

cnv_status cnv_server_start(cnv_server *s) {
  if (!s) return CNV_EINVAL;
  if (s->started || s->n_listeners == 0) return CNV_ESTATE;
  uint32_t n = s->cfg.io_threads;
  for (uint32_t i = 0; i < n; i++) {
    cnv_status st = loop_init(s, i);
    if (st != CNV_OK) {
      for (uint32_t j = 0; j < i; j++) loop_fini(&s->loops[j]);
      memset(s->loops, 0, n * sizeof *s->loops);
      return st;
    }
  }
  for (uint32_t i = 0; i < s->n_listeners; i++) {
    cnv__srv_listener *l = &s->listeners[i];
    uv_poll_init(&s->loops[0].uv, &l->poll, l->fd);
    l->poll.data = l;
    l->polling = 1;
  }
  accept_resume(s);
  /* -1 (no descriptor free now): an EMFILE at accept pauses accepting and retries it */
  s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  s->started = 1;
  s->running = n;
  for (uint32_t i = 0; i < n; i++) {
    if (pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]) != 0) {
      /* the loops not started never run (destroy's loop_fini closes their handles); the ones
       * started are stopped as a stop does */
      for (uint32_t j = i; j < n; j++) {
        cnv__srv_loop *L = &s->loops[j];
        if (j == 0) {
          for (uint32_t k = 0; k < s->n_listeners; k++) {
            s->listeners[k].polling = 0;
            uv_close((uv_handle_t *)&s->listeners[k].poll, on_listener_closed);
          }
          cnv__store_release(&s->accepting_closed, 1);
        }
        L->stop_seen = 1;
        L->ended = 1;
      }
      pthread_mutex_lock(&s->run_lock);
      s->running -= n - i;
      pthread_mutex_unlock(&s->run_lock);
      cnv__ignore_status(cnv_server_stop(s)); /* the caller gets ERT_THREAD; destroy frees */
      return CNV_ERT_THREAD;
    }
    s->loops[i].thread_started = 1;
  }
  return CNV_OK;
}

/* Waits until the loops have ended or deadline (CLOCK_MONOTONIC) passed; 1 if they ended. */
static int wait_loops(cnv_server *s, const struct timespec *deadline) {
  pthread_mutex_lock(&s->run_lock);
  while (s->running > 0) {
    if (deadline) {
      if (pthread_cond_timedwait(&s->run_cv, &s->run_lock, deadline) == ETIMEDOUT) break;
    } else {
      pthread_cond_wait(&s->run_cv, &s->run_lock);
    }
  }
  int done = s->running == 0;
  pthread_mutex_unlock(&s->run_lock);
  return done;
}

static void join_loops(cnv_server *s) {
  for (uint32_t i = 0; i < s->cfg.io_threads; i++) {
    cnv__srv_loop *L = &s->loops[i];
    if (L->thread_started) {
      pthread_join(L->thread, NULL);
      L->thread_started = 0;
    }
  }
}

cnv_status cnv_server_stop(cnv_server *s) {
  if (!s) return CNV_EINVAL;
  if (!s->started) return CNV_ESTATE;
  if (!s->stopped) {
    s->stopped = 1;
    /* release: a loop that reads it (acquire) sees everything the embedder did before */
    cnv__store_release(&s->stopping, 1);
    for (uint32_t i = 0; i < s->cfg.io_threads; i++) {
      if (s->loops[i].thread_started) {
        cnv__ignore_status(uv_async_send(&s->loops[i].async) == 0 ? CNV_OK : CNV_EINVAL);
      }
    }
  }
  /* the stop timeout, then a second for the loops to close what it cut off */
  struct timespec dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  uint64_t wait_ns = s->cfg.stop_timeout_ns + 1000 * MS;
  dl.tv_sec += (time_t)(wait_ns / 1000000000u);
  dl.tv_nsec += (long)(wait_ns % 1000000000u);
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  if (!wait_loops(s, &dl)) return CNV_ESERVER_TIMEOUT;
  join_loops(s);
  return CNV_OK;
}

void cnv_server_destroy(cnv_server *s) {
  if (!s) return;
  if (s->started) {
    cnv__ignore_status(cnv_server_stop(s)); /* destroy waits below whatever stop says */
    wait_loops(s, NULL);
    join_loops(s);
    for (uint32_t i = 0; i < s->cfg.io_threads; i++) loop_fini(&s->loops[i]);
  }
  if (s->started && s->spare_fd >= 0) close(s->spare_fd);
  for (uint32_t i = 0; i < s->n_listeners; i++) {
    cnv__srv_listener *l = &s->listeners[i];
    if (l->fd >= 0) close(l->fd);
    cnv__srv_unlink(l);
  }
  pthread_cond_destroy(&s->run_cv);
  pthread_mutex_destroy(&s->run_lock);
  pthread_mutex_destroy(&s->peer_lock);
  explicit_bzero(s->sk, sizeof s->sk);
  free(s->peers);
  free(s->loops);
  free(s);
}

cnv_status cnv_server_stats_get(const cnv_server *s, cnv_server_stats *out) {
  if (!s || !out) return CNV_EINVAL;
  memset(out, 0, sizeof *out);
  for (uint32_t i = 0; i < s->cfg.io_threads; i++) {
    /* relaxed loads: figures (see the header) */
    const cnv__srv_counters *n = &s->loops[i].n;
#define SRV_SUM(f) out->f += cnv__load_relaxed(&((cnv__srv_counters *)n)->f)
    SRV_SUM(sessions_ready);
    SRV_SUM(accepted);
    SRV_SUM(refused_max);
    SRV_SUM(refused_per_peer);
    SRV_SUM(handshakes);
    SRV_SUM(idle_closed);
    SRV_SUM(invocations);
    SRV_SUM(accepted_calls);
    SRV_SUM(busy);
    SRV_SUM(denied);
    SRV_SUM(responses);
    SRV_SUM(cancels);
    SRV_SUM(protocol_errors);
    SRV_SUM(bytes_in);
    SRV_SUM(bytes_out);
    for (int k = 0; k < CNV_SERVER_HS_COUNT; k++) SRV_SUM(handshake_failed[k]);
#undef SRV_SUM
  }
  /* relaxed: a count */
  out->sessions_open = cnv__load_relaxed(&((cnv_server *)s)->sessions_open);
  return CNV_OK;
}
