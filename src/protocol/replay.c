/* Anti-replay window in the style of RFC 6479: a ring of 64-bit blocks, one bit per sequence
 * number; moving the window clears only the blocks it enters (docs/protocol.md). */
#include <cnv/protocol.h>
#include <string.h>

#define BLOCK_BITS 64u
#define RING_MASK (CNV_REPLAY_BLOCKS - 1u)

/* The window's numbers (top - WINDOW, top] lie in the WINDOW/64 + 1 blocks top/64 - WINDOW/64
 * .. top/64: the ring must hold them all at once, and be a power of two (a mask). */
_Static_assert(CNV_REPLAY_WINDOW % BLOCK_BITS == 0, "window is whole blocks");
_Static_assert(CNV_REPLAY_BLOCKS >= CNV_REPLAY_WINDOW / BLOCK_BITS + 1, "ring holds the window");
_Static_assert((CNV_REPLAY_BLOCKS & RING_MASK) == 0, "ring size is a power of two");

/* The ring slot of seq's block. */
static size_t slot_of(uint64_t seq) { return (size_t)((seq / BLOCK_BITS) & RING_MASK); }

static uint64_t bit_of(uint64_t seq) { return UINT64_C(1) << (seq % BLOCK_BITS); }

cnv_status cnv_replay_init(cnv_replay_window *w) {
  if (!w) return CNV_EINVAL;
  memset(w, 0, sizeof *w);
  return CNV_OK;
}

cnv_status cnv_replay_check(const cnv_replay_window *w, uint64_t seq) {
  if (!w) return CNV_EINVAL;
  if (seq == 0) return CNV_ERANGE;
  if (seq > w->top) return CNV_OK;
  if (w->top - seq >= CNV_REPLAY_WINDOW) return CNV_EREPLAY_TOO_OLD;
  if (w->bits[slot_of(seq)] & bit_of(seq)) return CNV_EREPLAY_DUPLICATE;
  return CNV_OK;
}

cnv_status cnv_replay_update(cnv_replay_window *w, uint64_t seq) {
  cnv_status st = cnv_replay_check(w, seq);
  if (st != CNV_OK) return st;
  if (seq > w->top) {
    /* Blocks top/64 + 1 .. seq/64 are entered. Each one's slot last held a block a whole
     * ring (CNV_REPLAY_BLOCKS blocks) or more older, below the new window (which reaches
     * back WINDOW/64 blocks only), so it starts empty; the slots not entered keep the blocks
     * still in the window. A jump of a ring or more empties every slot. */
    uint64_t from = w->top / BLOCK_BITS, to = seq / BLOCK_BITS;
    if (to - from >= CNV_REPLAY_BLOCKS) {
      memset(w->bits, 0, sizeof w->bits);
    } else {
      for (uint64_t b = from + 1; b <= to; b++) w->bits[b & RING_MASK] = 0;
    }
    w->top = seq;
  }
  w->bits[slot_of(seq)] |= bit_of(seq);
  return CNV_OK;
}
