/* A bounded multi-producer single-consumer ring of fixed-size records (Vyukov's bounded
 * queue: one sequence word per cell). Producers (the runtime's workers) push lock-free;
 * the one consumer (the session's thread) pops wait-free. Nothing is allocated after init. */
#ifndef CNV_MCP_RING_H
#define CNV_MCP_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/core.h>
#include <cnv/status.h>

typedef struct mcp_ring {
  _Atomic size_t tail; /* next position a producer claims */
  size_t head;         /* next position the consumer reads (consumer only) */
  size_t mask;
  size_t elem;          /* record size, bytes */
  _Atomic size_t *seq;  /* per cell: pos (free for pos), pos + 1 (full for pos) */
  unsigned char *cells; /* capacity * elem bytes */
} mcp_ring;

/* capacity: rounded up to a power of two (at least 2). Errors: CNV_ENOMEM, CNV_ERANGE. */
cnv_status mcp_ring_init(mcp_ring *r, size_t capacity, size_t elem);
void mcp_ring_free(mcp_ring *r);
/* Copies elem bytes in; false when the ring is full (nothing written). Any thread. */
bool mcp_ring_push(mcp_ring *r, const void *rec);
/* Copies the oldest record out; false when empty. The consumer's thread only. */
bool mcp_ring_pop(mcp_ring *r, void *rec);

#endif
