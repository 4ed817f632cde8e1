/* The server's private structures (docs/server.md: threading model, hand-off, memory). */
#ifndef CNV_SRV_INTERNAL_H
#define CNV_SRV_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <cnv/delegation.h>
#include <cnv/protocol.h>
#include <cnv/runtime.h>
#include <cnv/server.h>
#include <cnv/session.h>

#include "core/atomic.h"

typedef struct cnv__srv_loop cnv__srv_loop;
typedef struct cnv__srv_conn cnv__srv_conn;

/* One listening socket; polled by loop 0, which accepts and hands each connection to a loop. */
typedef struct cnv__srv_listener {
  int fd;
  int is_unix;
  int polling;
  char path[108];    /* unix: the socket file, removed at destroy if it is still the one bound */
  uint64_t dev, ino; /* unix: the bound socket file's st_dev, st_ino */
  char bound[CNV_SERVER_ADDRESS_MAX];
  uv_poll_t poll;
  cnv_server *srv;
} cnv__srv_listener;

/* An accepted descriptor on its way from loop 0 to the loop that serves it. */
typedef struct cnv__srv_accepted {
  struct cnv__srv_accepted *next;
  int fd;
  int is_unix;
  uint8_t peer[17]; /* its key in the per-peer table */
} cnv__srv_accepted;

/* One invocation in flight: the loop fills it at submit, the runtime's completion callback
 * (a worker) writes the outcome and the result into it and pushes it onto its loop's done
 * stack; the loop seals the RESPONSE and frees it. */
typedef struct cnv__srv_call {
  struct cnv__srv_call *next; /* done stack, pending list or free list */
  cnv__srv_conn *conn;
  cnv__srv_loop *loop; /* conn->loop, kept here so the completion reads no line of the conn */
  uint64_t id;         /* the request id (frame correlation id) */
  int32_t status;
  uint8_t done;
  uint8_t content_type;
  uint8_t live; /* submitted and not yet taken back by the loop */
  uint32_t len;
  uint8_t *result; /* max_result bytes in the session's call area */
} cnv__srv_call;

enum { CNV__SRV_HANDSHAKE = 0,
       CNV__SRV_READY = 1 };

struct cnv__srv_conn {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
  uv_timer_t timer;
  uv_write_t wreq;
  cnv__srv_loop *loop;
  cnv__srv_conn *prev, *next; /* the loop's list */
  cnv_session *sess;
  uint8_t peer[17]; /* its key in the per-peer table */
  uint32_t agent;
  int has_agent;
  int state;        /* CNV__SRV_HANDSHAKE, CNV__SRV_READY */
  int reading;      /* uv_read_start in effect */
  int closing;      /* handles closed or closing: nothing more is sent */
  int open_handles; /* stream and timer not yet closed */
  int end_on_flush; /* close once the output is written (after an ERROR) */
  int drain;        /* close once the peer is done (eof), nothing is in flight, the output written */
  int eof;          /* the peer sent SHUTDOWN or closed its side: nothing more is read */
  int shutdown_due; /* graceful stop: a SHUTDOWN to seal once the output has room */
  int submitted;    /* process() submitted a call (deferred wake): it calls cnv_runtime_wake */
  uint32_t inflight;
  uint32_t max_calls;
  uint32_t max_msg;     /* negotiated max_message_size */
  cnv__srv_call *calls; /* max_calls entries, allocated at READY */
  uint64_t *tickets;    /* the runtime's ticket of each call (same index), loop-only: the loop
                           writes it after the submit, when a worker may already be writing the
                           call's record, so it is kept off that record's line */
  uint8_t *results;     /* max_calls * max_result bytes */
  cnv__srv_call *free_calls;
  uint32_t *by_id; /* the calls in flight by request id (for CANCEL): open addressing, linear
                      probing, id_mask + 1 slots (a power of two, at least 2 x max_calls), each
                      a call's index + 1, 0: empty; allocated at READY */
  uint32_t id_mask;
  cnv__srv_call *pending_head, *pending_tail; /* completed, waiting for output room */
  uint8_t *rbuf;
  size_t rlen, roff;
  uint8_t *out[2];
  size_t olen[2];
  int cur;                   /* the buffer being filled */
  int wbusy;                 /* a write of out[cur ^ 1] is in flight */
  uint64_t last_rx_ns;       /* when a whole frame was last opened (the idle clock) */
  uint64_t out_moved_ns;     /* when the output last moved: a write started, or the peer took bytes */
  size_t wq_seen;            /* the stream's write queue size when last looked at */
  cnv__srv_conn *flush_next; /* the loop's list of connections answered in this drain */
  int flush_queued;          /* on that list */
};

/* Per-loop figures: written by the loop's thread only (relaxed load + store), read by
 * cnv_server_stats_get (relaxed loads). */
typedef struct cnv__srv_counters {
  _Atomic uint64_t sessions_ready, accepted, refused_max, refused_per_peer, handshakes;
  _Atomic uint64_t handshake_failed[CNV_SERVER_HS_COUNT];
  _Atomic uint64_t idle_closed, invocations, accepted_calls, busy, denied, responses, cancels,
      protocol_errors, bytes_in, bytes_out;
} cnv__srv_counters;

struct cnv__srv_loop {
  CNV_ALIGNED(CNV_CACHELINE)
  uv_loop_t uv;
  uv_async_t async;     /* wakes the loop: accepted descriptors, stop */
  uv_poll_t done_poll;  /* watches done_fd: completions */
  uv_prepare_t prepare; /* before each block in epoll: takes what was pushed while awake */
  int done_fd;          /* an eventfd a completion writes after its push onto an empty stack */
  int done_poll_closed; /* done_poll closed (loop_fini closes it otherwise) */
  uv_timer_t stop_timer;
  uv_timer_t accept_timer; /* loop 0 only: ends a pause of accepting (out of descriptors) */
  pthread_t thread;
  int thread_started;
  uint32_t index;
  cnv_server *srv;
  cnv__srv_conn *conns; /* this loop's connections */
  uint32_t n_conns;
  int stop_seen;
  int ended;                 /* nothing left: the async handle unreferenced, uv_run returns */
  int timer_closed;          /* the stop timer closed (loop_fini closes it otherwise) */
  uint8_t *scratch;          /* a RESPONSE payload before it is sealed (max_frame bytes) */
  uint64_t now_ns;           /* the clock read once per callback (cnv__srv_loop_tick): the time
                                every frame the callback opens or seals is given */
  cnv__srv_conn *flush_list; /* connections answered in the drain under way, flushed at its end */
  cnv__srv_counters n;
  /* The hand-offs from other threads: lock-free stacks (push: CAS with release; take: one
   * exchange with acquire, the whole stack at once, so no ABA). */
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic(cnv__srv_call *) done;
  _Atomic uint32_t pushing; /* completion callbacks between their push and their wake-up */
  /* 1 while the loop runs callbacks: it takes the done stack (on_prepare) before it blocks
   * again, so a completion pushed meanwhile writes no eventfd. Set by the loop when it wakes
   * for completions or reads, cleared by on_prepare before its last look at the stack. */
  _Atomic uint32_t awake;
  CNV_ALIGNED(CNV_CACHELINE)
  _Atomic(cnv__srv_accepted *) inbox;
};

typedef struct cnv__srv_peer {
  uint8_t key[17]; /* family byte + address (unix: the family alone) */
  uint32_t count;
} cnv__srv_peer;

struct cnv_server {
  cnv_server_config cfg;
  uint8_t sk[CNV_SESSION_SECRET_BYTES];
  cnv_runtime *rt;
  uint32_t max_result;
  cnv__srv_listener listeners[CNV_SERVER_MAX_LISTENERS];
  uint32_t n_listeners;
  cnv__srv_loop *loops;
  uint32_t next_loop; /* round robin (loop 0's thread only) */
  int spare_fd;       /* a descriptor held back for EMFILE, -1 if none (loop 0's thread only) */
  int started;
  int stopped; /* cnv_server_stop ran */
  _Atomic int stopping;
  _Atomic int accepting_closed; /* loop 0 closed the listeners: no more accepted descriptors */
  _Atomic uint64_t sessions_open;
  /* per-peer counts: taken at accept (loop 0), given back at close (any loop); not on the
   * invocation path, so a mutex */
  pthread_mutex_t peer_lock;
  cnv__srv_peer *peers; /* open addressing, linear probing: peer_mask + 1 (a power of two, at
                           least 2 x max_sessions) entries; count 0: empty */
  uint32_t peer_mask;
  uint64_t peer_seed; /* the peer hash's secret key (random per server) */
  /* loop threads still running */
  pthread_mutex_t run_lock;
  pthread_cond_t run_cv;
  uint32_t running;
};

/* addr.c: parses and binds one listen address into l (fd listening, non-blocking). */
cnv_status cnv__srv_bind(const char *address, uint32_t backlog, cnv__srv_listener *l);
/* Removes a unix listener's socket file if it is still the one its bind made. */
void cnv__srv_unlink(const cnv__srv_listener *l);
/* The peer key of an accepted descriptor. */
void cnv__srv_peer_key(int fd, int is_unix, uint8_t key[17]);

/* conn.c */
void cnv__srv_conn_open(cnv__srv_loop *L, const cnv__srv_accepted *a);
void cnv__srv_conn_complete(cnv__srv_loop *L, cnv__srv_call *call);
/* After a drain of completions: writes each answered connection's output once (one write for
 * all the answers the drain sealed for it, not one per answer). */
void cnv__srv_conns_flush(cnv__srv_loop *L);
void cnv__srv_conn_stop(cnv__srv_conn *c);
void cnv__srv_conn_close(cnv__srv_conn *c);
void cnv__srv_completion(void *ctx, const cnv_runtime_completion *done);
/* Reads the clock for what the callback now running opens and seals: one read for all the
 * frames of a read or all the answers of a drain, not one per frame. Loop thread only. */
static inline void cnv__srv_loop_tick(cnv__srv_loop *L) { L->now_ns = cnv_runtime_now_ns(); }

/* The loop is running callbacks (see awake): completions until it blocks again need no
 * wake-up. Loop thread only. */
static inline void cnv__srv_loop_awake(cnv__srv_loop *L) {
  /* relaxed: a completion that reads a stale 0 writes one eventfd too many; one that reads
   * this 1 is ordered against on_prepare's clear by the fences there and in the completion */
  cnv__store_relaxed(&L->awake, 1u);
}

/* loop.c */
void cnv__srv_loop_maybe_end(cnv__srv_loop *L);
void cnv__srv_peer_release(cnv_server *s, const uint8_t key[17]);

/* Figures: a loop-owned counter moved by its own thread. */
static inline void cnv__srv_count(_Atomic uint64_t *c, uint64_t by) {
  /* relaxed: only the owning loop writes; readers want each figure, not an instant */
  cnv__store_relaxed(c, cnv__load_relaxed(c) + by);
}

#endif
