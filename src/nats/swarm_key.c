/* The swarm key (docs/nats.md "Swarm state"): the first node of a swarm wins the raw
 * "genesis" key (kvStore_Create), makes the key (epoch 1) and grants it to itself; every other
 * node without a grant writes JOIN and waits for the GRANT that any key-holding node writes
 * when it sees a valid JOIN (kvStore_Create: the first grant stays). Keys are kept per epoch
 * and published lock-free: readers never wait. */
#include <string.h>

#include <sodium.h>

#include "core/atomic.h"
#include "core/ignore.h"
#include "state_internal.h"

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t natsn_key_epoch(const cnv_nats_node *n) {
  if (!n || !n->state) return 0;
  /* acquire: pairs with set_key's release store, so the epoch's bit in held is seen by a
   * natsn_swarm_key that follows */
  return cnv__load_acquire(&n->state->epoch);
}

bool natsn_swarm_key(const cnv_nats_node *n, uint32_t epoch, uint8_t key[CNV_SW_SYM_BYTES]) {
  if (!n || !n->state || !key || epoch == 0 || epoch > NATSN_MAX_EPOCHS) return false;
  natsn_state *s = n->state;
  /* acquire: pairs with set_key's release store, so keys[epoch - 1] is written before this
   * read; a held epoch's key is never written again (it is wiped only at stop, after every
   * user of the node is gone) */
  uint32_t mask = cnv__load_acquire(&s->held);
  if (!(mask & (1u << (epoch - 1)))) return false;
  memcpy(key, s->keys[epoch - 1], CNV_SW_SYM_BYTES);
  return true;
}

/* The create of grant.PK failed. Anyone on the NATS server may write the bucket's keys: a
 * value there that is not a valid record (junk written ahead of the grant, or over it, would
 * keep the joiner from the key for ever) is replaced with body, if nobody wrote it since; a
 * valid grant (another node's) stays. */
static void replace_bad_grant(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES],
                              const uint8_t body[NATSN_GRANT_BODY], uint8_t *buf) {
  char key[CNV_SW_KV_KEY_MAX];
  kvEntry *e = NULL;
  if (cnv_sw_record_key(CNV_SW_REC_GRANT, pk, key, sizeof key, NULL) != CNV_OK ||
      kvStore_Get(&e, n->state->kv, key) != NATS_OK)
    return; /* JetStream refused, or the key went: the joiner times out and starts again */
  cnv_sw_record rec;
  bool read;
  bool valid = natsn_record_verify(n, key, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &rec, &read) == CNV_OK;
  uint64_t rev = kvEntry_Revision(e);
  kvEntry_Destroy(e);
  /* refused: someone wrote it since (another node's grant, or junk again: then the joiner
   * times out, and its next start writes its JOIN again) */
  if (!valid) cnv__ignore_status(natsn_record_replace(n, buf, CNV_SW_REC_GRANT, pk, body, NATSN_GRANT_BODY, rev));
}

/* Seals the current key to pk and writes grant.PK (kvStore_Create: the first grant stays). */
static void grant_to(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], uint8_t *buf) {
  if (sodium_memcmp(pk, n->public_key, CNV_SW_KEY_BYTES) == 0) return; /* our own: genesis wrote it */
  uint32_t epoch = natsn_key_epoch(n);
  uint8_t key[CNV_SW_SYM_BYTES];
  if (!natsn_swarm_key(n, epoch, key)) return;
  uint8_t body[NATSN_GRANT_BODY];
  put32(body, epoch);
  memcpy(body + 4, pk, CNV_SW_KEY_BYTES);
  cnv_status st = cnv_sw_grant_seal(key, pk, body + 4 + CNV_SW_KEY_BYTES);
  sodium_memzero(key, sizeof key);
  /* A failure leaves the joiner without a grant from us: its key was not a valid point (its
   * token verified, so this does not happen), another node's grant was first (the create
   * fails: nothing to do), or JetStream refused (the joiner times out and starts again). */
  if (st == CNV_OK && natsn_record_put(n, buf, CNV_SW_REC_GRANT, pk, body, sizeof body, true) != CNV_OK)
    replace_bad_grant(n, pk, body, buf);
}

void natsn_state_set_key(cnv_nats_node *n, uint32_t epoch, const uint8_t key[CNV_SW_SYM_BYTES], uint8_t *buf) {
  natsn_state *s = n->state;
  if (epoch == 0 || epoch > NATSN_MAX_EPOCHS) return;
  uint32_t n_joins = 0;
  bool first = false;
  pthread_mutex_lock(&s->mu);
  /* relaxed: writers of held are serialized by mu */
  uint32_t mask = cnv__load_relaxed(&s->held);
  uint32_t bit = 1u << (epoch - 1);
  if (!(mask & bit)) {
    memcpy(s->keys[epoch - 1], key, CNV_SW_SYM_BYTES);
    first = mask == 0;
    /* release: the key bytes above are visible to whoever acquires the mask with this bit */
    cnv__store_release(&s->held, mask | bit);
    /* release: natsn_key_epoch's acquire then sees the bit above too */
    if (epoch > cnv__load_relaxed(&s->epoch)) cnv__store_release(&s->epoch, epoch);
    /* the JOINs that came before the key: granted below, outside the lock (network) */
    n_joins = s->n_pending;
    s->n_pending = 0;
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  /* pending is not written again once a key is held (join_received grants at once then), so
   * its first n_joins entries stay as they are while we read them unlocked */
  for (uint32_t i = 0; i < n_joins; i++) grant_to(n, s->pending[i], buf);
  if (first) {
    cnv_nats_event ev = {.kind = CNV_NATS_EV_KEY_READY, .record_ms = natsn_now_ms()};
    memcpy(ev.id, n->public_key, CNV_SW_KEY_BYTES);
    natsn_event(n, &ev);
  }
}

cnv_status natsn_grant_received(cnv_nats_node *n, const uint8_t *body, size_t len, uint8_t *buf) {
  if (len != NATSN_GRANT_BODY) return CNV_ESW_MALFORMED;
  if (sodium_memcmp(body + 4, n->public_key, CNV_SW_KEY_BYTES) != 0) return CNV_OK; /* another node's */
  uint32_t epoch = get32(body);
  if (epoch == 0 || epoch > NATSN_MAX_EPOCHS) return CNV_ESW_MALFORMED;
  uint8_t key[CNV_SW_SYM_BYTES];
  cnv_status st = cnv_sw_grant_open(n->secret_key, body + 4 + CNV_SW_KEY_BYTES, key);
  if (st == CNV_OK) natsn_state_set_key(n, epoch, key, buf);
  sodium_memzero(key, sizeof key);
  return st;
}

void natsn_join_received(cnv_nats_node *n, const uint8_t pk[CNV_SW_KEY_BYTES], uint8_t *buf) {
  natsn_state *s = n->state;
  if (sodium_memcmp(pk, n->public_key, CNV_SW_KEY_BYTES) == 0) return;
  pthread_mutex_lock(&s->mu);
  /* relaxed: read under mu, which set_key holds while it changes it */
  bool held = cnv__load_relaxed(&s->held) != 0;
  if (!held && s->n_pending < NATSN_MAX_PENDING_JOINS) {
    memcpy(s->pending[s->n_pending++], pk, CNV_SW_KEY_BYTES);
  }
  pthread_mutex_unlock(&s->mu);
  /* A JOIN beyond the pending limit is dropped: that joiner times out and writes it again. */
  if (held) grant_to(n, pk, buf);
}

/* Waits until a key is held, stop is asked, or deadline (monotonic ms). */
static bool wait_key(natsn_state *s, uint64_t deadline) {
  pthread_mutex_lock(&s->mu);
  while (cnv__load_relaxed(&s->held) == 0 && !s->stopping) {
    uint64_t now = natsn_mono_ms();
    if (now >= deadline) break;
    natsn_cv_wait_ms(s, deadline - now);
  }
  bool held = cnv__load_relaxed(&s->held) != 0;
  pthread_mutex_unlock(&s->mu);
  return held;
}

cnv_status natsn_key_obtain(cnv_nats_node *n) {
  natsn_state *s = n->state;
  if (natsn_key_epoch(n) != 0) return CNV_OK; /* the replay gave us our grant */
  uint64_t deadline = natsn_mono_ms() + natsn_connect_timeout(n);
  uint64_t rev;
  if (kvStore_Create(&rev, s->kv, NATSN_GENESIS_KEY, n->public_key, CNV_SW_KEY_BYTES) == NATS_OK) {
    /* the first node: make the key, grant it to ourselves (a restart finds it in the replay) */
    uint8_t key[CNV_SW_SYM_BYTES];
    randombytes_buf(key, sizeof key);
    uint8_t body[NATSN_GRANT_BODY];
    put32(body, 1);
    memcpy(body + 4, n->public_key, CNV_SW_KEY_BYTES);
    cnv_status st = cnv_sw_grant_seal(key, n->public_key, body + 4 + CNV_SW_KEY_BYTES);
    if (st == CNV_OK) st = natsn_record_put(n, s->buf, CNV_SW_REC_GRANT, n->public_key, body, sizeof body, false);
    if (st == CNV_OK) natsn_state_set_key(n, 1, key, s->buf);
    sodium_memzero(key, sizeof key);
    return st;
  }
  /* genesis exists (or JetStream failed: the read says which) */
  kvEntry *e = NULL;
  natsStatus ns = kvStore_Get(&e, s->kv, NATSN_GENESIS_KEY);
  kvEntry_Destroy(e);
  if (ns != NATS_OK) return natsn_kv_status(ns);
  cnv_status st = natsn_record_put(n, s->buf, CNV_SW_REC_JOIN, n->public_key, NULL, 0, false);
  if (st != CNV_OK) return st;
  if (!wait_key(s, deadline)) return CNV_ENATS_TIMEOUT;
  /* granted: the JOIN has done its work (a failed delete leaves a JOIN that a later grant
   * attempt answers with a refused create: harmless) */
  char key[CNV_SW_KV_KEY_MAX];
  if (cnv_sw_record_key(CNV_SW_REC_JOIN, n->public_key, key, sizeof key, NULL) == CNV_OK) {
    kvStore_Delete(s->kv, key);
  }
  return CNV_OK;
}
