/* Test helper for test_tel_promtool: a busy multi-threaded run over every metric kind
 * (labels, escapes, a sampled histogram), then its Prometheus exposition on stdout. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <cnv/telemetry.h>

#include "cnv_test_util.h"

#define THREADS 4

static cnv_telemetry *tel;
static cnv_metric_id ok_id, fail_id, depth_id, lat_id, size_id;

static void *work(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  cnv_tel_shard *s;
  if (cnv_tel_attach(tel, &s) != CNV_OK) return (void *)1;
  for (uint64_t i = 0; i < cnv_test_iters(100000); i++) {
    uint64_t r = cnv_test_rand(&seed);
    if (cnv_tel_counter_add(s, r % 10 ? ok_id : fail_id, 1) != CNV_OK) return (void *)1;
    if (cnv_tel_hist_record(s, lat_id, 500 + r % 5000000) != CNV_OK) return (void *)1;
    if (cnv_tel_hist_record(s, size_id, r % 70000) != CNV_OK) return (void *)1;
    if (i % 100 == 0 && cnv_tel_gauge_add(tel, depth_id, (int64_t)(r % 3) - 1) != CNV_OK) return (void *)1;
  }
  cnv_tel_detach(s);
  return NULL;
}

static int to_stdout(void *ctx, const char *data, size_t len) {
  (void)ctx;
  return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int setup(void) {
  cnv_tel_label ok[] = {{"swarm", "alpha"}, {"result", "ok"}};
  cnv_tel_label fail[] = {{"swarm", "alpha"}, {"result", "error \"quoted\"\\path\nnext"}};
  cnv_tel_label sw[] = {{"swarm", "alpha"}};
  const char *inv = "Invocations handled, by result.";
  return cnv_tel_create(NULL, &tel) != CNV_OK ||
         cnv_tel_register_counter(tel, "cnv_invocations_total", inv, ok, 2, &ok_id) != CNV_OK ||
         cnv_tel_register_counter(tel, "cnv_invocations_total", inv, fail, 2, &fail_id) != CNV_OK ||
         cnv_tel_register_gauge(tel, "cnv_queue_depth", "Queued invocations.", sw, 1, &depth_id) != CNV_OK ||
         cnv_tel_register_histogram(tel, "cnv_invocation_duration_seconds", "Invocation latency.", sw, 1,
                                    &(cnv_tel_hist_opts){.scale = 1e-9}, &lat_id) != CNV_OK ||
         cnv_tel_register_histogram(tel, "cnv_payload_bytes", "Payload sizes, sampled 1 in 8.", NULL, 0,
                                    &(cnv_tel_hist_opts){.sample_every = 8}, &size_id) != CNV_OK;
}

int main(void) {
  if (setup()) return 1;
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&th[i], NULL, work, (void *)(uintptr_t)(i + 1))) return 1;
  int bad = 0;
  for (int i = 0; i < THREADS; i++) {
    void *rc;
    pthread_join(th[i], &rc);
    bad |= rc != NULL;
  }
  if (bad || cnv_tel_export_prometheus(tel, to_stdout, NULL) != CNV_OK) return 1;
  cnv_tel_destroy(tel);
  return fflush(stdout) != 0;
}
