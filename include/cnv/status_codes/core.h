/* Status codes shared by every module: 0 and -1 .. -99; and core's own (effect flags). */
#ifndef CNV_STATUS_CODES_CORE_H
#define CNV_STATUS_CODES_CORE_H
#define CNV_STATUS_CORE(X)                                                  \
  X(OK, 0, "success")                                                       \
  X(EINVAL, -1, "invalid argument")                                         \
  X(ENOMEM, -2, "out of memory")                                            \
  X(EFULL, -3, "full: the item was not taken and stays with the caller")    \
  X(EEMPTY, -4, "empty: nothing to take")                                   \
  X(EAGAIN, -5, "temporarily unavailable: try again")                       \
  X(ENOTSUP, -6, "not supported on this build or machine")                  \
  X(ERANGE, -7, "value out of range")                                       \
  X(EOVERFLOW, -8, "arithmetic overflow in a size or count")                \
  X(ESTATE, -9, "operation not allowed in the object's current state")      \
  X(EIO, -10, "input/output error")                                         \
  X(ENOTFOUND, -11, "not found")                                            \
  X(EEXIST, -12, "already exists")                                          \
  /* effect flags (core since they left the hot path; the value is kept) */ \
  X(EUNKNOWN_FLAG, -107, "unknown effect flag name")
#endif
