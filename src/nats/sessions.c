/* The sessions table: opened tickets by session id, each with its keys, its anti-replay
 * window and its runtime agent, at most max of them; the least recently used unpinned one
 * goes when a new one needs room (its agent removed from the runtime, its keys wiped).
 *
 * Striped mutexes, not a lock-free table: this is the NATS I/O boundary. Every request
 * already crossed a socket and a NATS callback thread (one per subscription), and it must
 * run its session's replay window check-and-update and its submit (with the session's agent
 * handle, which eviction frees) as one step against eviction: a short critical section per
 * request does that simply. The stripes (by session id) keep the capability subscriptions'
 * threads from contending unless they serve the same stripe; each stripe is its own LRU with
 * its share of max. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/ignore.h"
#include "serve_internal.h"

#define NONE UINT32_MAX
#define MAX_STRIPES 16u

struct natsn_stripe {
  pthread_mutex_t lock;
  natsn_session *s; /* cap entries */
  uint32_t cap, used;
  uint32_t lru_head, lru_tail; /* head: most recently used */
  uint32_t *buckets;           /* mask + 1 chains */
  uint32_t mask;
  natsn_sessions *owner;
};

struct natsn_sessions {
  cnv_nats_node *n;
  /* the key of the stripes' and chains' hash: a session id is the HELLO's hash, which the
   * agent chooses (a new HELLO each try), so an unkeyed hash of it could be aimed at one
   * stripe and one chain */
  uint8_t hash_key[crypto_shorthash_KEYBYTES];
  natsn_stripe *stripes;
  uint32_t n_stripes;
};

static uint64_t sid_hash64(const natsn_sessions *ss, const uint8_t sid[CNV_SW_SID_BYTES]) {
  uint8_t out[crypto_shorthash_BYTES];
  (void)crypto_shorthash(out, sid, CNV_SW_SID_BYTES, ss->hash_key); /* SipHash: cannot fail */
  uint64_t v;
  memcpy(&v, out, sizeof v);
  return v;
}

/* The chain of a session id in its stripe (the hash's low half). */
static uint32_t sid_hash(const natsn_sessions *ss, const uint8_t sid[CNV_SW_SID_BYTES]) {
  return (uint32_t)sid_hash64(ss, sid);
}

/* Its stripe (the hash's high half). */
static uint32_t stripe_of(const natsn_sessions *ss, const uint8_t sid[CNV_SW_SID_BYTES]) {
  return (uint32_t)(sid_hash64(ss, sid) >> 32) % ss->n_stripes;
}

cnv_status natsn_sessions_create(cnv_nats_node *n, uint32_t max, natsn_sessions **out) {
  natsn_sessions *ss = calloc(1, sizeof *ss);
  if (!ss) return CNV_ENOMEM;
  ss->n = n;
  crypto_shorthash_keygen(ss->hash_key);
  ss->n_stripes = max < MAX_STRIPES ? max : MAX_STRIPES;
  ss->stripes = calloc(ss->n_stripes, sizeof *ss->stripes);
  if (!ss->stripes) {
    free(ss);
    return CNV_ENOMEM;
  }
  for (uint32_t i = 0; i < ss->n_stripes; i++) {
    natsn_stripe *st = &ss->stripes[i];
    st->owner = ss;
    st->cap = max / ss->n_stripes + (i < max % ss->n_stripes ? 1u : 0u);
    uint32_t b = 1;
    while (b < st->cap * 2) b <<= 1;
    st->mask = b - 1;
    st->s = sodium_allocarray(st->cap, sizeof *st->s); /* keys inside: guarded pages */
    st->buckets = malloc((size_t)b * sizeof *st->buckets);
    st->lru_head = st->lru_tail = NONE;
    if (!st->s || !st->buckets || pthread_mutex_init(&st->lock, NULL) != 0) {
      if (st->s) sodium_free(st->s);
      free(st->buckets);
      st->s = NULL;
      st->buckets = NULL;
      ss->n_stripes = i;
      natsn_sessions_destroy(ss);
      return CNV_ENOMEM;
    }
    memset(st->s, 0, (size_t)st->cap * sizeof *st->s);
    for (uint32_t k = 0; k < b; k++) st->buckets[k] = NONE;
  }
  *out = ss;
  return CNV_OK;
}

static void drop_session(natsn_sessions *ss, natsn_session *e) {
  /* the agent was added by this table and no submit for it can run now (the stripe is
   * locked, or the node is stopping with nothing in flight): removing it cannot fail */
  cnv__ignore_status(cnv_runtime_agent_remove(ss->n->rt, e->agent));
  sodium_memzero(e, sizeof *e);
  (void)cnv__fetch_sub_relaxed(&ss->n->stats.sessions, 1); /* statistics only */
}

void natsn_sessions_destroy(natsn_sessions *ss) {
  if (!ss) return;
  for (uint32_t i = 0; i < ss->n_stripes; i++) {
    natsn_stripe *st = &ss->stripes[i];
    for (uint32_t k = 0; k < st->cap; k++)
      if (st->s[k].used) drop_session(ss, &st->s[k]);
    sodium_free(st->s); /* wipes too */
    free(st->buckets);
    pthread_mutex_destroy(&st->lock);
  }
  free(ss->stripes);
  sodium_memzero(ss->hash_key, sizeof ss->hash_key);
  free(ss);
}

static void lru_unlink(natsn_stripe *st, uint32_t i) {
  natsn_session *e = &st->s[i];
  if (e->lru_prev != NONE)
    st->s[e->lru_prev].lru_next = e->lru_next;
  else
    st->lru_head = e->lru_next;
  if (e->lru_next != NONE)
    st->s[e->lru_next].lru_prev = e->lru_prev;
  else
    st->lru_tail = e->lru_prev;
  e->lru_prev = e->lru_next = NONE;
}

static void lru_push_front(natsn_stripe *st, uint32_t i) {
  natsn_session *e = &st->s[i];
  e->lru_prev = NONE;
  e->lru_next = st->lru_head;
  if (st->lru_head != NONE) st->s[st->lru_head].lru_prev = i;
  st->lru_head = i;
  if (st->lru_tail == NONE) st->lru_tail = i;
}

static void hash_unlink(natsn_stripe *st, uint32_t i) {
  uint32_t *p = &st->buckets[sid_hash(st->owner, st->s[i].sid) & st->mask];
  while (*p != i) p = &st->s[*p].hash_next;
  *p = st->s[i].hash_next;
}

natsn_session *natsn_sessions_lock(natsn_sessions *ss, const uint8_t sid[CNV_SW_SID_BYTES], natsn_stripe **stripe) {
  natsn_stripe *st = &ss->stripes[stripe_of(ss, sid)];
  *stripe = st;
  pthread_mutex_lock(&st->lock);
  for (uint32_t i = st->buckets[sid_hash(ss, sid) & st->mask]; i != NONE; i = st->s[i].hash_next) {
    if (memcmp(st->s[i].sid, sid, CNV_SW_SID_BYTES) == 0) {
      lru_unlink(st, i);
      lru_push_front(st, i);
      return &st->s[i];
    }
  }
  return NULL;
}

void natsn_sessions_unlock(natsn_stripe *stripe) { pthread_mutex_unlock(&stripe->lock); }

natsn_session *natsn_sessions_insert(natsn_sessions *ss, natsn_stripe *st, const cnv_sw_ticket *t, uint32_t agent) {
  uint32_t i = NONE;
  if (st->used < st->cap) {
    for (uint32_t k = 0; k < st->cap; k++)
      if (!st->s[k].used) {
        i = k;
        break;
      }
    st->used++;
  } else {
    for (uint32_t k = st->lru_tail; k != NONE; k = st->s[k].lru_prev)
      if (st->s[k].pins == 0) {
        i = k;
        break;
      }
    if (i == NONE) return NULL;
    lru_unlink(st, i);
    hash_unlink(st, i);
    drop_session(ss, &st->s[i]);
  }
  natsn_session *e = &st->s[i];
  memcpy(e->sid, t->sid, CNV_SW_SID_BYTES);
  memcpy(e->key_c2s, t->key_c2s, CNV_SW_SYM_BYTES);
  memcpy(e->key_s2c, t->key_s2c, CNV_SW_SYM_BYTES);
  e->expires_ms = t->expires_ms;
  e->agent = agent;
  e->pins = 0;
  cnv__ignore_status(cnv_replay_init(&e->window)); /* non-NULL: cannot fail */
  e->used = true;
  uint32_t *b = &st->buckets[sid_hash(ss, e->sid) & st->mask];
  e->hash_next = *b;
  *b = i;
  lru_push_front(st, i);
  (void)cnv__fetch_add_relaxed(&ss->n->stats.sessions, 1); /* statistics only */
  return e;
}

void natsn_sessions_unpin(natsn_sessions *ss, natsn_session *s) {
  natsn_stripe *st;
  natsn_session *e = natsn_sessions_lock(ss, s->sid, &st);
  if (e) e->pins--;
  natsn_sessions_unlock(st);
}
