/* Private layout of a cnv_crdt, shared by the types (crdt.c) and the codec (codec.c). */
#ifndef CNV_CRDT_INTERNAL_H
#define CNV_CRDT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnv/crdt.h>

/* One (id, n) pair: a counter entry (replica, count), a version vector entry (replica, max
 * contiguous counter) or a dot (replica, counter). Arrays are sorted by (id, n). */
typedef struct crdt_ent {
  uint64_t id, n;
} crdt_ent;

typedef struct crdt_ents {
  crdt_ent *v;
  size_t n, cap;
} crdt_ents;

typedef struct crdt_ids {
  uint64_t *v;
  size_t n, cap;
} crdt_ids;

/* An OR-Set element or an MV register value with its live dots (non-empty). */
typedef struct crdt_elem {
  uint8_t *key;
  size_t len;
  crdt_ents dots;
} crdt_elem;

struct cnv_crdt {
  int type;
  uint64_t replica;
  crdt_ids ret; /* retired replica ids (every type but LWW) */
  /* Counters (cnt[0] = P, cnt[1] = N) and version vectors (cnt[0]); base: retired sums. */
  uint64_t base[2];
  crdt_ents cnt[2];
  /* OR-Set and MV register: causal context (vv + dot cloud) and the elements by key. */
  crdt_ents vv, cloud;
  crdt_elem *el;
  size_t nel, elcap;
  /* LWW register. */
  bool has;
  uint64_t ts, wr;
  size_t vlen;
  uint8_t val[CNV_CRDT_MAX_ELEM];
};

void cnv__crdt_init(cnv_crdt *c, int type, uint64_t replica);
void cnv__crdt_fini(cnv_crdt *c);
bool cnv__crdt_valid_type(int type);
bool cnv__crdt_dot_type(int type);
cnv_status cnv__crdt_ents_push(crdt_ents *a, uint64_t id, uint64_t n);
cnv_status cnv__crdt_ids_push(crdt_ids *a, uint64_t id);
cnv_status cnv__crdt_elem_push(cnv_crdt *c, const void *key, size_t len, crdt_elem **out);
bool cnv__crdt_ids_has(const crdt_ids *a, uint64_t id);
uint64_t cnv__crdt_ents_get(const crdt_ents *a, uint64_t id);
bool cnv__crdt_dots_has(const crdt_ents *a, uint64_t id, uint64_t n);
int cnv__crdt_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
