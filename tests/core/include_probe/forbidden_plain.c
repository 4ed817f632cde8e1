/* Must not compile: delegation's private header by plain name from another module. */
#include "deleg.h"
