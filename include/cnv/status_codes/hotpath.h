/* Status codes of the hot path (queues, pool, arenas): -100 .. -199. */
/* EUNKNOWN_FLAG (-107) moved to core with the effect flags, keeping its value. */
#ifndef CNV_STATUS_CODES_HOTPATH_H
#define CNV_STATUS_CODES_HOTPATH_H
#define CNV_STATUS_HOTPATH(X)                                                  \
  X(ECAPACITY, -100, "capacity must be a non-zero power of two within limits") \
  X(EALIGN, -101, "alignment must be a non-zero power of two")                 \
  X(EARENA_EXHAUSTED, -102, "arena exhausted: not enough space left")          \
  X(EPOOL_EXHAUSTED, -103, "context pool exhausted: every slot is in use")     \
  X(ESTALE_HANDLE, -104, "stale handle: the slot was released or reused")      \
  X(EBAD_HANDLE, -105, "forged handle: index out of range or never issued")    \
  X(ERECORD_SIZE, -106, "record size must be non-zero, a multiple of 8, within limits")
#endif
