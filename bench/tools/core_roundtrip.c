/* cnv_core_roundtrip: how long one cache line takes to go from one CPU to another and back.
 *
 * Two threads, pinned to the first two CPUs this process may run on, hand one counter back
 * and forth (a release store of the next value, an acquire load that waits for the other's),
 * ROUNDS times; prints the mean round trip in ns. scripts/bench-figures runs it before and after every recorded run,
 * because the multi-threaded figures follow it: on a virtual machine the hypervisor may run
 * the two vCPUs on cores near each other or far apart, and the round trip moves between
 * about 80 and 400 ns from minute to minute (docs/benchmarks.md, "Core-to-core latency").
 * Exits 77 (skipped) without a figure when it has fewer than two CPUs or cannot pin. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 1000000L

static _Alignas(64) _Atomic long ball;
/* the partner's start: 1 pinned, -1 could not pin (0 until it knows) */
static _Alignas(64) _Atomic int partner_state;

/* exit status of a run that could not measure (ctest's SKIP_RETURN_CODE) */
#define SKIPPED 77

static int cpu_a, cpu_b; /* the two CPUs (set before the partner starts) */

/* The first two CPUs of this process's affinity; 0, or -1 with fewer than two. */
static int pick_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  int n = 0;
  for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
    if (!CPU_ISSET(c, &set)) continue;
    if (n++ == 0)
      cpu_a = c;
    else
      cpu_b = c;
  }
  return n == 2 ? 0 : -1;
}

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *partner(void *arg) {
  (void)arg;
  int ok = pin(cpu_b) == 0;
  /* release, paired with main's acquire: nothing else is published; main only needs the value */
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
  if (pick_cpus() != 0) {
    fprintf(stderr, "cnv_core_roundtrip: fewer than two CPUs to run on\n");
    return SKIPPED;
  }
  if (pin(cpu_a) != 0) {
    fprintf(stderr, "cnv_core_roundtrip: cannot pin to CPU %d\n", cpu_a);
    return SKIPPED;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, partner, NULL) != 0) return 1;
  int state;
  while ((state = atomic_load_explicit(&partner_state, memory_order_acquire)) == 0) sched_yield();
  if (state < 0) {
    pthread_join(t, NULL);
    fprintf(stderr, "cnv_core_roundtrip: cannot pin to CPU %d\n", cpu_b);
    return SKIPPED;
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
