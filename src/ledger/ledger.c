/* Opening and closing a writable ledger: configuration checks, the directory and its lock,
 * recovery through the store (rebuilding the in-memory tree, finding GENESIS and the
 * checkpoints), GENESIS on an empty directory, the writer thread; close drains, writes the
 * last checkpoint, stops the writer and wipes the secret key. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/atomic.h"
#include "core/clock.h"
#include "lstore.h"
#include "writer_internal.h"

uint64_t cnv__ledger_now_ms(void) { return cnv__clock_ms(CLOCK_REALTIME); }

uint64_t cnv__ledger_mono_ns(void) { return cnv__clock_ns(CLOCK_MONOTONIC); }

cnv_status cnv__ledger_add_cp(cnv_ledger *l, const cnv_checkpoint *c) {
  if (l->ncps == l->capcps) {
    size_t cap = l->capcps ? l->capcps * 2 : 16;
    cnv_checkpoint *n = realloc(l->cps, cap * sizeof *n);
    if (!n) return CNV_ENOMEM;
    l->cps = n;
    l->capcps = cap;
  }
  l->cps[l->ncps++] = *c;
  return CNV_OK;
}

/* What the recovery scan gathers. */
typedef struct open_scan {
  cnv_ledger *l;
  cnv_status st;  /* first failure (ENOMEM, CORRUPT, KEY), CNV_OK */
  uint64_t count; /* records seen */
  uint64_t last_cp_index;
  int have_cp;
} open_scan;

static void scan_fail(open_scan *s, cnv_status st) {
  if (s->st == CNV_OK) s->st = st;
}

static int scan_record(void *ctx, const cnv__lscan_rec *r) {
  open_scan *s = ctx;
  cnv_ledger *l = s->l;
  /* Never stop the scan early: the store must see the whole log to find a torn tail. */
  if (s->st != CNV_OK) return 0;
  if (cnv__mtree_push(&l->tree, r->leaf) != CNV_OK) {
    scan_fail(s, CNV_ENOMEM);
    return 0;
  }
  memcpy(l->prev, r->leaf, CNV_LEDGER_HASH_BYTES);
  s->count++;
  cnv_ledger_entry e;
  if (cnv_ledger_entry_decode(r->body, r->body_len, &e, NULL, NULL) != CNV_OK) {
    scan_fail(s, CNV_ELEDGER_CORRUPT);
    return 0;
  }
  if (r->index == 0) {
    if (e.kind != CNV_LREC_GENESIS) scan_fail(s, CNV_ELEDGER_CORRUPT);
    /* not secret: both are public keys */
    else if (memcmp(e.key, l->pk, CNV_LEDGER_KEY_BYTES) != 0)
      scan_fail(s, CNV_ELEDGER_KEY);
  } else if (e.kind == CNV_LREC_CHECKPOINT) {
    cnv_checkpoint c;
    if (cnv_checkpoint_decode(e.payload, e.payload_len, &c) != CNV_OK || c.tree_size != r->index) {
      scan_fail(s, CNV_ELEDGER_CORRUPT);
      return 0;
    }
    if (cnv__ledger_add_cp(l, &c) != CNV_OK) scan_fail(s, CNV_ENOMEM);
    s->have_cp = 1;
    s->last_cp_index = r->index;
  }
  return 0;
}

/* Writes GENESIS as record 0 of an empty log and makes it durable. */
static cnv_status write_genesis(cnv_ledger *l) {
  cnv_ledger_entry e;
  memset(&e, 0, sizeof e);
  e.kind = CNV_LREC_GENESIS;
  e.time_ms = cnv__ledger_now_ms();
  memcpy(e.key, l->pk, CNV_LEDGER_KEY_BYTES);
  static const uint8_t zero[CNV_LEDGER_HASH_BYTES];
  size_t len;
  cnv_status st = cnv_ledger_entry_encode(&e, 0, zero, l->body, CNV__LBODY_MAX, &len);
  if (st != CNV_OK) return st;
  uint8_t leaf[CNV_LEDGER_HASH_BYTES];
  st = cnv_ledger_leaf_hash(l->body, len, leaf);
  if (st != CNV_OK) return st;
  st = cnv__lstore_append(l->store, 0, l->body, len, leaf);
  if (st != CNV_OK) return st;
  st = cnv__lstore_sync(l->store, (int)l->cfg.sync);
  if (st != CNV_OK) return st;
  st = cnv__mtree_push(&l->tree, leaf);
  if (st != CNV_OK) return st;
  memcpy(l->prev, leaf, CNV_LEDGER_HASH_BYTES);
  return CNV_OK;
}

static cnv_status check_config(const cnv_ledger_config *in, cnv_ledger_config *cfg) {
  if (!in->dir || !in->dir[0] || !in->secret_key) return CNV_EINVAL;
  *cfg = *in;
  if (cfg->segment_bytes == 0) cfg->segment_bytes = UINT64_C(64) << 20;
  if (cfg->queue_capacity == 0) cfg->queue_capacity = 65536;
  if (cfg->max_batch == 0) cfg->max_batch = 4096;
  if (cfg->checkpoint_every == 0) cfg->checkpoint_every = 10000;
  if (cfg->checkpoint_interval_ms == 0) cfg->checkpoint_interval_ms = 1000;
  if (cfg->sync == 0) cfg->sync = 1;
  if (cfg->segment_bytes > CNV__LSEG_MAX_BYTES) return CNV_ERANGE;
  if (cfg->queue_capacity < 2 || cfg->queue_capacity > CNV_HOTPATH_MAX_CAPACITY ||
      (cfg->queue_capacity & (cfg->queue_capacity - 1)) != 0)
    return CNV_ERANGE;
  if (cfg->max_batch > cfg->queue_capacity) cfg->max_batch = cfg->queue_capacity;
  if (cfg->full_policy > CNV_LEDGER_FULL_DROP || cfg->sync > 2) return CNV_ERANGE;
  return CNV_OK;
}

/* The key pair in sk must be consistent: its seed must derive its public half. */
static cnv_status take_key(cnv_ledger *l, const uint8_t *sk) {
  uint8_t pk[CNV_LEDGER_KEY_BYTES], sk2[CNV_LEDGER_SECRET_BYTES];
  int bad = crypto_sign_seed_keypair(pk, sk2, sk) != 0 || sodium_memcmp(pk, sk + 32, sizeof pk) != 0;
  sodium_memzero(sk2, sizeof sk2);
  if (bad) return CNV_EINVAL;
  memcpy(l->sk, sk, CNV_LEDGER_SECRET_BYTES);
  memcpy(l->pk, pk, CNV_LEDGER_KEY_BYTES);
  return CNV_OK;
}

static cnv_status lock_dir(const char *dir, int *fd_out) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return CNV_EIO;
  size_t n = strlen(dir);
  char *path = malloc(n + sizeof "/lock");
  if (!path) return CNV_ENOMEM;
  memcpy(path, dir, n);
  memcpy(path + n, "/lock", sizeof "/lock");
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd < 0) return CNV_EIO;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int busy = errno == EWOULDBLOCK;
    close(fd);
    return busy ? CNV_ESTATE : CNV_EIO;
  }
  *fd_out = fd;
  return CNV_OK;
}

/* Frees what open made; the writer is not running. */
static void ledger_free(cnv_ledger *l) {
  cnv__lqrec r;
  /* Records left in the queue (the writer stopped early): free their heap payloads. Once
   * every push has returned a pop sees only CNV_OK or CNV_EEMPTY. */
  if (l->q) {
    while (cnv_queue_try_pop_mpmc(l->q, &r) == CNV_OK) free(r.heap);
    cnv_queue_destroy(l->q);
  }
  cnv__lstore_close(l->store);
  cnv__mtree_free(&l->tree);
  free(l->cps);
  free(l->batch);
  free(l->body);
  free(l->pending);
  pthread_mutex_destroy(&l->mu);
  pthread_mutex_destroy(&l->wake_mu);
  pthread_cond_destroy(&l->wake_cv);
  pthread_mutex_destroy(&l->dur_mu);
  pthread_cond_destroy(&l->dur_cv);
  if (l->lock_fd >= 0) close(l->lock_fd);
  sodium_memzero(l->sk, sizeof l->sk);
  free(l);
}

static cnv_status init_sync(cnv_ledger *l) {
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0) return CNV_ENOMEM;
  /* monotonic: the writer's sleep ends at the next interval checkpoint */
  int bad = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0;
  bad |= pthread_mutex_init(&l->mu, NULL) != 0;
  bad |= pthread_mutex_init(&l->wake_mu, NULL) != 0;
  bad |= pthread_cond_init(&l->wake_cv, &ca) != 0;
  bad |= pthread_mutex_init(&l->dur_mu, NULL) != 0;
  bad |= pthread_cond_init(&l->dur_cv, &ca) != 0;
  pthread_condattr_destroy(&ca);
  return bad ? CNV_ENOMEM : CNV_OK;
}

cnv_status cnv_ledger_open(const cnv_ledger_config *cfg_in, cnv_ledger **out, cnv_ledger_recovery *rec) {
  if (!cfg_in || !out) return CNV_EINVAL;
  *out = NULL;
  cnv_ledger_config cfg;
  cnv_status st = check_config(cfg_in, &cfg);
  if (st != CNV_OK) return st;
  if (sodium_init() < 0) return CNV_ENOTSUP;
  cnv_ledger *l = calloc(1, sizeof *l);
  if (!l) return CNV_ENOMEM;
  l->lock_fd = -1;
  cnv__mtree_init(&l->tree);
  st = init_sync(l);
  if (st == CNV_OK) st = take_key(l, cfg.secret_key);
  cfg.dir = NULL;
  cfg.secret_key = NULL;
  l->cfg = cfg;
  if (st == CNV_OK) st = lock_dir(cfg_in->dir, &l->lock_fd);
  if (st == CNV_OK) {
    l->batch = malloc((size_t)CNV__LWRITE_CHUNK * sizeof *l->batch);
    l->pending = malloc((size_t)cfg.max_batch * sizeof *l->pending);
    l->body = malloc(CNV__LBODY_MAX);
    if (!l->batch || !l->pending || !l->body) st = CNV_ENOMEM;
  }
  if (st == CNV_OK) st = cnv_queue_create(cfg.queue_capacity, (uint32_t)sizeof(cnv__lqrec), &l->q);
  if (st == CNV_ECAPACITY) st = CNV_ERANGE;
  cnv_ledger_recovery r;
  memset(&r, 0, sizeof r);
  open_scan scan = {.l = l, .st = CNV_OK};
  if (st == CNV_OK)
    st = cnv__lstore_open(cfg_in->dir, cfg.segment_bytes, cfg.max_bytes, scan_record, &scan, &l->store, &r);
  if (st == CNV_OK) st = scan.st;
  if (st == CNV_OK && scan.count != r.records) st = CNV_ELEDGER_CORRUPT;
  if (st == CNV_OK && r.records == 0) {
    st = write_genesis(l);
    /* max_bytes too small for even GENESIS: the log cannot be written at all */
    if (st == CNV_EFULL) st = CNV_ERANGE;
    r.records = 1;
  }
  if (st != CNV_OK) {
    ledger_free(l);
    return st;
  }
  r.last_checkpoint = scan.have_cp ? scan.last_cp_index : 0;
  l->base = r.records;
  l->next = r.records;
  l->since_cp = scan.have_cp ? r.records - scan.last_cp_index - 1 : r.records;
  l->last_cp_ns = cnv__ledger_mono_ns();
  atomic_init(&l->durable, r.records);
  atomic_init(&l->segments, cnv__lstore_segments(l->store));
  atomic_init(&l->bytes, cnv__lstore_bytes(l->store));
  r.segments = cnv__lstore_segments(l->store);
  /* pthread_create's start is a full barrier: the writer sees everything set above */
  if (pthread_create(&l->thread, NULL, cnv__ledger_writer_main, l) != 0) {
    ledger_free(l);
    return CNV_ENOMEM;
  }
  l->thread_started = 1;
  if (rec) *rec = r;
  *out = l;
  return CNV_OK;
}

void cnv_ledger_close(cnv_ledger *l) {
  if (!l) return;
  /* release: appends that see closing refuse; the writer reads it under wake_mu too */
  cnv__store_release(&l->closing, 1);
  pthread_mutex_lock(&l->wake_mu);
  pthread_cond_signal(&l->wake_cv);
  pthread_mutex_unlock(&l->wake_mu);
  if (l->thread_started) pthread_join(l->thread, NULL);
  ledger_free(l);
}
