/* The open ledger's state, shared by ledger.c (open, close), append.c (the producers'
 * side), writer.c (the writer thread) and prove.c (readers of the writer's state).
 *
 * Threads and what each touches:
 *   appenders   push queue records (cnv_queue_try_push_mpmc_at), read closing/stopped, wake
 *               the writer through wake_mu/wake_cv only when it sleeps;
 *   the writer  owns store, prev, next, since_cp, batch, body; takes mu to grow tree and cps;
 *               publishes durable (release) and signals dur_cv;
 *   the sync thread (writer.c, started and joined by the writer) only fdatasyncs a descriptor
 *               the writer hands it and reports back (its own mutex);
 *   readers     (prove, covering, wait_durable) load durable (acquire), then take mu. */
#ifndef CNV__LEDGER_WRITER_INTERNAL_H
#define CNV__LEDGER_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cnv/hotpath.h>
#include <cnv/ledger.h>

#include "ledger_internal.h"
#include "lstore.h"

/* What a queue record asks the writer to do. */
enum { CNV__LQ_ENTRY = 0,
       CNV__LQ_CHECKPOINT = 1 };

/* Records the writer pops at a time: a group commit of up to max_batch records is written
 * in chunks this size, each while its copies are still in the core's cache (64 records of
 * cnv__lqrec are about 17 KiB). */
#define CNV__LWRITE_CHUNK 64u

/* One queue record: the entry's fields, its payload inline (up to
 * CNV_LEDGER_INLINE_PAYLOAD) or on the heap (heap owned by the record: the writer frees it,
 * or close when the writer stopped first). A multiple of 8 bytes, as the queue needs. */
typedef struct cnv__lqrec {
  uint16_t kind;
  uint16_t detail;
  int32_t status;
  uint32_t agent;
  uint32_t flags;
  uint64_t time_ms;
  uint64_t start_ms;
  uint64_t token_time;
  uint64_t ticket;
  uint64_t capability;
  uint64_t epoch;
  uint8_t key[CNV_LEDGER_KEY_BYTES];
  uint8_t digest[CNV_LEDGER_HASH_BYTES];
  uint8_t result[CNV_LEDGER_HASH_BYTES];
  /* the record's content hash (cnv__lcontent_entry), computed by the appending thread so
   * the writer hashes only prev || index || content (one compression) per record */
  uint8_t content[CNV_LEDGER_HASH_BYTES];
  uint32_t payload_len;
  uint32_t op; /* CNV__LQ_* */
  uint8_t *heap;
  uint8_t inline_payload[CNV_LEDGER_INLINE_PAYLOAD];
} cnv__lqrec;
_Static_assert(sizeof(cnv__lqrec) % 8 == 0, "queue records are multiples of 8 bytes");

struct cnv_ledger {
  /* fixed at open */
  cnv_ledger_config cfg; /* defaults applied; dir and secret_key not kept */
  uint8_t sk[CNV_LEDGER_SECRET_BYTES];
  uint8_t pk[CNV_LEDGER_KEY_BYTES];
  int lock_fd;
  cnv_queue *q;
  uint64_t base; /* records in the log before the queue's position 0 */
  pthread_t thread;
  int thread_started;

  /* the writer's own */
  cnv__lstore *store;
  uint8_t prev[CNV_LEDGER_HASH_BYTES];       /* leaf of the last record written */
  uint64_t next;                             /* index of the next record popped */
  uint64_t since_cp;                         /* records written since the last checkpoint */
  uint64_t last_cp_ns;                       /* monotonic time of the last checkpoint (or open) */
  int cp_inflight;                           /* a checkpoint marker the writer pushed is queued */
  cnv__lqrec *batch;                         /* CNV__LWRITE_CHUNK records */
  uint8_t *body;                             /* CNV__LBODY_MAX bytes */
  uint8_t (*pending)[CNV_LEDGER_HASH_BYTES]; /* leaves written but not in tree yet */
  size_t npending;

  /* mu guards tree and cps */
  pthread_mutex_t mu;
  cnv__mtree tree;
  cnv_checkpoint *cps; /* every checkpoint in the log, tree_size ascending */
  size_t ncps;
  size_t capcps;

  /* waking the idle writer */
  pthread_mutex_t wake_mu;
  pthread_cond_t wake_cv;
  _Atomic int sleeping;

  /* waiting for durability */
  pthread_mutex_t dur_mu;
  pthread_cond_t dur_cv;
  _Atomic uint32_t waiters;

  _Atomic uint64_t durable;
  _Atomic int closing;
  _Atomic int stopped;
  _Atomic int error;
  _Atomic uint64_t markers; /* checkpoint markers pushed (not appended records) */
  _Atomic uint64_t dropped;
  _Atomic uint64_t blocked;
  _Atomic uint64_t commits;
  _Atomic uint64_t checkpoints;
  _Atomic uint64_t segments;
  _Atomic uint64_t bytes;
};

/* The writer thread's body (writer.c). */
void *cnv__ledger_writer_main(void *arg);
/* Wakes the writer if it sleeps (after a push). Any thread. */
void cnv__ledger_wake(cnv_ledger *l);
/* Pushes q with backoff while the queue is full, until it goes in (CNV_OK, *index set) or
 * the ledger stops or closes (CNV_ESTATE). *waited is set when it had to wait. */
CNV_NODISCARD cnv_status cnv__ledger_push_wait(cnv_ledger *l, const cnv__lqrec *r, uint64_t *index, int *waited);
/* Adds c to l->cps (caller holds mu). Errors: CNV_ENOMEM. */
CNV_NODISCARD cnv_status cnv__ledger_add_cp(cnv_ledger *l, const cnv_checkpoint *c);
/* Clocks. */
uint64_t cnv__ledger_now_ms(void);
uint64_t cnv__ledger_mono_ns(void);

#endif
