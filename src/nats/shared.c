/* The swarm's shared state as CRDTs (docs/nats.md "Shared state"): a replicator (crdt module)
 * per node, replicated over the subject cnv.S.crdt, every message signed by its node.
 *   - "caps": OR-Set of "NODE:PATH" (NODE the first 8 bytes of the node's key in hex): each
 *     node keeps its registered capabilities in it (adds those missing, removes those it no
 *     longer has, all of them at stop) and removes those of nodes that are not live;
 *   - "served": G-Counter of the invocations answered, each node its own entry.
 * Replica ids: BLAKE2b-64 of the node's key and a generation (0 first): stable across
 * restarts; a node whose id was retired (its mutations are refused) moves to the next
 * generation. One thread per node ticks the replicator every status interval. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cnv/crdt.h>

#include "core/clock.h"
#include "core/ignore.h"
#include "serve_internal.h"
#include "shared_internal.h"
#include "state_internal.h"

#define ENVELOPE (4u + CNV_SW_KEY_BYTES + 64u) /* generation, node key, signature */
#define MAX_GEN 8u
#define HOLD_INTERVALS 3u                     /* counter increments wait this long for the peers' states */
#define RETIRE_INTERVALS 30u                  /* a node silent this long has its replica ids retired */
#define MAX_REPL_MESSAGE ((1u << 20) - 1024u) /* with the envelope, under nats-server's default max_payload (1 MiB) */
#define VIEW_MAX 1024u
#define SNAP_GAP_MS 50u

struct natsn_shared {
  cnv_crdt_repl *repl;
  natsSubscription *sub;
  char subject[CNV_SW_SUBJECT_MAX];
  _Atomic uint32_t gen; /* written by the tick thread, read by the NATS threads */
  uint64_t counted, start_mono;
  uint8_t *out;       /* envelope + message (tick thread, under the replicator's lock) */
  uint8_t *snap;      /* a snapshot's answer, under mu */
  uint64_t last_snap; /* when the last one went (monotonic ms), under mu */
  cnv_nats_node_info *view;
  pthread_t thread;
  bool thread_started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  _Atomic bool stopping; /* written under mu (the wait below), read anywhere */
  _Atomic uint64_t refused;
};

uint64_t natsn_replica_of(const uint8_t pk[CNV_SW_KEY_BYTES], uint32_t gen) {
  uint8_t in[CNV_SW_KEY_BYTES + 4], h[8];
  memcpy(in, pk, CNV_SW_KEY_BYTES);
  for (unsigned i = 0; i < 4; i++) in[CNV_SW_KEY_BYTES + i] = (uint8_t)(gen >> (8 * i));
  crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
  uint64_t id = 0;
  for (unsigned i = 0; i < 8; i++) id |= (uint64_t)h[i] << (8 * i);
  return id ? id : 1;
}

/* The hash the envelope's signature covers: domain, swarm, generation, message. */
static void envelope_hash(uint64_t swarm, uint32_t gen, const uint8_t *msg, size_t len, uint8_t out[32]) {
  crypto_generichash_state st;
  uint8_t head[8 + 8 + 4];
  memcpy(head, "cnv.crdt", 8);
  for (unsigned i = 0; i < 8; i++) head[8 + i] = (uint8_t)(swarm >> (8 * i));
  for (unsigned i = 0; i < 4; i++) head[16 + i] = (uint8_t)(gen >> (8 * i));
  crypto_generichash_init(&st, NULL, 0, 32);
  crypto_generichash_update(&st, head, sizeof head);
  crypto_generichash_update(&st, msg, len);
  crypto_generichash_final(&st, out, 32);
}

/* Seals msg into buf (ENVELOPE + len bytes). */
static void envelope_seal(cnv_nats_node *n, uint32_t gen, const uint8_t *msg, size_t len, uint8_t *buf) {
  uint8_t h[32];
  for (unsigned i = 0; i < 4; i++) buf[i] = (uint8_t)(gen >> (8 * i));
  memcpy(buf + 4, n->public_key, CNV_SW_KEY_BYTES);
  envelope_hash(n->cfg.swarm, gen, msg, len, h);
  crypto_sign_detached(buf + 4 + CNV_SW_KEY_BYTES, NULL, h, sizeof h, n->secret_key);
  memmove(buf + ENVELOPE, msg, len);
}

cnv_status natsn_envelope_open(uint64_t swarm, const uint8_t *buf, size_t len, uint64_t *from,
                               const uint8_t **pk, const uint8_t **msg, size_t *msg_len) {
  if (len <= ENVELOPE || len - ENVELOPE > MAX_REPL_MESSAGE) return CNV_ECRDT_MALFORMED;
  uint32_t gen = 0;
  for (unsigned i = 0; i < 4; i++) gen |= (uint32_t)buf[i] << (8 * i);
  if (gen >= MAX_GEN) return CNV_ECRDT_MALFORMED;
  uint8_t h[32];
  envelope_hash(swarm, gen, buf + ENVELOPE, len - ENVELOPE, h);
  if (crypto_sign_verify_detached(buf + 4 + CNV_SW_KEY_BYTES, h, sizeof h, buf + 4) != 0) return CNV_ESW_PROOF;
  *pk = buf + 4;
  *from = natsn_replica_of(buf + 4, gen);
  *msg = buf + ENVELOPE;
  *msg_len = len - ENVELOPE;
  return CNV_OK;
}

/* ---- the transport ---- */

static cnv_status shared_send(void *ctx, uint64_t to, const uint8_t *msg, size_t len) {
  (void)to; /* one subject: every node gets every message, the replicator skips the others' */
  cnv_nats_node *n = ctx;
  natsn_shared *s = n->shared;
  envelope_seal(n, cnv__load_relaxed(&s->gen), msg, len, s->out);
  natsStatus ns = natsConnection_Publish(n->nc, s->subject, s->out, (int)(ENVELOPE + len));
  return ns == NATS_OK ? CNV_OK : CNV_ENATS_CONNECT;
}

/* A message on cnv.S.crdt: a replication message of a live node of the swarm (its status
 * record verified: its token allows swarm.serve here), or, with a reply subject, a request for
 * a snapshot. Anything else is refused and counted. */
static void on_message(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure) {
  (void)sub;
  cnv_nats_node *n = closure;
  natsn_shared *s = n->shared;
  const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
  int dlen = natsMsg_GetDataLength(m);
  const char *reply = natsMsg_GetReply(m);
  if (reply && *reply && dlen == 0) {
    size_t len = 0;
    /* a snapshot request: anyone may ask (what it carries is what every node's status shows);
     * the answer is signed so the asker can tell a node's from a stranger's */
    pthread_mutex_lock(&s->mu); /* s->snap: one answer at a time */
    uint64_t now = natsn_mono_ms();
    /* at most one answer per SNAP_GAP_MS: a flood of requests costs bounded work */
    if (now - s->last_snap >= SNAP_GAP_MS &&
        cnv_crdt_repl_snapshot(s->repl, s->snap + ENVELOPE, MAX_REPL_MESSAGE, &len) == CNV_OK) {
      s->last_snap = now;
      envelope_seal(n, cnv__load_relaxed(&s->gen), s->snap + ENVELOPE, len, s->snap);
      (void)natsConnection_Publish(nc, reply, s->snap, (int)(ENVELOPE + len)); /* lost: the asker asks again */
    }
    pthread_mutex_unlock(&s->mu);
    natsMsg_Destroy(m);
    return;
  }
  uint64_t from = 0;
  const uint8_t *pk = NULL, *msg = NULL;
  size_t len = 0;
  cnv_status st = dlen > 0 ? natsn_envelope_open(n->cfg.swarm, data, (size_t)dlen, &from, &pk, &msg, &len)
                           : CNV_ECRDT_MALFORMED;
  if (st == CNV_OK && sodium_memcmp(pk, n->public_key, CNV_SW_KEY_BYTES) == 0) {
    natsMsg_Destroy(m); /* our own */
    return;
  }
  if (st == CNV_OK && !natsn_node_live(n, pk)) st = CNV_ENATS_NOT_AUTHORIZED;
  if (st == CNV_OK) st = cnv_crdt_repl_receive(s->repl, from, msg, len);
  if (st != CNV_OK) cnv__fetch_add_relaxed(&s->refused, 1);
  natsMsg_Destroy(m);
}

/* ---- the node's values ---- */

static void node_prefix(const uint8_t pk[CNV_SW_KEY_BYTES], char out[18]) {
  sodium_bin2hex(out, 17, pk, 8);
  out[16] = ':';
  out[17] = 0;
}

typedef struct reconcile {
  cnv_nats_node *n;
  cnv_crdt *state, *delta;
  char prefix[18];
  cnv_status st;
} reconcile;

static bool add_missing(void *ctx, const cnv_runtime_capability_info *info) {
  reconcile *rc = ctx;
  char elem[CNV_CRDT_MAX_ELEM];
  if (17 + info->path_len > sizeof elem) return true; /* a path too long to share */
  memcpy(elem, rc->prefix, 17);
  memcpy(elem + 17, info->path, info->path_len);
  if (!cnv_crdt_orset_contains(rc->state, elem, 17 + info->path_len))
    rc->st = cnv_crdt_orset_add(rc->state, elem, 17 + info->path_len, rc->delta);
  return rc->st == CNV_OK;
}

/* Elements to remove, collected first (removal changes the set being listed). */
typedef struct elem_buf {
  uint8_t len;
  char b[CNV_CRDT_MAX_ELEM];
} elem_buf;
typedef struct doomed {
  reconcile *rc;
  elem_buf *elems;
  size_t n, cap;
  bool own; /* own prefix: only those no longer registered (all of them once stopping) */
} doomed;

static int collect(void *ctx, const void *elem, size_t len) {
  doomed *d = ctx;
  if (len < 17 || memcmp(elem, d->rc->prefix, 17) != 0) return 0;
  if (d->own && !d->rc->n->shared->stopping) {
    cnv_runtime_capability_stats cs;
    if (cnv_runtime_capability_stats_get(d->rc->n->rt, (const char *)elem + 17, len - 17, &cs) == CNV_OK) return 0;
  }
  if (d->n == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 16;
    elem_buf *p = realloc(d->elems, cap * sizeof *p);
    if (!p) {
      d->rc->st = CNV_ENOMEM;
      return 1;
    }
    d->elems = p;
    d->cap = cap;
  }
  d->elems[d->n].len = (uint8_t)len;
  memcpy(d->elems[d->n].b, elem, len);
  d->n++;
  return 0;
}

static void remove_prefixed(reconcile *rc, bool own) {
  doomed d = {.rc = rc, .own = own};
  cnv_status st = cnv_crdt_orset_each(rc->state, collect, &d);
  if (rc->st == CNV_OK) rc->st = st;
  for (size_t i = 0; i < d.n && rc->st == CNV_OK; i++)
    rc->st = cnv_crdt_orset_remove(rc->state, d.elems[i].b, d.elems[i].len, rc->delta);
  free(d.elems);
}

/* This node's elements: its registered capabilities in, the others out. */
static cnv_status own_caps(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  reconcile *rc = ctx;
  rc->state = state;
  rc->delta = delta;
  node_prefix(rc->n->public_key, rc->prefix);
  remove_prefixed(rc, true);
  if (rc->st == CNV_OK && !rc->n->shared->stopping) {
    cnv_status st = cnv_runtime_capability_each(rc->n->rt, add_missing, rc, NULL);
    if (rc->st == CNV_OK) rc->st = st;
  }
  return rc->st;
}

/* A node that is not live: its elements out. */
static cnv_status dead_caps(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  reconcile *rc = ctx;
  rc->state = state;
  rc->delta = delta;
  remove_prefixed(rc, false);
  return rc->st;
}

static cnv_status count_served(void *ctx, cnv_crdt *state, cnv_crdt *delta) {
  return cnv_crdt_gcounter_inc(state, *(const uint64_t *)ctx, delta);
}

/* A mutation refused with CNV_EINVAL: this node's replica id was retired (it was away longer
 * than RETIRE_INTERVALS): the next generation's id. */
static void next_generation(cnv_nats_node *n) {
  natsn_shared *s = n->shared;
  uint32_t gen = cnv__load_relaxed(&s->gen);
  if (gen + 1 >= MAX_GEN) return;
  if (cnv_crdt_repl_rekey(s->repl, natsn_replica_of(n->public_key, gen + 1)) == CNV_OK)
    cnv__store_relaxed(&s->gen, gen + 1);
}

/* One round: this node's values, the dead nodes', then the replicator's tick. */
static void round_once(cnv_nats_node *n) {
  natsn_shared *s = n->shared;
  uint64_t interval = natsn_status_interval(n);
  reconcile rc = {.n = n};
  cnv_status st = cnv_crdt_repl_update(s->repl, NATSN_SHARED_CAPS, own_caps, &rc);
  if (st == CNV_EINVAL) next_generation(n);
  /* a restarted node's entry continues its count only once the peers' states arrived:
   * increments wait HOLD_INTERVALS after start (a G-Counter takes the larger entry) */
  uint64_t answered = cnv__load_relaxed(&n->stats.answered);
  if (answered > s->counted && natsn_mono_ms() - s->start_mono >= HOLD_INTERVALS * interval) {
    uint64_t add = answered - s->counted;
    st = cnv_crdt_repl_update(s->repl, NATSN_SHARED_SERVED, count_served, &add);
    if (st == CNV_OK)
      s->counted = answered;
    else if (st == CNV_EINVAL)
      next_generation(n);
  }
  size_t count = 0;
  if (!s->stopping && cnv_nats_node_view(n, s->view, VIEW_MAX, &count) == CNV_OK) {
    uint64_t now = natsn_now_ms();
    for (size_t i = 0; i < count && i < VIEW_MAX; i++) {
      const cnv_nats_node_info *ni = &s->view[i];
      if (ni->live || sodium_memcmp(ni->node_pk, n->public_key, CNV_SW_KEY_BYTES) == 0) continue;
      reconcile dead = {.n = n};
      node_prefix(ni->node_pk, dead.prefix);
      cnv__ignore_status(cnv_crdt_repl_update(s->repl, NATSN_SHARED_CAPS, dead_caps, &dead)); /* again next round */
      uint64_t its = ni->status.interval_ms ? ni->status.interval_ms : 1000u;
      if (now > ni->record_ms && now - ni->record_ms > RETIRE_INTERVALS * its)
        for (uint32_t g = 0; g < MAX_GEN; g++)                                                 /* ids without entries are skipped */
          cnv__ignore_status(cnv_crdt_repl_retire(s->repl, natsn_replica_of(ni->node_pk, g))); /* again next round */
    }
  }
  /* send failures are counted by the replicator and sent again by anti-entropy */
  cnv__ignore_status(cnv_crdt_repl_tick(s->repl));
}

static void *shared_main(void *arg) {
  cnv_nats_node *n = arg;
  natsn_shared *s = n->shared;
  uint64_t interval = natsn_status_interval(n);
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    pthread_mutex_unlock(&s->mu);
    round_once(n);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) break;
    struct timespec ts = cnv__deadline_after_ms(CLOCK_MONOTONIC, interval);
    while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0) {
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

cnv_status natsn_shared_start(cnv_nats_node *n) {
  natsn_shared *s = calloc(1, sizeof *s);
  if (!s) return CNV_ENOMEM;
  n->shared = s;
  s->out = malloc(ENVELOPE + MAX_REPL_MESSAGE);
  s->snap = malloc(ENVELOPE + MAX_REPL_MESSAGE);
  s->view = calloc(VIEW_MAX, sizeof *s->view);
  cnv_status st = s->out && s->snap && s->view ? CNV_OK : CNV_ENOMEM;
  if (st == CNV_OK) {
    cnv_crdt_repl_config rc = {.replica = natsn_replica_of(n->public_key, 0),
                               .transport = {.send = shared_send, .ctx = n},
                               .max_message = MAX_REPL_MESSAGE};
    st = cnv_crdt_repl_create(&rc, &s->repl);
  }
  if (st == CNV_OK) st = cnv_crdt_repl_add(s->repl, NATSN_SHARED_CAPS, CNV_CRDT_ORSET);
  if (st == CNV_OK) st = cnv_crdt_repl_add(s->repl, NATSN_SHARED_SERVED, CNV_CRDT_GCOUNTER);
  if (st == CNV_OK) st = cnv_sw_subject_swarm(CNV_SW_SUBJ_CRDT, n->cfg.swarm, s->subject, sizeof s->subject, NULL);
  if (st == CNV_OK) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    s->start_mono = natsn_mono_ms();
    if (natsConnection_Subscribe(&s->sub, n->nc, s->subject, on_message, n) != NATS_OK)
      st = CNV_ENATS_CONNECT;
    else if (pthread_create(&s->thread, NULL, shared_main, n) != 0)
      st = CNV_ENOMEM;
    else
      s->thread_started = true;
    if (st != CNV_OK) {
      pthread_mutex_destroy(&s->mu);
      pthread_cond_destroy(&s->cv);
    }
  }
  if (st != CNV_OK) {
    if (s->sub) {
      (void)natsSubscription_Unsubscribe(s->sub); /* closing: nothing to do on failure */
      natsSubscription_Destroy(s->sub);
    }
    cnv_crdt_repl_destroy(s->repl);
    free(s->out);
    free(s->snap);
    free(s->view);
    free(s);
    n->shared = NULL;
  }
  return st;
}

void natsn_shared_stop(cnv_nats_node *n) {
  natsn_shared *s = n->shared;
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  /* the last round takes this node's capabilities out and ships that to the peers (a peer
   * that misses it takes them out itself once this node is no longer live) */
  round_once(n);
  (void)natsConnection_FlushTimeout(n->nc, 1000); /* best effort: peers that miss it see this node dead */
  (void)natsSubscription_Unsubscribe(s->sub);     /* closing: nothing to do on failure */
  natsSubscription_Destroy(s->sub);
  s->sub = NULL;
}

void natsn_shared_destroy(cnv_nats_node *n) {
  natsn_shared *s = n->shared;
  if (!s) return;
  cnv_crdt_repl_destroy(s->repl);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s->out);
  free(s->snap);
  free(s->view);
  free(s);
  n->shared = NULL;
}

/* ---- reading ---- */

typedef struct caps_read {
  cnv_nats_cap_fn fn;
  void *ctx;
} caps_read;

static int each_cap(void *ctx, const void *elem, size_t len) {
  caps_read *cr = ctx;
  uint8_t node[8];
  size_t got = 0;
  if (len < 18 || ((const char *)elem)[16] != ':' ||
      sodium_hex2bin(node, sizeof node, elem, 16, NULL, &got, NULL) != 0 || got != 8)
    return 0; /* not a node's element: no node writes such */
  return cr->fn(cr->ctx, (const char *)elem + 17, len - 17, node);
}

static cnv_status read_caps(void *ctx, const cnv_crdt *state) { return cnv_crdt_orset_each(state, each_cap, ctx); }

cnv_status natsn_shared_caps(cnv_crdt_repl *r, cnv_nats_cap_fn fn, void *ctx) {
  caps_read cr = {.fn = fn, .ctx = ctx};
  return cnv_crdt_repl_read(r, NATSN_SHARED_CAPS, read_caps, &cr);
}

static cnv_status read_counter(void *ctx, const cnv_crdt *state) { return cnv_crdt_counter_value(state, ctx); }

cnv_status natsn_shared_served(cnv_crdt_repl *r, uint64_t *out) {
  int64_t v = 0;
  cnv_status st = cnv_crdt_repl_read(r, NATSN_SHARED_SERVED, read_counter, &v);
  *out = st == CNV_OK ? (uint64_t)v : 0;
  return st;
}

cnv_status cnv_nats_node_capabilities(cnv_nats_node *n, cnv_nats_cap_fn fn, void *ctx) {
  if (!n || !fn) return CNV_EINVAL;
  if (!n->shared) return CNV_ESTATE;
  return natsn_shared_caps(n->shared->repl, fn, ctx);
}

cnv_status cnv_nats_node_shared_get(cnv_nats_node *n, cnv_nats_shared_stats *out) {
  if (!n || !out) return CNV_EINVAL;
  if (!n->shared) return CNV_ESTATE;
  natsn_shared *s = n->shared;
  *out = (cnv_nats_shared_stats){0};
  cnv_crdt_repl_stats_get(s->repl, &out->repl);
  out->refused = cnv__load_relaxed(&s->refused);
  out->replica = natsn_replica_of(n->public_key, cnv__load_relaxed(&s->gen));
  return natsn_shared_served(s->repl, &out->served);
}
