/* Library version string. */
#include <cnv/core.h>

const char *cnv_version(void) { return CNV_VERSION_STRING; }
