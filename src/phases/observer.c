/* Observer: lock-free MPSC channel of transition events, folded by one consumer into a
 * transition matrix and per-(swarm, phase) Welford statistics; CSV export of the matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observer_internal.h"

#define CNV__OBS_MAX_CAPACITY (UINT32_C(1) << 24)

static uint32_t cnv__pow2_at_least(uint64_t x) {
  uint32_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

static cnv_status cnv__obs_alloc(struct cnv_observer *o, uint32_t cap, uint32_t max_swarms) {
  o->slots = aligned_alloc(CNV_CACHELINE, (size_t)cap * sizeof *o->slots);
  uint32_t tcap = cnv__pow2_at_least((uint64_t)max_swarms * 2);
  o->table = calloc(tcap, sizeof *o->table);
  if (!o->slots || !o->table) return CNV_ENOMEM;
  for (uint32_t i = 0; i < cap; i++) atomic_init(&o->slots[i].seq, i);
  o->mask = cap - 1;
  o->table_mask = tcap - 1;
  o->max_swarms = max_swarms;
  return CNV_OK;
}

CNV_API cnv_status cnv_observer_create(const cnv_observer_config *cfg, cnv_observer **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  cnv_observer_config c = {0};
  if (cfg) c = *cfg;
  uint32_t cap = c.capacity ? c.capacity : 4096;
  if (cap < 2 || cap > CNV__OBS_MAX_CAPACITY || !cnv__is_pow2(cap)) return CNV_EOBS_CAPACITY;
  if (c.max_swarms > (UINT32_C(1) << 28)) return CNV_EOBS_CAPACITY;
  struct cnv_observer *o = aligned_alloc(CNV_CACHELINE, sizeof *o);
  if (!o) return CNV_ENOMEM;
  memset(o, 0, sizeof *o);
  cnv_status st = cnv__obs_alloc(o, cap, c.max_swarms ? c.max_swarms : 16384);
  if (st != CNV_OK) {
    cnv_observer_destroy(o);
    return st;
  }
  o->min_samples = c.min_samples ? c.min_samples : 8;
  o->on_alert = c.on_alert;
  o->alert_ctx = c.alert_ctx;
  *out = o;
  return CNV_OK;
}

CNV_API void cnv_observer_destroy(cnv_observer *o) {
  if (!o) return;
  free(o->slots);
  free(o->table);
  free(o);
}

CNV_API cnv_status cnv_observer_publish(cnv_observer *o, const cnv_phase_event *ev) {
  if (!o || !ev) return CNV_EINVAL;
  if (ev->from < 0 || ev->from >= CNV_PHASE_COUNT || ev->to < 0 || ev->to >= CNV_PHASE_COUNT)
    return CNV_EPHASE_UNKNOWN;
  /* Relaxed: the position is only a hint; the slot's seq (acquire) decides. */
  uint64_t pos = cnv__load_relaxed(&o->tail);
  for (;;) {
    struct cnv__obs_slot *sl = &o->slots[pos & o->mask];
    /* Acquire: the consumer's release of this slot (it finished reading it). */
    int64_t diff = (int64_t)(cnv__load_acquire(&sl->seq) - pos);
    if (diff == 0) {
      /* Relaxed CAS: claiming the position orders nothing; the seq store below publishes. */
      if (cnv__cas_weak(&o->tail, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed)) {
        sl->ev = *ev;
        /* Release: the event bytes happen-before the consumer's acquire of seq. */
        cnv__store_release(&sl->seq, pos + 1);
        return CNV_OK;
      }
    } else if (diff < 0) {
      /* Relaxed: a statistic. */
      cnv__fetch_add_relaxed(&o->dropped, 1);
      return CNV_EOBS_FULL;
    } else {
      pos = cnv__load_relaxed(&o->tail);
    }
  }
}

static uint64_t cnv__mix64(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  return x;
}

/* The swarm's row, or the empty row where it would go (the table is at most half full,
 * so an empty row always exists). */
static struct cnv__obs_swarm *cnv__obs_row(const struct cnv_observer *o, uint64_t id) {
  for (uint32_t i = (uint32_t)cnv__mix64(id) & o->table_mask;; i = (i + 1) & o->table_mask) {
    struct cnv__obs_swarm *e = &o->table[i];
    if (!e->used || e->id == id) return e;
  }
}

/* The swarm's row, inserted if room is left; NULL when the table holds max_swarms. */
static struct cnv__obs_swarm *cnv__obs_track(struct cnv_observer *o, uint64_t id) {
  struct cnv__obs_swarm *e = cnv__obs_row(o, id);
  if (e->used) return e;
  if (o->table_used >= o->max_swarms) return NULL;
  e->used = 1;
  e->id = id;
  o->table_used++;
  return e;
}

static void cnv__welford_add(struct cnv__welford *w, uint64_t x) {
  double d = (double)x - w->mean;
  w->n++;
  w->mean += d / (double)w->n;
  w->m2 += d * ((double)x - w->mean);
  if (w->n == 1 || x < w->min) w->min = x;
  if (x > w->max) w->max = x;
}

static void cnv__obs_fold(struct cnv_observer *o, const cnv_phase_event *ev) {
  /* Relaxed: matrix cells are counters read as snapshots by any thread. Phases were
   * range-checked by the publisher. */
  cnv__fetch_add_relaxed(&o->matrix[ev->from][ev->to], 1);
  struct cnv__obs_swarm *e = cnv__obs_track(o, ev->swarm_id);
  if (!e) cnv__fetch_add_relaxed(&o->untracked, 1);
  cnv__obs_judge(o, ev, e ? &e->w[ev->from] : NULL);
  if (e) cnv__welford_add(&e->w[ev->from], ev->duration_ns);
  cnv__fetch_add_relaxed(&o->drained, 1);
}

CNV_API cnv_status cnv_observer_drain(cnv_observer *o, size_t max, size_t *drained) {
  if (drained) *drained = 0;
  if (!o) return CNV_EINVAL;
  uint32_t idle = 0;
  /* Acquire: the previous consumer's head and table (it released `busy`). */
  if (!cnv__cas_strong(&o->busy, &idle, 1, memory_order_acquire, memory_order_relaxed))
    return CNV_EOBS_CONSUMER_BUSY;
  size_t n = 0;
  while (max == 0 || n < max) {
    struct cnv__obs_slot *sl = &o->slots[o->head & o->mask];
    /* Acquire: pairs with the producer's release; its event bytes are visible. */
    if (cnv__load_acquire(&sl->seq) != o->head + 1) break;
    cnv_phase_event ev = sl->ev;
    /* Release: we are done reading; the producer of head + capacity may overwrite. */
    cnv__store_release(&sl->seq, o->head + o->mask + 1);
    o->head++;
    cnv__obs_fold(o, &ev);
    n++;
  }
  if (drained) *drained = n;
  /* Release: hands head, table and rules to the next consumer. */
  cnv__store_release(&o->busy, 0);
  return CNV_OK;
}

CNV_API cnv_status cnv_observer_matrix(const cnv_observer *o,
                                       uint64_t out[CNV_PHASE_COUNT][CNV_PHASE_COUNT]) {
  if (!o || !out) return CNV_EINVAL;
  for (int f = 0; f < CNV_PHASE_COUNT; f++)
    for (int t = 0; t < CNV_PHASE_COUNT; t++)
      out[f][t] = cnv__load_relaxed(&o->matrix[f][t]); /* Relaxed: counter snapshot. */
  return CNV_OK;
}

CNV_API cnv_status cnv_observer_stats_get(const cnv_observer *o, cnv_observer_stats *out) {
  if (!o || !out) return CNV_EINVAL;
  /* Relaxed: statistics, each exact, not one instant. */
  out->published = cnv__load_relaxed(&o->tail);
  out->dropped = cnv__load_relaxed(&o->dropped);
  out->drained = cnv__load_relaxed(&o->drained);
  out->untracked = cnv__load_relaxed(&o->untracked);
  out->warnings = cnv__load_relaxed(&o->warnings);
  out->criticals = cnv__load_relaxed(&o->criticals);
  return CNV_OK;
}

CNV_API cnv_status cnv_observer_duration_stats(const cnv_observer *o, uint64_t swarm_id,
                                               int phase, cnv_duration_stats *out) {
  if (!o || !out) return CNV_EINVAL;
  if (phase < 0 || phase >= CNV_PHASE_COUNT) return CNV_EPHASE_UNKNOWN;
  const struct cnv__obs_swarm *e = cnv__obs_row(o, swarm_id);
  if (!e->used) return CNV_ENOTFOUND;
  const struct cnv__welford *w = &e->w[phase];
  out->count = w->n;
  out->mean_ns = w->mean;
  out->variance_ns2 = w->n > 1 ? w->m2 / (double)(w->n - 1) : 0.0;
  out->min_ns = w->min;
  out->max_ns = w->max;
  return CNV_OK;
}

/* Appends text at *used, counting what would not fit. */
static void cnv__csv_put(char *buf, size_t cap, size_t *used, const char *s, size_t n) {
  if (*used + n < cap) memcpy(buf + *used, s, n);
  *used += n;
}

CNV_API cnv_status cnv_observer_export_csv(const cnv_observer *o, char *buf, size_t cap,
                                           size_t *len) {
  if (!o || !len || (!buf && cap)) return CNV_EINVAL;
  size_t used = 0;
  char cell[32];
  cnv__csv_put(buf, cap, &used, "from", 4);
  for (int t = 0; t < CNV_PHASE_COUNT; t++) {
    int n = snprintf(cell, sizeof cell, ",%s", cnv_phase_name(t));
    cnv__csv_put(buf, cap, &used, cell, (size_t)n);
  }
  cnv__csv_put(buf, cap, &used, "\n", 1);
  for (int f = 0; f < CNV_PHASE_COUNT; f++) {
    cnv__csv_put(buf, cap, &used, cnv_phase_name(f), strlen(cnv_phase_name(f)));
    for (int t = 0; t < CNV_PHASE_COUNT; t++) {
      /* Relaxed: counter snapshot. */
      int n = snprintf(cell, sizeof cell, ",%llu",
                       (unsigned long long)cnv__load_relaxed(&o->matrix[f][t]));
      cnv__csv_put(buf, cap, &used, cell, (size_t)n);
    }
    cnv__csv_put(buf, cap, &used, "\n", 1);
  }
  *len = used;
  if (used >= cap) return CNV_ERANGE;
  buf[used] = '\0';
  return CNV_OK;
}
