/* A reference model of the anti-replay window rule (include/cnv/protocol.h, "Anti-replay
 * window"), shared by fuzz_replay_window.c and tests/protocol/test_protocol_replay.c. It keeps
 * the highest accepted number and a plain list of the accepted numbers still inside the
 * window, with no bitmap and no ring: the library's ring must answer exactly as this list
 * does. Header only (static inline), pure and single-threaded. */
#ifndef CNV_FUZZ_REPLAY_MODEL_H
#define CNV_FUZZ_REPLAY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cnv/protocol.h>

typedef struct rm_window {
  uint64_t top;                         /* highest accepted; 0: none */
  uint64_t seen[CNV_REPLAY_WINDOW + 1]; /* accepted numbers, pruned to the window */
  size_t n;
} rm_window;

static inline void rm_init(rm_window *m) {
  m->top = 0;
  m->n = 0;
}

static inline cnv_status rm_check(const rm_window *m, uint64_t seq) {
  if (seq == 0) return CNV_ERANGE;
  if (seq > m->top) return CNV_OK;
  if (m->top - seq >= CNV_REPLAY_WINDOW) return CNV_EREPLAY_TOO_OLD;
  for (size_t i = 0; i < m->n; i++)
    if (m->seen[i] == seq) return CNV_EREPLAY_DUPLICATE;
  return CNV_OK;
}

static inline cnv_status rm_update(rm_window *m, uint64_t seq) {
  cnv_status st = rm_check(m, seq);
  if (st != CNV_OK) return st;
  if (seq > m->top) {
    m->top = seq;
    size_t keep = 0;
    for (size_t i = 0; i < m->n; i++)
      if (m->top - m->seen[i] < CNV_REPLAY_WINDOW) m->seen[keep++] = m->seen[i];
    m->n = keep;
  }
  m->seen[m->n++] = seq;
  return CNV_OK;
}

#endif
