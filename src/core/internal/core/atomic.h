/* The one thin atomics layer over <stdatomic.h>. Internal (cnv__ prefix), never installed.
 * Every call names its memory order; callers say in a comment why that order is enough.
 * Use these instead of bare atomic_* calls so orders are always explicit and greppable. */
#ifndef CNV__ATOMIC_H
#define CNV__ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#include <cnv/core.h>

#define cnv__load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define cnv__load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define cnv__store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define cnv__store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define cnv__fetch_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define cnv__fetch_add_acq_rel(p, v) atomic_fetch_add_explicit((p), (v), memory_order_acq_rel)
#define cnv__fetch_sub_relaxed(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
#define cnv__fetch_sub_acq_rel(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_acq_rel)
/* Weak CAS: success order `s`, failure order `f`; `exp` is updated on failure. */
#define cnv__cas_weak(p, exp, des, s, f) \
  atomic_compare_exchange_weak_explicit((p), (exp), (des), (s), (f))
#define cnv__cas_strong(p, exp, des, s, f) \
  atomic_compare_exchange_strong_explicit((p), (exp), (des), (s), (f))

/* A full (seq_cst) fence, for Dekker-style hand-offs: "store, fence, load" on both sides
 * means at least one side's load sees the other's store. ThreadSanitizer does not model
 * fences (GCC refuses them under -fsanitize=thread), so there it becomes a seq_cst RMW on
 * one word per translation unit: TSan sees it as an acquire-release point that every fence
 * of the file shares, which gives no false report (the hand-offs are all atomics). */
#if defined(__SANITIZE_THREAD__)
static _Atomic int cnv__fence_word __attribute__((unused));
#define cnv__fence_seq_cst() ((void)atomic_fetch_add_explicit(&cnv__fence_word, 0, memory_order_seq_cst))
#else
#define cnv__fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)
#endif

/* Spin-wait hint: lets the sibling hyper-thread run and saves power in busy loops. */
static inline void cnv__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::
                           : "memory");
#endif
}

#define CNV__LIKELY(x) __builtin_expect(!!(x), 1)
#define CNV__UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline int cnv__is_pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

#endif
