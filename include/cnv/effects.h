/* libcnv effect flags: the vocabulary shared by the hot path, simd kernels, delegation and
 * the runtime. A 16-bit set; join = union, meet = intersection, order = subset.
 * Owned by core (src/core/effects.c). Every function here is pure and thread-safe. */
#ifndef CNV_EFFECTS_H
#define CNV_EFFECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t cnv_effects;
#define CNV_EFFECT_MAP(X)               \
  X(READ_ONLY, read_only, 0)            \
  X(MUTATE_STATE, mutate_state, 1)      \
  X(MUTATE_CONFIG, mutate_config, 2)    \
  X(NETWORK, network, 3)                \
  X(STORAGE, storage, 4)                \
  X(PRIVILEGED, privileged, 5)          \
  X(IDEMPOTENT, idempotent, 6)          \
  X(ASYNC_CAPABLE, async_capable, 7)    \
  X(FILESYSTEM, filesystem, 8)          \
  X(SPAWN_PROCESS, spawn_process, 9)    \
  X(EXTERNAL_CALL, external_call, 10)   \
  X(DESTRUCTIVE, destructive, 11)       \
  X(CRYPTO, crypto, 12)                 \
  X(USER_VISIBLE, user_visible, 13)     \
  X(TIME_SENSITIVE, time_sensitive, 14) \
  X(BILLABLE, billable, 15)

enum cnv_effect {
#define CNV_EFFECT_ENUM_(up, low, bit) CNV_EFFECT_##up = (1u << (bit)),
  CNV_EFFECT_MAP(CNV_EFFECT_ENUM_)
#undef CNV_EFFECT_ENUM_
};
#define CNV_EFFECTS_NONE ((cnv_effects)0)
#define CNV_EFFECTS_ALL ((cnv_effects)0xFFFFu)

/* Least upper bound: every effect of a or b. */
static inline cnv_effects cnv_effects_join(cnv_effects a, cnv_effects b) {
  return (cnv_effects)(a | b);
}
/* Greatest lower bound: the effects in both. */
static inline cnv_effects cnv_effects_meet(cnv_effects a, cnv_effects b) {
  return (cnv_effects)(a & b);
}
/* True when every effect of a is in b (a ≤ b). */
static inline bool cnv_effects_subset(cnv_effects a, cnv_effects b) {
  return (a & (cnv_effects)~b) == 0;
}

/* Name of one flag ("network"), or NULL when `flag` is not exactly one known bit. */
CNV_API const char *cnv_effect_name(cnv_effects flag);
/* Parses one flag name (len bytes, not NUL-terminated needed) into *out. CNV_OK,
 * CNV_EUNKNOWN_FLAG (not a flag name; *out untouched), CNV_EINVAL (NULL name or out).
 * Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_effect_parse(const char *name, size_t len, cnv_effects *out);
/* Writes "a|b|c" ("none" for the empty set) NUL-terminated into buf; *needed is the length
 * without the NUL. CNV_OK, CNV_ERANGE when cap <= *needed (buf then holds an empty string
 * when cap > 0), CNV_EINVAL (NULL needed, or NULL buf with cap > 0; nothing written).
 * buf may be NULL with cap 0 to ask for the length. Pure; thread-safe. */
CNV_API CNV_NODISCARD cnv_status cnv_effects_format(cnv_effects e, char *buf, size_t cap, size_t *needed);

#ifdef __cplusplus
}
#endif

#endif
