/* Little-endian loads and stores for the wire format, independent of host byte order. */
#ifndef CNV_PROTOCOL_LE_H
#define CNV_PROTOCOL_LE_H

#include <stdint.h>

static inline uint16_t cnv__le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline uint32_t cnv__le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t cnv__le64(const uint8_t *p) {
  return (uint64_t)cnv__le32(p) | ((uint64_t)cnv__le32(p + 4) << 32);
}

static inline void cnv__put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void cnv__put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline void cnv__put64(uint8_t *p, uint64_t v) {
  cnv__put32(p, (uint32_t)v);
  cnv__put32(p + 4, (uint32_t)(v >> 32));
}

#endif
