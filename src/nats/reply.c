/* REPLY subjects on the request path (reply.h). */
#include <string.h>

#include "reply.h"

#define REPLY_TAIL ".r." /* between the session id and the request id */
#define DEC_MAX 20u      /* digits of UINT64_MAX */

/* reqid in decimal, no leading zero, into the end of buf[DEC_MAX]: returns where it starts. */
static char *decimal(uint64_t v, char buf[DEC_MAX]) {
  char *p = buf + DEC_MAX;
  do {
    *--p = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  return p;
}

bool natsn_reply_write(const char *prefix, size_t prefix_len, uint64_t reqid, char *out, size_t cap) {
  if (reqid == CNV_SW_ANY_REQUEST) return false;
  char buf[DEC_MAX];
  char *d = decimal(reqid, buf);
  size_t dlen = (size_t)(buf + DEC_MAX - d);
  const char *tail_str = &REPLY_TAIL[1]; /* the prefix ends with the session id's '.' */
  size_t tail = sizeof REPLY_TAIL - 2;
  if (prefix_len > cap || cap - prefix_len < tail + dlen + 1) return false;
  memcpy(out, prefix, prefix_len);
  memcpy(out + prefix_len, tail_str, tail);
  memcpy(out + prefix_len + tail, d, dlen);
  out[prefix_len + tail + dlen] = '\0';
  return true;
}

/* A lowercase hex digit's value, -1 for anything else (cnv_sw_subject_session writes
 * lowercase only: "AB" names no session). */
static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool natsn_reply_read(const char *prefix, size_t prefix_len, const char *reply, uint64_t reqid,
                      uint8_t sid[CNV_SW_SID_BYTES]) {
  if (reqid == CNV_SW_ANY_REQUEST || strncmp(reply, prefix, prefix_len) != 0) return false;
  const char *p = reply + prefix_len;
  for (size_t i = 0; i < CNV_SW_SID_BYTES; i++) {
    int hi = hex_digit(p[2 * i]); /* the NUL ends it: no digit, no read past it */
    int lo = hi < 0 ? -1 : hex_digit(p[2 * i + 1]);
    if (lo < 0) return false;
    sid[i] = (uint8_t)(hi << 4 | lo);
  }
  p += 2u * CNV_SW_SID_BYTES;
  size_t tail = sizeof REPLY_TAIL - 1;
  if (strncmp(p, REPLY_TAIL, tail) != 0) return false;
  char buf[DEC_MAX];
  char *d = decimal(reqid, buf);
  size_t dlen = (size_t)(buf + DEC_MAX - d);
  p += tail;
  return strncmp(p, d, dlen) == 0 && p[dlen] == '\0';
}
