/* Private to the segment store's files (entry.c, segment.c, store.c, reader.c, verify.c):
 * little-endian helpers, the segment header's layout, the leaf hash, and the store's
 * extended open used by the reader and the verifier. */
#ifndef CNV__LSTORE_H
#define CNV__LSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger_internal.h"

/* Segment header: magic "CNVLEDG1" | version u32 (1) | reserved u32 (0) | first index u64 |
 * prev[32] (leaf of the record before the segment's first) | reserved 8 bytes (0). */
#define CNV__LSEG_HEADER 64u
#define CNV__LSEG_MAGIC "CNVLEDG1"
#define CNV__LSEG_VERSION 1u
/* "seg-" + 16 hex digits + ".log" and its NUL. */
#define CNV__LSEG_NAME_MAX 25u
/* Largest segment file a reader accepts: the largest segment_bytes plus one frame past it
 * (the writer rotates once a segment has passed segment_bytes). */
#define CNV__LSEG_MAX_BYTES (UINT64_C(1) << 30)
#define CNV__LSEG_FILE_MAX (CNV__LSEG_MAX_BYTES + CNV__LFRAME_OVERHEAD + CNV__LBODY_MAX)

static inline void cnv__lput16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void cnv__lput32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void cnv__lput64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t cnv__lget16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t cnv__lget32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t cnv__lget64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* The leaf hash in its two parts (cnv_ledger_leaf_hash, docs/ledger.md "Hashes"): a body's
 * first CNV__LHEAD bytes (prev, index, kind .. ticket) go into the leaf's input directly; the
 * rest (capability .. payload) through its content hash. */
#define CNV__LHEAD 88u
/* content = BLAKE2b-256 of the body bytes e encodes to from offset CNV__LHEAD on, without
 * building the body. e is a valid entry (cnv_ledger_append checked it). */
void cnv__lcontent_entry(const cnv_ledger_entry *e, uint8_t out[CNV_LEDGER_HASH_BYTES]);
/* leaf = BLAKE2b-256(0x00 || head || content), head = the body's first CNV__LHEAD bytes. */
void cnv__lleaf_head(const uint8_t head[CNV__LHEAD], const uint8_t content[CNV_LEDGER_HASH_BYTES],
                     uint8_t out[CNV_LEDGER_HASH_BYTES]);

/* Fills a segment header for a segment starting at first after the record whose leaf is prev. */
void cnv__lseg_header(uint8_t out[CNV__LSEG_HEADER], uint64_t first, const uint8_t prev[CNV_LEDGER_HASH_BYTES]);

/* The file name of the segment starting at first. */
void cnv__lseg_name(char out[CNV__LSEG_NAME_MAX], uint64_t first);

/* What an open found, in more detail than cnv_ledger_recovery. */
typedef struct cnv__lstore_found {
  uint64_t records;
  uint64_t segments;
  uint64_t bytes;           /* bytes kept in all segments */
  uint64_t torn_bytes;      /* torn tail of the last segment (cut in write mode) */
  bool torn;                /* the last segment ends torn (an empty file, torn_bytes 0, too) */
  uint64_t bad_index;       /* CNV_ELEDGER_CORRUPT: the first bad record, else CNV_LEDGER_NONE */
  uint64_t last_checkpoint; /* tree size of the last CHECKPOINT record, 0 when none */
  bool stopped;             /* fn asked to stop (the scan ended there) */
} cnv__lstore_found;

/* The store's open for every use. readonly: no lock, no directory creation, no cut, an
 * empty or missing directory is CNV_ENOTFOUND; out may be NULL (scan only: the verifier).
 * Write mode: the caller holds the flock on DIR/lock (ledger.c takes it); creates dir if
 * absent, removes stale temporary segment files, cuts a torn tail. fn may return non-zero to stop: then found->stopped and the store is not
 * opened (CNV_OK, *out NULL). On CNV_ELEDGER_CORRUPT, found->bad_index names the record. */
CNV_NODISCARD cnv_status cnv__lstore_open_ex(const char *dir, bool readonly, uint64_t segment_bytes, uint64_t max_bytes,
                                             cnv__lscan_fn fn, void *ctx, cnv__lstore **out, cnv__lstore_found *found);

#endif
