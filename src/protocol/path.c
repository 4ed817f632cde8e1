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

typedef struct path_scan {
  uint64_t empty; /* high bit per dot that follows a dot or the start */
  uint64_t prev;  /* 0x80 when the previous byte was a dot (or at the start) */
  uint64_t dots;  /* dots seen */
} path_scan;

/* Bit 7 of each byte of x (all bytes < 0x80) is set where that byte is >= c; bits 0-6 are
 * noise that the callers mask off. */
#define GE(x, c) ((x) + (0x80u - (unsigned)(c)) * ONES)

/* Classifies one word (byte 0 first). Returns the number of leading path bytes (8 when all
 * are in [a-z0-9_.-]); dots and empty segments are recorded only for those bytes. */
static inline unsigned scan_word(path_scan *s, uint64_t w) {
  uint64_t x = w & ~HIGH;
  uint64_t seg = (GE(x, '-') & ~GE(x, '.')) | (GE(x, '0') & ~GE(x, '9' + 1)) |
                 (GE(x, '_') & ~GE(x, '_' + 1)) | (GE(x, 'a') & ~GE(x, 'z' + 1));
  uint64_t dot = GE(x, '.') & ~GE(x, '.' + 1) & HIGH;
  uint64_t bad = (~(seg | dot) | w) & HIGH;
  unsigned keep = 8;
  if (bad) {
    keep = (unsigned)__builtin_ctzll(bad) >> 3;
    dot &= keep ? ~UINT64_C(0) >> (64 - 8 * keep) : 0;
  }
  s->empty |= dot & ((dot << 8) | s->prev);
  s->prev = dot >> 56;
  s->dots += (((dot >> 7) * ONES) >> 56);
  return keep;
}

/* The last 1-7 bytes p[0..n) as one word, padded with 'a' (valid, not a dot). Reads only
 * inside p[0..n) and, when total >= 8, the bytes just before it. */
static inline uint64_t load_tail(const unsigned char *p, size_t n, size_t total) {
  uint64_t w;
  if (total >= 8) {
    w = load8(p + n - 8) >> (8 * (8 - n));
  } else if (n >= 4) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + n - 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    w = (uint64_t)lo | ((uint64_t)hi << (8 * (n - 4)));
  } else {
    w = (uint64_t)p[0] | ((uint64_t)p[n >> 1] << (8 * (n >> 1))) |
        ((uint64_t)p[n - 1] << (8 * (n - 1)));
  }
  return w | (UINT64_C(0x6161616161616161) << (8 * n));
}

size_t cnv__path_span(const char *path, size_t len, bool *valid) {
  const unsigned char *p = (const unsigned char *)path;
  path_scan s = {0, 0x80, 0};
  size_t i = 0;
  unsigned keep = 8;
  for (; i + 8 <= len && keep == 8; i += 8) keep = scan_word(&s, load8(p + i));
  if (keep == 8 && i < len) {
    keep = scan_word(&s, load_tail(p + i, len - i, len));
    i += keep < len - i ? keep : len - i;
  } else if (keep < 8) {
    i = i - 8 + keep;
  }
  *valid = i >= 1 && i <= CNV_PATH_MAX_LEN && s.empty == 0 && p[i - 1] != '.' &&
           s.dots < CNV_PATH_MAX_SEGMENTS;
  return i;
}

bool cnv__path_valid_short(const char *path, size_t len) {
  bool valid = false;
  return len >= 1 && len <= CNV__PATH_SHORT_MAX && cnv__path_span(path, len, &valid) == len && valid;
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
  bool valid = false;
  cnv_status st;
  if (len == 0) {
    st = CNV_EPARSE_EMPTY_PATH;
  } else if (cnv__path_span(path, len, &valid) == len && valid) {
    return CNV_OK;
  } else {
    st = path_slow(p, len, &off);
  }
  if (err_offset) *err_offset = off;
  return st;
}
