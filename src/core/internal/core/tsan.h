/* Happens-before annotations for ThreadSanitizer. TSan cannot see orderings made outside the
 * C11 atomics it instruments: liburcu's publication (inline asm) and grace periods
 * (membarrier), for instance. Code that relies on them states the edge: CNV__HB_RELEASE(p)
 * before the hand-off, CNV__HB_ACQUIRE(p) after it, on the same address. No code is
 * generated outside TSan builds. Internal, never installed. */
#ifndef CNV__TSAN_H
#define CNV__TSAN_H

#if defined(__SANITIZE_THREAD__)
#define CNV__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CNV__TSAN 1
#endif
#endif

#ifdef CNV__TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define CNV__HB_RELEASE(p) __tsan_release((void *)(p))
#define CNV__HB_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define CNV__HB_RELEASE(p) ((void)(p))
#define CNV__HB_ACQUIRE(p) ((void)(p))
#endif

#endif
