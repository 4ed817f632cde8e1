/* Path selection: detected once (cpuid + xgetbv through __builtin_cpu_supports on x86,
 * getauxval on aarch64), optionally pinned by CNV_SIMD, published through one atomic pointer
 * under pthread_once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif

#include "core/atomic.h"
#include "simd_internal.h"

static const char *const path_names[CNV_SIMD_PATH_COUNT] = {"scalar", "sse42", "avx2", "avx512",
                                                            "neon"};

static const cnv_simd_kernels *const path_tables[CNV_SIMD_PATH_COUNT] = {
    &cnv__simd_table_scalar,
#if defined(__x86_64__)
    &cnv__simd_table_sse42,
    &cnv__simd_table_avx2,
    &cnv__simd_table_avx512,
    NULL,
#elif defined(__aarch64__)
    NULL,
    NULL,
    NULL,
    &cnv__simd_table_neon,
#else
    NULL,
    NULL,
    NULL,
    NULL,
#endif
};

/* Written once inside init_once, before the release store of `active`. */
static unsigned runnable_mask;
static cnv_status choice_status;
static _Atomic(const cnv_simd_kernels *) active;
static pthread_once_t init_guard = PTHREAD_ONCE_INIT;

static unsigned detect(void) {
  unsigned m = 1u << CNV_SIMD_SCALAR;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("popcnt")) return m;
  m |= 1u << CNV_SIMD_SSE42;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2")) return m;
  m |= 1u << CNV_SIMD_AVX2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    m |= 1u << CNV_SIMD_AVX512;
#elif defined(__aarch64__) && defined(__linux__)
  if (getauxval(AT_HWCAP) & HWCAP_ASIMD) m |= 1u << CNV_SIMD_NEON;
#endif
  return m;
}

cnv_simd_path cnv__simd_choose(const char *env, unsigned runnable, cnv_status *why) {
  cnv_simd_path best = (cnv_simd_path)(31 - __builtin_clz(runnable | 1u));
  cnv_simd_path want;
  *why = CNV_OK;
  if (env == NULL || env[0] == '\0') return best;
  if (cnv_simd_path_parse(env, &want) != CNV_OK) {
    *why = CNV_ESIMD_UNKNOWN_PATH;
    return best;
  }
  if (!(runnable & (1u << want))) {
    *why = CNV_ENOTSUP;
    return best;
  }
  return want;
}

static void init_once(void) {
  cnv__simd_clogc_fill();
  runnable_mask = detect();
  cnv_simd_path p = cnv__simd_choose(getenv("CNV_SIMD"), runnable_mask, &choice_status);
  /* Release: orders the clogc table, runnable_mask and choice_status before the pointer, so
   * a reader that sees the pointer with acquire sees all of them. */
  cnv__store_release(&active, path_tables[p]);
}

static const cnv_simd_kernels *active_table(void) {
  /* Acquire pairs with the release in init_once (see there). */
  const cnv_simd_kernels *k = cnv__load_acquire(&active);
  if (CNV__UNLIKELY(k == NULL)) {
    pthread_once(&init_guard, init_once);
    k = cnv__load_acquire(&active);
  }
  return k;
}

const cnv_simd_kernels *cnv__simd_active(void) { return active_table(); }

/* The first call (no table yet) out of line, so that the common one below saves no
 * registers: it is a load, two tests and a tail jump into the kernel. */
static __attribute__((noinline, cold)) bool path_accept_first(const char *path, size_t len) {
  return path != NULL && active_table()->path_accept(path, len);
}

/* Here rather than in api.c so that the table load inlines: every capability id calls it. */
bool cnv_simd_path_accept(const char *path, size_t len) {
  /* Acquire pairs with the release in init_once, as in active_table. */
  const cnv_simd_kernels *k = cnv__load_acquire(&active);
  if (CNV__UNLIKELY(k == NULL)) return path_accept_first(path, len);
  return path != NULL && k->path_accept(path, len);
}

const char *cnv_simd_path_name(cnv_simd_path path) {
  return (unsigned)path < CNV_SIMD_PATH_COUNT ? path_names[path] : "invalid";
}

cnv_status cnv_simd_path_parse(const char *name, cnv_simd_path *out) {
  if (name == NULL || out == NULL) return CNV_EINVAL;
  for (unsigned i = 0; i < CNV_SIMD_PATH_COUNT; i++) {
    if (strcmp(name, path_names[i]) == 0) {
      *out = (cnv_simd_path)i;
      return CNV_OK;
    }
  }
  return CNV_ESIMD_UNKNOWN_PATH;
}

unsigned cnv_simd_runnable(void) {
  (void)active_table();
  return runnable_mask;
}

cnv_simd_path cnv_simd_active_path(void) { return active_table()->path; }

cnv_status cnv_simd_dispatch_status(void) {
  (void)active_table();
  return choice_status;
}

cnv_status cnv_simd_kernels_get(cnv_simd_path path, const cnv_simd_kernels **out) {
  if (out == NULL) return CNV_EINVAL;
  if ((unsigned)path >= CNV_SIMD_PATH_COUNT) return CNV_ERANGE;
  (void)active_table();
  if (!(runnable_mask & (1u << path))) return CNV_ENOTSUP;
  *out = path_tables[path];
  return CNV_OK;
}
