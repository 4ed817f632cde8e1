/* cnv_strerror / cnv_status_name, generated from the one status list. */
#include <cnv/status.h>

const char *cnv_strerror(int status) {
  switch (status) {
#define CNV_STATUS_MESSAGE_(name, value, message) \
  case (value):                                   \
    return (message);
    CNV_STATUS_MAP(CNV_STATUS_MESSAGE_)
#undef CNV_STATUS_MESSAGE_
    default:
      return "unknown status code";
  }
}

const char *cnv_status_name(int status) {
  switch (status) {
#define CNV_STATUS_NAME_(name, value, message) \
  case (value):                                \
    return "CNV_" #name;
    CNV_STATUS_MAP(CNV_STATUS_NAME_)
#undef CNV_STATUS_NAME_
    default:
      return "CNV_UNKNOWN";
  }
}
