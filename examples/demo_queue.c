/* Demo: pushes 1,000,000 64-byte invocation records through the MPMC queue, one producer
 * thread and one consumer thread using the batch calls, checks that every record arrived
 * once, in order and intact, and prints the throughput. Exit status 1 on any mismatch.
 * Usage: cnv_demo_queue [records] */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sched_yield under -std=c11 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cnv.h>

#define BATCH 32
#define CAPACITY 4096u

/* An invocation record as the runtime queues it: ids, flags and a payload checksum. */
typedef struct invocation {
  uint64_t seq;
  uint64_t capability_id;
  uint64_t principal;
  uint64_t args[4];
  uint64_t check; /* mix of the fields above */
} invocation;

typedef struct demo {
  cnv_queue *q;
  uint64_t total;
  uint64_t received, bad, checksum_in, checksum_out;
} demo;

static uint64_t mix(const invocation *r) {
  uint64_t h = r->seq * 0x9E3779B97F4A7C15ull;
  h ^= r->capability_id + (h << 6) + (h >> 2);
  h ^= r->principal + (h << 6) + (h >> 2);
  for (int i = 0; i < 4; i++) h ^= r->args[i] + (h << 6) + (h >> 2);
  return h;
}

static void wait_a_bit(unsigned *spins) {
  if (++*spins % 64 == 0) sched_yield();
}

static void *producer(void *arg) {
  demo *d = arg;
  invocation batch[BATCH];
  unsigned spins = 0;
  for (uint64_t seq = 0; seq < d->total;) {
    size_t n = d->total - seq < BATCH ? (size_t)(d->total - seq) : BATCH, pushed = 0;
    for (size_t i = 0; i < n; i++) {
      invocation *r = &batch[i];
      r->seq = seq + i;
      r->capability_id = 0xC0FFEEull ^ (seq + i) * 7;
      r->principal = (seq + i) % 97;
      for (int a = 0; a < 4; a++) r->args[a] = (seq + i) * 31 + (uint64_t)a;
      r->check = mix(r);
      d->checksum_in += r->check;
    }
    for (size_t done = 0; done < n; done += pushed)
      if (cnv_queue_try_push_batch_mpmc(d->q, batch + done, n - done, &pushed) != CNV_OK)
        wait_a_bit(&spins);
    seq += n;
  }
  return NULL;
}

static void *consumer(void *arg) {
  demo *d = arg;
  invocation batch[BATCH];
  unsigned spins = 0;
  while (d->received < d->total) {
    size_t got = 0;
    if (cnv_queue_try_pop_batch_mpmc(d->q, batch, BATCH, &got) != CNV_OK) {
      wait_a_bit(&spins);
      continue;
    }
    for (size_t i = 0; i < got; i++) {
      if (batch[i].seq != d->received + i || batch[i].check != mix(&batch[i])) d->bad++;
      d->checksum_out += batch[i].check;
    }
    d->received += got;
  }
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  demo d = {.total = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000u};
  cnv_status st = cnv_queue_create(CAPACITY, sizeof(invocation), &d.q);
  if (st != CNV_OK) {
    fprintf(stderr, "cnv_queue_create: %s\n", cnv_strerror(st));
    return 1;
  }
  pthread_t p, c;
  double t0 = now_s();
  if (pthread_create(&c, NULL, consumer, &d) != 0 || pthread_create(&p, NULL, producer, &d) != 0) {
    fprintf(stderr, "pthread_create failed\n");
    return 1;
  }
  pthread_join(p, NULL);
  pthread_join(c, NULL);
  double secs = now_s() - t0;
  cnv_queue_stats stats;
  cnv_queue_stats_get(d.q, &stats);
  cnv_queue_destroy(d.q);
  int ok = d.bad == 0 && d.received == d.total && d.checksum_in == d.checksum_out &&
           stats.pushed == d.total && stats.popped == d.total;
  printf("libcnv %s queue demo: %llu records of %zu bytes, 1 producer + 1 consumer, batch %d\n",
         cnv_version(), (unsigned long long)d.total, sizeof(invocation), BATCH);
  printf("  received %llu, out of order or corrupt %llu, checksum %s, full-queue retries %llu\n",
         (unsigned long long)d.received, (unsigned long long)d.bad,
         d.checksum_in == d.checksum_out ? "ok" : "MISMATCH", (unsigned long long)stats.rejected_full);
  printf("  %.3f s, %.2f M records/s\n", secs, secs > 0 ? (double)d.total / secs / 1e6 : 0.0);
  printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
