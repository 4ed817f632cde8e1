/* Names of the CRDT types. */
#include <cnv/crdt.h>

const char *cnv_crdt_type_name(int type) {
  switch (type) {
    case CNV_CRDT_GCOUNTER:
      return "gcounter";
    case CNV_CRDT_PNCOUNTER:
      return "pncounter";
    case CNV_CRDT_ORSET:
      return "orset";
    case CNV_CRDT_LWW:
      return "lww";
    case CNV_CRDT_MVREG:
      return "mvreg";
    case CNV_CRDT_VCLOCK:
      return "vclock";
    default:
      return "unknown";
  }
}
