/* cnv_core_roundtrip: how long one cache line takes to go from CPU 0 to CPU 1 and back.
 *
 * Two threads, pinned to CPU 0 and CPU 1, hand one counter back and forth (a release store
 * of the next value, an acquire load that waits for the other's), ROUNDS times; prints the
 * mean round trip in ns. scripts/bench-figures runs it before and after every recorded run,
 * because the multi-threaded figures follow it: on a virtual machine the hypervisor may run
 * the two vCPUs on cores near each other or far apart, and the round trip moves between
 * about 80 and 400 ns from minute to minute (docs/benchmarks.md, "Core-to-core latency").
 * Exits 1 without a figure when it cannot pin a thread (a machine with one CPU). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 1000000L

static _Alignas(64) _Atomic long ball;
/* the partner's start: 1 pinned, -1 could not pin (0 until it knows) */
static _Alignas(64) _Atomic int partner_state;

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *partner(void *arg) {
  (void)arg;
  int ok = pin(1) == 0;
  atomic_store_explicit(&partner_state, ok ? 1 : -1, memory_order_release);
  if (!ok) return NULL;
  for (long i = 0; i < ROUNDS; i++) {
    /* acquire/release: each side sees the other's store before it answers */
    while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {
    }
    atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
  }
  return NULL;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void) {
  if (pin(0) != 0) {
    fprintf(stderr, "cnv_core_roundtrip: cannot pin to CPU 0\n");
    return 1;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, partner, NULL) != 0) return 1;
  int state;
  while ((state = atomic_load_explicit(&partner_state, memory_order_acquire)) == 0) sched_yield();
  if (state < 0) {
    pthread_join(t, NULL);
    fprintf(stderr, "cnv_core_roundtrip: cannot pin to CPU 1\n");
    return 1;
  }
  double start = now_ns();
  for (long i = 0; i < ROUNDS; i++) {
    atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
    while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {
    }
  }
  double ns = (now_ns() - start) / ROUNDS;
  pthread_join(t, NULL);
  printf("%.0f\n", ns);
  return 0;
}
