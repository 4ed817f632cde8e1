/* Segment files in memory: the 64-byte header and the scan of a segment's frames
 * (docs/ledger.md, "Segments" and "Frames"). Pure: no I/O. */
#include <stdio.h>
#include <string.h>

#include "lstore.h"

void cnv__lseg_header(uint8_t out[CNV__LSEG_HEADER], uint64_t first, const uint8_t prev[CNV_LEDGER_HASH_BYTES]) {
  memset(out, 0, CNV__LSEG_HEADER);
  memcpy(out, CNV__LSEG_MAGIC, 8);
  cnv__lput32(out + 8, CNV__LSEG_VERSION);
  cnv__lput64(out + 16, first);
  memcpy(out + 24, prev, CNV_LEDGER_HASH_BYTES);
}

void cnv__lseg_name(char out[CNV__LSEG_NAME_MAX], uint64_t first) {
  (void)snprintf(out, CNV__LSEG_NAME_MAX, "seg-%016llx.log", (unsigned long long)first);
}

static bool header_ok(const uint8_t *h) {
  static const uint8_t zero[8] = {0};
  return memcmp(h, CNV__LSEG_MAGIC, 8) == 0 && cnv__lget32(h + 8) == CNV__LSEG_VERSION && cnv__lget32(h + 12) == 0 &&
         memcmp(h + 56, zero, 8) == 0;
}

/* The first avail bytes of a body that should be record idx after the leaf last, blen bytes
 * long: its prev, index and payload length, as far as they are there. */
static bool torn_prefix_ok(const uint8_t *body, size_t avail, const uint8_t last[CNV_LEDGER_HASH_BYTES], uint64_t idx,
                           uint32_t blen) {
  uint8_t want[40];
  memcpy(want, last, CNV_LEDGER_HASH_BYTES);
  cnv__lput64(want + 32, idx);
  if (memcmp(body, want, avail < sizeof want ? avail : sizeof want) != 0) return false;
  return avail < CNV_LEDGER_BODY_FIXED || (size_t)cnv__lget32(body + 200) + CNV_LEDGER_BODY_FIXED == blen;
}

cnv_status cnv__lseg_scan(const uint8_t *buf, size_t len, cnv__lscan_fn fn, void *ctx, cnv__lscan_result *res) {
  if (!res || (!buf && len > 0)) return CNV_EINVAL;
  memset(res, 0, sizeof *res);
  res->bad_index = CNV_LEDGER_NONE;
  if (len < CNV__LSEG_HEADER) {
    /* A header cut short: a torn tail when what is there starts like a header. */
    size_t m = len < 8 ? len : 8;
    if (memcmp(buf ? (const void *)buf : (const void *)"", CNV__LSEG_MAGIC, m) != 0) return CNV_ELEDGER_CORRUPT;
    res->torn_bytes = len;
    return CNV_OK;
  }
  uint64_t idx = cnv__lget64(buf + 16);
  memcpy(res->last, buf + 24, CNV_LEDGER_HASH_BYTES);
  if (!header_ok(buf)) {
    res->bad_index = idx;
    return CNV_ELEDGER_CORRUPT;
  }
  size_t off = CNV__LSEG_HEADER;
  res->good_bytes = off;
  while (off < len) {
    size_t rem = len - off;
    if (rem < 4) break; /* torn inside the length */
    uint32_t blen = cnv__lget32(buf + off);
    if (blen < CNV_LEDGER_BODY_FIXED || blen > CNV__LBODY_MAX || idx == CNV_LEDGER_NONE) {
      res->bad_index = idx;
      return CNV_ELEDGER_CORRUPT;
    }
    size_t flen = CNV__LFRAME_OVERHEAD + (size_t)blen;
    const uint8_t *body = buf + off + 4;
    if (rem < flen) {
      /* Cut inside the body or the leaf. A torn write leaves a prefix of the right bytes, so
         what is there must agree with the record expected here; a length pointing past the
         end of an otherwise complete frame is damage, not a tear. */
      if (!torn_prefix_ok(body, rem - 4, res->last, idx, blen)) {
        res->bad_index = idx;
        return CNV_ELEDGER_CORRUPT;
      }
      break;
    }
    cnv__lscan_rec r;
    cnv_ledger_entry e;
    uint64_t bidx;
    uint8_t bprev[CNV_LEDGER_HASH_BYTES];
    /* blen >= CNV_LEDGER_BODY_FIXED (checked above): the hash cannot fail */
    if (cnv_ledger_leaf_hash(body, blen, r.leaf) != CNV_OK || memcmp(r.leaf, body + blen, CNV_LEDGER_HASH_BYTES) != 0 ||
        cnv_ledger_entry_decode(body, blen, &e, &bidx, bprev) != CNV_OK || bidx != idx ||
        memcmp(bprev, res->last, CNV_LEDGER_HASH_BYTES) != 0) {
      res->bad_index = idx;
      return CNV_ELEDGER_CORRUPT;
    }
    r.index = idx;
    r.body = body;
    r.body_len = blen;
    r.offset = off;
    memcpy(res->last, r.leaf, CNV_LEDGER_HASH_BYTES);
    res->records++;
    off += flen;
    res->good_bytes = off;
    idx++;
    if (fn && fn(ctx, &r) != 0) return CNV_OK;
  }
  res->torn_bytes = len - res->good_bytes;
  return CNV_OK;
}
