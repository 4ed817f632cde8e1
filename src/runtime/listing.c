/* The capability listing (cnv_runtime_capability_each): the registered capabilities in
 * ascending byte order of path, under the registry mutex so that the listing is one
 * generation's and no handler shown is freed while the callbacks run. */
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Byte order of paths; a path before any longer path it is a prefix of. */
static int path_cmp(const void *a, const void *b) {
  const cnv__rt_handler *x = *(const cnv__rt_handler *const *)a;
  const cnv__rt_handler *y = *(const cnv__rt_handler *const *)b;
  size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
  int c = memcmp(x->path, y->path, n);
  if (c != 0) return c;
  return (x->path_len > y->path_len) - (x->path_len < y->path_len);
}

/* The index's handlers sorted by path into a new array (*n of them); NULL with *n > 0 when
 * the allocation failed. Under the registry mutex. */
static cnv__rt_handler **sorted_handlers(const cnv__rt_table *t, size_t *n) {
  *n = t->count;
  if (*n == 0) return NULL;
  cnv__rt_handler **v = malloc(*n * sizeof *v);
  if (!v) return NULL;
  size_t k = 0;
  for (uint32_t i = 0; i <= t->mask; i++) {
    if (t->slot[i]) v[k++] = t->slot[i];
  }
  qsort(v, k, sizeof *v, path_cmp);
  return v;
}

cnv_status cnv_runtime_capability_each(cnv_runtime *rt,
                                       bool (*fn)(void *ctx, const cnv_runtime_capability_info *info),
                                       void *ctx, uint64_t *generation) {
  if (!rt || !fn) return CNV_EINVAL;
  pthread_mutex_lock(&rt->registry_lock);
  size_t n;
  cnv__rt_handler **v = sorted_handlers(rt->table, &n);
  if (!v && n > 0) {
    pthread_mutex_unlock(&rt->registry_lock);
    return CNV_ENOMEM;
  }
  /* relaxed: written only under the mutex we hold */
  if (generation) *generation = cnv__load_relaxed(&rt->registry_gen);
  for (size_t i = 0; i < n; i++) {
    const cnv__rt_handler *h = v[i];
    cnv_runtime_capability_info info = {.path = h->path, .path_len = h->path_len, .capability = h->id, .effects = h->effects, .cls = h->cls, .schema = h->schema, .title = h->title, .description = h->description};
    if (!fn(ctx, &info)) break;
  }
  pthread_mutex_unlock(&rt->registry_lock);
  free(v);
  return CNV_OK;
}
