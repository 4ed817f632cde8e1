/* Internals of the ledger module shared by its files. Three parts, each owned by one set of
 * files: the segment store (store.c, segment.c, frame.c, reader.c, verify.c), the Merkle
 * tree kept in memory (mtree.c, used by the writer and the reader), and the writer
 * (ledger.c, append.c, writer.c), which receipt.c reads through the last two functions. */
#ifndef CNV_LEDGER_INTERNAL_H
#define CNV_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/ledger.h>

/* ---- frames ------------------------------------------------------------------------- */

/* A frame on disk: u32 LE body length | body | leaf hash (32). */
#define CNV__LFRAME_OVERHEAD (4u + CNV_LEDGER_HASH_BYTES)
#define CNV__LBODY_MAX (CNV_LEDGER_BODY_FIXED + CNV_LEDGER_MAX_PAYLOAD)

/* One record found by a scan. body points into the scanned bytes. */
typedef struct cnv__lscan_rec {
  uint64_t index;
  const uint8_t *body;
  size_t body_len;
  uint8_t leaf[CNV_LEDGER_HASH_BYTES];
  uint64_t offset; /* of its frame in the segment */
} cnv__lscan_rec;

/* Called for each complete, checked record; non-zero stops the scan (CNV_OK returned). */
typedef int (*cnv__lscan_fn)(void *ctx, const cnv__lscan_rec *r);

/* What a scan of one segment's bytes found. */
typedef struct cnv__lscan_result {
  uint64_t records;                    /* complete records */
  uint64_t good_bytes;                 /* header + complete frames */
  uint64_t torn_bytes;                 /* bytes after them that do not form a complete frame */
  uint64_t bad_index;                  /* CNV_LEDGER_NONE, or the first record that fails */
  uint8_t last[CNV_LEDGER_HASH_BYTES]; /* leaf of the last complete record (or the segment's
                                           starting prev when none) */
} cnv__lscan_result;

/* Scans one segment held in memory (header and frames): checks the header, each frame's
 * length, leaf hash, index (consecutive from the header's first index) and prev link
 * (starting from the header's prev). A frame cut short at the end is a torn tail (reported,
 * not an error); any other defect is CNV_ELEDGER_CORRUPT with res->bad_index set. Pure
 * (no I/O): the fuzz target drives it. */
CNV_NODISCARD cnv_status cnv__lseg_scan(const uint8_t *buf, size_t len, cnv__lscan_fn fn, void *ctx,
                                        cnv__lscan_result *res);

/* ---- the segment store (write side) -------------------------------------------------- */

typedef struct cnv__lstore cnv__lstore;

/* Opens the directory for writing (created if absent; the caller holds the flock on
 * DIR/lock): scans every segment in order (calling fn for each record, so the caller
 * rebuilds its tree; fn returning non-zero fails the open with CNV_ENOMEM, its only failure
 * being growth), cuts a torn tail of the last segment back to its last complete record
 * (truncate + fsync; a segment without a complete header is removed), fills *rec (may be
 * NULL; last_checkpoint from the last CHECKPOINT record's payload). An empty or new
 * directory has no records: the first append creates seg-0000000000000000.log. Errors:
 * CNV_EINVAL, CNV_EIO, CNV_ELEDGER_CORRUPT, CNV_ENOMEM. */
CNV_NODISCARD cnv_status cnv__lstore_open(const char *dir, uint64_t segment_bytes, uint64_t max_bytes,
                                          cnv__lscan_fn fn, void *ctx, cnv__lstore **out,
                                          cnv_ledger_recovery *rec);
/* Adds one frame (buffered; rotates to a new segment first when the current one has passed
 * segment_bytes; the old segment is made durable before the new one exists). One thread (the
 * writer). Errors: CNV_EINVAL (NULL, or index not the next record), CNV_ERANGE (len outside
 * CNV_LEDGER_BODY_FIXED .. CNV__LBODY_MAX), CNV_EFULL (the frame, and a new segment's header
 * when it rotates, would pass max_bytes: nothing written), CNV_EIO (then every later call
 * fails with it), CNV_ENOMEM. */
CNV_NODISCARD cnv_status cnv__lstore_append(cnv__lstore *s, uint64_t index, const uint8_t *body, size_t len,
                                            const uint8_t leaf[CNV_LEDGER_HASH_BYTES]);
/* Writes the buffered frames and makes them durable (fdatasync when sync != 2). Errors:
 * CNV_EIO. */
CNV_NODISCARD cnv_status cnv__lstore_sync(cnv__lstore *s, int sync);
/* The two halves of cnv__lstore_sync, for a sync run by another thread: _flush writes the
 * buffered frames (no sync) and gives *records (every record appended so far) and *sync_fd,
 * a duplicate of the last segment's descriptor (-1 when none): fdatasync(*sync_fd) makes
 * those records durable (older segments were synced at rotation); the caller closes it. Then
 * _synced(n, ok) with that count and the sync's outcome: the records become readable, or
 * the store fails (CNV_EIO). The writer's thread calls both. Errors: CNV_EIO. */
CNV_NODISCARD cnv_status cnv__lstore_flush(cnv__lstore *s, int *sync_fd, uint64_t *records);
CNV_NODISCARD cnv_status cnv__lstore_synced(cnv__lstore *s, uint64_t n, bool ok);
/* Reads the body of a written (synced) record into buf. Any thread (pread, under the
 * store's mutex, so rotation cannot close the file under it). Errors: CNV_EINVAL,
 * CNV_ERANGE (no such record), CNV_EFULL (cap too small), CNV_EIO. */
CNV_NODISCARD cnv_status cnv__lstore_read(cnv__lstore *s, uint64_t index, uint8_t *buf, size_t cap, size_t *len);
/* Segments and bytes so far (headers and frames, buffered included). The appending thread
 * only: not synchronized with appends. */
uint64_t cnv__lstore_segments(const cnv__lstore *s);
uint64_t cnv__lstore_bytes(const cnv__lstore *s);
/* Syncs and closes. NULL is ignored. */
void cnv__lstore_close(cnv__lstore *s);

/* ---- the Merkle tree in memory -------------------------------------------------------- */

/* Every leaf and every complete subtree's hash, level by level (level k holds the hashes of
 * the perfect subtrees of 2^k leaves, left to right), so roots of any size and proofs cost
 * O(log^2 n) hashes, not O(n). Not thread-safe: the writer guards it with its mutex. */
typedef struct cnv__mtree {
  uint8_t (*level[64])[CNV_LEDGER_HASH_BYTES];
  uint64_t cap[64];
  uint64_t size; /* leaves */
} cnv__mtree;

void cnv__mtree_init(cnv__mtree *t);
void cnv__mtree_free(cnv__mtree *t);
/* Errors: CNV_ENOMEM. */
CNV_NODISCARD cnv_status cnv__mtree_push(cnv__mtree *t, const uint8_t leaf[CNV_LEDGER_HASH_BYTES]);
/* Root of the tree of the first size leaves (size <= t->size). Errors: CNV_ERANGE. */
CNV_NODISCARD cnv_status cnv__mtree_root(const cnv__mtree *t, uint64_t size, uint8_t out[CNV_LEDGER_HASH_BYTES]);
/* RFC 9162 proofs over the first leaves. Errors: CNV_ERANGE (as the cnv_merkle_* calls). */
CNV_NODISCARD cnv_status cnv__mtree_inclusion(const cnv__mtree *t, uint64_t index, uint64_t size,
                                              uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n);
CNV_NODISCARD cnv_status cnv__mtree_consistency(const cnv__mtree *t, uint64_t size1, uint64_t size2,
                                                uint8_t proof[][CNV_LEDGER_HASH_BYTES], size_t *n);

/* ---- what receipt.c reads of an open ledger (the writer's side) ------------------------ */

/* The latest durable checkpoint whose tree covers index. Errors: CNV_ERANGE (index not
 * durable), CNV_ELEDGER_NOT_COVERED. Any thread. */
CNV_NODISCARD cnv_status cnv__ledger_covering(cnv_ledger *l, uint64_t index, cnv_checkpoint *out);
/* The body of durable record index. Errors: as cnv__lstore_read. Any thread. */
CNV_NODISCARD cnv_status cnv__ledger_body(cnv_ledger *l, uint64_t index, uint8_t *buf, size_t cap, size_t *len);

#endif
