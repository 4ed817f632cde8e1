/* The replicator's message format (docs/crdt.md "Replication"): strict decoding into records
 * that point into the message, and the writers the replicator builds messages with. */
#ifndef CNV_CRDT_REPL_WIRE_H
#define CNV_CRDT_REPL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/crdt.h>

#define REPL_MAGIC0 0x43u /* 'C' */
#define REPL_MAGIC1 0x52u /* 'R' */
#define REPL_VERSION 1u
#define REPL_HEADER 30u /* magic 2, version 1, flags 1, from_epoch 8, to 8, to_epoch 8, count 2 */
#define REPL_MAX_NAME 64u
#define REPL_MAX_RECORDS 4096u

enum { REPL_DELTA = 1,
       REPL_ACK = 2,
       REPL_DIGEST = 3 };

/* One decoded record; name and (DELTA) the value point into the message. */
typedef struct repl_record {
  uint8_t kind;
  uint8_t name_len;
  const char *name;
  uint8_t type;      /* DELTA, DIGEST */
  uint8_t flag;      /* DELTA: 1 full state; ACK: 1 wants the full state */
  uint64_t from_seq; /* DELTA: the interval's first; 0 for a full state */
  uint64_t seq;      /* DELTA: to_seq; ACK: merged up to; DIGEST: the sender's last */
  uint64_t hash;     /* DIGEST */
  cnv_crdt *value;   /* DELTA: decoded (owned by the caller of repl_decode) */
} repl_record;

typedef struct repl_header {
  uint64_t from_epoch, to, to_epoch;
  uint16_t count;
} repl_header;

/* Decodes msg into hdr and up to REPL_MAX_RECORDS records (*recs allocated, *n of them; the
 * DELTA values decoded). CNV_ECRDT_MALFORMED for any defect, CNV_ENOMEM; on error nothing is
 * left allocated. */
cnv_status repl_decode(const uint8_t *msg, size_t len, repl_header *hdr, repl_record **recs, size_t *n);
/* Frees what repl_decode allocated. */
void repl_records_free(repl_record *recs, size_t n);

/* A growing message buffer. */
typedef struct repl_buf {
  uint8_t *p;
  size_t len, cap;
  uint16_t count; /* records written */
} repl_buf;

cnv_status repl_buf_reserve(repl_buf *b, size_t more);
void repl_put_u8(repl_buf *b, uint8_t v);
void repl_put_u16(repl_buf *b, uint16_t v);
void repl_put_u32(repl_buf *b, uint32_t v);
void repl_put_u64(repl_buf *b, uint64_t v);
void repl_put_bytes(repl_buf *b, const void *p, size_t n);
/* Starts a message (header, count 0) after resetting b. */
cnv_status repl_begin(repl_buf *b, uint64_t from_epoch, uint64_t to, uint64_t to_epoch);
/* Writes the record count into the header. */
void repl_finish(repl_buf *b);

uint64_t repl_hash(const uint8_t *p, size_t n);

#endif
