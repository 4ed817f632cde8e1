/* Must not compile: core's own folder is private to core; only "core/atomic.h" is shared. */
#include "atomic.h"
