/* Shared by the ledger store tests: sample entries, bodies chained by hand, and temporary
 * directories. */
#ifndef LFIX_H
#define LFIX_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cnv/ledger.h>

#include "ledger/lstore.h"

/* A sample entry of a kind, every field set from seed, payload_len bytes of payload (pbuf
 * must hold them). */
static inline void lfix_entry(cnv_ledger_entry *e, uint16_t kind, uint32_t payload_len, uint8_t *pbuf, uint64_t seed) {
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->detail = (uint16_t)(seed * 3 + 1);
  e->status = -(int32_t)(seed % 1000);
  e->agent = (uint32_t)(seed * 7 + 2);
  e->flags = (uint32_t)(seed ^ 0x5a5a);
  e->time_ms = 1700000000000ull + seed;
  e->start_ms = 1700000000000ull + seed / 2;
  e->token_time = 1700000000ull + seed;
  e->ticket = seed * 11 + 5;
  e->capability = seed * 13 + 6;
  e->epoch = seed + 1;
  for (int i = 0; i < 32; i++) {
    e->key[i] = (uint8_t)(seed + (uint64_t)i);
    e->digest[i] = (uint8_t)(seed * 5 + (uint64_t)i);
    e->result[i] = (uint8_t)(seed * 9 + (uint64_t)i);
  }
  for (uint32_t i = 0; i < payload_len; i++) pbuf[i] = (uint8_t)(seed + i * 31);
  e->payload = payload_len ? pbuf : NULL;
  e->payload_len = payload_len;
}

/* A chain being built by hand: the next index and the previous leaf. */
typedef struct lfix_chain {
  uint64_t next;
  uint8_t prev[CNV_LEDGER_HASH_BYTES];
} lfix_chain;

/* Encodes e as the chain's next record into body (CNV__LBODY_MAX bytes), its leaf into leaf;
 * advances the chain. Returns the body length (0 on failure). */
static inline size_t lfix_next(lfix_chain *c, const cnv_ledger_entry *e, uint8_t *body, uint8_t leaf[32]) {
  size_t len = 0;
  if (cnv_ledger_entry_encode(e, c->next, c->prev, body, CNV__LBODY_MAX, &len) != CNV_OK) return 0;
  if (cnv_ledger_leaf_hash(body, len, leaf) != CNV_OK) return 0;
  memcpy(c->prev, leaf, 32);
  c->next++;
  return len;
}

/* A segment in memory: header then frames of n records starting at chain c (advanced).
 * Returns its length; out must be large enough. */
static inline size_t lfix_segment(lfix_chain *c, uint64_t n, uint8_t *out) {
  cnv__lseg_header(out, c->next, c->prev);
  size_t off = CNV__LSEG_HEADER;
  static uint8_t body[CNV__LBODY_MAX], pay[CNV_LEDGER_MAX_PAYLOAD];
  for (uint64_t i = 0; i < n; i++) {
    cnv_ledger_entry e;
    lfix_entry(&e, (uint16_t)(CNV_LREC_CONFIG + c->next % 9), (uint32_t)((c->next * 37) % 90), pay, c->next);
    uint8_t leaf[32];
    size_t len = lfix_next(c, &e, body, leaf);
    cnv__lput32(out + off, (uint32_t)len);
    memcpy(out + off + 4, body, len);
    memcpy(out + off + 4 + len, leaf, 32);
    off += 4 + len + 32;
  }
  return off;
}

static inline char *lfix_tmpdir(void) {
  const char *t = getenv("TMPDIR");
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/cnv-lstore-XXXXXX", t && *t ? t : "/tmp");
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static inline void lfix_rmdir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      char p[1024];
      snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

#endif
