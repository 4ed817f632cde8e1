/* Fuzz the anti-replay window against the reference model in replay_model.h. Input: a program
 * of operations, each a control byte and its operand (bytes past the end read as 0):
 *   control bits 1-0: 0 check only, 1 update only, 2 check then update when the check passed
 *                     (the receive path), 3 init (empty both);
 *   control bits 3-2: the number: 0 top + 1 + u8, 1 top - u16 (wrapping; may be 0 or huge),
 *                     2 top + u32 (a big jump), 3 an absolute u64 (LE).
 * Properties (abort on violation): every check and update answers as the model does; after
 * the program, every number from 1100 below top to 100 above it checks as in the model, and
 * a failed update changed nothing (a copy taken before it compares equal). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnv/protocol.h>

#include "replay_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static uint64_t take(reader *r, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; i++) {
    uint64_t b = 0;
    if (r->n) {
      b = *r->p++;
      r->n--;
    }
    v |= b << (8 * i);
  }
  return v;
}

static uint64_t number(reader *r, unsigned mode, uint64_t top) {
  switch (mode) {
    case 0:
      return top + 1 + take(r, 1);
    case 1:
      return top - take(r, 2);
    case 2:
      return top + take(r, 4);
    default:
      return take(r, 8);
  }
}

static rm_window model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size};
  cnv_replay_window w;
  if (cnv_replay_init(&w) != CNV_OK) abort();
  rm_init(&model);
  for (unsigned ops = 0; r.n && ops < 4096; ops++) {
    unsigned c = (unsigned)take(&r, 1);
    uint64_t seq = number(&r, (c >> 2) & 3, model.top);
    switch (c & 3) {
      case 0:
        if (cnv_replay_check(&w, seq) != rm_check(&model, seq)) abort();
        break;
      case 1: {
        cnv_replay_window before = w;
        cnv_status st = cnv_replay_update(&w, seq);
        if (st != rm_update(&model, seq)) abort();
        if (st != CNV_OK && memcmp(&before, &w, sizeof w) != 0) abort();
        break;
      }
      case 2: {
        cnv_status st = cnv_replay_check(&w, seq);
        if (st != rm_check(&model, seq)) abort();
        if (st == CNV_OK && (cnv_replay_update(&w, seq) != CNV_OK || rm_update(&model, seq) != CNV_OK))
          abort();
        break;
      }
      default:
        if (cnv_replay_init(&w) != CNV_OK) abort();
        rm_init(&model);
        break;
    }
    if (w.top != model.top) abort();
  }
  uint64_t lo = model.top > 1100 ? model.top - 1100 : 0;
  uint64_t hi = model.top < UINT64_MAX - 100 ? model.top + 100 : UINT64_MAX;
  for (uint64_t s = lo;; s++) {
    if (cnv_replay_check(&w, s) != rm_check(&model, s)) abort();
    if (s == hi) break;
  }
  return 0;
}
