/* Capability path validation: 1-8 non-empty segments of [a-z0-9_-] joined by '.', at most
 * 255 bytes. The accept path classifies eight bytes per step (SWAR, portable C); the exact
 * byte scan runs only for a path that fails, to name the first offending byte. */
#include "path.h"

#include <cnv/protocol.h>
#include <stdint.h>
#include <string.h>

#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

static inline uint64_t load8(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

/* High bit of each byte of x (all bytes < 0x80) that is >= c; c in 1..0x80. */
static inline uint64_t ge(uint64_t x, unsigned c) { return (x + (0x80u - c) * ONES) & HIGH; }

/* High bit of each byte of x equal to c (exact: no carry between bytes). */
static inline uint64_t eq(uint64_t x, unsigned c) {
  uint64_t t = x ^ (c * ONES);
  return ~(((t & ~HIGH) + ~HIGH) | t) & HIGH;
}

typedef struct path_scan {
  uint64_t bad;   /* high bit per byte outside [a-z0-9_.-] */
  uint64_t empty; /* high bit per dot that follows a dot or the start */
  uint64_t prev;  /* 0x80 when the previous byte was a dot (or at the start) */
  uint64_t dots;  /* dots seen */
} path_scan;

static inline void scan_word(path_scan *s, uint64_t w) {
  uint64_t x = w & ~HIGH;
  uint64_t lower = ge(x, 'a') & ~ge(x, 'z' + 1);
  uint64_t digit_dash_dot = ge(x, '-') & ~ge(x, '9' + 1) & ~eq(x, '/');
  uint64_t ok = lower | digit_dash_dot | eq(x, '_');
  uint64_t dot = eq(x, '.');
  s->bad |= (~ok & HIGH) | (w & HIGH);
  s->empty |= dot & ((dot << 8) | s->prev);
  s->prev = dot >> 56;
  s->dots += (((dot >> 7) * ONES) >> 56);
}

static bool path_fast_ok(const unsigned char *p, size_t len) {
  path_scan s = {0, 0, 0x80, 0};
  size_t i = 0;
  for (; i + 8 <= len; i += 8) scan_word(&s, load8(p + i));
  if (i < len) {
    unsigned char tail[8] = {'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};
    memcpy(tail, p + i, len - i);
    scan_word(&s, load8(tail));
  }
  return (s.bad | s.empty) == 0 && p[len - 1] != '.' && s.dots < CNV_PATH_MAX_SEGMENTS;
}

static bool segment_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Exact scan: the first error in byte order. */
static cnv_status path_slow(const unsigned char *p, size_t len, size_t *off) {
  size_t seg_len = 0;
  unsigned segments = 1;
  for (size_t i = 0; i < len; i++) {
    *off = i;
    if (i == CNV_PATH_MAX_LEN) return CNV_EPARSE_PATH_LONG;
    if (p[i] == '.') {
      if (seg_len == 0) return CNV_EPARSE_PATH_SEGMENT;
      if (++segments > CNV_PATH_MAX_SEGMENTS) return CNV_EPARSE_PATH_DEPTH;
      seg_len = 0;
    } else if (!segment_byte(p[i])) {
      return CNV_EPARSE_PATH_CHAR;
    } else {
      seg_len++;
    }
  }
  *off = len - 1;
  return seg_len == 0 ? CNV_EPARSE_PATH_SEGMENT : CNV_OK;
}

cnv_status cnv__path_check(const char *path, size_t len, size_t *err_offset) {
  const unsigned char *p = (const unsigned char *)path;
  size_t off = 0;
  cnv_status st;
  if (len == 0) {
    st = CNV_EPARSE_EMPTY_PATH;
  } else if (len <= CNV_PATH_MAX_LEN && path_fast_ok(p, len)) {
    return CNV_OK;
  } else {
    st = path_slow(p, len, &off);
  }
  if (err_offset) *err_offset = off;
  return st;
}
