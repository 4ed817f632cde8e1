/* libcnv status codes: CNV_OK is 0, every error is negative.
 * One X-macro list (status_codes/<module>.h, one fragment per module, each with its own
 * numeric range) generates the enum, cnv_strerror() and cnv_status_name().
 * Values are part of the ABI: never renumber, only append. */
#ifndef CNV_STATUS_H
#define CNV_STATUS_H

#include "core.h"
#include "status_codes/core.h"
#include "status_codes/hotpath.h"
#include "status_codes/protocol.h"
#include "status_codes/phases.h"
#include "status_codes/telemetry.h"
#include "status_codes/delegation.h"
#include "status_codes/simd.h"
#include "status_codes/variety.h"
#include "status_codes/runtime.h"
#include "status_codes/session.h"
#include "status_codes/client.h"
#include "status_codes/server.h"
#include "status_codes/mcp.h"
#include "status_codes/swarmwire.h"
#include "status_codes/nats.h"
#include "status_codes/ledger.h"
#include "status_codes/audit.h"
#include "status_codes/crdt.h"

#define CNV_STATUS_MAP(X)  \
  CNV_STATUS_CORE(X)       \
  CNV_STATUS_HOTPATH(X)    \
  CNV_STATUS_PROTOCOL(X)   \
  CNV_STATUS_PHASES(X)     \
  CNV_STATUS_TELEMETRY(X)  \
  CNV_STATUS_DELEGATION(X) \
  CNV_STATUS_SIMD(X)       \
  CNV_STATUS_VARIETY(X)    \
  CNV_STATUS_RUNTIME(X)    \
  CNV_STATUS_SESSION(X)    \
  CNV_STATUS_CLIENT(X)     \
  CNV_STATUS_SERVER(X)     \
  CNV_STATUS_MCP(X)        \
  CNV_STATUS_SWARMWIRE(X)  \
  CNV_STATUS_NATS(X)       \
  CNV_STATUS_LEDGER(X)     \
  CNV_STATUS_AUDIT(X)      \
  CNV_STATUS_CRDT(X)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnv_status {
#define CNV_STATUS_ENUM_(name, value, message) CNV_##name = (value),
  CNV_STATUS_MAP(CNV_STATUS_ENUM_)
#undef CNV_STATUS_ENUM_
} cnv_status;

/* Human-readable message for any status; an unknown code gets a generic message.
 * Returns a static string, never NULL. Thread-safe. */
CNV_API const char *cnv_strerror(int status);

/* Symbolic name of a status ("CNV_EFULL"); "CNV_UNKNOWN" for an unknown code.
 * Returns a static string, never NULL. Thread-safe. */
CNV_API const char *cnv_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif
