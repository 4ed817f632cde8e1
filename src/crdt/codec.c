/* Canonical binary encoding of the CRDT types (docs/crdt.md, "Encoding"): a type byte, then
 * LEB128 varints in minimal form, every list sorted strictly ascending. */
#include <stdlib.h>
#include <string.h>

#include "crdt_internal.h"

typedef struct wbuf {
  uint8_t *p;
  size_t cap, len;
} wbuf;

static void put(wbuf *w, uint8_t b) {
  if (w->len < w->cap) w->p[w->len] = b;
  w->len++;
}

static void put_var(wbuf *w, uint64_t v) {
  while (v >= 0x80) {
    put(w, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put(w, (uint8_t)v);
}

static void put_bytes(wbuf *w, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) put(w, b[i]);
}

static void put_ents(wbuf *w, const crdt_ents *a) {
  put_var(w, a->n);
  for (size_t i = 0; i < a->n; i++) {
    put_var(w, a->v[i].id);
    put_var(w, a->v[i].n);
  }
}

cnv_status cnv_crdt_encode(const cnv_crdt *c, uint8_t *out, size_t cap, size_t *len) {
  if (c == NULL || len == NULL || (out == NULL && cap)) return CNV_EINVAL;
  wbuf w = {out, cap, 0};
  put(&w, (uint8_t)c->type);
  if (c->type == CNV_CRDT_LWW) {
    put(&w, c->has ? 1 : 0);
    if (c->has) {
      put_var(&w, c->ts);
      put_var(&w, c->wr);
      put_var(&w, c->vlen);
      put_bytes(&w, c->val, c->vlen);
    }
  } else {
    put_var(&w, c->ret.n);
    for (size_t i = 0; i < c->ret.n; i++) put_var(&w, c->ret.v[i]);
    switch (c->type) {
      case CNV_CRDT_GCOUNTER:
        put_var(&w, c->base[0]);
        put_ents(&w, &c->cnt[0]);
        break;
      case CNV_CRDT_PNCOUNTER:
        put_var(&w, c->base[0]);
        put_var(&w, c->base[1]);
        put_ents(&w, &c->cnt[0]);
        put_ents(&w, &c->cnt[1]);
        break;
      case CNV_CRDT_VCLOCK:
        put_ents(&w, &c->cnt[0]);
        break;
      default: /* ORSET, MVREG */
        put_ents(&w, &c->vv);
        put_ents(&w, &c->cloud);
        put_var(&w, c->nel);
        for (size_t i = 0; i < c->nel; i++) {
          put_var(&w, c->el[i].len);
          put_bytes(&w, c->el[i].key, c->el[i].len);
          put_ents(&w, &c->el[i].dots);
        }
        break;
    }
  }
  *len = w.len;
  return w.len > cap ? CNV_EFULL : CNV_OK;
}

/* ---- decode -------------------------------------------------------------------------- */

typedef struct rbuf {
  const uint8_t *p;
  size_t len, pos;
} rbuf;

#define BAD CNV_ECRDT_MALFORMED

static size_t left(const rbuf *r) { return r->len - r->pos; }

/* A minimal LEB128 varint of at most 64 bits. */
static cnv_status get_var(rbuf *r, uint64_t *out) {
  uint64_t v = 0;
  for (unsigned i = 0; i < 10; i++) {
    if (r->pos >= r->len) return BAD;
    uint8_t b = r->p[r->pos++];
    if (i == 9 && b > 1) return BAD;
    v |= (uint64_t)(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      if (i > 0 && b == 0) return BAD; /* not minimal */
      *out = v;
      return CNV_OK;
    }
  }
  return BAD;
}

/* A count of items that each take at least min bytes: bounded by the input left. */
static cnv_status get_count(rbuf *r, size_t min, size_t *out) {
  uint64_t n;
  if (get_var(r, &n) != CNV_OK || n > left(r) / min) return BAD;
  *out = (size_t)n;
  return CNV_OK;
}

/* kind: 0 a map (ids strictly ascending, values >= 1, ids not retired); 1 a cloud (dots
 * strictly ascending, not retired, not compactable into vv); 2 an element's dots (strictly
 * ascending, non-empty, seen by the context). */
static cnv_status get_ents(rbuf *r, const cnv_crdt *c, int kind, crdt_ents *out) {
  size_t n;
  if (get_count(r, 2, &n) != CNV_OK || (kind == 2 && n == 0)) return BAD;
  if (n) {
    out->v = malloc(n * sizeof *out->v);
    if (out->v == NULL) return CNV_ENOMEM;
    out->cap = n;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t id, v;
    if (get_var(r, &id) != CNV_OK || get_var(r, &v) != CNV_OK || id == 0 || v == 0) return BAD;
    if (i > 0) {
      const crdt_ent *p = &out->v[i - 1];
      if (kind == 0 ? p->id >= id : (p->id > id || (p->id == id && p->n >= v))) return BAD;
    }
    if (kind != 2 && cnv__crdt_ids_has(&c->ret, id)) return BAD;
    uint64_t vv = kind == 1 ? cnv__crdt_ents_get(&c->vv, id) : 0;
    if (kind == 1 && (v <= vv || v - vv == 1)) return BAD;
    if (kind == 2 && !cnv__crdt_ids_has(&c->ret, id) && cnv__crdt_ents_get(&c->vv, id) < v && !cnv__crdt_dots_has(&c->cloud, id, v))
      return BAD;
    out->v[i].id = id;
    out->v[i].n = v;
    out->n++;
  }
  return CNV_OK;
}

static int ent_qcmp(const void *a, const void *b) {
  const crdt_ent *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return (x->n > y->n) - (x->n < y->n);
}

/* A dot names one write: two elements holding the same dot is not a state any replica
 * makes (a remove of one would take the other). */
static cnv_status unique_dots(const cnv_crdt *c) {
  size_t n = 0, k = 0;
  for (size_t i = 0; i < c->nel; i++) n += c->el[i].dots.n;
  if (n < 2) return CNV_OK;
  crdt_ent *all = malloc(n * sizeof *all);
  if (all == NULL) return CNV_ENOMEM;
  for (size_t i = 0; i < c->nel; i++) {
    memcpy(all + k, c->el[i].dots.v, c->el[i].dots.n * sizeof *all);
    k += c->el[i].dots.n;
  }
  qsort(all, n, sizeof *all, ent_qcmp);
  cnv_status st = CNV_OK;
  for (size_t i = 1; i < n && st == CNV_OK; i++)
    if (ent_qcmp(&all[i - 1], &all[i]) == 0) st = BAD;
  free(all);
  return st;
}

static cnv_status decode_body(rbuf *r, cnv_crdt *c) {
  cnv_status st;
  uint64_t v;
  if (c->type == CNV_CRDT_LWW) {
    if (r->pos >= r->len) return BAD;
    uint8_t has = r->p[r->pos++];
    if (has > 1) return BAD;
    if (!has) return CNV_OK;
    uint64_t n;
    if (get_var(r, &c->ts) != CNV_OK || get_var(r, &c->wr) != CNV_OK || c->wr == 0) return BAD;
    if (get_var(r, &n) != CNV_OK || n > CNV_CRDT_MAX_ELEM || n > left(r)) return BAD;
    memcpy(c->val, r->p + r->pos, (size_t)n);
    r->pos += (size_t)n;
    c->vlen = (size_t)n;
    c->has = true;
    return CNV_OK;
  }
  size_t n;
  if (get_count(r, 1, &n) != CNV_OK) return BAD;
  if (n) {
    c->ret.v = malloc(n * sizeof *c->ret.v);
    if (c->ret.v == NULL) return CNV_ENOMEM;
    c->ret.cap = n;
  }
  for (size_t i = 0; i < n; i++) {
    if (get_var(r, &v) != CNV_OK || v == 0 || (i > 0 && c->ret.v[i - 1] >= v)) return BAD;
    c->ret.v[c->ret.n++] = v;
  }
  switch (c->type) {
    case CNV_CRDT_GCOUNTER:
    case CNV_CRDT_PNCOUNTER: {
      int k = c->type == CNV_CRDT_GCOUNTER ? 1 : 2;
      for (int i = 0; i < k; i++)
        if (get_var(r, &c->base[i]) != CNV_OK || (c->base[i] && c->ret.n == 0)) return BAD;
      for (int i = 0; i < k; i++)
        if ((st = get_ents(r, c, 0, &c->cnt[i])) != CNV_OK) return st;
      return CNV_OK;
    }
    case CNV_CRDT_VCLOCK:
      return get_ents(r, c, 0, &c->cnt[0]);
    default: /* ORSET, MVREG */
      if ((st = get_ents(r, c, 0, &c->vv)) != CNV_OK || (st = get_ents(r, c, 1, &c->cloud)) != CNV_OK) return st;
      if (get_count(r, 4, &n) != CNV_OK) return BAD;
      if (n) {
        c->el = calloc(n, sizeof *c->el);
        if (c->el == NULL) return CNV_ENOMEM;
        c->elcap = n;
      }
      for (size_t i = 0; i < n; i++) {
        uint64_t len;
        if (get_var(r, &len) != CNV_OK || len > CNV_CRDT_MAX_ELEM || len > left(r)) return BAD;
        if (len == 0 && c->type == CNV_CRDT_ORSET) return BAD;
        const uint8_t *key = r->p + r->pos;
        if (i > 0 && cnv__crdt_key_cmp(c->el[i - 1].key, c->el[i - 1].len, key, (size_t)len) >= 0) return BAD;
        crdt_elem *e;
        if (cnv__crdt_elem_push(c, key, (size_t)len, &e) != CNV_OK) return CNV_ENOMEM;
        r->pos += (size_t)len;
        if ((st = get_ents(r, c, 2, &e->dots)) != CNV_OK) return st;
      }
      return unique_dots(c);
  }
}

cnv_status cnv_crdt_decode(const uint8_t *in, size_t len, uint64_t replica, cnv_crdt **out) {
  if (out == NULL) return CNV_EINVAL;
  *out = NULL;
  if (in == NULL && len) return CNV_EINVAL;
  if (len == 0 || len > CNV_CRDT_MAX_ENCODED || !cnv__crdt_valid_type(in[0])) return BAD;
  cnv_crdt *c;
  cnv_status st = cnv_crdt_create(in[0], replica, &c);
  if (st != CNV_OK) return st;
  rbuf r = {in, len, 1};
  st = decode_body(&r, c);
  if (st == CNV_OK && r.pos != r.len) st = BAD;
  if (st != CNV_OK) {
    cnv_crdt_destroy(c);
    return st;
  }
  *out = c;
  return CNV_OK;
}
