/* Must not compile: core's own folder is private to core; only its internal/ folder
 * ("core/atomic.h", "core/ignore.h") is shared. */
#include "atomic.h"
