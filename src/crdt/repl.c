/* The replicator: named shared values under one lock, their deltas queued by sequence number,
 * and the anti-entropy loop (docs/crdt.md "Replication").
 *
 * Per value: the state (mutating as this replica), the delta accumulator of the updates since
 * the last tick, and a log of sealed deltas (seq, delta) that some known peer has not
 * acknowledged yet (at most LOG_MAX). Per peer and value: what the peer acknowledged of ours
 * (acked), what we last sent it and when, and how far we merged the peer's own deltas (recv:
 * its intervals are merged only contiguously, so a merged delta never carries a causal
 * context ahead of the dots we hold). A peer is known from its first message; its epoch (a
 * random number per replicator) tells a restarted peer from the old one. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/clock.h"
#include "core/atomic.h"
#include "repl_wire.h"

#define DEFAULT_RESEND 4u
#define DEFAULT_MAX_MESSAGE (1u << 20)
#define MIN_MESSAGE 256u
#define LOG_MAX 64u             /* deltas kept per value; a peer further behind gets the full state */
#define PEER_TIMEOUT_RESENDS 8u /* a peer silent for this many resend periods is forgotten */
#define STABLE_DIGESTS 2u       /* resend periods two differing states must stay unchanged
                                   before the full state is asked for */

typedef struct log_entry {
  uint64_t seq;
  cnv_crdt *delta;
} log_entry;

typedef struct value {
  char name[REPL_MAX_NAME + 1];
  uint8_t name_len;
  int type;
  cnv_crdt *state;
  cnv_crdt *pending; /* updates since the last tick */
  uint64_t seq;      /* the last sealed delta's number */
  log_entry *log;    /* sealed deltas, oldest first, seqs consecutive ending at seq */
  size_t log_len;
  uint64_t hash; /* of the state's encoding, when !dirty */
  bool dirty;
} value;

typedef struct peer_value {
  uint64_t acked;        /* the peer merged our deltas up to this */
  uint64_t sent;         /* the last seq sent to the peer */
  uint64_t sent_tick;    /* when */
  uint64_t recv;         /* we merged the peer's deltas up to this */
  uint64_t peer_hash;    /* the peer's state hash (its digests) */
  uint64_t stable_since; /* tick since which peer_hash and our hash are both unchanged */
  uint64_t our_hash;     /* our hash when stable_since was set */
  uint64_t full_tick;    /* when we last asked it for its full state */
  bool ack_due, want_full, send_full;
} peer_value;

typedef struct peer {
  uint64_t id, epoch, heard_tick;
  peer_value *pv; /* one per value */
} peer;

struct cnv_crdt_repl {
  cnv_crdt_repl_config cfg;
  uint64_t epoch;
  pthread_mutex_t lock;
  value *values;
  size_t n_values, cap_values;
  peer *peers;
  size_t n_peers, cap_peers;
  uint64_t tick;
  repl_buf out;     /* a message being built */
  uint8_t *scratch; /* encodings */
  size_t scratch_cap;
  _Atomic uint64_t sent, received, malformed, send_failed, bytes_sent;
};

static uint64_t draw_epoch(uint64_t replica) {
  uint64_t e = 0;
  if (getrandom(&e, sizeof e, 0) != (ssize_t)sizeof e) {
    e = cnv__clock_ns(CLOCK_REALTIME) ^ (replica * 0x9e3779b97f4a7c15ull);
  }
  return e ? e : 1;
}

cnv_status cnv_crdt_repl_create(const cnv_crdt_repl_config *cfg, cnv_crdt_repl **out) {
  if (!cfg || !out || cfg->replica == 0 || !cfg->transport.send) return CNV_EINVAL;
  cnv_crdt_repl_config c = *cfg;
  if (!c.resend_ticks) c.resend_ticks = DEFAULT_RESEND;
  if (!c.max_message) c.max_message = DEFAULT_MAX_MESSAGE;
  if (c.max_message < MIN_MESSAGE) return CNV_ERANGE;
  cnv_crdt_repl *r = calloc(1, sizeof *r);
  if (!r) return CNV_ENOMEM;
  r->cfg = c;
  r->epoch = draw_epoch(c.replica);
  if (pthread_mutex_init(&r->lock, NULL) != 0) {
    free(r);
    return CNV_ENOMEM;
  }
  *out = r;
  return CNV_OK;
}

static void free_value(value *v) {
  cnv_crdt_destroy(v->state);
  cnv_crdt_destroy(v->pending);
  for (size_t i = 0; i < v->log_len; i++) cnv_crdt_destroy(v->log[i].delta);
  free(v->log);
}

void cnv_crdt_repl_destroy(cnv_crdt_repl *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_values; i++) free_value(&r->values[i]);
  for (size_t i = 0; i < r->n_peers; i++) free(r->peers[i].pv);
  free(r->values);
  free(r->peers);
  free(r->out.p);
  free(r->scratch);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

static value *find_value(cnv_crdt_repl *r, const char *name, size_t len) {
  for (size_t i = 0; i < r->n_values; i++)
    if (r->values[i].name_len == len && memcmp(r->values[i].name, name, len) == 0) return &r->values[i];
  return NULL;
}

static cnv_status add_locked(cnv_crdt_repl *r, const char *name, size_t len, int type) {
  if (find_value(r, name, len)) return CNV_EEXIST;
  if (r->n_values == r->cap_values) {
    size_t cap = r->cap_values ? 2 * r->cap_values : 4;
    value *nv = realloc(r->values, cap * sizeof *nv);
    if (!nv) return CNV_ENOMEM;
    r->values = nv;
    for (size_t i = 0; i < r->n_peers; i++) {
      peer_value *pv = realloc(r->peers[i].pv, cap * sizeof *pv);
      if (!pv) return CNV_ENOMEM;
      r->peers[i].pv = pv;
    }
    r->cap_values = cap;
  }
  value v = {.type = type, .name_len = (uint8_t)len, .dirty = true};
  memcpy(v.name, name, len);
  v.log = calloc(LOG_MAX, sizeof *v.log);
  cnv_status st = v.log ? cnv_crdt_create(type, r->cfg.replica, &v.state) : CNV_ENOMEM;
  if (st == CNV_OK) st = cnv_crdt_create(type, 0, &v.pending);
  if (st != CNV_OK) {
    free_value(&v);
    return st;
  }
  for (size_t i = 0; i < r->n_peers; i++) memset(&r->peers[i].pv[r->n_values], 0, sizeof(peer_value));
  r->values[r->n_values++] = v;
  return CNV_OK;
}

cnv_status cnv_crdt_repl_add(cnv_crdt_repl *r, const char *name, int type) {
  if (!r || !name) return CNV_EINVAL;
  size_t len = strlen(name);
  if (len == 0 || len > REPL_MAX_NAME || type < CNV_CRDT_GCOUNTER || type > CNV_CRDT_VCLOCK) return CNV_ERANGE;
  pthread_mutex_lock(&r->lock);
  cnv_status st = add_locked(r, name, len, type);
  pthread_mutex_unlock(&r->lock);
  return st;
}

cnv_status cnv_crdt_repl_update(cnv_crdt_repl *r, const char *name,
                                cnv_status (*fn)(void *ctx, cnv_crdt *state, cnv_crdt *delta), void *ctx) {
  if (!r || !name || !fn) return CNV_EINVAL;
  pthread_mutex_lock(&r->lock);
  value *v = find_value(r, name, strlen(name));
  cnv_status st = v ? fn(ctx, v->state, v->pending) : CNV_ENOTFOUND;
  if (v) v->dirty = true;
  pthread_mutex_unlock(&r->lock);
  return st;
}

cnv_status cnv_crdt_repl_read(cnv_crdt_repl *r, const char *name, cnv_status (*fn)(void *ctx, const cnv_crdt *state),
                              void *ctx) {
  if (!r || !name || !fn) return CNV_EINVAL;
  pthread_mutex_lock(&r->lock);
  value *v = find_value(r, name, strlen(name));
  cnv_status st = v ? fn(ctx, v->state) : CNV_ENOTFOUND;
  pthread_mutex_unlock(&r->lock);
  return st;
}

/* ---- peers ---- */

static peer *find_peer(cnv_crdt_repl *r, uint64_t id) {
  for (size_t i = 0; i < r->n_peers; i++)
    if (r->peers[i].id == id) return &r->peers[i];
  return NULL;
}

static void reset_peer(cnv_crdt_repl *r, peer *p, uint64_t epoch) {
  p->epoch = epoch;
  memset(p->pv, 0, (r->cap_values ? r->cap_values : 1) * sizeof *p->pv);
}

/* The peer `id` (epoch), added when new, reset when its epoch changed (it restarted: it
 * holds none of what it acknowledged, and numbers its deltas from 1 again). NULL: no memory. */
static peer *get_peer(cnv_crdt_repl *r, uint64_t id, uint64_t epoch) {
  peer *p = find_peer(r, id);
  if (!p) {
    if (r->n_peers == r->cap_peers) {
      size_t cap = r->cap_peers ? 2 * r->cap_peers : 4;
      peer *np = realloc(r->peers, cap * sizeof *np);
      if (!np) return NULL;
      r->peers = np;
      r->cap_peers = cap;
    }
    peer_value *pv = calloc(r->cap_values ? r->cap_values : 1, sizeof *pv);
    if (!pv) return NULL;
    p = &r->peers[r->n_peers++];
    *p = (peer){.id = id, .epoch = epoch, .pv = pv};
  } else if (p->epoch != epoch) {
    reset_peer(r, p, epoch);
  }
  p->heard_tick = r->tick;
  return p;
}

static void forget_silent_peers(cnv_crdt_repl *r) {
  uint64_t limit = (uint64_t)r->cfg.resend_ticks * PEER_TIMEOUT_RESENDS;
  for (size_t i = 0; i < r->n_peers;) {
    if (r->tick - r->peers[i].heard_tick > limit) {
      free(r->peers[i].pv);
      r->peers[i] = r->peers[--r->n_peers];
    } else {
      i++;
    }
  }
}

/* ---- receiving ---- */

static uint64_t state_hash(cnv_crdt_repl *r, value *v);

static cnv_status apply(cnv_crdt_repl *r, peer *p, const repl_header *h, repl_record *rec) {
  value *v = find_value(r, rec->name, rec->name_len);
  if (!v) return CNV_OK; /* a value this replica does not share */
  peer_value *pv = &p->pv[v - r->values];
  switch (rec->kind) {
    case REPL_DELTA: {
      if (rec->type != v->type) return CNV_OK; /* checked before: cannot happen */
      bool merge = rec->flag ? true : rec->from_seq <= pv->recv + 1 && rec->seq > pv->recv;
      if (merge) {
        cnv_status st = cnv_crdt_merge(v->state, rec->value);
        if (st != CNV_OK) return st;
        v->dirty = true;
        if (rec->seq > pv->recv) pv->recv = rec->seq;
      }
      pv->ack_due = true; /* duplicates and gaps are answered too: the sender learns where we are */
      return CNV_OK;
    }
    case REPL_ACK:
      if (h->to_epoch != r->epoch) return CNV_OK; /* about an earlier run of this replica */
      if (rec->seq > v->seq) return CNV_OK;       /* acknowledges what we never sent */
      if (rec->seq > pv->acked) pv->acked = rec->seq;
      if (rec->flag) pv->send_full = true;
      return CNV_OK;
    default: { /* REPL_DIGEST */
      if (rec->type != v->type) return CNV_OK;
      if (rec->seq > pv->recv) {
        pv->ack_due = true; /* tells the peer where we are: it resends from there */
        pv->stable_since = r->tick;
        return CNV_OK;
      }
      /* caught up with the peer's own deltas, yet the states differ: something a third
       * replica sent reached one of us only (its sender stopped before resending). Once both
       * states stay unchanged for a while, ask for the peer's full state; the peer asks for
       * ours the same way. */
      uint64_t ours = state_hash(r, v);
      if (rec->hash == ours) {
        pv->stable_since = r->tick;
        pv->peer_hash = rec->hash;
        return CNV_OK;
      }
      if (rec->hash != pv->peer_hash || ours != pv->our_hash) {
        pv->peer_hash = rec->hash;
        pv->our_hash = ours;
        pv->stable_since = r->tick;
        return CNV_OK;
      }
      uint64_t period = (uint64_t)r->cfg.resend_ticks * STABLE_DIGESTS;
      if (r->tick - pv->stable_since >= period && (pv->full_tick == 0 || r->tick - pv->full_tick >= period)) {
        pv->want_full = true;
        pv->ack_due = true;
        pv->full_tick = r->tick;
      }
      return CNV_OK;
    }
  }
}

cnv_status cnv_crdt_repl_receive(cnv_crdt_repl *r, uint64_t from, const uint8_t *msg, size_t len) {
  if (!r || !msg || from == 0) return CNV_EINVAL;
  cnv__fetch_add_relaxed(&r->received, 1);
  repl_header h;
  repl_record *recs = NULL;
  size_t n = 0;
  cnv_status st = len > r->cfg.max_message ? CNV_ECRDT_MALFORMED : repl_decode(msg, len, &h, &recs, &n);
  if (st != CNV_OK) {
    if (st == CNV_ECRDT_MALFORMED) cnv__fetch_add_relaxed(&r->malformed, 1);
    return st;
  }
  if (from == r->cfg.replica || (h.to != 0 && h.to != r->cfg.replica)) {
    repl_records_free(recs, n); /* our own broadcast, or addressed to another replica */
    return CNV_OK;
  }
  pthread_mutex_lock(&r->lock);
  /* refused whole, before anything is merged: a DELTA or DIGEST whose type is not the
   * value's; a second record of one kind for one value (a sender writes at most one: each
   * merge and each digest's state hash costs O(the value's state), so repeats would let
   * one message cost up to 4096 times that) */
  uint8_t *seen = calloc(r->n_values ? r->n_values : 1, 1);
  if (!seen) st = CNV_ENOMEM;
  for (size_t i = 0; i < n && st == CNV_OK; i++) {
    value *v = find_value(r, recs[i].name, recs[i].name_len);
    if (!v) continue;
    uint8_t bit = (uint8_t)(1u << recs[i].kind);
    if ((recs[i].kind != REPL_ACK && v->type != recs[i].type) || (seen[v - r->values] & bit))
      st = CNV_ECRDT_MALFORMED;
    seen[v - r->values] |= bit;
  }
  free(seen);
  if (st == CNV_OK) {
    peer *p = get_peer(r, from, h.from_epoch);
    if (!p) st = CNV_ENOMEM;
    for (size_t i = 0; i < n && st == CNV_OK; i++) st = apply(r, p, &h, &recs[i]);
  }
  pthread_mutex_unlock(&r->lock);
  if (st == CNV_ECRDT_MALFORMED) cnv__fetch_add_relaxed(&r->malformed, 1);
  repl_records_free(recs, n);
  return st;
}

/* ---- sending ---- */

static cnv_status encode(cnv_crdt_repl *r, const cnv_crdt *c, size_t *len) {
  for (;;) {
    cnv_status st = cnv_crdt_encode(c, r->scratch, r->scratch_cap, len);
    if (st != CNV_EFULL) return st;
    size_t cap = r->scratch_cap ? r->scratch_cap : 1024;
    while (cap < *len) cap *= 2;
    uint8_t *p = realloc(r->scratch, cap);
    if (!p) return CNV_ENOMEM;
    r->scratch = p;
    r->scratch_cap = cap;
  }
}

static uint64_t state_hash(cnv_crdt_repl *r, value *v) {
  if (v->dirty) {
    size_t len = 0;
    /* a state that cannot be encoded now (memory) hashes as 0: it differs, and is asked
     * about again at the next digest */
    v->hash = encode(r, v->state, &len) == CNV_OK ? repl_hash(r->scratch, len) : 0;
    v->dirty = v->hash == 0;
  }
  return v->hash;
}

static void send_msg(cnv_crdt_repl *r, uint64_t to) {
  repl_finish(&r->out);
  cnv_status st = r->cfg.transport.send(r->cfg.transport.ctx, to, r->out.p, r->out.len);
  if (st == CNV_OK) {
    cnv__fetch_add_relaxed(&r->sent, 1);
    cnv__fetch_add_relaxed(&r->bytes_sent, r->out.len);
  } else {
    cnv__fetch_add_relaxed(&r->send_failed, 1);
  }
}

/* Makes room for a record of `need` bytes in the message to `to`, sending what is built when
 * it would pass max_message. False: the record cannot go (larger than a message, or memory):
 * counted as a failed send, anti-entropy tries again. */
static bool room(cnv_crdt_repl *r, uint64_t to, uint64_t to_epoch, size_t need) {
  if (need > r->cfg.max_message - REPL_HEADER) {
    cnv__fetch_add_relaxed(&r->send_failed, 1);
    return false;
  }
  if (r->out.len + need > r->cfg.max_message || r->out.count == UINT16_MAX || r->out.count == REPL_MAX_RECORDS) {
    send_msg(r, to);
    if (repl_begin(&r->out, r->epoch, to, to_epoch) != CNV_OK) return false;
  }
  if (repl_buf_reserve(&r->out, need) != CNV_OK) {
    cnv__fetch_add_relaxed(&r->send_failed, 1);
    return false;
  }
  return true;
}

static void put_name(cnv_crdt_repl *r, uint8_t kind, const value *v) {
  repl_put_u8(&r->out, kind);
  repl_put_u8(&r->out, v->name_len);
  repl_put_bytes(&r->out, v->name, v->name_len);
}

/* The delta record for peer p of value v: the join of our deltas after p's acknowledgement,
 * or the full state when p is new or further behind than the log reaches. */
static void put_delta(cnv_crdt_repl *r, peer *p, value *v, peer_value *pv) {
  uint64_t log_first = v->log_len ? v->log[0].seq : v->seq + 1;
  bool full = pv->send_full || pv->acked + 1 < log_first;
  cnv_crdt *joined = NULL;
  const cnv_crdt *body = v->state;
  uint64_t from = 0;
  if (!full) {
    from = pv->acked + 1;
    if (cnv_crdt_create(v->type, 0, &joined) != CNV_OK) return;
    for (size_t i = 0; i < v->log_len; i++)
      if (v->log[i].seq >= from && cnv_crdt_merge(joined, v->log[i].delta) != CNV_OK) {
        cnv_crdt_destroy(joined);
        return;
      }
    body = joined;
  }
  size_t len = 0;
  cnv_status st = encode(r, body, &len);
  cnv_crdt_destroy(joined);
  if (st != CNV_OK || !room(r, p->id, p->epoch, 2u + v->name_len + 22u + len)) return;
  put_name(r, REPL_DELTA, v);
  repl_put_u8(&r->out, (uint8_t)v->type);
  repl_put_u8(&r->out, full ? 1 : 0);
  repl_put_u64(&r->out, from);
  repl_put_u64(&r->out, v->seq);
  repl_put_u32(&r->out, (uint32_t)len);
  repl_put_bytes(&r->out, r->scratch, len);
  r->out.count++;
  pv->sent = v->seq;
  pv->sent_tick = r->tick;
  pv->send_full = false;
}

static void send_to_peer(cnv_crdt_repl *r, peer *p) {
  if (repl_begin(&r->out, r->epoch, p->id, p->epoch) != CNV_OK) {
    cnv__fetch_add_relaxed(&r->send_failed, 1);
    return;
  }
  for (size_t i = 0; i < r->n_values; i++) {
    value *v = &r->values[i];
    peer_value *pv = &p->pv[i];
    if (pv->ack_due && room(r, p->id, p->epoch, 2u + v->name_len + 9u)) {
      put_name(r, REPL_ACK, v);
      repl_put_u64(&r->out, pv->recv);
      repl_put_u8(&r->out, pv->want_full ? 1 : 0);
      r->out.count++;
      pv->ack_due = pv->want_full = false;
    }
    bool behind = pv->acked < v->seq || pv->send_full;
    bool due = pv->sent < v->seq || pv->send_full || r->tick - pv->sent_tick >= r->cfg.resend_ticks;
    if (behind && due) put_delta(r, p, v, pv);
  }
  if (r->out.count) send_msg(r, p->id);
}

static void send_digest(cnv_crdt_repl *r) {
  if (!r->n_values || repl_begin(&r->out, r->epoch, 0, 0) != CNV_OK) return;
  for (size_t i = 0; i < r->n_values; i++) {
    value *v = &r->values[i];
    if (!room(r, 0, 0, 2u + v->name_len + 17u)) continue;
    put_name(r, REPL_DIGEST, v);
    repl_put_u8(&r->out, (uint8_t)v->type);
    repl_put_u64(&r->out, v->seq);
    repl_put_u64(&r->out, state_hash(r, v));
    r->out.count++;
  }
  if (r->out.count) send_msg(r, 0);
}

/* Seals the accumulated delta as the next seq, and drops the log entries every peer holds
 * (all of them with no peer: a peer met later gets the full state). */
static cnv_status seal(cnv_crdt_repl *r, size_t vi) {
  value *v = &r->values[vi];
  if (!cnv_crdt_is_empty(v->pending)) {
    cnv_crdt *fresh = NULL;
    cnv_status st = cnv_crdt_create(v->type, 0, &fresh);
    if (st != CNV_OK) return st;
    if (v->log_len == LOG_MAX) {
      cnv_crdt_destroy(v->log[0].delta);
      memmove(v->log, v->log + 1, (LOG_MAX - 1) * sizeof *v->log);
      v->log_len--;
    }
    v->log[v->log_len++] = (log_entry){.seq = ++v->seq, .delta = v->pending};
    v->pending = fresh;
  }
  uint64_t min_acked = v->seq;
  for (size_t i = 0; i < r->n_peers; i++)
    if (r->peers[i].pv[vi].acked < min_acked) min_acked = r->peers[i].pv[vi].acked;
  size_t drop = 0;
  while (drop < v->log_len && v->log[drop].seq <= min_acked) cnv_crdt_destroy(v->log[drop++].delta);
  if (drop) {
    memmove(v->log, v->log + drop, (v->log_len - drop) * sizeof *v->log);
    v->log_len -= drop;
  }
  return CNV_OK;
}

cnv_status cnv_crdt_repl_tick(cnv_crdt_repl *r) {
  if (!r) return CNV_EINVAL;
  pthread_mutex_lock(&r->lock);
  r->tick++;
  forget_silent_peers(r);
  cnv_status st = CNV_OK;
  for (size_t i = 0; i < r->n_values; i++) {
    cnv_status s = seal(r, i);
    if (s != CNV_OK) st = s; /* the delta stays pending: sealed at a later tick */
  }
  for (size_t i = 0; i < r->n_peers; i++) send_to_peer(r, &r->peers[i]);
  send_digest(r);
  pthread_mutex_unlock(&r->lock);
  return st;
}

cnv_status cnv_crdt_repl_retire(cnv_crdt_repl *r, uint64_t replica) {
  if (!r || replica == 0 || replica == r->cfg.replica) return CNV_EINVAL;
  pthread_mutex_lock(&r->lock);
  cnv_status st = CNV_OK;
  for (size_t i = 0; i < r->n_values && st == CNV_OK; i++) {
    value *v = &r->values[i];
    cnv_status s = cnv_crdt_retire(v->state, replica, v->pending);
    if (s == CNV_OK)
      v->dirty = true;
    else if (s != CNV_ENOTFOUND)
      st = s;
  }
  pthread_mutex_unlock(&r->lock);
  return st;
}

cnv_status cnv_crdt_repl_rekey(cnv_crdt_repl *r, uint64_t replica) {
  if (!r || replica == 0) return CNV_EINVAL;
  pthread_mutex_lock(&r->lock);
  cnv_crdt **fresh = calloc(r->n_values ? r->n_values : 1, sizeof *fresh);
  cnv_status st = fresh ? CNV_OK : CNV_ENOMEM;
  for (size_t i = 0; i < r->n_values && st == CNV_OK; i++) st = cnv_crdt_clone(r->values[i].state, replica, &fresh[i]);
  if (st == CNV_OK) {
    for (size_t i = 0; i < r->n_values; i++) {
      cnv_crdt_destroy(r->values[i].state);
      r->values[i].state = fresh[i];
      fresh[i] = NULL;
    }
    r->cfg.replica = replica;
  }
  for (size_t i = 0; fresh && i < r->n_values; i++) cnv_crdt_destroy(fresh[i]);
  free(fresh);
  pthread_mutex_unlock(&r->lock);
  return st;
}

cnv_status cnv_crdt_repl_snapshot(cnv_crdt_repl *r, uint8_t *out, size_t cap, size_t *len) {
  if (!r || !len || (!out && cap)) return CNV_EINVAL;
  pthread_mutex_lock(&r->lock);
  repl_buf b = {0};
  cnv_status st = repl_begin(&b, r->epoch, 0, 0);
  for (size_t i = 0; i < r->n_values && st == CNV_OK; i++) {
    value *v = &r->values[i];
    size_t enc = 0;
    st = encode(r, v->state, &enc);
    if (st == CNV_OK) st = repl_buf_reserve(&b, 2u + v->name_len + 22u + enc);
    if (st != CNV_OK) break;
    repl_put_u8(&b, REPL_DELTA);
    repl_put_u8(&b, v->name_len);
    repl_put_bytes(&b, v->name, v->name_len);
    repl_put_u8(&b, (uint8_t)v->type);
    repl_put_u8(&b, 1);
    repl_put_u64(&b, 0);
    repl_put_u64(&b, v->seq);
    repl_put_u32(&b, (uint32_t)enc);
    repl_put_bytes(&b, r->scratch, enc);
    b.count++;
  }
  pthread_mutex_unlock(&r->lock);
  if (st == CNV_OK && b.count == 0) st = CNV_ENOTFOUND;
  if (st == CNV_OK) {
    repl_finish(&b);
    *len = b.len;
    if (b.len > cap)
      st = CNV_EFULL;
    else
      memcpy(out, b.p, b.len);
  }
  free(b.p);
  return st;
}

void cnv_crdt_repl_stats_get(const cnv_crdt_repl *r, cnv_crdt_repl_stats *out) {
  if (!out) return;
  *out = (cnv_crdt_repl_stats){0};
  if (!r) return;
  out->sent = cnv__load_relaxed(&r->sent);
  out->received = cnv__load_relaxed(&r->received);
  out->malformed = cnv__load_relaxed(&r->malformed);
  out->send_failed = cnv__load_relaxed(&r->send_failed);
  out->bytes_sent = cnv__load_relaxed(&r->bytes_sent);
}
