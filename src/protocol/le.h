/* Little-endian loads and stores for the wire format, independent of host byte order and
 * alignment (memcpy: one plain load/store on little-endian hosts, byte-swapped on big). */
#ifndef CNV_PROTOCOL_LE_H
#define CNV_PROTOCOL_LE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CNV__LE16(v) __builtin_bswap16(v)
#define CNV__LE32(v) __builtin_bswap32(v)
#define CNV__LE64(v) __builtin_bswap64(v)
#else
#define CNV__LE16(v) (v)
#define CNV__LE32(v) (v)
#define CNV__LE64(v) (v)
#endif

static inline uint16_t cnv__le16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return CNV__LE16(v);
}

static inline uint32_t cnv__le32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return CNV__LE32(v);
}

static inline uint64_t cnv__le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return CNV__LE64(v);
}

static inline void cnv__put16(uint8_t *p, uint16_t v) {
  v = CNV__LE16(v);
  memcpy(p, &v, sizeof v);
}

static inline void cnv__put32(uint8_t *p, uint32_t v) {
  v = CNV__LE32(v);
  memcpy(p, &v, sizeof v);
}

static inline void cnv__put64(uint8_t *p, uint64_t v) {
  v = CNV__LE64(v);
  memcpy(p, &v, sizeof v);
}

#endif
