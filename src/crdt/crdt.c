/* The CRDT types: layout helpers, delta mutators, the join (merge), equality and
 * retirement. docs/crdt.md describes the semantics. */
#include <stdlib.h>
#include <string.h>

#include "crdt_internal.h"

/* ---- small helpers ------------------------------------------------------------------- */

bool cnv__crdt_valid_type(int type) { return type >= CNV_CRDT_GCOUNTER && type <= CNV_CRDT_VCLOCK; }
bool cnv__crdt_dot_type(int type) { return type == CNV_CRDT_ORSET || type == CNV_CRDT_MVREG; }

void cnv__crdt_init(cnv_crdt *c, int type, uint64_t replica) {
  memset(c, 0, sizeof *c);
  c->type = type;
  c->replica = replica;
}

void cnv__crdt_fini(cnv_crdt *c) {
  free(c->ret.v);
  free(c->cnt[0].v);
  free(c->cnt[1].v);
  free(c->vv.v);
  free(c->cloud.v);
  for (size_t i = 0; i < c->nel; i++) {
    free(c->el[i].key);
    free(c->el[i].dots.v);
  }
  free(c->el);
  cnv__crdt_init(c, c->type, c->replica);
}

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t nc = *cap ? *cap * 2 : 4;
  while (nc < need) nc *= 2;
  if (nc > SIZE_MAX / size) return false;
  void *q = realloc(*p, nc * size);
  if (q == NULL) return false;
  *p = q;
  *cap = nc;
  return true;
}

cnv_status cnv__crdt_ents_push(crdt_ents *a, uint64_t id, uint64_t n) {
  if (!grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v)) return CNV_ENOMEM;
  a->v[a->n].id = id;
  a->v[a->n].n = n;
  a->n++;
  return CNV_OK;
}

cnv_status cnv__crdt_ids_push(crdt_ids *a, uint64_t id) {
  if (!grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v)) return CNV_ENOMEM;
  a->v[a->n++] = id;
  return CNV_OK;
}

cnv_status cnv__crdt_elem_push(cnv_crdt *c, const void *key, size_t len, crdt_elem **out) {
  if (!grow((void **)&c->el, &c->elcap, c->nel + 1, sizeof *c->el)) return CNV_ENOMEM;
  crdt_elem *e = &c->el[c->nel];
  memset(e, 0, sizeof *e);
  e->key = malloc(len ? len : 1);
  if (e->key == NULL) return CNV_ENOMEM;
  if (len) memcpy(e->key, key, len);
  e->len = len;
  c->nel++;
  *out = e;
  return CNV_OK;
}

bool cnv__crdt_ids_has(const crdt_ids *a, uint64_t id) {
  size_t lo = 0, hi = a->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a->v[mid] == id) return true;
    if (a->v[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

/* Index of the first entry with key >= (id, n). */
static size_t ents_lower(const crdt_ents *a, uint64_t id, uint64_t n) {
  size_t lo = 0, hi = a->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const crdt_ent *e = &a->v[mid];
    if (e->id < id || (e->id == id && e->n < n))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

uint64_t cnv__crdt_ents_get(const crdt_ents *a, uint64_t id) {
  size_t i = ents_lower(a, id, 0);
  return i < a->n && a->v[i].id == id ? a->v[i].n : 0;
}

bool cnv__crdt_dots_has(const crdt_ents *a, uint64_t id, uint64_t n) {
  size_t i = ents_lower(a, id, n);
  return i < a->n && a->v[i].id == id && a->v[i].n == n;
}

int cnv__crdt_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  size_t m = alen < blen ? alen : blen;
  int r = m ? memcmp(a, b, m) : 0;
  if (r) return r < 0 ? -1 : 1;
  return (alen > blen) - (alen < blen);
}

static int ent_cmp(const crdt_ent *a, const crdt_ent *b) {
  if (a->id != b->id) return a->id < b->id ? -1 : 1;
  return (a->n > b->n) - (a->n < b->n);
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* ---- lifecycle ----------------------------------------------------------------------- */

cnv_status cnv_crdt_create(int type, uint64_t replica, cnv_crdt **out) {
  if (out == NULL) return CNV_EINVAL;
  *out = NULL;
  if (!cnv__crdt_valid_type(type)) return CNV_ERANGE;
  cnv_crdt *c = malloc(sizeof *c);
  if (c == NULL) return CNV_ENOMEM;
  cnv__crdt_init(c, type, replica);
  *out = c;
  return CNV_OK;
}

void cnv_crdt_destroy(cnv_crdt *c) {
  if (c == NULL) return;
  cnv__crdt_fini(c);
  free(c);
}

int cnv_crdt_type_of(const cnv_crdt *c) { return c ? c->type : 0; }

void cnv_crdt_clear(cnv_crdt *c) {
  if (c != NULL) cnv__crdt_fini(c);
}

bool cnv_crdt_is_empty(const cnv_crdt *c) {
  if (c == NULL) return true;
  return c->ret.n == 0 && c->base[0] == 0 && c->base[1] == 0 && c->cnt[0].n == 0 && c->cnt[1].n == 0 &&
         c->vv.n == 0 && c->cloud.n == 0 && c->nel == 0 && !c->has;
}

/* ---- join ---------------------------------------------------------------------------- */

static cnv_status ids_union(crdt_ids *out, const crdt_ids *a, const crdt_ids *b) {
  size_t i = 0, j = 0;
  while (i < a->n || j < b->n) {
    uint64_t x;
    if (j >= b->n || (i < a->n && a->v[i] < b->v[j]))
      x = a->v[i++];
    else if (i >= a->n || b->v[j] < a->v[i])
      x = b->v[j++];
    else {
      x = a->v[i++];
      j++;
    }
    if (cnv__crdt_ids_push(out, x) != CNV_OK) return CNV_ENOMEM;
  }
  return CNV_OK;
}

/* Per-id maximum of two maps, leaving out the ids in skip. */
static cnv_status map_max(crdt_ents *out, const crdt_ents *a, const crdt_ents *b, const crdt_ids *skip) {
  size_t i = 0, j = 0;
  while (i < a->n || j < b->n) {
    crdt_ent e;
    if (j >= b->n || (i < a->n && a->v[i].id < b->v[j].id))
      e = a->v[i++];
    else if (i >= a->n || b->v[j].id < a->v[i].id)
      e = b->v[j++];
    else {
      e = a->v[i];
      if (b->v[j].n > e.n) e.n = b->v[j].n;
      i++;
      j++;
    }
    if (cnv__crdt_ids_has(skip, e.id)) continue;
    if (cnv__crdt_ents_push(out, e.id, e.n) != CNV_OK) return CNV_ENOMEM;
  }
  return CNV_OK;
}

/* A side's retired base seen against the joined retired set: its base plus its live entries
 * of the ids the other side has retired (they fold into the base). */
static uint64_t eff_base(const cnv_crdt *x, int k, const crdt_ids *ret) {
  uint64_t s = x->base[k];
  for (size_t i = 0; i < x->cnt[k].n; i++)
    if (cnv__crdt_ids_has(ret, x->cnt[k].v[i].id)) s = sat_add(s, x->cnt[k].v[i].n);
  return s;
}

/* Folds the dot cloud into the version vector (a cloud dot right after its replica's entry
 * extends it; covered dots go), and drops everything of retired replicas. */
static cnv_status ctx_compact(crdt_ents *vv, crdt_ents *cloud, const crdt_ids *ret) {
  crdt_ents nv = {0}, nc = {0};
  size_t i = 0, j = 0;
  while (i < vv->n || j < cloud->n) {
    uint64_t id;
    if (j >= cloud->n || (i < vv->n && vv->v[i].id < cloud->v[j].id))
      id = vv->v[i].id;
    else
      id = cloud->v[j].id;
    uint64_t v = 0;
    if (i < vv->n && vv->v[i].id == id) v = vv->v[i++].n;
    bool gone = cnv__crdt_ids_has(ret, id);
    for (; j < cloud->n && cloud->v[j].id == id; j++) {
      uint64_t n = cloud->v[j].n;
      if (gone || n <= v) continue;
      if (n == v + 1) {
        v = n;
        continue;
      }
      if (cnv__crdt_ents_push(&nc, id, n) != CNV_OK) goto nomem;
    }
    if (!gone && v && cnv__crdt_ents_push(&nv, id, v) != CNV_OK) goto nomem;
  }
  free(vv->v);
  free(cloud->v);
  *vv = nv;
  *cloud = nc;
  return CNV_OK;
nomem:
  free(nv.v);
  free(nc.v);
  return CNV_ENOMEM;
}

/* Sorted union of two sorted dot lists. */
static cnv_status dots_union(crdt_ents *out, const crdt_ents *a, const crdt_ents *b) {
  size_t i = 0, j = 0;
  while (i < a->n || j < b->n) {
    crdt_ent e;
    int c = i >= a->n ? 1 : j >= b->n ? -1
                                      : ent_cmp(&a->v[i], &b->v[j]);
    if (c < 0)
      e = a->v[i++];
    else if (c > 0)
      e = b->v[j++];
    else {
      e = a->v[i++];
      j++;
    }
    if (cnv__crdt_ents_push(out, e.id, e.n) != CNV_OK) return CNV_ENOMEM;
  }
  return CNV_OK;
}

/* Whether x's causal context has seen dot (id, n). */
static bool seen(const cnv_crdt *x, uint64_t id, uint64_t n) {
  return cnv__crdt_ids_has(&x->ret, id) || cnv__crdt_ents_get(&x->vv, id) >= n || cnv__crdt_dots_has(&x->cloud, id, n);
}

/* The dots of one key after the join: a dot on both sides stays; a dot on one side stays
 * only while the other side's context has not seen it. */
static cnv_status elem_join(crdt_ents *out, const crdt_ents *a, const cnv_crdt *A, const crdt_ents *b,
                            const cnv_crdt *B) {
  static const crdt_ents none = {0};
  if (a == NULL) a = &none;
  if (b == NULL) b = &none;
  size_t i = 0, j = 0;
  while (i < a->n || j < b->n) {
    int c = i >= a->n ? 1 : j >= b->n ? -1
                                      : ent_cmp(&a->v[i], &b->v[j]);
    crdt_ent e;
    bool keep;
    if (c < 0) {
      e = a->v[i++];
      keep = !seen(B, e.id, e.n);
    } else if (c > 0) {
      e = b->v[j++];
      keep = !seen(A, e.id, e.n);
    } else {
      e = a->v[i++];
      j++;
      keep = true;
    }
    if (keep && cnv__crdt_ents_push(out, e.id, e.n) != CNV_OK) return CNV_ENOMEM;
  }
  return CNV_OK;
}

static cnv_status join_dots(cnv_crdt *t, const cnv_crdt *A, const cnv_crdt *B) {
  size_t i = 0, j = 0;
  while (i < A->nel || j < B->nel) {
    const crdt_elem *ea = i < A->nel ? &A->el[i] : NULL, *eb = j < B->nel ? &B->el[j] : NULL;
    int c = ea == NULL ? 1 : eb == NULL ? -1
                                        : cnv__crdt_key_cmp(ea->key, ea->len, eb->key, eb->len);
    if (c < 0)
      eb = NULL, i++;
    else if (c > 0)
      ea = NULL, j++;
    else
      i++, j++;
    crdt_ents d = {0};
    if (elem_join(&d, ea ? &ea->dots : NULL, A, eb ? &eb->dots : NULL, B) != CNV_OK) {
      free(d.v);
      return CNV_ENOMEM;
    }
    if (d.n == 0) {
      free(d.v);
      continue;
    }
    const crdt_elem *src = ea ? ea : eb;
    crdt_elem *e;
    if (cnv__crdt_elem_push(t, src->key, src->len, &e) != CNV_OK) {
      free(d.v);
      return CNV_ENOMEM;
    }
    e->dots = d;
  }
  if (map_max(&t->vv, &A->vv, &B->vv, &t->ret) != CNV_OK) return CNV_ENOMEM;
  if (dots_union(&t->cloud, &A->cloud, &B->cloud) != CNV_OK) return CNV_ENOMEM;
  return ctx_compact(&t->vv, &t->cloud, &t->ret);
}

static bool lww_less(const cnv_crdt *a, const cnv_crdt *b) {
  if (!b->has) return false;
  if (!a->has) return true;
  if (a->ts != b->ts) return a->ts < b->ts;
  if (a->wr != b->wr) return a->wr < b->wr;
  return cnv__crdt_key_cmp(a->val, a->vlen, b->val, b->vlen) < 0;
}

static void lww_join(cnv_crdt *dst, const cnv_crdt *src) {
  if (!lww_less(dst, src)) return;
  dst->has = true;
  dst->ts = src->ts;
  dst->wr = src->wr;
  dst->vlen = src->vlen;
  if (src->vlen) memcpy(dst->val, src->val, src->vlen);
}

/* t (empty, dst's type and replica) := A join B, built whole. */
static cnv_status join(cnv_crdt *t, const cnv_crdt *A, const cnv_crdt *B) {
  if (ids_union(&t->ret, &A->ret, &B->ret) != CNV_OK) return CNV_ENOMEM;
  switch (A->type) {
    case CNV_CRDT_GCOUNTER:
    case CNV_CRDT_PNCOUNTER:
    case CNV_CRDT_VCLOCK:
      for (int k = 0; k < 2; k++) {
        uint64_t ea = eff_base(A, k, &t->ret), eb = eff_base(B, k, &t->ret);
        if (A->type != CNV_CRDT_VCLOCK) t->base[k] = ea > eb ? ea : eb;
        if (map_max(&t->cnt[k], &A->cnt[k], &B->cnt[k], &t->ret) != CNV_OK) return CNV_ENOMEM;
      }
      return CNV_OK;
    case CNV_CRDT_ORSET:
    case CNV_CRDT_MVREG:
      return join_dots(t, A, B);
    default:
      return CNV_EINVAL;
  }
}

/* A prepared join dst := dst join src, all or nothing: everything that can fail (allocation)
 * happens in join_prepare, which leaves dst as it was; join_commit cannot fail.
 * Counters and version vectors (small) are rebuilt whole into t. OR-Sets and MV registers
 * are changed in place, so that joining a small delta into a large state costs one pass of
 * comparisons and allocations only for what changes: t then holds the new retired set and
 * context, and ch the element changes in key order. */
enum { CH_MODIFY,
       CH_DELETE,
       CH_INSERT };

typedef struct change {
  size_t at; /* dst's element index; for an insert, the index it goes before */
  int kind;
  crdt_ents dots;
  uint8_t *key;
  size_t len;
} change;

typedef struct pjoin {
  cnv_crdt t;
  change *ch;
  size_t nch, chcap, ndel, nins;
} pjoin;

static void join_abort(pjoin *pj) {
  cnv__crdt_fini(&pj->t);
  for (size_t i = 0; i < pj->nch; i++) {
    free(pj->ch[i].dots.v);
    free(pj->ch[i].key);
  }
  free(pj->ch);
  pj->ch = NULL;
  pj->nch = pj->chcap = 0;
}

static cnv_status add_change(pjoin *pj, size_t at, int kind, const crdt_ents *dots, const crdt_elem *src) {
  if (!grow((void **)&pj->ch, &pj->chcap, pj->nch + 1, sizeof *pj->ch)) return CNV_ENOMEM;
  change *c = &pj->ch[pj->nch];
  memset(c, 0, sizeof *c);
  c->at = at;
  c->kind = kind;
  if (kind != CH_DELETE) {
    c->dots.v = malloc(dots->n * sizeof *dots->v);
    if (c->dots.v == NULL) return CNV_ENOMEM;
    memcpy(c->dots.v, dots->v, dots->n * sizeof *dots->v);
    c->dots.n = c->dots.cap = dots->n;
  }
  if (kind == CH_INSERT) {
    c->key = malloc(src->len ? src->len : 1);
    if (c->key == NULL) {
      free(c->dots.v);
      return CNV_ENOMEM;
    }
    if (src->len) memcpy(c->key, src->key, src->len);
    c->len = src->len;
    pj->nins++;
  }
  if (kind == CH_DELETE) pj->ndel++;
  pj->nch++;
  return CNV_OK;
}

/* The change one key needs: ea (A's element at index at, or NULL: an insert before at)
 * joined with eb (B's, or NULL). d is scratch. */
static cnv_status plan_elem(pjoin *pj, const cnv_crdt *A, const cnv_crdt *B, crdt_ents *d, const crdt_elem *ea,
                            const crdt_elem *eb, size_t at) {
  d->n = 0;
  cnv_status st = elem_join(d, ea ? &ea->dots : NULL, A, eb ? &eb->dots : NULL, B);
  if (st != CNV_OK) return st;
  if (ea == NULL) return d->n ? add_change(pj, at, CH_INSERT, d, eb) : CNV_OK;
  if (d->n == 0) return add_change(pj, at, CH_DELETE, d, ea);
  if (d->n != ea->dots.n || memcmp(d->v, ea->dots.v, d->n * sizeof *d->v) != 0)
    return add_change(pj, at, CH_MODIFY, d, ea);
  return CNV_OK;
}

/* The first index >= lo whose key is >= k's (exponential, then binary search): a run of A's
 * elements that B does not hold costs O(log run) key comparisons. */
static size_t gallop(const cnv_crdt *A, size_t lo, const crdt_elem *k) {
  size_t step = 1, hi = lo;
  while (hi < A->nel && cnv__crdt_key_cmp(A->el[hi].key, A->el[hi].len, k->key, k->len) < 0) {
    lo = hi + 1;
    hi = lo + step;
    step *= 2;
  }
  if (hi > A->nel) hi = A->nel;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cnv__crdt_key_cmp(A->el[mid].key, A->el[mid].len, k->key, k->len) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The replica ids of which B's context has seen anything. */
static cnv_status known_ids(crdt_ids *out, const cnv_crdt *B) {
  crdt_ids a = {0}, b = {0};
  cnv_status st = CNV_OK;
  for (size_t i = 0; st == CNV_OK && i < B->vv.n; i++) st = cnv__crdt_ids_push(&a, B->vv.v[i].id);
  for (size_t i = 0; st == CNV_OK && i < B->cloud.n; i++)
    if (b.n == 0 || b.v[b.n - 1] != B->cloud.v[i].id) st = cnv__crdt_ids_push(&b, B->cloud.v[i].id);
  crdt_ids ab = {0};
  if (st == CNV_OK) st = ids_union(&ab, &a, &b);
  if (st == CNV_OK) st = ids_union(out, &ab, &B->ret);
  free(a.v);
  free(b.v);
  free(ab.v);
  return st;
}

static cnv_status plan_dots(cnv_crdt *A, const cnv_crdt *B, pjoin *pj) {
  if (ids_union(&pj->t.ret, &A->ret, &B->ret) != CNV_OK || map_max(&pj->t.vv, &A->vv, &B->vv, &pj->t.ret) != CNV_OK ||
      dots_union(&pj->t.cloud, &A->cloud, &B->cloud) != CNV_OK)
    return CNV_ENOMEM;
  cnv_status st = ctx_compact(&pj->t.vv, &pj->t.cloud, &pj->t.ret);
  crdt_ents d = {0};
  crdt_ids known = {0};
  if (st == CNV_OK) st = known_ids(&known, B);
  size_t i = 0, j = 0;
  while (st == CNV_OK) {
    /* A's elements before B's next key: only a dot of a replica B's context knows can go. */
    size_t end = j < B->nel ? gallop(A, i, &B->el[j]) : A->nel;
    for (; st == CNV_OK && i < end; i++) {
      const crdt_ents *dots = &A->el[i].dots;
      bool touched = false;
      for (size_t k = 0; !touched && k < dots->n; k++) touched = cnv__crdt_ids_has(&known, dots->v[k].id);
      if (touched) st = plan_elem(pj, A, B, &d, &A->el[i], NULL, i);
    }
    if (st != CNV_OK || j >= B->nel) break;
    const crdt_elem *eb = &B->el[j++];
    if (i < A->nel && cnv__crdt_key_cmp(A->el[i].key, A->el[i].len, eb->key, eb->len) == 0) {
      st = plan_elem(pj, A, B, &d, &A->el[i], eb, i);
      i++;
    } else {
      st = plan_elem(pj, A, B, &d, NULL, eb, i);
    }
  }
  free(d.v);
  free(known.v);
  if (st == CNV_OK && !grow((void **)&A->el, &A->elcap, A->nel + pj->nins, sizeof *A->el)) st = CNV_ENOMEM;
  return st;
}

static void commit_dots(cnv_crdt *dst, pjoin *pj) {
  free(dst->ret.v);
  free(dst->vv.v);
  free(dst->cloud.v);
  dst->ret = pj->t.ret;
  dst->vv = pj->t.vv;
  dst->cloud = pj->t.cloud;
  memset(&pj->t.ret, 0, sizeof pj->t.ret);
  memset(&pj->t.vv, 0, sizeof pj->t.vv);
  memset(&pj->t.cloud, 0, sizeof pj->t.cloud);
  for (size_t k = 0; k < pj->nch; k++) {
    change *c = &pj->ch[k];
    if (c->kind == CH_INSERT) continue;
    crdt_elem *e = &dst->el[c->at];
    free(e->dots.v);
    e->dots = c->dots;
    memset(&c->dots, 0, sizeof c->dots);
    if (c->kind == CH_DELETE) {
      free(e->key);
      e->key = NULL;
    }
  }
  if (pj->ndel) { /* close the gaps; inserts then point into the compacted array */
    size_t w = 0, k = 0;
    for (size_t i = 0; i <= dst->nel; i++) {
      for (; k < pj->nch && pj->ch[k].at <= i; k++)
        if (pj->ch[k].kind == CH_INSERT) pj->ch[k].at = w;
      if (i < dst->nel && dst->el[i].key != NULL) dst->el[w++] = dst->el[i];
    }
    dst->nel = w;
  }
  if (pj->nins) { /* from the end: each insert goes before its index */
    size_t i = dst->nel, w = dst->nel + pj->nins;
    for (size_t k = pj->nch; k-- > 0;) {
      change *c = &pj->ch[k];
      if (c->kind != CH_INSERT) continue;
      while (i > c->at) dst->el[--w] = dst->el[--i];
      crdt_elem *e = &dst->el[--w];
      e->key = c->key;
      e->len = c->len;
      e->dots = c->dots;
      c->key = NULL;
      memset(&c->dots, 0, sizeof c->dots);
    }
    dst->nel += pj->nins;
  }
  join_abort(pj);
}

static cnv_status join_prepare(cnv_crdt *dst, const cnv_crdt *src, pjoin *pj) {
  memset(pj, 0, sizeof *pj);
  cnv__crdt_init(&pj->t, dst->type, dst->replica);
  cnv_status st = cnv__crdt_dot_type(dst->type) ? plan_dots(dst, src, pj) : join(&pj->t, dst, src);
  if (st != CNV_OK) join_abort(pj);
  return st;
}

static void join_commit(cnv_crdt *dst, pjoin *pj) {
  if (cnv__crdt_dot_type(dst->type)) {
    commit_dots(dst, pj);
    return;
  }
  cnv__crdt_fini(dst);
  *dst = pj->t;
}

cnv_status cnv_crdt_merge(cnv_crdt *dst, const cnv_crdt *src) {
  if (dst == NULL || src == NULL || dst->type != src->type) return CNV_EINVAL;
  if (dst == src) return CNV_OK;
  if (dst->type == CNV_CRDT_LWW) {
    lww_join(dst, src);
    return CNV_OK;
  }
  pjoin pj;
  cnv_status st = join_prepare(dst, src, &pj);
  if (st != CNV_OK) return st;
  join_commit(dst, &pj);
  return CNV_OK;
}

cnv_status cnv_crdt_clone(const cnv_crdt *c, uint64_t replica, cnv_crdt **out) {
  if (out == NULL) return CNV_EINVAL;
  *out = NULL;
  if (c == NULL) return CNV_EINVAL;
  cnv_crdt *n;
  cnv_status st = cnv_crdt_create(c->type, replica, &n);
  if (st != CNV_OK) return st;
  st = cnv_crdt_merge(n, c);
  if (st != CNV_OK) {
    cnv_crdt_destroy(n);
    return st;
  }
  *out = n;
  return CNV_OK;
}

/* Applies the mutation's delta d to c and joins it into delta (if any), all or nothing. */
static cnv_status apply(cnv_crdt *c, const cnv_crdt *d, cnv_crdt *delta) {
  pjoin t1, t2;
  cnv_status st = join_prepare(c, d, &t1);
  if (st != CNV_OK) return st;
  if (delta != NULL) {
    st = join_prepare(delta, d, &t2);
    if (st != CNV_OK) {
      join_abort(&t1);
      return st;
    }
    join_commit(delta, &t2);
  }
  join_commit(c, &t1);
  return CNV_OK;
}

/* ---- equality ------------------------------------------------------------------------ */

static bool ents_eq(const crdt_ents *a, const crdt_ents *b) {
  return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof *a->v) == 0);
}

bool cnv_crdt_equal(const cnv_crdt *a, const cnv_crdt *b) {
  if (a == NULL || b == NULL || a->type != b->type) return false;
  if (a->ret.n != b->ret.n || (a->ret.n && memcmp(a->ret.v, b->ret.v, a->ret.n * sizeof *a->ret.v))) return false;
  if (a->base[0] != b->base[0] || a->base[1] != b->base[1]) return false;
  if (!ents_eq(&a->cnt[0], &b->cnt[0]) || !ents_eq(&a->cnt[1], &b->cnt[1])) return false;
  if (!ents_eq(&a->vv, &b->vv) || !ents_eq(&a->cloud, &b->cloud) || a->nel != b->nel) return false;
  for (size_t i = 0; i < a->nel; i++)
    if (cnv__crdt_key_cmp(a->el[i].key, a->el[i].len, b->el[i].key, b->el[i].len) ||
        !ents_eq(&a->el[i].dots, &b->el[i].dots))
      return false;
  if (a->has != b->has) return false;
  if (a->has && (a->ts != b->ts || a->wr != b->wr || cnv__crdt_key_cmp(a->val, a->vlen, b->val, b->vlen))) return false;
  return true;
}

/* ---- mutators ------------------------------------------------------------------------ */

static cnv_status check_mut(const cnv_crdt *c, int type, const cnv_crdt *delta) {
  if (c == NULL || c->type != type || c->replica == 0) return CNV_EINVAL;
  if (delta != NULL && (delta->type != type || delta == c)) return CNV_EINVAL;
  if (cnv__crdt_ids_has(&c->ret, c->replica)) return CNV_EINVAL;
  return CNV_OK;
}

static cnv_status total(const cnv_crdt *c, int k, uint64_t *out) {
  uint64_t s = c->base[k];
  for (size_t i = 0; i < c->cnt[k].n; i++) {
    if (s > UINT64_MAX - c->cnt[k].v[i].n) return CNV_EOVERFLOW;
    s += c->cnt[k].v[i].n;
  }
  *out = s;
  return CNV_OK;
}

/* Adds n to c's own entry k, after checking the resulting value still fits. */
static cnv_status counter_bump(cnv_crdt *c, int k, uint64_t n, cnv_crdt *delta) {
  if (n == 0) return CNV_OK;
  uint64_t p, m, own = cnv__crdt_ents_get(&c->cnt[k], c->replica);
  if (total(c, 0, &p) != CNV_OK || total(c, 1, &m) != CNV_OK) return CNV_EOVERFLOW;
  uint64_t *t = k == 0 ? &p : &m;
  if (own > UINT64_MAX - n || *t > UINT64_MAX - n) return CNV_EOVERFLOW;
  *t += n;
  if (p >= m ? p - m > (uint64_t)INT64_MAX : m - p > (uint64_t)INT64_MAX + 1u) return CNV_EOVERFLOW;
  cnv_crdt d;
  cnv__crdt_init(&d, c->type, 0);
  cnv_status st = cnv__crdt_ents_push(&d.cnt[k], c->replica, own + n);
  if (st == CNV_OK) st = apply(c, &d, delta);
  cnv__crdt_fini(&d);
  return st;
}

cnv_status cnv_crdt_gcounter_inc(cnv_crdt *c, uint64_t n, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_GCOUNTER, delta);
  return st != CNV_OK ? st : counter_bump(c, 0, n, delta);
}

cnv_status cnv_crdt_pncounter_add(cnv_crdt *c, int64_t n, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_PNCOUNTER, delta);
  if (st != CNV_OK) return st;
  if (n >= 0) return counter_bump(c, 0, (uint64_t)n, delta);
  return counter_bump(c, 1, (uint64_t)(-(n + 1)) + 1u, delta);
}

cnv_status cnv_crdt_counter_value(const cnv_crdt *c, int64_t *out) {
  if (c == NULL || out == NULL || (c->type != CNV_CRDT_GCOUNTER && c->type != CNV_CRDT_PNCOUNTER))
    return CNV_EINVAL;
  uint64_t p, m;
  if (total(c, 0, &p) != CNV_OK || total(c, 1, &m) != CNV_OK) return CNV_EOVERFLOW;
  if (p >= m) {
    if (p - m > (uint64_t)INT64_MAX) return CNV_EOVERFLOW;
    *out = (int64_t)(p - m);
  } else {
    uint64_t d = m - p;
    if (d > (uint64_t)INT64_MAX + 1u) return CNV_EOVERFLOW;
    *out = d == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)d;
  }
  return CNV_OK;
}

/* The last dot of c's replica that c's context has seen: the next one is past it. */
static uint64_t last_dot(const cnv_crdt *c) {
  uint64_t v = cnv__crdt_ents_get(&c->vv, c->replica);
  for (size_t i = ents_lower(&c->cloud, c->replica, 0); i < c->cloud.n && c->cloud.v[i].id == c->replica; i++)
    if (c->cloud.v[i].n > v) v = c->cloud.v[i].n;
  return v;
}

static crdt_elem *find_elem(const cnv_crdt *c, const void *key, size_t len) {
  size_t lo = 0, hi = c->nel;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = cnv__crdt_key_cmp(c->el[mid].key, c->el[mid].len, key, len);
    if (r == 0) return &c->el[mid];
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static int ent_qcmp(const void *a, const void *b) { return ent_cmp(a, b); }

/* Builds the delta {key: {new dot}} with context (covered dots + new dot) and applies it.
 * whole: the covered dots are every element's (MV register), else the key's own. */
static cnv_status dot_write(cnv_crdt *c, const void *key, size_t len, bool whole, cnv_crdt *delta) {
  cnv_crdt d;
  cnv__crdt_init(&d, c->type, 0);
  uint64_t dot = last_dot(c);
  if (dot == UINT64_MAX) return CNV_EOVERFLOW;
  dot++;
  crdt_elem *e;
  cnv_status st = cnv__crdt_elem_push(&d, key, len, &e);
  if (st == CNV_OK) st = cnv__crdt_ents_push(&e->dots, c->replica, dot);
  for (size_t i = 0; st == CNV_OK && i < c->nel; i++) {
    const crdt_elem *x = &c->el[i];
    if (!whole && cnv__crdt_key_cmp(x->key, x->len, key, len) != 0) continue;
    for (size_t k = 0; st == CNV_OK && k < x->dots.n; k++) st = cnv__crdt_ents_push(&d.cloud, x->dots.v[k].id, x->dots.v[k].n);
  }
  if (st == CNV_OK) st = cnv__crdt_ents_push(&d.cloud, c->replica, dot);
  if (st == CNV_OK) {
    qsort(d.cloud.v, d.cloud.n, sizeof *d.cloud.v, ent_qcmp);
    st = ctx_compact(&d.vv, &d.cloud, &d.ret);
  }
  if (st == CNV_OK) st = apply(c, &d, delta);
  cnv__crdt_fini(&d);
  return st;
}

cnv_status cnv_crdt_orset_add(cnv_crdt *c, const void *elem, size_t len, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_ORSET, delta);
  if (st != CNV_OK) return st;
  if (elem == NULL) return CNV_EINVAL;
  if (len == 0 || len > CNV_CRDT_MAX_ELEM) return CNV_ERANGE;
  return dot_write(c, elem, len, false, delta);
}

cnv_status cnv_crdt_orset_remove(cnv_crdt *c, const void *elem, size_t len, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_ORSET, delta);
  if (st != CNV_OK) return st;
  if (elem == NULL) return CNV_EINVAL;
  if (len == 0 || len > CNV_CRDT_MAX_ELEM) return CNV_ERANGE;
  const crdt_elem *e = find_elem(c, elem, len);
  if (e == NULL) return CNV_OK;
  cnv_crdt d;
  cnv__crdt_init(&d, c->type, 0);
  for (size_t k = 0; st == CNV_OK && k < e->dots.n; k++) st = cnv__crdt_ents_push(&d.cloud, e->dots.v[k].id, e->dots.v[k].n);
  if (st == CNV_OK) st = ctx_compact(&d.vv, &d.cloud, &d.ret);
  if (st == CNV_OK) st = apply(c, &d, delta);
  cnv__crdt_fini(&d);
  return st;
}

bool cnv_crdt_orset_contains(const cnv_crdt *c, const void *elem, size_t len) {
  if (c == NULL || c->type != CNV_CRDT_ORSET || (elem == NULL && len)) return false;
  return find_elem(c, elem, len) != NULL;
}

size_t cnv_crdt_orset_size(const cnv_crdt *c) { return c && c->type == CNV_CRDT_ORSET ? c->nel : 0; }

static cnv_status each(const cnv_crdt *c, int type, int (*fn)(void *, const void *, size_t), void *ctx) {
  if (c == NULL || fn == NULL || c->type != type) return CNV_EINVAL;
  for (size_t i = 0; i < c->nel; i++)
    if (fn(ctx, c->el[i].key, c->el[i].len)) break;
  return CNV_OK;
}

cnv_status cnv_crdt_orset_each(const cnv_crdt *c, int (*fn)(void *ctx, const void *elem, size_t len), void *ctx) {
  return each(c, CNV_CRDT_ORSET, fn, ctx);
}

cnv_status cnv_crdt_lww_set(cnv_crdt *c, const void *value, size_t len, uint64_t timestamp, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_LWW, delta);
  if (st != CNV_OK) return st;
  if (value == NULL && len) return CNV_EINVAL;
  if (len > CNV_CRDT_MAX_ELEM) return CNV_ERANGE;
  cnv_crdt d;
  cnv__crdt_init(&d, CNV_CRDT_LWW, 0);
  d.has = true;
  d.ts = timestamp;
  d.wr = c->replica;
  d.vlen = len;
  if (len) memcpy(d.val, value, len);
  if (delta != NULL) lww_join(delta, &d);
  lww_join(c, &d);
  return CNV_OK;
}

cnv_status cnv_crdt_lww_get(const cnv_crdt *c, const void **value, size_t *len, uint64_t *timestamp) {
  if (c == NULL || value == NULL || len == NULL || c->type != CNV_CRDT_LWW) return CNV_EINVAL;
  if (!c->has) {
    *value = NULL;
    *len = 0;
    if (timestamp != NULL) *timestamp = 0;
    return CNV_ENOTFOUND;
  }
  *value = c->val;
  *len = c->vlen;
  if (timestamp != NULL) *timestamp = c->ts;
  return CNV_OK;
}

cnv_status cnv_crdt_mvreg_set(cnv_crdt *c, const void *value, size_t len, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_MVREG, delta);
  if (st != CNV_OK) return st;
  if (value == NULL && len) return CNV_EINVAL;
  if (len > CNV_CRDT_MAX_ELEM) return CNV_ERANGE;
  return dot_write(c, value, len, true, delta);
}

cnv_status cnv_crdt_mvreg_each(const cnv_crdt *c, int (*fn)(void *ctx, const void *value, size_t len), void *ctx) {
  return each(c, CNV_CRDT_MVREG, fn, ctx);
}

cnv_status cnv_crdt_vclock_tick(cnv_crdt *c, cnv_crdt *delta) {
  cnv_status st = check_mut(c, CNV_CRDT_VCLOCK, delta);
  if (st != CNV_OK) return st;
  uint64_t own = cnv__crdt_ents_get(&c->cnt[0], c->replica);
  if (own == UINT64_MAX) return CNV_EOVERFLOW;
  cnv_crdt d;
  cnv__crdt_init(&d, CNV_CRDT_VCLOCK, 0);
  st = cnv__crdt_ents_push(&d.cnt[0], c->replica, own + 1);
  if (st == CNV_OK) st = apply(c, &d, delta);
  cnv__crdt_fini(&d);
  return st;
}

/* A retired replica reads as UINT64_MAX: it has left, so every vector is past its ticks. */
static uint64_t vc_at(const cnv_crdt *c, uint64_t id) {
  return cnv__crdt_ids_has(&c->ret, id) ? UINT64_MAX : cnv__crdt_ents_get(&c->cnt[0], id);
}

uint64_t cnv_crdt_vclock_get(const cnv_crdt *c, uint64_t replica) {
  if (c == NULL || c->type != CNV_CRDT_VCLOCK) return 0;
  return vc_at(c, replica);
}

static void vc_cmp_ids(const cnv_crdt *a, const cnv_crdt *b, const uint64_t *ids, size_t n, bool *lt, bool *gt) {
  for (size_t i = 0; i < n; i++) {
    uint64_t x = vc_at(a, ids[i]), y = vc_at(b, ids[i]);
    if (x < y) *lt = true;
    if (x > y) *gt = true;
  }
}

cnv_status cnv_crdt_compare(const cnv_crdt *a, const cnv_crdt *b, int *order) {
  if (a == NULL || b == NULL || order == NULL || a->type != CNV_CRDT_VCLOCK || b->type != CNV_CRDT_VCLOCK)
    return CNV_EINVAL;
  bool lt = false, gt = false;
  const cnv_crdt *s[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    vc_cmp_ids(a, b, s[k]->ret.v, s[k]->ret.n, &lt, &gt);
    for (size_t i = 0; i < s[k]->cnt[0].n; i++) vc_cmp_ids(a, b, &s[k]->cnt[0].v[i].id, 1, &lt, &gt);
  }
  *order = lt && gt ? CNV_CRDT_CONCURRENT : lt ? CNV_CRDT_BEFORE
                                        : gt   ? CNV_CRDT_AFTER
                                               : CNV_CRDT_EQUAL;
  return CNV_OK;
}

/* ---- retirement ---------------------------------------------------------------------- */

static bool has_entry(const cnv_crdt *c, uint64_t id) {
  if (cnv__crdt_dot_type(c->type)) {
    size_t i = ents_lower(&c->cloud, id, 0);
    return cnv__crdt_ents_get(&c->vv, id) != 0 || (i < c->cloud.n && c->cloud.v[i].id == id);
  }
  return cnv__crdt_ents_get(&c->cnt[0], id) != 0 || cnv__crdt_ents_get(&c->cnt[1], id) != 0;
}

cnv_status cnv_crdt_retire(cnv_crdt *c, uint64_t replica, cnv_crdt *delta) {
  if (c == NULL || replica == 0 || (delta != NULL && (delta->type != c->type || delta == c))) return CNV_EINVAL;
  if (c->type == CNV_CRDT_LWW || !has_entry(c, replica)) return CNV_ENOTFOUND;
  /* The retired copy of c: the replica joins the retired set, its counts fold into the
   * base, its version vector and context entries go; dots of it on elements stay. */
  cnv_crdt empty, t1;
  pjoin t2;
  cnv__crdt_init(&empty, c->type, 0);
  cnv__crdt_init(&t1, c->type, c->replica);
  if (join(&t1, c, &empty) != CNV_OK || cnv__crdt_ids_push(&t1.ret, replica) != CNV_OK) {
    cnv__crdt_fini(&t1);
    return CNV_ENOMEM;
  }
  size_t i = t1.ret.n - 1;
  for (; i > 0 && t1.ret.v[i - 1] > replica; i--) t1.ret.v[i] = t1.ret.v[i - 1];
  t1.ret.v[i] = replica;
  for (int k = 0; k < 2 && c->type != CNV_CRDT_VCLOCK; k++)
    t1.base[k] = sat_add(t1.base[k], cnv__crdt_ents_get(&t1.cnt[k], replica));
  crdt_ents *lists[] = {&t1.cnt[0], &t1.cnt[1], &t1.vv, &t1.cloud};
  for (size_t l = 0; l < 4; l++) {
    size_t w = 0;
    for (size_t r = 0; r < lists[l]->n; r++)
      if (lists[l]->v[r].id != replica) lists[l]->v[w++] = lists[l]->v[r];
    lists[l]->n = w;
  }
  /* The delta is the whole retired state: a partial one would claim the replica's dots and
   * counts without carrying the values they fold into. Retirement is rare. */
  if (delta != NULL) {
    cnv_status st = join_prepare(delta, &t1, &t2);
    if (st != CNV_OK) {
      cnv__crdt_fini(&t1);
      return st;
    }
    join_commit(delta, &t2);
  }
  cnv__crdt_fini(c);
  *c = t1;
  return CNV_OK;
}

size_t cnv_crdt_replicas(const cnv_crdt *c) {
  if (c == NULL) return 0;
  if (c->type == CNV_CRDT_LWW) return c->has ? 1 : 0;
  const crdt_ents *a = cnv__crdt_dot_type(c->type) ? &c->vv : &c->cnt[0];
  const crdt_ents *b = cnv__crdt_dot_type(c->type) ? &c->cloud : &c->cnt[1];
  size_t n = 0, i = 0, j = 0;
  while (i < a->n || j < b->n) {
    uint64_t id;
    if (j >= b->n || (i < a->n && a->v[i].id < b->v[j].id))
      id = a->v[i].id;
    else
      id = b->v[j].id;
    while (i < a->n && a->v[i].id == id) i++;
    while (j < b->n && b->v[j].id == id) j++;
    n++;
  }
  return n;
}
