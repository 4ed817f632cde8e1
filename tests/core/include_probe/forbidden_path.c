/* Must not compile: delegation's private header through a src/-relative path. */
#include "delegation/deleg.h"
