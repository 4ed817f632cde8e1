/* Library version string. */
#include <cnv/core.h>

#define CNV_STR_(x) #x
#define CNV_STR(x) CNV_STR_(x)

const char *cnv_version(void) {
  return CNV_STR(CNV_VERSION_MAJOR) "." CNV_STR(CNV_VERSION_MINOR) "." CNV_STR(CNV_VERSION_PATCH);
}
