/* Registry and per-thread shards: counters and histograms live in the recording thread's
 * own shard (single writer, no RMW), readers sum the shards. Gauges are shared atomics. */
#include <stdlib.h>
#include <string.h>

#include "tel_internal.h"

static uint32_t cnv__or_default(uint32_t v, uint32_t def) { return v ? v : def; }

static void *cnv__alloc_lines(size_t bytes) {
  size_t n = (bytes + CNV_CACHELINE - 1) / CNV_CACHELINE * CNV_CACHELINE;
  void *p = aligned_alloc(CNV_CACHELINE, n ? n : CNV_CACHELINE);
  if (p) memset(p, 0, n ? n : CNV_CACHELINE);
  return p;
}

CNV_API cnv_status cnv_tel_create(const cnv_tel_config *cfg, cnv_telemetry **out) {
  if (!out) return CNV_EINVAL;
  *out = NULL;
  cnv_tel_config c = {0};
  if (cfg) c = *cfg;
  c.max_threads = cnv__or_default(c.max_threads, 64);
  c.max_counters = cnv__or_default(c.max_counters, 256);
  c.max_gauges = cnv__or_default(c.max_gauges, 256);
  c.max_histograms = cnv__or_default(c.max_histograms, 32);
  c.max_striped = cnv__or_default(c.max_striped, 32);
  if (c.max_threads > 1024 || c.max_counters > 65536 || c.max_gauges > 65536 ||
      c.max_histograms > 1024 || c.max_striped > 4096)
    return CNV_ERANGE;
  struct cnv_telemetry *t = calloc(1, sizeof *t);
  if (!t) return CNV_ENOMEM;
  t->cfg = c;
  t->counters = calloc(c.max_counters, sizeof *t->counters);
  t->gauges = calloc(c.max_gauges, sizeof *t->gauges);
  t->hists = calloc(c.max_histograms, sizeof *t->hists);
  t->gauge_cells = cnv__alloc_lines((size_t)c.max_gauges * sizeof *t->gauge_cells);
  t->shards = calloc(c.max_threads, sizeof *t->shards);
  t->striped = calloc(c.max_striped, sizeof *t->striped);
  t->stripe_words = (c.max_striped * 8u + CNV_CACHELINE - 1) / CNV_CACHELINE * CNV_CACHELINE / 8u;
  t->stripe_cells =
      cnv__alloc_lines((size_t)CNV__TEL_STRIPES * t->stripe_words * sizeof *t->stripe_cells);
  if (!t->counters || !t->gauges || !t->hists || !t->gauge_cells || !t->shards || !t->striped ||
      !t->stripe_cells) {
    cnv_tel_destroy(t);
    return CNV_ENOMEM;
  }
  *out = t;
  return CNV_OK;
}

static void cnv__shard_free(struct cnv_tel_shard *s) {
  if (!s) return;
  free(s->counters);
  free(s->hists);
  free(s);
}

CNV_API void cnv_tel_destroy(cnv_telemetry *t) {
  if (!t) return;
  for (uint32_t i = 0; t->shards && i < t->cfg.max_threads; i++)
    cnv__shard_free(cnv__load_relaxed(&t->shards[i])); /* Relaxed: no attach in flight. */
  free(t->shards);
  free(t->counters);
  free(t->gauges);
  free(t->hists);
  free(t->gauge_cells);
  free(t->striped);
  free(t->stripe_cells);
  free(t);
}

static struct cnv_tel_shard *cnv__shard_new(struct cnv_telemetry *t, uint32_t index) {
  struct cnv_tel_shard *s = cnv__alloc_lines(sizeof *s);
  if (!s) return NULL;
  s->counters = cnv__alloc_lines((size_t)t->ncounters * sizeof *s->counters);
  s->hists = cnv__alloc_lines((size_t)t->nhists * sizeof *s->hists);
  if (!s->counters || !s->hists) {
    cnv__shard_free(s);
    return NULL;
  }
  s->ncounters = t->ncounters;
  s->nhists = t->nhists;
  s->hist_meta = t->hists;
  s->owner = t;
  s->rng = (UINT64_C(0x9E3779B97F4A7C15) * (index + 1u)) | 1u;
  atomic_init(&s->in_use, 1);
  return s;
}

CNV_API cnv_status cnv_tel_attach(cnv_telemetry *t, cnv_tel_shard **out) {
  if (!t || !out) return CNV_EINVAL;
  *out = NULL;
  /* Release: registrations before the seal are visible to every thread that attaches. */
  cnv__store_release(&t->sealed, 1);
  for (uint32_t i = 0; i < t->cfg.max_threads; i++) {
    /* Acquire: a published shard is fully initialized. */
    struct cnv_tel_shard *s = cnv__load_acquire(&t->shards[i]);
    uint32_t idle = 0;
    /* Acquire: the previous owner's cells (released by detach) are ours to continue. */
    if (s && cnv__cas_strong(&s->in_use, &idle, 1, memory_order_acquire, memory_order_relaxed)) {
      *out = s;
      return CNV_OK;
    }
    if (s) continue;
    struct cnv_tel_shard *fresh = cnv__shard_new(t, i);
    if (!fresh) return CNV_ENOMEM;
    /* Release: publishes the initialized shard to readers and other attachers. */
    if (cnv__cas_strong(&t->shards[i], &s, fresh, memory_order_release, memory_order_acquire)) {
      *out = fresh;
      return CNV_OK;
    }
    cnv__shard_free(fresh); /* another thread took slot i; try the next */
  }
  return CNV_ETEL_NO_SHARD;
}

CNV_API void cnv_tel_detach(cnv_tel_shard *s) {
  /* Release: our last cell stores happen-before the next owner's acquire. */
  if (s) cnv__store_release(&s->in_use, 0);
}

CNV_API cnv_status cnv_tel_counter_add(cnv_tel_shard *s, cnv_metric_id id, uint64_t n) {
  if (CNV__UNLIKELY(!s)) return CNV_EINVAL;
  uint32_t i = id - CNV__ID(CNV__KIND_COUNTER, 0);
  if (CNV__UNLIKELY(i >= s->ncounters)) return CNV_ETEL_BAD_ID;
  cnv__cell_add(&s->counters[i], n);
  return CNV_OK;
}

CNV_API cnv_status cnv_tel_hist_record(cnv_tel_shard *s, cnv_metric_id id, uint64_t value) {
  if (CNV__UNLIKELY(!s)) return CNV_EINVAL;
  uint32_t i = id - CNV__ID(CNV__KIND_HIST, 0);
  if (CNV__UNLIKELY(i >= s->nhists)) return CNV_ETEL_BAD_ID;
  const struct cnv__metric *m = &s->hist_meta[i];
  uint64_t weight = 1;
  if (m->sample_every > 1) {
    uint64_t x = s->rng; /* xorshift64: owner-thread PRNG */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    if (x >= m->sample_below) return CNV_OK;
    weight = m->sample_every;
  }
  cnv__hist_add(&s->hists[i], value, weight);
  return CNV_OK;
}

const struct cnv__metric *cnv__tel_meta(const struct cnv_telemetry *t, cnv_metric_id id,
                                        uint32_t kind) {
  uint32_t i = id - CNV__ID(kind, 0);
  if (!t) return NULL;
  if (kind == CNV__KIND_COUNTER) return i < t->ncounters ? &t->counters[i] : NULL;
  if (kind == CNV__KIND_GAUGE) return i < t->ngauges ? &t->gauges[i] : NULL;
  if (kind == CNV__KIND_STRIPED) return i < t->nstriped ? &t->striped[i] : NULL;
  return i < t->nhists ? &t->hists[i] : NULL;
}

CNV_API cnv_status cnv_tel_gauge_set(cnv_telemetry *t, cnv_metric_id id, int64_t value) {
  if (!t) return CNV_EINVAL;
  if (!cnv__tel_meta(t, id, CNV__KIND_GAUGE)) return CNV_ETEL_BAD_ID;
  /* Relaxed: a gauge is a value, it publishes nothing else. */
  cnv__store_relaxed(&t->gauge_cells[id - CNV__ID(CNV__KIND_GAUGE, 0)].v, value);
  return CNV_OK;
}

CNV_API cnv_status cnv_tel_gauge_add(cnv_telemetry *t, cnv_metric_id id, int64_t delta) {
  if (!t) return CNV_EINVAL;
  if (!cnv__tel_meta(t, id, CNV__KIND_GAUGE)) return CNV_ETEL_BAD_ID;
  /* Relaxed: as gauge_set; the RMW keeps concurrent adds from being lost. */
  cnv__fetch_add_relaxed(&t->gauge_cells[id - CNV__ID(CNV__KIND_GAUGE, 0)].v, delta);
  return CNV_OK;
}

CNV_API cnv_status cnv_tel_gauge_value(const cnv_telemetry *t, cnv_metric_id id, int64_t *out) {
  if (!t || !out) return CNV_EINVAL;
  if (!cnv__tel_meta(t, id, CNV__KIND_GAUGE)) return CNV_ETEL_BAD_ID;
  /* Relaxed: a value snapshot. */
  *out = cnv__load_relaxed(&t->gauge_cells[id - CNV__ID(CNV__KIND_GAUGE, 0)].v);
  return CNV_OK;
}

CNV_API cnv_status cnv_tel_counter_value(const cnv_telemetry *t, cnv_metric_id id, uint64_t *out) {
  if (!t || !out) return CNV_EINVAL;
  if (cnv__tel_meta(t, id, CNV__KIND_STRIPED)) {
    *out = cnv__tel_striped_sum(t, id - CNV__ID(CNV__KIND_STRIPED, 0));
    return CNV_OK;
  }
  if (!cnv__tel_meta(t, id, CNV__KIND_COUNTER)) return CNV_ETEL_BAD_ID;
  uint32_t i = id - CNV__ID(CNV__KIND_COUNTER, 0);
  uint64_t sum = 0;
  for (uint32_t k = 0; k < t->cfg.max_threads; k++) {
    /* Acquire: a published shard is initialized; its cells are read relaxed (whole values). */
    const struct cnv_tel_shard *s = cnv__load_acquire(&t->shards[k]);
    if (s) sum += cnv__load_relaxed(&s->counters[i]);
  }
  *out = sum;
  return CNV_OK;
}
