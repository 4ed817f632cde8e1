/* libcnv ledger: the governance ledger, an append-only, tamper-evident, durable log of
 * records, shaped like a Certificate Transparency log (RFC 9162) with BLAKE2b-256 as its hash.
 *
 * Records. Each record is one cnv_ledger_entry (a kind and fixed fields, plus up to
 * CNV_LEDGER_MAX_PAYLOAD bytes). Its canonical body (docs/ledger.md) starts with the hash of
 * the previous record, so the records form a hash chain; the same hash is the record's leaf
 * in a Merkle tree over the whole log:
 *   leaf_hash(body)  = BLAKE2b-256(0x00 || body)            (RFC 9162 section 2.1.1)
 *   node_hash(l, r)  = BLAKE2b-256(0x01 || l || r)
 *   prev of record 0 = 32 zero bytes; prev of record i = leaf_hash(body of record i-1).
 * Record i is the i-th leaf (index i, from 0). The tree of size n covers records 0 .. n-1.
 *
 * Storage. A ledger is a directory of segment files; each segment holds consecutive records,
 * framed as: u32 body length | body | 32-byte leaf hash. A segment is rotated when it passes
 * segment_bytes (at most 1 GiB); appends past max_bytes are refused (CNV_EFULL). Segment files are created
 * atomically (written under a temporary name, fsync'd, renamed, directory fsync'd).
 *
 * Group commit. cnv_ledger_append copies a record into a lock-free queue (hotpath MPMC) and
 * returns the index it will have; one writer thread takes whole batches, hashes and writes
 * them, makes them durable with one fdatasync per batch, and only then publishes the new
 * durable count (cnv_ledger_durable) and calls the config's on_durable callback. A record is
 * "acknowledged" once the durable count passes its index: every acknowledged record survives
 * a crash (SIGKILL or power loss, given a disk that honours fdatasync).
 *
 * Checkpoints. Every checkpoint_every records and/or every checkpoint_interval_ms, and on
 * cnv_ledger_checkpoint and close, the writer appends a CHECKPOINT record: the tree size it
 * covers (every record before it), the root of that tree, the time, and an Ed25519 signature
 * by the ledger's key. Checkpoints live in the log like any record.
 *
 * Recovery. cnv_ledger_open on an existing directory reads every segment, checks every frame,
 * hash and chain link, cuts a torn or partial tail back to the last complete record (and says
 * so in cnv_ledger_recovery), and refuses (CNV_ELEDGER_CORRUPT) a log whose damage is not a
 * torn tail. cnv_ledger_verify_dir checks a closed log completely (frames, chain, every
 * checkpoint's root and signature) and names the first bad record.
 *
 * Receipts. A receipt proves one COMPLETE record: its fields, its leaf hash, the inclusion
 * proof of that leaf in a signed checkpoint, and the checkpoint. cnv_receipt_verify checks it
 * offline with only the node's public key.
 *
 * Thread-safety: see each function. cnv_ledger_append: any threads at once; waits for a
 * preempted peer (the queue push) and, under CNV_LEDGER_FULL_BLOCK with a full queue, waits
 * for the writer. The pure functions (merkle, checkpoint, receipt codecs and verifiers) are
 * thread-safe and allocate nothing. The library never prints and never aborts. */
#ifndef CNV_LEDGER_H
#define CNV_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNV_LEDGER_HASH_BYTES 32      /* BLAKE2b-256 */
#define CNV_LEDGER_KEY_BYTES 32       /* Ed25519 public key */
#define CNV_LEDGER_SECRET_BYTES 64    /* libsodium Ed25519 secret key (seed || public key) */
#define CNV_LEDGER_SIG_BYTES 64       /* Ed25519 signature */
#define CNV_LEDGER_MAX_PAYLOAD 4096u  /* largest payload of one record */
#define CNV_LEDGER_INLINE_PAYLOAD 64u /* payloads up to this size travel inside the queue
                                         record (no allocation); larger ones are copied to
                                         the heap by append (control-plane records only) */
#define CNV_LEDGER_MAX_PROOF 64u      /* hashes in a proof: enough for 2^64 leaves */
#define CNV_LEDGER_NONE UINT64_MAX    /* "no record" (an index that does not exist) */

/* ------------------------------------------------------------------------------------ */
/* Records.                                                                              */

/* Record kinds and how each uses the entry's fields (fields not named are zero). The
 * runtime writes these (see runtime.h, "Ledger"); cnv_audit replays them. */
typedef enum cnv_ledger_kind {
  /* The ledger's first record, written by open on an empty directory: key = the ledger's
   * public key (checkpoints verify with it); time_ms. */
  CNV_LREC_GENESIS = 1,
  /* A signed tree head: payload = cnv_checkpoint encoded (cnv_checkpoint_encode). */
  CNV_LREC_CHECKPOINT = 2,
  /* The runtime's configuration, written when it is created: ticket = swarm id; payload =
   * 16 bytes, the verifier settings replay needs: skew (u64 LE), max_counters (u32 LE),
   * max_counters_per_delegate (u32 LE). */
  CNV_LREC_CONFIG = 3,
  /* A trust root added: key = the root's public key. detail 1: removed. */
  CNV_LREC_TRUST = 4,
  /* A token hash revoked: digest = the revoked link hash. */
  CNV_LREC_REVOKE = 5,
  /* An agent added: agent = its handle; key = its public key; digest = its token chain hash
   * (cnv_ledger_token_hash of the token bytes); payload = the token bytes. detail 1: removed
   * (no payload). */
  CNV_LREC_AGENT = 6,
  /* A capability registered: capability = its id; detail = its duration class; flags = its
   * effects bits; payload = its path. detail 0xFFFF: unregistered (no payload). */
  CNV_LREC_REGISTER = 7,
  /* A phase move: detail = (from << 8) | to (cnv_phase values); status = why (0: an explicit
   * transition, else the breaker's or the algedonic signal's reason code). */
  CNV_LREC_PHASE = 8,
  /* An admission decision by submit, after the line parsed: agent, capability (0 when the
   * line did not parse), ticket (0 when denied), token_time (the token clock, seconds, the
   * decision used), time_ms, epoch, digest = the agent's token chain hash (zero when the
   * agent is unknown), flags bit 0 = low priority; status = CNV_OK when accepted, else the
   * denial status (CNV_ERT_DENY_*) or CNV_EFULL (no room); detail = the denial reason + 1
   * (0 when accepted or full). */
  CNV_LREC_ADMIT = 9,
  /* A completion: ticket, agent, capability, epoch (at admission), start_ms (acceptance,
   * wall clock), time_ms (completion), detail = cnv_runtime_done kind, status = the
   * completion's status, key = the agent's public key, digest = its token chain hash,
   * result = BLAKE2b-256 of the result bytes (unkeyed). Receipts attest these records. */
  CNV_LREC_COMPLETE = 10,
  /* An application's record: every field is the application's. */
  CNV_LREC_APP = 11
} cnv_ledger_kind;

/* One record's fields. payload points at payload_len bytes (the caller's; append copies). */
typedef struct cnv_ledger_entry {
  uint16_t kind;   /* cnv_ledger_kind */
  uint16_t detail; /* small kind-specific value (table above) */
  int32_t status;
  uint32_t agent;
  uint32_t flags;
  uint64_t time_ms;    /* wall clock of the event, ms since the Unix epoch */
  uint64_t start_ms;   /* wall clock of an earlier moment it refers to (acceptance) */
  uint64_t token_time; /* the token clock (seconds) a decision used */
  uint64_t ticket;
  uint64_t capability;
  uint64_t epoch; /* the policy epoch */
  uint8_t key[CNV_LEDGER_KEY_BYTES];
  uint8_t digest[CNV_LEDGER_HASH_BYTES];
  uint8_t result[CNV_LEDGER_HASH_BYTES];
  const uint8_t *payload;
  uint32_t payload_len; /* <= CNV_LEDGER_MAX_PAYLOAD */
} cnv_ledger_entry;

/* Bytes of a record's fixed body (prev hash and fields, before the payload); the body is
 * CNV_LEDGER_BODY_FIXED + payload_len bytes. */
#define CNV_LEDGER_BODY_FIXED 204u

/* Lowercase name of a kind ("admit"), "unknown" otherwise. Static string; pure. */
CNV_API const char *cnv_ledger_kind_name(int kind);

/* Writes the canonical body of e as record index (prev = the previous record's leaf hash)
 * into out (cap bytes), *len = its size. Pure. Errors: CNV_EINVAL (NULL argument, payload NULL with
 * payload_len > 0, kind not a cnv_ledger_kind), CNV_ERANGE (payload_len over
 * CNV_LEDGER_MAX_PAYLOAD), CNV_EFULL (cap too small; nothing written). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_entry_encode(const cnv_ledger_entry *e, uint64_t index,
                                                         const uint8_t prev[CNV_LEDGER_HASH_BYTES],
                                                         uint8_t *out, size_t cap, size_t *len);
/* Parses a body: *e's payload points into body (valid while body is); index and prev (each
 * may be NULL) receive its index and previous-record hash. Pure; allocates nothing. Errors: CNV_EINVAL (NULL
 * argument), CNV_ELEDGER_CORRUPT (too short, payload length disagreeing with len, unknown
 * kind). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_entry_decode(const uint8_t *body, size_t len, cnv_ledger_entry *e,
                                                         uint64_t *index, uint8_t prev[CNV_LEDGER_HASH_BYTES]);
/* The leaf hash of a record body: the Merkle leaf of the record and the next record's prev.
 *   content = BLAKE2b-256(body[88 .. len))         (capability .. payload)
 *   leaf    = BLAKE2b-256(0x00 || body[0 .. 88) || content)  (prev, index, kind .. ticket)
 * The leaf is RFC 9162's leaf hash (0x00 prefix) of the 120 bytes body[0 .. 88) || content:
 * the chain (prev) and the position (index) enter that last hash, which fits one BLAKE2b
 * block, while the content hash, which depends on neither, is computed by the appending
 * thread before the record has its place in the log; the one serial hash per record on the
 * writer is then one BLAKE2b compression, and a record without payload costs two in all, as
 * H(0x00 || body) would. It commits to every body byte as H(0x00 || body) would (a
 * collision in it is a BLAKE2b collision). Every leaf the library computes from a body (the
 * writer, recovery, readers, verify, receipts) is this function's. Pure. Errors:
 * CNV_EINVAL (NULL argument), CNV_ERANGE (len < CNV_LEDGER_BODY_FIXED: not a body). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_leaf_hash(const uint8_t *body, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]);
/* BLAKE2b-256 of a token's bytes: the "token chain hash" records and receipts carry.
 * Errors: CNV_EINVAL (NULL). Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_token_hash(const uint8_t *token, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]);

/* ------------------------------------------------------------------------------------ */
/* Merkle tree (RFC 9162 section 2.1, with BLAKE2b-256). Pure functions: thread-safe, no
 * allocation.                                                                           */

/* leaf_hash(bytes) = BLAKE2b-256(0x00 || bytes). Errors: CNV_EINVAL (NULL with len > 0). */
CNV_API CNV_NODISCARD cnv_status cnv_merkle_leaf_hash(const uint8_t *bytes, size_t len, uint8_t out[CNV_LEDGER_HASH_BYTES]);
/* node_hash(l, r) = BLAKE2b-256(0x01 || l || r). */
CNV_API void cnv_merkle_node_hash(const uint8_t l[CNV_LEDGER_HASH_BYTES], const uint8_t r[CNV_LEDGER_HASH_BYTES],
                                  uint8_t out[CNV_LEDGER_HASH_BYTES]);
/* The root of the tree over n leaf hashes (leaves[i] is leaf i). The root of the empty tree
 * is BLAKE2b-256 of the empty string. O(n) time, O(log n) stack. Errors: CNV_EINVAL (NULL
 * leaves with n > 0, NULL out). */
CNV_API CNV_NODISCARD cnv_status cnv_merkle_root(const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES], uint64_t n,
                                                 uint8_t out[CNV_LEDGER_HASH_BYTES]);
/* The inclusion proof (audit path, RFC 9162 2.1.3.1) of leaf index in the tree of size
 * leaves[0 .. size-1]: *n hashes into proof (room for CNV_LEDGER_MAX_PROOF). Errors:
 * CNV_EINVAL (NULL), CNV_ERANGE (index >= size). */
CNV_API CNV_NODISCARD cnv_status cnv_merkle_inclusion_proof(const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES], uint64_t size,
                                                            uint64_t index,
                                                            uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n);
/* Checks an inclusion proof (RFC 9162 2.1.3.2). CNV_OK when leaf is leaf index of the tree of
 * this size with this root. Errors: CNV_EINVAL (NULL), CNV_ELEDGER_PROOF (it does not verify:
 * index >= size, wrong length, or another root). */
CNV_API CNV_NODISCARD cnv_status cnv_merkle_verify_inclusion(const uint8_t leaf[CNV_LEDGER_HASH_BYTES], uint64_t index,
                                                             uint64_t size, const uint8_t proof[][CNV_LEDGER_HASH_BYTES],
                                                             size_t n, const uint8_t root[CNV_LEDGER_HASH_BYTES]);
/* The consistency proof between the trees of size1 and size2 over the same leaves
 * (RFC 9162 2.1.4.1), 0 < size1 <= size2. Errors: CNV_EINVAL (NULL), CNV_ERANGE (size1 == 0
 * or size1 > size2). */
CNV_API CNV_NODISCARD cnv_status cnv_merkle_consistency_proof(const uint8_t (*leaves)[CNV_LEDGER_HASH_BYTES], uint64_t size1,
                                                              uint64_t size2, uint8_t proof[][CNV_LEDGER_HASH_BYTES],
                                                              size_t *n);
/* Checks a consistency proof (RFC 9162 2.1.4.2): CNV_OK when the tree of size2 with root2
 * extends the tree of size1 with root1. Errors: CNV_EINVAL (NULL), CNV_ELEDGER_PROOF. */
CNV_API CNV_NODISCARD cnv_status cnv_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                                               const uint8_t root1[CNV_LEDGER_HASH_BYTES],
                                                               const uint8_t root2[CNV_LEDGER_HASH_BYTES],
                                                               const uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t n);

/* ------------------------------------------------------------------------------------ */
/* Checkpoints (signed tree heads).                                                      */

typedef struct cnv_checkpoint {
  uint64_t tree_size; /* records covered: 0 .. tree_size-1 */
  uint8_t root[CNV_LEDGER_HASH_BYTES];
  uint64_t time_ms;
  uint8_t key[CNV_LEDGER_KEY_BYTES]; /* the signer's public key */
  uint8_t sig[CNV_LEDGER_SIG_BYTES]; /* Ed25519 over "cnv-ledger-checkpoint-v1" || key ||
                                        tree_size (u64 LE) || root || time_ms (u64 LE) */
} cnv_checkpoint;

#define CNV_CHECKPOINT_BYTES 176u /* encoded size: tree_size, root, time, key, sig, and 32
                                     reserved zero bytes (docs/receipts.md) */

/* Signs c (tree_size, root, time_ms set by the caller) with sk; sets c->key and c->sig.
 * Errors: CNV_EINVAL (NULL). Pure apart from the signature. */
CNV_API CNV_NODISCARD cnv_status cnv_checkpoint_sign(cnv_checkpoint *c, const uint8_t sk[CNV_LEDGER_SECRET_BYTES]);
/* Checks c's signature, and that c->key equals pk when pk is not NULL. Errors: CNV_EINVAL
 * (NULL c), CNV_ELEDGER_SIGNATURE. */
CNV_API CNV_NODISCARD cnv_status cnv_checkpoint_verify(const cnv_checkpoint *c, const uint8_t pk[CNV_LEDGER_KEY_BYTES]);
/* Canonical encoding, exactly CNV_CHECKPOINT_BYTES bytes into out. Errors: CNV_EINVAL. */
CNV_API CNV_NODISCARD cnv_status cnv_checkpoint_encode(const cnv_checkpoint *c, uint8_t out[CNV_CHECKPOINT_BYTES]);
/* Errors: CNV_EINVAL (NULL), CNV_ELEDGER_CORRUPT (len != CNV_CHECKPOINT_BYTES, or a reserved
 * byte not zero). Does not check the signature. */
CNV_API CNV_NODISCARD cnv_status cnv_checkpoint_decode(const uint8_t *in, size_t len, cnv_checkpoint *c);

/* ------------------------------------------------------------------------------------ */
/* The ledger (a writable log).                                                          */

/* What append does when the queue to the writer is full (the writer is behind). */
typedef enum cnv_ledger_full_policy {
  CNV_LEDGER_FULL_BLOCK = 0, /* wait until the writer makes room (default: never drops) */
  CNV_LEDGER_FULL_DROP = 1   /* refuse the record (CNV_EFULL) and count it as dropped */
} cnv_ledger_full_policy;

/* Called by the writer thread after each group commit, with the new durable count (every
 * record below it is durable). Must not block for long nor call into the ledger except
 * cnv_ledger_durable. */
typedef void (*cnv_ledger_durable_fn)(void *ctx, uint64_t durable);

typedef struct cnv_ledger_config {
  const char *dir;                  /* the ledger's directory; created if absent */
  const uint8_t *secret_key;        /* CNV_LEDGER_SECRET_BYTES, copied (and wiped at
                                                  close); signs checkpoints. Required. */
  uint64_t segment_bytes;           /* rotate past this size; 0: 64 MiB; at most 1 GiB (a
                                       reader refuses a larger segment file) */
  uint64_t max_bytes;               /* total size limit; 0: unlimited */
  uint32_t queue_capacity;          /* records in the queue (power of two); 0: 65536 */
  uint32_t max_batch;               /* most records per group commit; 0: 4096 */
  uint32_t checkpoint_every;        /* records between checkpoints; 0: 10000 */
  uint32_t checkpoint_interval_ms;  /* 0: 1000 (a checkpoint at least this often
                                                  while records arrive) */
  uint32_t full_policy;             /* cnv_ledger_full_policy */
  uint32_t sync;                    /* 1 (default when 0): fdatasync per batch;
                                                  2: none (tests and benches of the CPU cost
                                                  only: nothing is durable before close) */
  cnv_ledger_durable_fn on_durable; /* optional */
  void *durable_ctx;
} cnv_ledger_config;

/* Defaults as documented field by field above (dir and secret_key NULL). */
CNV_API void cnv_ledger_config_default(cnv_ledger_config *cfg);

/* What open found. */
typedef struct cnv_ledger_recovery {
  uint64_t records; /* complete records kept */
  uint64_t segments;
  uint64_t torn_bytes;      /* bytes cut from a torn tail (0: none) */
  uint64_t last_checkpoint; /* tree size of the last checkpoint, 0 when none */
} cnv_ledger_recovery;

typedef struct cnv_ledger cnv_ledger;

/* Opens (or creates) the ledger in cfg->dir and starts its writer thread. On an existing log
 * it recovers as described at the top (a torn tail is cut: *rec says how much) and checks
 * that the GENESIS record's key is cfg->secret_key's public key. rec may be NULL. One thread.
 * Errors: CNV_EINVAL (NULL or missing dir/secret_key, a secret key whose seed does not give
 * its public half), CNV_ERANGE (a size field out of range, queue_capacity not a power of two,
 * max_bytes too small for GENESIS), CNV_EIO (a file operation failed), CNV_ENOTSUP
 * (libsodium failed to initialize),
 * CNV_ELEDGER_CORRUPT (damage other than a torn tail), CNV_ELEDGER_KEY (another key's log),
 * CNV_ESTATE (another open ledger holds the directory: an flock on DIR/lock), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_open(const cnv_ledger_config *cfg, cnv_ledger **out,
                                                 cnv_ledger_recovery *rec);
/* Drains the queue, writes a final checkpoint, makes everything durable, stops the writer
 * and frees the ledger (its secret key wiped). NULL is ignored. One thread, with no append
 * running. Blocking. */
CNV_API void cnv_ledger_close(cnv_ledger *l);

/* Queues one record and sets *index (may be NULL) to the index it will have. Does not wait
 * for the disk: the record is acknowledged once cnv_ledger_durable(l) > *index. Any threads
 * at once; waits for a preempted peer; a payload over CNV_LEDGER_INLINE_PAYLOAD is copied to
 * the heap (allocation). Errors: CNV_EINVAL (NULL, a bad kind or payload; GENESIS and
 * CHECKPOINT are the ledger's own records and are refused), CNV_ERANGE
 * (payload_len over CNV_LEDGER_MAX_PAYLOAD), CNV_EFULL (CNV_LEDGER_FULL_DROP with the queue
 * full; counted as dropped), CNV_ESTATE (closing, or the ledger stopped after an I/O failure
 * or reaching max_bytes: see cnv_ledger_stats.error), CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_append(cnv_ledger *l, const cnv_ledger_entry *e, uint64_t *index);
/* Records durable so far (every index below it). Any thread; wait-free (one acquire load). */
CNV_API uint64_t cnv_ledger_durable(const cnv_ledger *l);
/* Waits until record index is durable or timeout_ns passes. Blocking. Errors: CNV_EINVAL,
 * CNV_EAGAIN (timeout), CNV_ESTATE (the writer stopped: I/O failure or size limit). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_wait_durable(cnv_ledger *l, uint64_t index, uint64_t timeout_ns);
/* Appends a checkpoint now and waits until it is durable; *out (may be NULL) receives it.
 * Any thread; blocking. Errors: as wait_durable. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_checkpoint(cnv_ledger *l, cnv_checkpoint *out);
/* Copies the ledger's public key into pk (the one GENESIS holds; checkpoints verify with it).
 * Any thread; wait-free (it never changes after open). */
CNV_API void cnv_ledger_public_key(const cnv_ledger *l, uint8_t pk[CNV_LEDGER_KEY_BYTES]);

typedef struct cnv_ledger_stats {
  uint64_t appended;    /* records queued */
  uint64_t durable;     /* records durable */
  uint64_t dropped;     /* refused under CNV_LEDGER_FULL_DROP */
  uint64_t blocked;     /* appends that waited for room under CNV_LEDGER_FULL_BLOCK */
  uint64_t commits;     /* group commits (fdatasync calls) */
  uint64_t checkpoints; /* checkpoints written */
  uint64_t segments;    /* segment files */
  uint64_t bytes;       /* bytes in all segments */
  cnv_status error;     /* CNV_OK, or why the writer stopped (CNV_EIO, CNV_EFULL;
                           CNV_ENOMEM when the in-memory tree could not grow) */
} cnv_ledger_stats;

/* A snapshot of counters (each exact, not one instant). Any thread; wait-free. */
CNV_API void cnv_ledger_stats_get(const cnv_ledger *l, cnv_ledger_stats *out);

/* The inclusion proof of durable record index in the tree of size tree_size (index <
 * tree_size <= durable), from the ledger's leaf hashes kept in memory. Any thread; blocking
 * (a short mutex against the writer's growth of the leaf array). Errors: CNV_EINVAL,
 * CNV_ERANGE (index or size out of range). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_prove(cnv_ledger *l, uint64_t index, uint64_t tree_size,
                                                  uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n);

/* ------------------------------------------------------------------------------------ */
/* Reading a closed (or another process's) log: verification, listing, proofs.           */

typedef struct cnv_ledger_reader cnv_ledger_reader;

/* Opens dir for reading (no lock, no writer; a log being written is read up to its last
 * complete record). Reads and checks every frame, hash and chain link and keeps the leaf
 * hashes in memory. Errors: CNV_EINVAL, CNV_ENOTFOUND (no ledger in dir), CNV_EIO,
 * CNV_ELEDGER_CORRUPT (first bad record in *bad, may be NULL: its index), CNV_ENOMEM.
 * A torn tail is not an error here: the reader ends before it (cnv_ledger_reader_torn). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_reader_open(const char *dir, cnv_ledger_reader **out, uint64_t *bad);
/* Closes the reader and frees it (leaves and payloads it handed out become invalid). NULL is
 * ignored. One thread, with no other call on r running. */
CNV_API void cnv_ledger_reader_close(cnv_ledger_reader *r);
/* Complete records in the log (as found at open; 0 for NULL). Pure read: any thread. */
CNV_API uint64_t cnv_ledger_reader_size(const cnv_ledger_reader *r);
/* Bytes of a torn tail after the last complete record (0: none, or NULL). Any thread. */
CNV_API uint64_t cnv_ledger_reader_torn(const cnv_ledger_reader *r);
/* Record index: its fields (payload points into the reader, valid until the next get or
 * close) and its leaf hash (may be NULL). One thread per reader. Errors: CNV_EINVAL,
 * CNV_ERANGE (index >= size), CNV_EIO. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_reader_get(cnv_ledger_reader *r, uint64_t index, cnv_ledger_entry *e,
                                                       uint8_t leaf[CNV_LEDGER_HASH_BYTES]);
/* The leaf hashes, leaves[0 .. size-1] (owned by the reader, valid until close; NULL for
 * NULL), for the cnv_merkle_* calls. Any thread. The reader checks frames, leaf hashes and
 * chain links, not checkpoints: a CHECKPOINT record's tree size and root are the log's claim
 * until cnv_ledger_verify_dir checked them. */
CNV_API const uint8_t (*cnv_ledger_reader_leaves(const cnv_ledger_reader *r))[CNV_LEDGER_HASH_BYTES];

/* What cnv_ledger_verify_dir found. */
typedef struct cnv_ledger_verify_report {
  uint64_t records;
  uint64_t segments;
  uint64_t checkpoints;  /* checkpoints whose root and signature verified */
  uint64_t bad_index;    /* first bad record, CNV_LEDGER_NONE when none */
  cnv_status bad_status; /* why it is bad (CNV_ELEDGER_CORRUPT, CNV_ELEDGER_SIGNATURE,
                            CNV_ELEDGER_KEY, CNV_ELEDGER_TORN) */
  uint64_t torn_bytes;
} cnv_ledger_verify_report;

/* Checks a whole log: every frame and leaf hash, every chain link, the GENESIS record first,
 * every checkpoint's tree size, root and signature (with pk when not NULL, else with the
 * GENESIS key). CNV_OK only for an intact log; a torn tail is CNV_ELEDGER_TORN (a log closed
 * cleanly has none). *rep (may be NULL) says what was checked and names the first bad
 * record. Errors: CNV_EINVAL, CNV_ENOTFOUND, CNV_EIO, CNV_ENOMEM, and the bad_status codes. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_verify_dir(const char *dir, const uint8_t pk[CNV_LEDGER_KEY_BYTES],
                                                       cnv_ledger_verify_report *rep);

/* ------------------------------------------------------------------------------------ */
/* Receipts (proof-carrying invocations).                                                */

/* How far a receipt's check got; states only move forward. */
typedef enum cnv_cert_state {
  CNV_CERT_UNCHECKED = 0,
  CNV_CERT_POLICY_CHECKED = 1,     /* the checkpoint's signature verifies under the node key */
  CNV_CERT_CAPABILITY_CHECKED = 2, /* the attested fields encode to the receipt's leaf, a
                                      COMPLETE record of that capability and agent */
  CNV_CERT_VERIFIED = 3            /* the leaf's inclusion proof reaches the signed root */
} cnv_cert_state;

/* Lowercase name ("policy_checked"), "unknown" otherwise. Static; pure. */
CNV_API const char *cnv_cert_state_name(int state);
/* Moves *state to next when next is the state right after it. Errors: CNV_EINVAL (NULL),
 * CNV_ESTATE (any other move: backwards, staying, or skipping a state). Pure. */
CNV_API CNV_NODISCARD cnv_status cnv_cert_advance(int *state, int next);

typedef struct cnv_receipt {
  uint64_t index;                      /* the COMPLETE record's index */
  uint8_t prev[CNV_LEDGER_HASH_BYTES]; /* its prev field (part of the leaf) */
  cnv_ledger_entry entry;              /* its fields (payload empty) */
  uint8_t leaf[CNV_LEDGER_HASH_BYTES];
  cnv_checkpoint checkpoint; /* a signed tree head covering index */
  uint8_t proof[CNV_LEDGER_MAX_PROOF][CNV_LEDGER_HASH_BYTES];
  uint32_t proof_len;
} cnv_receipt;

/* The receipt of COMPLETE record index from the latest checkpoint covering it. Any thread;
 * blocking (as cnv_ledger_prove). Errors: CNV_EINVAL, CNV_ERANGE (no such record),
 * CNV_ELEDGER_NOT_COVERED (no durable checkpoint covers it yet: call cnv_ledger_checkpoint),
 * CNV_ELEDGER_KIND (not a COMPLETE record), CNV_EIO. */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_receipt(cnv_ledger *l, uint64_t index, cnv_receipt *out);
/* The same from a reader (a closed log), with the log's last checkpoint (it must come after
 * index). One thread per reader; O(tree size) hashes for the proof. Errors: CNV_EINVAL,
 * CNV_ERANGE (index >= size), CNV_ELEDGER_NOT_COVERED, CNV_ELEDGER_KIND, CNV_EIO,
 * CNV_ELEDGER_CORRUPT (the checkpoint record does not decode, covers no such tree, or its
 * root is not the root of the log's first tree_size records; its signature is not checked
 * here: cnv_receipt_verify does). */
CNV_API CNV_NODISCARD cnv_status cnv_ledger_reader_receipt(cnv_ledger_reader *r, uint64_t index, cnv_receipt *out);

/* Checks a receipt offline with only the node's public key pk, moving *state forward
 * (UNCHECKED -> POLICY_CHECKED -> CAPABILITY_CHECKED -> VERIFIED) as each step passes; a
 * failing step leaves *state where it stopped. Pure; thread-safe. Errors: CNV_EINVAL (NULL),
 * CNV_ELEDGER_SIGNATURE (checkpoint), CNV_ELEDGER_KIND (not a COMPLETE record),
 * CNV_ELEDGER_CORRUPT (the fields do not hash to the leaf), CNV_ELEDGER_PROOF (inclusion),
 * CNV_ESTATE (*state not UNCHECKED on entry). */
CNV_API CNV_NODISCARD cnv_status cnv_receipt_verify(const cnv_receipt *r, const uint8_t pk[CNV_LEDGER_KEY_BYTES], int *state);

/* Largest encoded receipt. */
#define CNV_RECEIPT_MAX_BYTES \
  (16u + CNV_LEDGER_BODY_FIXED + CNV_LEDGER_HASH_BYTES + CNV_CHECKPOINT_BYTES + 4u + CNV_LEDGER_MAX_PROOF * 32u)
/* Canonical binary encoding (docs/receipts.md) into out (cap bytes). Errors: CNV_EINVAL,
 * CNV_EFULL (cap too small), CNV_ERANGE (proof_len over CNV_LEDGER_MAX_PROOF). */
CNV_API CNV_NODISCARD cnv_status cnv_receipt_encode(const cnv_receipt *r, uint8_t *out, size_t cap, size_t *len);
/* Parses an encoded receipt (nothing is verified: cnv_receipt_verify). Errors: CNV_EINVAL,
 * CNV_ELEDGER_CORRUPT (any malformed input: wrong magic, length, counts, trailing bytes). */
CNV_API CNV_NODISCARD cnv_status cnv_receipt_decode(const uint8_t *in, size_t len, cnv_receipt *out);

#ifdef __cplusplus
}
#endif

#endif
