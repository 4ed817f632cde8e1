/* libcnv telemetry: per-thread sharded counters, striped counters, gauges, log-linear
 * histograms with sampling, a reservoir sampler, and Prometheus text / JSON export.
 *
 * Life cycle: create a registry, register every metric (ids are fixed from then on),
 * then threads attach a shard each and record through it. The first attach seals the
 * registry: later registrations fail with CNV_ETEL_SEALED. No string is touched after
 * registration: the hot path takes a shard (or, for striped counters, the registry) and a
 * numeric id.
 *
 * Two kinds of counter: a sharded counter (cnv_tel_register_counter) is added to through the
 * calling thread's attached shard (no RMW: the cheapest add, but every recording thread must
 * attach); a striped counter (cnv_tel_register_striped_counter) is added to by any thread
 * with no attach (one atomic fetch-add on one of 32 cache-line stripes, picked once per
 * thread). Both export as Prometheus counters.
 *
 * Synchronization table (who may call what at the same time, and each call's progress;
 * the terms are defined in docs/architecture.md):
 *   cnv_tel_register_*        one thread, before any attach and before any striped add.
 *   cnv_tel_attach/detach     any threads. detach: wait-free (one release store). attach:
 *                             wait-free apart from its allocation (it scans at most
 *                             max_threads slots with one CAS each, never retrying
 *                             one, and calls malloc for a slot's first shard; malloc may
 *                             block).
 *   cnv_tel_counter_add, cnv_tel_hist_record   the thread that attached the shard only;
 *                             wait-free (no read-modify-write).
 *   cnv_tel_striped_add       any threads, attached or not; wait-free (one fetch-add).
 *   cnv_tel_gauge_*           any threads; wait-free.
 *   cnv_tel_*_value, cnv_tel_hist_summary_get, cnv_tel_export_*   any threads once
 *                             registration is over, concurrently with recording
 *                             (snapshots: shard cells and gauges are read with relaxed
 *                             loads, striped counters' stripes with seq_cst loads; each
 *                             cell exact, the whole not one instant); wait-free apart from
 *                             the caller's write callback.
 *   cnv_histogram_*, cnv_reservoir_*   one thread per object (merge reads src from another
 *                             thread safely while src's owner records).
 *   create/destroy            one thread, with no other call on the object in flight.
 * Exporters write through a caller callback or into a caller buffer; the library never
 * prints, never aborts. */
#ifndef CNV_TELEMETRY_H
#define CNV_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* Log-linear histogram (standalone; registry histograms are one of these per thread).    */

/* Values below 128 have a bucket each; above, each power of two is split into 128 equal
 * buckets, so a bucket's midpoint is within 1/256 (0.4%) of every value in it. */
#define CNV_HIST_SUB_BITS 7
#define CNV_HIST_BUCKETS 7424

typedef struct cnv_histogram cnv_histogram;

/* Allocates an empty histogram (about 59 KiB). Errors: CNV_EINVAL, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_histogram_create(cnv_histogram **out);
/* Frees it; NULL is ignored. */
CNV_API void cnv_histogram_destroy(cnv_histogram *h);
/* Records value with weight n (n copies). Owner thread only; no allocation, no RMW.
 * Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_histogram_record_n(cnv_histogram *h, uint64_t value, uint64_t n);
/* Adds every bucket, count and sum of src into dst (dst's owner thread). */
CNV_API CNV_NODISCARD cnv_status cnv_histogram_merge(cnv_histogram *dst, const cnv_histogram *src);
/* Values recorded (with weights); 0 for NULL. */
CNV_API uint64_t cnv_histogram_count(const cnv_histogram *h);
/* Estimate of the q-quantile: the midpoint of the bucket holding the value of rank
 * ceil(q * count) (1-based; rank 1 for q = 0). Errors: CNV_EINVAL, CNV_ERANGE,
 * CNV_EEMPTY (nothing recorded). */
CNV_API CNV_NODISCARD cnv_status cnv_histogram_quantile(const cnv_histogram *h, double q, uint64_t *out);
/* Bucket index of a value, and the [lo, hi] value range of a bucket (for tests/exporters). */
CNV_API uint32_t cnv_histogram_bucket_of(uint64_t value);
CNV_API void cnv_histogram_bucket_range(uint32_t bucket, uint64_t *lo, uint64_t *hi);

/* ------------------------------------------------------------------------------------ */
/* Reservoir sampler (Li's Algorithm L): a uniform sample of k items from a stream.       */

typedef struct cnv_reservoir cnv_reservoir;

/* Allocates a reservoir of `capacity` items with a PRNG seeded by `seed` (same seed and
 * stream: same sample). Errors: CNV_EINVAL, CNV_ERANGE, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_reservoir_create(uint32_t capacity, uint64_t seed, cnv_reservoir **out);
/* Frees a reservoir and its items; NULL is ignored. */
CNV_API void cnv_reservoir_destroy(cnv_reservoir *r);
/* Offers one item; O(1) amortised, most items cost a compare. Owner thread only.
 * Errors: CNV_EINVAL (NULL). */
CNV_API CNV_NODISCARD cnv_status cnv_reservoir_offer(cnv_reservoir *r, uint64_t item);
/* The current sample (min(seen, capacity) items, owned by r, valid until the next offer)
 * and the number of items offered so far; NULL for a NULL r. */
CNV_API const uint64_t *cnv_reservoir_items(const cnv_reservoir *r, size_t *count, uint64_t *seen);

/* ------------------------------------------------------------------------------------ */
/* Registry, shards and metrics.                                                          */

typedef struct cnv_telemetry cnv_telemetry;
typedef struct cnv_tel_shard cnv_tel_shard;
/* A metric id: its kind is part of it, so a gauge id given to a counter call is refused. */
typedef uint32_t cnv_metric_id;

#define CNV_TEL_MAX_LABELS 4
#define CNV_TEL_MAX_NAME 127
#define CNV_TEL_MAX_HELP 255
#define CNV_TEL_MAX_LABEL_NAME 63
#define CNV_TEL_MAX_LABEL_VALUE 127

typedef struct cnv_tel_label {
  const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not "le" */
  const char *value; /* any bytes but NUL; escaped on export */
} cnv_tel_label;

typedef struct cnv_tel_config {
  uint32_t max_threads;  /* shards; 0: 64; at most 1024 */
  uint32_t max_counters; /* 0: 256 each; at most 65536 */
  uint32_t max_gauges;
  uint32_t max_histograms; /* 0: 32; at most 1024 */
  uint32_t max_striped;    /* striped counters; 0: 32; at most 4096. The registry holds
                              32 stripes of max_striped * 8 bytes (rounded up to 64). */
} cnv_tel_config;

typedef struct cnv_tel_hist_opts {
  double scale;          /* exported value = recorded value * scale (e.g. 1e-9: ns -> s); 0: 1 */
  uint32_t sample_every; /* record each value with probability 1/N and weight N; 0 or 1: all */
} cnv_tel_hist_opts;

/* Creates a registry (cfg may be NULL). Errors: CNV_EINVAL, CNV_ERANGE (a limit too large),
 * CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_create(const cnv_tel_config *cfg, cnv_telemetry **out);
/* Frees the registry and every shard; NULL is ignored. */
CNV_API void cnv_tel_destroy(cnv_telemetry *t);

/* Registers a metric (name and labels copied). A family (one name) keeps one kind and one
 * help text; several label sets may share it. Counter names end in "_total", others must
 * not. Errors: CNV_EINVAL, CNV_ETEL_NAME, CNV_ETEL_HELP, CNV_ETEL_COUNTER_SUFFIX,
 * CNV_ETEL_LABEL, CNV_ETEL_TYPE_CONFLICT, CNV_EEXIST (same name and labels),
 * CNV_ETEL_TOO_MANY (beyond the kind's limit in cnv_tel_config), CNV_ETEL_SEALED (a
 * shard was attached). One thread, before any attach (see the table); not concurrent. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_register_counter(cnv_telemetry *t, const char *name, const char *help,
                                                          const cnv_tel_label *labels, size_t nlabels,
                                                          cnv_metric_id *id);
/* A striped counter: same rules and errors as a counter (name ends in "_total"; its family
 * holds striped counters only, else CNV_ETEL_TYPE_CONFLICT); CNV_ETEL_TOO_MANY beyond
 * cfg.max_striped. Added to with cnv_tel_striped_add, read with cnv_tel_counter_value,
 * exported as a counter. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_register_striped_counter(cnv_telemetry *t, const char *name,
                                                                  const char *help, const cnv_tel_label *labels,
                                                                  size_t nlabels, cnv_metric_id *id);
/* A gauge (a signed value set or added to by any thread): same rules and errors as a
 * counter, except that the name must not end in "_total" (else CNV_ETEL_COUNTER_SUFFIX);
 * CNV_ETEL_TOO_MANY beyond cfg.max_gauges. Set with cnv_tel_gauge_set/_add, read with
 * cnv_tel_gauge_value. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_register_gauge(cnv_telemetry *t, const char *name, const char *help,
                                                        const cnv_tel_label *labels, size_t nlabels,
                                                        cnv_metric_id *id);
/* A histogram (one per shard, merged on read): same rules and errors as a gauge (no
 * "_total" suffix); CNV_ETEL_TOO_MANY beyond cfg.max_histograms. opts may be NULL (scale 1,
 * every value recorded). opts errors, checked first: CNV_ERANGE when opts->sample_every
 * exceeds 2^20, CNV_ERANGE when opts->scale is negative, NaN or above 1e300 (0 means 1). */
CNV_API CNV_NODISCARD cnv_status cnv_tel_register_histogram(cnv_telemetry *t, const char *name,
                                                            const char *help, const cnv_tel_label *labels,
                                                            size_t nlabels, const cnv_tel_hist_opts *opts,
                                                            cnv_metric_id *id);

/* Gives the calling thread a shard (a detached one is reused, its counts kept); seals the
 * registry. A shard holds 8 bytes per counter and about 59 KiB per histogram.
 * Errors: CNV_EINVAL, CNV_ETEL_NO_SHARD, CNV_ENOMEM. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_attach(cnv_telemetry *t, cnv_tel_shard **out);
/* Returns a shard for reuse; its counts stay in every total. NULL is ignored. */
CNV_API void cnv_tel_detach(cnv_tel_shard *s);

/* Adds n to a counter in this thread's shard: a relaxed load and store, no RMW, no lock.
 * Errors: CNV_EINVAL (NULL shard), CNV_ETEL_BAD_ID. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_counter_add(cnv_tel_shard *s, cnv_metric_id id, uint64_t n);
/* Adds n to a striped counter from any thread, attached or not. Wait-free: one atomic
 * fetch-add on the calling thread's stripe (the stripe is picked at the thread's first
 * striped add, by a relaxed fetch-add on a global stripe number), no lock, no allocation.
 * Ordering: the add is a seq_cst RMW and cnv_tel_counter_value reads each stripe with a
 * seq_cst load, so a count may serve as an entry/exit tally: what a thread did before an add
 * is visible to a thread whose read includes that add (on x86 this costs nothing over a
 * relaxed add). Errors: CNV_EINVAL (NULL t), CNV_ETEL_BAD_ID (not a striped counter of t). */
CNV_API CNV_NODISCARD cnv_status cnv_tel_striped_add(cnv_telemetry *t, cnv_metric_id id, uint64_t n);
/* Records a value (sampled as registered): owner-only relaxed load/store of a bucket, the
 * count and the sum. Errors: CNV_EINVAL (NULL shard), CNV_ETEL_BAD_ID. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_hist_record(cnv_tel_shard *s, cnv_metric_id id, uint64_t value);
/* Sets / adds to a gauge (one shared relaxed atomic). Errors: CNV_EINVAL, CNV_ETEL_BAD_ID. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_gauge_set(cnv_telemetry *t, cnv_metric_id id, int64_t value);
CNV_API CNV_NODISCARD cnv_status cnv_tel_gauge_add(cnv_telemetry *t, cnv_metric_id id, int64_t delta);

/* Reads (sums over shards; for a striped counter, over its stripes, with seq_cst loads).
 * Wait-free. Errors: CNV_EINVAL, CNV_ETEL_BAD_ID. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_counter_value(const cnv_telemetry *t, cnv_metric_id id, uint64_t *out);
CNV_API CNV_NODISCARD cnv_status cnv_tel_gauge_value(const cnv_telemetry *t, cnv_metric_id id, int64_t *out);

typedef struct cnv_tel_hist_summary {
  uint64_t count;             /* scaled back up when sampled */
  double sum;                 /* in exported units (times scale) */
  double p50, p95, p99, p999; /* in exported units; 0 when count is 0 */
} cnv_tel_hist_summary;

/* Merges every shard's histogram and summarizes it. Errors: CNV_EINVAL, CNV_ETEL_BAD_ID. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_hist_summary_get(const cnv_telemetry *t, cnv_metric_id id,
                                                          cnv_tel_hist_summary *out);

/* Export sink: gets consecutive pieces of the text; returns 0 to go on, non-zero to stop
 * (the exporter then returns CNV_ETEL_WRITE). */
typedef int (*cnv_tel_write_fn)(void *ctx, const char *data, size_t len);

/* Prometheus text exposition 0.0.4: HELP and TYPE once per family, labels, histograms as
 * _bucket{le=...} (cumulative, le = 4^k - 1 recorded units times scale, then +Inf),
 * _sum and _count. Errors: CNV_EINVAL, CNV_ETEL_WRITE. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_export_prometheus(const cnv_telemetry *t, cnv_tel_write_fn fn, void *ctx);
/* JSON: {"counters":[...],"gauges":[...],"histograms":[...]} with name, help, labels,
 * value or count/sum/p50/p95/p99/p999. Errors: CNV_EINVAL, CNV_ETEL_WRITE. */
CNV_API CNV_NODISCARD cnv_status cnv_tel_export_json(const cnv_telemetry *t, cnv_tel_write_fn fn, void *ctx);
/* Buffer forms: write into buf (NUL-terminated when it fits); *len gets the bytes needed
 * without the NUL. Errors: as above, and CNV_ERANGE (cap too small, *len says how much). */
CNV_API CNV_NODISCARD cnv_status cnv_tel_export_prometheus_buf(const cnv_telemetry *t, char *buf, size_t cap,
                                                               size_t *len);
CNV_API CNV_NODISCARD cnv_status cnv_tel_export_json_buf(const cnv_telemetry *t, char *buf, size_t cap,
                                                         size_t *len);

#ifdef __cplusplus
}
#endif

#endif
